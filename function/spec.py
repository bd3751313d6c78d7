"""The AIWorkspace API: the one model both XRDs are generated from and the function parses.

Every field has a description (it becomes the XRD's documentation, shown by `kubectl explain`).
Cross-field rules are written once as a `Rule`: a CEL expression enforced at admission by the XRD and
the same check in Python, so a request that bypassed admission (a render, an old XRD) gets the same
message as a Fatal result instead of a half-rendered workspace.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import core_schema

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
SECRET_KEY = r"^[-._a-zA-Z0-9]+$"
# A DNS name with at least two labels, the last starting with a letter (a top-level domain): never an IP address,
# which an Ingress rule's host may not be.
HOSTNAME = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$"
# A Kubernetes quantity without a sign (apimachinery's pattern; no request, limit or size is negative).
QUANTITY = (
    r"^\+?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
_SUFFIXES: dict[str, int | Decimal] = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_SUFFIXES |= {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": 1, "k": 10**3, "M": 10**6}
_SUFFIXES |= {"G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}


def quantity_value(quantity: str | int) -> Decimal:
    """The number a Kubernetes quantity stands for (2Gi, 500m, 1e3, 4)."""
    match = re.fullmatch(r"\+?([0-9]*\.?[0-9]*)(([KMGTPE]i|[numkMGTPE])?|[eE]([-+]?[0-9.]+))", str(quantity))
    if not match:
        raise ValueError(f"{quantity!r} is not a quantity")
    number, suffix, exponent = match.group(1), match.group(2), match.group(4)
    if exponent is not None:
        if abs(Decimal(exponent)) > 30:  # far beyond any request, limit or size Kubernetes stores
            raise ValueError(f"{quantity!r} is out of range")
        return Decimal(number) * Decimal(10) ** Decimal(exponent)
    return Decimal(number) * Decimal(_SUFFIXES[suffix or ""])


def _valid_quantity(value: str | int) -> str | int:
    if isinstance(value, bool) or not re.fullmatch(QUANTITY, str(value)):
        raise ValueError(f"{value!r} is not a quantity (e.g. 500m, 2, 512Mi, 10Gi), and not negative")
    if quantity_value(value) > 2**63:
        raise ValueError(f"{value!r} is larger than Kubernetes can store")
    return value


# A Kubernetes quantity ("500m", "2Gi", 1): int-or-string with the apimachinery pattern, checked by both.
Quantity = Annotated[
    str | int,
    AfterValidator(_valid_quantity),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": QUANTITY,
            "x-kubernetes-int-or-string": True,
        }
    ),
]


ENV_REFERENCE_MESSAGE = (
    "must not contain '${': LibreChat expands ${NAME} in its config from its environment, which holds the "
    "workspace's keys and secrets; write the text without '${'"
)


def _no_env_reference(value: str) -> str:
    if "${" in value:
        raise ValueError(ENV_REFERENCE_MESSAGE)
    return value


class _LiteralText:
    """Marks a team's text that LibreChat must read literally: a `${` in it is refused at admission (CEL) and by
    the function, since LibreChat would replace `${NAME}` with its own environment's value (an API key, a
    generated secret) and send it wherever the text points."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_no_env_reference, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: Any) -> dict[str, Any]:
        out: dict[str, Any] = handler(schema)
        out.setdefault("x-kubernetes-validations", []).append(
            {"rule": "!self.contains('${')", "message": ENV_REFERENCE_MESSAGE}
        )
        return out


# Hosts a team may never point LibreChat or its datastores at: the node, cloud metadata services and names that
# resolve to them.
_LOCAL_HOSTNAMES = {"localhost", "metadata", "metadata.google.internal", "instance-data", "kubernetes.default"}
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+))*$")


def unsafe_host(url: str) -> str | None:
    """Why a team's URL must not be called (SSRF), or None: user info, loopback, link-local (cloud metadata),
    private, unspecified or otherwise non-public IP literals, IPv4-mapped IPv6, numeric hosts in decimal, octal
    or hex, and local or metadata host names. DNS names are the team's to choose."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError:
        return "is not a valid URL"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "carries user info (user@host), which hides the host really called"
    if not host:
        return "has no host"
    if host in _LOCAL_HOSTNAMES or host.endswith((".internal", ".localhost")):
        return f"names {host}, a local or metadata host"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if _NUMERIC_HOST.fullmatch(host):
            return f"names the host {host} in a numeric form that resolves to an IP address; use a DNS name"
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if not address.is_global:
        return f"points at {address}, which is not a public address (loopback, link-local, metadata or private)"
    return None


def _network(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not a CIDR (e.g. 10.20.0.0/16)") from None
    return value


# An IPv4 or IPv6 network in CIDR notation, checked by both: the pattern at admission, the address in the function.
CIDR = Annotated[
    str,
    StringConstraints(
        max_length=43, pattern=r"^([0-9]{1,3}([.][0-9]{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)/[0-9]{1,3}$"
    ),
    AfterValidator(_network),
]

# URLs a team gives that name the node, the cloud's metadata service or a private range, in the forms CEL's
# regular expressions can see: user info, local and metadata names, loopback, link-local, private, shared and
# unspecified IPv4 ranges, numeric hosts (decimal, octal, hex), and hosts not starting with a letter or digit
# (an IPv6 literal in brackets). Refused at admission
# and by the function alike; unsafe_host then checks the address itself.
UNSAFE_URL = (
    r"(?i)^[a-z][a-z0-9+.-]*://("
    r"[^/?#]*@"
    r"|(localhost|metadata|instance-data|kubernetes[.]default|[^/?#:@]*[.](internal|localhost)"
    r"|127[.][0-9.]*|0|0[.][0-9.]*|0[0-9x][0-9a-fx.]*|10[.][0-9.]*|169[.]254[.][0-9.]*|192[.]168[.][0-9.]*"
    r"|172[.](1[6-9]|2[0-9]|3[01])[.][0-9.]*|100[.](6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])[.][0-9.]*"
    r"|[^a-z0-9/?#][^/?#]*|[0-9]+)[.]?([:/?#]|$))"
)
UNSAFE_URL_MESSAGE = (
    "must not point at the node, a cloud metadata service or a private address (loopback, link-local, private "
    "ranges, IP literals, numeric hosts, user info); name a public host or an in-cluster Service by DNS name"
)


def _safe_url(value: str) -> str:
    if re.match(UNSAFE_URL, value):
        raise ValueError(UNSAFE_URL_MESSAGE)
    reason = unsafe_host(value)  # the address itself, in forms a regular expression cannot see
    if reason:
        raise ValueError(f"{value!r} {reason}; name a public host or an in-cluster Service by DNS name")
    return value


class _PublicURL:
    """Marks a team's URL that LibreChat or its datastores call: refused at admission (CEL) and by the function
    when it names a local, metadata or private host (UNSAFE_URL), and by the function when its address is not
    public (unsafe_host)."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_safe_url, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: Any) -> dict[str, Any]:
        out: dict[str, Any] = handler(schema)
        rule = "!self.matches('" + UNSAFE_URL + "')"
        out.setdefault("x-kubernetes-validations", []).append({"rule": rule, "message": UNSAFE_URL_MESSAGE})
        return out


PublicURL = Annotated[str, _PublicURL()]

# Free text that ends up in librechat.yaml. The lengths bound the CEL rule's cost, which the API server
# estimates from them when it accepts the CRD.
Text = Annotated[str, _LiteralText()]
Name = Annotated[str, StringConstraints(min_length=1, max_length=256), _LiteralText()]


