"""LibreChat through its upstream Helm chart, fed by a ConfigMap (librechat.yaml) and one env Secret.

The chart mounts the env Secret with envFrom after its own configEnv ConfigMap, so a key in the Secret
always wins; the chart's demo credentials are removed from configEnv as well. The chart's bundled Bitnami
datastores and RAG API are switched off: datastores.py runs LibreChat's datastores.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from typing import Any

from function import k8s, yamltext
from function.plan import (
    LIBRECHAT,
    RELEASE_NAME_LIMIT,
    WORKLOAD_SECRETS_RELEASE,
    Draft,
    EnvFromSecret,
    GeneratedSecret,
    Part,
    Plan,
    Speech,
)
from function.resources import (
    Composed,
    autoscaler,
    config_map,
    disruption_budget,
    helm_release,
    kubernetes_object,
    secret,
)
from function.secrets import fingerprint
from function.services import Context, files
from function.services.datastores import mongodb_uri, redis_uri
from function.spec import (
    Interface,
    MCPTransport,
    RerankerType,
    SafeSearch,
    SecretKeySelector,
    SpecError,
    SpeechImplementation,
)
from function.versions import LIBRECHAT_CHART, LIBRECHAT_CONFIG_VERSION, LIBRECHAT_IMAGE

CONFIG_KEY = "librechat.yaml"
MAX_CONFIG_BYTES = 512 * 1024
LIBRECHAT_UID = 1000  # the node user of LibreChat's image (node:*-alpine)
CONFIG_CHECKSUM_ANNOTATION = "checksum/librechat-config"
# A keyed HMAC of the env Secret's values (secrets.fingerprint): the chart rolls pods on config changes only,
# so without it a rotated API key would never reach running pods.
ENV_CHECKSUM_ANNOTATION = "checksum/librechat-env"
FILES_MOUNTS = (("images", "/app/client/public/images"), ("uploads", "/app/uploads"))
LIBRECHAT_RESOURCES = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}}
# Demo credentials in the chart's default configEnv; null removes them from the rendered ConfigMap.
CHART_DEMO_ENV = ("CREDS_KEY", "CREDS_IV", "JWT_SECRET", "JWT_REFRESH_SECRET")

# The keys generated for LibreChat, in its env Secret: (key, random bytes). Meilisearch reads its master key there.
GENERATED_ENV = (
    ("CREDS_KEY", 32),
    ("CREDS_IV", 16),
    ("JWT_SECRET", 32),
    ("JWT_REFRESH_SECRET", 32),
    ("MEILI_MASTER_KEY", 32),
)


def _provider_config(ctx: Context, key: str) -> str | None:
    """The provider config an observed managed resource names, None until it exists."""
    spec = ctx.observed.part(key, "spec") or {}
    return (spec.get("providerConfigRef") or {}).get("name")


def _secrets_there(ctx: Context, librechat_release: str) -> bool:
    """Whether the workspace's Secrets are in the cluster LibreChat's Release goes to: the carrying Release Ready
    and, while LibreChat's Release moves to another cluster (a change of placement, or the platform re-pointing
    one), Ready there: it names the same provider config and provider-helm reconciled it as it is (its Synced
    condition's observedGeneration, which crossplane-runtime v2.3.3's managed reconciler stamps, is its current
    generation), not a Ready left from the cluster it was in."""
    if not ctx.observed.ready(WORKLOAD_SECRETS_RELEASE):
        return False
    wanted = ctx.plan.helm_provider_config
    moving = ctx.observed.exists(librechat_release) and _provider_config(ctx, librechat_release) != wanted
    if not moving:
        return True
    if _provider_config(ctx, WORKLOAD_SECRETS_RELEASE) != wanted:
        return False
    generation = (ctx.observed.part(WORKLOAD_SECRETS_RELEASE, "metadata") or {}).get("generation")
    conditions = (ctx.observed.part(WORKLOAD_SECRETS_RELEASE, "status") or {}).get("conditions") or []
    synced: dict[str, Any] = next((c for c in conditions if c.get("type") == "Synced"), {})
    return generation is not None and synced.get("status") == "True" and synced.get("observedGeneration") == generation


def mcp_secret_env(ref: SecretKeySelector) -> str:
    """The env var that carries a Secret key MCP headers send into LibreChat (referenced as ${VAR} in
    librechat.yaml): readable, at most 100 characters, distinct for every distinct Secret key."""
    clean = re.sub(r"[^A-Z0-9]+", "_", f"{ref.name[:40]}_{ref.key[:40]}".upper())
    digest = hashlib.sha256(f"{ref.name}/{ref.key}".encode()).hexdigest()[:8].upper()
    return f"MCP_{clean}_{digest}"


def plan_part(draft: Draft) -> Part:
    """LibreChat's names and URL, the keys generated for it, and the team's sign-in client secrets and MCP header
    keys it gets in its env."""
    librechat = draft.spec.librechat
    tls = librechat.ingress.tls
    ingress_tls = librechat.ingress.enabled and tls.enabled
    env_secret = draft.name("librechat-env")
    generated = [GeneratedSecret(env_secret, key, nbytes) for key, nbytes in GENERATED_ENV]
    if librechat.authentication.openid:
        generated.append(GeneratedSecret(env_secret, "OPENID_SESSION_SECRET", 32))
    env_from: list[EnvFromSecret] = []
    auth = librechat.authentication
    for provider, login in (("GITHUB", auth.github), ("GOOGLE", auth.google), ("OPENID", auth.openid)):
        if login:
            field = f"spec.librechat.authentication.{provider.lower()}.clientSecretRef"
            env_from.append(EnvFromSecret(f"{provider}_CLIENT_SECRET", login.client_secret_ref, field))
    # One env var per distinct Secret key, however many headers send it: a referenced value is copied once.
    mcp_refs: dict[str, EnvFromSecret] = {}
    for i, server in enumerate(librechat.mcp_servers):
        for j, header in enumerate(server.headers):
            if header.secret_ref:
                env = mcp_secret_env(header.secret_ref)
                field = f"spec.librechat.mcpServers[{i}].headers[{j}].secretRef"
                mcp_refs.setdefault(env, EnvFromSecret(env, header.secret_ref, field, header=True))
    env_from += mcp_refs.values()
    fields = {
        "librechat_fullname": draft.name(LIBRECHAT, RELEASE_NAME_LIMIT),
        "librechat_env_secret": env_secret,
        "librechat_config_map": draft.name("librechat-config"),
        "librechat_files_pvc": draft.name("librechat-files"),
        "tls_secret": (tls.secret_name or draft.name("librechat-tls")) if ingress_tls else None,
        "librechat": draft.endpoint(LIBRECHAT, 3080, limit=RELEASE_NAME_LIMIT),
        "chat_url": f"{'https' if ingress_tls else 'http'}://{librechat.domain}",
    }
    return Part(fields, tuple(generated), tuple(env_from))


def web_search_part(draft: Draft) -> Part:
    """The reranker's key LibreChat's web search sends, when SearXNG or Firecrawl is wired in."""
    reranker = draft.spec.librechat.web_search.reranker
    searching = draft.get("searxng") is not None or draft.get("firecrawl") is not None
    if not searching or reranker.type == RerankerType.NONE or not reranker.api_key_secret_ref:
        return Part()
    key = EnvFromSecret(
        f"{reranker.type.value.upper()}_API_KEY",
        reranker.api_key_secret_ref,
        "spec.librechat.webSearch.reranker.apiKeySecretRef",
    )
    return Part(env_from=(key,))


_INTERFACE_KEYS: tuple[tuple[str, str], ...] = (
    ("model_select", "modelSelect"),
    ("parameters", "parameters"),
    ("presets", "presets"),
    ("prompts", "prompts"),
    ("bookmarks", "bookmarks"),
    ("multi_convo", "multiConvo"),
    ("agents", "agents"),
    ("memories", "memories"),
    ("temporary_chat", "temporaryChat"),
    ("run_code", "runCode"),
    ("web_search", "webSearch"),
    ("file_search", "fileSearch"),
    ("shared_links", "sharedLinks"),
)


def _interface(interface: Interface, *, search_wired: bool) -> dict[str, Any]:
    out: dict[str, Any] = {yaml_key: getattr(interface, attr) for attr, yaml_key in _INTERFACE_KEYS}
    if interface.web_search is None:
        # With no search provider behind it, LibreChat's web search asks each user for third-party keys.
        out["webSearch"] = search_wired
    if interface.welcome_message:
        out["customWelcome"] = interface.welcome_message
    return out


def _mcp_servers(plan: Plan) -> dict[str, Any]:
    servers: dict[str, Any] = {}
    for server in plan.spec.librechat.mcp_servers:
        entry: dict[str, Any] = {"type": server.type.value, "url": server.url}
        if server.headers and server.type is not MCPTransport.WEBSOCKET:
            # A secret header is its prefix (the team's text) and ${VAR} of the Secret key's one env var, which
            # LibreChat expands inside the value (packages/data-provider extractEnvVariable).
            entry["headers"] = {
                header.name: header.value
                if header.secret_ref is None
                else f"{header.prefix or ''}${{{mcp_secret_env(header.secret_ref)}}}"
                for header in server.headers
            }
        if server.timeout_ms:
            entry["timeout"] = server.timeout_ms
        servers[server.name] = entry
    return servers


SAFE_SEARCH = {SafeSearch.OFF: 0, SafeSearch.MODERATE: 1, SafeSearch.STRICT: 2}


def _web_search(plan: Plan) -> dict[str, Any] | None:
    """Search (SearXNG), scraper (Firecrawl) and reranker for whatever is enabled; URLs and keys as ${ENV}.

    With only one of the two enabled, LibreChat asks users for the missing provider's key in its UI.
    """
    if plan.searxng is None and plan.firecrawl is None:
        return None
    reranker = plan.spec.librechat.web_search.reranker.type
    block: dict[str, Any] = {"rerankerType": reranker.value, "allowedAddresses": plan.web_search_addresses()}
    if plan.searxng:
        block |= {
            "searchProvider": "searxng",
            "searxngInstanceUrl": "${SEARXNG_INSTANCE_URL}",
            # The engines are chosen in SearXNG's own settings.yml (keep_only), which every query goes through:
            # the pinned LibreChat (config 1.3.14) has no per-query engine option (searxngSearchOptions is newer).
            "safeSearch": SAFE_SEARCH[plan.spec.searxng.safe_search],
        }
    if plan.firecrawl:
        block |= {
            "scraperProvider": "firecrawl",
            "firecrawlApiKey": "${FIRECRAWL_API_KEY}",
            "firecrawlApiUrl": "${FIRECRAWL_API_URL}",
        }
    if reranker == RerankerType.JINA:
        block["jinaApiKey"] = "${JINA_API_KEY}"
    elif reranker == RerankerType.COHERE:
        block["cohereApiKey"] = "${COHERE_API_KEY}"
    return block


def _speech_provider(speech: Speech, direction: str) -> dict[str, Any]:
    """The provider's block as librechat-data-provider's sttSchema/ttsSchema has it (azureOpenAI's STT block has
    no model: the deployment is the model)."""
    provider: dict[str, Any] = {"apiKey": f"${{{speech.key_env}}}"}
    if speech.azure:
        provider |= {
            "instanceName": speech.azure.instance_name,
            "deploymentName": speech.azure.deployment_name,
            "apiVersion": speech.azure.api_version,
        }
    if speech.model and not (speech.azure and direction == "stt"):
        provider["model"] = speech.model
    if speech.url:
        provider["url"] = speech.url  # LibreChat uses it verbatim: the full endpoint path
    if speech.voices:
        provider["voices"] = list(speech.voices)
    if speech.voice_settings:
        provider["voice_settings"] = dict(speech.voice_settings)
    return provider


def _speech(plan: Plan) -> dict[str, Any] | None:
    """Exactly one provider per direction, from the implementation the spec selects."""
    if plan.stt is None and plan.tts is None:
        return None
    speech: dict[str, Any] = {}
    tab: dict[str, Any] = {}
    if plan.stt:
        speech["stt"] = {plan.stt.provider: _speech_provider(plan.stt, "stt")}
        if plan.stt.allowed_address:
            speech["stt"]["allowedAddresses"] = [plan.stt.allowed_address]
        tab["speechToText"] = {"engineSTT": "external"}
        if plan.stt.language:
            tab["speechToText"]["languageSTT"] = plan.stt.language
    if plan.tts:
        speech["tts"] = {plan.tts.provider: _speech_provider(plan.tts, "tts")}
        if plan.tts.allowed_address:
            speech["tts"]["allowedAddresses"] = [plan.tts.allowed_address]
        tab["textToSpeech"] = {"engineTTS": "external", "voice": plan.tts.voices[0]}
        if plan.tts.language:
            tab["textToSpeech"]["languageTTS"] = plan.tts.language
    speech["speechTab"] = tab
    return speech


def _custom_endpoints(plan: Plan) -> list[dict[str, Any]]:
    endpoints = []
    for model in plan.model_endpoints():
        entry: dict[str, Any] = {
            "name": model.name,
            # Ollama ignores the key but LibreChat requires one.
            "apiKey": f"${{{model.api_key_env}}}" if model.api_key_env else "ollama",
            "baseURL": model.base_url,
            "models": {"default": list(model.models), "fetch": True},
            "titleConvo": True,
            "titleModel": "current_model",
            "modelDisplayLabel": model.name,
        }
        if model.name == "vLLM":
            entry["titleMessageRole"] = "user"  # some local models reject a system role
        endpoints.append(entry)
    return endpoints


def librechat_config(plan: Plan) -> dict[str, Any]:
    """The librechat.yaml document: only keys the pinned image's strict schema accepts."""
    auth = plan.spec.librechat.authentication
    config: dict[str, Any] = {
        "version": LIBRECHAT_CONFIG_VERSION,
        "cache": True,
        "fileStrategy": plan.files.strategy if plan.files else "local",
        "interface": _interface(plan.spec.librechat.interface, search_wired=plan.searxng is not None),
    }
    social = [
        name for name, login in (("github", auth.github), ("google", auth.google), ("openid", auth.openid)) if login
    ]
    registration: dict[str, Any] = {"socialLogins": social}
    if auth.allowed_domains:
        registration["allowedDomains"] = list(auth.allowed_domains)
    config["registration"] = registration
    web_search = _web_search(plan)
    if web_search:
        config["webSearch"] = web_search
    speech = _speech(plan)
    if speech:
        config["speech"] = speech
    custom = _custom_endpoints(plan)
    if custom:
        config["endpoints"] = {
            "custom": custom,
            "allowedAddresses": sorted(m.endpoint.host_port for m in plan.model_endpoints()),
        }
    mcp = _mcp_servers(plan)
    if mcp:
        config["mcpServers"] = mcp
        # LibreChat blocks private and in-cluster addresses unless they are exempted here.
        config["mcpSettings"] = {"allowedAddresses": list(plan.mcp_allowed_addresses)}
    return config


