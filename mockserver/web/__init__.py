"""The web layer: the only part of the mock that knows Connexion and Starlette."""

import warnings

# Connexion imports starlette.testclient at import time, which warns about httpx on every start.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

from mockserver.web.app import MockApp, create_app  # noqa: E402

__all__ = ["MockApp", "create_app"]
