"""The wiring plan: which services run, where they live, how they are reached and which Secret holds what.

Plain data, no Crossplane types. Each service module contributes its part (`plan_part`: its Service and port,
its Secrets, what it gives LibreChat) and build_plan only assembles the parts, in the order fn.PLAN_PARTS lists
them; a part reads what the parts before it filled. This module forms every name and URL from what the parts
say (Draft.name, Endpoint.url); the services' resources read the plan and never each other.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from function import placements, tenancy
from function.clusterdns import ClusterDNS
from function.placements import Placement
from function.spec import (
    AIWorkspaceSpec,
    DatabaseProvider,
    DataDeletionPolicy,
    EmbeddingsProvider,
    ObjectStorageProvider,
    SecretKeySelector,
    SpecError,
    SpeechImplementation,
)
from function.tenancy import Tenancy
from function.versions import OVERRIDABLE_IMAGES

CLAIM_NAME_LABEL = "crossplane.io/claim-name"
CLAIM_NAMESPACE_LABEL = "crossplane.io/claim-namespace"
CLUSTER_DOMAIN = "svc.cluster.local"


# Every composed name is a DNS-1035 label (what a Service's name must be) of at most 63 characters; a Helm
# release name at most 53; a CronJob's at most 52 (its Jobs add 11).
NAME_LIMIT = 63
RELEASE_NAME_LIMIT = 53
CRON_JOB_NAME_LIMIT = 52
_DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def fit(name: str, limit: int = NAME_LIMIT) -> str:
    """`name` when it is a DNS-1035 label within `limit`; else a readable prefix of it and a stable hash of the
    whole, so two long names never collide and the same name always gives the same result."""
    if len(name) <= limit and _DNS_1035.fullmatch(name):
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    clean = re.sub(r"[^a-z0-9-]+", "-", name.lower())
    if not clean[:1].isalpha():
        clean = f"w-{clean}"
    prefix = clean[: limit - len(digest) - 1].rstrip("-")
    return f"{prefix}-{digest}"


_CLOUDS = ("aws", "gcp", "azure")
# Every part of a name a workspace composes in its namespace: <workspace>-<part>, fitted to the kind's limit (the
# chart adds -configenv to LibreChat's fullname, cert-manager writes -librechat-tls).
PARTS = frozenset(
    {
        "librechat",
        "librechat-configenv",
        "librechat-env",
        "librechat-config",
        "librechat-files",
        "librechat-tls",
        "datastores",
        "mongodb",
        "meilisearch",
        "meilisearch-metrics",
        "redis",
        "searxng",
        "searxng-settings",
        "firecrawl",
        "firecrawl-api",
        "firecrawl-worker",
        "firecrawl-nuq-worker",
        "firecrawl-extract-worker",
        "firecrawl-playwright",
        "firecrawl-postgres",
        "firecrawl-redis",
        "speaches",
        "ollama",
        "vllm",
        "rag-api",
        "rag-database",
        "pgvector",
        "backups",
        "backup",
        "mongodb-restore",
        "pgvector-restore",
        "alerts",
        "workload-secrets",
        "team-keys",
        *(f"{cloud}-database-admin" for cloud in _CLOUDS),
        *(f"{cloud}-database-connection" for cloud in _CLOUDS),
        *(f"{provider}-files-connection" for provider in (*_CLOUDS, "s3")),
    }
)
# Workspace names that must not end in -<ending>: for parts <ending>-<part> and <part>, workspace W's
# <ending>-<part> and workspace W-<ending>'s <part> would be one object (chat's firecrawl-redis and
# chat-firecrawl's redis), so two workspaces of a namespace would share a volume and delete each other's data.
RESERVED_ENDINGS = tuple(
    sorted({first[: -len(second) - 1] for first in PARTS for second in PARTS if first.endswith(f"-{second}")})
)


def object_name(workspace: str, component: str, limit: int = NAME_LIMIT) -> str:
    """The name of a workspace's object: <workspace>-<component>, fitted to the kind's limit."""
    if component not in PARTS:
        raise ValueError(f"{component} is not among plan.PARTS, which keeps workspace names from colliding")
    return fit(f"{workspace}-{component}", limit)


def check_name(name: str) -> None:
    """Refuse a workspace name whose objects would be another workspace's (RESERVED_ENDINGS)."""
    for ending in RESERVED_ENDINGS:
        if name.endswith(f"-{ending}"):
            other = name.removesuffix(f"-{ending}")
            raise SpecError(
                f"metadata.name: {name} ends in -{ending}, so its parts would be named like those of a workspace "
                f"named {other} ({name}-redis is {other}'s {ending}-redis); choose a name that does not end in "
                f"-{ending}"
            )


