"""Backups of the in-cluster databases, and the restore of a chosen dump.

One CronJob per workspace (`<name>-backup`) dumps every in-cluster database in one pod, one after the other
(mongodump for MongoDB, pg_dump for the RAG API's Postgres), so two dumps never contend for the ReadWriteOnce
backup volume. Each dump runs with its database's own image and client. With a volume (no bucket, or a bucket
LibreChat reaches through an IAM role) the dumps are written to the protected backup volume and older ones are
pruned there. With the workspace's bucket the dumps go to a scratch volume and rclone uploads them under the
plan's prefix, then deletes the dumps older than the retention.

A suspended CronJob per database (`<name>-<database>-restore`) is the restore: never run on a schedule, it is the
template of `kubectl create job --from=cronjob/...` with RESTORE_DUMP naming the dump (without it, the Job lists
the dumps and fails). Its pods carry the labels the database's NetworkPolicy admits.

Files: every script sets umask 027 (a dump is 0640, readable by the pod's fsGroup, which the rclone container
runs with as a supplementary group); the password file alone is written under umask 077, in a subshell. A dump
is written as <name>.partial, renamed when complete and removed by a trap when not, so a failed run never
leaves a truncated dump that looks whole or is uploaded; pruning runs only after a successful dump, so the newest
good dump is always kept. Credentials only ever enter by reference: the database passwords from the Secrets the
databases read, the bucket's keys from LibreChat's env Secret. The team's values (bucket, prefix) reach the
scripts as env, never as their text.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from function import k8s
from function.plan import BACKUP, CRON_JOB_NAME_LIMIT, RAG, Backups, Draft, Endpoint, Files, Part, Plan
from function.resources import Composed, kubernetes_object
from function.services import Context, files
from function.services.database import PGVECTOR_VOLUME
from function.services.datastores import MONGODB_USER, MONGODB_VOLUME
from function.spec import ObjectStorageProvider, quantity_value
from function.versions import MONGODB_IMAGE, PGVECTOR_IMAGE, RCLONE_IMAGE, RCLONE_UID

COMPONENT = "backups"

DUMP_UID = 999  # the mongodb and postgres users of both database images
DUMP_RESOURCES = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}}
UPLOAD_RESOURCES = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}
REMOTE = "backup"  # rclone remote configured from RCLONE_CONFIG_BACKUP_* env vars (fs/config.go, ConfigToEnv)
S3_PROVIDERS = {ObjectStorageProvider.AWS: "AWS", ObjectStorageProvider.GCP: "GCS", ObjectStorageProvider.S3: "Other"}
EXTENSIONS = {"mongodb": "archive.gz", "pgvector": "dump"}
IMAGES = {"mongodb": MONGODB_IMAGE, "pgvector": PGVECTOR_IMAGE}
# Where the dumps are in a pod: the backup volume, or the scratch volume rclone uploads from and downloads to.
VOLUME, SCRATCH = "/backups", "/work"

# The MongoDB tools read the password from a --config file, never from their command line (visible in the
# process list): written 0600 in a subshell, removed on exit with whatever else the script's trap removes.
MONGODB_CONFIG = 'config="${TMPDIR:-/tmp}/mongodb-tools.yaml"'
MONGODB_PASSWORD_FILE = '(umask 077; printf \'password: "%s"\\n\' "$MONGODB_PASSWORD" > "$config")'
MONGODB_CONNECTION = (
    '--host="$DB_HOST" --port="$DB_PORT" --username="$DB_USER" --authenticationDatabase=admin --config="$config"'
)
PG_CONNECTION = '--host="$DB_HOST" --port="$DB_PORT" --username="$DB_USER" --dbname="$DB_NAME"'
DUMP = {
    "mongodb": f'{MONGODB_PASSWORD_FILE}; mongodump {MONGODB_CONNECTION} --gzip --archive="$file.partial"',
    "pgvector": f'pg_dump {PG_CONNECTION} --format=custom --file="$file.partial"',
}
# A restore replaces what the dump holds, all or nothing where the tool allows (Postgres: one transaction).
RESTORE = {
    "mongodb": f'{MONGODB_PASSWORD_FILE}; mongorestore {MONGODB_CONNECTION} --gzip --archive="$file" --drop',
    "pgvector": f"pg_restore {PG_CONNECTION} --clean --if-exists --no-owner --single-transaction --exit-on-error "
    '"$file"',
}


def plan_part(draft: Draft) -> Part:
    """Which in-cluster databases are dumped, and where to: the bucket when LibreChat reaches it with keys the
    CronJobs can reference too; an IAM role (IRSA) is bound to LibreChat's own service account, so then the dumps
    go to a volume, as without a bucket."""
    mongodb: Endpoint | None = draft.get("mongodb")
    rag: RAG | None = draft.get("rag")
    files: Files | None = draft.get("files")
    pgvector = rag.pgvector if rag else None
    if not draft.spec.backups.enabled or not (mongodb or pgvector):
        return Part({"backups": None})
    storage = draft.spec.object_storage
    role = storage.provider is ObjectStorageProvider.AWS and storage.aws is not None and storage.aws.role_arn
    keyed = files is not None and not role
    ns, name = draft.workspace.namespace, draft.workspace.name
    backups = Backups(
        mongodb=mongodb,
        pgvector=pgvector,
        volume=None if keyed else draft.name("backups"),
        prefix=f"aiworkspace-backups/{ns}/{name}" if keyed else "",
    )
    return Part({"backups": backups})


def _cleanup(datastore: str, *files: str) -> str:
    """The script's one EXIT trap: the files it leaves behind on any exit (and the password file)."""
    if datastore == "mongodb":
        files = (*files, '"$config"')
        return f"{MONGODB_CONFIG}; trap 'rm -f {' '.join(files)}' EXIT"
    return f"trap 'rm -f {' '.join(files)}' EXIT" if files else "true"


