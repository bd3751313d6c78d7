"""The AIWorkspace API: the one model both XRDs are generated from and the function parses.

Every field has a description (it becomes the XRD's documentation, shown by `kubectl explain`).
Cross-field rules are written once as a `Rule`: a CEL expression enforced at admission by the XRD and
the same check in Python, so a request that bypassed admission (a render, an old XRD) gets the same
message as a Fatal result instead of a half-rendered workspace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, model_validator
from pydantic.alias_generators import to_camel

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
SECRET_KEY = r"^[-._a-zA-Z0-9]+$"
HOSTNAME = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
QUANTITY = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)

# A Kubernetes quantity ("500m", "2Gi", 1): int-or-string with the apimachinery pattern.
Quantity = Annotated[
    str | int,
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


def section(model: type[M], description: str) -> Any:
    """A nested object that is always present, defaulted as a whole (`default: {}` in the XRD)."""
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

    requests: ResourceList | None = Field(default=None, description="Minimum resources the scheduler reserves.")
    limits: ResourceList | None = Field(default=None, description="Maximum resources the container may use.")


class AccessMode(StrEnum):
    READ_WRITE_ONCE = "ReadWriteOnce"
    READ_WRITE_MANY = "ReadWriteMany"


class Storage(Model):
    """A persistent volume claim."""

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
        Rule(
            cel="!self.enabled || has(self.secretName) || has(self.clusterIssuer) || has(self.issuer)",
            message="spec.librechat.ingress.tls: TLS needs a certificate; set secretName to an existing TLS Secret, "
            "or clusterIssuer/issuer for cert-manager, or set enabled: false",
            check=lambda m: not m.enabled or bool(m.secret_name or m.cluster_issuer or m.issuer),
        ),
    )

    enabled: bool = Field(default=True, description="Serve the chat URL over HTTPS.")
    secret_name: str | None = Field(
        default=None,
        pattern=DNS_SUBDOMAIN,
        description="TLS Secret holding the certificate. With a cert-manager issuer this is the Secret cert-manager "
        "writes (default <workspace>-librechat-tls); without one it must already exist.",
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

    enterprise_base_url: str | None = Field(
        default=None,
        pattern=r"^https://",
        description="Base URL of a GitHub Enterprise Server, if not github.com.",
    )


class GoogleLogin(OAuthClient):
    """Sign in with Google. Register the callback https://<domain>/oauth/google/callback."""


class OpenIDLogin(OAuthClient):
    """Sign in with an OpenID Connect provider. Register the callback https://<domain>/oauth/openid/callback."""

    issuer: str = Field(
        description="The provider's issuer URL (its discovery document lives beneath it).",
        pattern=r"^https://",
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
    allowed_domains: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Only email addresses of these domains may register or sign in; empty allows any domain.",
    )
    github: GitHubLogin | None = Field(default=None, description="GitHub login.")
    google: GoogleLogin | None = Field(default=None, description="Google login.")
    openid: OpenIDLogin | None = Field(default=None, description="OpenID Connect login.")


