"""The `mockserver` command: a thin layer that builds settings from flags and hands them to uvicorn."""

from __future__ import annotations

import copy
import gc
import logging
import random
import sys
import urllib.parse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click
import uvicorn
import uvicorn.config

from mockserver import __version__
from mockserver.apis import registry
from mockserver.errors import MockServerError
from mockserver.settings import DEFAULT_PRESET, PRESETS, Settings, load_settings, parse_assignment
from mockserver.store import MEMORY_URL

DISTRIBUTION = "token-metadata-mock"
EXIT_CODES_HELP = """\b
Exit codes:
  0  stopped (Ctrl+C, SIGTERM) or done
  1  could not start: bad settings, fixtures or store, a port in use
  2  bad usage (unknown option or value)"""
SERVE_EPILOG = """\b
Every setting can also come from a MOCKSERVER_* environment variable, nested
names joined by double underscores: MOCKSERVER_PORT=9000,
MOCKSERVER_FAULTS__DEFAULT__LATENCY_MS=200. Defaults < --preset <
--config file < environment < --set < the flags above.

""" + EXIT_CODES_HELP
# The proxy takes no preset: the upstream's own behaviour is what it shows.
PROXY_EPILOG = SERVE_EPILOG.replace("Defaults < --preset <\n--config file < environment",
                                    "Defaults < --config file <\nenvironment")


def _listed(names: Iterable[str]) -> str:
    """`a, b and c`."""
    *others, last = names
    return f"{', '.join(others)} and {last}" if others else last


@click.group(help=f"Mock server for the {_listed(api.label for api in registry())} token-metadata APIs.",
             context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES_HELP)
@click.version_option(package_name=DISTRIBUTION, prog_name="mockserver")
def main() -> None:
    pass


# Options `serve` and `proxy` share, spelled once.
host_option = click.option("--host", help="Interface to bind (default 127.0.0.1).")
port_option = click.option("--port", type=int, help="Port to listen on (default 8080).")
config_option = click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
                             help="YAML settings file (see README for its keys).")
set_option = click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE",
                          help="Any setting by dotted name, e.g. --set faults.default.latency_ms=200 (repeatable).")
access_log_option = click.option("--access-log/--no-access-log", default=None,
                                 help="Log a line per request (default on; off saves CPU under load).")
log_level_option = click.option("--log-level", default="info", show_default=True,
                                type=click.Choice(["critical", "error", "warning", "info", "debug"]))