CONFIG_YAML_OPTIONS: dict[str, Any] = {"sort_keys": True, "default_flow_style": False, "allow_unicode": True}


def render_config(plan: Plan) -> str:
    return yamltext.dump_yaml12(librechat_config(plan), **CONFIG_YAML_OPTIONS)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def config_env(plan: Plan, storage: files.Storage | None = None) -> dict[str, Any]:
    """LibreChat's non-secret env (the chart's configEnv). Nothing here is a credential."""
    spec = plan.spec
    auth = spec.librechat.authentication
    social = bool(auth.github or auth.google or auth.openid)
    endpoints = [
        name for name, enabled in (("openAI", spec.openai.enabled), ("anthropic", spec.anthropic.enabled)) if enabled
    ]
    env: dict[str, Any] = {key: None for key in CHART_DEMO_ENV}
    env.update(
        {
            "DOMAIN_CLIENT": plan.chat_url,
            "DOMAIN_SERVER": plan.chat_url,
            "ALLOW_EMAIL_LOGIN": _bool(auth.allow_email_login),
            "ALLOW_REGISTRATION": _bool(auth.allow_registration),
            "ALLOW_SOCIAL_LOGIN": _bool(social),
            "ALLOW_SOCIAL_REGISTRATION": _bool(social and auth.allow_social_registration),
            "SEARCH": "true",
            "MEILI_HOST": plan.meilisearch.url,
            "MEILI_NO_ANALYTICS": "true",
            "USE_REDIS": "true",
            "ENDPOINTS": ",".join([*endpoints, "agents"]),
            "NO_INDEX": "true",
        }
    )
    if plan.rag:
        env["RAG_API_URL"] = plan.rag.endpoint.url
    if storage and storage.access:
        env.update(storage.access.env)
    if plan.searxng:
        env["SEARXNG_INSTANCE_URL"] = plan.searxng.url
    if plan.firecrawl:
        env["FIRECRAWL_API_URL"] = plan.firecrawl.url  # no /v1 or /v2: the client appends the version
    if spec.openai.enabled:
        env["OPENAI_MODELS"] = ",".join(spec.openai.models)
    if spec.anthropic.enabled:
        env["ANTHROPIC_MODELS"] = ",".join(spec.anthropic.models)
    if auth.github:
        env["GITHUB_CLIENT_ID"] = auth.github.client_id
        env["GITHUB_CALLBACK_URL"] = "/oauth/github/callback"
        if auth.github.enterprise_base_url:
            env["GITHUB_ENTERPRISE_BASE_URL"] = auth.github.enterprise_base_url
    if auth.google:
        env["GOOGLE_CLIENT_ID"] = auth.google.client_id
        env["GOOGLE_CALLBACK_URL"] = "/oauth/google/callback"
    if auth.openid:
        env["OPENID_CLIENT_ID"] = auth.openid.client_id
        env["OPENID_ISSUER"] = auth.openid.issuer
        env["OPENID_SCOPE"] = auth.openid.scope
        env["OPENID_CALLBACK_URL"] = "/oauth/openid/callback"
        if auth.openid.button_label:
            env["OPENID_BUTTON_LABEL"] = auth.openid.button_label
    return env


