"""Serving from several processes: uvicorn builds the app in each worker from settings the CLI hands over.

uvicorn starts workers by importing an app factory by name, so the CLI cannot pass them a settings object; it
writes the settings it built (from defaults, a YAML file, the environment and flags) into one environment
variable as JSON, which every worker inherits and `app_from_environment` reads back.
"""

from __future__ import annotations

import functools
import gc
import json
import os
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp

from mockserver.errors import ConfigError
from mockserver.settings import Settings, settings_from_tree, settings_tree
from mockserver.web.app import create_app
from mockserver.web.headerlimits import head_limit_protocol

# Deliberately outside the MOCKSERVER_ prefix, whose variables are read as individual settings.
SETTINGS_ENV = "TOKEN_METADATA_MOCK_SETTINGS"
APP_FACTORY = "mockserver.web.workers:app_from_environment"
# uvicorn imports its protocol by name in each worker too: a class made for the settings cannot be passed.
HTTP_PROTOCOL = "mockserver.web.workers:http_protocol_from_environment"


def export_settings(settings: Settings, environ: MutableMapping[str, str] | None = None) -> None:
    """Put the settings where `app_from_environment` finds them (in this process's environment by default)."""
    (os.environ if environ is None else environ)[SETTINGS_ENV] = json.dumps(settings_tree(settings))


def app_from_environment() -> ASGIApp:
    """uvicorn's app factory in each worker process: the app on the settings the CLI exported."""
    app = create_app(_environment_settings())
    gc.freeze()  # as `mockserver serve` does: startup's objects live as long as the worker
    return app


def http_protocol_from_environment(**kwargs: Any) -> Any:
    """uvicorn's HTTP protocol for one connection in a worker, with the exported settings' header limits."""
    return _environment_protocol()(**kwargs)


@functools.cache
def _environment_protocol() -> Any:
    return head_limit_protocol(_environment_settings().clients)


def _environment_settings() -> Settings:
    raw = os.environ.get(SETTINGS_ENV)
    if raw is None:
        raise ConfigError(f"{SETTINGS_ENV} is not set: start workers with `mockserver serve --workers N`")
    return settings_from_tree(json.loads(raw))
