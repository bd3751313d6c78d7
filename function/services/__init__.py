"""One module per service: each turns the plan into desired resources and reads nothing but the plan."""

from __future__ import annotations

from dataclasses import dataclass

from function.plan import Plan


@dataclass(frozen=True)
class SecretValues:
    """Secret values a service writes into a composed Secret's data (never into a spec)."""

    generated: dict[tuple[str, str], str]  # (composed Secret name, key) -> value
    referenced: dict[tuple[str, str], str]  # (team's Secret name, key) -> value

    def get(self, secret: str, key: str) -> str:
        return self.generated[(secret, key)]


@dataclass(frozen=True)
class Context:
    plan: Plan
    secrets: SecretValues
