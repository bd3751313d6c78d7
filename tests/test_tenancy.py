"""Tenant isolation: the platform team decides, in the Composition's input, which provider configs, CIDRs and
Ingress annotations teams may use; anything else is a Fatal result naming the field and the fix."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import claims_xr, desired, fatal, namespaced_xr, request, required_for, results, run, yaml_docs

ROOT = Path(__file__).resolve().parent.parent
AWS = ROOT / "examples" / "aws-namespaced"
INPUT = {"apiVersion": "aiworkspace.fn.crossplane.io/v1alpha1", "kind": "Input"}


def _aws_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load((AWS / "xr.yaml").read_text())["spec"]
    return copy.deepcopy(spec)


@dataclass
class Case:
    reason: str
    patch: dict[str, Any]  # dotted path -> value, applied to the AWS example's spec
    tenancy: dict[str, Any] | None = None
    refused: str | None = None  # the start of the Fatal message, None when accepted
    claims: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case("The provider configs named default are allowed by default.", {}),
    Case(
        "A ClusterProviderConfig the platform did not list (another team's account) is refused.",
        {"database.providerConfigRef": {"kind": "ClusterProviderConfig", "name": "team-b-aws"}},
        refused="spec.database.providerConfigRef.name: 'team-b-aws' is not a provider config teams may use",
    ),
    Case(
        "The same name is allowed once the platform lists it.",
        {"database.providerConfigRef": {"kind": "ClusterProviderConfig", "name": "team-b-aws"}},
        tenancy={"providerConfigs": ["default", "team-b-aws"]},
    ),
    Case(
        "A namespaced ProviderConfig in the team's namespace is refused by default (one using the provider's own "
        "identity would lend the team the platform's credentials).",
        {"objectStorage.providerConfigRef": {"kind": "ProviderConfig", "name": "our-aws"}},
        refused="spec.objectStorage.providerConfigRef.name: 'our-aws' is not a provider config",
    ),
    Case(
        "Where teams bring their own credentials, the platform lets their namespaced ProviderConfigs through.",
        {"objectStorage.providerConfigRef": {"kind": "ProviderConfig", "name": "our-aws"}},
        tenancy={"teamProviderConfigs": True},
    ),
    Case(
        "Switching the workspace's NetworkPolicies off is the platform's to allow.",
        {"networkPolicies": {"enabled": False}},
        refused="spec.networkPolicies.enabled: the platform keeps every workspace's NetworkPolicies on",
    ),
    Case(
        "An IngressClass outside the platform's list is refused.",
        {"librechat.ingress": {"className": "internal-admin"}},
        tenancy={"ingressClasses": ["nginx"]},
        refused="spec.librechat.ingress.className: 'internal-admin' is not an IngressClass",
    ),
    Case(
        "A Manual composition update policy (a pin to an old revision of the platform's input) is refused.",
        {"crossplane": {"compositionUpdatePolicy": "Manual"}},
        refused="spec.crossplane.compositionUpdatePolicy: Manual would keep the workspace on an old revision",
    ),
    Case(
        "In the claims flavour the pin is in the XR's spec itself, and refused the same.",
        {"compositionRevisionSelector": {"matchLabels": {"release": "old"}}},
        refused="spec.compositionRevisionSelector: a revision selector can keep the workspace on an old revision",
        claims=True,
    ),
    Case(
        "In the claims flavour every ProviderConfig is cluster-scoped, so the list applies to all of them.",
        {"objectStorage.providerConfigRef": {"name": "platform-admin"}},
        refused="spec.objectStorage.providerConfigRef.name: 'platform-admin' is not a provider config",
        claims=True,
    ),
    Case(
        "A database opened to the whole internet is refused.",
        {"database.aws.allowedCidrs": ["0.0.0.0/0"]},
        refused="spec.database.aws.allowedCidrs[0]: 0.0.0.0/0 is outside the ranges",
    ),
    Case(
        "A CIDR inside the platform's ranges is allowed; one outside a narrowed list is refused.",
        {"database.aws.allowedCidrs": ["10.20.0.0/16", "10.30.0.0/16"]},
        tenancy={"cidrs": ["10.20.0.0/16"]},
        refused="spec.database.aws.allowedCidrs[1]: 10.30.0.0/16 is outside",
    ),
    Case(
        "An nginx configuration snippet (config injected into the shared controller) is refused by default.",
        {"librechat.ingress.annotations": {"nginx.ingress.kubernetes.io/configuration-snippet": "on"}},
        refused="spec.librechat.ingress.annotations: 'nginx.ingress.kubernetes.io/configuration-snippet' is not",
    ),
    Case(
        "An auth URL at the metadata address is refused by default.",
        {"librechat.ingress.annotations": {"nginx.ingress.kubernetes.io/auth-url": "http://169.254.169.254/"}},
        refused="spec.librechat.ingress.annotations: 'nginx.ingress.kubernetes.io/auth-url' is not",
    ),
    Case(
        "A prefix the platform allows admits every annotation under it.",
        {"librechat.ingress.annotations": {"example.com/team": "a"}},
        tenancy={"ingressAnnotations": ["example.com/*"]},
    ),
    Case(
        "The proxy tuning annotations are allowed by default.",
        {"librechat.ingress.annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "64m"}},
    ),
    Case(
        "A domain outside the platform's per-namespace rule (another team's host) is refused.",
        {"librechat.domain": "chat.team-b.apps.example.com"},
        tenancy={"domains": ["*.{namespace}.apps.example.com"]},
        refused="spec.librechat.domain: 'chat.team-b.apps.example.com' is not a domain teams may use",
    ),
    Case(
        "A domain pattern's * stands for whole labels: team-a's rule does not admit team-a-x's zone.",
        {"librechat.domain": "chat.team-a-x.apps.example.com"},
        tenancy={"domains": ["*.{namespace}.apps.example.com"]},
        refused="spec.librechat.domain: 'chat.team-a-x.apps.example.com' is not a domain",
    ),
    Case(
        "A host under the team's own zone is allowed by the per-namespace rule.",
        {"librechat.domain": "chat.team-a.apps.example.com"},
        tenancy={"domains": ["*.{namespace}.apps.example.com"]},
    ),
    Case(
        "A ClusterIssuer outside the default (an internal CA) is refused: it would sign any name a team asks.",
        {"librechat.ingress.tls": {"clusterIssuer": "internal-ca"}},
        refused="spec.librechat.ingress.tls.clusterIssuer: 'internal-ca' is not a ClusterIssuer teams may use",
    ),
    Case(
        "A StorageClass outside the platform's list is refused, naming the volume.",
        {"librechat.storage": {"storageClassName": "io2-premium"}},
        tenancy={"storageClasses": ["gp3", "efs"]},
        refused="spec.librechat.storage.storageClassName: 'io2-premium' is not a StorageClass",
    ),
    Case(
        "More pods than one workload may run is refused, naming the field.",
        {"librechat.replicas": 8, "librechat.storage": {"accessMode": "ReadWriteMany"}},
        tenancy={"ceilings": {"replicas": 4}},
        refused="spec.librechat.replicas: 8 pods are more than one workload may run here (4)",
    ),
    Case(
        "Dumps kept longer than the platform allows are refused, naming the field and the ceiling.",
        {"backups": {"enabled": True, "retentionDays": 120}},
        tenancy={"ceilings": {"backupRetentionDays": 90}},
        refused="spec.backups.retentionDays: 120 days are more than a dump may be kept here (90); ask the platform "
        "team to allow it in the Composition's input (tenancy.ceilings.backupRetentionDays)",
    ),
    Case(
        "Within the default ceiling (365 days), a retention passes.",
        {"backups": {"enabled": True, "retentionDays": 365}},
    ),
    Case(
        "An RDS instance class beyond the default sizes is refused.",
        {"database.aws.instanceClass": "db.x2iedn.32xlarge"},
        refused="spec.database.aws.instanceClass: 'db.x2iedn.32xlarge' is not an RDS instance class",
    ),
    Case(
        "A VPC the platform did not list is refused once the platform lists its VPCs.",
        {},
        tenancy={"aws": {"vpcIds": ["vpc-0fffffffffffffff0"]}},
        refused="spec.database.aws.vpcId: 'vpc-0a1b2c3d4e5f60000' is not a VPC teams may use",
    ),
    Case(
        "A role of another namespace is refused by the default role rule ({namespace}-*).",
        {"objectStorage.aws": {"region": "eu-west-1", "roleArn": "arn:aws:iam::123456789012:role/team-b-librechat"}},
        refused="spec.objectStorage.aws.roleArn: 'arn:aws:iam::123456789012:role/team-b-librechat' is not an IAM role",
    ),
    Case(
        "The team's own role passes the default rule ({namespace}.*).",
        {"objectStorage.aws": {"region": "eu-west-1", "roleArn": "arn:aws:iam::123456789012:role/team-a.librechat"}},
    ),
    Case(
        "A namespace that is a prefix of another (team vs team-a) cannot take the other's roles.",
        {"objectStorage.aws": {"region": "eu-west-1", "roleArn": "arn:aws:iam::123456789012:role/team-a.x"}},
        tenancy={"aws": {"roleArns": ["arn:aws:iam::*:role/team.*"]}},
        refused="spec.objectStorage.aws.roleArn: 'arn:aws:iam::123456789012:role/team-a.x' is not an IAM role",
    ),
    Case(
        "The role annotation is held to the same rule as roleArn.",
        {
            "objectStorage.aws": {
                "region": "eu-west-1",
                "serviceAccountAnnotations": {
                    "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/platform-admin"
                },
            }
        },
        refused="spec.objectStorage.aws.serviceAccountAnnotations.eks.amazonaws.com/role-arn: "
        "'arn:aws:iam::123456789012:role/platform-admin' is not an IAM role",
    ),
    Case(
        "A GCP project is the provider config's unless the platform lists the ones teams may name.",
        {"objectStorage": {"provider": "gcp", "gcp": {"location": "EU", "project": "team-b-prod"}}},
        refused="spec.objectStorage.gcp.project: 'team-b-prod' is not a GCP project teams may use (allowed: none)",
    ),
    Case(
        "An Azure resource group outside the namespace's own is refused by default.",
        {"objectStorage": {"provider": "azure", "azure": {"location": "westeurope", "resourceGroupName": "team-b"}}},
        refused="spec.objectStorage.azure.resourceGroupName: 'team-b' is not a resource group",
    ),
    Case(
        "An MCP server that is another team's Service is refused.",
        {"librechat.mcpServers": [{"name": "x", "url": "http://chat-mongodb.team-b.svc.cluster.local:27017/"}]},
        refused="spec.librechat.mcpServers[0].url: chat-mongodb.team-b.svc.cluster.local is a Service of namespace "
        "team-b",
    ),
    Case(
        "A Service of a namespace the platform allows (shared MCP servers) is admitted.",
        {"librechat.mcpServers": [{"name": "x", "url": "http://tools.mcp-shared.svc:8080/mcp"}]},
        tenancy={"serviceNamespaces": ["mcp-shared"]},
    ),
]


def _patched(case: Case) -> dict[str, Any]:
    spec = _aws_spec()
    for path, value in case.patch.items():
        node = spec
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return spec


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.reason)
def test_tenancy(case: Case) -> None:
    spec = _patched(case)
    xr = claims_xr(spec) if case.claims else namespaced_xr(spec)
    secrets = [d for d in yaml_docs(AWS / "required-resources.yaml") if d["kind"] == "Secret"]
    function_input = {**INPUT, "tenancy": case.tenancy} if case.tenancy else INPUT
    rsp = run(request(xr, required=required_for(xr, secrets), function_input=function_input))
    message = fatal(rsp)
    if case.refused is None:
        assert message is None, results(rsp)
    else:
        assert message is not None and message.startswith(case.refused), message
        assert "tenancy." in message, "the message names where the platform allows it"


def test_a_bad_tenancy_input_is_fatal() -> None:
    """A CIDR in the platform's input that is not one is a Fatal result naming the input field and what it must be."""
    xr = namespaced_xr()
    function_input = {**INPUT, "tenancy": {"cidrs": ["ten-dot-something"]}}
    message = fatal(run(request(xr, required=required_for(xr, []), function_input=function_input)))
    assert message and message.startswith("Composition input tenancy.cidrs")
    assert "'ten-dot-something' is not a network in CIDR notation, e.g. 10.20.0.0/16" in message, message


