"""The `mockserver` command: a thin layer that builds settings from flags and hands them to uvicorn."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import uvicorn

from mockserver import __version__
from mockserver.errors import MockServerError
from mockserver.settings import Settings, load_settings, parse_assignment


@click.group()
@click.version_option(__version__, prog_name="mockserver")
def main() -> None:
    """Mock server for the RAIR, Immutable zkEVM and Tokenization TR token-metadata APIs."""


@main.command()
@click.option("--host", help="Interface to bind (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8080).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML settings file (see README for its keys).")
@click.option("--fixtures", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML fixtures file replacing the built-in data set.")
@click.option("--validate-responses/--no-validate-responses", default=None,
              help="Check every response against the spec (costs throughput; on in tests).")
@click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE",
              help="Any setting by dotted name, e.g. --set immutable.rate_limit.limit=3 (repeatable).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def serve(host: str | None, port: int | None, config_file: Path | None, fixtures: Path | None,
          validate_responses: bool | None, assignments: tuple[str, ...], log_level: str) -> None:
    """Serve all three APIs on one port, at their real paths."""
    from mockserver.web import create_app

    try:
        settings = load_settings(config_file=config_file, overrides=_overrides(
            host=host, port=port, fixtures=str(fixtures) if fixtures else None,
            validate_responses=validate_responses, assignments=assignments,
        ))
        app = create_app(settings)
    except MockServerError as exc:
        raise click.ClickException(str(exc)) from exc
    _announce(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=log_level)


def _overrides(*, assignments: tuple[str, ...], **flags: Any) -> dict[str, Any]:
    overrides = dict(parse_assignment(text) for text in assignments)
    # Dedicated flags win over --set, since they are the more specific way to say the same thing.
    overrides.update({name: value for name, value in flags.items() if value is not None})
    return overrides


def _announce(settings: Settings) -> None:
    base = f"http://{settings.host}:{settings.port}"
    click.echo(f"mockserver {__version__} on {base}", err=True)
    for api in ("rair", "immutable", "tokenization"):
        click.echo(f"  {api:<13} spec {base}/openapi/{api}.json   docs {base}/docs/{api}/", err=True)
    sys.stderr.flush()