@dataclass(frozen=True)
class Rule:
    """A cross-field rule: CEL for admission, the same check in Python for the function."""

    cel: str
    message: str
    check: Callable[[Any], bool]
    field_path: str | None = None

    def schema(self) -> dict[str, str]:
        rule = {"rule": self.cel, "message": self.message}
        if self.field_path:
            rule["fieldPath"] = self.field_path
        return rule


class SpecError(ValueError):
    """A request the function cannot build a workspace from; the message names the field and the fix."""


class Model(BaseModel):
    """Base for every API object: camelCase on the wire, unknown fields rejected, rules applied."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        use_enum_values=False,
        frozen=True,
    )
    rules: ClassVar[tuple[Rule, ...]] = ()

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema: dict[str, Any] = handler(core_schema)
        schema = handler.resolve_ref_schema(schema)
        if cls.rules:
            schema["x-kubernetes-validations"] = [rule.schema() for rule in cls.rules]
        return schema

    @model_validator(mode="after")
    def _apply_rules(self) -> Self:
        for rule in self.rules:
            if not rule.check(self):
                raise ValueError(rule.message)
        return self


M = TypeVar("M", bound=Model)


def section(model: type[M], description: str) -> Any:
    """A nested object that is always present, defaulted as a whole (in the XRD, `default: {}` expanded with the
    defaults of its fields: see xrds.openapi_schema)."""
    return Field(default_factory=model, description=description, json_schema_extra={"default": {}})


class SecretKeySelector(Model):
    """A key of a Secret in the workspace's namespace."""

    name: str = Field(
        description="Name of the Secret, in the workspace's namespace.", pattern=DNS_SUBDOMAIN, max_length=253
    )
    key: str = Field(description="Key within the Secret's data.", pattern=SECRET_KEY, max_length=253)


class ResourceList(Model):
    cpu: Quantity | None = Field(default=None, description="CPU, e.g. 500m or 2.")
    memory: Quantity | None = Field(default=None, description="Memory, e.g. 512Mi or 4Gi.")


class Resources(Model):
    """Compute resources of a container."""

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Self:
        for name in ("cpu", "memory"):
            request = getattr(self.requests, name, None) if self.requests else None
            limit = getattr(self.limits, name, None) if self.limits else None
            if request is not None and limit is not None and quantity_value(request) > quantity_value(limit):
                raise ValueError(
                    f"requests.{name} {request} exceeds limits.{name} {limit}; raise the limit or lower the request"
                )
        return self

    requests: ResourceList | None = Field(default=None, description="Minimum resources the scheduler reserves.")
    limits: ResourceList | None = Field(default=None, description="Maximum resources the container may use.")


class AccessMode(StrEnum):
    READ_WRITE_ONCE = "ReadWriteOnce"
    READ_WRITE_MANY = "ReadWriteMany"


class Storage(Model):
    """A persistent volume claim."""

    @model_validator(mode="after")
    def _some_space(self) -> Self:
        if self.size is not None and quantity_value(self.size) <= 0:
            raise ValueError(f"size {self.size} is no space; give a size such as 10Gi")
        return self

    size: Quantity | None = Field(default=None, description="Requested size, e.g. 10Gi. Defaults per service.")
    storage_class_name: str | None = Field(
        default=None,
        description="StorageClass to use; the cluster's default class when unset.",
        pattern=DNS_SUBDOMAIN,
    )
    access_mode: AccessMode = Field(
        default=AccessMode.READ_WRITE_ONCE,
        description="ReadWriteOnce for one replica; ReadWriteMany when several LibreChat replicas share files.",
    )


class Datastore(Model):
    """An in-cluster datastore that the workspace runs for LibreChat."""

    storage: Storage = section(Storage, "Its persistent volume.")
    resources: Resources | None = Field(default=None, description="Its compute resources; sane defaults when unset.")


class MongoDB(Datastore):
    """LibreChat's database: in-cluster MongoDB (official image, authentication on) or an existing one."""

    existing_uri_secret_ref: SecretKeySelector | None = Field(
        default=None,
        description="Use an existing MongoDB instead of running one: a Secret key holding its full connection URI "
        "(mongodb:// or mongodb+srv://, credentials and database included).",
    )


class IngressTLS(Model):
    """TLS for the chat URL: an existing certificate Secret, or one that cert-manager issues."""

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel="!(has(self.clusterIssuer) && has(self.issuer))",
            message="spec.librechat.ingress.tls: set clusterIssuer or issuer, not both",
            check=lambda m: not (m.cluster_issuer and m.issuer),
        ),
    )

    enabled: bool = Field(default=True, description="Serve the chat URL over HTTPS.")
    secret_name: str | None = Field(
        default=None,
        pattern=DNS_SUBDOMAIN,
        description="TLS Secret holding the certificate (default <workspace>-librechat-tls). With a cert-manager "
        "issuer, cert-manager writes it; without one it must exist in the workspace's namespace, or the ingress "
        "controller serves its default certificate.",
    )
    cluster_issuer: str | None = Field(
        default=None, description="cert-manager ClusterIssuer that issues the certificate."
    )
    issuer: str | None = Field(default=None, description="cert-manager Issuer, in the workspace's namespace.")


class Ingress(Model):
    enabled: bool = Field(default=True, description="Expose LibreChat at https://<domain> through an Ingress.")
    class_name: str | None = Field(default=None, description="IngressClass to use; the cluster default when unset.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Extra annotations for the Ingress.")
    tls: IngressTLS = section(IngressTLS, "TLS for the chat URL.")


class OAuthClient(Model):
    client_id: str = Field(description="OAuth client ID registered with the identity provider.", min_length=1)
    client_secret_ref: SecretKeySelector = Field(description="Secret key holding the OAuth client secret.")


class GitHubLogin(OAuthClient):
    """Sign in with GitHub. Register the callback https://<domain>/oauth/github/callback."""

    enterprise_base_url: PublicURL | None = Field(
        default=None,
        pattern=r"^https://",
        max_length=2048,
        description="Base URL of a GitHub Enterprise Server, if not github.com.",
    )


class GoogleLogin(OAuthClient):
    """Sign in with Google. Register the callback https://<domain>/oauth/google/callback."""


class OpenIDLogin(OAuthClient):
    """Sign in with an OpenID Connect provider. Register the callback https://<domain>/oauth/openid/callback."""

    issuer: PublicURL = Field(
        description="The provider's issuer URL (its discovery document lives beneath it).",
        pattern=r"^https://",
        max_length=2048,
    )
    scope: str = Field(default="openid profile email", description="Scopes requested at login.")
    button_label: str | None = Field(default=None, description="Text of the login button.")


class Authentication(Model):
    """Who may sign in, and how."""

    allow_email_login: bool = Field(default=True, description="Allow sign-in with email and password.")
    allow_registration: bool = Field(
        default=False, description="Allow anyone who can reach the site to register with email and password."
    )
    allow_social_registration: bool = Field(
        default=True,
        description="Create an account on first social login (limited by allowedDomains).",
    )
    allowed_domains: list[Name] = Field(
        default_factory=list,
        max_length=100,
        description="Only email addresses of these domains may register or sign in; empty allows any domain.",
    )
    github: GitHubLogin | None = Field(default=None, description="GitHub login.")
    google: GoogleLogin | None = Field(default=None, description="Google login.")
    openid: OpenIDLogin | None = Field(default=None, description="OpenID Connect login.")


