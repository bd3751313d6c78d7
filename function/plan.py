"""The wiring plan: which services run, where they live, how they are reached and which Secret holds what.

Plain data, no Crossplane types. This is the only module that knows how a service's name, URL or port is
formed; services read the plan and never each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from function.spec import AIWorkspaceSpec, DataDeletionPolicy, SecretKeySelector, SpecError

CLAIM_NAME_LABEL = "crossplane.io/claim-name"
CLAIM_NAMESPACE_LABEL = "crossplane.io/claim-namespace"
CLUSTER_DOMAIN = "svc.cluster.local"


class Flavour(StrEnum):
    """How the workspace was requested, which decides the kinds it is composed of."""

    CLAIMS = "claims"  # LegacyCluster CompositeAIWorkspace behind an AIWorkspace claim
    NAMESPACED = "namespaced"  # Crossplane v2 namespaced AIWorkspace


@dataclass(frozen=True)
class Workspace:
    """Who the workspace is: its name and the namespace its workloads run in."""

    name: str
    namespace: str
    flavour: Flavour


@dataclass(frozen=True)
class Endpoint:
    """An in-cluster Service: its name, namespace and port, and the URLs formed from them."""

    service: str
    namespace: str
    port: int
    scheme: str = "http"

    @property
    def host(self) -> str:
        return f"{self.service}.{self.namespace}.{CLUSTER_DOMAIN}"

    @property
    def host_port(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host_port}"


@dataclass(frozen=True)
class EnvFromSecret:
    """An env var of LibreChat whose value is copied from a Secret key the team references."""

    env: str
    ref: SecretKeySelector
    prefix: str = ""


@dataclass(frozen=True)
class GeneratedSecret:
    """A secret the function generates once and keeps stable: where it is stored and how long it is."""

    secret: str  # name of the composed Secret holding it
    key: str
    nbytes: int  # random bytes, rendered as 2*nbytes hex characters


@dataclass(frozen=True)
class ProviderConfigs:
    """The provider configs the platform team names in the Composition's function input."""

    helm: str = "default"
    kubernetes: str = "default"


@dataclass(frozen=True)
class Plan:
    workspace: Workspace
    spec: AIWorkspaceSpec
    provider_configs: ProviderConfigs
    retain_data: bool

    # Names of the objects in the workspace's namespace.
    librechat_fullname: str
    librechat_env_secret: str
    librechat_config_map: str
    librechat_files_pvc: str
    datastore_secret: str
    tls_secret: str | None

    librechat: Endpoint
    chat_url: str
    mongodb: Endpoint | None  # None when an existing MongoDB is used
    meilisearch: Endpoint
    redis: Endpoint

    generated_secrets: tuple[GeneratedSecret, ...]
    env_from_secrets: tuple[EnvFromSecret, ...]
    mcp_allowed_addresses: tuple[str, ...] = field(default=())

    def referenced_secrets(self) -> list[SecretKeySelector]:
        """Every Secret key the team references, in a stable order and without repeats."""
        seen: dict[tuple[str, str], SecretKeySelector] = {}
        for entry in self.env_from_secrets:
            seen.setdefault((entry.ref.name, entry.ref.key), entry.ref)
        return [seen[k] for k in sorted(seen)]

    def object_name(self, component: str) -> str:
        return f"{self.workspace.name}-{component}"


def workspace_from_xr(xr: dict[str, Any]) -> Workspace:
    """Identify the workspace from the observed composite resource, whichever flavour it is."""
    metadata = xr.get("metadata", {})
    namespace = metadata.get("namespace")
    if namespace:
        return Workspace(name=metadata["name"], namespace=namespace, flavour=Flavour.NAMESPACED)
    labels = metadata.get("labels", {})
    claim_name = labels.get(CLAIM_NAME_LABEL)
    claim_namespace = labels.get(CLAIM_NAMESPACE_LABEL)
    if not claim_name or not claim_namespace:
        raise SpecError(
            f"{xr.get('kind', 'CompositeAIWorkspace')} {metadata.get('name', '')} has no claim: create an AIWorkspace "
            f"claim in the team's namespace instead of the composite resource (the workspace runs in the claim's "
            f"namespace, read from the {CLAIM_NAMESPACE_LABEL} label)"
        )
    return Workspace(name=claim_name, namespace=claim_namespace, flavour=Flavour.CLAIMS)


