"""RunFunction, end to end in-process: each case says what must be true and checks exactly that."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from crossplane.function import resource
from crossplane.function.proto.v1 import run_function_pb2 as fnv1

from tests.helpers import (
    OPENAI_KEY,
    basic_spec,
    claims_xr,
    desired,
    fatal,
    full_request,
    namespaced_xr,
    request,
    required_for,
    results,
    run,
    secret,
)


def _with(spec_patch: dict[str, Any]) -> dict[str, Any]:
    spec = basic_spec()
    for section, values in spec_patch.items():
        spec.setdefault(section, {}).update(values)
    return spec


@dataclass
class FatalCase:
    reason: str
    req: fnv1.RunFunctionRequest
    message_contains: list[str] = field(default_factory=list)


FATAL_CASES = [
    FatalCase(
        reason="A referenced Secret that does not exist stops the render with its name and the fix.",
        req=request(namespaced_xr(), required=required_for(namespaced_xr(), [])),
        message_contains=["Secret team-a/openai does not exist", "create it with key 'api-key'"],
    ),
    FatalCase(
        reason="A referenced Secret without the key names the key and the keys it does have.",
        req=request(namespaced_xr(), required=required_for(namespaced_xr(), [secret("openai", {"token": "x"})])),
        message_contains=["has no key 'api-key'", "it has: token"],
    ),
    FatalCase(
        reason="Without the platform's seed credentials the function says how to create them.",
        req=full_request(namespaced_xr(), seed=None),
        message_contains=["workspace-seed", "kubectl -n crossplane-system create secret generic"],
    ),
    FatalCase(
        reason="A seed too short to be secret is refused.",
        req=full_request(namespaced_xr(), seed="short"),
        message_contains=["at least 32"],
    ),
    FatalCase(
        reason="An enabled provider without a key is refused with the field and the fix (also a CEL rule).",
        req=request(namespaced_xr(_with({"openai": {"apiKeySecretRef": None}}) | {"openai": {"enabled": True}})),
        message_contains=["spec.openai.apiKeySecretRef", "spec.openai.enabled: false"],
    ),
    FatalCase(
        reason="An unknown field is named with its full path.",
        req=request(namespaced_xr(_with({"librechat": {"replicaz": 2}}))),
        message_contains=["spec.librechat.replicaz"],
    ),
    FatalCase(
        reason="A CompositeAIWorkspace created without a claim has no namespace to run in and says so.",
        req=full_request({**claims_xr(), "metadata": {"name": "orphan"}}),
        message_contains=["has no claim", "create an AIWorkspace claim"],
    ),
    FatalCase(
        reason="Several replicas on a ReadWriteOnce volume would fail to schedule, so it is refused.",
        req=request(namespaced_xr(_with({"librechat": {"replicas": 3}}))),
        message_contains=["spec.librechat.replicas", "ReadWriteMany"],
    ),
]


@pytest.mark.parametrize("case", FATAL_CASES, ids=lambda c: c.reason)
def test_fatal_results(case: FatalCase) -> None:
    rsp = run(case.req)
    message = fatal(rsp)
    assert message is not None, f"{case.reason}: no fatal result, got {results(rsp)}"
    for fragment in case.message_contains:
        assert fragment in message, f"{case.reason}\n-want fragment: {fragment}\n+got: {message}"
    assert not rsp.desired.resources, f"{case.reason}: a fatal response must not carry new desired resources"


def test_requirements_come_first() -> None:
    """Before Crossplane has fetched the referenced Secrets, the function asks for them and composes nothing."""
    rsp = run(request(namespaced_xr()))
    assert fatal(rsp) is None
    selector = rsp.requirements.resources["secret-openai"]
    assert (selector.api_version, selector.kind, selector.match_name, selector.namespace) == (
        "v1",
        "Secret",
        "openai",
        "team-a",
    )
    assert not rsp.desired.resources


def test_requirements_are_declared_on_every_call() -> None:
    """Crossplane resolves requirements until they stabilise, so the resolved call declares them again."""
    rsp = run(full_request(namespaced_xr()))
    assert "secret-openai" in rsp.requirements.resources


def test_release_waits_for_its_env_and_config() -> None:
    """LibreChat mounts its env Secret as optional, so its release is held back until the Secret exists."""
    rsp = run(full_request(namespaced_xr()))
    resources = desired(rsp)
    assert "librechat-release" not in resources
    assert {"librechat-env", "librechat-config", "mongodb-deployment"} <= set(resources)
    assert rsp.desired.composite.ready == fnv1.READY_FALSE
    messages = " ".join(message for _, _, message in results(rsp))
    assert "librechat-release: waits for librechat-env, librechat-config" in messages


def _observed_basics(rsp: fnv1.RunFunctionResponse) -> dict[str, dict[str, Any]]:
    return {
        key: {**body, "metadata": {**body["metadata"], "name": body["metadata"].get("name", key)}}
        for key, body in desired(rsp).items()
    }


def test_release_is_composed_once_its_inputs_exist() -> None:
    """With the env Secret and config observed, the release is composed and the XR's readiness is derived."""
    first = run(full_request(namespaced_xr()))
    rsp = run(full_request(namespaced_xr(), observed=_observed_basics(first)))
    assert "librechat-release" in desired(rsp)
    assert rsp.desired.composite.ready == fnv1.READY_UNSPECIFIED


