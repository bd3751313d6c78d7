"""Unit tests of the plan, generated secrets and readiness rules, table-driven with a reason per case."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest
import xp
import yaml
from crossplane.function import resource
from crossplane.function.proto.v1 import run_function_pb2 as fnv1

from function import readiness, structs, yamltext
from function.fn import PLAN_PARTS
from function.input import platform_settings
from function.plan import (
    Draft,
    Flavour,
    GeneratedSecret,
    Part,
    Plan,
    Platform,
    Workspace,
    build_plan,
    url_host_port,
    workspace_from_xr,
)
from function.secrets import SeedError, check_seed, derive, resolve
from function.services.librechat import CONFIG_YAML_OPTIONS, librechat_config, mcp_secret_env
from function.spec import parse_spec
from tests.helpers import basic_spec

ROOT = Path(__file__).resolve().parent.parent
WS = Workspace(name="chat", namespace="team-a", flavour=Flavour.NAMESPACED)


@dataclass
class HostPortCase:
    reason: str
    url: str
    want: str


HOST_PORT_CASES = [
    HostPortCase(
        "An explicit port is kept.",
        "http://svc.ns.svc.cluster.local:8080/mcp",
        "svc.ns.svc.cluster.local:8080",
    ),
    HostPortCase(
        "https without a port is 443, as LibreChat normalises it.",
        "https://mcp.example.com/x",
        "mcp.example.com:443",
    ),
    HostPortCase("http without a port is 80.", "http://mcp.example.com", "mcp.example.com:80"),
    HostPortCase("wss without a port is 443.", "wss://mcp.example.com/ws", "mcp.example.com:443"),
    HostPortCase(
        "Credentials in the URL are not part of host:port.",
        "https://u:p@h.example.com:9000/",
        "h.example.com:9000",
    ),
    HostPortCase("IPv6 literals keep their brackets.", "http://[fd00::1]:8000/", "[fd00::1]:8000"),
]


@pytest.mark.parametrize("case", HOST_PORT_CASES, ids=lambda c: c.reason)
def test_url_host_port(case: HostPortCase) -> None:
    assert url_host_port(case.url) == case.want, case.reason


def test_plan_urls_come_from_service_names() -> None:
    """In-cluster URLs are <service>.<namespace>.svc.cluster.local with each service's port."""
    plan = build_plan(WS, parse_spec(basic_spec()), Platform(), PLAN_PARTS)
    assert plan.meilisearch.url == "http://chat-meilisearch.team-a.svc.cluster.local:7700"
    assert plan.redis.host_port == "chat-redis.team-a.svc.cluster.local:6379"
    assert plan.mongodb is not None and plan.mongodb.host_port == "chat-mongodb.team-a.svc.cluster.local:27017"
    assert plan.chat_url == "https://chat.team-a.example.com"


def test_plan_without_tls_serves_http() -> None:
    """With TLS off the chat URL (and so DOMAIN_CLIENT) is http, and no TLS Secret is named."""
    spec = basic_spec()
    spec["librechat"]["ingress"] = {"tls": {"enabled": False}}
    plan = build_plan(WS, parse_spec(spec), Platform(), PLAN_PARTS)
    assert plan.chat_url == "http://chat.team-a.example.com" and plan.tls_secret is None


def test_plan_existing_mongodb() -> None:
    """An existing MongoDB replaces the in-cluster one and its URI comes from the team's Secret."""
    spec = basic_spec()
    spec["librechat"]["mongodb"] = {"existingUriSecretRef": {"name": "mongo", "key": "uri"}}
    plan = build_plan(WS, parse_spec(spec), Platform(), PLAN_PARTS)
    assert plan.mongodb is None
    assert ("MONGO_URI", "mongo", "uri") in [(e.env, e.ref.name, e.ref.key) for e in plan.env_from_secrets]
    assert all(s.key != "mongodb-root-password" for s in plan.generated_secrets)