def _url_host_port(url: str) -> str:
    """host:port of a URL as LibreChat's SSRF guard compares it (a missing port means 80 or 443)."""
    scheme, _, rest = url.partition("://")
    authority = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    if authority.startswith("["):
        host, _, port = authority[1:].partition("]")
        port = port.removeprefix(":")
        host = f"[{host}]"
    else:
        host, _, port = authority.partition(":")
    if not port:
        port = "443" if scheme in ("https", "wss") else "80"
    return f"{host}:{port}"


def mcp_header_env(server: str, header: str) -> str:
    """Env var that carries a secret MCP header into LibreChat (referenced as ${VAR} in librechat.yaml)."""
    clean = "".join(c if c.isalnum() else "_" for c in f"{server}_{header}").upper()
    return f"MCP_{clean}"


def build_plan(workspace: Workspace, spec: AIWorkspaceSpec, provider_configs: ProviderConfigs) -> Plan:
    ns = workspace.namespace
    name = workspace.name

    def obj(component: str) -> str:
        return f"{name}-{component}"

    librechat = spec.librechat
    tls = librechat.ingress.tls
    ingress_tls = librechat.ingress.enabled and tls.enabled
    tls_secret = (tls.secret_name or obj("librechat-tls")) if ingress_tls else None
    scheme = "https" if ingress_tls else "http"

    env_secret = obj("librechat-env")
    datastore_secret = obj("datastores")
    generated = [
        GeneratedSecret(env_secret, "CREDS_KEY", 32),
        GeneratedSecret(env_secret, "CREDS_IV", 16),
        GeneratedSecret(env_secret, "JWT_SECRET", 32),
        GeneratedSecret(env_secret, "JWT_REFRESH_SECRET", 32),
        GeneratedSecret(env_secret, "MEILI_MASTER_KEY", 32),
        GeneratedSecret(datastore_secret, "redis-password", 24),
    ]
    if librechat.authentication.openid:
        generated.append(GeneratedSecret(env_secret, "OPENID_SESSION_SECRET", 32))

    env_from: list[EnvFromSecret] = []
    mongodb: Endpoint | None = None
    if librechat.mongodb.existing_uri_secret_ref:
        env_from.append(EnvFromSecret("MONGO_URI", librechat.mongodb.existing_uri_secret_ref))
    else:
        mongodb = Endpoint(obj("mongodb"), ns, 27017, scheme="mongodb")
        generated.append(GeneratedSecret(datastore_secret, "mongodb-root-password", 24))
    if spec.openai.enabled and spec.openai.api_key_secret_ref:
        env_from.append(EnvFromSecret("OPENAI_API_KEY", spec.openai.api_key_secret_ref))
    if spec.anthropic.enabled and spec.anthropic.api_key_secret_ref:
        env_from.append(EnvFromSecret("ANTHROPIC_API_KEY", spec.anthropic.api_key_secret_ref))
    auth = librechat.authentication
    for provider, login in (("GITHUB", auth.github), ("GOOGLE", auth.google), ("OPENID", auth.openid)):
        if login:
            env_from.append(EnvFromSecret(f"{provider}_CLIENT_SECRET", login.client_secret_ref))
    mcp_addresses: set[str] = set()
    for server in librechat.mcp_servers:
        mcp_addresses.add(_url_host_port(server.url))
        for header in server.headers:
            if header.secret_ref:
                env_from.append(
                    EnvFromSecret(mcp_header_env(server.name, header.name), header.secret_ref, header.prefix or "")
                )

    env_names = [entry.env for entry in env_from]
    if len(env_names) != len(set(env_names)):
        duplicate = sorted({n for n in env_names if env_names.count(n) > 1})
        raise SpecError(f"spec.librechat.mcpServers: header names map to the same env var {duplicate}; rename one")

    librechat_endpoint = Endpoint(obj("librechat"), ns, 3080)
    return Plan(
        workspace=workspace,
        spec=spec,
        provider_configs=provider_configs,
        retain_data=spec.data_deletion_policy == DataDeletionPolicy.RETAIN,
        librechat_fullname=obj("librechat"),
        librechat_env_secret=env_secret,
        librechat_config_map=obj("librechat-config"),
        librechat_files_pvc=obj("librechat-files"),
        datastore_secret=datastore_secret,
        tls_secret=tls_secret,
        librechat=librechat_endpoint,
        chat_url=f"{scheme}://{librechat.domain}",
        mongodb=mongodb,
        meilisearch=Endpoint(obj("meilisearch"), ns, 7700),
        redis=Endpoint(obj("redis"), ns, 6379, scheme="redis"),
        generated_secrets=tuple(generated),
        env_from_secrets=tuple(env_from),
        mcp_allowed_addresses=tuple(sorted(mcp_addresses)),
    )