def _bucket_name(rsp: Any) -> str:
    bucket = desired(rsp)["aws-files-bucket"]
    return str(bucket["metadata"]["annotations"]["crossplane.io/external-name"])


def test_bucket_names_are_keyed_with_the_platform_seed() -> None:
    """A bucket's name (a global namespace) ends in an HMAC keyed with the platform's seed: nobody can compute it
    ahead of the workspace and take it first; the same seed always gives the same name."""
    xr = namespaced_xr(_aws_spec())
    secrets = [d for d in yaml_docs(AWS / "required-resources.yaml") if d["kind"] == "Secret"]
    names = {
        seed: _bucket_name(run(request(xr, required=required_for(xr, secrets), seed=seed)))
        for seed in ("a" * 32, "b" * 32)
    }
    assert names["a" * 32] != names["b" * 32]
    assert names["a" * 32] == _bucket_name(run(request(xr, required=required_for(xr, secrets), seed="a" * 32)))
    unkeyed = hashlib.sha256(b"team-a/chat/files").hexdigest()[:8]
    assert not any(name.endswith(unkeyed) for name in names.values()), "the public hash would be guessable"


def test_an_existing_bucket_keeps_its_name() -> None:
    """A bucket created before names were keyed (or with another seed) keeps its name: the workspace never
    switches to a new, empty bucket."""
    xr = namespaced_xr(_aws_spec())
    secrets = [d for d in yaml_docs(AWS / "required-resources.yaml") if d["kind"] == "Secret"]
    observed = {
        "aws-files-bucket": {
            "apiVersion": "s3.aws.m.upbound.io/v1beta1",
            "kind": "Bucket",
            "metadata": {
                "name": "chat-files-x",
                "namespace": "team-a",
                "annotations": {"crossplane.io/external-name": "chat-team-a-files-20ae4c60"},
            },
            "spec": {"forProvider": {"region": "eu-west-1"}},
        }
    }
    rsp = run(request(xr, observed=observed, required=required_for(xr, secrets)))
    assert _bucket_name(rsp) == "chat-team-a-files-20ae4c60"
    assert rsp.desired.composite.resource["status"]["integrations"]  # composed, not refused


def test_a_claims_selector_selects_only_the_teams_own_resources() -> None:
    """Cluster-scoped managed resources (claims flavour) would let a team's selector pick another team's subnets:
    the selector also requires the platform's tenancy labels (by default the claim namespace label), which a
    team's own labels cannot override. A namespaced resource selects in its own namespace already."""
    spec = _aws_spec()
    del spec["database"]["aws"]["subnetIds"]
    spec["database"]["aws"]["subnetSelector"] = {
        "matchLabels": {"tier": "private", "crossplane.io/claim-namespace": "team-b"}
    }
    secrets = [d for d in yaml_docs(AWS / "required-resources.yaml") if d["kind"] == "Secret"]
    for xr, labels in (
        (claims_xr(spec), {"tier": "private", "crossplane.io/claim-namespace": "team-a"}),
        (namespaced_xr(spec), {"tier": "private", "crossplane.io/claim-namespace": "team-b"}),
    ):
        rsp = run(request(xr, required=required_for(xr, secrets)))
        group = desired(rsp)["aws-database-subnet-group"]
        assert group["spec"]["forProvider"]["subnetIdSelector"] == {"matchLabels": labels}, xr["kind"]