def test_secrets_are_stable_once_observed() -> None:
    """An observed generated secret wins over derivation, so a workspace keeps its keys for life."""
    first = run(full_request(namespaced_xr()))
    observed = _observed_basics(first)
    env = observed["librechat-env"]
    env["data"]["CREDS_KEY"] = base64.b64encode(b"f" * 64).decode()
    rsp = run(full_request(namespaced_xr(), observed=observed, seed="another-seed-0123456789abcdef0123456789"))
    assert desired(rsp)["librechat-env"]["data"]["CREDS_KEY"] == env["data"]["CREDS_KEY"]


def test_generated_secret_shapes() -> None:
    """CREDS_KEY is 32 bytes and CREDS_IV 16 bytes of hex, as LibreChat requires."""
    data = desired(run(full_request(namespaced_xr())))["librechat-env"]["data"]
    decoded = {k: base64.b64decode(v).decode() for k, v in data.items()}
    assert len(decoded["CREDS_KEY"]) == 64 and int(decoded["CREDS_KEY"], 16) >= 0
    assert len(decoded["CREDS_IV"]) == 32 and int(decoded["CREDS_IV"], 16) >= 0
    assert len(decoded["JWT_SECRET"]) == 64 and decoded["JWT_SECRET"] != decoded["JWT_REFRESH_SECRET"]
    assert decoded["OPENAI_API_KEY"] == OPENAI_KEY
    assert decoded["MONGO_URI"].startswith("mongodb://librechat:")
    assert decoded["REDIS_URI"].startswith("redis://:")


def test_same_request_same_bytes() -> None:
    """The same request gives a byte-identical response."""
    req = full_request(namespaced_xr())
    first = run(req).SerializeToString(deterministic=True)
    second = run(req).SerializeToString(deterministic=True)
    assert first == second


def test_data_resources_are_kept_when_the_spec_stops_wanting_them() -> None:
    """Switching to an existing MongoDB keeps the in-cluster MongoDB volume and warns instead of deleting it."""
    first = run(full_request(namespaced_xr()))
    observed = _observed_basics(first)
    spec = basic_spec()
    spec["librechat"]["mongodb"] = {"existingUriSecretRef": {"name": "mongo", "key": "uri"}}
    xr = namespaced_xr(spec)
    req = request(
        xr,
        observed=observed,
        required=required_for(
            xr,
            [
                secret("openai", {"api-key": OPENAI_KEY}),
                secret("mongo", {"uri": "mongodb://db.example.com/LibreChat"}),
            ],
        ),
    )
    rsp = run(req)
    resources = desired(rsp)
    assert "mongodb-pvc" in resources, "the volume holding MongoDB's data must stay in desired state"
    assert "mongodb-deployment" not in resources, "the MongoDB server itself is no longer wanted"
    warnings = [m for severity, reason, m in results(rsp) if severity == "Warning" and reason == "DataRetained"]
    assert any("mongodb-pvc" in m for m in warnings)
    # A condition a tool can wait on says the same, on the XR and its claim.
    [retained] = [c for c in rsp.conditions if c.type == "DataRetained"]
    assert retained.status == fnv1.STATUS_CONDITION_TRUE and "mongodb-pvc" in retained.message
    assert retained.target == fnv1.TARGET_COMPOSITE_AND_CLAIM
    [kept] = [c for c in first.conditions if c.type == "DataRetained"]
    assert kept.status == fnv1.STATUS_CONDITION_FALSE


