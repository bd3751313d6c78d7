"""The taint test: a hostile canary in every string field the schema allows, composed, and every place it lands
checked to be inert data.

For each string field (and each map key), the canary is the field's value with a marker and as many of the
hostile pieces as its type admits (a newline, '---', quotes, '{{', '${', '$(', a backtick, ';', '%', non-ASCII):
free text takes most of them, a DNS name only the marker. The workspace is composed (converged, as a control
plane would) under a tenancy that allows everything, so that only the sinks decide; then every string of the
response holding the marker is classified by where it is:

- a Secret's data, a cloud resource's parameters, a Kubernetes object's fields: data;
- librechat.yaml and SearXNG's settings.yml: data when the canary is a whole string of the parsed YAML and holds
  no LibreChat placeholder;
- a container's command, args and env: data unless it is a shell's or interpreter's program text, an argv value
  read as an option, or a $(...) the kubelet would expand;
- the LibreChat Release's values: rendered with the pinned chart by `helm template` (provider-helm's Helm
  library); data when the output has exactly the objects and fields of the same workspace without the canary,
  the canary only inside strings, and never in an nginx annotation as configuration.

Anything else, or any of the above that is not data, fails the test naming the field and the place.
"""

from __future__ import annotations

import base64
import copy
import re
from pathlib import Path
from typing import Any

import pytest
import xp
import yaml
from crossplane.function import resource