LIBRECHAT = "librechat"
# Firecrawl's processes (all run its image): each one reaches its Redis, its Postgres, Playwright and SearXNG.
# Crossplane fetches each referenced Secret whole on every call: a workspace references at most this many.
MAX_REFERENCED_SECRETS = 16
# The backup CronJob's pods, and the restore CronJobs' (by app label): what reaches the databases and the bucket.
BACKUP = "backup"
RESTORES = ("mongodb-restore", "pgvector-restore")
BACKUP_JOBS = (BACKUP, *RESTORES)
# In a placement, the Release that renders the workspace's Secrets in its cluster: LibreChat's waits for it.
WORKLOAD_SECRETS_RELEASE = "workload-secrets-release"
FIRECRAWL_PROCESSES = ("firecrawl-api", "firecrawl-worker", "firecrawl-nuq-worker", "firecrawl-extract-worker")


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
    app: str = ""  # the app.kubernetes.io/name label of the pods behind it

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
    field: str  # the spec field that references it, for messages
    header: bool = False  # sent as (part of) an HTTP header by LibreChat, which also fills {{...}} placeholders in it


@dataclass(frozen=True)
class ClusterService:
    """An in-cluster Service that a team's URL names (an MCP server, a MinIO, a Keycloak): the network policies
    let `caller` reach its namespace on `port`, since a CIDR rule never matches pods on CNIs such as Cilium."""

    caller: str  # the app label of the calling workload
    namespace: str
    port: int
    host_port: str  # as LibreChat's SSRF guard compares it


@dataclass(frozen=True)
class TeamKey:
    """A key of the team's Secret that a workload other than LibreChat reads by reference (an LLM key, a token).
    In a placement's cluster the team's Secret does not exist: the function copies the key into the workspace's
    own Secret there (Plan.team_keys_secret), under team_key_name(ref)."""

    ref: SecretKeySelector
    field: str  # the spec field that references it, for messages


def team_key_name(ref: SecretKeySelector) -> str:
    """The key under which a team's Secret key is copied: <secret>_<key> ('_' is in no Secret's name, so two
    references never share one), or a prefix of it and a stable hash when that is longer than a key may be."""
    name = f"{ref.name}_{ref.key}"
    if len(name) <= 253:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{ref.name[:100]}_{ref.key[:100]}_{digest}"


@dataclass(frozen=True)
class GeneratedSecret:
    """A secret the function generates once and keeps stable: where it is stored and how long it is."""

    secret: str  # name of the composed Secret holding it
    key: str
    nbytes: int  # random bytes, rendered as 2*nbytes hex characters


@dataclass(frozen=True)
class Speech:
    """One direction of speech as LibreChat calls it: the provider section of librechat.yaml it fills (openai for
    OpenAI and Speaches, azureOpenAI, elevenlabs), the full endpoint URL, model and voices."""

    implementation: SpeechImplementation
    key_env: str  # the env var holding the key LibreChat sends
    url: str | None  # None: the provider's default (api.openai.com, api.elevenlabs.io)
    allowed_address: str | None  # host:port to exempt from LibreChat's SSRF guard
    model: str
    voices: tuple[str, ...] = ()
    language: str | None = None
    azure: AzureSpeech | None = None  # Azure OpenAI: the resource, deployment and API version
    voice_settings: tuple[tuple[str, float | bool], ...] = ()  # ElevenLabs' voice_settings, as set

    @property
    def provider(self) -> str:
        """The key of librechat.yaml's speech.stt/tts section LibreChat reads this provider from."""
        return {SpeechImplementation.AZURE_OPENAI: "azureOpenAI", SpeechImplementation.ELEVENLABS: "elevenlabs"}.get(
            self.implementation, "openai"
        )