class Interface(Model):
    """What users see in LibreChat: a welcome message and which features are switched on."""

    welcome_message: Text | None = Field(
        default=None, max_length=1000, description="Message on the start page; {{user.name}} is replaced."
    )
    model_select: bool = Field(default=True, description="Show the model selector.")
    parameters: bool = Field(default=True, description="Let users change model parameters.")
    presets: bool = Field(default=True, description="Let users save presets.")
    prompts: bool = Field(default=True, description="Prompt library.")
    bookmarks: bool = Field(default=True, description="Conversation bookmarks.")
    multi_convo: bool = Field(default=True, description="Side-by-side conversations.")
    agents: bool = Field(default=True, description="Agents.")
    memories: bool = Field(default=True, description="User memories.")
    temporary_chat: bool = Field(default=True, description="Temporary chats that are not saved.")
    run_code: bool = Field(default=False, description="Code interpreter (needs a code interpreter API).")
    web_search: bool | None = Field(
        default=None,
        description="Web search in chats. Unset: shown when the workspace wires a search provider (spec.searxng), "
        "hidden otherwise, since LibreChat would ask users for third-party keys; true shows it regardless.",
    )
    file_search: bool = Field(default=True, description="Search in uploaded files (RAG).")
    shared_links: bool = Field(default=True, description="Let users share conversations by link.")


class MCPTransport(StrEnum):
    STREAMABLE_HTTP = "streamable-http"
    SSE = "sse"
    WEBSOCKET = "websocket"


class MCPHeader(Model):
    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel="has(self.value) != has(self.secretRef)",
            message="spec.librechat.mcpServers[].headers[]: set exactly one of value or secretRef",
            check=lambda m: (m.value is None) != (m.secret_ref is None),
        ),
    )

    name: str = Field(description="HTTP header name, e.g. Authorization.", pattern=r"^[A-Za-z0-9-]+$")
    value: Text | None = Field(default=None, max_length=4096, description="A literal value (never a credential).")
    secret_ref: SecretKeySelector | None = Field(default=None, description="A Secret key holding the value.")
    prefix: Text | None = Field(
        default=None, max_length=256, description="Text before the secret value, e.g. 'Bearer '."
    )


class MCPServer(Model):
    """A Model Context Protocol server that LibreChat's agents may use."""

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel="self.type == 'websocket' ? self.url.startsWith('ws') : self.url.startsWith('http')",
            message="spec.librechat.mcpServers[].url: websocket servers need a ws:// or wss:// URL, "
            "streamable-http and sse servers an http:// or https:// URL",
            check=lambda m: m.url.startswith("ws") if m.type == MCPTransport.WEBSOCKET else m.url.startswith("http"),
        ),
    )

    name: str = Field(description="Name shown in LibreChat.", pattern=r"^[a-zA-Z0-9_-]+$", max_length=63)
    type: MCPTransport = Field(default=MCPTransport.STREAMABLE_HTTP, description="Transport.")
    url: Annotated[Text, _PublicURL()] = Field(
        description="Server URL.", pattern=r"^(https?|wss?)://[^\s]+$", max_length=2048
    )
    headers: list[MCPHeader] = Field(default_factory=list, max_length=20, description="Headers sent to the server.")
    timeout_ms: int | None = Field(default=None, ge=1000, le=600000, description="Request timeout in milliseconds.")


class SpeechImplementation(StrEnum):
    SPEACHES = "speaches"
    OPENAI = "openai"


class SpeechSelection(Model):
    """Which service LibreChat uses for this direction of speech."""

    implementation: SpeechImplementation = Field(
        description="speaches (self-hosted, needs spec.speaches.enabled) or openai (needs spec.openai.enabled)."
    )


class RerankerType(StrEnum):
    NONE = "none"
    JINA = "jina"
    COHERE = "cohere"


class Reranker(Model):
    """How LibreChat reranks web search results."""

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel="self.type == 'none' || has(self.apiKeySecretRef)",
            message="spec.librechat.webSearch.reranker.apiKeySecretRef: the jina and cohere rerankers need an API "
            "key; reference a Secret key holding it, or use type: none",
            check=lambda m: m.type == RerankerType.NONE or m.api_key_secret_ref is not None,
        ),
    )

    type: RerankerType = Field(default=RerankerType.NONE, description="none, jina or cohere.")
    api_key_secret_ref: SecretKeySelector | None = Field(
        default=None, description="Secret key holding the Jina or Cohere API key."
    )


class Autoscaling(Model):
    """A HorizontalPodAutoscaler (autoscaling/v2) that scales the pods on CPU use; while enabled it replaces the
    fixed replica count. Needs the cluster's resource metrics (metrics-server)."""

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel="self.minReplicas <= self.maxReplicas",
            message="minReplicas must not exceed maxReplicas; raise maxReplicas or lower minReplicas",
            check=lambda m: m.min_replicas <= m.max_replicas,
            field_path=".minReplicas",
        ),
    )

    enabled: bool = Field(default=False, description="Scale the pods with a HorizontalPodAutoscaler.")
    min_replicas: int = Field(default=1, ge=1, le=50, description="Fewest pods.")
    max_replicas: int = Field(default=4, ge=1, le=50, description="Most pods.")
    target_cpu_utilization: int = Field(
        default=75, ge=10, le=100, description="Average CPU use the autoscaler aims for, in percent of the request."
    )


class WebSearch(Model):
    """Web search in LibreChat: SearXNG searches and Firecrawl scrapes, when those services are enabled."""

    reranker: Reranker = section(Reranker, "Reranker of search results (none unless a key is given).")


class LibreChat(Model):
    """The chat application and everything it needs."""

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel="self.replicas == 1 || self.storage.accessMode == 'ReadWriteMany'",
            message="spec.librechat.replicas: more than one replica must share uploaded files; "
            "set spec.librechat.storage.accessMode: ReadWriteMany or keep replicas: 1",
            check=lambda m: m.replicas == 1 or m.storage.access_mode == AccessMode.READ_WRITE_MANY,
        ),
        Rule(
            cel="!self.autoscaling.enabled || self.autoscaling.maxReplicas == 1 || "
            "self.storage.accessMode == 'ReadWriteMany'",
            message="spec.librechat.autoscaling: more than one replica must share uploaded files; set "
            "spec.librechat.storage.accessMode: ReadWriteMany or keep autoscaling.maxReplicas: 1",
            check=lambda m: not m.autoscaling.enabled
            or m.autoscaling.max_replicas == 1
            or m.storage.access_mode == AccessMode.READ_WRITE_MANY,
        ),
        Rule(
            cel="!has(self.mcpServers) || self.mcpServers.all(a, self.mcpServers.exists_one(b, b.name == a.name))",
            message="spec.librechat.mcpServers: names must be unique",
            check=lambda m: len({s.name for s in m.mcp_servers}) == len(m.mcp_servers),
        ),
    )

    domain: str = Field(
        description="Public hostname of the chat, e.g. chat.example.com.", pattern=HOSTNAME, max_length=253
    )
    replicas: int = Field(
        default=1, ge=1, le=20, description="LibreChat pods. Redis is always wired, so more than one works."
    )
    resources: Resources | None = Field(
        default=None,
        description="LibreChat's compute resources; defaults to 250m/512Mi requested, 2Gi limit.",
    )
    autoscaling: Autoscaling = section(
        Autoscaling, "Autoscaling of LibreChat's pods (replaces replicas while enabled; needs ReadWriteMany storage)."
    )
    storage: Storage = section(Storage, "Volume for uploaded files and images (default 10Gi).")
    ingress: Ingress = section(Ingress, "How the chat is exposed.")
    authentication: Authentication = section(Authentication, "Sign-in and registration.")
    interface: Interface = section(Interface, "Welcome message and feature switches.")
    mcp_servers: list[MCPServer] = Field(default_factory=list, max_length=50, description="MCP servers.")
    mongodb: MongoDB = section(MongoDB, "LibreChat's MongoDB (in-cluster by default, 8Gi).")
    meilisearch: Datastore = section(Datastore, "Meilisearch for conversation search (in-cluster, 5Gi).")
    redis: Datastore = section(Datastore, "Valkey cache shared by LibreChat's replicas (in-cluster, 1Gi).")
    stt: SpeechSelection | None = Field(default=None, description="Speech-to-text; off when unset.")
    tts: SpeechSelection | None = Field(default=None, description="Text-to-speech; off when unset.")
    web_search: WebSearch = section(WebSearch, "Web search (wired when spec.searxng is enabled).")