def test_plan_mcp_secret_headers() -> None:
    """A secret MCP header's Secret key becomes one env var copied from the team's Secret, however many headers
    send it; its prefix stays in librechat.yaml; an in-cluster Service of the namespace is allow-listed, a public
    host needs no exemption."""
    spec = basic_spec()
    bearer = {"name": "Authorization", "prefix": "Bearer ", "secretRef": {"name": "mcp", "key": "token"}}
    spec["librechat"]["mcpServers"] = [
        {"name": "tools", "url": "http://tools.team-a.svc.cluster.local:8000/mcp", "headers": [bearer]},
        {"name": "docs", "url": "https://docs.example.com/mcp", "headers": [bearer, {**bearer, "name": "X-Token"}]},
    ]
    plan = build_plan(WS, parse_spec(spec), Platform(), PLAN_PARTS)
    entries = [e for e in plan.env_from_secrets if e.ref.name == "mcp"]
    assert [(e.env, e.ref.key, e.header) for e in entries] == [(mcp_secret_env(entries[0].ref), "token", True)]
    assert entries[0].env.startswith("MCP_MCP_TOKEN_")
    assert plan.mcp_allowed_addresses == ("tools.team-a.svc.cluster.local:8000",)
    headers = librechat_config(plan)["mcpServers"]["docs"]["headers"]
    assert headers == {"Authorization": f"Bearer ${{{entries[0].env}}}", "X-Token": f"Bearer ${{{entries[0].env}}}"}


ASSEMBLER_FIELDS = {
    "workspace",
    "spec",
    "platform",
    "retain_data",
    "generated_secrets",
    "env_from_secrets",
    "placement",
    "team_keys",
}


def test_every_plan_field_is_one_parts() -> None:
    """plan.py only assembles: every Plan field but the assembler's own is filled by exactly one service's part,
    with every service enabled or off."""
    spec = basic_spec() | {"searxng": {"enabled": True}, "firecrawl": {"enabled": True}}
    for parsed in (parse_spec(basic_spec()), parse_spec(spec)):
        filled: dict[str, str] = {}
        for part_of in PLAN_PARTS:
            draft = Draft(WS, parsed, Platform(), b"", dict.fromkeys(filled))
            for name in part_of(draft).fields:
                assert name not in filled, f"{name} is filled by {filled.get(name)} and {part_of.__module__}"
                filled[name] = part_of.__module__
        assert set(filled) == {f.name for f in fields(Plan)} - ASSEMBLER_FIELDS


def test_a_field_filled_twice_is_refused() -> None:
    """A part that fills a field another part filled is a wiring error, named with the part, not a silent
    overwrite."""

    def stray(draft: Draft) -> Part:
        return Part({"redis": draft.endpoint("redis", 6380, "redis")})

    with pytest.raises(ValueError, match=r"stray fills redis, filled already"):
        build_plan(WS, parse_spec(basic_spec()), Platform(), (*PLAN_PARTS, stray))


SEED = check_seed("s" * 32)


def test_derivation_is_stable_and_distinct() -> None:
    """The same workspace gets the same values; another workspace or key gets different ones."""
    plan = build_plan(WS, parse_spec(basic_spec()), Platform(), PLAN_PARTS)
    first = resolve(SEED, WS, plan.generated_secrets, {})
    assert first == resolve(SEED, WS, plan.generated_secrets, {})
    other = Workspace(name="chat", namespace="team-b", flavour=Flavour.NAMESPACED)
    assert first != resolve(SEED, other, plan.generated_secrets, {})
    assert len(set(first.values())) == len(first), "every key gets its own value"


def test_derivation_lengths() -> None:
    """Each value has exactly the requested number of random bytes, longer than one SHA-256 block too."""
    for nbytes in (16, 24, 32, 48, 64):
        assert len(derive(SEED, WS, GeneratedSecret("s", "k", nbytes))) == 2 * nbytes


@pytest.mark.parametrize("seed", [None, "", "too-short"])
def test_seed_is_required(seed: str | None) -> None:
    """A missing or short seed is refused with instructions."""
    with pytest.raises(SeedError):
        check_seed(seed)


def _cond(kind: str, status: str, **extra: str) -> dict[str, Any]:
    return {"type": kind, "status": status, **extra}


@dataclass
class ReadyCase:
    reason: str
    observed: dict[str, Any] | None
    ready: bool
    why: str = ""


