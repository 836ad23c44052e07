"""Where the mock's state lives: `memory://` (the default) or Redis, shared by every worker naming the same URL.

`open_store(url, seed)` is the one way in; the interface is `Store` (`base.py`), the backends `memory.py` and
`redis.py` (which needs the `[redis]` extra and is imported only when a Redis URL is named).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from mockserver.errors import ConfigError
from mockserver.settings import MEMORY_URL, REDIS_SCHEMES, redact_url
from mockserver.store.base import (
    ApplyDue,
    Blobs,
    Change,
    Key,
    Record,
    RecordSets,
    Scheduled,
    Seed,
    SeedView,
    Store,
    copy_record,
)
from mockserver.store.memory import MemoryStore

__all__ = ["MEMORY_URL", "REDIS_SCHEMES", "ApplyDue", "Blobs", "Change", "Key", "MemoryStore", "Record",
           "RecordSets", "Scheduled", "Seed", "SeedView", "Store", "copy_record", "open_store"]


def open_store(url: str, seed: Seed, *, prefix: str = "mockserver:") -> Store:
    """The store a URL names: `memory://`, or Redis (`redis://`, `rediss://`, `unix://`) under a key prefix.

    A Redis store is loaded with `seed` only when its namespace is empty, so every worker that opens it shares
    the state the first one created.
    """
    if url == MEMORY_URL:
        return MemoryStore(seed)
    if urlsplit(url).scheme in REDIS_SCHEMES:
        try:
            # Imported here, not above: the redis package is an optional extra.
            from mockserver.store.redis import RedisStore
        except ImportError as exc:
            raise ConfigError(f"store {redact_url(url)!r} needs the redis package: "
                              f"pip install 'token-metadata-mock[redis]' ({exc})") from exc
        return RedisStore(seed, url, prefix=prefix)
    raise ConfigError(f"store {redact_url(url)!r} is not memory:// or a redis://, rediss:// or unix:// URL")
