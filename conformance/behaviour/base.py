"""What every behavioural check shares: its description, the context it runs in, and how it fails.

A behavioural check states a rule the schemas cannot express (state that persists, quotas that count down,
files that are served back) and tests it with Hypothesis over plain httpx. It fails by raising
`CheckFailed`, which carries what was expected, what came back and the request that showed it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, Verbosity, seed, settings
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test

from conformance._specs import ApiName
from conformance.curl import curl_command
from conformance.exchange import Exchange, Http, RequestSpec
from conformance.results import RuleSource
from conformance.target_base import Target

# Reads after an update was read back that must all still show it (a stale replica shows up within a few).
READS_AFTER_UPDATE = 4


class CheckFailed(AssertionError):
    """A behavioural rule was broken; `exchange` is the request and response that show it."""

    def __init__(
        self, *, expected: str, actual: str, exchange: Exchange | None = None, title: str = ""
    ) -> None:
        super().__init__(f"expected {expected}; got {actual}")
        self.expected = expected
        self.actual = actual
        self.exchange = exchange
        self.title = title


class CheckSkipped(Exception):
    """The check cannot run against this server or target (for example a credential the target lacks)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class BehaviourCheck:
    """A named behavioural rule of one API, attached in reports to the operation it is about."""

    name: str
    api: ApiName
    operation_id: str
    description: str
    # Spends rate quota or changes stored state when the server behaves: runs only with --allow-destructive.
    destructive: bool
    run: Callable[[Context], None]
    # Where the rule comes from, and the passage that states it (a page title, a spec location).
    source: RuleSource
    cite: str

    def __repr__(self) -> str:
        return f"BehaviourCheck({self.api}.{self.name}, destructive={self.destructive})"