def _pattern(datastore: str) -> str:
    return f"{datastore}-*.{EXTENSIONS[datastore]}"


def _dump_script(datastore: str, directory: str) -> str:
    partial = '"$file.partial"'
    return (
        f'set -eu; umask 027; dir="{directory}"; mkdir -p "$dir"; '
        f'file="$dir/{datastore}-$(date -u +%Y%m%dT%H%M%SZ).{EXTENSIONS[datastore]}"; '
        f"{_cleanup(datastore, partial)}; "
        f'{DUMP[datastore]}; mv "$file.partial" "$file"; echo "wrote $file"'
    )


def _prune_script(datastore: str, directory: str, retention_days: int) -> str:
    """Dumps older than the retention, and partial ones a killed run left behind."""
    age = retention_days * 24 * 60
    return (
        f'find "{directory}" -maxdepth 1 \\( -name "{_pattern(datastore)}" -o -name "{_pattern(datastore)}.partial" '
        f"\\) -mmin +{age} -print -delete"
    )


def _chosen_dump(datastore: str, listing: str) -> str:
    """Check RESTORE_DUMP names one of the database's dumps (a file name: letters, digits, '.', '-'); without it,
    list the dumps and fail."""
    return (
        f'case "${{RESTORE_DUMP:-}}" in {_pattern(datastore)}) ;; *) '
        f'echo "set RESTORE_DUMP to the {datastore} dump to restore, one of:"; {listing}; exit 2;; esac; '
        'case "$RESTORE_DUMP" in *[!A-Za-z0-9.-]*) '
        "echo \"RESTORE_DUMP must be a dump's file name (letters, digits, '.', '-')\"; exit 2;; esac"
    )


def _upload_script(datastores: list[str], retention_days: int) -> str:
    steps = ["set -eu"]
    for datastore in datastores:
        include = f'--include "{_pattern(datastore)}"'
        steps += [
            f'rclone copy --no-traverse {include} "{SCRATCH}/{datastore}" "$BACKUP_TARGET/{datastore}"',
            f'rclone delete --min-age {retention_days}d {include} "$BACKUP_TARGET/{datastore}"',
        ]
    return "; ".join(steps)


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
    if plan.files.provider is ObjectStorageProvider.AWS and storage.aws:
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


