"""Property-based tests: specs generated from the XRD's own schema (hypothesis), FUZZ_EXAMPLES of them (2,000 by
default; more with the variable), each run through RunFunction with every Secret it references.

For every spec: no exception escapes (a refusal is a Fatal result, never an internal error). For every spec the
function accepts: the same request gives a byte-identical response; no secret appears outside a Secret's data;
every composed object is valid for Kubernetes (names and labels for their kinds, non-negative quantities,
requests within limits, volumes with space); and every librechat.yaml, read by LibreChat's YAML 1.2 reader,
passes LibreChat's strict schema (checked for all of them at once).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import random
import re
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NonInteractiveExampleWarning

from function.spec import QUANTITY, REGION_FIELDS, AIWorkspaceSpec, SpecError, parse_spec, quantity_value
from function.xrds import openapi_schema
from tests.helpers import ANYWHERE, desired, namespaced_xr, open_input, request, required_for, run, secret
from tests.test_names import LABEL_VALUE, _check
from tests.test_render import SCHEMA_CHECK, leaks

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2000"))
# Text a careless or hostile team types: env references, YAML 1.1/1.2 look-alikes, markup, unicode, quotes.
TRICKY = ["${OPENAI_API_KEY}", "1e3", "0o17", "yes", "null", "~", "- item", "a: b", "#x", "'\"", "äöü ✓", "{{x}}", "\t"]


@functools.cache
def _pool(pattern: str, max_length: int) -> tuple[str, ...]:
    """Strings that fully match a pattern, drawn once per pattern by hypothesis (its hardest cases first)."""
    strategy = st.from_regex(pattern, fullmatch=True).filter(lambda s: len(s) <= max_length)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        return tuple(sorted({strategy.example() for _ in range(12)}))


def _text(node: dict[str, Any], rng: random.Random) -> str:
    low, high = node.get("minLength", 0), node.get("maxLength", 10_000)
    if rng.random() < 0.5:
        text = rng.choice(TRICKY)
    else:
        alphabet = "abcXYZ019 -_.:/#'\"{}$\\\n\täö✓"
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
    text = text[:high]
    return text if len(text) >= low else text + "x" * (low - len(text))


def generate(node: dict[str, Any], rng: random.Random) -> Any:
    """A value for a structural schema node: any value the schema (not CEL) admits. Optional fields are present
    half the time; integers and lists sit at their minimum half the time (most cross-field rules are about
    more than one of something)."""
    if node.get("x-kubernetes-int-or-string"):
        return rng.randint(0, 10**6) if rng.random() < 0.3 else rng.choice(_pool(QUANTITY, 64))
    kind = node.get("type")
    if kind == "object" and "properties" in node:
        required = set(node.get("required", []))
        return {
            name: generate(prop, rng)
            for name, prop in node["properties"].items()
            if name in required or rng.random() < 0.5
        }
    if kind == "object":
        keys = _pool(r"[a-z][a-z0-9./-]{0,20}", 21)
        values = node.get("additionalProperties", {"type": "string"})
        return {rng.choice(keys): generate(values, rng) for _ in range(rng.randint(0, 3))}
    if kind == "array":
        low = node.get("minItems", 0)
        size = low if rng.random() < 0.5 else rng.randint(low, max(low, min(node.get("maxItems", 3), 3)))
        return [generate(node["items"], rng) for _ in range(size)]
    if kind == "integer":
        low, high = int(node.get("minimum", -5)), int(node.get("maximum", 10**6))
        return low if rng.random() < 0.5 else rng.randint(low, high)
    if kind == "boolean":
        return rng.random() < 0.5
    if "enum" in node:
        return rng.choice(node["enum"])
    if "pattern" in node:
        return rng.choice(_pool(node["pattern"], node.get("maxLength", 10_000)))
    return _text(node, rng)


FIELD = re.compile(r"spec((?:\.[A-Za-z0-9_]+|\[[0-9]+\])+)")


def _delete(spec: dict[str, Any], path: str) -> bool:
    """Delete spec<path> (e.g. .librechat.replicas, .mcpServers[0].url) or, when it is absent, its nearest
    present parent below spec.librechat; False when nothing could be deleted."""
    parts: list[str | int] = [
        int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"\[[0-9]+\]|[^.\[\]]+", path)
    ]
    while len(parts) > 1 or (parts and parts[0] != "librechat"):
        node: Any = spec
        for part in parts[:-1]:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                node = None
                break
        last = parts[-1]
        if isinstance(node, dict) and last in node and parts != ["librechat", "domain"]:
            del node[last]
            return True
        if isinstance(node, list) and isinstance(last, int) and last < len(node):
            del node[last]
            return True
        parts = parts[:-1]
    return False


def toward_valid(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with the fields the function refuses pruned, one refusal at a time, using the field paths its
    messages name: so half the generated specs reach the renderer with most of their variety intact."""
    spec = json.loads(json.dumps(spec))
    for _ in range(12):
        try:
            parse_spec(spec)
            return _placed(spec)
        except SpecError as error:
            paths = FIELD.findall(str(error))
            if paths and paths[0] in REGION_PATHS and "placement" not in spec:
                spec["placement"] = ANYWHERE  # a region the spec lacks is the placement's
                continue
            if not paths or not _delete(spec, paths[0]):
                return spec
    return spec


REGION_PATHS = {f"spec.{section}.{cloud}.{name}" for section, cloud, name in REGION_FIELDS}


def _placed(spec: dict[str, Any]) -> dict[str, Any]:
    """A placed spec in open_input's placement, its datastores in the placement's regions (a generated region is
    one the placement does not offer)."""
    if "placement" in spec:
        spec["placement"] = ANYWHERE
        for section, cloud, name in REGION_FIELDS:
            settings = spec.get(section, {}).get(cloud)
            if isinstance(settings, dict):
                settings.pop(name, None)
    return spec