@dataclass(frozen=True)
class AzureSpeech:
    instance_name: str
    deployment_name: str
    api_version: str


@dataclass(frozen=True)
class ModelEndpoint:
    """A self-hosted model server LibreChat gets as a custom endpoint."""

    name: str  # endpoint name in LibreChat (Ollama's must start with "ollama" for model fetching)
    endpoint: Endpoint
    base_url: str
    api_key_env: str | None  # env var holding the key, None when the server needs none
    models: tuple[str, ...]


@dataclass(frozen=True)
class RAG:
    """The RAG API, its embeddings and the Postgres it keeps them in."""

    endpoint: Endpoint
    embeddings: EmbeddingsProvider
    embeddings_model: str
    database: DatabaseProvider
    database_secret: str  # normalised connection Secret the RAG API reads: host, port, username, password, database
    pgvector: Endpoint | None  # the in-cluster database, None on a cloud
    admin_secret: str  # where a cloud database's admin password lives
    connection_secret: str  # where the cloud database's provider writes its connection details
    instance_name: str  # the cloud database's name (RDS identifier, Cloud SQL instance, flexible server)


@dataclass(frozen=True)
class Files:
    """Where LibreChat keeps files: the strategy, the bucket and where its credentials come from."""

    provider: ObjectStorageProvider
    strategy: str  # LibreChat fileStrategy: local, s3 or azure_blob
    bucket: str  # bucket or container name ("" for local)
    account: str  # Azure storage account name ("" elsewhere)
    connection_secret: str  # where the provider writes the bucket credentials
    user: str  # IAM user / service account name for the credentials
    url: str  # where the files live, for status


@dataclass(frozen=True)
class Backups:
    """Scheduled dumps of the in-cluster databases: which ones, and where they are written."""

    mongodb: Endpoint | None  # the in-cluster MongoDB, None when LibreChat uses an existing one
    pgvector: Endpoint | None  # the in-cluster Postgres of the RAG API, None when off or on a cloud
    volume: str | None  # the protected backup volume's PVC, None when the dumps go to the files bucket
    prefix: str  # where the dumps go: a key prefix in the bucket, or a directory on the volume


@dataclass(frozen=True)
class Platform:
    """What the platform team sets in the Composition's function input: provider configs, image overrides, what
    teams may use (tenancy), the cluster's own address ranges and where its DNS answers."""

    helm: str = "default"
    kubernetes: str = "default"
    images: tuple[tuple[str, str], ...] = ()  # (name in versions.OVERRIDABLE_IMAGES, image reference)
    tenancy: Tenancy = field(default_factory=Tenancy)
    # The cluster's pod and service ranges: internet egress excludes them (and the metadata ranges).
    cluster_networks: tuple[str, ...] = ()
    # The control plane's cluster's DNS: the only destination of port 53 for workspaces without a placement.
    cluster_dns: ClusterDNS = field(default_factory=ClusterDNS)
    placements: tuple[Placement, ...] = ()  # the workload clusters (and regions) teams may pick

    def image(self, name: str) -> str:
        """The image to run for `name`: the platform's override, else the pin in versions.py."""
        return dict(self.images).get(name) or OVERRIDABLE_IMAGES[name].reference


