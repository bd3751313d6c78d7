"""Firecrawl, the scraper of LibreChat's web search.

The API and its workers run from one image as separate Deployments, as upstream's Kubernetes example does.
Beside them run the Playwright service and Firecrawl's own queue database (the nuq-postgres image with
pg_cron and the queue schema) and Redis, each on its own volume. Connection URLs carry passwords, so they
live in Firecrawl's Secret. The LLM key is referenced from the team's Secret, never copied.

Firecrawl publishes only `latest` (function/versions.py). The API's drain, health routes, the queue worker's
/liveness and WORKER_PORT were read at 61e38dc8 (the snapshot); the NuQ worker and extract worker, their ports and
process groups, and the nuq-postgres queue database are newer than that and were read in the stored file index
(apps/api/src/services/worker/nuq-worker.ts at 3b844de2, docker-compose.yaml at 000c456d): a platform that pins
the images by digest should check these against the commit it pins.
"""

from __future__ import annotations

from typing import Any

from function import k8s
from function.plan import Draft, GeneratedSecret, Part, TeamKey
from function.resources import (
    DEPLOYMENT_AVAILABLE,
    Composed,
    autoscaler,
    disruption_budget,
    kubernetes_object,
    secret,
    workload,
)
from function.services import Context
from function.versions import FIRECRAWL_REDIS_IMAGE

API_TERMINATION_GRACE_SECONDS = 90  # the API's own 60 s drain, plus time to finish and close
POSTGRES_USER = "postgres"
POSTGRES_DB = "postgres"  # nuq-postgres hard-codes cron.database_name=postgres
API_RESOURCES = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "4Gi"}}
WORKER_RESOURCES = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "3Gi"}}
PLAYWRIGHT_RESOURCES = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "4Gi"}}
POSTGRES_RESOURCES = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}}
REDIS_RESOURCES = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}}

# (component, command, port env, port, health path, process group)
PROCESSES: tuple[tuple[str, str, str, int, str, str | None], ...] = (
    ("firecrawl-worker", "dist/src/services/queue-worker.js", "WORKER_PORT", 3005, "/liveness", "worker"),
    (
        "firecrawl-nuq-worker",
        "dist/src/services/worker/nuq-worker.js",
        "NUQ_WORKER_PORT",
        3006,
        "/health",
        "nuq-worker",
    ),
    ("firecrawl-extract-worker", "dist/src/services/extract-worker.js", "EXTRACT_WORKER_PORT", 3004, "", None),
)


def plan_part(draft: Draft) -> Part:
    """Firecrawl's API (what LibreChat calls, with a key generated into LibreChat's env), Playwright, its own
    Postgres and Redis with their generated passwords, and the LLM key it uses: its own, else the workspace's
    OpenAI key."""
    spec = draft.spec
    secret_name = draft.name("firecrawl")
    if not spec.firecrawl.enabled:
        off = ("firecrawl", "firecrawl_playwright", "firecrawl_postgres", "firecrawl_redis", "firecrawl_llm_key")
        return Part({"firecrawl_secret": secret_name, **dict.fromkeys(off)})
    generated = (
        GeneratedSecret(draft.get("librechat_env_secret"), "FIRECRAWL_API_KEY", 24),
        GeneratedSecret(secret_name, "postgres-password", 24),
        GeneratedSecret(secret_name, "redis-password", 24),
        GeneratedSecret(secret_name, "BULL_AUTH_KEY", 24),
    )
    own = spec.firecrawl.provider.api_key_secret_ref
    llm_key = own or spec.openai.api_key_secret_ref
    field = "spec.firecrawl.provider.apiKeySecretRef" if own else "spec.openai.apiKeySecretRef"
    fields = {
        "firecrawl": draft.endpoint("firecrawl-api", 3002),
        "firecrawl_playwright": draft.endpoint("firecrawl-playwright", 3000),
        "firecrawl_postgres": draft.endpoint("firecrawl-postgres", 5432, "postgresql"),
        "firecrawl_redis": draft.endpoint("firecrawl-redis", 6379, "redis"),
        "firecrawl_secret": secret_name,
        "firecrawl_llm_key": llm_key,
    }
    return Part(fields, generated, reads=(TeamKey(llm_key, field),) if llm_key else ())


def _secret_values(ctx: Context) -> dict[str, str]:
    plan = ctx.plan
    assert plan.firecrawl_postgres is not None and plan.firecrawl_redis is not None
    name = plan.firecrawl_secret
    pg_password = ctx.secrets.get(name, "postgres-password")
    redis_password = ctx.secrets.get(name, "redis-password")
    database_url = f"postgresql://{POSTGRES_USER}:{pg_password}@{plan.firecrawl_postgres.host_port}/{POSTGRES_DB}"
    return {
        "postgres-password": pg_password,
        "redis-password": redis_password,
        "BULL_AUTH_KEY": ctx.secrets.get(name, "BULL_AUTH_KEY"),
        "NUQ_DATABASE_URL": database_url,
        "NUQ_DATABASE_URL_LISTEN": database_url,
        "REDIS_URL": f"redis://:{redis_password}@{plan.firecrawl_redis.host_port}",
    }


