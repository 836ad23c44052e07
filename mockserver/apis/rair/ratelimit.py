"""RAIR's server-wide rate limit: every request from one client address counts, whatever it asks.

RAIR's node (`rair-node/bin/index.js` at rair-dapp `0afccca0`) mounts `express-rate-limit` on the whole app, before
any route or session check: `windowMs: 60 * 1000`, `limit: process.env.RATE_LIMIT_MINUTE || 500`,
`standardHeaders: 'draft-7'`, `legacyHeaders: false`, keyed by the client's IP address. Its draft-7 headers are
`RateLimit-Policy: 500;w=60` and `RateLimit: limit=500, remaining=499, reset=60` on every response, and
`Retry-After` on its 429. The 429 here speaks RAIR's error shape, with express-rate-limit's default message.
"""

from __future__ import annotations

import dataclasses

from mockserver.apis.base import ApiContext
from mockserver.apis.rair.settings import RairRateLimitSettings, rair_settings
from mockserver.errors import ApiError
from mockserver.ratelimit import QuotaLimiter
from mockserver.settings import RateLimitSettings

# express-rate-limit's default `message`.
TOO_MANY_REQUESTS = "Too many requests, please try again later."


@dataclasses.dataclass(frozen=True)
class ClientLimit:
    """The limit in force (None while `rair.rate_limit.enabled` is off) and the settings it was built from."""

    settings: RairRateLimitSettings
    limiter: QuotaLimiter | None

    def admit(self, client: str, now: float) -> dict[str, str]:
        """Count one request from `client`: the headers to answer with, or `ApiError` 429 once none remain."""
        if self.limiter is None:
            return {}
        accepted, quota = self.limiter.hit(client)
        reset = quota.seconds_to_reset(now)
        headers = {"RateLimit-Policy": f"{quota.limit};w={self.settings.window}",
                   "RateLimit": f"limit={quota.limit}, remaining={quota.remaining}, reset={reset}"}
        if not accepted:
            raise ApiError(429, TOO_MANY_REQUESTS, headers={**headers, "Retry-After": str(reset)})
        return headers

    def reset(self) -> None:
        if self.limiter is not None:
            self.limiter.reset()


def client_limit(context: ApiContext, previous: ClientLimit | None = None) -> ClientLimit:
    """The limit `context`'s settings ask for; `previous` itself while they ask for the same (what was spent stays)."""
    settings = rair_settings(context.settings).rate_limit
    if previous is not None and previous.settings == settings:
        return previous
    if not settings.enabled:
        return ClientLimit(settings, None)
    quota = RateLimitSettings(limit=settings.limit, window=settings.window, storage=context.limits_storage)
    return ClientLimit(settings, QuotaLimiter(quota, context.clock, key_prefix=context.limits_prefix + "rair"))
