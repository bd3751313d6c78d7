"""The portal entry: a Backstage Software Template that writes an AIWorkspace, generated from the XRD's schema.

The form follows the core marks of function/spec.py (spec.core): its first page asks for the workspace's name and
namespace and the core fields, in their order; its second page holds every other field, as the XRD's
x-ui-advanced hints say, with no defaults of its own, so a field left empty keeps the API's default. The
scaffolder's `fetch:template:file` action writes the manifest from portal/skeleton/aiworkspace.yaml, which joins
the two pages back into one spec; `publish:github:pull-request` proposes it to the team's GitOps repository.

A team's values reach the manifest only through the template engine's `dump` filter (JSON.stringify): the spec is
one JSON value on one line, valid YAML whatever a field holds.
"""

from __future__ import annotations

import re
from typing import Any

from function.plan import RESERVED_ENDINGS
from function.spec import UI_ADVANCED, UI_ORDER, AIWorkspaceSpec
from function.xrds import GROUP, VERSION, openapi_schema

TEMPLATE_NAME = "aiworkspace"
TEMPLATE_PATH = "portal/template.yaml"
SKELETON_PATH = "portal/skeleton/aiworkspace.yaml"
SKELETON_URL = "./skeleton/aiworkspace.yaml"
# Where the manifest lands in the team's repository, and the steps that write it.
MANIFEST_PATH = "aiworkspaces/${{ parameters.namespace }}/${{ parameters.name }}.yaml"
MANIFEST_STEP = "manifest"
PULL_REQUEST_STEP = "pull-request"
# The parameters holding the spec: the first page's core fields and the second page's advanced ones.
CORE = "spec"
ADVANCED = "advanced"

# JSON Schema keywords a structural schema uses that mean the same in the scaffolder's form (react-jsonschema-form).
_VALUE_KEYWORDS: tuple[str, ...] = ("type", "description", "enum", "pattern", "minLength", "maxLength")
_VALUE_KEYWORDS += ("minimum", "maximum", "maxItems", "maxProperties")
# Keywords about which fields are present. The form fills in every list and map it shows, and every object it
# must (react-jsonschema-form's default form state: `[]`, `{}`, a required object with its own required fields)
# and checks the page against them: a list or map left empty is left out of the manifest (PRUNED_MACRO), so its
# bounds are left to admission, and so is every field's presence on the advanced page, where all may stay empty.
_CORE_PRESENCE_KEYWORDS = ("required",)
# Form labels that splitting a field name cannot spell.
_TITLES = {
    "openai": "OpenAI",
    "azureOpenAI": "Azure OpenAI",
    "anthropic": "Anthropic",
    "librechat": "LibreChat",
    "searxng": "SearXNG",
    "elevenLabs": "ElevenLabs",
    "vllm": "vLLM",
    "mongodb": "MongoDB",
}
_WORDS = {"api": "API", "url": "URL", "mcp": "MCP", "rag": "RAG", "gpu": "GPU", "tls": "TLS", "stt": "STT"}
_WORDS |= {"tts": "TTS", "cpu": "CPU", "hf": "HF", "id": "ID", "ids": "IDs", "az": "AZ", "s3": "S3", "ms": "ms"}
# A DNS label, as the names of the workspace's objects need, that does not end in a part's prefix (xrds.name_rule).
NAME_PATTERN = rf"^(?!.*-({'|'.join(RESERVED_ENDINGS)})$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
NAMESPACE_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


def _title(key: str) -> str:
    """A form label from a field name: apiKeySecretRef -> API key secret ref."""
    if key in _TITLES:
        return _TITLES[key]
    words = [_WORDS.get(w.lower(), w.lower()) for w in re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).split()]
    return words[0][:1].upper() + " ".join(words)[1:]


def _is_core(field: dict[str, Any]) -> bool:
    return UI_ORDER in field


def _is_split(node: dict[str, Any]) -> bool:
    """Whether an object has core fields, so that its fields go to the two pages by their marks."""
    return any(_is_core(field) for field in node.get("properties", {}).values())


def _default(node: dict[str, Any], *, core: bool) -> dict[str, Any]:
    """How the form shows the API's default of a value. A core switch or choice starts at it; any other value
    stays empty, so the API's default applies (and follows the API when it changes), with the default as the
    placeholder. A switch of the advanced page is a choice of yes, no or empty (the API's default)."""
    if node.get("type") == "boolean" and not core:
        select = {"ui:widget": "select"}
        return select | ({"ui:placeholder": f"default: {str(node['default']).lower()}"} if "default" in node else {})
    if "default" not in node or node.get("type") == "object":
        return {}
    if node.get("type") == "array":
        shown = ", ".join(str(item) for item in node["default"]) or "none"
        return {"description": f"{node.get('description', '')} Left empty: {shown}.".strip()}
    if core and (node.get("type") == "boolean" or "enum" in node):
        return {"default": node["default"]}
    return {"ui:placeholder": str(node["default"])}


