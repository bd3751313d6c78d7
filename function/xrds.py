"""Generate the XRDs and Compositions of both API flavours from the pydantic model in spec.py.

`make generate` writes them under apis/; a test fails when the committed files differ.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml

from function import release
from function.input import FunctionInput
from function.plan import RESERVED_ENDINGS
from function.spec import UI_ADVANCED, UI_ORDER, AIWorkspaceSpec, AIWorkspaceStatus
from function.strings import KEY_MESSAGES, cel_quote

GROUP = "aiworkspace.io"
VERSION = "v1alpha1"
# Where the function's package is published (function/release.py). A Configuration that depends on it makes
# Crossplane install it under the DNS label of this repository path (xpkg.ToDNSLabel), so the Compositions
# reference that name.
FUNCTION_PACKAGE = release.FUNCTION_PACKAGE


def package_name(repository: str) -> str:
    """The name Crossplane gives a package it installs as a dependency: xpkg.ToDNSLabel of the repository path
    without its registry (crossplane-runtime pkg/xpkg/name.go), e.g. crossplane-contrib-provider-helm."""
    path = repository.split("/", 1)[1]
    out = []
    for i, char in enumerate(path[:63]):
        if char.isascii() and (char.islower() or char.isdigit()):
            out.append(char)
        if char in "./:-" and i not in (0, 62, len(path) - 1):
            out.append("-")
    return "".join(out).strip("-")


FUNCTION_NAME = package_name(FUNCTION_PACKAGE)
# The annotation the TeraSky Backstage Kubernetes ingestor (@terasky/backstage-plugin-kubernetes-ingestor) reads to
# offer an XRD in the catalog, under its default kubernetesIngestor.annotationPrefix.
INGESTOR_ADD_TO_CATALOG = "terasky.backstage.io/add-to-catalog"
SEED_SECRET = {"namespace": "crossplane-system", "name": "function-ai-workspace-seed"}
CREDENTIALS_NAME = "workspace-seed"

# Keys of pydantic's JSON schema that a structural Kubernetes schema either forbids or does not need.
_DROPPED_KEYS = {"title", "additionalProperties", "$defs"}


def _structural(node: Any, defs: dict[str, Any]) -> Any:
    """Inline $refs, collapse Optional[X] to X and drop what CRD schemas do not accept."""
    if isinstance(node, list):
        return [_structural(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    if "$ref" in node:
        target = copy.deepcopy(defs[node.pop("$ref").split("/")[-1]])
        target.update(node)  # siblings of a $ref (description, default) win
        node = target
    any_of = node.get("anyOf")
    if any_of and any(option.get("type") == "null" for option in any_of):
        options = [option for option in any_of if option.get("type") != "null"]
        node.pop("anyOf")
        if node.get("default", "") is None:
            node.pop("default")
        if len(options) == 1:
            merged = dict(options[0])
            merged.update(node)
            node = _structural(merged, defs)
            return node
        node["anyOf"] = options
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED_KEYS and not (key == "additionalProperties" and isinstance(value, dict)):
            continue
        if key == "properties":
            out[key] = {name: _structural(prop, defs) for name, prop in value.items()}
        elif key in {"items", "additionalProperties"}:
            out[key] = _structural(value, defs)
        elif key == "anyOf":
            out[key] = [_structural(option, defs) for option in value]
        else:
            out[key] = copy.deepcopy(value)
    if "enum" in out and "type" not in out:
        out["type"] = "string"
    return _keyed_map(out)


def _keyed_map(node: dict[str, Any]) -> dict[str, Any]:
    """A map whose keys have a type (pydantic's patternProperties) as a structural schema allows it: the values'
    schema as additionalProperties, and the key type's pattern and length as a CEL rule over the keys."""
    patterns = node.pop("patternProperties", None)
    names = node.pop("propertyNames", {})
    if not patterns:
        return node
    ((pattern, values),) = patterns.items()
    node["additionalProperties"] = _structural(values, {})
    limit = names.get("maxLength", 253)
    rule = {
        "rule": f"self.all(k, size(k) <= {limit} && k.matches('{cel_quote(pattern)}'))",
        "message": KEY_MESSAGES[pattern],
    }
    node.setdefault("x-kubernetes-validations", []).append(rule)
    return node


def defaulted(value: Any, schema: dict[str, Any]) -> Any:
    """`value` with the schema's nested defaults applied, as the API server defaults a stored object."""
    if isinstance(value, dict) and "properties" in schema:
        out = dict(value)
        for name, prop in schema["properties"].items():
            if name not in out and "default" in prop:
                out[name] = copy.deepcopy(prop["default"])
            if name in out:
                out[name] = defaulted(out[name], prop)
        return out
    if isinstance(value, list) and "items" in schema:
        return [defaulted(item, schema["items"]) for item in value]
    return value


def _expand_defaults(node: Any) -> None:
    """Write every `default` expanded with the defaults nested below it.

    The API server validates a `default` against the CEL rules of its own node without applying the nested
    defaults first, so a section defaulting to `{}` whose rule reads `self.enabled` makes the CRD invalid
    ("no such key: enabled") and the XRD is never Established. Expanded, a default is exactly what a stored
    object holds after defaulting, so every rule sees the keys it reads.
    """
    if isinstance(node, list):
        for item in node:
            _expand_defaults(item)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():
        _expand_defaults(value)
    if "default" in node:
        node["default"] = defaulted(node["default"], node)


def portal_hints(node: Any) -> None:
    """Mark x-ui-advanced every field of an object that has core fields (spec.core) but is not one of them.

    The hints stay in the XRD, where portals read them (the Backstage Kubernetes ingestor reads x-ui-order,
    x-ui-advanced and x-ui-hidden from the XRD's version schema); Crossplane drops them from the CRD it generates
    (it decodes the schema into apiextensions' JSONSchemaProps, which has no such fields).
    """
    if isinstance(node, list):
        for item in node:
            portal_hints(item)
        return
    if not isinstance(node, dict):
        return
    fields = node.get("properties", {})
    if any(UI_ORDER in field for field in fields.values()):
        for field in fields.values():
            if UI_ORDER not in field:
                field[UI_ADVANCED] = True
    for value in node.values():
        portal_hints(value)


def openapi_schema(model: type[AIWorkspaceSpec] | type[AIWorkspaceStatus]) -> dict[str, Any]:
    """The structural OpenAPI v3 schema of a model, as a CRD version expects it, with the portal's hints."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    schema: dict[str, Any] = _structural(raw, raw.get("$defs", {}))
    _expand_defaults(schema)
    portal_hints(schema)
    return schema


def name_rule() -> dict[str, str]:
    """The workspace's name may not end in a part's prefix (plan.RESERVED_ENDINGS): checked at admission on the
    XR and the claim (Crossplane copies root rules into both CRDs), as the function checks it."""
    endings = "|".join(RESERVED_ENDINGS)
    return {
        "rule": f"!self.metadata.name.matches('-({endings})$')",
        "message": f"metadata.name must not end in -{', -'.join(RESERVED_ENDINGS)}: its parts would be named like "
        "those of another workspace of the namespace (chat-firecrawl's redis is chat's firecrawl-redis)",
    }


def _version_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "An AIWorkspace: LibreChat wired to web search, speech, model providers and datastores.",
        "x-kubernetes-validations": [name_rule()],
        "properties": {
            "spec": openapi_schema(AIWorkspaceSpec),
            "status": openapi_schema(AIWorkspaceStatus),
        },
        "required": ["spec"],
    }


def _printer_columns() -> list[dict[str, Any]]:
    return [
        {"name": "URL", "type": "string", "jsonPath": ".status.chatUrl"},
        {"name": "COMPONENTS", "type": "string", "jsonPath": ".status.readyComponents"},
    ]


def _version() -> dict[str, Any]:
    return {
        "name": VERSION,
        "served": True,
        "referenceable": True,
        "schema": {"openAPIV3Schema": _version_schema()},
        "additionalPrinterColumns": _printer_columns(),
    }


def _catalog_metadata(name: str, flavour: str) -> dict[str, Any]:
    """What a catalog or portal shows for the API: what it offers, who maintains it, where it comes from."""
    return {
        "name": name,
        "labels": {"aiworkspace.io/flavour": flavour},
        "annotations": {
            "meta.crossplane.io/description": "A self-hosted AI workspace: LibreChat wired to web search, speech, "
            "model providers, a database and object storage, with every URL and secret connected.",
            "meta.crossplane.io/maintainer": release.MAINTAINER,
            "meta.crossplane.io/source": release.SOURCE,
            # The Backstage Kubernetes ingestor turns the XRDs it is told to into Software Templates: with its
            # default kubernetesIngestor.crossplane.xrds.ingestAllXRDs: false, those carrying this annotation.
            INGESTOR_ADD_TO_CATALOG: "true",
        },
    }


def xrd_claims() -> dict[str, Any]:
    """Claims flavour: a LegacyCluster CompositeAIWorkspace that teams claim as AIWorkspace."""
    return {
        "apiVersion": "apiextensions.crossplane.io/v1",
        "kind": "CompositeResourceDefinition",
        "metadata": _catalog_metadata(f"compositeaiworkspaces.{GROUP}", "claims"),
        "spec": {
            "scope": "LegacyCluster",
            "group": GROUP,
            "names": {
                "kind": "CompositeAIWorkspace",
                "plural": "compositeaiworkspaces",
                "categories": ["crossplane", "composite", "aiworkspace"],
            },
            "claimNames": {
                "kind": "AIWorkspace",
                "plural": "aiworkspaces",
                "categories": ["claim", "aiworkspace"],
            },
            "defaultCompositionRef": {"name": "aiworkspace-claims"},
            # Teams may not pick another Composition (one with a looser input, or none of this function).
            "enforcedCompositionRef": {"name": "aiworkspace-claims"},
            "versions": [_version()],
        },
    }


def xrd_namespaced() -> dict[str, Any]:
    """Namespaced flavour (Crossplane v2 native): teams create an AIWorkspace XR in their namespace."""
    return {
        "apiVersion": "apiextensions.crossplane.io/v2",
        "kind": "CompositeResourceDefinition",
        "metadata": _catalog_metadata(f"aiworkspaces.{GROUP}", "namespaced"),
        "spec": {
            "scope": "Namespaced",
            "group": GROUP,
            "names": {
                "kind": "AIWorkspace",
                "plural": "aiworkspaces",
                "categories": ["crossplane", "composite", "aiworkspace"],
            },
            "defaultCompositionRef": {"name": "aiworkspace-namespaced"},
            "enforcedCompositionRef": {"name": "aiworkspace-namespaced"},
            "versions": [_version()],
        },
    }


def composition(name: str, kind: str) -> dict[str, Any]:
    """A pipeline Composition that runs this function, with the platform's seed Secret as credentials."""
    return {
        "apiVersion": "apiextensions.crossplane.io/v1",
        "kind": "Composition",
        "metadata": {"name": name, "labels": {"aiworkspace.io/flavour": name.removeprefix("aiworkspace-")}},
        "spec": {
            "compositeTypeRef": {"apiVersion": f"{GROUP}/{VERSION}", "kind": kind},
            "mode": "Pipeline",
            "pipeline": [
                {
                    "step": "compose-workspace",
                    "functionRef": {"name": FUNCTION_NAME},
                    "input": {
                        "apiVersion": "aiworkspace.fn.crossplane.io/v1alpha1",
                        "kind": "Input",
                        "helmProviderConfigName": "default",
                        "kubernetesProviderConfigName": "default",
                    },
                    "credentials": [
                        {"name": CREDENTIALS_NAME, "source": "Secret", "secretRef": dict(SEED_SECRET)},
                    ],
                }
            ],
        },
    }


def input_crd() -> dict[str, Any]:
    """The CRD of the function's input, shipped in the package (from function/input.py)."""
    raw = FunctionInput.model_json_schema(by_alias=True)
    schema = _structural(raw, raw.get("$defs", {}))
    schema["properties"] = {
        "apiVersion": {"type": "string", "description": "aiworkspace.fn.crossplane.io/v1alpha1"},
        "kind": {"type": "string", "description": "Input"},
        "metadata": {"type": "object"},
        **schema["properties"],
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "inputs.aiworkspace.fn.crossplane.io"},
        "spec": {
            "group": "aiworkspace.fn.crossplane.io",
            "names": {"kind": "Input", "listKind": "InputList", "plural": "inputs", "singular": "input"},
            "scope": "Namespaced",
            "versions": [{"name": "v1alpha1", "served": True, "storage": True, "schema": {"openAPIV3Schema": schema}}],
        },
    }


