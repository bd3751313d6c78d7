"""The API: generated files are up to date, and every cross-field rule holds at admission and in the function.

Each rule is checked both ways: the XRD's CEL through `crossplane resource validate` (admission) and the same
rule in the pydantic model (the function), with the same message.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import xp
import yaml
from generate import HEADER

from function.spec import SpecError, parse_spec
from function.xrds import FUNCTION_NAME, dump, generated_files, with_reference
from tests.helpers import basic_spec, claims_xr, namespaced_xr

ROOT = Path(__file__).resolve().parent.parent


def test_committed_apis_are_generated() -> None:
    """apis/ is exactly what `make generate` writes from function/spec.py."""
    for relative, document in generated_files().items():
        committed = (ROOT / relative).read_text()
        assert committed == HEADER + dump(document), f"{relative} is stale: run `make generate`"


def test_readme_spec_reference_is_current() -> None:
    """README's spec reference is generated from the same model as the XRDs."""
    readme = (ROOT / "README.md").read_text()
    assert readme == with_reference(readme), "README spec reference is stale: run `make generate`"


def test_xrd_flavours() -> None:
    """Claims: v1 LegacyCluster with claim names. Namespaced: v2 with scope written explicitly."""
    files = generated_files()
    claims, namespaced = files["apis/claims/definition.yaml"], files["apis/namespaced/definition.yaml"]
    assert (claims["apiVersion"], claims["spec"]["scope"]) == (
        "apiextensions.crossplane.io/v1",
        "LegacyCluster",
    )
    assert (claims["spec"]["names"]["kind"], claims["spec"]["claimNames"]["kind"]) == (
        "CompositeAIWorkspace",
        "AIWorkspace",
    )
    assert (namespaced["apiVersion"], namespaced["spec"]["scope"]) == (
        "apiextensions.crossplane.io/v2",
        "Namespaced",
    )
    assert namespaced["spec"]["names"]["kind"] == "AIWorkspace" and "claimNames" not in namespaced["spec"]
    for xrd in (claims, namespaced):
        assert xrd["spec"]["group"] == "aiworkspace.io"
        assert [v["name"] for v in xrd["spec"]["versions"]] == ["v1alpha1"]


def _walk(schema: dict[str, Any], path: str = "spec") -> list[tuple[str, dict[str, Any]]]:
    out = [(path, schema)]
    for name, prop in schema.get("properties", {}).items():
        out += _walk(prop, f"{path}.{name}")
    if "items" in schema:
        out += _walk(schema["items"], f"{path}[]")
    return out


def test_every_field_is_documented() -> None:
    """Every field of the spec has a description (kubectl explain shows it)."""
    xrd = generated_files()["apis/namespaced/definition.yaml"]
    spec = xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    undocumented = [path for path, node in _walk(spec) if not path.endswith("[]") and not node.get("description")]
    assert not undocumented, undocumented


def test_compositions_run_the_function_in_pipeline_mode() -> None:
    """One Composition per flavour, pipeline mode, calling this function with the seed as credentials."""
    for flavour, kind in (("claims", "CompositeAIWorkspace"), ("namespaced", "AIWorkspace")):
        comp = generated_files()[f"apis/{flavour}/composition.yaml"]
        assert comp["spec"]["mode"] == "Pipeline"
        assert comp["spec"]["compositeTypeRef"] == {"apiVersion": "aiworkspace.io/v1alpha1", "kind": kind}
        step = comp["spec"]["pipeline"][0]
        assert step["functionRef"]["name"] == FUNCTION_NAME
        assert step["credentials"][0]["name"] == "workspace-seed"


@dataclass
class RuleCase:
    reason: str
    patch: dict[str, Any]  # dotted path -> value
    message: str  # the rule's message, at admission and in the function


AWS_NET = {"region": "eu-west-1", "subnetGroupName": "private", "securityGroupIds": ["sg-0a1b2c3d4e5f60001"]}

ENV_REF = "must not contain '${'"
UNSAFE = "must name a public host"