def secret_env(ctx: Context) -> dict[str, str]:
    """LibreChat's credentials: generated ones, copies of the team's referenced keys, and datastore URIs."""
    plan = ctx.plan
    env = ctx.secrets.generated_in(plan.librechat_env_secret)
    for entry in plan.env_from_secrets:
        env[entry.env] = ctx.secrets.referenced(entry.ref.name, entry.ref.key)
    if plan.speaches is not None:
        speaches_key = ctx.secrets.get(plan.speaches_secret, "api-key")
        for speech in (plan.stt, plan.tts):
            if speech and speech.implementation == SpeechImplementation.SPEACHES:
                env[speech.key_env] = speaches_key
    if plan.mongodb is not None:
        env["MONGO_URI"] = mongodb_uri(ctx)
    env["REDIS_URI"] = redis_uri(ctx)
    storage = files.storage(ctx)
    if storage and storage.access:
        # Bucket credentials, copied from the provider's connection details: never in the Release's values.
        env.update(storage.access.credentials)
    return env


def _ingress(plan: Plan) -> dict[str, Any]:
    ingress = plan.spec.librechat.ingress
    if not ingress.enabled:
        return {"enabled": False}
    annotations = dict(sorted(ingress.annotations.items()))
    if ingress.tls.enabled and ingress.tls.cluster_issuer:
        annotations["cert-manager.io/cluster-issuer"] = ingress.tls.cluster_issuer
    if ingress.tls.enabled and ingress.tls.issuer:
        annotations["cert-manager.io/issuer"] = ingress.tls.issuer
    domain = plan.spec.librechat.domain
    values: dict[str, Any] = {
        "enabled": True,
        "annotations": annotations,
        "hosts": [{"host": domain, "paths": [{"path": "/", "pathType": "Prefix"}]}],
        "tls": [{"secretName": plan.tls_secret, "hosts": [domain]}] if plan.tls_secret else [],
    }
    if ingress.class_name:
        values["className"] = ingress.class_name
    return values