def _rclone(plan: Plan, backups: Backups, name: str, script: str, mount: dict[str, Any]) -> dict[str, Any]:
    """A container of the rclone image, as its own user, in the pod's fsGroup (so it reads and writes dumps)."""
    assert plan.files is not None
    target = f"{REMOTE}:{plan.files.bucket}/{backups.prefix}"
    return {
        "name": name,
        "image": RCLONE_IMAGE.reference,
        "command": ["/bin/sh", "-c"],
        "args": [script],
        "env": [*_rclone_env(plan), {"name": "BACKUP_TARGET", "value": target}, {"name": "HOME", "value": "/tmp"}],
        "resources": UPLOAD_RESOURCES,
        "volumeMounts": [mount, {"name": "tmp", "mountPath": "/tmp"}],
        "securityContext": {"runAsUser": RCLONE_UID, "runAsGroup": RCLONE_UID},
    }


def _database_container(plan: Plan, name: str, datastore: str, endpoint: Endpoint, script: str) -> dict[str, Any]:
    return {
        "name": name,
        "image": IMAGES[datastore].reference,
        "command": ["/bin/sh", "-c"],
        "args": [script],
        "env": _database_env(plan, datastore, endpoint),
        "resources": DUMP_RESOURCES,
    }


TMP_SIZE = "64Mi"  # /tmp holds the MongoDB tools' config file and rclone's HOME


def scratch_size(plan: Plan, datastores: list[str]) -> str:
    """The node disk a bucket backup or restore may use: the dumped databases' volumes together (a dump is no
    larger than the data it holds), in whole MiB. Requested, so the pod lands on a node with that room, and its
    emptyDir's limit, so a dump never fills a node shared with other teams."""
    sizes = {
        "mongodb": plan.spec.librechat.mongodb.storage.size or MONGODB_VOLUME,
        "pgvector": plan.spec.database.storage.size or PGVECTOR_VOLUME,
    }
    total = sum((quantity_value(str(sizes[d])) for d in datastores), start=quantity_value(TMP_SIZE))
    return f"{-(-int(total) // 2**20)}Mi"