DEFAULT_OPENAI_MODELS = ("gpt-4o", "gpt-4o-mini")
OPENAI_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse")
KOKORO_VOICES = (
    "af_heart",
    "af_alloy",
    "af_aoede",
    "af_bella",
    "af_jessica",
    "af_kore",
    "af_nicole",
    "af_nova",
    "af_river",
    "af_sarah",
    "af_sky",
    "am_adam",
    "am_echo",
    "am_eric",
    "am_fenrir",
    "am_liam",
    "am_michael",
    "am_onyx",
    "am_puck",
    "am_santa",
    "bf_alice",
    "bf_emma",
    "bf_isabella",
    "bf_lily",
    "bm_daniel",
    "bm_fable",
    "bm_george",
    "bm_lewis",
    "jf_alpha",
    "jf_gongitsune",
    "jf_nezumi",
    "jf_tebukuro",
    "jm_kumo",
    "zf_xiaobei",
    "zf_xiaoni",
    "zf_xiaoxiao",
    "zf_xiaoyi",
    "zm_yunjian",
    "zm_yunxi",
    "zm_yunxia",
    "zm_yunyang",
    "ef_dora",
    "em_alex",
    "em_santa",
    "ff_siwis",
    "hf_alpha",
    "hf_beta",
    "hm_omega",
    "hm_psi",
    "if_sara",
    "im_nicola",
    "pf_dora",
    "pm_alex",
    "pm_santa",
)
OpenAIVoice = StrEnum("OpenAIVoice", {v.upper(): v for v in OPENAI_VOICES})  # type: ignore[misc]
KokoroVoice = StrEnum("KokoroVoice", {v.upper(): v for v in KOKORO_VOICES})  # type: ignore[misc]


class OpenAISTT(Model):
    model: Name = Field(default="whisper-1", description="Transcription model.")


class OpenAITTS(Model):
    model: Name = Field(default="tts-1", description="Speech model, e.g. tts-1 or tts-1-hd.")
    voice: OpenAIVoice = Field(default=OpenAIVoice("alloy"), description="OpenAI voice.")


DEFAULT_ANTHROPIC_MODELS = ("claude-3-5-sonnet-20241022", "claude-3-5-haiku-20241022")


class OpenAI(Model):
    """OpenAI as a model provider."""

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel="!self.enabled || has(self.apiKeySecretRef)",
            message="spec.openai.apiKeySecretRef: OpenAI is enabled but has no API key; "
            "reference a Secret key holding it, or set spec.openai.enabled: false",
            check=lambda m: not m.enabled or m.api_key_secret_ref is not None,
        ),
    )

    enabled: bool = Field(default=False, description="Offer OpenAI models in LibreChat.")
    api_key_secret_ref: SecretKeySelector | None = Field(default=None, description="Secret key holding the API key.")
    models: list[Name] = Field(
        default_factory=lambda: list(DEFAULT_OPENAI_MODELS),
        min_length=1,
        max_length=100,
        description="Chat models offered to users.",
        json_schema_extra={"default": list(DEFAULT_OPENAI_MODELS)},
    )
    stt: OpenAISTT = section(OpenAISTT, "Speech-to-text through OpenAI (when spec.librechat.stt selects openai).")
    tts: OpenAITTS = section(OpenAITTS, "Text-to-speech through OpenAI (when spec.librechat.tts selects openai).")


class Anthropic(Model):
    """Anthropic as a model provider."""

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel="!self.enabled || has(self.apiKeySecretRef)",
            message="spec.anthropic.apiKeySecretRef: Anthropic is enabled but has no API key; "
            "reference a Secret key holding it, or set spec.anthropic.enabled: false",
            check=lambda m: not m.enabled or m.api_key_secret_ref is not None,
        ),
    )

    enabled: bool = Field(default=False, description="Offer Anthropic models in LibreChat.")
    api_key_secret_ref: SecretKeySelector | None = Field(default=None, description="Secret key holding the API key.")
    models: list[Name] = Field(
        default_factory=lambda: list(DEFAULT_ANTHROPIC_MODELS),
        min_length=1,
        max_length=100,
        description="Chat models offered to users.",
        json_schema_extra={"default": list(DEFAULT_ANTHROPIC_MODELS)},
    )


class GPU(Model):
    """GPUs for a model server: the resource requested and where such nodes are."""

    count: int = Field(default=1, ge=1, le=16, description="GPUs per pod.")
    resource_name: str = Field(default="nvidia.com/gpu", description="Extended resource name of the GPU.")
    node_selector: dict[str, str] = Field(default_factory=dict, description="Labels of the nodes that have them.")
    tolerate_gpu_taint: bool = Field(
        default=True, description="Tolerate the usual <resourceName>:NoSchedule taint of GPU nodes."
    )


class Service(Model):
    """Common settings of an optional service."""

    enabled: bool = Field(default=False, description="Run this service and wire it into LibreChat.")
    replicas: int = Field(default=1, ge=1, le=20, description="Pods of the service.")
    resources: Resources | None = Field(default=None, description="Compute resources; sane defaults when unset.")


class FirecrawlProviderType(StrEnum):
    OPENAI = "openai"


class FirecrawlProvider(Model):
    """The LLM Firecrawl uses to extract structured data."""

    type: FirecrawlProviderType = Field(default=FirecrawlProviderType.OPENAI, description="LLM provider.")
    api_key_secret_ref: SecretKeySelector | None = Field(
        default=None, description="Secret key holding the provider's API key; defaults to spec.openai's key."
    )
    model: str = Field(default="gpt-4o-mini", description="Model for extraction and processing.", min_length=1)
    embedding_model: str = Field(
        default="text-embedding-3-small", description="Embedding model for semantic search.", min_length=1
    )


class Firecrawl(Service):
    """Firecrawl scrapes pages for LibreChat's web search: API, workers, Playwright, own Postgres and Redis."""

    workers: int = Field(default=1, ge=1, le=20, description="Queue worker pods.")
    autoscaling: Autoscaling = section(Autoscaling, "Autoscaling of the API pods (replaces replicas while enabled).")
    worker_autoscaling: Autoscaling = section(
        Autoscaling, "Autoscaling of each kind of queue worker (replaces workers while enabled)."
    )
    provider: FirecrawlProvider = section(FirecrawlProvider, "LLM for extraction.")
    storage: Storage = section(Storage, "Volume of Firecrawl's queue database (default 10Gi).")