def _common_env(ctx: Context) -> list[dict[str, Any]]:
    plan = ctx.plan
    assert plan.firecrawl_playwright is not None
    spec = plan.spec.firecrawl
    name = plan.firecrawl_secret
    env: list[dict[str, Any]] = [
        k8s.secret_env("REDIS_URL", name, "REDIS_URL"),
        k8s.secret_env("REDIS_RATE_LIMIT_URL", name, "REDIS_URL"),
        k8s.secret_env("NUQ_DATABASE_URL", name, "NUQ_DATABASE_URL"),
        k8s.secret_env("NUQ_DATABASE_URL_LISTEN", name, "NUQ_DATABASE_URL_LISTEN"),
        k8s.secret_env("BULL_AUTH_KEY", name, "BULL_AUTH_KEY"),
        {"name": "PLAYWRIGHT_MICROSERVICE_URL", "value": f"{plan.firecrawl_playwright.url}/scrape"},
        {"name": "USE_DB_AUTHENTICATION", "value": "false"},
        {"name": "IS_KUBERNETES", "value": "true"},
        {"name": "ENV", "value": "production"},
        {"name": "LOGGING_LEVEL", "value": "INFO"},
        {"name": "NUM_WORKERS_PER_QUEUE", "value": "8"},
        {"name": "MODEL_NAME", "value": spec.provider.model},
        {"name": "MODEL_EMBEDDING_NAME", "value": spec.provider.embedding_model},
    ]
    if plan.firecrawl_llm_key:
        env.append(k8s.secret_env("OPENAI_API_KEY", *plan.secret_key(plan.firecrawl_llm_key)))
    if plan.searxng:
        env.append({"name": "SEARXNG_ENDPOINT", "value": plan.searxng.url})
    return env