@dataclasses.dataclass(kw_only=True)
class Context:
    """What a check may use: the target, an HTTP client on the base URL, the run's seed and example budget."""

    target: Target
    http: Http
    seed: int
    examples: int
    passed: int = 0
    # What the check could not verify (for example a URL outside --base-url that does not answer).
    notes: list[str] = dataclasses.field(default_factory=list)

    def send(self, spec: RequestSpec) -> Exchange:
        exchange = self.http.send(spec)
        return exchange

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def fetch_served(self, url: str, *, what: str) -> Exchange | None:
        """GET a URL the server handed out; None (and a note) when it lies outside --base-url and cannot be fetched.

        A server may hand out URLs of a CDN or object store the suite cannot reach from where it runs; that is
        something the check could not verify, not a failure of the server. Under --base-url a failed fetch is
        the server's, and raises.
        """
        if self.http.is_own(url):
            return self.http.get(url)
        try:
            return self.http.get(url)
        except httpx.TransportError as error:
            self.note(f"could not verify {what}: GET {url} failed ({type(error).__name__}: {error})")
            return None

    def curl(self, exchange: Exchange) -> str:
        return curl_command(exchange.request, self.http.base_url)

    def ok(self, count: int = 1) -> None:
        """Record that `count` requests behaved as the rule says."""
        self.passed += count

    # Expectations that every check uses.

    def expect_status(self, exchange: Exchange, *statuses: int, why: str = "") -> None:
        if exchange.status not in statuses:
            wanted = " or ".join(str(s) for s in statuses)
            raise CheckFailed(
                expected=f"status {wanted}" + (f" ({why})" if why else ""),
                actual=exchange.summary(),
                exchange=exchange,
            )

    def json_object(self, exchange: Exchange, *, what: str) -> dict[str, Any]:
        """The response body as a JSON object, or a failure saying what came instead of `what`."""
        body = exchange.json()
        if not isinstance(body, dict):
            raise CheckFailed(
                expected=f"{what} as a JSON object", actual=exchange.summary(200), exchange=exchange
            )
        return body

    def expect(self, condition: bool, *, expected: str, actual: str, exchange: Exchange | None) -> None:
        if not condition:
            raise CheckFailed(expected=expected, actual=actual, exchange=exchange)

    def expect_repeatable(self, read: Callable[[], Exchange]) -> None:
        """Two reads with no write between them answer the same."""
        first, second = read(), read()
        self.expect(
            first.json() == second.json(),
            expected="two reads with no write between them to answer the same",
            actual=f"first {first.summary(300)}, then {second.summary(300)}",
            exchange=second,
        )

    def expect_no_older_version(
        self, read: Callable[[], Exchange], shows_update: Callable[[Exchange], bool], *, expected: str, also: str = ""
    ) -> None:
        """Once an update has been read back, each of `READS_AFTER_UPDATE` later reads still shows it.

        `also` is added to what a failure says it got (the first read that showed the update, say).
        """
        for attempt in range(1, READS_AFTER_UPDATE + 1):
            later = read()
            self.expect(
                shows_update(later),
                expected=expected,
                actual=f"read {attempt} after it returned {later.summary(300)}{also}",
                exchange=later,
            )

    def expect_neighbours_untouched(
        self, update: Callable[[], Exchange], neighbours: Sequence[tuple[str, Callable[[], Exchange]]], *, updated: str
    ) -> None:
        """An update of one resource (`updated`) leaves each neighbour, read by its function, as it was."""
        before = [read() for _, read in neighbours]
        response = update()
        for (name, read), earlier in zip(neighbours, before, strict=True):
            self.expect_untouched(
                earlier, read(), by=response, expected=f"an update of {updated} to leave {name} as it was"
            )
        self.ok(len(neighbours))

    def expect_unchanged(
        self,
        before: Exchange,
        after: Exchange,
        *,
        rejected: Exchange,
        ignore: Callable[[Any], Any] | None = None,
    ) -> None:
        """A rejected request changed nothing: the resource reads back as it did before it."""
        self.expect_untouched(
            before, after, by=rejected, expected=f"the rejected request ({rejected.status}) to change nothing",
            ignore=ignore,
        )

    def expect_untouched(
        self,
        before: Exchange,
        after: Exchange,
        *,
        by: Exchange,
        expected: str,
        ignore: Callable[[Any], Any] | None = None,
    ) -> None:
        """The request `by` left a resource as it was: it reads back after `by` as it did before.

        A difference is only blamed on `by` once two more reads, with nothing sent between them, agree with
        each other and not with `before`. A server whose reads differ without writes (stale replicas, random
        data) is reported once for that, not for every request it happened to follow.
        A read that does not answer 200 is reported as that: two error bodies are not two versions of the
        resource.
        """
        resource = f"{after.request.method} {after.request.path}"

        def body(exchange: Exchange) -> Any:
            if exchange.status != 200:
                raise CheckFailed(
                    title="a read did not return the resource",
                    expected=f"{resource} to answer 200 with the resource",
                    actual=exchange.summary(),
                    exchange=exchange,
                )
            value = exchange.json()
            return ignore(value) if ignore is not None else value

        first, second = body(before), body(after)
        if first == second:
            return
        again = self.send(after.request)
        once_more = self.send(after.request)
        third, fourth = body(again), body(once_more)
        if third != fourth or third == first:
            differing = (again, once_more) if third != fourth else (before, after)
            raise CheckFailed(
                title="reads are not repeatable",
                expected=f"{resource} to answer the same when nothing is written between two reads",
                actual=f"one read, then the next: {_differences(body(differing[0]), body(differing[1]))}",
                exchange=differing[1],
            )
        raise CheckFailed(
            expected=expected,
            actual=f"{resource} reads differently after it (and again twice since): before, then after: "
            f"{_differences(first, second)}",
            exchange=by,
        )

    # Hypothesis, seeded by the run's seed so the same seed draws the same cases.

    def settings(self, examples: int | None = None, steps: int = 10) -> settings:
        return settings(
            max_examples=examples or self.examples,
            stateful_step_count=steps,
            database=None,
            deadline=None,
            derandomize=False,
            # Shrinking resends requests to a live, stateful server: slow and rarely clearer. Report as found.
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
            print_blob=False,
            report_multiple_bugs=False,
        )

    def given(self, test: Callable[[], None], *, examples: int | None = None) -> None:
        """Run a `@given`-decorated test with the run's settings and seed."""
        seeded = seed(self.seed)(self.settings(examples)(test))
        _unwrap(seeded)

    def state_machine(
        self, factory: Callable[[], RuleBasedStateMachine], *, examples: int | None = None, steps: int = 10
    ) -> None:
        test = get_state_machine_test(factory, settings=self.settings(examples, steps))  # type: ignore[arg-type]
        _unwrap(seed(self.seed)(test))


def _unwrap(test: Callable[[], None]) -> None:
    """Call a Hypothesis test and surface the first `CheckFailed` or `CheckSkipped` however it is wrapped."""
    try:
        test()
    except (CheckFailed, CheckSkipped):
        raise
    except BaseExceptionGroup as group:  # FlakyFailure or several distinct failures
        found = next(_leaves(group), None)
        if found is not None:
            raise found from group
        raise


def _leaves(group: BaseExceptionGroup[Any]) -> Iterator[CheckFailed | CheckSkipped]:
    for error in group.exceptions:
        if isinstance(error, CheckFailed | CheckSkipped):
            yield error
        elif isinstance(error, BaseExceptionGroup):
            yield from _leaves(error)


def _differences(first: Any, second: Any, limit: int = 3) -> str:
    """Where two JSON values differ, as `path: old -> new`, for the first few places."""
    found: list[str] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if len(found) >= limit or a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(a.keys() | b.keys(), key=str):
                walk(a.get(key, _ABSENT), b.get(key, _ABSENT), f"{path}.{key}" if path else str(key))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for index, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{path}[{index}]")
        else:
            found.append(f"{path or 'the body'}: {_short(a, 120)} -> {_short(b, 120)}")

    walk(first, second, "")
    return "; ".join(found)


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


_ABSENT = _Absent()


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


__all__ = ["BehaviourCheck", "CheckFailed", "CheckSkipped", "Context", "RuleSource"]