@dataclass(frozen=True)
class Plan:
    workspace: Workspace
    spec: AIWorkspaceSpec
    platform: Platform
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
    # Where it runs: a placement's cluster and regions, None for the control plane's own cluster.
    placement: Placement | None = None
    team_keys: tuple[TeamKey, ...] = field(default=())
    team_keys_secret: str = ""  # in a placement's cluster, the workspace's copy of the team_keys
    workload_secrets: str = ""  # in a placement, the control-plane Secret whose values carry its Secrets there
    mcp_allowed_addresses: tuple[str, ...] = field(default=())
    # Services the team's URLs name in the cluster (its own namespace's, or one the platform allows), by caller.
    cluster_services: tuple[ClusterService, ...] = field(default=())

    # Optional services: None when disabled.
    searxng: Endpoint | None = None
    searxng_secret: str = ""
    firecrawl: Endpoint | None = None
    firecrawl_playwright: Endpoint | None = None
    firecrawl_postgres: Endpoint | None = None
    firecrawl_redis: Endpoint | None = None
    firecrawl_secret: str = ""
    firecrawl_llm_key: SecretKeySelector | None = None
    speaches: Endpoint | None = None
    speaches_secret: str = ""
    stt: Speech | None = None
    tts: Speech | None = None
    ollama: ModelEndpoint | None = None
    ollama_pulls: tuple[str, ...] = ()
    vllm: ModelEndpoint | None = None
    vllm_secret: str = ""
    rag: RAG | None = None
    files: Files | None = None
    backups: Backups | None = None

    def references(self) -> list[tuple[SecretKeySelector, str, bool]]:
        """Every Secret key of the team's the function copies, with the field that references it and whether it is
        sent as an HTTP header: LibreChat's, and in a placement the keys other workloads read (team_keys)."""
        copied = [(e.ref, e.field, e.header) for e in self.env_from_secrets]
        if self.placement is not None:
            copied += [(k.ref, k.field, False) for k in self.team_keys]
        return copied

    def referenced_secrets(self) -> list[SecretKeySelector]:
        """Every Secret key the team references that the function copies, stable order, no repeats."""
        seen: dict[tuple[str, str], SecretKeySelector] = {}
        for ref, _, _ in self.references():
            seen.setdefault((ref.name, ref.key), ref)
        return [seen[k] for k in sorted(seen)]

    def secret_key(self, ref: SecretKeySelector) -> tuple[str, str]:
        """(Secret, key) a workload reads a team's key from: the team's own Secret, or in a placement's cluster the
        workspace's copy of it."""
        if self.placement is None:
            return ref.name, ref.key
        return self.team_keys_secret, team_key_name(ref)

    @property
    def kubernetes_provider_config(self) -> str:
        """The provider-kubernetes config every Object uses: the placement's, else the platform's."""
        return self.placement.kubernetes_provider_config_name if self.placement else self.platform.kubernetes

    @property
    def helm_provider_config(self) -> str:
        """The provider-helm config every Release uses: the placement's, else the platform's."""
        return self.placement.helm_provider_config_name if self.placement else self.platform.helm

    @property
    def cluster_networks(self) -> tuple[str, ...]:
        """The pod and service ranges of every cluster the platform names: the control plane's (the input's) and
        each placement's. None of them is 'the internet' to a workspace, wherever it runs: from a workload cluster
        that routes to the control plane, the providers holding every cloud credential would be."""
        networks = [*self.platform.cluster_networks]
        for placement in self.platform.placements:
            networks += placement.cluster_networks
        return tuple(dict.fromkeys(networks))

    @property
    def cluster_dns(self) -> ClusterDNS:
        """Where the DNS of the cluster the workspace runs in answers: the placement's, else the input's. Unlike
        the networks, never another cluster's: port 53 is opened only to the DNS the pods use."""
        return self.placement.cluster_dns if self.placement else self.platform.cluster_dns

    def model_endpoints(self) -> list[ModelEndpoint]:
        return [m for m in (self.ollama, self.vllm) if m is not None]

    def web_search_addresses(self) -> list[str]:
        """host:port of every in-cluster service LibreChat's web search calls."""
        return sorted(e.host_port for e in (self.searxng, self.firecrawl) if e is not None)

    @property
    def librechat_pods(self) -> dict[str, str]:
        """The labels of LibreChat's pods: the chart's selector labels, its fullname and the release's name."""
        return {
            "app.kubernetes.io/name": self.librechat_fullname,
            "app.kubernetes.io/instance": self.librechat_fullname,
        }

    def connections(self) -> list[tuple[str, Endpoint]]:
        """Every call inside the workspace: (the calling workload's app label, the endpoint it calls), from the
        same endpoints the URLs are formed from. The network policies allow exactly these."""
        out: list[tuple[str, Endpoint]] = []
        speech = [s for s in (self.stt, self.tts) if s and s.implementation is SpeechImplementation.SPEACHES]
        called = [
            self.mongodb,
            self.meilisearch,
            self.redis,
            self.searxng,
            self.firecrawl,
            self.speaches if speech else None,
            *(model.endpoint for model in self.model_endpoints()),
            self.rag.endpoint if self.rag else None,
        ]
        out += [(LIBRECHAT, endpoint) for endpoint in called if endpoint is not None]
        if self.searxng:
            out.append(("searxng", self.redis))  # its cache, database 1 of the workspace's Valkey
        if self.firecrawl_redis and self.firecrawl_postgres and self.firecrawl_playwright:
            for process in FIRECRAWL_PROCESSES:
                out += [
                    (process, e) for e in (self.firecrawl_redis, self.firecrawl_postgres, self.firecrawl_playwright)
                ]
                if self.searxng:
                    out.append((process, self.searxng))
        if self.rag:
            if self.rag.pgvector:
                out.append(("rag-api", self.rag.pgvector))
            if self.rag.embeddings is EmbeddingsProvider.OLLAMA and self.ollama:
                out.append(("rag-api", self.ollama.endpoint))
        if self.backups:
            for database in (self.backups.mongodb, self.backups.pgvector):
                if database:
                    out += [(BACKUP, database), (f"{database.app}-restore", database)]
        return out

    def object_name(self, component: str, limit: int = NAME_LIMIT) -> str:
        return object_name(self.workspace.name, component, limit)