from function.spec import SpecError, parse_spec
from tests.helpers import (
    ANYWHERE,
    _secret_refs,
    example_observed,
    fatal,
    open_input,
    request,
    required_for,
    run,
    secret,
    yaml_docs,
)
from tests.test_sinks import STRINGS, _samples, maps

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
MARKER = "zqxj"
PIECES = ["\n---\n", '"', "'", "{{", "${", "$(", "`", ";", "%", "ä", " ", "\n"]
# Everything allowed, so that the canary meets the sinks rather than the platform's tenancy.
OPEN = open_input(MARKER)
# Bases in the order they are tried: the examples reaching most fields first.
BASES = [
    "plan-mixed-namespaced",
    "librechat-options-namespaced",
    "gpu-models-namespaced",
    "operations-namespaced",
    "plan-external-namespaced",
    "aws-namespaced",
    "gcp-namespaced",
    "azure-namespaced",
    "basic-namespaced",
]
# Fields no example sets, reached by adding what they need to a base.
REACH: list[tuple[str, dict[str, Any]]] = [
    (
        "aws-namespaced",
        {
            "objectStorage": {
                "aws": {
                    "roleArn": "arn:aws:iam::123456789012:role/team-a-librechat",
                    "serviceAccountAnnotations": {"eks.amazonaws.com/sts-regional-endpoints": "true"},
                }
            },
            "database": {"providerConfigRef": {"name": "default"}},
        },
    ),
    (
        "aws-namespaced",
        {
            "database": {
                "aws": {
                    "subnetIds": None,
                    "vpcId": None,
                    "subnetSelector": {"matchLabels": {"tier": "private"}},
                    "vpcSelector": {"matchLabels": {"net": "main"}},
                }
            }
        },
    ),
    (
        "aws-namespaced",
        {
            "database": {
                "aws": {
                    "subnetIds": None,
                    "subnetGroupName": "private",
                    "vpcId": None,
                    "allowedCidrs": None,
                    "securityGroupIds": ["sg-0a1b2c3d4e5f60001"],
                }
            }
        },
    ),
    ("gcp-namespaced", {"objectStorage": {"gcp": {"project": "team-a-prod"}}}),
    (
        "basic-namespaced",
        {
            "librechat": {
                "mcpServers": [
                    {
                        "name": "tools",
                        "url": "https://mcp.example.com/mcp",
                        "headers": [{"name": "X-Team", "value": "team-a"}],
                    }
                ]
            }
        },
    ),
    (
        "basic-namespaced",
        {
            "librechat": {
                "mcpServers": [
                    {
                        "name": "tools",
                        "url": "https://mcp.example.com/mcp",
                        "headers": [
                            {"name": "Authorization", "prefix": "Bearer ", "secretRef": {"name": "mcp", "key": "t"}}
                        ],
                    }
                ]
            }
        },
    ),
    (
        "operations-namespaced",
        {
            "objectStorage": {
                "provider": "s3",
                "providerConfigRef": {"name": "default"},
                "s3": {
                    "endpoint": "https://s3.example.com/store",
                    "region": "us-east-1",
                    "bucket": "files",
                    "accessKeyIdSecretRef": {"name": "s3", "key": "id"},
                    "secretAccessKeySecretRef": {"name": "s3", "key": "secret"},
                },
            },
        },
    ),
    ("aws-namespaced", {"objectStorage": {"providerConfigRef": {"name": "default"}}}),
    (
        "gcp-namespaced",
        {"database": {"gcp": {"privateNetwork": None, "privateNetworkSelector": {"matchLabels": {"net": "a"}}}}},
    ),
    (
        "plan-mixed-namespaced",
        {
            "librechat": {
                "authentication": {
                    "github": {
                        "clientId": "Iv1.abc",
                        "clientSecretRef": {"name": "gh", "key": "secret"},
                        "enterpriseBaseUrl": "https://github.example.com",
                    },
                    "google": {
                        "clientId": "1-a.apps.googleusercontent.com",
                        "clientSecretRef": {"name": "g", "key": "s"},
                    },
                },
                "ingress": {"tls": {"clusterIssuer": None, "issuer": "team-issuer"}},
                "mongodb": {"existingUriSecretRef": {"name": "mongo", "key": "uri"}},
            },
            "speaches": {"stt": {"language": "en"}, "tts": {"language": "en-US"}},
        },
    ),
    (
        "plan-mixed-namespaced",
        {
            "librechat": {
                "ingress": {"tls": {"clusterIssuer": None, "secretName": "chat-tls"}},
                "webSearch": {"reranker": {"type": "jina", "apiKeySecretRef": {"name": "jina", "key": "k"}}},
            },
            "vllm": {
                "enabled": True,
                "model": "Qwen/Qwen2.5-7B-Instruct",
                "servedModelName": "qwen",
                "apiKeySecretRef": {"name": "vllm", "key": "k"},
                "hfTokenSecretRef": {"name": "hf", "key": "t"},
            },
            "firecrawl": {"provider": {"apiKeySecretRef": {"name": "fc", "key": "k"}}},
            "rag": {"embeddings": {"model": "text-embedding-3-large"}},
            "monitoring": {"enabled": True, "labels": {"release": "kps"}},
            "networkPolicies": {"ingressNamespace": "ingress-nginx", "prometheusNamespace": "monitoring"},
            "ollama": {"gpu": {"resourceName": "nvidia.com/gpu", "nodeSelector": {"gpu": "l4"}}},
        },
    ),
]


# --- Building the canary ----------------------------------------------------------------------------------------------
def _parts(path: str) -> list[str | int | None]:
    """spec.a.b[].c{} as ['a', 'b', 0, 'c', None] (None: a map's entry)."""
    out: list[str | int | None] = []
    for token in re.findall(r"\[\]|\{\}|[^.\[\]{}]+", path.removeprefix("spec.")):
        out.append(0 if token == "[]" else None if token == "{}" else token)
    return out


def _get(spec: dict[str, Any], parts: list[str | int | None]) -> tuple[bool, Any, Any]:
    """(reachable, parent container, key) of a path in a spec: a list on the way has an item, a map an entry; a
    missing section is added empty (as its default is)."""
    node: Any = spec
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part is None:
            if not isinstance(node, dict) or not node:
                return False, None, None
            key = sorted(node)[0]
        elif isinstance(part, int):
            if not isinstance(node, list) or not node:
                return False, None, None
            key = 0
        else:
            if not isinstance(node, dict):
                return False, None, None
            if part not in node and not last:
                node[part] = {}
            key = part
        if last:
            return True, node, key
        node = node[key]
    return False, None, None


