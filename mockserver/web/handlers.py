"""Every API's operations as Connexion and the fast path call them (the handlers themselves are the APIs')."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from connexion import request
from connexion.lifecycle import ConnexionResponse

from mockserver.apis import registry
from mockserver.apis.base import Handler, Reply
from mockserver.services import Services


class Handlers:
    """The handler of every operation of every API, each bound to its API's service.

    Each takes the operation's parameters and body as keywords, plus `token_info` (what the security check
    returned) and `base_url` (where the client reached this server), so that both Connexion and the fast path
    (`mockserver.web.fastpath`) can call it.
    """

    def __init__(self, services: Services) -> None:
        # Keyed by API as well: two APIs may name an operation alike (`getToken`, say).
        self._by_operation: dict[tuple[str, str], Handler] = {
            (api.name, operation_id): handler
            for api in registry()
            for operation_id, handler in api.operations(services.service_of(api)).items()
        }

    def handler(self, api: str, operation_id: str) -> Handler:
        """The handler of one operation of one API."""
        try:
            return self._by_operation[(api, operation_id)]
        except KeyError:
            raise LookupError(f"no handler for {api} operationId {operation_id!r}") from None

    def resolver(self, api: str) -> Callable[[str], Handler]:
        """Connexion's `function_resolver` for one API: its handler for an operationId, given the base URL, its
        `Reply` made a Connexion response.

        Connexion passes the security check's result as `token_info` (to any handler taking `**kwargs`).
        """

        def resolve(operation_id: str) -> Handler:
            handler = self.handler(api, operation_id)
            base_url = wants_base_url(handler)

            @functools.wraps(handler)  # Connexion reads the handler's signature to pick its arguments
            async def for_connexion(**kwargs: Any) -> Any:
                if base_url:
                    kwargs["base_url"] = str(request.base_url)
                result = await handler(**kwargs)
                if isinstance(result, Reply):
                    return ConnexionResponse(status_code=result.status, body=result.body,
                                             content_type=result.content_type)
                return result

            return for_connexion

        return resolve


def wants_base_url(handler: Handler) -> bool:
    """Whether a handler builds URLs to this server (and so needs `base_url`)."""
    return "base_url" in inspect.signature(handler).parameters