RULE_CASES = [
    RuleCase(
        "Autoscaling LibreChat past one pod on a ReadWriteOnce files volume is refused, as replicas are.",
        {"librechat.autoscaling": {"enabled": True, "maxReplicas": 3}},
        "spec.librechat.autoscaling: more than one replica must share uploaded files",
    ),
    RuleCase(
        "An autoscaler whose minimum exceeds its maximum is refused.",
        {"searxng": {"enabled": True, "autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 2}}},
        "minReplicas must not exceed maxReplicas",
    ),
    RuleCase(
        "A monitoring label key that is not a Kubernetes label key is refused.",
        {"monitoring": {"enabled": True, "labels": {"release name!": "kps"}}},
        "label or annotation key",
    ),
    RuleCase(
        "An MCP URL at the metadata service through a wildcard DNS name (nip.io) is refused.",
        {"librechat.mcpServers": [{"name": "evil", "url": "http://169.254.169.254.nip.io/latest/meta-data/"}]},
        UNSAFE,
    ),
    RuleCase(
        "An MCP URL at the Kubernetes API is refused.",
        {"librechat.mcpServers": [{"name": "evil", "url": "https://kubernetes.default.svc/api"}]},
        UNSAFE,
    ),
    RuleCase(
        "An MCP header value with a LibreChat user placeholder is refused (LibreChat fills it with user fields).",
        {
            "librechat.mcpServers": [
                {
                    "name": "docs",
                    "url": "https://mcp.example.com",
                    "headers": [{"name": "X-User", "value": "{{LIBRECHAT_USER_EMAIL}}"}],
                }
            ]
        },
        ENV_REF,
    ),
    RuleCase(
        "An MCP header prefix with a line break (another header) is refused.",
        {
            "librechat.mcpServers": [
                {
                    "name": "docs",
                    "url": "https://mcp.example.com",
                    "headers": [
                        {"name": "Authorization", "prefix": "Bearer\nX-Evil: 1", "secretRef": {"name": "s", "key": "k"}}
                    ],
                }
            ]
        },
        ENV_REF,
    ),
    RuleCase(
        "A welcome message with a placeholder other than {{user.name}} is refused.",
        {"librechat.interface": {"welcomeMessage": "Hello {{user.email}}"}},
        "any '{{' placeholder but {{user.name}}",
    ),
    RuleCase(
        "A login button label with a kubelet reference is refused.",
        {
            "librechat.authentication": {
                "openid": {
                    "clientId": "librechat",
                    "clientSecretRef": {"name": "oidc", "key": "secret"},
                    "issuer": "https://login.example.com",
                    "buttonLabel": "Sign in $(OPENAI_API_KEY)",
                }
            }
        },
        ENV_REF,
    ),
    RuleCase(
        "A chat domain that only resolves inside the cluster is refused.",
        {"librechat.domain": "kubernetes.default.svc"},
        "must be a public DNS name",
    ),
    RuleCase(
        "A GPU resource in the kubernetes.io domain is refused.",
        {"ollama": {"enabled": True, "gpu": {"resourceName": "kubernetes.io/batteries"}}},
        "must not be in the kubernetes.io domain",
    ),
    RuleCase(
        "A ServiceAccount annotation binding another identity (GKE Workload Identity) is refused.",
        {
            "objectStorage": {
                "provider": "aws",
                "aws": {
                    "region": "eu-west-1",
                    "serviceAccountAnnotations": {"iam.gke.io/gcp-service-account": "admin@p.iam.gserviceaccount.com"},
                },
            }
        },
        "only eks.amazonaws.com/ annotations",
    ),
    RuleCase(
        "An MCP header value with an env reference is refused.",
        {
            "librechat.mcpServers": [
                {"name": "docs", "url": "https://mcp.example.com", "headers": [{"name": "X", "value": "${CREDS_KEY}"}]}
            ]
        },
        ENV_REF,
    ),
    RuleCase(
        "A welcome message with an env reference is refused.",
        {"librechat.interface": {"welcomeMessage": "Hello ${MEILI_MASTER_KEY}"}},
        ENV_REF,
    ),
    RuleCase(
        "RAG explicitly on without any embeddings provider is refused.",
        {"openai": {"enabled": False}, "rag": {"enabled": True}},
        "spec.rag: the RAG API needs an embeddings provider",
    ),
    RuleCase(
        "Ollama embeddings while Ollama is off are refused.",
        {
            "openai": {"enabled": True, "apiKeySecretRef": {"name": "o", "key": "k"}},
            "rag": {"embeddings": {"provider": "ollama"}},
        },
        "spec.rag: the RAG API needs an embeddings provider",
    ),
    RuleCase(
        "A cloud database while the RAG API is off is refused.",
        {"database": {"provider": "aws", "aws": AWS_NET}},
        "spec.database.provider: the database serves the RAG API, which is off",
    ),
    RuleCase(
        "A cloud database without its settings is refused.",
        {"database": {"provider": "gcp"}},
        "spec.database.gcp: provider gcp needs its settings",
    ),
    RuleCase(
        "RDS with both an existing subnet group and subnets is refused.",
        {"database": {"provider": "aws", "aws": {**AWS_NET, "subnetIds": ["subnet-0a1b2c3d4e5f60001"]}}},
        "spec.database.aws: set exactly one of subnetGroupName, subnetIds, subnetSelector",
    ),
    RuleCase(
        "RDS without any network placement is refused.",
        {"database": {"provider": "aws", "aws": {"region": "eu-west-1", "securityGroupIds": ["sg-0a1b2c3d4e5f60001"]}}},
        "spec.database.aws: set exactly one of subnetGroupName, subnetIds, subnetSelector",
    ),
    RuleCase(
        "A composed security group without allowed CIDRs is refused.",
        {
            "database": {
                "provider": "aws",
                "aws": {"region": "eu-west-1", "subnetGroupName": "p", "vpcId": "vpc-0a1b2c3d4e5f60000"},
            }
        },
        "spec.database.aws.allowedCidrs: a composed security group needs the CIDRs",
    ),
    RuleCase(
        "Cloud SQL without a network is refused.",
        {"database": {"provider": "gcp", "gcp": {"region": "europe-west1"}}},
        "spec.database.gcp: set exactly one of privateNetwork, privateNetworkSelector",
    ),
    RuleCase(
        "An existing S3 bucket without its settings is refused.",
        {"objectStorage": {"provider": "s3"}},
        "spec.objectStorage.s3: provider s3 needs its settings",
    ),
    RuleCase(
        "OpenAI enabled without a key is refused.",
        {"openai": {"enabled": True}},
        "spec.openai.apiKeySecretRef: OpenAI is enabled but has no API key",
    ),
    RuleCase(
        "Anthropic enabled without a key is refused.",
        {"anthropic": {"enabled": True}},
        "spec.anthropic.apiKeySecretRef: Anthropic is enabled",
    ),
    RuleCase(
        "Two cert-manager issuers at once are refused.",
        {"librechat.ingress.tls": {"clusterIssuer": "a", "issuer": "b"}},
        "set clusterIssuer or issuer, not both",
    ),
    RuleCase(
        "Several replicas need a shared volume.",
        {"librechat.replicas": 2},
        "spec.librechat.replicas: more than one replica must share uploaded files",
    ),
    RuleCase(
        "Speaches as STT while Speaches is disabled is refused.",
        {"librechat.stt": {"implementation": "speaches"}},
        "spec.librechat.stt.implementation: speaches is selected but spec.speaches.enabled is false",
    ),
    RuleCase(
        "Speaches as TTS while Speaches is disabled is refused.",
        {"librechat.tts": {"implementation": "speaches"}},
        "spec.librechat.tts.implementation: speaches is selected but spec.speaches.enabled is false",
    ),
    RuleCase(
        "OpenAI as STT while OpenAI is disabled is refused.",
        {"librechat.stt": {"implementation": "openai"}},
        "spec.librechat.stt.implementation: openai is selected but spec.openai.enabled is false",
    ),
    RuleCase(
        "OpenAI as TTS while OpenAI is disabled is refused.",
        {"librechat.tts": {"implementation": "openai"}},
        "spec.librechat.tts.implementation: openai is selected but spec.openai.enabled is false",
    ),
    RuleCase(
        "Firecrawl with no LLM key anywhere is refused.",
        {"firecrawl": {"enabled": True}},
        "spec.firecrawl.provider.apiKeySecretRef: Firecrawl's openai provider",
    ),
    RuleCase(
        "A Jina reranker without a key is refused.",
        {"librechat.webSearch": {"reranker": {"type": "jina"}}},
        "spec.librechat.webSearch.reranker.apiKeySecretRef",
    ),
    RuleCase(
        "Several Ollama pods need a shared model volume.",
        {"ollama": {"enabled": True, "replicas": 2}},
        "spec.ollama.replicas: more than one replica shares",
    ),
    RuleCase(
        "MCP server names must be unique.",
        {
            "librechat.mcpServers": [
                {"name": "a", "url": "https://a.example.com"},
                {"name": "a", "url": "https://b.example.com"},
            ]
        },
        "spec.librechat.mcpServers: names must be unique",
    ),
    RuleCase(
        "A websocket MCP server needs a ws:// URL.",
        {"librechat.mcpServers": [{"name": "a", "type": "websocket", "url": "https://a.example.com"}]},
        "websocket servers need a ws:// or wss:// URL",
    ),
    RuleCase(
        "An MCP header takes a value or a Secret, not both.",
        {
            "librechat.mcpServers": [
                {
                    "name": "a",
                    "url": "https://a.example.com",
                    "headers": [{"name": "Authorization", "value": "x", "secretRef": {"name": "s", "key": "k"}}],
                }
            ]
        },
        "set exactly one of value or secretRef",
    ),
]


def _patched(case: RuleCase) -> dict[str, Any]:
    spec = {"librechat": {"domain": "chat.example.com", "ingress": {"tls": {"secretName": "tls"}}}}
    for dotted, value in case.patch.items():
        node = spec
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        if isinstance(value, dict) and isinstance(node.get(last), dict):
            node[last] = {**node[last], **value}
            if "issuer" in value or "enabled" in value:
                node[last].pop("secretName", None)
        else:
            node[last] = copy.deepcopy(value)
    return spec


@pytest.mark.parametrize("case", RULE_CASES, ids=lambda c: c.reason)
def test_rule_in_function(case: RuleCase) -> None:
    with pytest.raises(SpecError) as err:
        parse_spec(_patched(case))
    assert case.message in str(err.value), f"{case.reason}\n-want: {case.message}\n+got: {err.value}"


def test_rules_at_admission(tools: xp.Tools) -> None:
    """The XRDs' CEL rules reject the same specs with the same messages (crossplane resource validate)."""
    docs = []
    for i, case in enumerate(RULE_CASES):
        for xr in (namespaced_xr(_patched(case), name=f"rule-{i}"), claims_xr(_patched(case))):
            xr["metadata"]["name"] = f"rule-{i}-{xr['kind'].lower()}"
            docs.append(xr)
    report = xp.validate(yaml.safe_dump_all(docs), tool=tools)
    by_name = {r["name"]: r for r in report["resources"]}  # type: ignore[union-attr]
    for i, case in enumerate(RULE_CASES):
        for kind in ("aiworkspace", "compositeaiworkspace"):
            result = by_name[f"rule-{i}-{kind}"]
            messages = " ".join(e["message"] for e in result.get("errors") or [])
            assert result["status"] == "invalid" and case.message in messages, f"{case.reason} ({kind}): {result}"


def test_voices_must_match_their_engine(tools: xp.Tools) -> None:
    """An OpenAI voice under Speaches, or a Kokoro voice under OpenAI, is refused at admission and in the function."""
    bad = [
        {
            "librechat": {"domain": "c.example.com", "ingress": {"enabled": False}},
            "speaches": {"enabled": True, "tts": {"voices": ["nova"]}},
        },
        {
            "librechat": {"domain": "c.example.com", "ingress": {"enabled": False}},
            "openai": {"tts": {"voice": "af_heart"}},
        },
    ]
    docs = [namespaced_xr(spec, name=f"voice-{i}") for i, spec in enumerate(bad)]
    report = xp.validate(yaml.safe_dump_all(docs), tool=tools)
    assert report["summary"]["invalid"] == 2, report  # type: ignore[index]
    for spec in bad:
        with pytest.raises(SpecError):
            parse_spec(spec)


def test_valid_examples_pass_admission(tools: xp.Tools) -> None:
    """The example specs a team writes, claims included, are valid against the XRDs."""
    docs = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "examples").glob("*/claim.yaml"))]
    docs += [namespaced_xr(basic_spec()), claims_xr(basic_spec())]
    report = xp.validate(yaml.safe_dump_all(docs), tool=tools)
    assert report["summary"]["invalid"] == 0, report  # type: ignore[index]


