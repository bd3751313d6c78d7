"""Every example, rendered by the real `crossplane composition render` through the locally served function.

Each render is compared with its golden file (regenerate with `make golden`, then review the diff like code),
validated with `crossplane resource validate` against the providers' CRDs and our XRDs, its Object manifests
against the Kubernetes OpenAPI schema, its librechat.yaml against LibreChat's own strict schema, and scanned
for secret values written in plaintext anywhere but a Secret's data.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import observe
import pytest
import xp
import yaml

from function.versions import LIBRECHAT_CONFIG_VERSION
from tests.helpers import basic_spec, namespaced_xr, secret
from tests.test_wiring import full_state

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLES = sorted(path.parent for path in (ROOT / "examples").glob("*/xr.yaml"))
READY = ROOT / "examples" / "ready-namespaced"
REGENERATE_READY = "python hack/observe.py --ready examples/ready-namespaced, then make golden and review both diffs"
KUBERNETES_VERSION = "1.33.0"
SCHEMA_CHECK = ROOT / "hack" / "librechat-schema" / "check.js"


@cache
def _render(example: Path, address: str) -> str:
    return xp.render(example, address)


@pytest.fixture(params=EXAMPLES, ids=[p.name for p in EXAMPLES])
def rendered(request: pytest.FixtureRequest, function_address: str, tools: xp.Tools) -> tuple[Path, str]:
    example: Path = request.param
    return example, _render(example, function_address)


def _documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def test_examples_exist() -> None:
    """Both flavours and the readiness walk-through are covered."""
    names = {p.name for p in EXAMPLES}
    assert {"basic-namespaced", "basic-claims", "ready-namespaced"} <= names


def test_golden(rendered: tuple[Path, str]) -> None:
    """The render matches its reviewed golden file byte for byte."""
    example, text = rendered
    golden = GOLDEN / f"{example.name}.yaml"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"no golden file for {example.name}; run `make golden` and review it"
    assert text == golden.read_text(), f"render of {example.name} differs from {golden}; if intended: make golden"


def _not_ready(xr: dict[str, Any]) -> list[str]:
    """What keeps a rendered XR from being Ready: its Ready condition, components and integrations not ready."""
    status = xr["status"]
    ready = [c for c in status.get("conditions", []) if c["type"] == "Ready"]
    problems = [f"condition Ready {c['status']} ({c['reason']})" for c in ready if c["status"] != "True"]
    problems += [] if ready else ["no Ready condition"]
    problems += [f"component {c['name']}: {c.get('message')}" for c in status["components"] if not c["ready"]]
    problems += [f"integration {i['name']}" for i in status["integrations"] if not i["ready"]]
    total = len(status["components"])
    if not total or status["readyComponents"] != f"{total}/{total}":
        problems.append(f"readyComponents {status['readyComponents']}")
    return problems


def test_ready_example_is_ready(function_address: str, tools: xp.Tools) -> None:
    """ready-namespaced shows a workspace that is up: its rendered XR is Ready (condition Ready True), and every
    entry of status.components and status.integrations is ready. A component the example does not observe, e.g.
    one a future change adds, fails this."""
    xr = _documents(_render(READY, function_address))[0]
    assert xr["status"]["components"], "the XR reports no components"
    assert not _not_ready(xr), f"ready-namespaced is not Ready: {_not_ready(xr)}; run {REGENERATE_READY}"
    assert xr["status"]["chatUrl"] == "https://chat.team-a.example.com"
    # The condition a tool waits on says so, through the real Crossplane render.
    conditions = {c["type"]: c for c in xr["status"]["conditions"]}
    assert conditions["WorkspaceAvailable"]["status"] == "True"
    assert conditions["WorkspaceAvailable"]["message"] == "Workspace is ready at https://chat.team-a.example.com"
    assert conditions["DataRetained"]["status"] == "False"


def test_ready_example_observes_what_the_function_composes(function_address: str, tools: xp.Tools) -> None:
    """ready-namespaced's observed resources are what `hack/observe.py --ready` writes: every resource the render
    composes, each observed exactly as composed (Ready, under Crossplane's name), nothing else; so the example
    cannot drift from the workspace the function composes."""
    xr, *composed = _documents(_render(READY, function_address))
    name, namespace = xr["metadata"]["name"], xr["metadata"].get("namespace")
    expected = {xp.resource_key(doc): observe.observed_body(doc, name, namespace) for doc in composed}
    stored = {xp.resource_key(doc): doc for doc in _documents((READY / "observed-resources.yaml").read_text())}
    assert sorted(stored) == sorted(expected), f"observed resources differ from those composed; run {REGENERATE_READY}"
    changed = sorted(key for key in expected if stored[key] != expected[key])
    assert not changed, f"observed as composed before a change: {changed}; run {REGENERATE_READY}"


@pytest.mark.parametrize("missing", ["rag-api-", "-networkpolicy", "librechat-release"])
def test_ready_check_catches_a_part_not_observed(
    missing: str, function_address: str, tools: xp.Tools, tmp_path: Path
) -> None:
    """The readiness check fails when part of the workspace is not observed: the ready example rendered with
    some of its observed resources left out (a whole component, one resource per component, the Release) is not
    Ready, and the components they belong to say so."""
    docs = _documents((READY / "observed-resources.yaml").read_text())
    kept = [doc for doc in docs if missing not in xp.resource_key(doc)]
    assert len(kept) < len(docs)
    observed = tmp_path / "observed-resources.yaml"
    observed.write_text(yaml.safe_dump_all(kept, sort_keys=False))
    xr = _documents(xp.render(READY, function_address, tool=tools, observed=observed))[0]
    problems = _not_ready(xr)
    assert any(p.startswith("condition Ready False") for p in problems), problems
    left_out = {xp.resource_key(doc) for doc in docs} - {xp.resource_key(doc) for doc in kept}
    waiting = " ".join(c.get("message", "") for c in xr["status"]["components"] if not c["ready"])
    assert all(key in waiting for key in left_out), (left_out, waiting)


def test_xr_first_then_composed(rendered: tuple[Path, str]) -> None:
    """The stream starts with the XR, followed only by resources it composed."""
    example, text = rendered
    docs = _documents(text)
    xr = yaml.safe_load((example / "xr.yaml").read_text())
    assert (docs[0]["apiVersion"], docs[0]["kind"]) == (xr["apiVersion"], xr["kind"])
    for doc in docs[1:]:
        assert "crossplane.io/composition-resource-name" in doc["metadata"]["annotations"]


def test_validates_against_crds_and_xrds(rendered: tuple[Path, str], tools: xp.Tools) -> None:
    """Every rendered resource, the XR included, is valid with zero invalid and zero missing schemas."""
    example, text = rendered
    report = xp.validate(text, tool=tools)
    summary = report["summary"]
    assert isinstance(summary, dict)
    problems = [r for r in report["resources"] if r["status"] != "valid"]  # type: ignore[union-attr]
    assert summary["invalid"] == 0 and summary["missingSchemas"] == 0, json.dumps(problems, indent=2)
    assert summary["total"] == len(_documents(text))


def test_object_manifests_are_valid_kubernetes(rendered: tuple[Path, str], tools: xp.Tools) -> None:
    """Manifests inside Objects validate strictly against the Kubernetes OpenAPI schema; those of the
    Prometheus Operator's kinds against its CRDs, with zero invalid and zero missing schemas."""
    _, text = rendered
    manifests = [doc["spec"]["forProvider"]["manifest"] for doc in _documents(text) if doc["kind"] == "Object"]
    assert manifests
    monitoring = [m for m in manifests if m["apiVersion"].startswith("monitoring.coreos.com/")]
    for manifest in manifests:
        if manifest not in monitoring:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    if monitoring:
        report = xp.validate(yaml.safe_dump_all(monitoring, sort_keys=True), tool=tools)
        summary = report["summary"]
        assert isinstance(summary, dict)
        problems = [r for r in report["resources"] if r["status"] != "valid"]  # type: ignore[union-attr]
        assert summary["invalid"] == 0 and summary["missingSchemas"] == 0, json.dumps(problems, indent=2)
        assert summary["total"] == len(monitoring)


def _librechat_configs(text: str) -> list[str]:
    configs = []
    for doc in _documents(text):
        body = doc["spec"]["forProvider"]["manifest"] if doc["kind"] == "Object" else doc
        if body.get("kind") == "ConfigMap" and "librechat.yaml" in body.get("data", {}):
            configs.append(body["data"]["librechat.yaml"])
    return configs


def run_schema_check(path: Path) -> dict[str, Any]:
    proc = subprocess.run(["node", str(SCHEMA_CHECK), str(path)], capture_output=True, text=True, check=False)
    assert proc.stdout, proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout.splitlines()[0])
    return report