class Interface(Model):
    """What users see in LibreChat: a welcome message and which features are switched on."""

    welcome_message: str | None = Field(
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
    web_search: bool = Field(default=True, description="Web search in chats, when a search provider is wired.")
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
    value: str | None = Field(default=None, description="A literal value (never a credential).")
    secret_ref: SecretKeySelector | None = Field(default=None, description="A Secret key holding the value.")
    prefix: str | None = Field(default=None, description="Text before the secret value, e.g. 'Bearer '.")


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
    url: str = Field(description="Server URL.", pattern=r"^(https?|wss?)://[^\s]+$", max_length=2048)
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
    model: str = Field(default="whisper-1", description="Transcription model.", min_length=1)


class OpenAITTS(Model):
    model: str = Field(default="tts-1", description="Speech model, e.g. tts-1 or tts-1-hd.", min_length=1)
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
    models: list[str] = Field(
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
    models: list[str] = Field(
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
    provider: FirecrawlProvider = section(FirecrawlProvider, "LLM for extraction.")
    storage: Storage = section(Storage, "Volume of Firecrawl's queue database (default 10Gi).")


class SafeSearch(StrEnum):
    OFF = "Off"
    MODERATE = "Moderate"
    STRICT = "Strict"


DEFAULT_SEARXNG_ENGINES = ("google", "bing", "brave", "duckduckgo", "wikipedia")


class SearXNG(Service):
    """SearXNG, the metasearch engine behind LibreChat's web search."""

    engines: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SEARXNG_ENGINES),
        min_length=1,
        max_length=50,
        description="Search engines to keep (SearXNG engine names); all others are disabled.",
        json_schema_extra={"default": list(DEFAULT_SEARXNG_ENGINES)},
    )
    safe_search: SafeSearch = Field(default=SafeSearch.MODERATE, description="Filter explicit results.")
    language: str = Field(default="auto", description="Default search language, e.g. auto, en, de.")


class SpeachesSTT(Model):
    model: str = Field(
        default="large-v3",
        min_length=1,
        description="faster-whisper model: a size such as large-v3 or distil-large-v3, or a Hugging Face id.",
    )
    language: str | None = Field(default=None, description="Spoken language, e.g. en; detected when unset.")


DEFAULT_KOKORO_VOICES = ("af_heart", "af_bella")


class SpeachesTTS(Model):
    voices: list[KokoroVoice] = Field(
        default_factory=lambda: [KokoroVoice(v) for v in DEFAULT_KOKORO_VOICES],
        min_length=1,
        max_length=60,
        description="Kokoro voices offered in LibreChat (OpenAI voice names are not Kokoro voices).",
        json_schema_extra={"default": list(DEFAULT_KOKORO_VOICES)},
    )
    language: str | None = Field(default=None, description="Language of speech, e.g. en-US.")


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

    models: list[str] = Field(
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

    model: str = Field(description="Hugging Face model id, e.g. Qwen/Qwen2.5-7B-Instruct.", min_length=1)
    served_model_name: str | None = Field(default=None, description="Name clients use; the model id when unset.")
    max_model_len: int | None = Field(default=None, ge=256, description="Maximum context length.")
    gpu: GPU = section(GPU, "GPUs of the server (vLLM needs at least one).")
    api_key_secret_ref: SecretKeySelector | None = Field(
        default=None, description="Secret key holding the server's API key; one is generated when unset."
    )
    hf_token_secret_ref: SecretKeySelector | None = Field(
        default=None, description="Secret key holding a Hugging Face token, for gated models."
    )
    storage: Storage = section(Storage, "Model cache volume (default 100Gi).")


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
    data_deletion_policy: DataDeletionPolicy = Field(
        default=DataDeletionPolicy.RETAIN,
        description="What happens to volumes holding data (databases, uploads) when the workspace is deleted: "
        "Retain keeps them (re-creating the workspace with the same name picks them up again); "
        "Delete removes them with the workspace.",
    )


class ComponentStatus(Model):
    """One part of the workspace and whether it is ready."""

    name: str = Field(description="The part, e.g. librechat, mongodb.")
    ready: bool = Field(description="Whether all of its composed resources are ready.")
    message: str | None = Field(default=None, description="What it is waiting for, when not ready.")


class IntegrationStatus(Model):
    """One integration LibreChat is wired to, the URL in use and whether its parts are ready."""

    name: str = Field(description="chat, search, scraper, stt, tts, or model:<endpoint>.")
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


def parse_spec(raw: dict[str, Any]) -> AIWorkspaceSpec:
    """Parse an XR's spec, turning pydantic's errors into one message that names each field."""
    try:
        return AIWorkspaceSpec.model_validate({k: v for k, v in raw.items() if k not in CROSSPLANE_SPEC_FIELDS})
    except ValidationError as err:
        problems = []
        for error in err.errors(include_url=False):
            location = ".".join(str(part) for part in ("spec", *error["loc"]))
            message = error["msg"].removeprefix("Value error, ")
            problems.append(message if message.startswith("spec.") else f"{location}: {message}")
        raise SpecError("; ".join(problems)) from None
