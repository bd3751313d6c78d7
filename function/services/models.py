"""Model providers: the OpenAI and Anthropic keys LibreChat gets, and the self-hosted model servers, Ollama and
vLLM, each registered in LibreChat as a custom endpoint."""

from __future__ import annotations

from typing import Any

from function import k8s
from function.plan import RAG, Draft, EnvFromSecret, GeneratedSecret, ModelEndpoint, Part, TeamKey
from function.resources import Composed, workload
from function.services import Context
from function.spec import EmbeddingsProvider
from function.versions import OLLAMA_IMAGE, VLLM_IMAGE

OLLAMA_UID = 1000
OLLAMA_CPU_RESOURCES = {"requests": {"cpu": "2", "memory": "8Gi"}, "limits": {"memory": "16Gi"}}
OLLAMA_GPU_RESOURCES = {"requests": {"cpu": "1", "memory": "8Gi"}, "limits": {"memory": "16Gi"}}
VLLM_RESOURCES = {"requests": {"cpu": "4", "memory": "16Gi"}, "limits": {"memory": "32Gi"}}


def hosted_part(draft: Draft) -> Part:
    """The keys of the hosted providers LibreChat calls, copied from the team's Secrets."""
    spec = draft.spec
    keys: list[EnvFromSecret] = []
    if spec.openai.enabled and spec.openai.api_key_secret_ref:
        keys.append(EnvFromSecret("OPENAI_API_KEY", spec.openai.api_key_secret_ref, "spec.openai.apiKeySecretRef"))
    if spec.anthropic.enabled and spec.anthropic.api_key_secret_ref:
        keys.append(
            EnvFromSecret("ANTHROPIC_API_KEY", spec.anthropic.api_key_secret_ref, "spec.anthropic.apiKeySecretRef")
        )
    return Part(env_from=tuple(keys))


def plan_part(draft: Draft) -> Part:
    """Ollama and vLLM as LibreChat's custom endpoints: Ollama pulls its models and the RAG API's embeddings
    model when it serves them; vLLM takes the team's key, or one generated into LibreChat's env."""
    spec = draft.spec
    ollama = None
    pulls: tuple[str, ...] = ()
    if spec.ollama.enabled:
        endpoint = draft.endpoint("ollama", 11434)
        ollama = ModelEndpoint("Ollama", endpoint, f"{endpoint.url}/v1", None, tuple(spec.ollama.models))
        rag: RAG | None = draft.get("rag")
        embeddings = [rag.embeddings_model] if rag and rag.embeddings is EmbeddingsProvider.OLLAMA else []
        pulls = tuple(dict.fromkeys([*spec.ollama.models, *embeddings]))
    vllm = None
    generated: tuple[GeneratedSecret, ...] = ()
    env_from: tuple[EnvFromSecret, ...] = ()
    reads: list[TeamKey] = []
    if spec.vllm and spec.vllm.enabled:
        endpoint = draft.endpoint("vllm", 8000)
        served = spec.vllm.served_model_name or spec.vllm.model
        vllm = ModelEndpoint("vLLM", endpoint, f"{endpoint.url}/v1", "VLLM_API_KEY", (served,))
        if spec.vllm.api_key_secret_ref:
            env_from = (EnvFromSecret("VLLM_API_KEY", spec.vllm.api_key_secret_ref, "spec.vllm.apiKeySecretRef"),)
            reads.append(TeamKey(spec.vllm.api_key_secret_ref, "spec.vllm.apiKeySecretRef"))
        else:
            generated = (GeneratedSecret(draft.get("librechat_env_secret"), "VLLM_API_KEY", 24),)
        if spec.vllm.hf_token_secret_ref:
            reads.append(TeamKey(spec.vllm.hf_token_secret_ref, "spec.vllm.hfTokenSecretRef"))
    fields = {"ollama": ollama, "ollama_pulls": pulls, "vllm": vllm, "vllm_secret": draft.name("vllm")}
    return Part(fields, generated, env_from, tuple(reads))