def test_librechat_yaml_passes_the_strict_schema(rendered: tuple[Path, str], tmp_path: Path) -> None:
    """librechat.yaml passes librechat-data-provider's configSchema.strict() and no key is dropped."""
    _, text = rendered
    configs = _librechat_configs(text)
    assert len(configs) == 1
    path = tmp_path / "librechat.yaml"
    path.write_text(configs[0])
    report = run_schema_check(path)
    assert report["ok"], json.dumps(report, indent=2)
    assert yaml.safe_load(configs[0])["version"] == report["configVersion"]


def test_team_text_keeps_its_type_in_librechat(tmp_path: Path) -> None:
    """Strings that YAML 1.2 (js-yaml, LibreChat's reader) would read as numbers are quoted: a welcome message
    or model names like 1e3 and 0o17 reach LibreChat as the same strings and pass its strict schema (which
    fails on them unquoted: a number where it wants a string)."""
    spec = basic_spec()
    spec["librechat"]["interface"] = {"welcomeMessage": "1e3"}
    spec["ollama"] = {"enabled": True, "models": ["0o17", "1e3", "5", "2E-3", "llama3.2"]}
    xr = namespaced_xr(spec)
    state = full_state(xr, [secret("openai", {"api-key": "sk-test-0123456789abcdef"})])
    [text] = _librechat_configs(yaml.safe_dump_all(list(state.values())))
    path = tmp_path / "librechat.yaml"
    path.write_text(text)
    report = run_schema_check(path)
    assert report["ok"], json.dumps(report, indent=2)
    read = subprocess.run(
        ["node", "-e", "const y=require('js-yaml');console.log(JSON.stringify(y.load(require('fs')"
         ".readFileSync(process.argv[1],'utf8'))))", str(path)],
        capture_output=True, text=True, check=True, cwd=SCHEMA_CHECK.parent,
    )  # fmt: skip
    config = json.loads(read.stdout)
    assert config["interface"]["customWelcome"] == "1e3"
    [ollama] = config["endpoints"]["custom"]
    assert ollama["models"]["default"] == ["0o17", "1e3", "5", "2E-3", "llama3.2"]


