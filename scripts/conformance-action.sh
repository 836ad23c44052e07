#!/usr/bin/env bash
# The one shell step of action.yml, kept in a file so that CI here runs it for real (tests/action/).
#
# Starts the mock server (unless CONFORMANCE_BASE_URL names a server), waits for /__mock/health, runs
# `conformance run` (every CONFORMANCE_* variable is one of its options: `conformance run -h`) and checks that
# the JUnit and HTML reports were written.
#
# Environment:
#   CONFORMANCE_BASE_URL     the server to test; empty or unset: start the mock and test it
#   CONFORMANCE_API          default all
#   CONFORMANCE_JUNIT_XML    default conformance-junit.xml
#   CONFORMANCE_REPORT_HTML  default conformance-report.html
#   ACTION_INSTALL           a pip requirement to install first (the action passes its own checkout)
#   MOCK_PORT                the mock's port (default 8080); MOCK_ARGS: more `mockserver serve` arguments
#   MOCK_LOG                 the mock's output (default mockserver.log)
#   HEALTH_TIMEOUT           seconds the mock may take to answer /__mock/health (default 30)
#
# Exit code: conformance's (0 no finding, 1 findings, 2 the suite could not run); 2 also when the mock does not
# start or a report is missing. Writes exit-code, junit-xml and report-html to $GITHUB_OUTPUT when set.
set -euo pipefail

: "${CONFORMANCE_API:=all}"
: "${CONFORMANCE_JUNIT_XML:=conformance-junit.xml}"
: "${CONFORMANCE_REPORT_HTML:=conformance-report.html}"
export CONFORMANCE_API CONFORMANCE_JUNIT_XML CONFORMANCE_REPORT_HTML

if [[ -n "${ACTION_INSTALL:-}" ]]; then
  python -m pip install --quiet "$ACTION_INSTALL"
fi

mock_pid=""
stop_mock() {
  if [[ -n "$mock_pid" ]]; then
    kill "$mock_pid" 2>/dev/null || true
    wait "$mock_pid" 2>/dev/null || true
  fi
}
trap stop_mock EXIT

if [[ -z "${CONFORMANCE_BASE_URL:-}" ]]; then
  port="${MOCK_PORT:-8080}"
  log="${MOCK_LOG:-mockserver.log}"
  # MOCK_ARGS is a list of arguments: split on purpose.
  # shellcheck disable=SC2086
  mockserver serve --host 127.0.0.1 --port "$port" ${MOCK_ARGS:-} >"$log" 2>&1 &
  mock_pid=$!
  export CONFORMANCE_BASE_URL="http://127.0.0.1:$port"
  # 200 once the mock and its store answer (503 while a Redis store does not).
  deadline=$((SECONDS + ${HEALTH_TIMEOUT:-30}))
  until curl --silent --fail --max-time 5 --output /dev/null "$CONFORMANCE_BASE_URL/__mock/health"; do
    if ! kill -0 "$mock_pid" 2>/dev/null; then
      echo "::error::the mock server exited before it answered:" >&2
      cat "$log" >&2
      mock_pid=""
      exit 2
    fi
    if ((SECONDS >= deadline)); then
      echo "::error::the mock server did not answer $CONFORMANCE_BASE_URL/__mock/health within ${HEALTH_TIMEOUT:-30} s" >&2
      cat "$log" >&2
      exit 2
    fi
    sleep 0.2
  done
fi

status=0
conformance run || status=$?

if ((status < 2)); then
  for report in "$CONFORMANCE_JUNIT_XML" "$CONFORMANCE_REPORT_HTML"; do
    if [[ ! -s "$report" ]]; then
      echo "::error::conformance run wrote no report at $report" >&2
      status=2
    fi
  done
fi
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  {
    echo "exit-code=$status"
    echo "junit-xml=$CONFORMANCE_JUNIT_XML"
    echo "report-html=$CONFORMANCE_REPORT_HTML"
  } >>"$GITHUB_OUTPUT"
fi
exit "$status"
