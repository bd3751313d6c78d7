"""The AIWorkspace API: the one model both XRDs are generated from and the function parses.

Every field has a description (it becomes the XRD's documentation, shown by `kubectl explain`).
Cross-field rules are written once as a `Rule`: a CEL expression enforced at admission by the XRD and
the same check in Python, so a request that bypassed admission (a render, an old XRD) gets the same
message as a Fatal result instead of a half-rendered workspace.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel

from function.strings import (
    AWS_ROLE_ARN,
    CIDR,
    PATTERN_HINTS,
    AnnotationValue,
    AwsDbSubnetGroupName,
    AwsRegion,
    AwsRoleArn,
    AwsSecurityGroupId,
    AwsSubnetId,
    AwsVpcId,
    AzureApiVersion,
    AzureDeploymentName,
    AzureLocation,
    AzureOpenAIInstance,
    AzurePrivateDnsZoneId,
    AzureResourceGroup,
    AzureSku,
    AzureSubnetId,
    CronSchedule,
    ElevenLabsVoiceId,
    EmailDomain,
    ExtendedResourceName,
    GcpLocation,
    GcpNetwork,
    GcpProject,
    GcpRegion,
    GcpSqlTier,
    HeaderName,
    HttpsURL,
    HttpURL,
    KubernetesName,
    LabelKey,
    LabelValue,
    LanguageTag,
    MCPServerName,
    ModelId,
    NamespaceName,
    OAuthClientId,
    OAuthScope,
    PlacementName,
    PublicHostname,
    PublicURL,
    RdsInstanceClass,
    S3BucketName,
    S3Region,
    SecretKey,
    SttLanguage,
    UnquotedName,
    WelcomeText,
    free_text,
)

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


# What a portal shows first. A field marked core(n) is the n-th field a portal shows of its object; every other
# field of an object with core fields is advanced, behind the portal's switch. The XRD carries the marks as the
# x-ui-order and x-ui-advanced hints the Backstage Kubernetes ingestor reads (xrds.portal_hints), and
# portal/template.yaml splits its form by them (function/portal.py).
UI_ORDER = "x-ui-order"
UI_ADVANCED = "x-ui-advanced"


def core(order: int) -> dict[str, Any]:
    """The json_schema_extra of a core field: shown first, as the order-th field of its object."""
    return {UI_ORDER: order}


def section(model: type[M], description: str, *, core_order: int | None = None) -> Any:
    """A nested object that is always present, defaulted as a whole (in the XRD, `default: {}` expanded with the
    defaults of its fields: see xrds.openapi_schema); core_order marks it core (see core)."""
    extra: dict[str, Any] = {"default": {}, **(core(core_order) if core_order is not None else {})}
    return Field(default_factory=model, description=description, json_schema_extra=extra)


class SecretKeySelector(Model):
    """A key of a Secret in the workspace's namespace."""

    name: KubernetesName = Field(description="Name of the Secret, in the workspace's namespace.")
    key: SecretKey = Field(description="Key within the Secret's data.")


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
    storage_class_name: KubernetesName | None = Field(
        default=None,
        description="StorageClass to use (one the platform allows); the cluster's default class when unset.",
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
    secret_name: UnquotedName | None = Field(
        default=None,
        description="TLS Secret holding the certificate (default <workspace>-librechat-tls). With a cert-manager "
        "issuer, cert-manager writes it; without one it must exist in the workspace's namespace, or the ingress "
        "controller serves its default certificate.",
    )
    cluster_issuer: KubernetesName | None = Field(
        default=None, description="cert-manager ClusterIssuer that issues the certificate (one the platform allows)."
    )
    issuer: KubernetesName | None = Field(
        default=None, description="cert-manager Issuer, in the workspace's namespace."
    )


class Ingress(Model):
    enabled: bool = Field(default=True, description="Expose LibreChat at https://<domain> through an Ingress.")
    class_name: UnquotedName | None = Field(
        default=None, description="IngressClass to use; the cluster default when unset."
    )
    annotations: dict[LabelKey, AnnotationValue] = Field(
        default_factory=dict,
        max_length=32,
        description="Extra annotations for the Ingress, among those the platform allows (by default nginx's proxy "
        "body size and timeouts).",
    )
    tls: IngressTLS = section(IngressTLS, "TLS for the chat URL.")


class OAuthClient(Model):
    client_id: OAuthClientId = Field(description="OAuth client ID registered with the identity provider.")
    client_secret_ref: SecretKeySelector = Field(description="Secret key holding the OAuth client secret.")


class GitHubLogin(OAuthClient):
    """Sign in with GitHub. Register the callback https://<domain>/oauth/github/callback."""

    enterprise_base_url: HttpsURL | None = Field(
        default=None,
        description="Base URL of a GitHub Enterprise Server, if not github.com.",
    )


class GoogleLogin(OAuthClient):
    """Sign in with Google. Register the callback https://<domain>/oauth/google/callback."""


class OpenIDLogin(OAuthClient):
    """Sign in with an OpenID Connect provider. Register the callback https://<domain>/oauth/openid/callback."""

    issuer: HttpsURL = Field(description="The provider's issuer URL (its discovery document lives beneath it).")
    scope: OAuthScope = Field(default="openid profile email", description="Scopes requested at login.")
    button_label: free_text(64, min_length=1) | None = Field(  # type: ignore[valid-type]
        default=None, description="Text of the login button."
    )


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
    allowed_domains: list[EmailDomain] = Field(
        default_factory=list,
        max_length=100,
        description="Only email addresses of these domains may register or sign in; empty allows any domain.",
    )
    github: GitHubLogin | None = Field(default=None, description="GitHub login.")
    google: GoogleLogin | None = Field(default=None, description="Google login.")
    openid: OpenIDLogin | None = Field(default=None, description="OpenID Connect login.")


class Interface(Model):
    """What users see in LibreChat: a welcome message and which features are switched on."""

    welcome_message: WelcomeText | None = Field(
        default=None, description="Message on the start page; {{user.name}} is replaced with the user's name."
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

    name: HeaderName = Field(description="HTTP header name, e.g. Authorization.")
    value: free_text(1024) | None = Field(  # type: ignore[valid-type]
        default=None, description="A literal value (never a credential)."
    )
    secret_ref: SecretKeySelector | None = Field(default=None, description="A Secret key holding the value.")
    prefix: free_text(256) | None = Field(  # type: ignore[valid-type]
        default=None, description="Text before the secret value, e.g. 'Bearer '."
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

    name: MCPServerName = Field(description="Name shown in LibreChat.")
    type: MCPTransport = Field(default=MCPTransport.STREAMABLE_HTTP, description="Transport.")
    url: PublicURL = Field(
        description="Server URL: a public host, or an in-cluster Service of the workspace's namespace (or of a "
        "namespace the platform allows) as <service>.<namespace>.svc."
    )
    headers: list[MCPHeader] = Field(default_factory=list, max_length=20, description="Headers sent to the server.")
    timeout_ms: int | None = Field(default=None, ge=1000, le=600000, description="Request timeout in milliseconds.")


class SpeechImplementation(StrEnum):
    SPEACHES = "speaches"
    OPENAI = "openai"
    AZURE_OPENAI = "azureOpenAI"
    ELEVENLABS = "elevenLabs"


class STTImplementation(StrEnum):
    SPEACHES = "speaches"
    OPENAI = "openai"
    AZURE_OPENAI = "azureOpenAI"


class TTSImplementation(StrEnum):
    SPEACHES = "speaches"
    OPENAI = "openai"
    AZURE_OPENAI = "azureOpenAI"
    ELEVENLABS = "elevenLabs"


# The spec section each speech implementation is configured in (and must be enabled).
SPEECH_SECTIONS = {
    SpeechImplementation.SPEACHES: "speaches",
    SpeechImplementation.OPENAI: "openai",
    SpeechImplementation.AZURE_OPENAI: "azureOpenAI",
    SpeechImplementation.ELEVENLABS: "elevenLabs",
}


class STTSelection(Model):
    """Which service LibreChat uses for speech-to-text."""

    implementation: STTImplementation = Field(
        description="speaches (self-hosted, needs spec.speaches.enabled), openai (needs spec.openai.enabled) or "
        "azureOpenAI (needs spec.azureOpenAI.enabled)."
    )


class TTSSelection(Model):
    """Which service LibreChat uses for text-to-speech."""

    implementation: TTSImplementation = Field(
        description="speaches (self-hosted, needs spec.speaches.enabled), openai (needs spec.openai.enabled), "
        "azureOpenAI (needs spec.azureOpenAI.enabled) or elevenLabs (needs spec.elevenLabs.enabled)."
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

    domain: PublicHostname = Field(
        description="Public hostname of the chat, e.g. chat.example.com (within the domains the platform allows).",
        json_schema_extra=core(1),
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
    stt: STTSelection | None = Field(default=None, description="Speech-to-text; off when unset.")
    tts: TTSSelection | None = Field(default=None, description="Text-to-speech; off when unset.")
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
    model: ModelId = Field(default="whisper-1", description="Transcription model.")


class OpenAITTS(Model):
    model: ModelId = Field(default="tts-1", description="Speech model, e.g. tts-1 or tts-1-hd.")
    voice: OpenAIVoice = Field(default=OpenAIVoice("alloy"), description="OpenAI voice.")


class AzureOpenAISTT(Model):
    deployment_name: AzureDeploymentName = Field(
        default="whisper", description="Deployment of a transcription model (whisper)."
    )


class AzureOpenAITTS(Model):
    deployment_name: AzureDeploymentName = Field(default="tts", description="Deployment of a speech model.")
    model: ModelId = Field(default="tts-1", description="The deployment's model, e.g. tts-1 or tts-1-hd.")
    voice: OpenAIVoice = Field(default=OpenAIVoice("alloy"), description="Voice.")


class AzureOpenAISpeech(Model):
    """Azure OpenAI for speech: LibreChat calls the resource's transcription and speech deployments."""

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel="!self.enabled || (has(self.instanceName) && has(self.apiKeySecretRef))",
            message="spec.azureOpenAI.instanceName: Azure OpenAI is enabled but has no resource name or no API key "
            "(apiKeySecretRef); set both, or set spec.azureOpenAI.enabled: false",
            check=lambda m: not m.enabled or (m.instance_name is not None and m.api_key_secret_ref is not None),
        ),
    )

    enabled: bool = Field(default=False, description="Offer Azure OpenAI to spec.librechat.stt and tts.")
    instance_name: AzureOpenAIInstance | None = Field(
        default=None, description="The Azure OpenAI resource: <instanceName>.openai.azure.com."
    )
    api_key_secret_ref: SecretKeySelector | None = Field(default=None, description="Secret key holding the API key.")
    api_version: AzureApiVersion = Field(default="2024-06-01", description="Azure OpenAI API version.")
    stt: AzureOpenAISTT = section(AzureOpenAISTT, "Speech-to-text (when spec.librechat.stt selects azureOpenAI).")
    tts: AzureOpenAITTS = section(AzureOpenAITTS, "Text-to-speech (when spec.librechat.tts selects azureOpenAI).")


class ElevenLabsVoiceSettings(Model):
    stability: float | None = Field(default=None, ge=0, le=1, description="Voice stability, 0 to 1.")
    similarity_boost: float | None = Field(default=None, ge=0, le=1, description="Similarity boost, 0 to 1.")
    style: float | None = Field(default=None, ge=0, le=1, description="Style exaggeration, 0 to 1.")
    use_speaker_boost: bool | None = Field(default=None, description="Speaker boost.")


class ElevenLabs(Model):
    """ElevenLabs for text-to-speech."""

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel="!self.enabled || (has(self.apiKeySecretRef) && size(self.voices) > 0)",
            message="spec.elevenLabs.apiKeySecretRef: ElevenLabs is enabled but has no API key or no voices; "
            "reference a Secret key holding the key and list the voice ids to offer, or set "
            "spec.elevenLabs.enabled: false",
            check=lambda m: not m.enabled or (m.api_key_secret_ref is not None and len(m.voices) > 0),
        ),
    )

    enabled: bool = Field(default=False, description="Offer ElevenLabs to spec.librechat.tts.")
    api_key_secret_ref: SecretKeySelector | None = Field(default=None, description="Secret key holding the API key.")
    model: ModelId = Field(default="eleven_multilingual_v2", description="ElevenLabs model id.")
    voices: list[ElevenLabsVoiceId] = Field(
        default_factory=list, max_length=20, description="Voice ids offered; the first is the default."
    )
    voice_settings: ElevenLabsVoiceSettings | None = Field(default=None, description="Voice settings.")


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

    enabled: bool = Field(default=False, description="Offer OpenAI models in LibreChat.", json_schema_extra=core(1))
    api_key_secret_ref: SecretKeySelector | None = Field(
        default=None, description="Secret key holding the API key.", json_schema_extra=core(2)
    )
    models: list[ModelId] = Field(
        default_factory=lambda: list(DEFAULT_OPENAI_MODELS),
        min_length=1,
        max_length=100,
        description="Chat models offered to users.",
        json_schema_extra={"default": list(DEFAULT_OPENAI_MODELS), **core(3)},
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

    enabled: bool = Field(default=False, description="Offer Anthropic models in LibreChat.", json_schema_extra=core(1))
    api_key_secret_ref: SecretKeySelector | None = Field(
        default=None, description="Secret key holding the API key.", json_schema_extra=core(2)
    )
    models: list[ModelId] = Field(
        default_factory=lambda: list(DEFAULT_ANTHROPIC_MODELS),
        min_length=1,
        max_length=100,
        description="Chat models offered to users.",
        json_schema_extra={"default": list(DEFAULT_ANTHROPIC_MODELS), **core(3)},
    )


class GPU(Model):
    """GPUs for a model server: the resource requested and where such nodes are."""

    count: int = Field(default=1, ge=1, le=16, description="GPUs per pod.")
    resource_name: ExtendedResourceName = Field(
        default="nvidia.com/gpu", description="Extended resource name of the GPU."
    )
    node_selector: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, max_length=16, description="Labels of the nodes that have them."
    )
    tolerate_gpu_taint: bool = Field(
        default=True, description="Tolerate the usual <resourceName>:NoSchedule taint of GPU nodes."
    )


class Service(Model):
    """Common settings of an optional service."""

    enabled: bool = Field(
        default=False, description="Run this service and wire it into LibreChat.", json_schema_extra=core(1)
    )
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
    model: ModelId = Field(default="gpt-4o-mini", description="Model for extraction and processing.")
    embedding_model: ModelId = Field(
        default="text-embedding-3-small", description="Embedding model for semantic search."
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


# A SearXNG engine name as settings.yml names engines (e.g. google, bing images); it lands only in settings.yml.
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
    language: LanguageTag = Field(default="auto", description="Default search language, e.g. auto, en, de.")


class SpeachesSTT(Model):
    model: ModelId = Field(
        default="large-v3",
        description="faster-whisper model: a size such as large-v3 or distil-large-v3, or a Hugging Face id.",
    )
    language: SttLanguage | None = Field(
        default=None, description="Spoken language (ISO 639-1, e.g. en or en-US); detected when unset."
    )


DEFAULT_KOKORO_VOICES = ("af_heart", "af_bella")


class SpeachesTTS(Model):
    voices: list[KokoroVoice] = Field(
        default_factory=lambda: [KokoroVoice(v) for v in DEFAULT_KOKORO_VOICES],
        min_length=1,
        max_length=60,
        description="Kokoro voices offered in LibreChat (OpenAI voice names are not Kokoro voices).",
        json_schema_extra={"default": list(DEFAULT_KOKORO_VOICES)},
    )
    language: LanguageTag | None = Field(default=None, description="Language of speech, e.g. en-US.")


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

    models: list[ModelId] = Field(
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

    model: ModelId = Field(
        description="Hugging Face model id, e.g. Qwen/Qwen2.5-7B-Instruct.", json_schema_extra=core(2)
    )
    served_model_name: ModelId | None = Field(default=None, description="Name clients use; the model id when unset.")
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
    model: ModelId | None = Field(
        default=None,
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
    name: KubernetesName = Field(default="default", description="Its name (one the platform allows).")


class LabelSelector(Model):
    """Selects a managed resource the platform team composed elsewhere, by its labels."""

    match_labels: dict[LabelKey, LabelValue] = Field(
        min_length=1, max_length=16, description="Labels the selected resource carries."
    )


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

    region: AwsRegion | None = Field(
        default=None, description="AWS region, e.g. eu-west-1; unset: the placement's first AWS region."
    )
    instance_class: RdsInstanceClass = Field(
        default="db.t4g.medium", description="RDS instance class (one the platform allows)."
    )
    subnet_group_name: AwsDbSubnetGroupName | None = Field(default=None, description="An existing DB subnet group.")
    subnet_ids: list[AwsSubnetId] = Field(
        default_factory=list, max_length=16, description="Private subnets (two AZs or more) to compose a subnet group."
    )
    subnet_selector: LabelSelector | None = Field(
        default=None, description="Select the ec2 Subnets (managed resources) to compose a subnet group from."
    )
    security_group_ids: list[AwsSecurityGroupId] = Field(
        default_factory=list, max_length=5, description="Existing security groups."
    )
    vpc_id: AwsVpcId | None = Field(default=None, description="VPC to compose the security group in.")
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

    region: GcpRegion | None = Field(
        default=None, description="GCP region, e.g. europe-west1; unset: the placement's first GCP region."
    )
    tier: GcpSqlTier = Field(default="db-custom-1-3840", description="Machine tier (one the platform allows).")
    availability_type: SQLAvailability = Field(
        default=SQLAvailability.ZONAL, description="REGIONAL adds a standby in another zone."
    )
    private_network: GcpNetwork | None = Field(
        default=None, description="VPC network self link, projects/<p>/global/networks/<n>."
    )
    private_network_selector: LabelSelector | None = Field(
        default=None, description="Select the compute Network (a managed resource)."
    )


class AzureDatabase(Model):
    """Azure Database for PostgreSQL flexible server in a delegated subnet, pgvector allow-listed."""

    location: AzureLocation | None = Field(
        default=None, description="Azure region, e.g. westeurope; unset: the placement's first Azure location."
    )
    resource_group_name: AzureResourceGroup = Field(
        description="Existing resource group (one the platform allows; by default named for the namespace)."
    )
    sku_name: AzureSku = Field(default="GP_Standard_D2s_v3", description="Server SKU (one the platform allows).")
    delegated_subnet_id: AzureSubnetId = Field(
        description="Subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers."
    )
    private_dns_zone_id: AzurePrivateDnsZoneId = Field(
        description="Private DNS zone (*.postgres.database.azure.com) linked to the VNet."
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

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel="!has(self.serviceAccountAnnotations) || self.serviceAccountAnnotations.all(k, "
            "k.startsWith('eks.amazonaws.com/')) && (!('eks.amazonaws.com/role-arn' in self.serviceAccountAnnotations)"
            f" || self.serviceAccountAnnotations['eks.amazonaws.com/role-arn'].matches('{AWS_ROLE_ARN}'))",
            message="spec.objectStorage.aws.serviceAccountAnnotations: only eks.amazonaws.com/ annotations (IRSA), "
            "and eks.amazonaws.com/role-arn must be an IAM role ARN; other identities are not the team's to bind",
            check=lambda m: all(k.startswith("eks.amazonaws.com/") for k in m.service_account_annotations)
            and re.fullmatch(
                AWS_ROLE_ARN,
                m.service_account_annotations.get("eks.amazonaws.com/role-arn", "arn:aws:iam::000000000000:role/x"),
            )
            is not None,
        ),
    )

    region: AwsRegion | None = Field(
        default=None, description="AWS region, e.g. eu-west-1; unset: the placement's first AWS region."
    )
    role_arn: AwsRoleArn | None = Field(
        default=None,
        description="An IAM role for IRSA or EKS Pod Identity that LibreChat's pods assume: the bucket policy is "
        "attached to it and no access key is created. Without it, an IAM user with an access key is composed.",
    )
    service_account_annotations: dict[LabelKey, AnnotationValue] = Field(
        default_factory=dict,
        max_length=8,
        description="eks.amazonaws.com/ annotations for LibreChat's ServiceAccount (IRSA); with roleArn, "
        "eks.amazonaws.com/role-arn is set unless given here (the role is held to the platform's roleArns too).",
    )


class GCPBucket(Model):
    """A Cloud Storage bucket reached through its S3-compatible XML API with an HMAC key."""

    location: GcpLocation | None = Field(
        default=None, description="Bucket location, e.g. EU or europe-west1; unset: the placement's first GCP region."
    )
    project: GcpProject | None = Field(
        default=None, description="Project (one the platform allows); the provider config's when unset."
    )


class AzureReplication(StrEnum):
    LRS = "LRS"
    ZRS = "ZRS"
    GRS = "GRS"
    GZRS = "GZRS"


class AzureBlob(Model):
    """A storage account and a private container, used through LibreChat's azure_blob strategy."""

    location: AzureLocation | None = Field(
        default=None, description="Azure region, e.g. westeurope; unset: the placement's first Azure location."
    )
    resource_group_name: AzureResourceGroup = Field(
        description="Existing resource group (one the platform allows; by default named for the namespace)."
    )
    replication: AzureReplication = Field(default=AzureReplication.ZRS, description="Account replication.")


class ExistingS3(Model):
    """An existing S3-compatible bucket (MinIO, R2, Ceph...), credentials from the team's Secrets."""

    endpoint: HttpURL = Field(description="Endpoint URL with its scheme.")
    region: S3Region = Field(default="us-east-1", description="Region the endpoint expects.")
    bucket: S3BucketName = Field(description="Bucket name.")
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


class Monitoring(Model):
    """Monitoring through the Prometheus Operator (its CRDs must be installed): ServiceMonitors for the parts that
    expose Prometheus metrics (Meilisearch, vLLM) and a PrometheusRule with the alerts a workspace owner acts on,
    from kube-state-metrics and the kubelet's volume statistics."""

    enabled: bool = Field(default=False, description="Compose the ServiceMonitors and the PrometheusRule.")
    labels: dict[LabelKey, LabelValue] = Field(
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
    schedule: CronSchedule = Field(
        default="0 3 * * *",
        description="When to back up, as a cron schedule in the cluster's time zone (default: daily at 03:00).",
    )
    retention_days: int = Field(default=14, ge=1, le=3650, description="Days a dump is kept.")
    deadline_minutes: int = Field(
        default=360,
        ge=10,
        le=1440,
        description="Minutes a backup run may take; a run still going then is stopped and counts as failed "
        "(with spec.monitoring, the AIWorkspaceBackupFailed alert fires).",
    )
    storage: Storage = section(Storage, "The backup volume, used when the workspace has no bucket (default 20Gi).")


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


class PlacementChangePolicy(StrEnum):
    REFUSE = "Refuse"
    DROP_DATA = "DropData"  # the only choice that lets a change of placement leave in-cluster data behind


# Where each cloud datastore's region is set: (section of the spec, cloud, field of its settings). Without
# spec.placement the team sets it; with one it defaults to the placement's region for that cloud.
REGION_FIELDS = (
    ("database", "aws", "region"),
    ("database", "gcp", "region"),
    ("database", "azure", "location"),
    ("objectStorage", "aws", "region"),
    ("objectStorage", "gcp", "location"),
    ("objectStorage", "azure", "location"),
)


def _region_rule(section_name: str, cloud: str, field_name: str) -> Rule:
    """A cloud datastore's region is the team's to set unless a placement gives it."""
    attribute = {"objectStorage": "object_storage"}.get(section_name, section_name)

    def check(m: AIWorkspaceSpec) -> bool:
        section_model = getattr(m, attribute)
        settings = getattr(section_model, cloud)
        return (
            m.placement is not None
            or section_model.provider.value != cloud
            or settings is None
            or getattr(settings, field_name) is not None
        )

    where = f"spec.{section_name}.{cloud}.{field_name}"
    return Rule(
        cel=f"has(self.placement) || self.{section_name}.provider != '{cloud}' || !has(self.{section_name}.{cloud})"
        f" || has(self.{section_name}.{cloud}.{field_name})",
        message=f"{where}: required without spec.placement; set it, or choose a placement (spec.placement), which "
        f"puts the workspace's datastores in its region",
        check=check,
    )


def _speech_rule(direction: str, implementation: SpeechImplementation) -> Rule:
    """spec.librechat.<direction> may select an implementation only while its section is enabled."""
    section_name = SPEECH_SECTIONS[implementation]
    attribute = {"azureOpenAI": "azure_openai", "elevenLabs": "eleven_labs"}.get(section_name, section_name)
    fix = f"enable spec.{section_name}" + ("" if implementation == SpeechImplementation.SPEACHES else " (with its key)")

    def check(m: AIWorkspaceSpec) -> bool:
        selected = getattr(m.librechat, direction)
        return selected is None or selected.implementation != implementation or getattr(m, attribute).enabled

    return Rule(
        cel=f"!has(self.librechat.{direction}) || self.librechat.{direction}.implementation != '{implementation.value}'"
        f" || self.{section_name}.enabled",
        message=f"spec.librechat.{direction}.implementation: {implementation.value} is selected but "
        f"spec.{section_name}.enabled is false; {fix} or select another implementation",
        check=check,
    )


class AIWorkspaceSpec(Model):
    """A team's AI workspace: LibreChat with its datastores, wired to the model providers."""

    rules: ClassVar[tuple[Rule, ...]] = (
        *(
            _speech_rule(direction, SpeechImplementation(implementation.value))
            for direction, implementations in (("stt", STTImplementation), ("tts", TTSImplementation))
            for implementation in implementations
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
        *(_region_rule(section_name, cloud, field_name) for section_name, cloud, field_name in REGION_FIELDS),
        Rule(
            cel="!self.firecrawl.enabled || has(self.firecrawl.provider.apiKeySecretRef) || self.openai.enabled",
            message="spec.firecrawl.provider.apiKeySecretRef: Firecrawl's openai provider needs a key; reference "
            "one, or enable spec.openai so Firecrawl uses the workspace's OpenAI key",
            check=lambda m: not m.firecrawl.enabled
            or m.firecrawl.provider.api_key_secret_ref is not None
            or m.openai.enabled,
        ),
    )

    librechat: LibreChat = Field(description="The chat application.", json_schema_extra=core(1))
    openai: OpenAI = section(OpenAI, "OpenAI models.", core_order=2)
    anthropic: Anthropic = section(Anthropic, "Anthropic models.", core_order=3)
    firecrawl: Firecrawl = section(Firecrawl, "Firecrawl, the scraper of LibreChat's web search.")
    searxng: SearXNG = section(SearXNG, "SearXNG, the search provider of LibreChat's web search.", core_order=4)
    speaches: Speaches = section(Speaches, "Speaches, self-hosted speech-to-text and text-to-speech.", core_order=5)
    azure_openai: AzureOpenAISpeech = Field(
        default_factory=AzureOpenAISpeech,
        alias="azureOpenAI",
        description="Azure OpenAI speech-to-text and text-to-speech.",
        json_schema_extra={"default": {}},
    )
    eleven_labs: ElevenLabs = section(ElevenLabs, "ElevenLabs text-to-speech.")
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
    placement: PlacementName | None = Field(
        default=None,
        description="Where the workspace runs: one of the placements the platform defines in the Composition's "
        "input (a workload cluster, its cloud regions and ingress defaults). Unset: the control plane's own "
        "cluster.",
    )
    placement_change_policy: PlacementChangePolicy | None = Field(
        default=None,
        description="Refuse (also when unset): a change of spec.placement that would leave data behind (volumes "
        "in the old cluster, a cloud database or bucket in the old region) is refused, with how to migrate (back "
        "up, a new workspace, restore). DropData: the workspace starts empty in the new placement; what held its "
        "data in the old cluster stays there, unmanaged, until the platform deletes it (a cloud datastore never "
        "moves).",
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
            location, message = _where(error["loc"]), error_message(error)
            problems.append(message if message.startswith("spec.") else f"{location}: {message}")
        raise SpecError("; ".join(problems)) from None


def _where(loc: tuple[int | str, ...]) -> str:
    """A pydantic error's location as the API server writes a field path: spec.a.b[0].c, a map's key as .key; for
    a map's key itself, the map's path."""
    if loc and loc[-1] == "[key]":
        loc = loc[:-2]
    return "spec" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def error_message(error: Any) -> str:
    """A pydantic error's message, in the words of the type when a value does not match its pattern."""
    pattern = (error.get("ctx") or {}).get("pattern")
    if error["type"] == "string_pattern_mismatch" and pattern in PATTERN_HINTS:
        key = "key " if error["loc"] and error["loc"][-1] == "[key]" else ""
        return f"{key}{error['input']!r} is not {PATTERN_HINTS[pattern]}"
    return str(error["msg"]).removeprefix("Value error, ")
