"""The admin API and the page answer only to the names the developer reaches them by: the defence against DNS
rebinding.

A hostile page on `evil.example` whose name is re-pointed at 127.0.0.1 becomes same-origin with the mock, so
neither CORS nor the preflight rule stops it from reading the admin API or changing its state. Its requests
still say `Host: evil.example`, which is what is checked here, as webpack-dev-server's `allowedHosts` and
Jupyter's `allow_remote_access` check it. The three vendor APIs are not guarded: teams reach the mock by any
name, and a page learns nothing from them it could not send itself.
"""

from __future__ import annotations

import ipaddress
import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.errors import ApiError
from mockserver.services import Services
from mockserver.settings import Settings
from mockserver.web.admin import PREFIX as ADMIN_PREFIX
from mockserver.web.page import PAGE_PREFIX

SETTING = "admin.allowed_hosts"
# RFC 9110 7.2 `uri-host [":" port]`: a bracketed IPv6 literal, or a name or IPv4 address (neither holds a colon).
# Anything else (userinfo, a path, spaces) is not a Host a browser sends, and is refused.
_HOST = re.compile(r"(?:\[(?P<ipv6>[0-9a-f:.]+)\]|(?P<name>[^\[\]:/@\s]+))(?::[0-9]*)?", re.IGNORECASE)


def is_guarded(path: str) -> bool:
    """Whether `path` is the admin API's or the page's."""
    return path == "/" or path.startswith((ADMIN_PREFIX, PAGE_PREFIX))


def host_name(host: str) -> str | None:
    """The name or address of a `Host` header value, lowercased, without port, brackets or a final dot; None when
    the value is not a host."""
    match = _HOST.fullmatch(host.strip())
    if match is None:
        return None
    return (match["ipv6"] or match["name"]).lower().removesuffix(".")


def _same_host(name: str, other: str) -> bool:
    other = other.lower().removeprefix("[").removesuffix("]").removesuffix(".")
    try:
        return ipaddress.ip_address(name) == ipaddress.ip_address(other)
    except ValueError:
        return name == other


def is_allowed(name: str, settings: Settings) -> bool:
    """Whether the admin API and the page answer to the host `name` (as `host_name` gives it)."""
    if name == "localhost" or name.endswith(".localhost"):  # RFC 6761: browsers resolve these to loopback
        return True
    try:
        if ipaddress.ip_address(name).is_loopback:
            return True
    except ValueError:
        pass
    if _same_host(name, settings.host):
        return True
    for pattern in settings.admin.allowed_hosts:
        if pattern == "*" or _same_host(name, pattern):
            return True
        if pattern.startswith("*.") and name.endswith(pattern[1:].lower().removesuffix(".")):
            return True
    return False


class AllowedHostsMiddleware:
    """403 for a request to the admin API or the page whose `Host` is none of the names it answers to.

    A request without `Host` passes: browsers always send one, and HTTP/1.0 tools need not.
    """

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_guarded(scope["path"]):
            host = Headers(scope=scope).get("host")
            if host is not None:
                name = host_name(host)
                settings = self.services.settings
                if name is None or not is_allowed(name, settings):
                    raise ApiError(403, _refusal(host, name, settings))
        await self.app(scope, receive, send)


def _refusal(host: str, name: str | None, settings: Settings) -> str:
    if name is None:
        return f"Host {host[:100]!r} is not a host name: the admin API and the page answer only to a valid Host."
    return (f"The admin API and the page answer only to loopback names (localhost, 127.0.0.1, [::1]), the address "
            f"the server listens on ({settings.host}) and the names in {SETTING}, so that no web page can reach "
            f"them by DNS rebinding; Host {name[:100]!r} is none of these. If you reach the mock by this name, add "
            f"it to {SETTING} (--set {SETTING}={name[:100]}, or MOCKSERVER_ADMIN__ALLOWED_HOSTS).")
