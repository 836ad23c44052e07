"""What the validating proxy found wrong in the traffic it forwarded, counted by API, operation and rule."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

# Where the proxy leaves an exchange's violations in its ASGI scope's extensions, for the journal to keep.
SCOPE_KEY = "mockserver.violations"


class ViolationLog:
    """Counts per (api, operation, rule), with the rule's source and the latest message; thread-safe."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._exchanges = 0
        self._with_violations = 0
        self._lock = threading.Lock()

    def record(self, violations: Iterable[Mapping[str, str]]) -> None:
        """One exchange checked, with what it broke (each as `conformance.traffic.Violation.as_dict`)."""
        found = list(violations)
        with self._lock:
            self._exchanges += 1
            self._with_violations += bool(found)
            for violation in found:
                key = (violation["api"], violation["operation"], violation["rule"])
                group = self._groups.setdefault(key, {"count": 0, "source": violation["source"],
                                                      "cite": violation["cite"]})
                group["count"] += 1
                group["last_message"] = violation["message"]

    def summary(self) -> dict[str, Any]:
        """Totals, then each operation (API order as first seen) with the rules it broke and how often."""
        with self._lock:
            operations: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for (api, operation, rule), group in self._groups.items():
                operations.setdefault((api, operation), []).append({"rule": rule, **group})
            return {
                "exchanges": self._exchanges,
                "exchanges_with_violations": self._with_violations,
                "violations": sum(group["count"] for group in self._groups.values()),
                "operations": [{"api": api, "operation": operation, "rules": rules}
                               for (api, operation), rules in operations.items()],
            }

    def clear(self) -> None:
        with self._lock:
            self._groups.clear()
            self._exchanges = self._with_violations = 0

    def __repr__(self) -> str:
        return f"ViolationLog(exchanges={self._exchanges}, groups={len(self._groups)})"
