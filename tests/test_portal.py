"""The portal entry: the XRDs' hints for an ingesting portal, and the Backstage Software Template (portal/).

Both are generated from function/spec.py's core marks. The template is checked against the Template kind's
published JSON Schema (@backstage/plugin-scaffolder-common, pinned in hack/backstage-template/package-lock.json)
and by the catalog's own validator of the kind; its form is run as the scaffolder runs it (react-jsonschema-form's
default form state and validation, page by page) and its manifest rendered by the scaffolder's template engine
(nunjitsu): what it writes for the team's answers is admitted by both XRDs and accepted by the function.
"""

from __future__ import annotations

import copy
import functools
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing
import xp
import yaml
from generate import HEADER

from function import portal
from function.plan import check_name
from function.spec import UI_ADVANCED, UI_ORDER, parse_spec
from function.xrds import INGESTOR_ADD_TO_CATALOG, dump, generated_files
from tests.helpers import claims_xr, namespaced_xr

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "hack" / "backstage-template" / "check.js"
DEFINITIONS = ("apis/claims/definition.yaml", "apis/namespaced/definition.yaml")
REPO = "github.com?owner=acme&repo=gitops"
AWS_NET = {"region": "eu-west-1", "subnetGroupName": "private", "securityGroupIds": ["sg-0a1b2c3d4e5f60001"]}
# What a team types when it only answers what the form requires.
MINIMAL = {"namespace": "team-a", "spec": {"librechat": {"domain": "chat.team-a.example.com"}}, "repoUrl": REPO}


def _spec_schema(definition: str) -> dict[str, Any]:
    xrd = generated_files()[definition]
    schema: dict[str, Any] = xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    return schema


def _objects(node: dict[str, Any], path: str = "spec") -> list[tuple[str, dict[str, Any]]]:
    out = [(path, node)] if "properties" in node else []
    for name, field in node.get("properties", {}).items():
        out += _objects(field, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        out += _objects(node["items"], f"{path}[]")
    return out


def _core_leaves(node: dict[str, Any], path: str = "spec") -> list[str]:
    """The fields a portal shows before its advanced switch: the core fields, through core objects only."""
    out = []
    for name, field in node.get("properties", {}).items():
        if UI_ORDER in field:
            inner = _core_leaves(field, f"{path}.{name}") if portal._is_split(field) else []
            out += inner or [f"{path}.{name}"]
    return out


def test_portal_files_are_generated() -> None:
    """portal/ is exactly what `make generate` writes from function/spec.py."""
    for relative, document in portal.generated_files().items():
        assert (ROOT / relative).read_text() == HEADER + dump(document), f"{relative} is stale: run `make generate`"
    for relative, text in portal.generated_texts().items():
        assert (ROOT / relative).read_text() == text, f"{relative} is stale: run `make generate`"


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_xrd_is_offered_to_the_ingestor(definition: str) -> None:
    """The ingestor (default ingestAllXRDs: false) turns only XRDs annotated add-to-catalog into templates."""
    assert generated_files()[definition]["metadata"]["annotations"][INGESTOR_ADD_TO_CATALOG] == "true"


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_core_fields_first_the_rest_advanced(definition: str) -> None:
    """In every object with core fields, those are numbered 1..n in the order a portal shows them, every other
    field is advanced, and no field the object requires is hidden behind the advanced switch."""
    marked = 0
    for path, node in _objects(_spec_schema(definition)):
        fields = node["properties"]
        orders = sorted(field[UI_ORDER] for field in fields.values() if UI_ORDER in field)
        if not orders:
            assert not any(UI_ADVANCED in field for field in fields.values()), path
            continue
        marked += 1
        assert orders == list(range(1, len(orders) + 1)), f"{path}: x-ui-order {orders}"
        for name, field in fields.items():
            assert (UI_ORDER in field) != bool(field.get(UI_ADVANCED)), f"{path}.{name} is neither or both"
        hidden = [name for name in node.get("required", []) if UI_ORDER not in fields[name]]
        assert not hidden, f"{path}: required but advanced: {hidden}"
    assert marked >= 5


def test_a_portal_shows_few_core_fields() -> None:
    """The first screen holds a few fields: the chat's domain and the switches and keys of the main services."""
    leaves = _core_leaves(_spec_schema("apis/namespaced/definition.yaml"))
    assert leaves[0] == "spec.librechat.domain"
    assert "spec.openai.enabled" in leaves and "spec.openai.apiKeySecretRef" in leaves
    assert len(leaves) <= 12, leaves
    top = _spec_schema("apis/namespaced/definition.yaml")["properties"]
    assert sum(UI_ORDER in field for field in top.values()) <= len(top) // 3


@functools.cache
def _scaffolder_schemas() -> list[dict[str, Any]]:
    proc = subprocess.run(["node", str(CHECK), "schema"], capture_output=True, text=True, check=True)
    schemas: list[dict[str, Any]] = json.loads(proc.stdout)
    return schemas


def _schema_errors(template: dict[str, Any]) -> list[str]:
    """The template against the Template kind's published JSON Schema (draft-07), its $refs resolved by $id."""
    root, *catalog = _scaffolder_schemas()
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(
        (schema["$id"], referencing.Resource.from_contents(schema, referencing.jsonschema.DRAFT7))
        for schema in [root, *catalog]
    )
    validator = jsonschema.Draft7Validator(root, registry=registry)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(template)]


