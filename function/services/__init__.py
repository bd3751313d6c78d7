"""One module per service: each turns the plan into desired resources and reads nothing but the plan, and what
the request holds through the two views below.

A service reads the request only by asking the views questions (is this resource ready, what are its connection
details, what is this Secret value), never by reading the request itself. Each view can record every question
with its answer: fn.py keeps each service's output with the questions it asked, and reuses it for a later
request that answers every one of them alike (function/recompose.py). tests/test_recompose.py holds services to
the views."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from function import readiness
from function.plan import Plan

# A question asked of the request: (view, method, arguments) and the answer it got.
Question = tuple[str, str, tuple[Any, ...]]
Asked = list[tuple[Question, Any]]
T = TypeVar("T")


def _copy(answer: T) -> T:
    """The caller's own copy of a recorded mapping: what it adds is no part of the answer."""
    return dict(answer) if isinstance(answer, dict) else answer  # type: ignore[return-value]


class SecretValues:
    """Secret values a service writes into a composed Secret's data (never into a spec): those the function
    generates (by composed Secret name and key) and those the team references (by its Secret's name and key)."""

    def __init__(
        self,
        generated: dict[tuple[str, str], str] | None = None,
        referenced: dict[tuple[str, str], str] | None = None,
        fingerprint_key: bytes = b"",
        asked: Asked | None = None,
    ) -> None:
        self._generated = generated or {}
        self._referenced = referenced or {}
        self._fingerprint_key = fingerprint_key
        self._asked = asked

    def recording(self, asked: Asked) -> SecretValues:
        """The same values, each question asked of them appended to `asked` with its answer."""
        return SecretValues(self._generated, self._referenced, self._fingerprint_key, asked)

    def _answer(self, method: str, args: tuple[Any, ...], answer: T) -> T:
        if self._asked is not None:
            self._asked.append((("secrets", method, args), answer))
        return _copy(answer)

    def get(self, secret: str, key: str) -> str:
        """A generated value: composed Secret `secret`, key `key`."""
        return self._answer("get", (secret, key), self._generated[(secret, key)])

    def generated_in(self, secret: str) -> dict[str, str]:
        """Every generated value of composed Secret `secret`, by key, in the plan's order."""
        values = {key: value for (name, key), value in self._generated.items() if name == secret}
        return self._answer("generated_in", (secret,), values)

    def referenced(self, secret: str, key: str) -> str:
        """The value of key `key` of the team's Secret `secret`, "" if the workspace does not reference it."""
        return self._answer("referenced", (secret, key), self._referenced.get((secret, key), ""))

    def fingerprint_key(self) -> bytes:
        """The workspace's key for secrets.fingerprint."""
        return self._answer("fingerprint_key", (), self._fingerprint_key)


class Observed:
    """What Crossplane observed of the composed resources, by key, read one question at a time.

    `summaries` hold what readiness, metadata and a Secret's data read of each resource (function/observed.py),
    so most questions never convert a whole body; `resources` gives whole bodies on demand; `connection` the
    decoded connection details of a resource."""

    def __init__(
        self,
        summaries: Mapping[str, dict[str, Any]] | None = None,
        resources: Mapping[str, dict[str, Any]] | None = None,
        connection: Callable[[str], dict[str, str]] | None = None,
        asked: Asked | None = None,
    ) -> None:
        self._summaries: Mapping[str, dict[str, Any]] = summaries if summaries is not None else {}
        self._resources: Mapping[str, dict[str, Any]] = resources if resources is not None else self._summaries
        self._connection = connection or (lambda _: {})
        self._asked = asked

    def recording(self, asked: Asked) -> Observed:
        """The same view, each question asked of it appended to `asked` with its answer."""
        return Observed(self._summaries, self._resources, self._connection, asked)

    def _answer(self, method: str, args: tuple[Any, ...], answer: T) -> T:
        if self._asked is not None:
            self._asked.append((("observed", method, args), answer))
        return _copy(answer)

    def exists(self, key: str) -> bool:
        """Whether the resource is observed."""
        return self._answer("exists", (key,), key in self._summaries)

    def ready(self, key: str) -> bool:
        return self._answer("ready", (key,), readiness.is_ready(self._summaries.get(key)))

    def connection(self, key: str) -> dict[str, str]:
        """The resource's connection details (from its connection Secret), {} until published."""
        return self._answer("connection", (key,), self._connection(key))

    def metadata(self, key: str) -> dict[str, Any]:
        """The resource's metadata (name, namespace, labels, annotations), {} until it exists."""
        body = self._summaries.get(key) or {}
        return self._answer("metadata", (key,), body.get("metadata") or {})

    def data(self, key: str) -> dict[str, str] | None:
        """An observed v1 Secret's data (base64, as stored), {} for another kind; None until it exists."""
        body = self._summaries.get(key)
        return self._answer("data", (key,), None if body is None else dict(body.get("data") or {}))

    def part(self, key: str, field: str) -> Any:
        """One top-level field of the observed body (e.g. its spec), converted alone; None if absent."""
        part = getattr(self._resources, "part", None)
        if part is not None:
            return self._answer("part", (key, field), part(key, field))
        return self._answer("part", (key, field), (self._resources.get(key) or {}).get(field))

    def at_provider(self, key: str) -> dict[str, Any]:
        body = self._resources.get(key) or {}
        status: dict[str, Any] = body.get("status", {}) or {}
        return self._answer("at_provider", (key,), status.get("atProvider", {}) or {})


def answers_alike(asked: tuple[tuple[Question, Any], ...], observed: Observed, secrets: SecretValues) -> bool:
    """Whether `observed` and `secrets` answer every question in `asked` as recorded."""
    views = {"observed": observed, "secrets": secrets}
    return all(getattr(views[view], method)(*args) == answer for (view, method, args), answer in asked)


@dataclass(frozen=True)
class Context:
    plan: Plan
    secrets: SecretValues = field(default_factory=SecretValues)
    observed: Observed = field(default_factory=Observed)