def workspace_from_xr(xr: dict[str, Any]) -> Workspace:
    """Identify the workspace from the observed composite resource, whichever flavour it is."""
    metadata = xr.get("metadata", {})
    namespace = metadata.get("namespace")
    if namespace:
        check_name(metadata["name"])
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
    check_name(claim_name)
    return Workspace(name=claim_name, namespace=claim_namespace, flavour=Flavour.CLAIMS)


def url_host_port(url: str) -> str:
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


@dataclass(frozen=True)
class Reserved:
    """What a cloud refuses in a name beyond its characters and length (`refuses`, searched in the whole name). A
    refused name loses the words `removes` matches from its readable part (the hash still tells workspaces apart)
    and gets a leading "w", as a digit-led one does, where it would start with one of `prefixes`."""

    refuses: re.Pattern[str]
    removes: re.Pattern[str] | None = None
    prefixes: tuple[str, ...] = ()


# An S3 bucket name "must not start with the prefix xn--", "sthree-" or "amzn-s3-demo-" (Amazon S3 User Guide,
# general purpose bucket naming rules, docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
S3_RESERVED = Reserved(re.compile(r"^(xn--|sthree-|amzn-s3-demo-)"), prefixes=("xn--", "sthree-", "amzn-s3-demo-"))
# A Cloud Storage bucket name "cannot begin with the goog prefix" and "cannot contain google or close misspellings,
# such as g00gle" (cloud.google.com/storage/docs/buckets#naming). Once refused, every g, run of o or 0, g goes.
GCS_RESERVED = Reserved(re.compile(r"^goog|g[o0]+g[l1]e"), removes=re.compile(r"g[o0]+g"))
# An Azure resource with a public endpoint (a flexible server's and a storage account's DNS names) may not hold
# MICROSOFT or WINDOWS anywhere nor start with LOGIN (learn.microsoft.com/azure/azure-resource-manager/
# troubleshooting/error-reserved-resource-name); its other reserved words are refused as the whole name only, which
# a name ending in a hash never is.
AZURE_PUBLIC_RESERVED = Reserved(
    re.compile(r"microsoft|windows|^login"), removes=re.compile(r"microsoft|windows"), prefixes=("login",)
)