def chart_values(
    plan: Plan, config_checksum: str, storage: files.Storage | None = None, env_fingerprint: str = ""
) -> dict[str, Any]:
    librechat = plan.spec.librechat
    values: dict[str, Any] = {
        "fullnameOverride": plan.librechat_fullname,
        # With an autoscaler the chart starts the fewest pods; the HPA scales from there (a later chart upgrade
        # resets the count to this, and the HPA corrects it within its sync period).
        "replicaCount": librechat.autoscaling.min_replicas if librechat.autoscaling.enabled else librechat.replicas,
        "image": {
            "registry": LIBRECHAT_IMAGE.registry,
            "repository": LIBRECHAT_IMAGE.repository,
            "tag": LIBRECHAT_IMAGE.tag,
        },
        "global": {"librechat": {"existingSecretName": plan.librechat_env_secret}},
        "librechat": {
            "existingSecretName": plan.librechat_env_secret,
            "existingConfigYaml": plan.librechat_config_map,
            "configEnv": config_env(plan, storage),
            # Files live on the workspace's own protected volume, not on a PVC owned by the Helm release.
            "imageVolume": {"enabled": False},
        },
        "podAnnotations": {CONFIG_CHECKSUM_ANNOTATION: config_checksum, ENV_CHECKSUM_ANNOTATION: env_fingerprint},
        "resources": k8s.resources(librechat.resources, LIBRECHAT_RESOURCES),
        # The restricted Pod Security Standard; the image runs as its node user (Dockerfile: USER node, uid 1000),
        # and fsGroup lets it write the files volume.
        "podSecurityContext": {
            "runAsNonRoot": True,
            "runAsUser": LIBRECHAT_UID,
            "runAsGroup": LIBRECHAT_UID,
            "fsGroup": LIBRECHAT_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "securityContext": k8s.restricted_container_security(),
        "volumes": [{"name": "files", "persistentVolumeClaim": {"claimName": plan.librechat_files_pvc}}],
        "volumeMounts": [{"name": "files", "mountPath": path, "subPath": sub} for sub, path in FILES_MOUNTS],
        "service": {"type": "ClusterIP", "port": plan.librechat.port},
        "ingress": _ingress(plan),
        "mongodb": {"enabled": False},
        "meilisearch": {"enabled": False},
        "redis": {"enabled": False},
        "librechat-rag-api": {"enabled": False},
        # LibreChat never calls the Kubernetes API: its ServiceAccount mounts no token (the chart's default does).
        # IRSA's webhook projects its own token volume for the role annotation, whatever this says.
        "serviceAccount": {"create": True, "automount": False},
    }
    if storage and storage.service_account_annotations:
        values["serviceAccount"]["annotations"] = dict(sorted(storage.service_account_annotations.items()))
    return values


def compose(ctx: Context) -> list[Composed]:
    plan = ctx.plan
    ws, ns = plan.workspace.name, plan.workspace.namespace
    config_text = render_config(plan)
    if len(config_text) > MAX_CONFIG_BYTES:
        raise SpecError(
            f"spec.librechat: librechat.yaml would hold {len(config_text) // 1024} KiB, more than the "
            f"{MAX_CONFIG_BYTES // 1024} KiB a ConfigMap of it may (the API server refuses 1 MiB); "
            f"use fewer MCP servers, headers or models"
        )
    checksum = hashlib.sha256(config_text.encode()).hexdigest()
    storage = files.storage(ctx)
    # With a bucket that is not usable yet, LibreChat is not started (or keeps running as it is) until it is.
    hold = storage.waiting_for if storage and storage.access is None else None
    env_values = secret_env(ctx)
    env_secret = secret(plan, "librechat-env", "librechat", name=plan.librechat_env_secret, values=env_values)
    config = config_map(
        plan, "librechat-config", "librechat", name=plan.librechat_config_map, data={CONFIG_KEY: config_text}
    )
    volume = kubernetes_object(
        plan,
        "librechat-files-pvc",
        "librechat",
        k8s.pvc(plan.librechat_files_pvc, ns, ws, "librechat", plan.spec.librechat.storage, "10Gi"),
        holds_data=True,
    )
    release = helm_release(
        plan,
        "librechat-release",
        "librechat",
        release_name=plan.librechat_fullname,
        chart=LIBRECHAT_CHART,
        values=chart_values(plan, checksum, storage, fingerprint(ctx.secrets.fingerprint_key(), env_values)),
        # The chart mounts the env Secret as optional: starting before it exists would run on temporary creds.
        depends_on=(env_secret.key, config.key),
    )
    held = [replace(item, hold=hold) for item in (env_secret, config, release)]
    if held[2].hold is None and plan.placement is not None and not _secrets_there(ctx, release.key):
        # In a placement the chart starts once its Secrets are in the cluster (the carrying Release is Ready).
        held[2] = replace(held[2], hold=f"the workspace's Secrets in placement {plan.placement.name}")
    out = [held[0], held[1], volume, held[2]]
    librechat = plan.spec.librechat
    if k8s.several_pods(librechat.replicas, librechat.autoscaling):
        pods = {
            "app.kubernetes.io/name": plan.librechat_fullname,
            "app.kubernetes.io/instance": plan.librechat_fullname,
        }
        out.append(disruption_budget(plan, "librechat", "librechat", name=plan.librechat_fullname, pods=pods))
    if plan.spec.librechat.autoscaling.enabled:
        # Its own autoscaling/v2 HPA of the chart's Deployment (named fullnameOverride), not the chart's template.
        out.append(
            autoscaler(
                plan,
                "librechat",
                "librechat",
                deployment=plan.librechat_fullname,
                autoscaling=plan.spec.librechat.autoscaling,
            )
        )
    return out
