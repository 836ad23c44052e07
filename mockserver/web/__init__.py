"""The web layer: the only part of the mock that knows Connexion and Starlette."""

from mockserver.web.app import MockApp, create_app

__all__ = ["MockApp", "create_app"]