def cloud_name(
    namespace: str,
    name: str,
    suffix: str,
    *,
    max_len: int = 63,
    alnum: bool = False,
    key: bytes = b"",
    reserved: Reserved | None = None,
) -> str:
    """A stable name for a cloud resource of this workspace, valid for every cloud whatever the workspace's name:
    a readable prefix of lower-case letters, digits and single '-' starting with a letter, and a hash of
    namespace/name/suffix so that two teams' workspaces never collide. `reserved` is what the cloud also refuses;
    a name that holds none of it is the same with or without it.

    Names in a global namespace (buckets, storage accounts) pass `key`: the hash is then an HMAC with the
    platform's key, so nobody can compute a workspace's bucket name ahead of it and take the name first."""
    message = f"{namespace}/{name}/{suffix}".encode()
    digest = (hmac.new(key, message, hashlib.sha256) if key else hashlib.sha256(message)).hexdigest()[:8]
    separator = "" if alnum else "-"
    readable = f"{name}{suffix}" if alnum else f"{name}-{namespace}-{suffix}"
    prefix = re.sub(r"[^a-z0-9]+", separator, readable.lower()).strip("-")

    def assemble(prefix: str, lead: bool = False) -> str:
        if lead or not prefix[:1].isalpha():
            prefix = f"w{separator}{prefix}".rstrip("-")
        return f"{prefix[: max_len - len(digest) - len(separator)].rstrip('-')}{separator}{digest}"

    out = assemble(prefix)
    if reserved is None or not reserved.refuses.search(out):
        return out  # as it always was: a name its cloud took stays the same
    while reserved.removes is not None and reserved.removes.search(prefix):
        prefix = re.sub(r"-{2,}", "-", reserved.removes.sub("", prefix)).strip("-")
    return assemble(prefix, lead=(prefix + separator).startswith(reserved.prefixes))


def database_instance_name(namespace: str, name: str, provider: DatabaseProvider, key: bytes = b"") -> str:
    """The cloud database's name: an RDS identifier, a Cloud SQL instance or an Azure flexible server, whose name
    is a global DNS name (<name>.postgres.database.azure.com) and so keyed."""
    if provider is DatabaseProvider.AZURE:
        return cloud_name(namespace, name, "rag", key=key, reserved=AZURE_PUBLIC_RESERVED)
    return cloud_name(namespace, name, "rag")


def files_bucket_name(namespace: str, name: str, provider: ObjectStorageProvider, key: bytes = b"") -> str:
    """The name of the workspace's bucket, in a global namespace (keyed), with what its cloud also reserves."""
    reserved = {ObjectStorageProvider.AWS: S3_RESERVED, ObjectStorageProvider.GCP: GCS_RESERVED}.get(provider)
    return cloud_name(namespace, name, "files", key=key, reserved=reserved)


def storage_account_name(namespace: str, name: str, key: bytes = b"") -> str:
    """An Azure storage account's name: 3 to 24 lower-case letters and digits, a global DNS name (keyed)."""
    return cloud_name(namespace, name, "files", max_len=24, alnum=True, key=key, reserved=AZURE_PUBLIC_RESERVED)


@dataclass(frozen=True)
class Part:
    """What one service contributes to the plan: the Plan fields it fills (its endpoints, the names of its Secrets,
    its settings as LibreChat sees them), the secrets generated for it, and the team's Secret keys it gives
    LibreChat (copied into LibreChat's env)."""

    fields: Mapping[str, Any] = field(default_factory=dict)
    generated: tuple[GeneratedSecret, ...] = ()
    env_from: tuple[EnvFromSecret, ...] = ()
    reads: tuple[TeamKey, ...] = ()  # the team's Secret keys its own workloads read by reference


