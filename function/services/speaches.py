"""Speaches: faster-whisper speech-to-text and Kokoro text-to-speech behind an OpenAI-compatible API.

Facts of the pinned release (speaches v0.8.3), read in its source at that tag:
- The API key is a dependency of the whole FastAPI app (src/speaches/main.py, create_app), so `GET /health`
  answers 403 without `Authorization: Bearer <API_KEY>`. The probes are therefore exec probes that send the
  key from the container's own env: no key is written into the spec.
- There is no model preloading setting (PRELOAD_MODELS and the STT/TTS TTLs came after it); models load on
  first use from the Hugging Face cache, and a missing one answers "model not installed". An init container
  of the same image downloads the chosen STT model and the Kokoro model into the cache volume with the API's
  own download code (`model_registry.download_model_files_if_not_exist`, what `POST /v1/models/{id}` calls in
  src/speaches/routers/models.py), so both are on the volume before the pod is Ready, and a restart finds them.
- The only TTL at 0.8.3 is Whisper's (`WHISPER__TTL`, src/speaches/config.py); -1 keeps the model loaded.
The API key is generated; LibreChat sends it as STT_API_KEY/TTS_API_KEY.
"""

from __future__ import annotations

from typing import Any

from function import k8s
from function.plan import Draft, Endpoint, GeneratedSecret, Part, Speech
from function.resources import Composed, secret, workload
from function.services import Context
from function.spec import SpeechImplementation
from function.versions import SPEACHES_CPU_IMAGE, SPEACHES_CUDA_IMAGE

KOKORO_MODEL = "speaches-ai/Kokoro-82M-v1.0-ONNX"


def speaches_stt_model(model: str) -> str:
    """A faster-whisper size (large-v3) as the Hugging Face id Speaches loads; full ids pass through."""
    if "/" in model:
        return model
    if model.startswith("distil-"):
        return f"Systran/faster-distil-whisper-{model.removeprefix('distil-')}"
    return f"Systran/faster-whisper-{model}"


def plan_part(draft: Draft) -> Part:
    """Speaches' Service and its Secret, with the API key generated for it (LibreChat sends the same key)."""
    secret_name = draft.name("speaches")
    if not draft.spec.speaches.enabled:
        return Part({"speaches": None, "speaches_secret": secret_name})
    fields = {"speaches": draft.endpoint("speaches", 8000), "speaches_secret": secret_name}
    return Part(fields, (GeneratedSecret(secret_name, "api-key", 24),))


def stt(draft: Draft) -> Speech | None:
    """Speech-to-text through Speaches' OpenAI-compatible API: the full URL LibreChat calls, with the key as
    STT_API_KEY."""
    speaches: Endpoint | None = draft.get("speaches")
    if speaches is None:
        return None
    spec = draft.spec.speaches.stt
    url = f"{speaches.url}/v1/audio/transcriptions"
    model = speaches_stt_model(spec.model)
    return Speech(SpeechImplementation.SPEACHES, "STT_API_KEY", url, speaches.host_port, model, language=spec.language)


def tts(draft: Draft) -> Speech | None:
    """Text-to-speech through Speaches' Kokoro, with the key as TTS_API_KEY."""
    speaches: Endpoint | None = draft.get("speaches")
    if speaches is None:
        return None
    spec = draft.spec.speaches.tts
    return Speech(
        SpeechImplementation.SPEACHES,
        "TTS_API_KEY",
        f"{speaches.url}/v1/audio/speech",
        speaches.host_port,
        KOKORO_MODEL,
        tuple(v.value for v in spec.voices),
        language=spec.language,
    )


SPEACHES_UID = 1000  # the image's ubuntu user
HF_CACHE = "/home/ubuntu/.cache/huggingface/hub"
CPU_RESOURCES = {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"memory": "8Gi"}}
GPU_RESOURCES = {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"memory": "8Gi"}}