def _ollama(ctx: Context) -> list[Composed]:
    plan = ctx.plan
    assert plan.ollama is not None
    ws, ns, spec = plan.workspace.name, plan.workspace.namespace, plan.spec.ollama
    endpoint = plan.ollama.endpoint
    name = endpoint.service
    gpu_limits, gpu_pod = k8s.gpu_pod_settings(spec.gpu)
    resources = k8s.resources(spec.resources, OLLAMA_GPU_RESOURCES if spec.gpu else OLLAMA_CPU_RESOURCES)
    if gpu_limits:
        resources.setdefault("limits", {}).update(gpu_limits)
    # Pull the models once the server answers, as the upstream chart does in its postStart hook. The model ids are
    # the team's: the script reads each from its own env var, never from its text.
    pulls = " && ".join(f'ollama pull "$OLLAMA_PULL_{i}"' for i in range(len(plan.ollama_pulls)))
    pull = f"for i in $(seq 1 90); do ollama list >/dev/null 2>&1 && break; sleep 2; done; {pulls}"
    container: dict[str, Any] = {
        "name": "ollama",
        "image": OLLAMA_IMAGE.reference,
        "ports": [{"name": "http", "containerPort": endpoint.port}],
        "env": [
            {"name": "OLLAMA_HOST", "value": f"0.0.0.0:{endpoint.port}"},
            {"name": "OLLAMA_MODELS", "value": "/models"},
            {"name": "HOME", "value": "/home/ollama"},
            {"name": "OLLAMA_KEEP_ALIVE", "value": "-1"},
            *({"name": f"OLLAMA_PULL_{i}", "value": model} for i, model in enumerate(plan.ollama_pulls)),
        ],
        "resources": resources,
        "volumeMounts": [{"name": "models", "mountPath": "/models"}, {"name": "home", "mountPath": "/home/ollama"}],
        "lifecycle": {"postStart": {"exec": {"command": ["/bin/sh", "-c", pull]}}},
        "readinessProbe": {"httpGet": {"path": "/", "port": endpoint.port}, "periodSeconds": 10},
        "livenessProbe": {
            "httpGet": {"path": "/", "port": endpoint.port},
            "initialDelaySeconds": 60,
            "periodSeconds": 30,
        },
    }
    volumes = [{"name": "models", "persistentVolumeClaim": {"claimName": name}}, {"name": "home", "emptyDir": {}}]
    return workload(
        plan,
        "ollama",
        "ollama",
        port=endpoint.port,
        pvc=k8s.pvc(name, ns, ws, "ollama", spec.storage, "50Gi"),
        deployment=k8s.deployment(
            name=name,
            namespace=ns,
            workspace=ws,
            component="ollama",
            container=container,
            run_as_user=OLLAMA_UID,
            volumes=volumes,
            pod=gpu_pod,
            replicas=spec.replicas,
            stateless=k8s.shared(spec.storage),
        ),
    )


def _vllm(ctx: Context) -> list[Composed]:
    plan = ctx.plan
    assert plan.vllm is not None and plan.spec.vllm is not None
    ws, ns, spec = plan.workspace.name, plan.workspace.namespace, plan.spec.vllm
    endpoint = plan.vllm.endpoint
    name = endpoint.service
    gpu_limits, gpu_pod = k8s.gpu_pod_settings(spec.gpu)
    resources = k8s.resources(spec.resources, VLLM_RESOURCES)
    resources.setdefault("limits", {}).update(gpu_limits)
    # Team values in argv: the model positionally (a model id never starts with '-', so it is never an option),
    # the rest only as --flag=value.
    args = [
        spec.model,
        f"--served-model-name={plan.vllm.models[0]}",
        f"--port={endpoint.port}",
        f"--tensor-parallel-size={spec.gpu.count}",
    ]
    if spec.max_model_len:
        args.append(f"--max-model-len={spec.max_model_len}")
    key = spec.api_key_secret_ref
    env: list[dict[str, Any]] = [
        # vLLM requires this key on every request; LibreChat sends the same value.
        k8s.secret_env("VLLM_API_KEY", *plan.secret_key(key))
        if key
        else k8s.secret_env("VLLM_API_KEY", plan.librechat_env_secret, "VLLM_API_KEY"),
        {"name": "HF_HOME", "value": "/root/.cache/huggingface"},
    ]
    if spec.hf_token_secret_ref:
        env.append(k8s.secret_env("HF_TOKEN", *plan.secret_key(spec.hf_token_secret_ref)))
    container: dict[str, Any] = {
        "name": "vllm",
        "image": VLLM_IMAGE.reference,
        "command": ["vllm", "serve"],
        "args": args,
        "ports": [{"name": "http", "containerPort": endpoint.port}],
        "env": env,
        "resources": resources,
        "volumeMounts": [
            {"name": "models", "mountPath": "/root/.cache/huggingface"},
            {"name": "shm", "mountPath": "/dev/shm"},
        ],
        # Downloading and loading a model takes minutes: allow up to an hour before liveness applies.
        "startupProbe": {
            "httpGet": {"path": "/health", "port": endpoint.port},
            "periodSeconds": 10,
            "failureThreshold": 360,
        },
        "readinessProbe": {"httpGet": {"path": "/health", "port": endpoint.port}, "periodSeconds": 10},
        "livenessProbe": {"httpGet": {"path": "/health", "port": endpoint.port}, "periodSeconds": 30},
    }
    volumes = [
        {"name": "models", "persistentVolumeClaim": {"claimName": name}},
        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}},
    ]
    # The vLLM image runs as root and writes its cache under /root.
    return workload(
        plan,
        "vllm",
        "vllm",
        port=endpoint.port,
        pvc=k8s.pvc(name, ns, ws, "vllm", spec.storage, "100Gi"),
        deployment=k8s.deployment(
            name=name,
            namespace=ns,
            workspace=ws,
            component="vllm",
            container=container,
            run_as_user=None,
            volumes=volumes,
            pod=gpu_pod,
            replicas=spec.replicas,
            stateless=k8s.shared(spec.storage),
        ),
    )


def compose(ctx: Context) -> list[Composed]:
    out: list[Composed] = []
    if ctx.plan.ollama is not None:
        out += _ollama(ctx)
    if ctx.plan.vllm is not None:
        out += _vllm(ctx)
    return out
