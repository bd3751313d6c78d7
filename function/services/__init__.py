"""One module per service: each turns the plan into desired resources and reads nothing but the plan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from function import readiness
from function.plan import Plan


@dataclass(frozen=True)
class SecretValues:
    """Secret values a service writes into a composed Secret's data (never into a spec)."""

    generated: dict[tuple[str, str], str]  # (composed Secret name, key) -> value
    referenced: dict[tuple[str, str], str]  # (team's Secret name, key) -> value
    fingerprint_key: bytes  # keys secrets.fingerprint for this workspace

    def get(self, secret: str, key: str) -> str:
        return self.generated[(secret, key)]


@dataclass(frozen=True)
class Observed:
    """What Crossplane observed of the composed resources, by key: bodies and decoded connection details.

    `summaries`, when given, hold what readiness reads of each resource (function/observed.py), so asking
    whether a resource is ready never converts its whole body."""

    resources: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    connections: dict[str, dict[str, str]] = field(default_factory=dict)
    summaries: Mapping[str, dict[str, Any]] | None = None

    def ready(self, key: str) -> bool:
        return readiness.is_ready((self.resources if self.summaries is None else self.summaries).get(key))

    def connection(self, key: str) -> dict[str, str]:
        """The resource's connection details (from its connection Secret), {} until published."""
        return self.connections.get(key, {})

    def metadata(self, key: str) -> dict[str, Any]:
        """The resource's metadata (name, labels, annotations), {} until it exists."""
        body = (self.resources if self.summaries is None else self.summaries).get(key) or {}
        metadata: dict[str, Any] = body.get("metadata") or {}
        return metadata

    def at_provider(self, key: str) -> dict[str, Any]:
        status: dict[str, Any] = self.resources.get(key, {}).get("status", {}) or {}
        return status.get("atProvider", {}) or {}


@dataclass(frozen=True)
class Context:
    plan: Plan
    secrets: SecretValues
    observed: Observed = field(default_factory=Observed)
