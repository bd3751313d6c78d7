"""The same rules in both places: for every constraint of the XRD's schema (pattern, bounds, lengths, enums), a
spec that breaks it is generated from the schema itself, and both the API server's validation (crossplane
resource validate) and the function refuse it, naming the same field."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

import pytest
import xp
import yaml

from function.spec import AIWorkspaceSpec, SpecError, parse_spec
from function.xrds import openapi_schema
from tests.helpers import namespaced_xr

BASE: dict[str, Any] = {"librechat": {"domain": "chat.example.com", "ingress": {"tls": {"secretName": "tls"}}}}


@dataclass(frozen=True)
class Violation:
    path: tuple[str | int, ...]  # where in spec, list indexes as ints
    value: Any
    constraint: str

    @property
    def field(self) -> str:
        out = "spec"
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else f".{part}"
        return out


def _bad_values(node: dict[str, Any]) -> list[tuple[Any, str]]:
    """Values that break one of the node's own constraints."""
    out: list[tuple[Any, str]] = []
    if "enum" in node:
        out.append(("not-an-option", "enum"))
    if "pattern" in node:
        out.append(("-1 not valid!" if node.get("x-kubernetes-int-or-string") else "Not Valid!", "pattern"))
    if node.get("type") == "integer":
        if "minimum" in node:
            out.append((int(node["minimum"]) - 1, "minimum"))
        if "maximum" in node:
            out.append((int(node["maximum"]) + 1, "maximum"))
    if node.get("type") == "string" and "pattern" not in node and "enum" not in node:
        if node.get("minLength", 0) >= 1:
            out.append(("", "minLength"))
        if "maxLength" in node:
            out.append(("a" * (int(node["maxLength"]) + 1), "maxLength"))
    if node.get("type") == "array" and "maxItems" in node and node.get("items", {}).get("type") == "string":
        out.append((["x"] * (int(node["maxItems"]) + 1), "maxItems"))
    return out


def violations() -> list[Violation]:
    out: list[Violation] = []

    def walk(node: dict[str, Any], path: tuple[str | int, ...]) -> None:
        for value, constraint in _bad_values(node):
            if path:
                out.append(Violation(path, value, constraint))
        for name, prop in node.get("properties", {}).items():
            walk(prop, (*path, name))
        items = node.get("items")
        if isinstance(items, dict) and items.get("type") == "object":
            walk(items, (*path, 0))

    walk(openapi_schema(AIWorkspaceSpec), ())
    return out


def _spec_with(violation: Violation) -> dict[str, Any]:
    spec = copy.deepcopy(BASE)
    node: Any = spec
    for part, following in zip(violation.path, (*violation.path[1:], None), strict=True):
        if following is None:
            if isinstance(part, int):
                node.append(violation.value)
            else:
                node[part] = violation.value
            break
        default: Any = [] if isinstance(following, int) else {}
        if isinstance(part, int):
            if not node:
                node.append(default)
            node = node[0]
        else:
            node = node.setdefault(part, default)
    return spec


def _normalise(text: str) -> str:
    """Field paths as both sides write them: pydantic's a.0.b and the API server's a[0].b."""
    return re.sub(r"\.(\d+)(?=\.|$|:)", r"[\1]", text)


VIOLATIONS = violations()


def test_the_schema_yields_violations_of_every_kind() -> None:
    """The generator finds the schema's constraints (a guard against a walk that silently finds nothing)."""
    kinds = {v.constraint for v in VIOLATIONS}
    assert {"enum", "pattern", "minimum", "maximum", "maxLength"} <= kinds
    assert len(VIOLATIONS) > 60


@pytest.mark.parametrize("violation", VIOLATIONS, ids=lambda v: f"{v.field}-{v.constraint}")
def test_the_function_refuses_naming_the_field(violation: Violation) -> None:
    with pytest.raises(SpecError) as err:
        parse_spec(_spec_with(violation))
    assert violation.field in _normalise(str(err.value)), f"-want {violation.field}\n+got {err.value}"


def test_admission_refuses_each_naming_the_field(tools: xp.Tools) -> None:
    docs = []
    for i, violation in enumerate(VIOLATIONS):
        xr = namespaced_xr(_spec_with(violation), name=f"violation-{i}")
        docs.append(xr)
    report = xp.validate(yaml.safe_dump_all(docs), tool=tools)
    by_name = {r["name"]: r for r in report["resources"]}  # type: ignore[union-attr]
    missed = []
    for i, violation in enumerate(VIOLATIONS):
        result = by_name[f"violation-{i}"]
        fields = " ".join(f"{e.get('field', '')} {e.get('message', '')}" for e in result.get("errors") or [])
        if result["status"] != "invalid" or violation.field not in fields:
            missed.append(f"{violation.field} ({violation.constraint}={violation.value!r}): {result}")
    assert not missed, "\n".join(missed)
