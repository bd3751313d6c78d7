"""Speaches: faster-whisper speech-to-text and Kokoro text-to-speech behind an OpenAI-compatible API.

Models are preloaded at start (PRELOAD_MODELS) into a Hugging Face cache on a volume, so restarts do not
download gigabytes again. The API key is generated; LibreChat sends it as STT_API_KEY/TTS_API_KEY.
"""

from __future__ import annotations

import json
from typing import Any

from function import k8s
from function.plan import KOKORO_MODEL, speaches_stt_model
from function.resources import Composed, secret, workload
from function.services import Context
from function.versions import SPEACHES_CPU_IMAGE, SPEACHES_CUDA_IMAGE

SPEACHES_UID = 1000  # the image's ubuntu user
HF_CACHE = "/home/ubuntu/.cache/huggingface/hub"
CPU_RESOURCES = {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"memory": "8Gi"}}
GPU_RESOURCES = {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"memory": "8Gi"}}


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
            {"name": "PRELOAD_MODELS", "value": json.dumps(models)},
            {"name": "STT_MODEL_TTL", "value": "-1"},
            {"name": "TTS_MODEL_TTL", "value": "-1"},
            {"name": "WHISPER__INFERENCE_DEVICE", "value": "cuda" if spec.gpu else "cpu"},
            {"name": "WHISPER__COMPUTE_TYPE", "value": "float16" if spec.gpu else "int8"},
            {"name": "ENABLE_UI", "value": "false"},
        ],
        "resources": resources,
        "volumeMounts": [{"name": "models", "mountPath": HF_CACHE}],
        # Preloading downloads the models on first start: allow it up to 30 minutes.
        "startupProbe": {
            "httpGet": {"path": "/health", "port": plan.speaches.port},
            "periodSeconds": 10,
            "failureThreshold": 180,
        },
        "readinessProbe": {"httpGet": {"path": "/health", "port": plan.speaches.port}, "periodSeconds": 10},
        "livenessProbe": {"httpGet": {"path": "/health", "port": plan.speaches.port}, "periodSeconds": 30},
    }
    values = {key: value for (sec, key), value in ctx.secrets.generated.items() if sec == plan.speaches_secret}
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
                replicas=spec.replicas,
                stateless=k8s.shared(spec.storage),
            ),
        ),
    ]