def test_the_workspace_available_condition_says_what_waits() -> None:
    """WorkspaceAvailable is False with what waits for what until every part is ready (True with the URL:
    tests/test_render.py, the ready example); the response's TTL is stated; a Fatal answer carries no
    condition."""
    rsp = run(full_request(namespaced_xr()))
    [available] = [c for c in rsp.conditions if c.type == "WorkspaceAvailable"]
    assert available.status == fnv1.STATUS_CONDITION_FALSE and available.reason == "Waiting"
    assert "librechat" in available.message and len(available.message) <= 4096
    assert rsp.meta.ttl.seconds == 60
    bad = basic_spec()
    bad["librechat"]["domain"] = "-bad-"
    refused = run(full_request(namespaced_xr(bad)))
    assert fatal(refused) and not list(refused.conditions)


@dataclass
class FlavourCase:
    reason: str
    xr: dict[str, Any]
    check: Callable[[dict[str, dict[str, Any]]], None]


def _claims_protect_data(resources: dict[str, dict[str, Any]]) -> None:
    pvc = resources["mongodb-pvc"]
    assert pvc["apiVersion"] == "kubernetes.crossplane.io/v1alpha2"
    assert pvc["spec"]["deletionPolicy"] == "Orphan"
    assert pvc["spec"]["forProvider"]["manifest"]["metadata"]["namespace"] == "team-a"


def _namespaced_protect_data(resources: dict[str, dict[str, Any]]) -> None:
    pvc = resources["mongodb-pvc"]
    assert pvc["apiVersion"] == "kubernetes.m.crossplane.io/v1alpha1"
    assert "Delete" not in pvc["spec"]["managementPolicies"]
    assert "managementPolicies" not in resources["mongodb-deployment"]["spec"]


def _namespaced_plain_config_map(resources: dict[str, dict[str, Any]]) -> None:
    assert resources["librechat-config"]["kind"] == "ConfigMap"
    assert resources["librechat-env"]["kind"] == "Secret"


def _claims_config_in_object(resources: dict[str, dict[str, Any]]) -> None:
    assert resources["librechat-config"]["kind"] == "Object"
    assert resources["librechat-env"]["kind"] == "Secret", "a Secret is never wrapped in an Object's spec"


def _delete_policy_unprotects(resources: dict[str, dict[str, Any]]) -> None:
    assert "managementPolicies" not in resources["mongodb-pvc"]["spec"]


FLAVOUR_CASES = [
    FlavourCase(
        "Claims: data volumes are orphaned on deletion by default and live in the claim's namespace.",
        claims_xr(),
        _claims_protect_data,
    ),
    FlavourCase(
        "Namespaced: data volumes are created without the Delete management policy by default.",
        namespaced_xr(),
        _namespaced_protect_data,
    ),
    FlavourCase(
        "Namespaced: the config is a plain ConfigMap and the env a plain Secret.",
        namespaced_xr(),
        _namespaced_plain_config_map,
    ),
    FlavourCase(
        "Claims: the config goes through an Object, but the env Secret never does.",
        claims_xr(),
        _claims_config_in_object,
    ),
    FlavourCase(
        "dataDeletionPolicy: Delete lets volumes go with the workspace.",
        namespaced_xr({**basic_spec(), "dataDeletionPolicy": "Delete"}),
        _delete_policy_unprotects,
    ),
]


@pytest.mark.parametrize("case", FLAVOUR_CASES, ids=lambda c: c.reason)
def test_flavours(case: FlavourCase) -> None:
    rsp = run(full_request(case.xr))
    assert fatal(rsp) is None, results(rsp)
    case.check(desired(rsp))


def test_status_reports_url_and_components() -> None:
    """The XR's status carries the chat URL and one entry per component with what it waits for."""
    rsp = run(full_request(namespaced_xr()))
    status = resource.struct_to_dict(rsp.desired.composite.resource)["status"]
    assert status["chatUrl"] == "https://chat.team-a.example.com"
    names = [c["name"] for c in status["components"]]
    assert names == sorted(names) and "librechat" in names
    assert status["readyComponents"] == f"0/{len(names)}"