@main.command(epilog=SERVE_EPILOG)
@host_option
@port_option
@config_option
@click.option("--fixtures", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML fixtures file replacing the built-in data set.")
@click.option("--validate-responses/--no-validate-responses", default=None,
              help="Check every response against the spec (costs throughput; on in tests).")
@access_log_option
@click.option("--seed", type=int, help="Make every run alike: seeded trace ids and a clock that starts at "
                                       "2026-01-01T00:00:00Z and moves 1 s per API request.")
@set_option
@click.option("--store", help="Where the state lives: memory:// (default) or a Redis URL shared by every worker "
                              "and host, e.g. redis://127.0.0.1:6379/0 (needs the [redis] extra).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes; more than 1 needs --store redis://...")
@log_level_option
@click.option("--preset", type=click.Choice(list(PRESETS)), default=DEFAULT_PRESET, show_default=True,
              help="Settings under the config file, environment and flags: dev (the defaults, made for "
                   "development) or realistic (the delays and limits the real services are known to have, "
                   "listed in the README).")
def serve(host: str | None, port: int | None, config_file: Path | None, fixtures: Path | None,
          validate_responses: bool | None, access_log: bool | None, seed: int | None,
          assignments: tuple[str, ...], store: str | None, workers: int, log_level: str, preset: str) -> None:
    """Serve all three APIs on one port, at their real paths."""
    from mockserver.web import create_app
    from mockserver.web.headerlimits import head_limit_protocol
    from mockserver.web.workers import APP_FACTORY, HTTP_PROTOCOL, export_settings

    try:
        settings = load_settings(config_file=config_file, preset=preset, overrides=_overrides(
            host=host, port=port, fixtures=str(fixtures) if fixtures else None,
            validate_responses=validate_responses, access_log=access_log, seed=seed, assignments=assignments,
            store=store,
        ))
        if workers > 1 and settings.store == MEMORY_URL:
            raise click.ClickException(
                f"--workers {workers} needs a shared store: with memory:// every worker would keep its own records, "
                "uploads and rate-limit counters, so what a client sees would depend on which worker answers. "
                "Add --store redis://HOST:PORT/DB (pip install 'token-metadata-mock[redis]').")
        app = create_app(settings)  # also checks settings, fixtures and store before any worker starts
    except MockServerError as exc:
        raise click.ClickException(str(exc)) from exc

    def announce(port: int) -> None:
        _announce(settings.host, port)

    if workers > 1:
        export_settings(settings)  # uvicorn builds each worker's app by name, from these
        _run(APP_FACTORY, settings, announce=announce, workers=workers, factory=True, log_level=log_level,
             http=HTTP_PROTOCOL)
    else:
        # A seeded server answers the same on every run: no wall-clock Date header.
        _run(app, settings, announce=announce, log_level=log_level, date_header=settings.seed is None,
             http=head_limit_protocol(settings.clients))


@main.command(epilog=PROXY_EPILOG)
@click.option("--upstream", required=True, callback=lambda ctx, param, value: _upstream_url(value),
              help="The base URL where the real API answers (a vendor's sandbox, say), http:// or https://.")
@click.option("--record", "record_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write the traffic to: traffic.har, and fixtures.yaml for "
                   "`mockserver serve --fixtures`.")
@host_option
@port_option
@config_option
@set_option
@access_log_option
@log_level_option
def proxy(upstream: str, record_dir: Path | None, host: str | None, port: int | None, config_file: Path | None,
          assignments: tuple[str, ...], access_log: bool | None, log_level: str) -> None:
    """Forward the three APIs' paths to UPSTREAM and check every exchange against the specs.

    Each response carries X-Mock-Violations: <count>; the journal, the page and GET /__mock/violations show what
    was wrong. One process: the violations and the recording are kept in it.
    """
    from mockserver.recording import Recording
    from mockserver.web.headerlimits import head_limit_protocol
    from mockserver.web.proxy import create_proxy_app

    try:
        settings = load_settings(config_file=config_file, overrides=_overrides(
            host=host, port=port, access_log=access_log, assignments=assignments))
        recording = Recording(record_dir, upstream=upstream) if record_dir is not None else None
        app = create_proxy_app(upstream, settings, recording=recording)
    except MockServerError as exc:
        raise click.ClickException(str(exc)) from exc
    def announce(port: int) -> None:
        _announce(settings.host, port)
        click.echo(f"  proxying the APIs' paths to {upstream}; violations at "
                   f"http://{settings.host}:{port}/__mock/violations", err=True)
        if recording is not None:
            click.echo(f"  recording to {recording.har_path} and {recording.fixtures_path}", err=True)

    # The upstream's own Date and Server headers pass through: uvicorn adds none of its own.
    _run(app, settings, announce=announce, log_level=log_level, http=head_limit_protocol(settings.clients),
         server_header=False, date_header=False)


def _run(app: Any, settings: Settings, *, announce: Callable[[int], None], log_level: str, workers: int = 1,
         **options: Any) -> None:
    """Bind, announce, serve until stopped; a port that cannot be bound, or a server that did not start, is exit 1."""
    from mockserver.web import listen

    # What startup built (specs, Connexion apps, fixtures) lives as long as the server: keep the collector from
    # walking it again and again, which showed up as latency spikes under load.
    gc.freeze()
    _lean_log_records()
    try:
        started = listen.run_server(app, workers=workers, host=settings.host, port=settings.port, announce=announce,
                                    log_level=log_level, access_log=settings.access_log, log_config=log_config(),
                                    **options)
    except listen.ListenError as exc:
        raise click.ClickException(str(exc)) from exc
    if not started:
        sys.exit(1)  # uvicorn has logged why


def _upstream_url(value: str) -> str:
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.query or parsed.fragment:
        raise click.BadParameter(f"must be an http:// or https:// URL with a host (and no query); got {value!r}")
    return value.rstrip("/")


@main.command("fixtures", epilog="""\b
Exit codes:
  0  written
  1  the output file cannot be written
  2  bad usage (unknown option or value)""")
@click.option("--tokens", type=click.IntRange(min=0), required=True,
              help=f"How many tokens, spread evenly over {_listed(api.label for api in registry())}.")
@click.option("--seed", type=int, help="Seed of the generated data: the same seed writes the same file "
                                       "(random when omitted; the file's first line names it).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
def fixtures_command(tokens: int, seed: int | None, output: Path | None) -> None:
    """Write a fixtures file of generated tokens, for `mockserver serve --fixtures FILE`."""
    from mockserver.fixturegen import fixtures_yaml

    seed = random.randrange(2**32) if seed is None else seed
    text = fixtures_yaml(tokens, seed=seed)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from exc
    click.echo(f"wrote {tokens} tokens (seed {seed}) to {output}", err=True)


def log_config() -> dict[str, Any]:
    """uvicorn's logging, but with the access line formatted by plain `logging`.

    uvicorn's formatters copy every record to colour it; under load that was a seventh of the server's CPU.
    The line reads the same, uncoloured: `INFO:     127.0.0.1:52770 - "GET /v1/... HTTP/1.1" 200`.
    """
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["formatters"]["access"] = {"format": "%(levelname)s:     %(message)s"}
    return config


def _lean_log_records() -> None:
    """Skip the log record fields no format here prints, as the logging HOWTO's "Optimization" section shows.

    Finding the caller (`_srcfile`) and the thread and process names cost about a third of each access line.
    """
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None


def _overrides(*, assignments: tuple[str, ...], **flags: Any) -> dict[str, Any]:
    overrides = dict(parse_assignment(text) for text in assignments)
    # Dedicated flags win over --set, since they are the more specific way to say the same thing.
    overrides.update({name: value for name, value in flags.items() if value is not None})
    return overrides


def _announce(host: str, port: int) -> None:
    base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    click.echo(f"mockserver {__version__} on {base}", err=True)
    for api in registry():
        click.echo(f"  {api.name:<13} spec {base}/openapi/{api.name}.json   docs {base}/docs/{api.name}/", err=True)
    sys.stderr.flush()