@dataclass(frozen=True)
class Draft:
    """What a part is given: who the workspace is, its spec, the platform, and the fields the parts before it
    filled (a part reads another's endpoint from here, never from the other module)."""

    workspace: Workspace
    spec: AIWorkspaceSpec
    platform: Platform
    name_key: bytes  # keys the hash of names in a cloud's global namespace (cloud_name)
    filled: Mapping[str, Any]

    def name(self, component: str, limit: int = NAME_LIMIT) -> str:
        """The name of the workspace's object for `component` (one of PARTS)."""
        return object_name(self.workspace.name, component, limit)

    def endpoint(self, component: str, port: int, scheme: str = "http", limit: int = NAME_LIMIT) -> Endpoint:
        """The in-cluster Service of `component`, named for it and selecting its pods (app label `component`)."""
        return Endpoint(self.name(component, limit), self.workspace.namespace, port, scheme=scheme, app=component)

    def get(self, plan_field: str) -> Any:
        """A Plan field an earlier part filled; None when none did."""
        return self.filled.get(plan_field)


PlanPart = Callable[[Draft], Part]


def build_plan(
    workspace: Workspace,
    spec: AIWorkspaceSpec,
    platform: Platform,
    parts: Sequence[PlanPart],
    name_key: bytes = b"",
) -> Plan:
    """The workspace's wiring, assembled from the services' parts in order: each part sees what the parts before
    it filled, and the placement the spec picks (its defaults filled into the spec). `name_key` keys the hash of
    names in a cloud's global namespace (cloud_name)."""
    tenancy.check(spec, workspace.namespace, workspace.flavour is Flavour.NAMESPACED, platform.tenancy)
    placement = placements.select(spec, workspace.namespace, platform.placements)
    placed = placements.place(spec, placement)
    if placement is not None and placed is not spec:
        # The regions a placement fills in are held to the same tenancy as a team's own (its ingress defaults are
        # the platform's own choice for its cluster, as tenancy is for what teams write).
        regions_only = placed.model_copy(update={"librechat": spec.librechat})
        try:
            tenancy.check(regions_only, workspace.namespace, workspace.flavour is Flavour.NAMESPACED, platform.tenancy)
        except SpecError as error:
            raise SpecError(
                f"spec.placement: placement {placement.name} fills in what the platform's tenancy refuses ({error}); "
                f"choose another placement, or ask the platform team to align the placement with its tenancy"
            ) from None
    spec = placed
    filled: dict[str, Any] = {"placement": placement}
    generated: list[GeneratedSecret] = []
    env_from: list[EnvFromSecret] = []
    reads: list[TeamKey] = []
    for part_of in parts:
        part = part_of(Draft(workspace, spec, platform, name_key, MappingProxyType(dict(filled))))
        twice = sorted(filled.keys() & part.fields.keys())
        if twice:
            raise ValueError(f"{part_of.__module__}.{part_of.__name__} fills {', '.join(twice)}, filled already")
        filled.update(part.fields)
        generated += part.generated
        env_from += part.env_from
        reads += part.reads
    plan = Plan(
        workspace=workspace,
        spec=spec,
        platform=platform,
        retain_data=spec.data_deletion_policy == DataDeletionPolicy.RETAIN,
        generated_secrets=tuple(generated),
        env_from_secrets=tuple(env_from),
        team_keys=tuple(reads),
        **filled,
    )
    _check_referenced(plan)
    return plan


def _check_referenced(plan: Plan) -> None:
    """Refuse a workspace that references more Secrets than Crossplane fetches for one."""
    references = plan.references()
    distinct = sorted({ref.name for ref, _, _ in references})
    if len(distinct) > MAX_REFERENCED_SECRETS:
        over = next(field for ref, field, _ in references if ref.name == distinct[MAX_REFERENCED_SECRETS])
        raise SpecError(
            f"{over}: the workspace references {len(distinct)} Secrets, more than the "
            f"{MAX_REFERENCED_SECRETS} Crossplane fetches for one workspace; keep the keys in fewer Secrets"
        )


