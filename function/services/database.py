"""Postgres with pgvector for the RAG API: in the cluster, or a managed database on AWS, GCP or Azure.

Whatever runs it, the RAG API reads one normalised Secret (<workspace>-rag-database: host, port, username,
password, database). In the cluster the function writes it from the generated password; on a cloud it is
built from the managed database's observed connection details, once they are published and the database
is ready. Until then it waits, and so does the RAG API; nothing else does. Once written it never
disappears: if the details vanish for a moment, the Secret stays as it was.
"""

from __future__ import annotations

from dataclasses import replace

from function import k8s
from function.clouds import DATABASE_COMPONENT, CloudDatabase, aws, azure, gcp
from function.resources import Composed, object_api_version, secret, usage, workload
from function.services import Context
from function.spec import DatabaseProvider
from function.versions import PGVECTOR_IMAGE

COMPONENT = DATABASE_COMPONENT
SECRET_KEY = "rag-database-secret"
PGVECTOR_VOLUME = "10Gi"  # the in-cluster Postgres's volume, unless spec.database.storage.size
RAG_DEPLOYMENT_KEY = "rag-api-deployment"
IN_CLUSTER_USER = "rag"
PGVECTOR_RESOURCES = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}}
CLOUDS = {DatabaseProvider.AWS: aws, DatabaseProvider.GCP: gcp, DatabaseProvider.AZURE: azure}


def cloud(ctx: Context) -> CloudDatabase | None:
    rag = ctx.plan.rag
    if rag is None or rag.database == DatabaseProvider.IN_CLUSTER:
        return None
    database: CloudDatabase = CLOUDS[rag.database].database(ctx)
    return database


def _in_cluster(ctx: Context) -> list[Composed]:
    plan = ctx.plan
    assert plan.rag is not None and plan.rag.pgvector is not None
    ws, ns, spec = plan.workspace.name, plan.workspace.namespace, plan.spec.database
    pg, name = plan.rag.pgvector, plan.rag.database_secret
    values = {
        "host": pg.host,
        "port": str(pg.port),
        "username": IN_CLUSTER_USER,
        "password": ctx.secrets.get(name, "password"),
        "database": spec.database_name,
    }
    container = {
        "name": "postgres",
        "image": PGVECTOR_IMAGE.reference,
        "ports": [{"name": "postgres", "containerPort": pg.port}],
        "env": [
            k8s.secret_env("POSTGRES_USER", name, "username"),
            k8s.secret_env("POSTGRES_PASSWORD", name, "password"),
            k8s.secret_env("POSTGRES_DB", name, "database"),
            {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
        ],
        "resources": k8s.resources(spec.resources, PGVECTOR_RESOURCES),
        "volumeMounts": [
            {"name": "data", "mountPath": "/var/lib/postgresql/data"},
            {"name": "run", "mountPath": "/var/run/postgresql"},
        ],
        "readinessProbe": {
            "exec": {"command": ["pg_isready", "-U", IN_CLUSTER_USER, "-d", spec.database_name]},
            "periodSeconds": 10,
        },
        "livenessProbe": {"tcpSocket": {"port": pg.port}, "initialDelaySeconds": 30, "periodSeconds": 20},
    }
    connection = secret(plan, SECRET_KEY, COMPONENT, name=name, values=values)
    parts = workload(
        plan,
        "pgvector",
        COMPONENT,
        port=pg.port,
        pvc=k8s.pvc(pg.service, ns, ws, "pgvector", spec.storage, PGVECTOR_VOLUME),
        deployment=k8s.deployment(
            name=pg.service,
            namespace=ns,
            workspace=ws,
            component="pgvector",
            container=container,
            run_as_user=999,  # the postgres user of the official image
            volumes=[
                {"name": "data", "persistentVolumeClaim": {"claimName": pg.service}},
                {"name": "run", "emptyDir": {}},
            ],
        ),
    )
    # The database starts once the Secret holding its password exists.
    return [connection, *(replace(p, depends_on=(SECRET_KEY,)) if p.key == "pgvector-deployment" else p for p in parts)]


def compose(ctx: Context) -> list[Composed]:
    plan = ctx.plan
    if plan.rag is None:
        return []
    managed = cloud(ctx)
    if managed is None:
        return _in_cluster(ctx)
    connection = managed.connection
    normalised = secret(
        plan,
        SECRET_KEY,
        COMPONENT,
        name=plan.rag.database_secret,
        values=connection.values() if connection else {},
    )
    if connection is None:
        normalised = Composed(normalised.key, normalised.body, COMPONENT, hold=managed.waiting_for)
    # The RAG API goes before the database it writes to.
    protect = usage(
        plan,
        "database-usage",
        COMPONENT,
        of=managed.main,
        by=(object_api_version(plan), "Object", RAG_DEPLOYMENT_KEY),
    )
    return [*managed.resources, normalised, protect]