class SafeSearch(StrEnum):
    OFF = "Off"
    MODERATE = "Moderate"
    STRICT = "Strict"


# A SearXNG engine name as settings.yml names engines (e.g. google, bing images): LibreChat trims what it reads.
EngineName = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9]([a-z0-9 ._-]*[a-z0-9])?$")
]
DEFAULT_SEARXNG_ENGINES = ("google", "bing", "brave", "duckduckgo", "wikipedia")


class SearXNG(Service):
    """SearXNG, the metasearch engine behind LibreChat's web search."""

    engines: list[EngineName] = Field(
        default_factory=lambda: list(DEFAULT_SEARXNG_ENGINES),
        min_length=1,
        max_length=50,
        description="Search engines to keep (SearXNG engine names); all others are disabled.",
        json_schema_extra={"default": list(DEFAULT_SEARXNG_ENGINES)},
    )
    autoscaling: Autoscaling = section(Autoscaling, "Autoscaling of the pods (replaces replicas while enabled).")
    safe_search: SafeSearch = Field(default=SafeSearch.MODERATE, description="Filter explicit results.")
    language: Name = Field(default="auto", description="Default search language, e.g. auto, en, de.")


class SpeachesSTT(Model):
    model: Name = Field(
        default="large-v3",
        description="faster-whisper model: a size such as large-v3 or distil-large-v3, or a Hugging Face id.",
    )
    language: Name | None = Field(default=None, description="Spoken language, e.g. en; detected when unset.")


DEFAULT_KOKORO_VOICES = ("af_heart", "af_bella")


class SpeachesTTS(Model):
    voices: list[KokoroVoice] = Field(
        default_factory=lambda: [KokoroVoice(v) for v in DEFAULT_KOKORO_VOICES],
        min_length=1,
        max_length=60,
        description="Kokoro voices offered in LibreChat (OpenAI voice names are not Kokoro voices).",
        json_schema_extra={"default": list(DEFAULT_KOKORO_VOICES)},
    )
    language: Name | None = Field(default=None, description="Language of speech, e.g. en-US.")


def _shared_volume_rule(field: str) -> Rule:
    """Several pods of a service share its volume, so they need ReadWriteMany."""
    return Rule(
        cel="self.replicas == 1 || self.storage.accessMode == 'ReadWriteMany'",
        message=f"spec.{field}.replicas: more than one replica shares the model volume; set "
        f"spec.{field}.storage.accessMode: ReadWriteMany or keep replicas: 1",
        check=lambda m: m.replicas == 1 or m.storage.access_mode == AccessMode.READ_WRITE_MANY,
    )


class Speaches(Service):
    """Speaches: faster-whisper speech-to-text and Kokoro text-to-speech, models cached on a volume."""

    rules: ClassVar[tuple[Rule, ...]] = (_shared_volume_rule("speaches"),)

    stt: SpeachesSTT = section(SpeachesSTT, "Speech-to-text model.")
    tts: SpeachesTTS = section(SpeachesTTS, "Text-to-speech voices.")
    gpu: GPU | None = Field(default=None, description="Run on GPUs with the CUDA image; the CPU image when unset.")
    storage: Storage = section(Storage, "Model cache volume (default 20Gi).")


class Ollama(Service):
    """Ollama, registered in LibreChat as a custom endpoint."""

    rules: ClassVar[tuple[Rule, ...]] = (_shared_volume_rule("ollama"),)

    models: list[Name] = Field(
        default_factory=lambda: ["llama3.2"],
        min_length=1,
        max_length=50,
        description="Models pulled at start and offered in LibreChat.",
        json_schema_extra={"default": ["llama3.2"]},
    )
    gpu: GPU | None = Field(default=None, description="Run on GPUs; CPU when unset.")
    storage: Storage = section(Storage, "Model volume (default 50Gi).")


class VLLM(Service):
    """vLLM serving one model, registered in LibreChat as a custom endpoint."""

    rules: ClassVar[tuple[Rule, ...]] = (_shared_volume_rule("vllm"),)

    model: Name = Field(description="Hugging Face model id, e.g. Qwen/Qwen2.5-7B-Instruct.")
    served_model_name: Name | None = Field(default=None, description="Name clients use; the model id when unset.")
    max_model_len: int | None = Field(default=None, ge=256, description="Maximum context length.")
    gpu: GPU = section(GPU, "GPUs of the server (vLLM needs at least one).")
    api_key_secret_ref: SecretKeySelector | None = Field(
        default=None, description="Secret key holding the server's API key; one is generated when unset."
    )
    hf_token_secret_ref: SecretKeySelector | None = Field(
        default=None, description="Secret key holding a Hugging Face token, for gated models."
    )
    storage: Storage = section(Storage, "Model cache volume (default 100Gi).")


class EmbeddingsProvider(StrEnum):
    OPENAI = "openai"
    OLLAMA = "ollama"


class Embeddings(Model):
    """The embeddings model the RAG API indexes files with."""

    provider: EmbeddingsProvider | None = Field(
        default=None,
        description="openai (the workspace's OpenAI key) or ollama (the workspace's Ollama). When unset: openai "
        "if spec.openai is enabled, else ollama if spec.ollama is enabled.",
    )
    model: str | None = Field(
        default=None,
        min_length=1,
        description="Embeddings model; text-embedding-3-small for openai, nomic-embed-text for ollama when unset "
        "(Ollama pulls it at start).",
    )


# CEL: is the RAG API on? Unset `enabled` means "whenever an embeddings provider is available".
RAG_ON_CEL = "(has(self.rag.enabled) ? self.rag.enabled : (self.openai.enabled || self.ollama.enabled))"
EMBEDDINGS_AVAILABLE_CEL = (
    "(has(self.rag.embeddings.provider) ? "
    "(self.rag.embeddings.provider == 'openai' ? self.openai.enabled : self.ollama.enabled) : "
    "(self.openai.enabled || self.ollama.enabled))"
)


class RAG(Model):
    """LibreChat's RAG API: file search over uploaded files, embeddings stored in Postgres with pgvector."""

    enabled: bool | None = Field(
        default=None,
        description="Run the RAG API. Unset: on whenever spec.openai or spec.ollama is enabled (they provide the "
        "embeddings); false turns it off.",
    )
    embeddings: Embeddings = section(Embeddings, "The embeddings provider and model.")
    replicas: int = Field(default=1, ge=1, le=20, description="Pods of the RAG API (stateless).")
    resources: Resources | None = Field(default=None, description="Compute resources of the RAG API.")


class ProviderConfigKind(StrEnum):
    CLUSTER = "ClusterProviderConfig"
    NAMESPACED = "ProviderConfig"


class ProviderConfigRef(Model):
    """The cloud provider's config the managed resources use (set up by the platform team)."""

    kind: ProviderConfigKind = Field(
        default=ProviderConfigKind.CLUSTER,
        description="ClusterProviderConfig, or ProviderConfig in the workspace's namespace. Claims always use the "
        "cluster-scoped ProviderConfig of that name.",
    )
    name: str = Field(default="default", pattern=DNS_SUBDOMAIN, max_length=253, description="Its name.")


class LabelSelector(Model):
    """Selects a managed resource the platform team composed elsewhere, by its labels."""

    match_labels: dict[str, str] = Field(min_length=1, description="Labels the selected resource carries.")