SSRF_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://127.0.0.1:3080/",
    "http://localhost:27017/",
    "http://[fd00:ec2::254]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::1]/",
    "http://2852039166/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://10.0.0.5/",
    "http://team-b-api@evil.example/",
    "http://0.0.0.0:8080/",
    # Names that reach the same places: an address written into a wildcard DNS name, the API server, a
    # single-label name the pod's search path resolves, a percent-encoded or full-width host.
    "http://169.254.169.254.nip.io/",
    "http://10-0-0-1.sslip.io:8080/",
    "https://kubernetes.default.svc/",
    "https://kubernetes.default/",
    "http://kubernetes/",
    "http://chat-mongodb:27017/",
    "http://%31%36%39.254.169.254/",
    "http://169\uff0e254\uff0e169\uff0e254/",
    "http://EVIL.example/",
]
# What each layer says: the URL type's pattern (a host of ASCII letters, digits, '-' and '.') or its rule.
REFUSED = ("must name a public host", "is not a URL with the scheme", "should match")


@pytest.mark.parametrize("url", SSRF_URLS)
def test_mcp_urls_at_local_or_metadata_hosts_are_refused(url: str) -> None:
    """No team URL may point LibreChat (and its SSRF allow-list) at the node, metadata or private addresses."""
    spec = {"librechat": {"domain": "c.example.com", "mcpServers": [{"name": "m", "url": url}]}}
    with pytest.raises(SpecError) as err:
        parse_spec(spec)
    message = str(err.value)
    assert message.startswith("spec.librechat.mcpServers[0].url: ") and any(r in message for r in REFUSED), message