# Downloads argv[1] (a faster-whisper model) and argv[2] (the Kokoro model) into the Hugging Face cache, with
# speaches' own registries; the model ids are arguments, never part of the program text.
DOWNLOAD_MODELS = (
    "import sys\n"
    "from speaches.executors.whisper.utils import model_registry as whisper\n"
    "from speaches.executors.kokoro.utils import model_registry as kokoro\n"
    "whisper.download_model_files_if_not_exist(sys.argv[1])\n"
    "kokoro.download_model_files_if_not_exist(sys.argv[2])\n"
)

# GET /health with the API key from the container's env (API_KEY), failing on any non-2xx answer.
HEALTH_CHECK = (
    "import os, sys, urllib.request as r\n"
    "q = r.Request('http://127.0.0.1:' + sys.argv[1] + '/health',"
    " headers={'Authorization': 'Bearer ' + os.environ['API_KEY']})\n"
    "r.urlopen(q, timeout=5)\n"
)


def health_probe(port: int) -> dict[str, Any]:
    return {"exec": {"command": ["python", "-c", HEALTH_CHECK, str(port)]}, "timeoutSeconds": 10}


def compose(ctx: Context) -> list[Composed]:
    plan = ctx.plan
    if plan.speaches is None:
        return []
    ws, ns, spec = plan.workspace.name, plan.workspace.namespace, plan.spec.speaches
    name = plan.speaches.service
    gpu_limits, gpu_pod = k8s.gpu_pod_settings(spec.gpu)
    resources = k8s.resources(spec.resources, GPU_RESOURCES if spec.gpu else CPU_RESOURCES)
    if gpu_limits:
        resources.setdefault("limits", {}).update(gpu_limits)
    models = [speaches_stt_model(spec.stt.model), KOKORO_MODEL]
    container: dict[str, Any] = {
        "name": "speaches",
        "image": (SPEACHES_CUDA_IMAGE if spec.gpu else SPEACHES_CPU_IMAGE).reference,
        "ports": [{"name": "http", "containerPort": plan.speaches.port}],
        "env": [
            k8s.secret_env("API_KEY", plan.speaches_secret, "api-key"),
            {"name": "WHISPER__TTL", "value": "-1"},
            {"name": "WHISPER__INFERENCE_DEVICE", "value": "cuda" if spec.gpu else "cpu"},
            {"name": "WHISPER__COMPUTE_TYPE", "value": "float16" if spec.gpu else "int8"},
            {"name": "ENABLE_UI", "value": "false"},
        ],
        "resources": resources,
        "volumeMounts": [{"name": "models", "mountPath": HF_CACHE}],
        "startupProbe": {**health_probe(plan.speaches.port), "periodSeconds": 10, "failureThreshold": 30},
        "readinessProbe": {**health_probe(plan.speaches.port), "periodSeconds": 10},
        "livenessProbe": {**health_probe(plan.speaches.port), "periodSeconds": 30},
    }
    # The downloads may take long (large-v3 is about 3 GB); an init container has no deadline.
    download = {
        "name": "download-models",
        "image": container["image"],
        "command": ["python", "-c", DOWNLOAD_MODELS, *models],
        "resources": {"requests": {"cpu": "100m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}},
        "volumeMounts": [{"name": "models", "mountPath": HF_CACHE}],
    }
    values = ctx.secrets.generated_in(plan.speaches_secret)
    return [
        secret(plan, "speaches-secret", "speaches", name=plan.speaches_secret, values=values),
        *workload(
            plan,
            "speaches",
            "speaches",
            port=plan.speaches.port,
            pvc=k8s.pvc(name, ns, ws, "speaches", spec.storage, "20Gi"),
            deployment=k8s.deployment(
                name=name,
                namespace=ns,
                workspace=ws,
                component="speaches",
                container=container,
                run_as_user=SPEACHES_UID,
                volumes=[{"name": "models", "persistentVolumeClaim": {"claimName": name}}],
                pod=gpu_pod,
                init_containers=[download],
                replicas=spec.replicas,
                stateless=k8s.shared(spec.storage),
            ),
        ),
    ]