def generated_files() -> dict[str, dict[str, Any]]:
    """Every generated file, keyed by its path under the repository root."""
    return {
        "package/input/aiworkspace.fn.crossplane.io_inputs.yaml": input_crd(),
        "apis/claims/definition.yaml": xrd_claims(),
        "apis/claims/composition.yaml": composition("aiworkspace-claims", "CompositeAIWorkspace"),
        "apis/namespaced/definition.yaml": xrd_namespaced(),
        "apis/namespaced/composition.yaml": composition("aiworkspace-namespaced", "AIWorkspace"),
    }


def dump(document: dict[str, Any]) -> str:
    """YAML as committed: key order as built, long strings unwrapped."""
    return yaml.safe_dump(document, sort_keys=False, width=1_000_000, allow_unicode=True)


REFERENCE_BEGIN = "<!-- spec-reference:begin (generated by `make generate`) -->"
REFERENCE_END = "<!-- spec-reference:end -->"


def _type_of(node: dict[str, Any]) -> str:
    if node.get("x-kubernetes-int-or-string"):
        return "quantity"
    kind = str(node.get("type", "object"))
    if kind == "array":
        return f"[]{_type_of(node.get('items', {}))}"
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return "map[string]string"
    if "enum" in node:
        return " \\| ".join(f"`{value}`" for value in node["enum"])
    return kind


def spec_reference() -> str:
    """A Markdown table of every spec field: path, type, default, description (README's reference)."""
    rows = ["| Field | Type | Default | Description |", "|---|---|---|---|"]

    def walk(node: dict[str, Any], path: str) -> None:
        for name, prop in node.get("properties", {}).items():
            child = f"{path}.{name}"
            default = prop.get("default")
            shown = "" if default in (None, {}) else f"`{json.dumps(default)}`"
            description = " ".join(str(prop.get("description", "")).split()).replace("|", "\\|")
            rows.append(f"| `{child}` | {_type_of(prop)} | {shown} | {description} |")
            walk(prop, child)
            if "items" in prop:
                walk(prop["items"], f"{child}[]")

    walk(openapi_schema(AIWorkspaceSpec), "spec")
    return "\n".join(rows)


def with_reference(readme: str) -> str:
    """README text with its generated spec reference replaced by the current one."""
    head, _, rest = readme.partition(REFERENCE_BEGIN)
    _, _, tail = rest.partition(REFERENCE_END)
    return f"{head}{REFERENCE_BEGIN}\n{spec_reference()}\n{REFERENCE_END}{tail}"