def test_status_reports_each_integration() -> None:
    """status.integrations names what LibreChat is wired to, the URL in use, and whether its parts are ready."""
    spec = basic_spec()
    spec["librechat"]["stt"] = {"implementation": "speaches"}
    spec["librechat"]["tts"] = {"implementation": "openai"}
    spec["speaches"] = {"enabled": True}
    spec["searxng"] = {"enabled": True}
    rsp = run(full_request(namespaced_xr(spec)))
    assert fatal(rsp) is None, results(rsp)
    wired = {i["name"]: i for i in resource.struct_to_dict(rsp.desired.composite.resource)["status"]["integrations"]}
    assert set(wired) == {"chat", "search", "stt", "tts", "rag", "model:openAI"}
    assert wired["rag"] == {
        "name": "rag",
        "provider": "inCluster-postgres",
        "ready": False,
        "url": "http://chat-rag-api.team-a.svc.cluster.local:8000",
    }
    assert wired["search"]["url"] == "http://chat-searxng.team-a.svc.cluster.local:8080"
    assert wired["stt"] == {
        "name": "stt",
        "provider": "speaches",
        "ready": False,
        "url": "http://chat-speaches.team-a.svc.cluster.local:8000/v1/audio/transcriptions",
    }
    assert wired["tts"]["provider"] == "openai" and wired["tts"]["url"].startswith("https://api.openai.com/")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (None, "spec: must be an object"),
        ([], "spec: must be an object"),
        ({"librechat": {"domain": "a.example.com", "replicas": float("nan")}}, "spec.librechat.replicas: must be"),
        (
            {"librechat": {"domain": "a.example.com", "mcpServers": [{"name": "a", "url": "https://a.example.com",
                                                                       "timeoutMs": float("inf")}]}},
            "spec.librechat.mcpServers[0].timeoutMs: must be a finite number",
        ),
    ],
    ids=["null", "list", "nan-replicas", "infinite-timeout"],
)  # fmt: skip
def test_unusable_specs_are_fatal_naming_the_field(spec: Any, message: str) -> None:
    """A spec that is not an object, or a number JSON cannot carry, is an InvalidWorkspace Fatal result naming
    the field, never an internal error."""
    xr = namespaced_xr({})
    xr["spec"] = spec
    rsp = run(request(xr))
    assert [(r.severity, r.reason) for r in rsp.results] == [(fnv1.SEVERITY_FATAL, "InvalidWorkspace")]
    assert rsp.results[0].message.startswith(message)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            {"searxng": {"enabled": True, "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "500m"}}}},
            "spec.searxng.resources: requests.cpu 2 exceeds limits.cpu 500m",
        ),
        (
            {"librechat": {"domain": "a.example.com", "storage": {"size": "0Gi"}}},
            "spec.librechat.storage: size 0Gi is no space",
        ),
        (
            {"librechat": {"domain": "10.0.0.1"}},
            "spec.librechat.domain: '10.0.0.1' is not a DNS name of two labels or more",
        ),
        (
            {"librechat": {"domain": "a.example.com", "resources": {"limits": {"memory": "-1Gi"}}}},
            "spec.librechat.resources.limits.memory: '-1Gi' is not a quantity",
        ),
    ],
    ids=["request-above-limit", "zero-size", "ip-address-domain", "negative-limit"],
)
def test_values_kubernetes_refuses_are_fatal(patch: dict[str, Any], message: str) -> None:
    """Requests above limits, an empty volume and a negative quantity are refused before anything is applied."""
    xr = namespaced_xr({"librechat": {"domain": "a.example.com"}, **patch})
    rsp = run(request(xr))
    assert fatal(rsp) is not None and message in fatal(rsp), fatal(rsp)


def test_a_request_above_a_default_limit_raises_the_limit() -> None:
    """A team asking for more memory than a service's default limit gets a limit equal to its request."""
    xr = namespaced_xr({"librechat": {"domain": "a.example.com"}, "searxng": {"enabled": True,
                        "resources": {"requests": {"memory": "3Gi"}}}})  # fmt: skip
    state = desired(run(request(xr)))
    container = state["searxng-deployment"]["spec"]["forProvider"]["manifest"]["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["resources"]["requests"]["memory"] == container["resources"]["limits"]["memory"] == "3Gi"