SCHEMA = openapi_schema(AIWorkspaceSpec)


def _dicts(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping in a tree of dicts and lists, outermost first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _dicts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _dicts(value)


def _draw_pools(schema: dict[str, Any]) -> None:
    """Draw every pattern's pool now: hypothesis cannot draw examples while it runs a test."""
    for node in _dicts(schema):
        if "pattern" in node and not node.get("x-kubernetes-int-or-string"):
            _pool(node["pattern"], node.get("maxLength", 10_000))


_draw_pools(SCHEMA)
_pool(QUANTITY, 64)
_pool(r"[a-z][a-z0-9./-]{0,20}", 21)


def _spec(rng: random.Random) -> dict[str, Any]:
    """A spec from the XRD's schema; every other one pruned toward what the function accepts."""
    spec = generate(SCHEMA, rng)
    return toward_valid(spec) if rng.random() < 0.5 else spec


# hypothesis draws a seed per example and the generator does the rest with a plain Random: thousands of specs in
# seconds, each reproducible from the seed (and the spec) hypothesis reports.
SPECS = st.integers(0, 2**64).map(lambda seed: _spec(random.Random(seed)))


def _referenced_secrets(spec: Any) -> list[dict[str, Any]]:
    """A Secret holding every key the spec references, each value unique and long enough to be scanned for."""
    keys: dict[str, dict[str, str]] = {}
    for node in _dicts(spec):
        if set(node) == {"name", "key"} and all(isinstance(v, str) for v in node.values()):
            value = "fuzz-" + hashlib.sha256(f"{node['name']}/{node['key']}".encode()).hexdigest()[:24]
            keys.setdefault(node["name"], {})[node["key"]] = value
    return [secret(name, data) for name, data in keys.items()]


def _secret_values(docs: list[dict[str, Any]], referenced: list[dict[str, Any]]) -> set[str]:
    values = set()
    for doc in [*docs, *referenced]:
        if doc.get("kind") == "Secret":
            values |= {base64.b64decode(v).decode() for v in doc.get("data", {}).values()}
    return {v for v in values if len(v) >= 16}


def _check_object(manifest: dict[str, Any]) -> None:
    _check(manifest["metadata"]["name"], manifest["kind"])
    for value in manifest["metadata"].get("labels", {}).values():
        assert LABEL_VALUE.fullmatch(value) and len(value) <= 63, value
    if manifest["kind"] == "PersistentVolumeClaim":
        assert quantity_value(manifest["spec"]["resources"]["requests"]["storage"]) > 0
    for resources in _container_resources(manifest):
        for kind in ("requests", "limits"):
            for value in resources.get(kind, {}).values():
                assert re.fullmatch(QUANTITY, str(value)), value
        for name, wanted in resources.get("requests", {}).items():
            limit = resources.get("limits", {}).get(name)
            assert limit is None or quantity_value(wanted) <= quantity_value(limit), (name, wanted, limit)


def _container_resources(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every containers[].resources in a manifest, wherever its pod template is."""
    return [
        container["resources"]
        for node in _dicts(manifest)
        for container in [*node.get("containers", []), *node.get("initContainers", [])]
        if isinstance(container, dict) and isinstance(container.get("resources"), dict)
    ]


def test_generated_specs(tmp_path: Path) -> None:
    configs: list[str] = []
    outcomes = {"accepted": 0, "refused": 0}

    # derandomize: CI runs the same specs every time; raise FUZZ_EXAMPLES to explore further.
    @settings(
        max_examples=EXAMPLES, suppress_health_check=list(HealthCheck), deadline=None, database=None, derandomize=True
    )
    @given(SPECS)
    def property_holds(spec: dict[str, Any]) -> None:
        xr = namespaced_xr(spec)
        referenced = _referenced_secrets(spec)
        # The platform's tenancy is tested on its own (test_tenancy, test_hostile): here specs reach the renderer.
        req = request(xr, required=required_for(xr, referenced), function_input=open_input())
        rsp = run(req)
        reasons = [r.reason for r in rsp.results if r.severity == fnv1.SEVERITY_FATAL]
        assert "InternalError" not in reasons, [r.message for r in rsp.results]
        if reasons:
            outcomes["refused"] += 1
            return
        outcomes["accepted"] += 1
        again = run(req)
        assert again.SerializeToString(deterministic=True) == rsp.SerializeToString(deterministic=True)
        docs = list(desired(rsp).values())
        assert not leaks(docs, _secret_values(docs, referenced))
        for doc in docs:
            if doc["kind"] == "Object":
                _check_object(doc["spec"]["forProvider"]["manifest"])
            elif doc["kind"] in ("Secret", "ConfigMap"):
                _check(doc["metadata"]["name"], doc["kind"])
        configs.extend(
            body["data"]["librechat.yaml"]
            for body in (d["spec"]["forProvider"]["manifest"] if d["kind"] == "Object" else d for d in docs)
            if body.get("kind") == "ConfigMap" and "librechat.yaml" in body.get("data", {})
        )

    property_holds()
    assert outcomes["accepted"] > EXAMPLES // 4, outcomes  # the generator reaches the renderer, not only refusals
    print(f"fuzz: {outcomes}")
    paths = []
    for i, config in enumerate(configs):
        path = tmp_path / f"librechat-{i}.yaml"
        path.write_text(config)
        paths.append(str(path))
    for start in range(0, len(paths), 500):
        proc = subprocess.run(
            ["node", str(SCHEMA_CHECK), *paths[start : start + 500]], check=False, capture_output=True, text=True
        )
        failed = [line for line in proc.stdout.splitlines() if not json.loads(line)["ok"]]
        assert not failed, "\n".join(failed[:5])