def test_ssrf_urls_are_refused_at_admission(tools: xp.Tools) -> None:
    """The same URLs are refused by the API server (its pattern or CEL), naming the field; a public host and an
    in-cluster Service by DNS name are admitted (the function then checks the Service's namespace)."""
    docs = []
    for i, url in enumerate([*SSRF_URLS, "https://mcp.example.com/sse", "http://tools.team-a.svc.cluster.local:8080/"]):
        spec = {"librechat": {"domain": "c.example.com", "mcpServers": [{"name": "m", "url": url}]}}
        docs.append(namespaced_xr(spec, name=f"ssrf-{i}"))
    report = xp.validate(yaml.safe_dump_all(docs), tool=tools)
    by_name = {r["name"]: r for r in report["resources"]}  # type: ignore[union-attr]
    for i, url in enumerate(SSRF_URLS):
        result = by_name[f"ssrf-{i}"]
        fields = " ".join(f"{e.get('field')} {e.get('message')}" for e in result.get("errors") or [])
        assert result["status"] == "invalid" and "spec.librechat.mcpServers[0].url" in fields, (url, result)
        assert any(r in fields for r in REFUSED), (url, result)
    assert by_name[f"ssrf-{len(SSRF_URLS)}"]["status"] == "valid"
    assert by_name[f"ssrf-{len(SSRF_URLS) + 1}"]["status"] == "valid"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        (
            {
                "github": {
                    "clientId": "i",
                    "clientSecretRef": {"name": "g", "key": "k"},
                    "enterpriseBaseUrl": "https://169.254.169.254/",
                }
            },
            "spec.librechat.authentication.github.enterpriseBaseUrl",
        ),
        (
            {
                "openid": {
                    "clientId": "i",
                    "clientSecretRef": {"name": "o", "key": "k"},
                    "issuer": "https://[::1]/realms/x",
                }
            },
            "spec.librechat.authentication.openid.issuer",
        ),
    ],
)
def test_sign_in_urls_at_local_hosts_are_refused(patch: dict[str, Any], field: str) -> None:
    spec = {"librechat": {"domain": "c.example.com", "authentication": patch}}
    with pytest.raises(SpecError) as err:
        parse_spec(spec)
    assert field in str(err.value)


def test_public_and_in_cluster_urls_are_accepted() -> None:
    """A public host (punycode too) and a Service by its full name pass the URL type; an IP address, public or
    not, does not (a URL names a host)."""
    for url in (
        "https://mcp.example.com/sse",
        "http://mcp.team-a.svc.cluster.local:8080/mcp",
        "https://xn--bcher-kva.example/",
    ):
        parse_spec({"librechat": {"domain": "c.example.com", "mcpServers": [{"name": "m", "url": url}]}})
    with pytest.raises(SpecError, match="is not a URL"):
        parse_spec({"librechat": {"domain": "c.example.com", "mcpServers": [{"name": "m", "url": "https://8.8.8.8/"}]}})