def _admitted(spec: dict[str, Any]) -> bool:
    try:
        parse_spec(spec)
    except SpecError:
        return False
    return True


def _pruned(node: Any) -> Any:
    """A patch's None values removed (a way to delete a field of the base)."""
    if isinstance(node, dict):
        return {k: _pruned(v) for k, v in node.items() if v is not None}
    return node


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _bases() -> list[tuple[str, dict[str, Any]]]:
    specs = [(name, yaml.safe_load((EXAMPLES / name / "xr.yaml").read_text())["spec"]) for name in BASES]
    return specs + [(name, _merge(dict(specs)[name], patch)) for name, patch in REACH]


def _with(spec: dict[str, Any], parts: list[str | int | None], value: str, as_key: bool) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    _, parent, key = _get(out, parts)
    if as_key:
        parent[value] = parent.pop(key)
    else:
        parent[key] = value
    return out


def _starts(spec: dict[str, Any], parts: list[str | int | None], node: dict[str, Any], as_key: bool) -> list[str]:
    """Plain values of the field to build on: the base's own, the default, samples of the pattern."""
    _, parent, key = _get(spec, parts)
    current = key if as_key else parent.get(key) if isinstance(parent, dict) else parent[key]
    starts = [current] if isinstance(current, str) else []
    starts += [str(node["default"])] if isinstance(node.get("default"), str) else []
    if "pattern" in node:
        starts += list(_samples(node["pattern"], node.get("maxLength", 10_000)))
    return [*starts, "value", ""]


MARKERS = (MARKER, MARKER.upper(), "c0ffee5", "975310")
# Words YAML reads as something other than a string (a chart that prints a value unquoted turns them into a
# number, a boolean or nothing at all).
YAML_WORDS = ["0", "1e3", "0o17", "true", "yes", "on", "n", "null", "~"]