def test_schema_check_catches_dropped_keys(tmp_path: Path) -> None:
    """The strict check really fails on a key LibreChat would silently drop (the renamed scraperType)."""
    path = tmp_path / "librechat.yaml"
    path.write_text(f"version: {LIBRECHAT_CONFIG_VERSION}\nwebSearch:\n  scraperType: firecrawl\n")
    report = run_schema_check(path)
    assert not report["ok"] and report["dropped"] == ["webSearch.scraperType"]


def _secret_values(example: Path, docs: list[dict[str, Any]]) -> set[str]:
    values: set[str] = set()
    for doc in docs:
        if doc["kind"] == "Secret":
            values.update(base64.b64decode(v).decode() for v in doc.get("data", {}).values())
    required = example / "required-resources.yaml"
    if required.exists():
        for doc in _documents(required.read_text()):
            values.update(base64.b64decode(v).decode() for v in doc.get("data", {}).values())
    # Short values (e.g. "true") cannot be told apart from ordinary text; every real secret here is longer.
    return {v for v in values if len(v) >= 16}


def _fragments(value: str) -> set[str]:
    """The value and the credentials embedded in it (a URI carries its password)."""
    parts = {value}
    if "://" in value and "@" in value:
        credentials = value.split("://", 1)[1].rsplit("@", 1)[0]
        parts.update(p for p in credentials.split(":") if len(p) >= 16)
    return parts


def leaks(docs: list[dict[str, Any]], secrets: set[str]) -> list[str]:
    """Places where secret material appears outside a Secret's data, plain or base64."""
    needles = {f for value in secrets for f in _fragments(value)}
    needles |= {base64.b64encode(n.encode()).decode() for n in needles}
    found = []
    for doc in docs:
        body = {k: v for k, v in doc.items() if not (doc["kind"] == "Secret" and k == "data")}
        dumped = json.dumps(body)
        found += [f"{doc['kind']} {doc['metadata'].get('name')}: {n}" for n in sorted(needles) if n in dumped]
    return found


def test_no_secret_in_plaintext(rendered: tuple[Path, str]) -> None:
    """No generated or referenced secret appears in any composed spec, plain or base64, outside Secret data."""
    example, text = rendered
    docs = _documents(text)
    secrets = _secret_values(example, docs)
    assert secrets, "the scan must have secrets to look for"
    assert not leaks(docs, secrets)


def test_scan_catches_a_leak() -> None:
    """The scan finds a password embedded in a URI inside a Release's values, and a base64 copy in an Object."""
    password = "p4ssw0rd-0123456789abcdef"
    docs = [
        {
            "kind": "Release",
            "metadata": {"name": "r"},
            "spec": {"values": {"env": {"URI": f"mongodb://u:{password}@h"}}},
        },
        {
            "kind": "Object",
            "metadata": {"name": "o"},
            "spec": {"manifest": {"data": {"k": base64.b64encode(password.encode()).decode()}}},
        },
        {
            "kind": "Secret",
            "metadata": {"name": "s"},
            "data": {"k": base64.b64encode(password.encode()).decode()},
        },
    ]
    found = leaks(docs, {f"mongodb://u:{password}@h"})
    assert sorted({f.split(":")[0] for f in found}) == ["Object o", "Release r"]