def files_url(provider: ObjectStorageProvider, bucket: str, account: str, endpoint: str) -> str:
    urls = {
        ObjectStorageProvider.AWS: f"s3://{bucket}",
        ObjectStorageProvider.GCP: f"gs://{bucket}",
        ObjectStorageProvider.AZURE: f"https://{account}.blob.core.windows.net/files",
        ObjectStorageProvider.S3: f"{endpoint.rstrip('/')}/{bucket}",
    }
    return urls[provider]


# The composed resource holding each globally named cloud resource (a bucket, a storage account).
GLOBALLY_NAMED = {
    ObjectStorageProvider.AWS: "aws-files-bucket",
    ObjectStorageProvider.GCP: "gcp-files-bucket",
    ObjectStorageProvider.AZURE: "azure-files-account",
}
AZURE_SERVER = "azure-database-server"


def with_existing_names(plan: Plan, external_names: dict[str, str]) -> Plan:
    """The plan with the globally unique names its cloud resources were created with before names were keyed
    (cloud_name): a workspace keeps its bucket and its server for life. Only this workspace's own former name is
    taken from what is observed, never any other: a team that edits its composed resources' external names
    cannot point the workspace's policies at another team's bucket."""
    ns, name = plan.workspace.namespace, plan.workspace.name
    files, rag = plan.files, plan.rag
    if files is not None and files.provider in GLOBALLY_NAMED:
        existing = external_names.get(GLOBALLY_NAMED[files.provider])
        if files.provider is ObjectStorageProvider.AZURE:
            if existing and existing == storage_account_name(ns, name):
                files = replace(files, account=existing, url=files_url(files.provider, files.bucket, existing, ""))
        elif existing and existing == files_bucket_name(ns, name, files.provider):
            files = replace(files, bucket=existing, url=files_url(files.provider, existing, files.account, ""))
    if rag is not None and rag.database is DatabaseProvider.AZURE:
        existing = external_names.get(AZURE_SERVER)
        if existing and existing == database_instance_name(ns, name, rag.database):
            rag = replace(rag, instance_name=existing)
    if files is plan.files and rag is plan.rag:
        return plan
    return replace(plan, files=files, rag=rag)


@dataclass(frozen=True)
class Integration:
    """One thing LibreChat is wired to: what provides it, the URL in use and the components behind it."""

    name: str  # chat, search, scraper, stt, tts, rag, files, model:<endpoint>
    provider: str
    url: str
    components: tuple[str, ...]  # composed components whose readiness it depends on


def integrations(plan: Plan) -> list[Integration]:
    out = [Integration("chat", "librechat", plan.chat_url, ("librechat",))]
    if plan.searxng:
        out.append(Integration("search", "searxng", plan.searxng.url, ("librechat", "searxng")))
    if plan.firecrawl:
        out.append(Integration("scraper", "firecrawl", plan.firecrawl.url, ("librechat", "firecrawl")))
    if plan.rag:
        rag_parts: tuple[str, ...] = ("librechat", "rag-api", "database")
        out.append(Integration("rag", f"{plan.rag.database.value}-postgres", plan.rag.endpoint.url, rag_parts))
    if plan.files:
        file_parts: tuple[str, ...] = ("librechat",) if plan.files.provider.value == "s3" else ("librechat", "files")
        out.append(Integration("files", plan.files.provider.value, plan.files.url, file_parts))
    for direction, speech in (("stt", plan.stt), ("tts", plan.tts)):
        if speech:
            default = "https://api.openai.com/v1/audio/" + ("transcriptions" if direction == "stt" else "speech")
            parts = (
                ("librechat", "speaches") if speech.implementation == SpeechImplementation.SPEACHES else ("librechat",)
            )
            out.append(Integration(direction, speech.implementation.value, speech.url or default, parts))
    if plan.spec.openai.enabled:
        out.append(Integration("model:openAI", "openai", "https://api.openai.com/v1", ("librechat",)))
    if plan.spec.anthropic.enabled:
        out.append(Integration("model:anthropic", "anthropic", "https://api.anthropic.com", ("librechat",)))
    for model in plan.model_endpoints():
        component = model.name.lower()
        out.append(Integration(f"model:{model.name}", component, model.base_url, ("librechat", component)))
    return out