def test_template_matches_the_scaffolder_schema() -> None:
    """portal/template.yaml is a valid scaffolder.backstage.io/v1beta3 Template by the published JSON Schema, and
    each parameter page is a valid JSON Schema (draft-07) for the form."""
    template = yaml.safe_load((ROOT / portal.TEMPLATE_PATH).read_text())
    assert _scaffolder_schemas()[0]["$id"] == "TemplateV1beta3"
    assert not _schema_errors(template)
    for page in template["spec"]["parameters"]:
        jsonschema.Draft7Validator.check_schema(page)


def test_schema_check_catches_a_broken_template() -> None:
    """The check itself fails on a template whose step names no action and whose kind is misspelt."""
    template = yaml.safe_load((ROOT / portal.TEMPLATE_PATH).read_text())
    broken = copy.deepcopy(template)
    del broken["spec"]["steps"][0]["action"]
    broken["kind"] = "Templates"
    errors = _schema_errors(broken)
    assert any("'action' is a required property" in e for e in errors), errors
    assert any(e.startswith("kind: 'Templates' is not one of") for e in errors), errors


def run_template(answers: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """The template run by the Backstage packages (check.js): catalog validation, form, and the files written."""
    template_json, answers_json = tmp_path / "template.json", tmp_path / "answers.json"
    template_json.write_text(json.dumps(yaml.safe_load((ROOT / portal.TEMPLATE_PATH).read_text())))
    answers_json.write_text(json.dumps(answers))
    proc = subprocess.run(
        ["node", str(CHECK), "run", str(template_json), str(ROOT / "portal"), str(answers_json)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def written(report: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """The one manifest the template writes, where it says it writes it."""
    path = f"aiworkspaces/{answers['namespace']}/{answers.get('name', 'chat')}.yaml"
    assert list(report["files"]) == [path]
    manifest: dict[str, Any] = yaml.safe_load(report["files"][path])
    return manifest


def admission_problems(manifest: dict[str, Any], tools: xp.Tools) -> list[dict[str, Any]]:
    """The manifest as written (an AIWorkspace of either flavour) and its spec as the claims flavour's composite,
    through `crossplane resource validate` against both XRDs (schema and CEL rules)."""
    spec = manifest["spec"]
    docs = [manifest, namespaced_xr(spec, name="portal-xr"), claims_xr(spec)]
    report = xp.validate(yaml.safe_dump_all(docs), tool=tools)
    assert report["summary"]["total"] == len(docs), report  # type: ignore[index]
    return [r for r in report["resources"] if r["status"] != "valid"]  # type: ignore[union-attr]


@dataclass(frozen=True)
class Answers:
    reason: str
    answers: dict[str, Any]
    expected_spec: dict[str, Any]  # what must be in the written spec (and nothing else, when exact)
    exact: bool = False


CASES = [
    Answers(
        "With only the required answers, the form's defaults write the core sections' switches and the domain, and "
        "nothing of the advanced page, so every other field keeps the API's default.",
        MINIMAL,
        {
            "librechat": {"domain": "chat.team-a.example.com"},
            "openai": {"enabled": False},
            "anthropic": {"enabled": False},
            "searxng": {"enabled": False},
            "speaches": {"enabled": False},
        },
        exact=True,
    ),
    Answers(
        "Fields set on both pages are joined back into one spec (OpenAI with its key on the first page; ingress, a "
        "Secret-backed MCP header and a cloud database on the second), a team's text written as data: YAML and "
        "template syntax in it stay characters of the string.",
        {
            "name": "research",
            "namespace": "team-b",
            "spec": {
                "librechat": {"domain": "ai.team-b.example.com"},
                "openai": {"enabled": True, "apiKeySecretRef": {"name": "openai", "key": "api-key"}},
                "searxng": {"enabled": True},
            },
            "advanced": {
                "librechat": {
                    "replicas": 1,
                    "ingress": {"className": "nginx", "tls": {"clusterIssuer": "letsencrypt"}},
                    "interface": {"welcomeMessage": 'Hi {{user.name}}: "team" # not a comment, {% raw %} [x]'},
                    "mcpServers": [
                        {
                            "name": "docs",
                            "url": "https://mcp.example.com/sse",
                            "headers": [{"name": "Authorization", "secretRef": {"name": "mcp", "key": "token"}}],
                        }
                    ],
                },
                "searxng": {"engines": ["google", "wikipedia"]},
                "database": {"provider": "aws", "aws": AWS_NET},
                "dataDeletionPolicy": "Delete",
            },
            "repoUrl": REPO,
        },
        {
            "librechat": {
                "domain": "ai.team-b.example.com",
                "replicas": 1,
                "ingress": {"className": "nginx", "tls": {"clusterIssuer": "letsencrypt"}},
                "interface": {"welcomeMessage": 'Hi {{user.name}}: "team" # not a comment, {% raw %} [x]'},
                "mcpServers": [
                    {
                        "name": "docs",
                        "url": "https://mcp.example.com/sse",
                        "headers": [{"name": "Authorization", "secretRef": {"name": "mcp", "key": "token"}}],
                    }
                ],
            },
            "openai": {"enabled": True, "apiKeySecretRef": {"name": "openai", "key": "api-key"}},
            "searxng": {"enabled": True, "engines": ["google", "wikipedia"]},
            "database": {"provider": "aws", "aws": AWS_NET},
            "dataDeletionPolicy": "Delete",
        },
    ),
]


def _contains(big: Any, small: Any) -> bool:
    if isinstance(small, dict):
        return isinstance(big, dict) and all(k in big and _contains(big[k], v) for k, v in small.items())
    return bool(big == small)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.reason)
def test_template_writes_an_admitted_workspace(case: Answers, tmp_path: Path, tools: xp.Tools) -> None:
    report = run_template(case.answers, tmp_path)
    assert report["valid"] and report["validationError"] is None, report["validationError"]
    assert all(not page["errors"] for page in report["pages"]), f"{case.reason}\n{report['pages']}"
    manifest = written(report, case.answers)
    assert (manifest["apiVersion"], manifest["kind"]) == ("aiworkspace.io/v1alpha1", "AIWorkspace")
    assert manifest["metadata"] == {"name": case.answers.get("name", "chat"), "namespace": case.answers["namespace"]}
    spec = manifest["spec"]
    if case.exact:
        assert spec == case.expected_spec, f"{case.reason}\n-want: {case.expected_spec}\n+got: {spec}"
    else:
        assert _contains(spec, case.expected_spec), f"{case.reason}\n-want: {case.expected_spec}\n+got: {spec}"
    assert not admission_problems(manifest, tools), case.reason
    parse_spec(spec)  # the function accepts what admission stored
    check_name(manifest["metadata"]["name"])


def test_the_form_refuses_what_admission_refuses(tmp_path: Path) -> None:
    """The first page checks what it asks: a name ending in a part's prefix and a domain that is no hostname."""
    answers = {**MINIMAL, "name": "chat-firecrawl", "spec": {"librechat": {"domain": "not a host"}}}
    report = run_template(answers, tmp_path)
    errors = " ".join(report["pages"][0]["errors"])
    assert "'Name' must match pattern" in errors and "'Domain' must match pattern" in errors, errors