class DatabaseProvider(StrEnum):
    IN_CLUSTER = "inCluster"
    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"


class PostgresVersion(StrEnum):
    V16 = "16"
    V17 = "17"


def _settings_rule(prefix: str, provider: StrEnum, what: str) -> Rule:
    """provider X needs its settings block X."""
    name = provider.value
    return Rule(
        cel=f"self.provider != '{name}' || has(self.{name})",
        message=f"{prefix}.{name}: provider {name} needs its settings ({what}); add {prefix}.{name}",
        check=lambda m: m.provider != provider or getattr(m, name) is not None,
    )


def _one_of(prefix: str, fields: tuple[str, ...], fix: str) -> Rule:
    """Exactly one of several ways to give the same thing."""
    cel = " + ".join(
        f"(has(self.{f}) && size(self.{f}) > 0 ? 1 : 0)" if f.endswith(("Ids", "Cidrs")) else f"(has(self.{f}) ? 1 : 0)"
        for f in fields
    )
    attrs = tuple("".join("_" + c.lower() if c.isupper() else c for c in f) for f in fields)
    return Rule(
        cel=f"{cel} == 1",
        message=f"{prefix}: set exactly one of {', '.join(fields)}; {fix}",
        check=lambda m: sum(1 for a in attrs if getattr(m, a)) == 1,
    )


class AWSDatabase(Model):
    """RDS for PostgreSQL, private to the VPC, encrypted, password generated by the provider."""

    rules: ClassVar[tuple[Rule, ...]] = (
        _one_of(
            "spec.database.aws",
            ("subnetGroupName", "subnetIds", "subnetSelector"),
            "an existing DB subnet group, or the private subnets to compose one from",
        ),
        _one_of(
            "spec.database.aws",
            ("securityGroupIds", "vpcId", "vpcSelector"),
            "existing security groups, or the VPC to compose one in (with allowedCidrs)",
        ),
        Rule(
            cel="has(self.securityGroupIds) && size(self.securityGroupIds) > 0 || "
            "(has(self.allowedCidrs) && size(self.allowedCidrs) > 0)",
            message="spec.database.aws.allowedCidrs: a composed security group needs the CIDRs of the cluster's "
            "nodes or pods that reach Postgres (port 5432)",
            check=lambda m: bool(m.security_group_ids) or bool(m.allowed_cidrs),
        ),
    )

    region: str = Field(min_length=1, description="AWS region, e.g. eu-west-1.")
    instance_class: str = Field(default="db.t4g.medium", min_length=1, description="RDS instance class.")
    subnet_group_name: str | None = Field(default=None, min_length=1, description="An existing DB subnet group.")
    subnet_ids: list[str] = Field(
        default_factory=list, max_length=16, description="Private subnets (two AZs or more) to compose a subnet group."
    )
    subnet_selector: LabelSelector | None = Field(
        default=None, description="Select the ec2 Subnets (managed resources) to compose a subnet group from."
    )
    security_group_ids: list[str] = Field(default_factory=list, max_length=5, description="Existing security groups.")
    vpc_id: str | None = Field(default=None, min_length=1, description="VPC to compose the security group in.")
    vpc_selector: LabelSelector | None = Field(default=None, description="Select the ec2 VPC (a managed resource).")
    allowed_cidrs: list[CIDR] = Field(
        default_factory=list, max_length=20, description="CIDRs allowed to reach Postgres through the composed group."
    )
    multi_az: bool = Field(default=False, description="A standby in a second availability zone.")
    backup_retention_days: int = Field(default=7, ge=1, le=35, description="Days of automated backups.")


class SQLAvailability(StrEnum):
    ZONAL = "ZONAL"
    REGIONAL = "REGIONAL"


class GCPDatabase(Model):
    """Cloud SQL for PostgreSQL on a private IP, with a database and a user whose password the function keeps."""

    rules: ClassVar[tuple[Rule, ...]] = (
        _one_of(
            "spec.database.gcp",
            ("privateNetwork", "privateNetworkSelector"),
            "the VPC network (with private services access) Cloud SQL gets its private IP in",
        ),
    )

    region: str = Field(min_length=1, description="GCP region, e.g. europe-west1.")
    tier: str = Field(default="db-custom-1-3840", min_length=1, description="Machine tier.")
    availability_type: SQLAvailability = Field(
        default=SQLAvailability.ZONAL, description="REGIONAL adds a standby in another zone."
    )
    private_network: str | None = Field(
        default=None, min_length=1, description="VPC network self link, projects/<p>/global/networks/<n>."
    )
    private_network_selector: LabelSelector | None = Field(
        default=None, description="Select the compute Network (a managed resource)."
    )


class AzureDatabase(Model):
    """Azure Database for PostgreSQL flexible server in a delegated subnet, pgvector allow-listed."""

    location: str = Field(min_length=1, description="Azure region, e.g. westeurope.")
    resource_group_name: str = Field(min_length=1, description="Existing resource group.")
    sku_name: str = Field(default="GP_Standard_D2s_v3", min_length=1, description="Server SKU.")
    delegated_subnet_id: str = Field(
        min_length=1, description="Subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers."
    )
    private_dns_zone_id: str = Field(
        min_length=1, description="Private DNS zone (*.postgres.database.azure.com) linked to the VNet."
    )
    backup_retention_days: int = Field(default=7, ge=7, le=35, description="Days of backups.")


class Database(Model):
    """Postgres with pgvector for the RAG API: in the cluster, or a managed database on a cloud."""

    rules: ClassVar[tuple[Rule, ...]] = tuple(
        _settings_rule("spec.database", p, "region and network")
        for p in (DatabaseProvider.AWS, DatabaseProvider.GCP, DatabaseProvider.AZURE)
    )

    provider: DatabaseProvider = Field(
        default=DatabaseProvider.IN_CLUSTER,
        description="inCluster (pgvector on a volume), aws (RDS), gcp (Cloud SQL) or azure (flexible server). "
        "Changing it never deletes the old database: it is kept and reported until deleted explicitly.",
    )
    provider_config_ref: ProviderConfigRef = section(ProviderConfigRef, "Provider config of the cloud resources.")
    engine_version: PostgresVersion = Field(default=PostgresVersion.V17, description="PostgreSQL major version.")
    storage_gb: int = Field(default=20, ge=20, le=16384, description="Storage of a cloud database, in GiB.")
    database_name: str = Field(
        default="rag", pattern=r"^[a-z][a-z0-9_]{0,62}$", description="Database the RAG API uses."
    )
    deletion_protection: bool = Field(
        default=True,
        description="The cloud's own deletion protection (RDS, Cloud SQL). Set false only to allow deleting the "
        "database, together with dataDeletionPolicy: Delete.",
    )
    final_snapshot: bool = Field(
        default=True, description="Take a final snapshot (RDS) or backup (Cloud SQL) when the database is deleted."
    )
    aws: AWSDatabase | None = Field(default=None, description="RDS settings (provider aws).")
    gcp: GCPDatabase | None = Field(default=None, description="Cloud SQL settings (provider gcp).")
    azure: AzureDatabase | None = Field(default=None, description="Flexible server settings (provider azure).")
    storage: Storage = section(Storage, "Volume of the in-cluster database (default 10Gi).")
    resources: Resources | None = Field(default=None, description="Compute resources of the in-cluster database.")