def _volumes(backups: Backups, scratch: str, read_only: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The mount the dumps are in, and the pod's volumes (with a scratch /tmp); every emptyDir has a limit."""
    tmp = {"name": "tmp", "emptyDir": {"sizeLimit": TMP_SIZE}}
    if backups.volume is not None:
        claim: dict[str, Any] = {"claimName": backups.volume, **({"readOnly": True} if read_only else {})}
        mount: dict[str, Any] = {"name": "backups", "mountPath": VOLUME, **({"readOnly": True} if read_only else {})}
        return mount, [{"name": "backups", "persistentVolumeClaim": claim}, tmp]
    return {"name": "work", "mountPath": SCRATCH}, [{"name": "work", "emptyDir": {"sizeLimit": scratch}}, tmp]


def _with_ephemeral(container: dict[str, Any], size: str) -> dict[str, Any]:
    """The container with an ephemeral-storage request of `size`: the scheduler then places the pod where its
    scratch volume fits."""
    resources = container.get("resources", {})
    requests = {**resources.get("requests", {}), "ephemeral-storage": size}
    return {**container, "resources": {**resources, "requests": requests}}


def _backup_job(plan: Plan, backups: Backups, databases: list[tuple[str, Endpoint]]) -> dict[str, Any]:
    spec = plan.spec.backups
    scratch = scratch_size(plan, [d for d, _ in databases])
    mount, volumes = _volumes(backups, scratch)
    tmp = {"name": "tmp", "mountPath": "/tmp"}
    root = VOLUME if backups.volume is not None else SCRATCH
    dumps = []
    for datastore, endpoint in databases:
        script = _dump_script(datastore, f"{root}/{datastore}")
        if backups.volume is not None:
            script += f"; {_prune_script(datastore, f'{root}/{datastore}', spec.retention_days)}"
        container = _database_container(plan, f"{datastore}-dump", datastore, endpoint, script)
        dumps.append({**container, "volumeMounts": [mount, tmp]})
    if backups.volume is not None:  # the dumps run in turn; the last one is the pod's container
        pod = k8s.restricted_pod(dumps[-1], DUMP_UID, volumes, init_containers=dumps[:-1])
    else:
        script = _upload_script([d for d, _ in databases], spec.retention_days)
        upload = _rclone(plan, backups, "upload", script, {**mount, "readOnly": True})
        pod = k8s.restricted_pod(_with_ephemeral(upload, scratch), DUMP_UID, volumes, init_containers=dumps)
    return k8s.cron_job(
        name=plan.object_name(BACKUP, CRON_JOB_NAME_LIMIT),
        namespace=plan.workspace.namespace,
        workspace=plan.workspace.name,
        component=BACKUP,
        schedule=spec.schedule,
        pod_spec=pod,
        # A hung dump or a pod that never starts fails the run (and fires the alert) instead of holding every
        # later run back: the CronJob never overlaps itself.
        deadline_seconds=spec.deadline_minutes * 60,
    )


def _restore_job(plan: Plan, backups: Backups, datastore: str, endpoint: Endpoint) -> dict[str, Any]:
    tmp = {"name": "tmp", "mountPath": "/tmp"}
    component = f"{datastore}-restore"
    restore = RESTORE[datastore]
    scratch = scratch_size(plan, [datastore])
    if backups.volume is not None:
        mount, volumes = _volumes(backups, scratch, read_only=True)
        directory = f"{VOLUME}/{datastore}"
        listing = f'ls -1t "{directory}" | grep -x "{datastore}-.*\\.{EXTENSIONS[datastore]}" || true'
        script = f'set -eu; {_chosen_dump(datastore, listing)}; file="{directory}/$RESTORE_DUMP"; '
        script += f'test -f "$file" || {{ echo "no dump $file"; exit 2; }}; {_cleanup(datastore)}; {restore}; '
        script += 'echo "restored $file"'
        container = {**_database_container(plan, "restore", datastore, endpoint, script), "volumeMounts": [mount, tmp]}
        pod = k8s.restricted_pod(container, DUMP_UID, volumes)
    else:
        mount, volumes = _volumes(backups, scratch)
        remote = f'"$BACKUP_TARGET/{datastore}"'
        listing = f'rclone lsf --include "{_pattern(datastore)}" {remote}'
        fetch = (
            f"set -eu; umask 027; {_chosen_dump(datastore, listing)}; "
            f'rclone copyto {remote}/"$RESTORE_DUMP" "{SCRATCH}/$RESTORE_DUMP"'
        )
        download = _rclone(plan, backups, "download", fetch, mount)
        script = f'set -eu; {_chosen_dump(datastore, "true")}; file="{SCRATCH}/$RESTORE_DUMP"; '
        script += f"{_cleanup(datastore)}; {restore}; "
        script += 'echo "restored $file"'
        container = {
            **_database_container(plan, "restore", datastore, endpoint, script),
            "volumeMounts": [{**mount, "readOnly": True}, tmp],
        }
        pod = k8s.restricted_pod(_with_ephemeral(container, scratch), DUMP_UID, volumes, init_containers=[download])
    return k8s.cron_job(
        name=plan.object_name(component, CRON_JOB_NAME_LIMIT),
        namespace=plan.workspace.namespace,
        workspace=plan.workspace.name,
        component=component,
        schedule=plan.spec.backups.schedule,
        pod_spec=pod,
        suspend=True,
        backoff_limit=0,
        restart_policy="Never",
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
    # Uploads and downloads wait, like LibreChat, until the bucket's keys are in LibreChat's env Secret.
    storage = files.storage(ctx) if backups.volume is None else None
    hold = storage.waiting_for if storage and storage.access is None else None
    databases = [(d, e) for d, e in (("mongodb", backups.mongodb), ("pgvector", backups.pgvector)) if e is not None]
    jobs = [("backup-cronjob", _backup_job(plan, backups, databases))]
    jobs += [(f"{d}-restore-cronjob", _restore_job(plan, backups, d, e)) for d, e in databases]
    for key, manifest in jobs:
        out.append(replace(kubernetes_object(plan, key, COMPONENT, manifest), hold=hold))
    return out