def _marked(spec: dict[str, Any], parts: list[str | int | None], node: dict[str, Any], as_key: bool) -> str | None:
    """A plain value of the field with the marker in it, or None when its type admits none."""
    for start in _starts(spec, parts, node, as_key):
        for marker in MARKERS:
            forms = [start[:at] + marker + start[at:] for at in sorted({len(start) // 2, 0, len(start)})]
            forms += [f"{start}-{marker}", f"{marker}-{start}", f"{start}.{marker}"] if start else []
            for candidate in forms:
                if _admitted(_with(spec, parts, candidate, as_key)):
                    return candidate
    return None


def _canary(spec: dict[str, Any], parts: list[str | int | None], marked: str, as_key: bool) -> str:
    """The most hostile value the field admits: the marked value with every piece it admits."""
    best = marked
    marker_at = max(best.find(m) for m in MARKERS)
    for piece in PIECES:
        for at in (len(best), marker_at + 1):
            candidate = best[:at] + piece + best[at:]
            if _admitted(_with(spec, parts, candidate, as_key)):
                best = candidate
                break
    return best


# --- Composing --------------------------------------------------------------------------------------------------------
def _compose(base: str, spec: dict[str, Any]) -> dict[str, dict[str, Any]] | str:
    """Desired state of the base example with `spec`, converged as a control plane would; a Fatal's message when
    the function refuses it."""
    example = EXAMPLES / base
    xr = yaml.safe_load((example / "xr.yaml").read_text())
    xr["spec"] = spec
    observed, connections = example_observed(example)
    stored = {d["metadata"]["name"]: d for d in yaml_docs(example / "required-resources.yaml") if d["kind"] == "Secret"}
    secrets = list(stored.values())
    for ref in _secret_refs(spec):
        if ref.name not in stored:
            value = "mongodb://u:p@db.example.com:27017/x" if ref.key == "uri" else f"value-{ref.name}-{ref.key}"
            stored[ref.name] = secret(ref.name, {ref.key: value})
            secrets.append(stored[ref.name])
        elif ref.key not in stored[ref.name].get("data", {}):
            stored[ref.name]["data"][ref.key] = base64.b64encode(b"value").decode()
    state: dict[str, dict[str, Any]] = {}
    # The platform defines whatever placement the spec names (a canary's too): the canary meets the sinks.
    placed = OPEN
    if isinstance(spec.get("placement"), str) and spec["placement"] != ANYWHERE:
        defined = {**OPEN["placements"][0], "name": spec["placement"]}
        placed = {**OPEN, "placements": [*OPEN["placements"], defined]}
    for _ in range(5):
        rsp = run(
            request(
                xr,
                observed={**state, **observed},
                required=required_for(xr, secrets),
                function_input=placed,
                connections=connections,
            )
        )
        message = fatal(rsp)
        if message:
            return message
        grown = {k: resource.struct_to_dict(r.resource) for k, r in rsp.desired.resources.items()}
        composite = resource.struct_to_dict(rsp.desired.composite.resource)
        if grown.keys() == state.keys():
            break
        state = grown
    return {**grown, "<composite>": composite}


# --- Where the canary lands -------------------------------------------------------------------------------------------
def kubelet_expand(text: str) -> str:
    """What the kubelet makes of a command, arg or env value (k8s third_party/forked/golang/expansion): $$ is $,
    $(NAME) is the var's value (here EXPANDED, as if every name were defined)."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "$" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                close = text.find(")", i + 2)
                if close != -1:
                    out.append("EXPANDED")
                    i = close + 1
                    continue
            out.append(text[i : i + 2])
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


SHELLS = {"sh", "bash", "ash", "dash", "python", "python3", "node"}


def _argv_verdict(argv: list[str], index: int) -> str | None:
    """Whether argv[index], which holds the canary, is data: not program text (what follows a shell's or an
    interpreter's -c), not an option, never expanded by the kubelet."""
    text = argv[index]
    if Path(argv[0]).name in SHELLS and "-c" in argv and index == argv.index("-c") + 1:
        return "program text of a shell or interpreter (-c)"
    if kubelet_expand(text) != kubelet_expand(text.replace("$", "")) and "EXPANDED" in kubelet_expand(text):
        return "a $(...) the kubelet expands"
    if index > 0 and text.startswith("-") and not re.match(r"^--?[A-Za-z][-A-Za-z0-9_]*=", text):
        return "an argv value read as an option"
    if index > 0 and re.match(r"^--?[A-Za-z][-A-Za-z0-9_]*=", text) and MARKER not in text.split("=", 1)[1]:
        return "an option's name"
    return None


def _container_verdict(container: dict[str, Any], rest: list[Any]) -> str | None:
    field = rest[0]
    command = list(container.get("command", []))
    if field == "command":
        return _argv_verdict(command + list(container.get("args", [])), rest[1])
    if field == "args":
        return _argv_verdict(command + list(container["args"]), len(command) + rest[1])
    if field == "env" and rest[2:] == ["value"]:
        value = container["env"][rest[1]]["value"]
        return "a $(...) the kubelet expands" if "EXPANDED" in kubelet_expand(value) else None
    for where in ("lifecycle", "readinessProbe", "livenessProbe", "startupProbe"):
        if field == where and "command" in rest:
            exec_command = _at(container, rest[: rest.index("command") + 1])
            return _argv_verdict(exec_command, rest[rest.index("command") + 1])
    return None


def _at(node: Any, path: list[Any]) -> Any:
    for part in path:
        node = node[part]
    return node


def _walk(node: Any, path: list[Any]) -> list[tuple[list[Any], str]]:
    if isinstance(node, dict):
        return [hit for k in node for hit in [*_walk(k, [*path, ("key", k)]), *_walk(node[k], [*path, k])]]
    if isinstance(node, list):
        return [hit for i, v in enumerate(node) for hit in _walk(v, [*path, i])]
    return [(path, node)] if isinstance(node, str) and MARKER_RE.search(node) else []


MARKER_RE = re.compile(f"{MARKER}|{MARKER.upper()}|c0ffee5|975310")
# Fields whose type admits no text at all to mark: a CIDR, an interval of digits and a unit.
NO_TEXT = {
    "spec.database.aws.allowedCidrs[]",
    "spec.monitoring.interval",
    "spec.backups.schedule",
    "spec.azureOpenAI.apiVersion",  # a date, digits and "-preview" only
    "spec.speaches.stt.language",  # two letters, and a region of two
}


def _yaml_verdict(text: str, canary: str) -> str | None:
    """A YAML document a program reads as data: it parses, and the canary is inside its strings, never a
    LibreChat placeholder."""
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as error:
        return f"YAML that no longer parses ({error})"
    # A Secret's name and key become part of the env var LibreChat reads it from: ${MCP_<NAME>_<KEY>_<hash>}.
    strings = [re.sub(r"[$][{][A-Z0-9_]+[}]", "", s) for _, s in _walk(parsed, [])]
    if not any(MARKER_RE.search(s) for s in strings):
        return None
    if not any(canary in s for s in strings):
        return "the canary is not a whole string of the parsed YAML"
    # {{user.name}} is the welcome message's one placeholder, filled in the browser with the user's own name.
    if any(re.search(r"[$][{]|[{][{]", s.replace("{{user.name}}", "")) and MARKER_RE.search(s) for s in strings):
        return "a LibreChat placeholder"
    return None


def _structure(rendered: str) -> list[Any]:
    """The rendered objects with every string replaced by its type: what a canary must never change."""

    def shape(node: Any, keyed_by_data: bool = False) -> Any:
        if isinstance(node, dict):
            if keyed_by_data:  # labels, annotations, selectors: their keys are data as much as their values
                return sorted(shape(v) for v in node.values())
            return {k: shape(v, k in DATA_KEYED) for k, v in node.items()}
        if isinstance(node, list):
            return [shape(v) for v in node]
        return type(node).__name__

    docs = [d for d in yaml.safe_load_all(rendered) if d]
    return sorted((shape(d) for d in docs), key=repr)


DATA_KEYED = {"labels", "annotations", "nodeSelector", "matchLabels"}
NGINX_CONFIG = re.compile(r"[;{}\s\"'$`]")


def landings(state: dict[str, dict[str, Any]], canary: str, benign: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """(place, why it is not data) of every place the canary lands that is not inert data."""
    bad: list[tuple[str, str]] = []
    for key, body in state.items():
        hits = _walk(body, [])
        if body.get("kind") == "Secret":
            for name, value in body.get("data", {}).items():
                decoded = base64.b64decode(value).decode(errors="replace")
                hits += [(["data", name, "<decoded>"], decoded)] if MARKER_RE.search(decoded) else []
        for path, text in hits:
            place = f"{key}:{'.'.join(str(p) for p in path)}"
            why = _verdict(key, body, path, text, canary, benign)
            if why:
                bad.append((place, why))
    return bad


def _verdict(
    key: str, body: dict[str, Any], path: list[Any], text: str, canary: str, benign: dict[str, dict[str, Any]]
) -> str | None:
    if key == "<composite>" or body.get("kind") == "Secret":
        return None
    if body.get("kind") == "Release":
        return "__helm__" if path[:3] == ["spec", "forProvider", "values"] else None
    manifest_at = ["spec", "forProvider", "manifest"]
    manifest, rest = (body, path) if body.get("kind") == "ConfigMap" else (None, [])
    if path[:3] == manifest_at:
        manifest, rest = body["spec"]["forProvider"]["manifest"], path[3:]
    if manifest is None:
        return None  # a cloud resource's parameters
    if manifest.get("kind") == "ConfigMap" and rest[:1] == ["data"]:
        return _yaml_verdict(text, canary) if rest[1] in ("librechat.yaml", "settings.yml") else None
    for marker in ("containers", "initContainers"):
        if marker in rest:
            at = rest.index(marker)
            container = _at(manifest, rest[: at + 2])
            return _container_verdict(container, rest[at + 2 :])
    return None


def _helm_verdicts(
    state: dict[str, dict[str, Any]], benign: dict[str, dict[str, Any]], tools: xp.Tools
) -> list[tuple[str, str]]:
    """The LibreChat Release rendered by the pinned chart with the canary, against the same without it."""
    release, plain = state["librechat-release"], benign["librechat-release"]
    name = release["metadata"]["annotations"]["crossplane.io/external-name"]
    namespace = release["spec"]["forProvider"]["namespace"]
    clean = xp.helm_template(name, namespace, plain["spec"]["forProvider"]["values"], tools)
    try:
        tainted = xp.helm_template(name, namespace, release["spec"]["forProvider"]["values"], tools)
    except RuntimeError as error:  # what the chart printed is no longer YAML: the value broke out of its scalar
        return [("helm template", f"the chart's output no longer parses: {error}")]
    bad = []
    if _structure(tainted) != _structure(clean):
        bad.append(("helm template", "the chart's output has other objects or fields than without the canary"))
    for doc in (d for d in yaml.safe_load_all(tainted) if d):
        if doc.get("kind") == "Ingress":
            for annotation, value in (doc["metadata"].get("annotations") or {}).items():
                if MARKER_RE.search(value) and NGINX_CONFIG.search(value):
                    bad.append((f"Ingress annotation {annotation}", "configuration text for the shared nginx"))
    return bad


# --- The test ---------------------------------------------------------------------------------------------------------
def _fields() -> list[tuple[str, dict[str, Any], bool]]:
    out = [
        (path, node, False)
        for path, node in STRINGS
        if "enum" not in node and not node.get("x-kubernetes-int-or-string")
    ]
    out += [(f"{path}{{}}", {"pattern": ".*"}, True) for path, _ in maps(xp_schema())]
    return out


def xp_schema() -> dict[str, Any]:
    from function.spec import AIWorkspaceSpec  # noqa: PLC0415
    from function.xrds import openapi_schema  # noqa: PLC0415

    return openapi_schema(AIWorkspaceSpec)


FIELDS = _fields()


@pytest.mark.parametrize(("path", "node", "as_key"), FIELDS, ids=[f"{f} (key)" if key else f for f, _, key in FIELDS])
def test_a_canary_lands_only_as_data(path: str, node: dict[str, Any], as_key: bool, tools: xp.Tools) -> None:
    parts = _parts(path)
    refused, reached = [], False
    for base, spec in _bases():
        reachable, _, _ = _get(spec, parts)
        reached = reached or reachable
        marked = _marked(spec, parts, node, as_key) if reachable else None
        if marked is None:
            continue
        canary = _canary(spec, parts, marked, as_key)
        benign = _compose(base, _with(spec, parts, marked, as_key))
        assert isinstance(benign, dict), f"the base {base} with {marked!r} is refused: {benign}"
        state = _compose(base, _with(spec, parts, canary, as_key))
        if isinstance(state, str):
            refused.append(state)  # the function refuses it: nothing is composed
            continue
        found = landings(state, canary, benign)
        bad = [(place, why) for place, why in found if why != "__helm__"]
        if any(why == "__helm__" for _, why in landings(benign, marked, benign)):
            bad += [(f"{canary!r}: {place}", why) for place, why in _helm_verdicts(state, benign, tools)]
            for word in YAML_WORDS:  # what YAML reads as no string must stay a string in the chart's output
                worded = _with(spec, parts, word, as_key)
                typed = _compose(base, worded) if _admitted(worded) else None
                if isinstance(typed, dict):
                    bad += [(f"{word!r}: {place}", why) for place, why in _helm_verdicts(typed, benign, tools)]
        assert not bad, f"{path} (base {base}) lands as more than data: {bad}"
        return
    assert reached, f"{path}: no base reaches it; add one to REACH"
    # Reached, but its type admits no marker (a CIDR, digits only) or the function refuses every canary.
    assert refused or path in NO_TEXT, f"{path}: no canary found for it"
