"""LibreChat's RAG API: indexes uploaded files into Postgres with pgvector and answers file search.

It reads its database from the normalised Secret database.py writes (never a copy in its spec), verifies
LibreChat's requests with LibreChat's own JWT secret, and embeds with the workspace's OpenAI key (referenced
from the team's Secret) or its Ollama. It waits for the database, and only it does.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from function import k8s
from function.plan import RAG, Draft, GeneratedSecret, Part, TeamKey, database_instance_name
from function.resources import Composed, workload
from function.services import Context
from function.services.database import RAG_DEPLOYMENT_KEY, SECRET_KEY
from function.spec import DatabaseProvider, EmbeddingsProvider, embeddings_provider, rag_on
from function.versions import RAG_API_IMAGE

COMPONENT = "rag-api"
RAG_RESOURCES = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}}


DEFAULT_EMBEDDINGS_MODELS = {
    EmbeddingsProvider.OPENAI: "text-embedding-3-small",
    EmbeddingsProvider.OLLAMA: "nomic-embed-text",
}


def plan_part(draft: Draft) -> Part:
    """The RAG API (LibreChat's RAG_API_URL), its embeddings and the Postgres it keeps them in: in the cluster, or
    a cloud's, whose Secrets are per cloud (a retained database of another cloud keeps its own). The function
    generates the password where no provider does: the in-cluster database and Cloud SQL."""
    spec = draft.spec
    embeddings = embeddings_provider(spec)
    if not rag_on(spec) or embeddings is None:
        return Part({"rag": None})
    database = spec.database.provider
    cloud = database != DatabaseProvider.IN_CLUSTER
    ns, name = draft.workspace.namespace, draft.workspace.name
    rag = RAG(
        endpoint=draft.endpoint("rag-api", 8000),
        embeddings=embeddings,
        embeddings_model=spec.rag.embeddings.model or DEFAULT_EMBEDDINGS_MODELS[embeddings],
        database=database,
        database_secret=draft.name("rag-database"),
        pgvector=None if cloud else draft.endpoint("pgvector", 5432, "postgresql"),
        admin_secret=draft.name(f"{database.value}-database-admin") if cloud else "",
        connection_secret=draft.name(f"{database.value}-database-connection") if cloud else "",
        instance_name=database_instance_name(ns, name, database, draft.name_key),
    )
    generated: tuple[GeneratedSecret, ...] = ()
    if database == DatabaseProvider.IN_CLUSTER:
        generated = (GeneratedSecret(rag.database_secret, "password", 24),)
    elif database == DatabaseProvider.GCP:
        generated = (GeneratedSecret(rag.admin_secret, "password", 24),)
    key = spec.openai.api_key_secret_ref
    reads = (TeamKey(key, "spec.openai.apiKeySecretRef"),) if embeddings is EmbeddingsProvider.OPENAI and key else ()
    return Part({"rag": rag}, generated, reads=reads)


def compose(ctx: Context) -> list[Composed]:
    plan = ctx.plan
    rag = plan.rag
    if rag is None:
        return []
    ws, ns, spec = plan.workspace.name, plan.workspace.namespace, plan.spec
    db = rag.database_secret
    env: list[dict[str, Any]] = [
        {"name": "VECTOR_DB_TYPE", "value": "pgvector"},
        k8s.secret_env("DB_HOST", db, "host"),
        k8s.secret_env("DB_PORT", db, "port"),
        k8s.secret_env("POSTGRES_USER", db, "username"),
        k8s.secret_env("POSTGRES_PASSWORD", db, "password"),
        k8s.secret_env("POSTGRES_DB", db, "database"),
        {"name": "RAG_HOST", "value": "0.0.0.0"},
        {"name": "RAG_PORT", "value": str(rag.endpoint.port)},
        # LibreChat signs its requests with its JWT secret; the RAG API verifies them with the same one.
        k8s.secret_env("JWT_SECRET", plan.librechat_env_secret, "JWT_SECRET"),
        {"name": "EMBEDDINGS_PROVIDER", "value": rag.embeddings.value},
        {"name": "EMBEDDINGS_MODEL", "value": rag.embeddings_model},
        {"name": "RAG_UPLOAD_DIR", "value": "/app/uploads/"},
    ]
    if rag.embeddings == EmbeddingsProvider.OPENAI and spec.openai.api_key_secret_ref:
        env.append(k8s.secret_env("RAG_OPENAI_API_KEY", *plan.secret_key(spec.openai.api_key_secret_ref)))
    elif rag.embeddings == EmbeddingsProvider.OLLAMA and plan.ollama:
        env.append({"name": "OLLAMA_BASE_URL", "value": plan.ollama.endpoint.url})
    container = {
        "name": "rag-api",
        "image": RAG_API_IMAGE.reference,
        "ports": [{"name": "http", "containerPort": rag.endpoint.port}],
        "env": env,
        "resources": k8s.resources(spec.rag.resources, RAG_RESOURCES),
        "volumeMounts": [{"name": "uploads", "mountPath": "/app/uploads"}],
        "readinessProbe": {"httpGet": {"path": "/health", "port": rag.endpoint.port}, "periodSeconds": 10},
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": rag.endpoint.port},
            "initialDelaySeconds": 30,
            "periodSeconds": 20,
        },
    }
    parts = workload(
        plan,
        "rag-api",
        COMPONENT,
        port=rag.endpoint.port,
        deployment=k8s.deployment(
            name=rag.endpoint.service,
            namespace=ns,
            workspace=ws,
            component="rag-api",
            container=container,
            run_as_user=None,  # the image runs as its own (root) user; no privilege escalation
            volumes=[{"name": "uploads", "emptyDir": {"sizeLimit": "5Gi"}}],
            replicas=spec.rag.replicas,
            stateless=True,
        ),
    )
    # Only the RAG API waits for the database: its normalised Secret appears once the database is ready.
    return [replace(item, depends_on=(SECRET_KEY,)) if item.key == RAG_DEPLOYMENT_KEY else item for item in parts]
