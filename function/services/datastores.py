"""LibreChat's in-cluster datastores: MongoDB, Meilisearch and Valkey, each with its own volume.

Authentication is on for all three; their passwords are generated (see secrets.py) and live in the
workspace's datastore Secret, which the Deployments reference by key.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from function import k8s
from function.plan import Draft, EnvFromSecret, GeneratedSecret, Part
from function.resources import Composed, secret, workload
from function.services import Context
from function.versions import MEILISEARCH_IMAGE, MONGODB_IMAGE, VALKEY_IMAGE

MONGODB_DATABASE = "LibreChat"
MONGODB_USER = "librechat"
MONGODB_VOLUME = "8Gi"  # the in-cluster MongoDB's volume, unless spec.librechat.mongodb.storage.size

MONGODB_RESOURCES = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}}
MEILISEARCH_RESOURCES = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}}
REDIS_RESOURCES = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "512Mi"}}


def plan_part(draft: Draft) -> Part:
    """MongoDB (unless the team brings its own, whose URI LibreChat gets from the team's Secret), Meilisearch and
    Valkey, and the passwords generated for them in the datastore Secret."""
    datastore_secret = draft.name("datastores")
    generated = [GeneratedSecret(datastore_secret, "redis-password", 24)]
    env_from: tuple[EnvFromSecret, ...] = ()
    existing = draft.spec.librechat.mongodb.existing_uri_secret_ref
    if existing:
        env_from = (EnvFromSecret("MONGO_URI", existing, "spec.librechat.mongodb.existingUriSecretRef"),)
    else:
        generated.append(GeneratedSecret(datastore_secret, "mongodb-root-password", 24))
    fields = {
        "datastore_secret": datastore_secret,
        "mongodb": None if existing else draft.endpoint("mongodb", 27017, "mongodb"),
        "meilisearch": draft.endpoint("meilisearch", 7700),
        "redis": draft.endpoint("redis", 6379, "redis"),
    }
    return Part(fields, tuple(generated), env_from)


def mongodb_uri(ctx: Context) -> str:
    """The in-cluster MongoDB's connection URI for LibreChat (it carries the password: Secret data only)."""
    plan = ctx.plan
    assert plan.mongodb is not None
    password = ctx.secrets.get(plan.datastore_secret, "mongodb-root-password")
    return f"mongodb://{MONGODB_USER}:{password}@{plan.mongodb.host_port}/{MONGODB_DATABASE}?authSource=admin"


def redis_uri(ctx: Context) -> str:
    password = ctx.secrets.get(ctx.plan.datastore_secret, "redis-password")
    return f"redis://:{password}@{ctx.plan.redis.host_port}"


def _volume(claim: str) -> list[dict[str, Any]]:
    return [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]


def _datastore_secret(ctx: Context) -> Composed:
    plan = ctx.plan
    values = ctx.secrets.generated_in(plan.datastore_secret)
    return secret(plan, "datastore-secret", "datastores", name=plan.datastore_secret, values=values)


def _mongodb(ctx: Context) -> list[Composed]:
    plan = ctx.plan
    assert plan.mongodb is not None
    ws, ns, spec = plan.workspace.name, plan.workspace.namespace, plan.spec.librechat.mongodb
    name = plan.mongodb.service
    container = {
        "name": "mongodb",
        "image": MONGODB_IMAGE.reference,
        "args": ["--bind_ip_all", "--auth"],
        "ports": [{"name": "mongodb", "containerPort": plan.mongodb.port}],
        "env": [
            {"name": "MONGO_INITDB_ROOT_USERNAME", "value": MONGODB_USER},
            k8s.secret_env("MONGO_INITDB_ROOT_PASSWORD", plan.datastore_secret, "mongodb-root-password"),
            {"name": "MONGO_INITDB_DATABASE", "value": MONGODB_DATABASE},
        ],
        "resources": k8s.resources(spec.resources, MONGODB_RESOURCES),
        "volumeMounts": [{"name": "data", "mountPath": "/data/db"}],
        "readinessProbe": {
            "exec": {"command": ["mongosh", "--quiet", "--eval", "db.adminCommand('ping').ok"]},
            "periodSeconds": 10,
            "timeoutSeconds": 5,
        },
        "livenessProbe": {
            "tcpSocket": {"port": plan.mongodb.port},
            "initialDelaySeconds": 30,
            "periodSeconds": 20,
        },
    }
    return workload(
        plan,
        "mongodb",
        "mongodb",
        port=plan.mongodb.port,
        pvc=k8s.pvc(name, ns, ws, "mongodb", spec.storage, MONGODB_VOLUME),
        deployment=k8s.deployment(
            name=name,
            namespace=ns,
            workspace=ws,
            component="mongodb",
            container=container,
            run_as_user=999,
            volumes=_volume(name),
        ),
    )


# Prometheus scrapes Meilisearch with a key that may only read metrics, never the master key. At v1.35.1 a key's
# value is HMAC-SHA256 of its uid (lowercase, hyphenated) keyed with the master key, in hex
# (crates/meilisearch-auth/src/store.rs, generate_key_as_hexa), so the function derives it from the master key
# it generated; the container creates the key at start (POST /keys: 201, or 409 api_key_already_exists when it
# exists). /metrics needs the action metrics.get on every index, "*" (crates/meilisearch/src/routes/metrics.rs).
METRICS_KEY_UID = "2f1c7a4e-8b3d-4c59-9e60-5a7d1b2c3e4f"
METRICS_KEY_BODY = (
    f'{{"uid":"{METRICS_KEY_UID}","name":"aiworkspace-metrics","description":"Prometheus scrapes /metrics",'
    '"actions":["metrics.get"],"indexes":["*"],"expiresAt":null}'
)


def meilisearch_metrics_key(master_key: str) -> str:
    return hmac.new(master_key.encode(), METRICS_KEY_UID.encode(), hashlib.sha256).hexdigest()


def _metrics_key_hook(port: int) -> dict[str, Any]:
    """A postStart hook creating the metrics key once Meilisearch answers (the Alpine image has sh and curl:
    Dockerfile at v1.35.1); no `$(`, which the kubelet would read as a reference."""
    script = (
        f"curl -sS -o /dev/null -w '%{{http_code}}' --retry 30 --retry-delay 2 --retry-connrefused "
        f'-X POST http://127.0.0.1:{port}/keys -H "Authorization: Bearer $MEILI_MASTER_KEY" '
        f"-H 'Content-Type: application/json' --data '{METRICS_KEY_BODY}' | grep -qxE '201|409'"
    )
    return {"postStart": {"exec": {"command": ["/bin/sh", "-c", script]}}}


def _meilisearch(ctx: Context) -> list[Composed]:
    plan = ctx.plan
    ws, ns, spec = plan.workspace.name, plan.workspace.namespace, plan.spec.librechat.meilisearch
    name = plan.meilisearch.service
    env: list[dict[str, Any]] = [
        k8s.secret_env("MEILI_MASTER_KEY", plan.librechat_env_secret, "MEILI_MASTER_KEY"),
        {"name": "MEILI_ENV", "value": "production"},
        {"name": "MEILI_NO_ANALYTICS", "value": "true"},
        {"name": "MEILI_DB_PATH", "value": "/meili_data/data.ms"},
    ]
    container = {
        "name": "meilisearch",
        "image": MEILISEARCH_IMAGE.reference,
        "ports": [{"name": "http", "containerPort": plan.meilisearch.port}],
        "env": env,
        "resources": k8s.resources(spec.resources, MEILISEARCH_RESOURCES),
        "volumeMounts": [{"name": "data", "mountPath": "/meili_data"}],
        "readinessProbe": {
            "httpGet": {"path": "/health", "port": plan.meilisearch.port},
            "periodSeconds": 10,
        },
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": plan.meilisearch.port},
            "initialDelaySeconds": 20,
            "periodSeconds": 20,
        },
    }
    if plan.spec.monitoring.enabled:
        # /metrics exists only with this experimental flag (option.rs at v1.35.1), behind a key with metrics.get.
        env.append({"name": "MEILI_EXPERIMENTAL_ENABLE_METRICS", "value": "true"})
        container["lifecycle"] = _metrics_key_hook(plan.meilisearch.port)
    return workload(
        plan,
        "meilisearch",
        "meilisearch",
        port=plan.meilisearch.port,
        pvc=k8s.pvc(name, ns, ws, "meilisearch", spec.storage, "5Gi"),
        deployment=k8s.deployment(
            name=name,
            namespace=ns,
            workspace=ws,
            component="meilisearch",
            container=container,
            run_as_user=1000,
            volumes=_volume(name),
        ),
    )