READY_CASES = [
    ReadyCase("A resource not observed yet is not ready.", None, False, "not created yet"),
    ReadyCase(
        "A managed resource with Ready=True is ready.",
        {
            "apiVersion": "kubernetes.m.crossplane.io/v1alpha1",
            "kind": "Object",
            "status": {"conditions": [_cond("Ready", "True")]},
        },
        True,
    ),
    ReadyCase(
        "A managed resource with Ready=False is not, and says why.",
        {
            "apiVersion": "helm.m.crossplane.io/v1beta1",
            "kind": "Release",
            "status": {"conditions": [_cond("Ready", "False", reason="Creating", message="installing")]},
        },
        False,
        "Creating: installing",
    ),
    ReadyCase(
        "A failing sync is reported before readiness.",
        {
            "apiVersion": "helm.m.crossplane.io/v1beta1",
            "kind": "Release",
            "status": {"conditions": [_cond("Synced", "False", message="chart not found")]},
        },
        False,
        "not synced: chart not found",
    ),
    ReadyCase(
        "A Secret has no conditions: it is ready once it exists.",
        {"apiVersion": "v1", "kind": "Secret"},
        True,
    ),
    ReadyCase(
        "A ConfigMap has no conditions: it is ready once it exists.",
        {"apiVersion": "v1", "kind": "ConfigMap"},
        True,
    ),
    ReadyCase(
        "A managed resource without conditions yet is not ready.",
        {"apiVersion": "kubernetes.m.crossplane.io/v1alpha1", "kind": "Object"},
        False,
        "waiting for the provider to report readiness",
    ),
]


@pytest.mark.parametrize("case", READY_CASES, ids=lambda c: c.reason)
def test_readiness(case: ReadyCase) -> None:
    assert readiness.is_ready(case.observed) is case.ready, case.reason
    if not case.ready:
        assert readiness.waiting_reason(case.observed) == case.why, case.reason


TRICKY_TEXT = [
    "plain",
    "1e3",
    "0o17",
    "yes",
    "null",
    "~",
    "- item",
    "key: value",
    "# not a comment",
    "multi\nline\ntext",
    "trailing space ",
    "unicode: ünïcødé ✓ 日本語",
    "quotes ' and \"",
    "x" * 300,
    "a long sentence " * 20,
    "tab\tinside",
    "{{user.name}}",
    "1e3",
    "0o17",
    ".5e1",
    "-2E-3",
]


@pytest.mark.skipif(not hasattr(yaml, "CSafeDumper"), reason="PyYAML without libyaml: only one emitter to compare")
@pytest.mark.parametrize("example", sorted(p.parent.name for p in (ROOT / "examples").glob("*/xr.yaml")))
def test_c_emitter_writes_what_the_python_one_does(example: str) -> None:
    """The libyaml emitter yamltext uses gives byte for byte the pure-Python emitter's text (golden files rest
    on it), for every example's librechat.yaml and for text that YAML quotes, folds or escapes."""
    xr = yaml.safe_load((ROOT / "examples" / example / "xr.yaml").read_text())
    platform = platform_settings(xp.step_input(ROOT / "examples" / example))
    config = librechat_config(build_plan(workspace_from_xr(xr), parse_spec(xr["spec"]), platform, PLAN_PARTS))
    config["tricky"] = {f"k{i}": text for i, text in enumerate(TRICKY_TEXT)} | {"list": TRICKY_TEXT}
    for options in (CONFIG_YAML_OPTIONS, {"sort_keys": True}):
        fast = yamltext.dump(config, dumper=yaml.CSafeDumper, **options)
        pure = yamltext.dump(config, dumper=yaml.SafeDumper, **options)
        assert fast == pure
        fast = yamltext.dump(config, dumper=yamltext.Yaml12SafeDumper, **options)
        pure = yamltext.dump(config, dumper=yamltext.Yaml12PureDumper, **options)
        assert fast == pure


def test_struct_bytes_equal_what_update_builds() -> None:
    """structs.update gives the Struct resource.update gives, cached or not, and replaces top-level keys."""
    golden = [d for d in yaml.safe_load_all((ROOT / "tests" / "golden" / "plan-mixed-namespaced.yaml").read_text())]
    for body in filter(None, golden):
        for _ in range(2):  # built, then from the cache
            fast, slow = fnv1.Resource(), fnv1.Resource()
            structs.update(fast, body)
            resource.update(slow, body)
            assert fast == slow
    target, expected = fnv1.Resource(), fnv1.Resource()
    for r in (target, expected):
        resource.update(r, {"apiVersion": "v1", "status": {"old": True, "keep": 1}})
    structs.update(target, {"status": {"new": "x"}})
    resource.update(expected, {"status": {"new": "x"}})
    assert target == expected
    changed = dict(golden[1], kind="Changed")
    fresh = fnv1.Resource()
    structs.update(fresh, changed)
    assert resource.struct_to_dict(fresh.resource)["kind"] == "Changed"
