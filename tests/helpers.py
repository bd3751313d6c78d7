"""Builders for RunFunction requests and readers for responses, shared by the unit tests."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from typing import Any

import xp
import yaml
from crossplane.function import resource
from crossplane.function.proto.v1 import run_function_pb2 as fnv1

from function.fn import FunctionRunner, requirement_name
from function.spec import SecretKeySelector

SEED = "unit-test-seed-0123456789abcdef0123456789abcdef"
OPENAI_KEY = "sk-unit-test-not-a-real-key"


def namespaced_xr(spec: dict[str, Any] | None = None, name: str = "chat", namespace: str = "team-a") -> dict[str, Any]:
    return {
        "apiVersion": "aiworkspace.io/v1alpha1",
        "kind": "AIWorkspace",
        "metadata": {"name": name, "namespace": namespace, "uid": "0000-1111"},
        "spec": copy.deepcopy(spec) if spec is not None else basic_spec(),
    }


def claims_xr(spec: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "aiworkspace.io/v1alpha1",
        "kind": "CompositeAIWorkspace",
        "metadata": {
            "name": "chat-x7k2p",
            "labels": {"crossplane.io/claim-name": "chat", "crossplane.io/claim-namespace": "team-a"},
        },
        "spec": copy.deepcopy(spec) if spec is not None else basic_spec(),
    }


def basic_spec() -> dict[str, Any]:
    return {
        "librechat": {
            "domain": "chat.team-a.example.com",
            "ingress": {"tls": {"clusterIssuer": "letsencrypt"}},
        },
        "openai": {"enabled": True, "apiKeySecretRef": {"name": "openai", "key": "api-key"}},
    }


def secret(name: str, data: dict[str, str], namespace: str = "team-a") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }


# The placement open_input defines: a workload cluster with a region on every cloud.
ANYWHERE = "anywhere"


def open_input(extra_name: str = "extra") -> dict[str, Any]:
    """The function's input with a tenancy that allows (nearly) everything: for tests about what a spec turns into,
    not about what the platform allows."""
    return {
        "apiVersion": "aiworkspace.fn.crossplane.io/v1alpha1",
        "kind": "Input",
        "tenancy": {
            "providerConfigs": ["default", f"pc-{extra_name}"],
            "ingressAnnotations": ["*"],
            "clusterIssuers": ["*"],
            "serviceNamespaces": ["team-a", "team-b", extra_name],
            "aws": {"roleArns": ["*"], "instanceClasses": ["*"]},
            "gcp": {"projects": ["*"], "tiers": ["*"]},
            "azure": {"resourceGroups": ["*"], "skus": ["*"]},
            "ceilings": {"cpu": "100000", "memory": "100Ti", "gpus": 10000, "storage": "100Pi", "replicas": 50},
        },
        "placements": [
            {
                "name": ANYWHERE,
                "helmProviderConfigName": "workload",
                "kubernetesProviderConfigName": "workload",
                "regions": {"aws": ["eu-west-1"], "gcp": ["europe-west1"], "azure": ["westeurope"]},
                "clusterNetworks": ["10.64.0.0/14"],
            }
        ],
    }


def request(
    xr: dict[str, Any],
    *,
    observed: dict[str, dict[str, Any]] | None = None,
    required: dict[str, list[dict[str, Any]]] | None = None,
    seed: str | None = SEED,
    function_input: dict[str, Any] | None = None,
    connections: dict[str, dict[str, str]] | None = None,
) -> fnv1.RunFunctionRequest:
    req = fnv1.RunFunctionRequest(
        observed=fnv1.State(composite=fnv1.Resource(resource=resource.dict_to_struct(xr))),
        input=resource.dict_to_struct(
            function_input or {"apiVersion": "aiworkspace.fn.crossplane.io/v1alpha1", "kind": "Input"}
        ),
    )
    for key, body in (observed or {}).items():
        req.observed.resources[key].resource.CopyFrom(resource.dict_to_struct(body))
    for key, details in (connections or {}).items():
        for name, value in details.items():
            req.observed.resources[key].connection_details[name] = value.encode()
    for name, items in (required or {}).items():
        bucket = req.required_resources[name]
        for item in items:
            bucket.items.append(fnv1.Resource(resource=resource.dict_to_struct(item)))
    if seed is not None:
        req.credentials["workspace-seed"].credential_data.data["seed"] = seed.encode()
    return req


def yaml_docs(path: Any) -> list[dict[str, Any]]:
    """The documents of a YAML file, [] when it does not exist."""
    return [d for d in yaml.safe_load_all(path.read_text()) if d] if path.exists() else []


def example_observed(example: Any) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, str]]]:
    """An example's observed resources by key, and the connection details Crossplane would read for them
    (from the connection Secrets among its required resources): hack/xp.py's example_state, as `make bench`
    reads them."""
    return xp.example_state(example)


def required_for(xr: dict[str, Any], secrets: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """required_resources as Crossplane would resolve them for the spec's Secret references."""
    by_name = {s["metadata"]["name"]: s for s in secrets}
    refs = _secret_refs(xr["spec"])
    return {requirement_name(ref): ([by_name[ref.name]] if ref.name in by_name else []) for ref in refs}


def _secret_refs(node: Any) -> list[SecretKeySelector]:
    refs: list[SecretKeySelector] = []
    if isinstance(node, dict):
        if set(node) == {"name", "key"}:
            refs.append(SecretKeySelector(name=node["name"], key=node["key"]))
        for value in node.values():
            refs += _secret_refs(value)
    elif isinstance(node, list):
        for value in node:
            refs += _secret_refs(value)
    return refs


def run(req: fnv1.RunFunctionRequest) -> fnv1.RunFunctionResponse:
    return asyncio.run(FunctionRunner().RunFunction(req, None))


def desired(rsp: fnv1.RunFunctionResponse) -> dict[str, dict[str, Any]]:
    return {key: resource.struct_to_dict(r.resource) for key, r in rsp.desired.resources.items()}


def results(rsp: fnv1.RunFunctionResponse) -> list[tuple[str, str, str]]:
    names = {fnv1.SEVERITY_FATAL: "Fatal", fnv1.SEVERITY_WARNING: "Warning", fnv1.SEVERITY_NORMAL: "Normal"}
    return [(names.get(r.severity, str(r.severity)), r.reason, r.message) for r in rsp.results]


def fatal(rsp: fnv1.RunFunctionResponse) -> str | None:
    for severity, _, message in results(rsp):
        if severity == "Fatal":
            return message
    return None


def full_request(
    xr: dict[str, Any], observed: dict[str, dict[str, Any]] | None = None, **kwargs: Any
) -> fnv1.RunFunctionRequest:
    """A request whose Secret references are already resolved (the team's OpenAI key exists)."""
    return request(
        xr,
        observed=observed,
        required=required_for(xr, [secret("openai", {"api-key": OPENAI_KEY})]),
        **kwargs,
    )


def carried_secrets(state: dict[str, dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The Secrets a placed workspace has in its workload cluster, as the aiworkspace-secrets chart renders them
    from the values Secret the function composes (services/placement.py); None without a placement."""
    for body in state.values():
        annotations = body.get("metadata", {}).get("annotations", {})
        if body["kind"] == "Secret" and annotations.get("aiworkspace.io/component") == "placement":
            document = json.loads(base64.b64decode(body["data"]["values.yaml"]))
            return [
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": entry["name"], "namespace": body["metadata"]["namespace"]},
                    "data": entry["data"],
                }
                for entry in document["secrets"]
            ]
    return None