def _redis(ctx: Context) -> list[Composed]:
    plan = ctx.plan
    ws, ns, spec = plan.workspace.name, plan.workspace.namespace, plan.spec.librechat.redis
    name = plan.redis.service
    container = {
        "name": "valkey",
        "image": VALKEY_IMAGE.reference,
        "command": ["valkey-server"],
        "args": [
            "--requirepass",
            "$(VALKEY_PASSWORD)",
            "--dir",
            "/data",
            "--save",
            "60",
            "1",
            "--loglevel",
            "warning",
        ],
        "ports": [{"name": "redis", "containerPort": plan.redis.port}],
        "env": [k8s.secret_env("VALKEY_PASSWORD", plan.datastore_secret, "redis-password")],
        "resources": k8s.resources(spec.resources, REDIS_RESOURCES),
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        "readinessProbe": {"tcpSocket": {"port": plan.redis.port}, "periodSeconds": 10},
        "livenessProbe": {
            "tcpSocket": {"port": plan.redis.port},
            "initialDelaySeconds": 10,
            "periodSeconds": 20,
        },
    }
    return workload(
        plan,
        "redis",
        "redis",
        port=plan.redis.port,
        pvc=k8s.pvc(name, ns, ws, "redis", spec.storage, "1Gi"),
        deployment=k8s.deployment(
            name=name,
            namespace=ns,
            workspace=ws,
            component="redis",
            container=container,
            run_as_user=999,
            volumes=_volume(name),
        ),
    )


def compose(ctx: Context) -> list[Composed]:
    resources = [_datastore_secret(ctx)]
    if ctx.plan.mongodb is not None:
        resources += _mongodb(ctx)
    resources += _meilisearch(ctx)
    resources += _redis(ctx)
    return resources
