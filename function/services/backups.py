"""Backups of the in-cluster databases: a CronJob per database (mongodump for MongoDB, pg_dump for the RAG
API's Postgres), on the schedule the spec sets.

Each run dumps with the database's own image and client. With a volume (no bucket, or a bucket LibreChat reaches
through an IAM role) the dump is written to the protected backup volume and older dumps are pruned there. With
the workspace's bucket an init container dumps to a scratch volume and rclone uploads the dump under the plan's
prefix, then deletes the dumps older than the retention. Credentials only ever enter by reference: the
database passwords from the Secrets the databases read, the bucket's keys from LibreChat's env Secret.
A dump is written as <name>.partial and renamed when complete, so a failed run never leaves a truncated dump
that looks whole; pruning runs only after a successful dump, so the newest good dump is always kept.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from function import k8s
from function.plan import CRON_JOB_NAME_LIMIT, Backups, Endpoint, Plan
from function.resources import Composed, kubernetes_object
from function.services import Context, files
from function.services.datastores import MONGODB_USER
from function.spec import ObjectStorageProvider
from function.versions import MONGODB_IMAGE, PGVECTOR_IMAGE, RCLONE_IMAGE, RCLONE_UID

COMPONENT = "backups"
DUMP_UID = 999  # the mongodb and postgres users of both database images
DUMP_RESOURCES = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}}
UPLOAD_RESOURCES = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}
REMOTE = "backup"  # rclone remote configured from RCLONE_CONFIG_BACKUP_* env vars (fs/config.go, ConfigToEnv)
S3_PROVIDERS = {ObjectStorageProvider.AWS: "AWS", ObjectStorageProvider.GCP: "GCS", ObjectStorageProvider.S3: "Other"}

# mongodump reads the password from a --config file, never from its command line (visible in the process list).
MONGODUMP = (
    'umask 077; config="${TMPDIR:-/tmp}/mongodump.yaml"; printf "password: %s\\n" "$MONGODB_PASSWORD" > "$config"; '
    'mongodump --host="$DB_HOST" --port="$DB_PORT" --username="$DB_USER" --authenticationDatabase=admin '
    '--config="$config" --gzip --archive="$file.partial"'
)
PG_DUMP = (
    'pg_dump --host="$DB_HOST" --port="$DB_PORT" --username="$DB_USER" --dbname="$DB_NAME" '
    '--format=custom --file="$file.partial"'
)
EXTENSIONS = {"mongodb": "archive.gz", "pgvector": "dump"}


def _dump_script(datastore: str, directory: str) -> str:
    dump = MONGODUMP if datastore == "mongodb" else PG_DUMP
    extension = EXTENSIONS[datastore]
    return (
        f'set -eu; dir="{directory}"; mkdir -p "$dir"; '
        f'file="$dir/{datastore}-$(date -u +%Y%m%dT%H%M%SZ).{extension}"; '
        f'{dump}; mv "$file.partial" "$file"; echo "wrote $file"'
    )


def _prune_script(datastore: str, directory: str, retention_days: int) -> str:
    return (
        f'find "{directory}" -maxdepth 1 -name "{datastore}-*.{EXTENSIONS[datastore]}" '
        f"-mmin +{retention_days * 24 * 60} -print -delete"
    )


def _database_env(plan: Plan, datastore: str, endpoint: Endpoint) -> list[dict[str, Any]]:
    if datastore == "mongodb":
        return [
            {"name": "DB_HOST", "value": endpoint.host},
            {"name": "DB_PORT", "value": str(endpoint.port)},
            {"name": "DB_USER", "value": MONGODB_USER},
            k8s.secret_env("MONGODB_PASSWORD", plan.datastore_secret, "mongodb-root-password"),
        ]
    # The same normalised connection Secret the RAG API reads.
    assert plan.rag is not None
    connection = plan.rag.database_secret
    return [
        k8s.secret_env("DB_HOST", connection, "host"),
        k8s.secret_env("DB_PORT", connection, "port"),
        k8s.secret_env("DB_USER", connection, "username"),
        k8s.secret_env("DB_NAME", connection, "database"),
        k8s.secret_env("PGPASSWORD", connection, "password"),
    ]


def _rclone_env(plan: Plan) -> list[dict[str, Any]]:
    """The bucket as rclone's remote, from the same settings and keys LibreChat uses."""
    assert plan.files is not None
    storage, secret = plan.spec.object_storage, plan.librechat_env_secret
    option = f"RCLONE_CONFIG_{REMOTE.upper()}_"
    if plan.files.provider is ObjectStorageProvider.AZURE:
        return [
            {"name": f"{option}TYPE", "value": "azureblob"},
            k8s.secret_env(f"{option}CONNECTION_STRING", secret, "AZURE_STORAGE_CONNECTION_STRING"),
            {"name": f"{option}NO_CHECK_CONTAINER", "value": "true"},
        ]
    env = [
        {"name": f"{option}TYPE", "value": "s3"},
        {"name": f"{option}PROVIDER", "value": S3_PROVIDERS[plan.files.provider]},
        k8s.secret_env(f"{option}ACCESS_KEY_ID", secret, "AWS_ACCESS_KEY_ID"),
        k8s.secret_env(f"{option}SECRET_ACCESS_KEY", secret, "AWS_SECRET_ACCESS_KEY"),
        {"name": f"{option}NO_CHECK_BUCKET", "value": "true"},  # the bucket exists; the keys may not create one
    ]
    if storage.aws:
        env.append({"name": f"{option}REGION", "value": storage.aws.region})
    elif plan.files.provider is ObjectStorageProvider.GCP:
        env.append({"name": f"{option}ENDPOINT", "value": "https://storage.googleapis.com"})
    elif storage.s3:
        env += [
            {"name": f"{option}ENDPOINT", "value": storage.s3.endpoint},
            {"name": f"{option}REGION", "value": storage.s3.region},
            {"name": f"{option}FORCE_PATH_STYLE", "value": "true" if storage.s3.force_path_style else "false"},
        ]
    return env