def _process(
    ctx: Context,
    component: str,
    script: str,
    port_env: str,
    port: int,
    health: str,
    group: str | None,
    replicas: int | None,
    resources: dict[str, dict[str, str]],
) -> dict[str, Any]:
    plan = ctx.plan
    ws, ns = plan.workspace.name, plan.workspace.namespace
    env = [*_common_env(ctx), {"name": "HOST", "value": "0.0.0.0"}, {"name": port_env, "value": str(port)}]
    if group:
        env.append({"name": "FLY_PROCESS_GROUP", "value": group})
    if component == "firecrawl-nuq-worker":
        env.append({"name": "NUQ_POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
    container: dict[str, Any] = {
        "name": component.removeprefix("firecrawl-"),
        "image": plan.platform.image("firecrawl"),
        "command": ["node", script],
        "ports": [{"name": "http", "containerPort": port}],
        "env": env,
        "resources": resources,
    }
    if health:
        container["readinessProbe"] = {"httpGet": {"path": health, "port": port}, "periodSeconds": 10}
        container["livenessProbe"] = {
            "httpGet": {"path": health, "port": port},
            "initialDelaySeconds": 30,
            "periodSeconds": 20,
        }
    return k8s.deployment(
        name=plan.object_name(component),
        namespace=ns,
        workspace=ws,
        component=component,
        container=container,
        run_as_user=None,
        volumes=[],
        replicas=replicas,
        stateless=True,
    )


def compose(ctx: Context) -> list[Composed]:
    plan = ctx.plan
    if plan.firecrawl is None:
        return []
    assert plan.firecrawl_playwright and plan.firecrawl_postgres and plan.firecrawl_redis
    ws, ns, spec = plan.workspace.name, plan.workspace.namespace, plan.spec.firecrawl
    api_resources = k8s.resources(spec.resources, API_RESOURCES)
    worker_resources = k8s.resources(spec.resources, WORKER_RESOURCES)
    out = [secret(plan, "firecrawl-secret", "firecrawl", name=plan.firecrawl_secret, values=_secret_values(ctx))]

    # The API: what LibreChat calls.
    api = _process(
        ctx,
        "firecrawl-api",
        "dist/src/index.js",
        "PORT",
        plan.firecrawl.port,
        "",
        "app",
        k8s.replicas(spec.replicas, spec.autoscaling),
        api_resources,
    )
    container = api["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"] = {
        "httpGet": {"path": "/v0/health/readiness", "port": plan.firecrawl.port},
        "periodSeconds": 10,
    }
    container["livenessProbe"] = {
        "httpGet": {"path": "/v0/health/liveness", "port": plan.firecrawl.port},
        "initialDelaySeconds": 30,
        "periodSeconds": 20,
    }
    # With IS_KUBERNETES=true the API waits 60 s on SIGTERM before closing its server, for load balancers to
    # drain (apps/api/src/index.ts, exitHandler, at 61e38dc8); Kubernetes' default 30 s grace would kill it
    # mid-drain with requests in flight.
    api["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = API_TERMINATION_GRACE_SECONDS
    out += workload(
        plan, "firecrawl-api", "firecrawl", port=plan.firecrawl.port, deployment=api, autoscaling=spec.autoscaling
    )
    for component, script, port_env, port, health, group in PROCESSES:
        # The extract worker stays single: it is not scaled with the queue workers.
        scaled = component != "firecrawl-extract-worker"
        replicas = k8s.replicas(spec.workers, spec.worker_autoscaling) if scaled else 1
        deployment = _process(ctx, component, script, port_env, port, health, group, replicas, worker_resources)
        out.append(
            kubernetes_object(plan, f"{component}-deployment", "firecrawl", deployment, ready_when=DEPLOYMENT_AVAILABLE)
        )
        if scaled and k8s.several_pods(spec.workers, spec.worker_autoscaling):
            pods = deployment["spec"]["selector"]["matchLabels"]
            name = deployment["metadata"]["name"]
            out.append(disruption_budget(plan, component, "firecrawl", name=name, pods=pods))
        if scaled and spec.worker_autoscaling.enabled:
            out.append(
                autoscaler(
                    plan,
                    component,
                    "firecrawl",
                    deployment=deployment["metadata"]["name"],
                    autoscaling=spec.worker_autoscaling,
                )
            )

    # The browser that renders pages for the scrapers.
    playwright = plan.firecrawl_playwright
    pw_container = {
        "name": "playwright",
        "image": plan.platform.image("firecrawlPlaywright"),
        "ports": [{"name": "http", "containerPort": playwright.port}],
        "env": [{"name": "PORT", "value": str(playwright.port)}, {"name": "MAX_CONCURRENT_PAGES", "value": "10"}],
        "resources": PLAYWRIGHT_RESOURCES,
        "volumeMounts": [{"name": "cache", "mountPath": "/tmp/.cache"}],
        "readinessProbe": {"httpGet": {"path": "/health", "port": playwright.port}, "periodSeconds": 10},
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": playwright.port},
            "initialDelaySeconds": 20,
            "periodSeconds": 20,
        },
    }
    out += workload(
        plan,
        "firecrawl-playwright",
        "firecrawl",
        port=playwright.port,
        deployment=k8s.deployment(
            name=playwright.service,
            namespace=ns,
            workspace=ws,
            component="firecrawl-playwright",
            container=pw_container,
            run_as_user=None,
            volumes=[{"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}}],
            stateless=True,
        ),
    )

    # Firecrawl's queue database.
    pg = plan.firecrawl_postgres
    pg_container = {
        "name": "postgres",
        "image": plan.platform.image("firecrawlPostgres"),
        "ports": [{"name": "postgres", "containerPort": pg.port}],
        "env": [
            {"name": "POSTGRES_USER", "value": POSTGRES_USER},
            k8s.secret_env("POSTGRES_PASSWORD", plan.firecrawl_secret, "postgres-password"),
            {"name": "POSTGRES_DB", "value": POSTGRES_DB},
            {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
        ],
        "resources": POSTGRES_RESOURCES,
        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}],
        "readinessProbe": {"exec": {"command": ["pg_isready", "-U", POSTGRES_USER]}, "periodSeconds": 10},
        "livenessProbe": {"tcpSocket": {"port": pg.port}, "initialDelaySeconds": 30, "periodSeconds": 20},
    }
    out += workload(
        plan,
        "firecrawl-postgres",
        "firecrawl",
        port=pg.port,
        pvc=k8s.pvc(pg.service, ns, ws, "firecrawl-postgres", spec.storage, "10Gi"),
        deployment=k8s.deployment(
            name=pg.service,
            namespace=ns,
            workspace=ws,
            component="firecrawl-postgres",
            container=pg_container,
            run_as_user=999,
            volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": pg.service}}],
        ),
    )

    # Firecrawl's own Redis (queues and rate limits).
    redis = plan.firecrawl_redis
    redis_container = {
        "name": "redis",
        "image": FIRECRAWL_REDIS_IMAGE.reference,
        "command": ["redis-server"],
        "args": ["--requirepass", "$(REDIS_PASSWORD)", "--appendonly", "yes", "--dir", "/data"],
        "ports": [{"name": "redis", "containerPort": redis.port}],
        "env": [k8s.secret_env("REDIS_PASSWORD", plan.firecrawl_secret, "redis-password")],
        "resources": REDIS_RESOURCES,
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        "readinessProbe": {"tcpSocket": {"port": redis.port}, "periodSeconds": 10},
        "livenessProbe": {"tcpSocket": {"port": redis.port}, "initialDelaySeconds": 10, "periodSeconds": 20},
    }
    redis_storage = spec.storage.model_copy(update={"size": None})  # Redis keeps its own 1Gi default
    out += workload(
        plan,
        "firecrawl-redis",
        "firecrawl",
        port=redis.port,
        pvc=k8s.pvc(redis.service, ns, ws, "firecrawl-redis", redis_storage, "1Gi"),
        deployment=k8s.deployment(
            name=redis.service,
            namespace=ns,
            workspace=ws,
            component="firecrawl-redis",
            container=redis_container,
            run_as_user=999,
            volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": redis.service}}],
        ),
    )
    return out
