"""`--report-html`: one self-contained page a person reads instead of the JUnit XML.

Everything is inline (style, script, data): the file is opened from a CI artifact or a mail, often offline,
and must not fetch anything. The data goes in as JSON (the same document as `--report-json`) and the page's
script draws it with `textContent` only, so no server answer can turn into markup.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from conformance.report import count_line, to_json
from conformance.results import RunResult

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; }
h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th.check { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; font-weight: normal; }
td.cell { text-align: center; min-width: 1.5rem; }
td.passed { background: #2da44e; color: #fff; }
td.failed { background: #cf222e; color: #fff; }
td.skipped { background: #d4a72c; }
td.absent { background: #f6f8fa; }
#summary.failed { color: #cf222e; font-weight: bold; }
dl.settings { display: grid; grid-template-columns: max-content auto; gap: .1rem 1rem; }
dl.settings dt { font-weight: bold; }
.failure { border-left: 4px solid #cf222e; padding: .25rem .75rem; margin: .75rem 0; }
.failure pre { white-space: pre-wrap; word-break: break-all; background: #f6f8fa; padding: .5rem; }
"""

_SCRIPT = """
const report = JSON.parse(document.getElementById('report-data').textContent);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};
const s = report.settings;
const settings = document.getElementById('settings');
// A run over recorded traffic generated nothing: no seed, examples, workers or destructive checks to show.
const generated = s.seed === null ? [['checked', 'recorded traffic, offline']] : [
  ['seed', s.seed], ['max examples', s.max_examples], ['workers', s.workers],
  ['destructive checks', s.allow_destructive ? 'on' : 'off']];
for (const [name, value] of [
  ['base URL', s.base_url], ['APIs', s.apis.join(', ')], ['target', s.target_source], ...generated,
  ['rules', s.documented_only ? "the vendors' documents only" : 'all']]) {
  settings.append(el('dt', {textContent: name}), el('dd', {textContent: String(value)}));
}
const matrices = document.getElementById('matrices');
const failures = document.getElementById('failures');
for (const api of s.apis) {
  const results = report.results.filter(r => r.api === api);
  const checks = [...new Set(results.map(r => r.check))];
  const operations = [...new Set(results.map(r => r.operation_id))];
  const head = el('tr', {}, el('th', {textContent: 'operation'}),
    ...checks.map(check => el('th', {className: 'check', textContent: check})));
  const rows = operations.map(operation => {
    const row = el('tr', {}, el('th', {textContent: operation}));
    for (const check of checks) {
      const r = results.find(r => r.operation_id === operation && r.check === check);
      const mark = {passed: '✓', failed: '✗', skipped: '\u2013'};
      const cell = r
        ? el('td', {className: `cell ${r.status}`, textContent: mark[r.status],
                    title: `${check}: ${r.status}` + (r.skip_reason ? ` (${r.skip_reason})` : '')})
        : el('td', {className: 'cell absent', title: `${check} does not apply`});
      cell.dataset.operation = operation;
      cell.dataset.check = check;
      if (r) cell.dataset.status = r.status;
      row.append(cell);
    }
    return row;
  });
  matrices.append(el('h2', {textContent: api}), el('table', {className: 'matrix'}, el('thead', {}, head),
                                                    el('tbody', {}, ...rows)));
}
const failed = report.results.filter(r => r.status === 'failed');
if (!failed.length) failures.append(el('p', {textContent: 'No check failed.'}));
for (const r of failed) {
  for (const [index, f] of r.failures.entries()) {
    failures.append(el('section', {className: 'failure'},
      el('h3', {textContent: `${r.api} ${r.operation_id} · ${r.check} (${index + 1}/${r.failure_count}): ${f.title}`}),
      el('p', {}, el('b', {textContent: 'rule: '}), `${r.source}: ${r.cite}`),
      el('p', {className: 'expected'}, el('b', {textContent: 'expected: '}), f.expected),
      el('p', {className: 'got'}, el('b', {textContent: 'got: '}), f.actual),
      ...(f.curl ? [el('p', {}, el('b', {textContent: 'reproduce:'})),
                    el('pre', {className: 'reproducer', textContent: f.curl})] : [])));
  }
}
"""


# Nothing may load from anywhere: only the inline style and script run.
_POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def to_html(result: RunResult) -> str:
    # `</` inside a script ends it whatever the JSON says: escape the slash (still the same JSON string).
    data = json.dumps(to_json(result), ensure_ascii=False).replace("</", "<\\/")
    title = html.escape(f"Conformance report: {result.settings.base_url}")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_POLICY}">
<title>{title}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>{title}</h1>
<p id="summary"{' class="failed"' if result.failed else ''}>{html.escape(count_line(result))}</p>
<dl class="settings" id="settings"></dl>
<div id="matrices"></div>
<h2>Failures</h2>
<div id="failures"></div>
<script type="application/json" id="report-data">{data}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""


def write_html(result: RunResult, path: Path) -> None:
    path.write_text(to_html(result), encoding="utf-8")