class ObjectStorageProvider(StrEnum):
    LOCAL = "local"
    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"
    S3 = "s3"


class AWSBucket(Model):
    """An S3 bucket: public access blocked, bucket-owner ownership, encrypted, versioned."""

    region: str = Field(min_length=1, description="AWS region, e.g. eu-west-1.")
    role_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$",
        description="An IAM role for IRSA or EKS Pod Identity that LibreChat's pods assume: the bucket policy is "
        "attached to it and no access key is created. Without it, an IAM user with an access key is composed.",
    )
    service_account_annotations: dict[str, str] = Field(
        default_factory=dict,
        description="Annotations for LibreChat's ServiceAccount; with roleArn, eks.amazonaws.com/role-arn is set "
        "for IRSA unless given here.",
    )


class GCPBucket(Model):
    """A Cloud Storage bucket reached through its S3-compatible XML API with an HMAC key."""

    location: str = Field(min_length=1, description="Bucket location, e.g. EU or europe-west1.")
    project: str | None = Field(default=None, min_length=1, description="Project; the provider config's when unset.")


class AzureReplication(StrEnum):
    LRS = "LRS"
    ZRS = "ZRS"
    GRS = "GRS"
    GZRS = "GZRS"


class AzureBlob(Model):
    """A storage account and a private container, used through LibreChat's azure_blob strategy."""

    location: str = Field(min_length=1, description="Azure region, e.g. westeurope.")
    resource_group_name: str = Field(min_length=1, description="Existing resource group.")
    replication: AzureReplication = Field(default=AzureReplication.ZRS, description="Account replication.")


class ExistingS3(Model):
    """An existing S3-compatible bucket (MinIO, R2, Ceph...), credentials from the team's Secrets."""

    endpoint: PublicURL = Field(
        pattern=r"^https?://[^\s/]+(/.*)?$", max_length=2048, description="Endpoint URL with its scheme."
    )
    region: str = Field(default="us-east-1", min_length=1, description="Region the endpoint expects.")
    bucket: str = Field(min_length=3, max_length=63, description="Bucket name.")
    force_path_style: bool = Field(default=False, description="Path-style URLs (MinIO and most self-hosted stores).")
    access_key_id_secret_ref: SecretKeySelector = Field(description="Secret key holding the access key ID.")
    secret_access_key_secret_ref: SecretKeySelector = Field(description="Secret key holding the secret key.")


class ObjectStorage(Model):
    """Where LibreChat stores uploaded files, images and avatars."""

    rules: ClassVar[tuple[Rule, ...]] = tuple(
        _settings_rule("spec.objectStorage", p, "location and access")
        for p in (
            ObjectStorageProvider.AWS,
            ObjectStorageProvider.GCP,
            ObjectStorageProvider.AZURE,
            ObjectStorageProvider.S3,
        )
    )

    provider: ObjectStorageProvider = Field(
        default=ObjectStorageProvider.LOCAL,
        description="local (a volume), aws (S3), gcp (Cloud Storage), azure (Blob Storage) or s3 (an existing "
        "S3-compatible bucket). Changing it never deletes the old bucket: it is kept until deleted explicitly.",
    )
    provider_config_ref: ProviderConfigRef = section(ProviderConfigRef, "Provider config of the cloud resources.")
    aws: AWSBucket | None = Field(default=None, description="S3 settings (provider aws).")
    gcp: GCPBucket | None = Field(default=None, description="Cloud Storage settings (provider gcp).")
    azure: AzureBlob | None = Field(default=None, description="Blob Storage settings (provider azure).")
    s3: ExistingS3 | None = Field(default=None, description="The existing bucket (provider s3).")


LABEL_KEY = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
LABEL_VALUE = r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$"
LabelValue = Annotated[str, StringConstraints(max_length=63, pattern=LABEL_VALUE)]
# A standard five-field cron schedule (or a macro such as @daily), as a CronJob takes it.
CRON_FIELD = r"[0-9A-Za-z*/,?-]+"
CRON = rf"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|{CRON_FIELD}( {CRON_FIELD}){{4}})$"


class Monitoring(Model):
    """Monitoring through the Prometheus Operator (its CRDs must be installed): ServiceMonitors for the parts that
    expose Prometheus metrics (Meilisearch, vLLM) and a PrometheusRule with the alerts a workspace owner acts on,
    from kube-state-metrics and the kubelet's volume statistics."""

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel=f"!has(self.labels) || self.labels.all(k, size(k) <= 253 && k.matches('{LABEL_KEY}'))",
            message="spec.monitoring.labels: every key must be a Kubernetes label key (an optional DNS prefix and "
            "'/', then up to 63 letters, digits, '-', '_' or '.'), e.g. release",
            check=lambda m: all(len(k) <= 253 and re.fullmatch(LABEL_KEY, k) for k in m.labels),
        ),
    )

    enabled: bool = Field(default=False, description="Compose the ServiceMonitors and the PrometheusRule.")
    labels: dict[str, LabelValue] = Field(
        default_factory=dict,
        max_length=16,
        description="Labels on the ServiceMonitors and the PrometheusRule, so the cluster's Prometheus selects "
        "them, e.g. release: kube-prometheus-stack.",
    )
    interval: str = Field(
        default="30s", pattern=r"^[1-9][0-9]{0,3}(s|m)$", description="How often Prometheus scrapes, e.g. 30s or 1m."
    )


class Backups(Model):
    """Scheduled dumps of the in-cluster MongoDB (mongodump) and Postgres (pg_dump). They are written to the
    workspace's bucket when it has one reached with keys (under aiworkspace-backups/<namespace>/<name>/), otherwise
    to a protected backup volume. Dumps older than retentionDays are deleted after each successful one."""

    enabled: bool = Field(default=False, description="Run the backup CronJobs.")
    schedule: str = Field(
        default="0 3 * * *",
        pattern=CRON,
        max_length=128,
        description="When to back up, as a cron schedule in the cluster's time zone (default: daily at 03:00).",
    )
    retention_days: int = Field(default=14, ge=1, le=3650, description="Days a dump is kept.")
    storage: Storage = section(Storage, "The backup volume, used when the workspace has no bucket (default 20Gi).")


NamespaceName = Annotated[str, StringConstraints(pattern=DNS_LABEL, max_length=63)]


class NetworkPolicies(Model):
    """NetworkPolicies derived from the workspace's wiring: each part accepts traffic only from the parts that call
    it (LibreChat from the ingress controller's namespace, metrics from Prometheus's), every part may resolve
    names, and only the parts that need the internet (model providers, search engines, pages, model downloads,
    buckets) may reach it; the datastores reach nothing. Needs a CNI that enforces NetworkPolicies."""

    enabled: bool = Field(default=True, description="Compose the NetworkPolicies; false opts out.")
    ingress_namespace: NamespaceName = Field(
        default="ingress-nginx",
        description="Namespace of the ingress controller, the only one whose pods may reach LibreChat.",
    )
    prometheus_namespace: NamespaceName = Field(
        default="monitoring",
        description="Namespace of the Prometheus that scrapes the workspace (with spec.monitoring).",
    )


class DataDeletionPolicy(StrEnum):
    RETAIN = "Retain"
    DELETE = "Delete"