def form_schema(node: dict[str, Any], key: str, *, core: bool) -> dict[str, Any]:
    """A field of the XRD's schema as the scaffolder's form shows it: titled, its core fields first (ui:order), a
    Kubernetes quantity as a string, defaults as _default says, CEL rules left to admission, and on the advanced
    page (not core) no constraint on which fields are present."""
    out: dict[str, Any] = {"title": _title(key)}
    for keyword in _VALUE_KEYWORDS + (_CORE_PRESENCE_KEYWORDS if core else ()):
        if keyword in node:
            out[keyword] = node[keyword]
    if node.get("x-kubernetes-int-or-string"):
        out["type"] = "string"
    if "properties" in node:
        fields = node["properties"]
        out["properties"] = {name: form_schema(field, name, core=core) for name, field in fields.items()}
        ordered = sorted((f for f in fields if _is_core(fields[f])), key=lambda f: fields[f][UI_ORDER])
        if ordered:
            out["ui:order"] = [*ordered, "*"]
    for keyword in ("items", "additionalProperties"):
        if isinstance(node.get(keyword), dict):
            out[keyword] = form_schema(node[keyword], key, core=core)
            out[keyword].pop("title")
    return out | _default(node, core=core)


def core_form(node: dict[str, Any], key: str) -> dict[str, Any]:
    """The first page's part of a split object: its core fields, themselves split where they have core fields."""
    fields = {name: field for name, field in node["properties"].items() if _is_core(field)}
    out = form_schema({**node, "properties": fields}, key, core=True)
    out["required"] = [name for name in node.get("required", []) if name in fields]
    for name, field in fields.items():
        if _is_split(field):
            out["properties"][name] = core_form(field, name)
    if not out["required"]:
        out.pop("required")
    return out


