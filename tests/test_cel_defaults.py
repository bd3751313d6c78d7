"""Every CEL rule of both XRDs holds on the defaults the API server checks it against.

When Crossplane creates the CRD of an XRD, the API server evaluates each `default` against the CEL rules of its
own node and of the nodes below it, without applying the nested defaults first: a section defaulting to `{}`
whose rule reads `self.enabled` makes the whole CRD invalid ("no such key: enabled"), and the XRD is never
Established. Neither `crossplane composition render` nor `crossplane resource validate` runs that check, so this
test does: it evaluates every rule, with a CEL interpreter, on every default it applies to and on a minimal
spec after defaulting. `make e2e` proves the same on a real API server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import celpy
import pytest

from function.spec import parse_spec
from function.xrds import defaulted, generated_files

DEFINITIONS = ("apis/claims/definition.yaml", "apis/namespaced/definition.yaml")
MINIMAL_SPEC = {"librechat": {"domain": "chat.team-a.example.com"}}

_ENV = celpy.Environment()


def _evaluate(rule: str, value: Any) -> Any:
    program = _ENV.program(_ENV.compile(rule))
    try:
        return program.evaluate({"self": celpy.json_to_cel(value)})
    except celpy.CELEvalError as error:
        return error


def _spec_schema(definition: str) -> dict[str, Any]:
    xrd = generated_files()[definition]
    schema: dict[str, Any] = xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    return schema


def _rules_on(value: Any, schema: dict[str, Any], path: str) -> Iterator[tuple[str, str, Any]]:
    """(path, rule, value) for every rule of `schema` and of the nodes below it that `value` reaches."""
    for validation in schema.get("x-kubernetes-validations", []):
        yield path, validation["rule"], value
    if isinstance(value, dict):
        for name, prop in schema.get("properties", {}).items():
            if name in value:
                yield from _rules_on(value[name], prop, f"{path}.{name}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            yield from _rules_on(item, schema["items"], f"{path}[{index}]")


def _defaults(schema: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if "default" in schema:
        yield path, schema
    for name, prop in schema.get("properties", {}).items():
        yield from _defaults(prop, f"{path}.{name}")
    if "items" in schema:
        yield from _defaults(schema["items"], f"{path}[]")


def _failures(checks: Iterator[tuple[str, str, Any]]) -> list[str]:
    failures = []
    for path, rule, value in checks:
        result = _evaluate(rule, value)
        if result is not True and not (isinstance(result, celpy.celtypes.BoolType) and bool(result)):
            failures.append(f"{path}: {rule!r} gives {result!r} on {value!r}")
    return failures


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_every_default_satisfies_its_rules(definition: str) -> None:
    """Each default passes the rules of its node and below, as the API server checks at CRD creation."""
    checked = 0
    failures: list[str] = []
    for path, node in _defaults(_spec_schema(definition), "spec"):
        checks = list(_rules_on(node["default"], node, path))
        checked += len(checks)
        failures += _failures(iter(checks))
    assert not failures, "\n".join(failures)
    assert checked >= 10, "the sections' rules are no longer reached by their defaults"


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_every_rule_holds_on_a_minimal_spec(definition: str) -> None:
    """A minimal spec, defaulted as the API server stores it, passes every rule it reaches."""
    schema = _spec_schema(definition)
    spec = defaulted(MINIMAL_SPEC, schema)
    checks = list(_rules_on(spec, schema, "spec"))
    assert not _failures(iter(checks))
    assert len(checks) >= 15
    parse_spec(spec)  # the function accepts what admission stored


def test_a_bare_section_default_is_caught() -> None:
    """The check itself fails on the mistake that kept the XRDs from being Established."""
    rule = "!self.enabled || has(self.apiKeySecretRef)"
    assert _failures(iter([("spec.openai", rule, {})]))
    assert not _failures(iter([("spec.openai", rule, {"enabled": False})]))