def _speech_rule(direction: str, implementation: SpeechImplementation) -> Rule:
    """spec.librechat.<direction> may select an implementation only while that service is enabled."""
    service = "speaches" if implementation == SpeechImplementation.SPEACHES else "openai"
    other = "openai" if service == "speaches" else "speaches"
    fix = "enable Speaches" if service == "speaches" else "enable OpenAI (with its API key)"

    def check(m: AIWorkspaceSpec) -> bool:
        selected = getattr(m.librechat, direction)
        return selected is None or selected.implementation != implementation or getattr(m, service).enabled

    return Rule(
        cel=f"!has(self.librechat.{direction}) || self.librechat.{direction}.implementation != '{implementation.value}'"
        f" || self.{service}.enabled",
        message=f"spec.librechat.{direction}.implementation: {implementation.value} is selected but "
        f"spec.{service}.enabled is false; {fix} or select {other}",
        check=check,
    )


class AIWorkspaceSpec(Model):
    """A team's AI workspace: LibreChat with its datastores, wired to the model providers."""

    rules: ClassVar[tuple[Rule, ...]] = (
        *(
            _speech_rule(direction, implementation)
            for direction in ("stt", "tts")
            for implementation in SpeechImplementation
        ),
        Rule(
            cel=f"!{RAG_ON_CEL} || {EMBEDDINGS_AVAILABLE_CEL}",
            message="spec.rag: the RAG API needs an embeddings provider; enable spec.openai or spec.ollama (the one "
            "spec.rag.embeddings.provider names), or set spec.rag.enabled: false",
            check=lambda m: not rag_on(m) or embeddings_provider(m) is not None,
        ),
        Rule(
            cel=f"self.database.provider == 'inCluster' || {RAG_ON_CEL}",
            message="spec.database.provider: the database serves the RAG API, which is off; enable spec.openai or "
            "spec.ollama for embeddings (or spec.rag.enabled), or keep provider: inCluster",
            check=lambda m: m.database.provider == DatabaseProvider.IN_CLUSTER or rag_on(m),
        ),
        Rule(
            cel="!self.firecrawl.enabled || has(self.firecrawl.provider.apiKeySecretRef) || self.openai.enabled",
            message="spec.firecrawl.provider.apiKeySecretRef: Firecrawl's openai provider needs a key; reference "
            "one, or enable spec.openai so Firecrawl uses the workspace's OpenAI key",
            check=lambda m: not m.firecrawl.enabled
            or m.firecrawl.provider.api_key_secret_ref is not None
            or m.openai.enabled,
        ),
    )

    librechat: LibreChat = Field(description="The chat application.")
    openai: OpenAI = section(OpenAI, "OpenAI models.")
    anthropic: Anthropic = section(Anthropic, "Anthropic models.")
    firecrawl: Firecrawl = section(Firecrawl, "Firecrawl, the scraper of LibreChat's web search.")
    searxng: SearXNG = section(SearXNG, "SearXNG, the search provider of LibreChat's web search.")
    speaches: Speaches = section(Speaches, "Speaches, self-hosted speech-to-text and text-to-speech.")
    ollama: Ollama = section(Ollama, "Ollama model server.")
    vllm: VLLM | None = Field(default=None, description="vLLM model server (set enabled and model).")
    rag: RAG = section(RAG, "LibreChat's RAG API (file search), on whenever an embeddings provider is enabled.")
    database: Database = section(Database, "Postgres with pgvector for the RAG API (in-cluster by default).")
    object_storage: ObjectStorage = section(ObjectStorage, "Where LibreChat stores files (a volume by default).")
    monitoring: Monitoring = section(Monitoring, "Prometheus Operator monitoring and alerts (off by default).")
    backups: Backups = section(Backups, "Scheduled backups of the in-cluster databases (off by default).")
    network_policies: NetworkPolicies = section(
        NetworkPolicies, "NetworkPolicies from the wiring: each part reachable only by its callers (on by default)."
    )
    data_deletion_policy: DataDeletionPolicy = Field(
        default=DataDeletionPolicy.RETAIN,
        description="What happens to volumes holding data (databases, uploads) when the workspace is deleted: "
        "Retain keeps them (re-creating the workspace with the same name picks them up again); "
        "Delete removes them with the workspace.",
    )


def rag_on(spec: AIWorkspaceSpec) -> bool:
    """Whether the RAG API runs: as set, or whenever an embeddings provider is enabled."""
    if spec.rag.enabled is not None:
        return spec.rag.enabled
    return spec.openai.enabled or spec.ollama.enabled


def embeddings_provider(spec: AIWorkspaceSpec) -> EmbeddingsProvider | None:
    """The embeddings provider in use, None when the one named (or any) is not enabled."""
    named = spec.rag.embeddings.provider
    enabled = {EmbeddingsProvider.OPENAI: spec.openai.enabled, EmbeddingsProvider.OLLAMA: spec.ollama.enabled}
    if named is not None:
        return named if enabled[named] else None
    return next((p for p in (EmbeddingsProvider.OPENAI, EmbeddingsProvider.OLLAMA) if enabled[p]), None)


class ComponentStatus(Model):
    """One part of the workspace and whether it is ready."""

    name: str = Field(description="The part, e.g. librechat, mongodb.")
    ready: bool = Field(description="Whether all of its composed resources are ready.")
    message: str | None = Field(default=None, description="What it is waiting for, when not ready.")


class IntegrationStatus(Model):
    """One integration LibreChat is wired to, the URL in use and whether its parts are ready."""

    name: str = Field(description="chat, search, scraper, stt, tts, rag, files, or model:<endpoint>.")
    provider: str = Field(description="What provides it, e.g. searxng, speaches, openai.")
    url: str = Field(description="The URL LibreChat calls.")
    ready: bool = Field(description="Whether every part it needs is ready.")


class AIWorkspaceStatus(Model):
    """What the function reports on the workspace (and so on the claim)."""

    chat_url: str | None = Field(default=None, description="The URL users open to chat.")
    ready_components: str | None = Field(default=None, description="Ready parts out of all parts, e.g. 5/7.")
    components: list[ComponentStatus] = Field(default_factory=list, description="Readiness of each part.")
    integrations: list[IntegrationStatus] = Field(
        default_factory=list, description="What LibreChat is wired to, with URLs and readiness."
    )


# Fields Crossplane itself keeps in an XR's spec: spec.crossplane for namespaced XRs, the rest for
# LegacyCluster XRs. They are Crossplane's, not the workspace's.
CROSSPLANE_SPEC_FIELDS = frozenset(
    {
        "crossplane",
        "claimRef",
        "compositionRef",
        "compositionSelector",
        "compositionRevisionRef",
        "compositionRevisionSelector",
        "compositionUpdatePolicy",
        "compositeDeletePolicy",
        "resourceRefs",
        "writeConnectionSecretToRef",
        "publishConnectionDetailsTo",
        "environmentConfigRefs",
    }
)


def parse_spec(raw: Any) -> AIWorkspaceSpec:
    """Parse an XR's spec, turning pydantic's errors into one message that names each field."""
    if not isinstance(raw, dict):
        shown = "null" if raw is None else type(raw).__name__
        raise SpecError(f"spec: must be an object holding at least spec.librechat.domain, not {shown}")
    try:
        return AIWorkspaceSpec.model_validate({k: v for k, v in raw.items() if k not in CROSSPLANE_SPEC_FIELDS})
    except ValidationError as err:
        problems = []
        for error in err.errors(include_url=False):
            location = "spec" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            problems.append(message if message.startswith("spec.") else f"{location}: {message}")
        raise SpecError("; ".join(problems)) from None
