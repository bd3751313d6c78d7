"""Every string a team writes has a type named by where it lands (function/strings.py): the XRD's schema gives
each one a pattern, an enum or a format, or declares it free text, whose rule refuses LibreChat's and the kubelet's
placeholders. No pattern admits what would turn a value into program text."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

import celpy
import pytest
from hypothesis import Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from function.spec import AIWorkspaceSpec, SpecError, parse_spec
from function.strings import PLACEHOLDER, is_free_text
from function.xrds import openapi_schema

SCHEMA = openapi_schema(AIWorkspaceSpec)


def strings(node: dict[str, Any], path: str = "spec") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every string node of a schema with its path (list items as [], map values as {})."""
    if node.get("type") == "string" or node.get("x-kubernetes-int-or-string"):
        yield path, node
    for name, prop in node.get("properties", {}).items():
        yield from strings(prop, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from strings(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from strings(node["additionalProperties"], f"{path}{{}}")


def maps(node: dict[str, Any], path: str = "spec") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node.get("additionalProperties"), dict):
        yield path, node
    for name, prop in node.get("properties", {}).items():
        yield from maps(prop, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from maps(node["items"], f"{path}[]")


STRINGS = list(strings(SCHEMA))
TYPED = [(path, node) for path, node in STRINGS if "pattern" in node]
FREE = [(path, node) for path, node in STRINGS if is_free_text(node)]


def test_every_string_has_a_type() -> None:
    """A string without a pattern, enum or format is a sink nobody named: the test fails on it unless it is
    declared free text (its rule refuses ${, {{, $( and control characters)."""
    untyped = [p for p, n in STRINGS if not any(k in n for k in ("pattern", "enum", "format")) and not is_free_text(n)]
    assert not untyped, f"strings with no type: {untyped}"
    unbounded = [p for p, n in STRINGS if "enum" not in n and "maxLength" not in n and "pattern" not in n]
    assert not unbounded, f"strings with no length bound: {unbounded}"


def test_every_map_types_its_keys() -> None:
    """A map's keys are strings too: each map has a CEL rule over its keys and a bound on their number."""
    for path, node in maps(SCHEMA):
        rules = [r["rule"] for r in node.get("x-kubernetes-validations", [])]
        assert any(r.startswith("self.all(k,") for r in rules), f"{path}: keys unchecked"
        assert "maxProperties" in node, f"{path}: unbounded"


# What would make a value program text somewhere it lands: a shell's $ and quotes, a template's braces, YAML's
# line breaks, an argv option's leading '-'.
PROGRAM_TEXT = ["$", "{", "}", "`", '"', "\n", "\r", "\t", "\x00", "\\"]


@functools.cache
def _samples(pattern: str, max_length: int) -> tuple[str, ...]:
    """Values the pattern admits, the same on every run: hypothesis's simplest ones of a few lengths."""
    strategy = st.from_regex(pattern, fullmatch=True).filter(lambda s: 0 < len(s) < max_length)
    found = set()
    for length in (1, 4, 8, 16):
        try:
            found.add(find(strategy, lambda s, n=length: len(s) >= n, settings=DETERMINISTIC))
        except NoSuchExample:
            continue
    return tuple(sorted(found))


DETERMINISTIC = settings(database=None, derandomize=True, max_examples=50, deadline=None, phases=[Phase.generate])


@pytest.mark.parametrize(("path", "node"), [t for t in TYPED if not t[1].get("x-kubernetes-int-or-string")])
def test_no_pattern_admits_program_text(path: str, node: dict[str, Any]) -> None:
    """Values the pattern admits, with a character of program text put anywhere in them, are refused; none may
    start with '-'."""
    pattern = node["pattern"]
    for sample in _samples(pattern, node.get("maxLength", 10_000)):
        assert not sample.startswith("-"), (path, sample)
        for char in PROGRAM_TEXT:
            for at in (0, len(sample) // 2, len(sample)):
                tainted = sample[:at] + char + sample[at:]
                assert not re.fullmatch(pattern, tainted), f"{path} admits {tainted!r}"


_ENV = celpy.Environment()


def _cel(rule: str, value: str) -> bool:
    program = _ENV.program(_ENV.compile(rule))
    return bool(program.evaluate({"self": celpy.json_to_cel(value)}))


@pytest.mark.parametrize(("path", "node"), FREE)
@pytest.mark.parametrize("text", ["${OPENAI_API_KEY}", "{{LIBRECHAT_USER_EMAIL}}", "$(JWT_SECRET)", "a\nb", "a\x00"])
def test_free_text_refuses_placeholders_at_both_layers(path: str, node: dict[str, Any], text: str) -> None:
    """Free text refuses what LibreChat or the kubelet would replace, and control characters: the CEL rule the
    API server runs (evaluated here with cel-python) and the function alike."""
    assert re.search(PLACEHOLDER, text)
    rules = [r["rule"] for r in node["x-kubernetes-validations"]]
    assert not all(_cel(rule, text) for rule in rules), f"{path}: admission admits {text!r}"
    assert all(_cel(rule, "Plain words, 100% fine: {user} & $5 (ok).") for rule in rules), path


def test_free_text_fields_are_few_and_named() -> None:
    """The free-text fields are text people read; any new one is a decision, so the list is written out."""
    assert sorted(path for path, _ in FREE) == [
        "spec.librechat.authentication.openid.buttonLabel",
        "spec.librechat.interface.welcomeMessage",
        "spec.librechat.mcpServers[].headers[].prefix",
        "spec.librechat.mcpServers[].headers[].value",
    ]


def test_the_welcome_message_keeps_its_one_placeholder() -> None:
    """{{user.name}} (filled in the browser with the user's own name) is the welcome message's one placeholder."""
    ok = {"librechat": {"domain": "c.example.com", "interface": {"welcomeMessage": "Hi {{user.name}}!"}}}
    assert parse_spec(ok).librechat.interface.welcome_message == "Hi {{user.name}}!"
    for bad in ("Hi {{user.email}}", "{{{user.name}}", "Hi {{user.name}"):
        spec = {"librechat": {"domain": "c.example.com", "interface": {"welcomeMessage": bad}}}
        with pytest.raises(SpecError, match="spec.librechat.interface.welcomeMessage"):
            parse_spec(spec)