def _cron_job(plan: Plan, backups: Backups, datastore: str, endpoint: Endpoint) -> dict[str, Any]:
    ws, ns, spec = plan.workspace.name, plan.workspace.namespace, plan.spec.backups
    image = MONGODB_IMAGE if datastore == "mongodb" else PGVECTOR_IMAGE
    dump = {
        "name": "dump",
        "image": image.reference,
        "command": ["/bin/sh", "-c"],
        "env": _database_env(plan, datastore, endpoint),
        "resources": DUMP_RESOURCES,
    }
    scratch = [{"name": "tmp", "emptyDir": {}}]
    if backups.volume is not None:
        directory = f"/backups/{datastore}"
        dump["args"] = [
            f"{_dump_script(datastore, directory)}; {_prune_script(datastore, directory, spec.retention_days)}"
        ]
        dump["volumeMounts"] = [{"name": "backups", "mountPath": "/backups"}, {"name": "tmp", "mountPath": "/tmp"}]
        volumes = [{"name": "backups", "persistentVolumeClaim": {"claimName": backups.volume}}, *scratch]
        pod = k8s.restricted_pod(dump, DUMP_UID, volumes)
    else:
        assert plan.files is not None
        dump["args"] = [_dump_script(datastore, "/work")]
        dump["volumeMounts"] = [{"name": "work", "mountPath": "/work"}, {"name": "tmp", "mountPath": "/tmp"}]
        # The bucket and prefix are the team's values: the script reads them from env, never from its text.
        target = f"{REMOTE}:{plan.files.bucket}/{backups.prefix}/{datastore}"
        upload = {
            "name": "upload",
            "image": RCLONE_IMAGE.reference,
            "command": ["/bin/sh", "-c"],
            "args": [
                'set -eu; rclone copy --no-traverse /work "$BACKUP_TARGET"; '
                f'rclone delete --min-age {spec.retention_days}d --include "{datastore}-*.{EXTENSIONS[datastore]}" '
                '"$BACKUP_TARGET"'
            ],
            "env": [*_rclone_env(plan), {"name": "BACKUP_TARGET", "value": target}, {"name": "HOME", "value": "/tmp"}],
            "resources": UPLOAD_RESOURCES,
            "volumeMounts": [
                {"name": "work", "mountPath": "/work", "readOnly": True},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
            "securityContext": {"runAsUser": RCLONE_UID, "runAsGroup": RCLONE_UID},
        }
        volumes = [{"name": "work", "emptyDir": {}}, *scratch]
        pod = k8s.restricted_pod(upload, DUMP_UID, volumes, init_containers=[dump])
    return k8s.cron_job(
        name=plan.object_name(f"{datastore}-backup", CRON_JOB_NAME_LIMIT),
        namespace=ns,
        workspace=ws,
        component=f"{datastore}-backup",
        schedule=spec.schedule,
        pod_spec=pod,
    )


def compose(ctx: Context) -> list[Composed]:
    plan = ctx.plan
    backups = plan.backups
    if backups is None:
        return []
    out = []
    if backups.volume is not None:
        volume = k8s.pvc(
            backups.volume,
            plan.workspace.namespace,
            plan.workspace.name,
            COMPONENT,
            plan.spec.backups.storage,
            "20Gi",
        )
        out.append(kubernetes_object(plan, "backups-pvc", COMPONENT, volume, holds_data=True))
    # Uploads wait, like LibreChat, until the bucket's keys are in LibreChat's env Secret.
    storage = files.storage(ctx) if backups.volume is None else None
    hold = storage.waiting_for if storage and storage.access is None else None
    for datastore, endpoint in (("mongodb", backups.mongodb), ("pgvector", backups.pgvector)):
        if endpoint is None:
            continue
        job = kubernetes_object(
            plan, f"{datastore}-backup-cronjob", COMPONENT, _cron_job(plan, backups, datastore, endpoint)
        )
        out.append(replace(job, hold=hold))
    return out