def advanced_form(node: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The second page's part of a split object: its advanced fields whole, and the advanced part of each split
    core field; None when it has nothing advanced."""
    fields: dict[str, Any] = {}
    for name, field in node["properties"].items():
        if field.get(UI_ADVANCED):
            fields[name] = form_schema(field, name, core=False)
        elif _is_split(field) and (part := advanced_form(field, name)) is not None:
            fields[name] = part
    if not fields:
        return None
    out: dict[str, Any] = {"title": _title(key), "type": "object", "properties": fields}
    if node.get("description"):
        out["description"] = node["description"]
    return out


def spec_expression(node: dict[str, Any], path: tuple[str, ...] = ()) -> str:
    """The template engine's expression of the spec: a split object as a dict literal of its fields, each read from
    the page that asks for it (spaced, so that no two braces close the engine's `}}`)."""
    members = []
    for name, field in node["properties"].items():
        if _is_core(field) and _is_split(field):
            value = spec_expression(field, (*path, name))
        else:
            value = ".".join(("values", CORE if _is_core(field) else ADVANCED, *path, name))
        members.append(f'"{name}": {value}')
    return "{ " + ", ".join(members) + " }"


# The skeleton's macro: a value as JSON, without what the form filled in but nobody set (an undefined or empty
# value, an object or list left empty once pruned), so that the API's defaults apply to it.
PRUNED_MACRO = """\
{%- macro pruned(value) -%}
{%- if value is undefined or value is none -%}
{%- elif value is mapping -%}
{%- set comma = joiner(",") -%}
{%- set members -%}
{%- for key, item in value -%}
{%- set member = pruned(item) -%}
{%- if member != "" -%}${{ comma() }}${{ key | dump }}:${{ member }}{%- endif -%}
{%- endfor -%}
{%- endset -%}
{%- if members != "" -%}{${{ members }}}{%- endif -%}
{%- elif value is string -%}
{%- if value != "" -%}${{ value | dump }}{%- endif -%}
{%- elif value is sameas(true) or value is sameas(false) or value is number -%}
${{ value | dump }}
{%- else -%}
{%- set comma = joiner(",") -%}
{%- set items -%}
{%- for item in value -%}
{%- set kept = pruned(item) -%}
{%- if kept != "" -%}${{ comma() }}${{ kept }}{%- endif -%}
{%- endfor -%}
{%- endset -%}
{%- if items != "" -%}[${{ items }}]{%- endif -%}
{%- endif -%}
{%- endmacro -%}
"""


def _spec_schema() -> dict[str, Any]:
    return openapi_schema(AIWorkspaceSpec)


def skeleton() -> str:
    """The file `fetch:template:file` renders into the team's repository (nunjitsu, the scaffolder's engine)."""
    return (
        "{# Generated by `make generate` from function/spec.py (function/portal.py). Do not edit. -#}\n"
        + PRUNED_MACRO
        + f"# An AIWorkspace requested through the portal (Backstage Software Template {TEMPLATE_NAME}).\n"
        f"apiVersion: {GROUP}/{VERSION}\n"
        "kind: AIWorkspace\n"
        "metadata:\n"
        "  name: ${{ values.name | dump }}\n"
        "  namespace: ${{ values.namespace | dump }}\n"
        f"spec: ${{{{ pruned({spec_expression(_spec_schema())}) }}}}\n"
    )


def _workspace_page(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": "Workspace",
        "description": "The workspace's name and namespace, and the fields most teams set.",
        "required": ["name", "namespace", CORE],
        "properties": {
            "name": {
                "title": "Name",
                "description": "Name of the workspace, a DNS label; it must not end in "
                + ", ".join(f"-{ending}" for ending in RESERVED_ENDINGS)
                + ".",
                "type": "string",
                "pattern": NAME_PATTERN,
                "maxLength": 63,
                "default": "chat",
            },
            "namespace": {
                "title": "Namespace",
                "description": "The team's namespace, where the workspace and its Secrets live.",
                "type": "string",
                "pattern": NAMESPACE_PATTERN,
                "maxLength": 63,
            },
            CORE: {**core_form(spec, CORE), "title": "Workspace", "description": spec.get("description", "")},
        },
        "ui:order": ["name", "namespace", CORE],
    }


def _advanced_page(spec: dict[str, Any]) -> dict[str, Any]:
    advanced = advanced_form(spec, ADVANCED)
    assert advanced is not None
    return {
        "title": "Advanced settings",
        "description": "Optional: a field left empty keeps the default of the AIWorkspace API. Which fields "
        "a setting needs, and how they combine, is checked when the workspace is applied (the XRD's rules).",
        "properties": {ADVANCED: {**advanced, "title": "Advanced settings"}},
    }


def _repository_page() -> dict[str, Any]:
    return {
        "title": "Repository",
        "description": "The GitOps repository the workspace is proposed to, as a pull request.",
        "required": ["repoUrl"],
        "properties": {
            "repoUrl": {
                "title": "Repository",
                "type": "string",
                "ui:field": "RepoUrlPicker",
                "ui:options": {"allowedHosts": ["github.com"]},
            },
        },
    }


def template() -> dict[str, Any]:
    """The Backstage Software Template (scaffolder.backstage.io/v1beta3) of an AIWorkspace."""
    spec = _spec_schema()
    return {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {
            "name": TEMPLATE_NAME,
            "title": "AI workspace",
            "description": "LibreChat for a team, wired to web search, speech, model providers, a database and "
            f"object storage: an AIWorkspace ({GROUP}/{VERSION}) proposed to the team's GitOps repository.",
            "tags": ["crossplane", "ai", "librechat"],
        },
        "spec": {
            "type": "resource",
            "parameters": [_workspace_page(spec), _advanced_page(spec), _repository_page()],
            "steps": [
                {
                    "id": MANIFEST_STEP,
                    "name": "Write the AIWorkspace",
                    "action": "fetch:template:file",
                    "input": {
                        "url": SKELETON_URL,
                        "targetPath": MANIFEST_PATH,
                        "values": {
                            "name": "${{ parameters.name }}",
                            "namespace": "${{ parameters.namespace }}",
                            CORE: f"${{{{ parameters.{CORE} }}}}",
                            ADVANCED: f"${{{{ parameters.{ADVANCED} }}}}",
                        },
                    },
                },
                {
                    "id": PULL_REQUEST_STEP,
                    "name": "Propose it",
                    "action": "publish:github:pull-request",
                    "input": {
                        "repoUrl": "${{ parameters.repoUrl }}",
                        "branchName": "aiworkspace-${{ parameters.namespace }}-${{ parameters.name }}",
                        "title": "AIWorkspace ${{ parameters.namespace }}/${{ parameters.name }}",
                        "description": "An AI workspace requested through the portal: " + MANIFEST_PATH + ".",
                    },
                },
            ],
            "output": {
                "links": [
                    {"title": "Pull request", "url": f"${{{{ steps['{PULL_REQUEST_STEP}'].output.remoteUrl }}}}"},
                ]
            },
        },
    }


def generated_files() -> dict[str, dict[str, Any]]:
    """The generated YAML documents of the portal entry, keyed by their path under the repository root."""
    return {TEMPLATE_PATH: template()}


def generated_texts() -> dict[str, str]:
    """The generated files that are not YAML documents (the skeleton is a template of one)."""
    return {SKELETON_PATH: skeleton()}
