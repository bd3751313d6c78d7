"""Day-2 operations: autoscaling, monitoring and backups.

The backup scripts are run for real here, with stand-ins for mongodump and pg_dump on PATH, because a script
that renders fine but loses the newest dump is the failure that matters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import os
import stat
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from crossplane.function import resource

from function.services import backups
from tests.helpers import basic_spec, claims_xr, fatal, namespaced_xr, request, required_for, run, secret
from tests.test_backup_restore import S3, S3_KEYS
from tests.test_wiring import full_state

ROOT = Path(__file__).resolve().parent.parent
OPENAI = secret("openai", {"api-key": "sk-test-0123456789abcdef"})


def _manifest(state: dict[str, dict[str, Any]], key: str) -> dict[str, Any]:
    manifest: dict[str, Any] = state[key]["spec"]["forProvider"]["manifest"]
    return manifest


def _spec(**sections: Any) -> dict[str, Any]:
    spec = basic_spec()
    for name, value in sections.items():
        if name == "librechat":
            spec["librechat"] = {**spec["librechat"], **value}
        else:
            spec[name] = value
    return spec


def _state(spec: dict[str, Any], secrets: list[dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    return full_state(namespaced_xr(spec), secrets or [OPENAI])


# Autoscaling ---------------------------------------------------------------------------------------------------------


def test_an_autoscaled_deployment_leaves_its_replicas_to_the_hpa() -> None:
    """With autoscaling on, the Deployment has no replica count (the provider would reapply it over the HPA's)
    and an autoscaling/v2 HPA targets it with the spec's bounds and CPU target."""
    state = _state(_spec(searxng={"enabled": True, "autoscaling": {"enabled": True, "maxReplicas": 5}}))
    deployment = _manifest(state, "searxng-deployment")
    assert "replicas" not in deployment["spec"]
    hpa = _manifest(state, "searxng-hpa")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "chat-searxng"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 5)
    assert hpa["spec"]["metrics"][0]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 75}


def test_without_autoscaling_the_replica_count_stays() -> None:
    """Autoscaling off: no HPA, and the fixed replica count is on the Deployment."""
    state = _state(_spec(searxng={"enabled": True, "replicas": 2}))
    assert not [key for key in state if key.endswith("-hpa")]
    assert _manifest(state, "searxng-deployment")["spec"]["replicas"] == 2


def test_firecrawl_scales_its_api_and_queue_workers_not_the_extract_worker() -> None:
    """The API and each kind of queue worker get their own HPA; the extract worker stays a single pod."""
    spec = _spec(
        firecrawl={
            "enabled": True,
            "autoscaling": {"enabled": True},
            "workerAutoscaling": {"enabled": True, "maxReplicas": 8},
        }
    )
    state = _state(spec)
    assert sorted(k for k in state if k.endswith("-hpa")) == [
        "firecrawl-api-hpa",
        "firecrawl-nuq-worker-hpa",
        "firecrawl-worker-hpa",
    ]
    assert _manifest(state, "firecrawl-worker-hpa")["spec"]["maxReplicas"] == 8
    assert _manifest(state, "firecrawl-extract-worker-deployment")["spec"]["replicas"] == 1


def test_librechat_hpa_targets_the_charts_deployment() -> None:
    """LibreChat's HPA scales the chart's Deployment (named by fullnameOverride), which starts at minReplicas."""
    state = _state(
        _spec(
            librechat={
                "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 6},
                "storage": {"accessMode": "ReadWriteMany"},
            }
        )
    )
    hpa = _manifest(state, "librechat-hpa")
    values = state["librechat-release"]["spec"]["forProvider"]["values"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == values["fullnameOverride"]
    assert values["replicaCount"] == 2


# Monitoring ----------------------------------------------------------------------------------------------------------


def _names(state: dict[str, dict[str, Any]], kind: str) -> set[str]:
    return {
        body["spec"]["forProvider"]["manifest"]["metadata"]["name"]
        for body in state.values()
        if body["kind"] == "Object" and body["spec"]["forProvider"]["manifest"]["kind"] == kind
    }


def test_alerts_watch_exactly_the_workspaces_deployments_and_volumes() -> None:
    """The PrometheusRule's selectors name every Deployment and volume the workspace composed, LibreChat's chart
    Deployment included, and nothing else."""
    spec = _spec(
        searxng={"enabled": True},
        firecrawl={"enabled": True},
        monitoring={"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
        backups={"enabled": True},
    )
    state = _state(spec)
    rule = _manifest(state, "monitoring-rules")
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    exprs = {r["alert"]: r["expr"] for r in rule["spec"]["groups"][0]["rules"]}
    down = exprs["AIWorkspaceComponentDown"]
    watched = set(down.split('deployment=~"', 1)[1].split('"', 1)[0].split("|"))
    assert watched == _names(state, "Deployment") | {"chat-librechat"}
    full = exprs["AIWorkspaceVolumeFull"]
    assert set(full.split('persistentvolumeclaim=~"', 1)[1].split('"', 1)[0].split("|")) == _names(
        state, "PersistentVolumeClaim"
    )
    assert "chat-backup" in exprs["AIWorkspaceBackupFailed"] and "restore" not in exprs["AIWorkspaceBackupFailed"]


def test_meilisearch_is_scraped_with_its_key_by_reference() -> None:
    """Meilisearch exposes /metrics only with the experimental flag and behind a key: the flag is set, and the
    ServiceMonitor reads, from a Secret of its own, the key Meilisearch derives for the metrics-only key the
    container creates (HMAC-SHA256 of its uid with the master key), never the master key."""
    state = _state(_spec(monitoring={"enabled": True}))
    container = _manifest(state, "meilisearch-deployment")["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "MEILI_EXPERIMENTAL_ENABLE_METRICS", "value": "true"} in container["env"]
    monitor = _manifest(state, "meilisearch-servicemonitor")
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["authorization"] == {
        "type": "Bearer",
        "credentials": {"name": "chat-meilisearch-metrics", "key": "key"},
    }
    hook = container["lifecycle"]["postStart"]["exec"]["command"][2]
    body = json.loads(hook.split("--data '", 1)[1].split("'", 1)[0])
    assert body["actions"] == ["metrics.get"] and body["indexes"] == ["*"] and body["expiresAt"] is None
    secrets = {b["metadata"]["name"]: b["data"] for b in state.values() if b["kind"] == "Secret"}
    master = base64.b64decode(secrets["chat-librechat-env"]["MEILI_MASTER_KEY"])
    key = base64.b64decode(secrets["chat-meilisearch-metrics"]["key"]).decode()
    assert key == hmac.new(master, body["uid"].encode(), hashlib.sha256).hexdigest() and key != master.decode()
    assert endpoint["port"] == _manifest(state, "meilisearch-service")["spec"]["ports"][0]["name"]
    assert "vllm-servicemonitor" not in state
    off = _state(basic_spec())
    assert not [k for k in off if "monitor" in k]
    env = _manifest(off, "meilisearch-deployment")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert all(e["name"] != "MEILI_EXPERIMENTAL_ENABLE_METRICS" for e in env)


def test_status_covers_the_new_parts() -> None:
    """status.components lists backups and monitoring like every other part."""
    spec = _spec(monitoring={"enabled": True}, backups={"enabled": True})
    xr = namespaced_xr(spec)
    rsp = run(request(xr, required=required_for(xr, [OPENAI])))
    assert fatal(rsp) is None
    status = resource.struct_to_dict(rsp.desired.composite.resource)["status"]
    names = {c["name"] for c in status["components"]}
    assert {"backups", "monitoring"} <= names


# Backups -------------------------------------------------------------------------------------------------------------


def _cron_pod(state: dict[str, dict[str, Any]], key: str) -> dict[str, Any]:
    pod: dict[str, Any] = _manifest(state, key)["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return pod


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


CREDENTIAL_WORDS = ("PASSWORD", "SECRET", "KEY", "CONNECTION_STRING", "HOST", "USER", "NAME", "PORT")


def _assert_credentials_by_reference(pod: dict[str, Any], known: set[str]) -> None:
    for container in _containers(pod):
        for env in container.get("env", []):
            if "value" in env:
                assert env["value"] not in known, f"{env['name']} carries a secret value"
                assert not any(w in env["name"] for w in ("PASSWORD", "SECRET", "KEY", "CONNECTION_STRING")), env
            else:
                assert set(env["valueFrom"]) == {"secretKeyRef"}, env


def _secret_values(state: dict[str, dict[str, Any]]) -> set[str]:
    values = set()
    for body in state.values():
        if body["kind"] == "Secret":
            values |= {base64.b64decode(v).decode() for v in body.get("data", {}).values()}
    return {v for v in values if len(v) >= 16}


def test_without_a_bucket_dumps_go_to_a_protected_volume() -> None:
    """No bucket: a backup volume (protected as data), a CronJob that dumps every in-cluster database onto it in
    one pod (never two pods on the ReadWriteOnce volume at once), and a suspended restore CronJob per database
    reading it, with every credential by reference."""
    state = _state(_spec(backups={"enabled": True, "storage": {"size": "50Gi"}}))
    volume = state["backups-pvc"]
    assert volume["metadata"]["annotations"]["aiworkspace.io/holds-data"] == "true"
    assert volume["spec"]["managementPolicies"] == ["Observe", "Create", "Update", "LateInitialize"]
    assert _manifest(state, "backups-pvc")["spec"]["resources"]["requests"]["storage"] == "50Gi"
    cron = _manifest(state, "backup-cronjob")
    assert cron["spec"]["schedule"] == "0 3 * * *" and cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert "suspend" not in cron["spec"]
    pod = _cron_pod(state, "backup-cronjob")
    assert pod["volumes"][0] == {"name": "backups", "persistentVolumeClaim": {"claimName": "chat-backups"}}
    assert [c["name"] for c in _containers(pod)] == ["mongodb-dump", "pgvector-dump"]
    _assert_credentials_by_reference(pod, _secret_values(state))
    for database in ("mongodb", "pgvector"):
        restore = _manifest(state, f"{database}-restore-cronjob")
        assert restore["spec"]["suspend"] is True and restore["metadata"]["name"] == f"chat-{database}-restore"
        pod = _cron_pod(state, f"{database}-restore-cronjob")
        assert pod["volumes"][0] == {
            "name": "backups",
            "persistentVolumeClaim": {"claimName": "chat-backups", "readOnly": True},
        }
        _assert_credentials_by_reference(pod, _secret_values(state))


@pytest.mark.parametrize(
    ("storage", "secrets", "remote"),
    [
        (S3, [S3_KEYS], {"TYPE": "s3", "PROVIDER": "Other", "ENDPOINT": "https://minio.example.com",
                         "FORCE_PATH_STYLE": "true"}),
    ],
    ids=["existing-s3"],
)  # fmt: skip
def test_with_a_bucket_dumps_are_uploaded_with_its_keys_by_reference(
    storage: dict[str, Any], secrets: list[dict[str, Any]], remote: dict[str, str]
) -> None:
    """With a bucket reached by keys: the dump goes to a scratch volume, rclone uploads it under the
    workspace's prefix with the keys LibreChat uses, read from LibreChat's env Secret, and no volume is made."""
    state = _state(_spec(objectStorage=storage, backups={"enabled": True}), [OPENAI, *secrets])
    assert "backups-pvc" not in state
    pod = _cron_pod(state, "backup-cronjob")
    upload = pod["containers"][0]
    env = {e["name"].removeprefix("RCLONE_CONFIG_BACKUP_"): e for e in upload["env"]}
    for option, value in remote.items():
        assert env[option]["value"] == value
    assert env["ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"] == {
        "name": "chat-librechat-env",
        "key": "AWS_ACCESS_KEY_ID",
    }
    # The bucket is the team's value: the script reads it from env, never from its own text.
    assert env["BACKUP_TARGET"]["value"] == "backup:team-a-files/aiworkspace-backups/team-a/chat"
    assert "team-a-files" not in upload["args"][0] and '"$BACKUP_TARGET/mongodb"' in upload["args"][0]
    _assert_credentials_by_reference(pod, _secret_values(state) | {"s3-secret-0123456789abcdef"})


def test_a_bucket_backup_uses_bounded_node_disk_it_requests() -> None:
    """The scratch volume of a bucket backup and restore holds at most the dumped databases' volumes (and /tmp):
    its emptyDir has that limit and the pod requests it, so a dump never fills a node other teams share."""
    spec = _spec(objectStorage=S3, backups={"enabled": True})
    spec["librechat"]["mongodb"] = {"storage": {"size": "3Gi"}}
    state = _state(spec, [OPENAI, S3_KEYS])
    # MongoDB's 3Gi and Postgres's default 10Gi, each with /tmp's 64Mi; a restore reads one database's dump.
    expected = {"backup-cronjob": "13376Mi", "mongodb-restore-cronjob": "3136Mi", "pgvector-restore-cronjob": "10304Mi"}
    for key, size in expected.items():
        pod = _cron_pod(state, key)
        limits = {v["name"]: v["emptyDir"].get("sizeLimit") for v in pod["volumes"] if "emptyDir" in v}
        assert limits == {"work": size, "tmp": "64Mi"}, (key, limits)
        assert pod["containers"][0]["resources"]["requests"]["ephemeral-storage"] == size


def test_cloud_examples_upload_to_their_bucket() -> None:
    """The AWS and Azure examples back up MongoDB to their bucket: S3 with the access key, Blob Storage with
    the account's connection string, both by reference."""
    for example, expected in (
        ("aws-namespaced", {"TYPE": "s3", "PROVIDER": "AWS", "REGION": "eu-west-1"}),
        ("azure-claims", {"TYPE": "azureblob"}),
    ):
        text = (ROOT / "tests" / "golden" / f"{example}.yaml").read_text()
        docs = [d for d in yaml.safe_load_all(text) if d]
        cron = next(
            d["spec"]["forProvider"]["manifest"]
            for d in docs
            if d["metadata"].get("annotations", {}).get("crossplane.io/composition-resource-name") == "backup-cronjob"
        )
        upload = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"].removeprefix("RCLONE_CONFIG_BACKUP_"): e for e in upload["env"]}
        for option, value in expected.items():
            assert env[option]["value"] == value, (example, option)
        secret_env = {n for n, e in env.items() if "valueFrom" in e}
        assert secret_env == (
            {"CONNECTION_STRING"} if example.startswith("azure") else {"ACCESS_KEY_ID", "SECRET_ACCESS_KEY"}
        )


def test_an_iam_role_sends_dumps_to_the_volume() -> None:
    """LibreChat reaching S3 through an IAM role (IRSA) has no keys a CronJob could use: dumps go to a volume."""
    spec = _spec(
        objectStorage={
            "provider": "aws",
            "aws": {"region": "eu-west-1", "roleArn": "arn:aws:iam::123456789012:role/team-a.chat"},
        },
        backups={"enabled": True},
    )
    state = _state(spec)
    assert "backups-pvc" in state
    assert all(c["name"].endswith("-dump") for c in _containers(_cron_pod(state, "backup-cronjob")))


def test_backups_in_the_claims_flavour() -> None:
    """The claims flavour composes the same CronJobs, as cluster-scoped Objects."""
    state = full_state(claims_xr(_spec(backups={"enabled": True})), [OPENAI])
    assert state["backup-cronjob"]["apiVersion"] == "kubernetes.crossplane.io/v1alpha2"
    assert state["mongodb-restore-cronjob"]["apiVersion"] == "kubernetes.crossplane.io/v1alpha2"
    assert state["backups-pvc"]["spec"]["deletionPolicy"] == "Orphan"


def test_a_bad_schedule_is_refused_naming_the_field() -> None:
    """A schedule that is not a cron expression is a Fatal result naming spec.backups.schedule."""
    xr = namespaced_xr(_spec(backups={"enabled": True, "schedule": "every night; rm -rf /"}))
    rsp = run(request(xr, required=required_for(xr, [OPENAI])))
    message = fatal(rsp)
    assert message and "spec.backups.schedule" in message


@pytest.mark.parametrize(
    ("schedule", "hint"),
    [
        ("*/5 * * * *", "at most once an hour"),  # a whole dump every five minutes, each kept retentionDays
        ("0,30 * * * *", "at most once an hour"),
        ("0 3 30 2 *", "never run"),  # the controller takes it and never runs it
        ("0 3 31 4,6,9,11 *", "never run"),
        ("0 3 31 feb-jun/2 *", "never run"),
    ],
)
def test_a_schedule_too_frequent_or_never_running_is_refused(schedule: str, hint: str) -> None:
    """More than once an hour, or on a day no month has: a Fatal result naming the field and what would do."""
    xr = namespaced_xr(_spec(backups={"enabled": True, "schedule": schedule}))
    message = fatal(run(request(xr, required=required_for(xr, [OPENAI]))))
    assert message and "spec.backups.schedule" in message and hint in message, message


@pytest.mark.parametrize("schedule", ["0 * * * *", "@hourly", "15 3 29 2 *", "0 3 30 2 1", "0 3 31 */2 *"])
def test_schedules_that_run_are_admitted(schedule: str) -> None:
    """Hourly at most, and a day that exists (29 February in leap years; 30 February or any Monday, since a named
    weekday widens the days)."""
    state = full_state(namespaced_xr(_spec(backups={"enabled": True, "schedule": schedule})), [OPENAI])
    assert state["backup-cronjob"]["spec"]["forProvider"]["manifest"]["spec"]["schedule"] == schedule


def test_a_backup_run_has_a_deadline() -> None:
    """A run that hangs or never starts fails at spec.backups.deadlineMinutes (its alert fires) instead of holding
    every later run back; restore Jobs, made by hand, have none."""
    state = full_state(namespaced_xr(_spec(backups={"enabled": True, "deadlineMinutes": 90})), [OPENAI])
    job = state["backup-cronjob"]["spec"]["forProvider"]["manifest"]["spec"]["jobTemplate"]["spec"]
    assert job["activeDeadlineSeconds"] == 5400
    restore = state["mongodb-restore-cronjob"]["spec"]["forProvider"]["manifest"]["spec"]["jobTemplate"]["spec"]
    assert "activeDeadlineSeconds" not in restore


# The scripts, run ----------------------------------------------------------------------------------------------------

FAKE_DUMP = """#!/bin/sh
# Stand-in for mongodump and pg_dump: records its arguments and the config file it was given, writes the archive.
echo "$@" > "$WORKDIR/argv"
for arg in "$@"; do
  case "$arg" in
    --config=*) cp "${arg#--config=}" "$WORKDIR/config"; stat -c %a "${arg#--config=}" > "$WORKDIR/mode" ;;
    --archive=*) printf 'du' > "${arg#--archive=}"; [ -n "${FAIL:-}" ] && exit 3; printf 'dump' > "${arg#--archive=}" ;;
    --file=*) printf 'du' > "${arg#--file=}"; [ -n "${FAIL:-}" ] && exit 3; printf 'dump' > "${arg#--file=}" ;;
  esac
done
"""


def _run_dump(tmp_path: Path, script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("mongodump", "pg_dump"):
        fake = bin_dir / tool
        fake.write_text(FAKE_DUMP)
        fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    # TMPDIR stands for the pod's /tmp (an emptyDir), where the script writes mongodump's config file.
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "WORKDIR": str(tmp_path), "TMPDIR": str(tmp_path), **env}
    return subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True, check=False)


def test_dump_script_writes_whole_dumps_and_prunes_only_after_success(tmp_path: Path) -> None:
    """A run writes <name>.partial and renames it when complete; the password reaches mongodump in a 0600 config
    file, never its arguments; dumps past the retention are pruned, the new one is kept; a failed run leaves no
    dump that looks whole and prunes nothing."""
    directory = tmp_path / "backups" / "mongodb"
    directory.mkdir(parents=True)
    old, recent = directory / "mongodb-20200101T000000Z.archive.gz", directory / "mongodb-recent.archive.gz"
    for path in (old, recent):
        path.write_text("old dump")
    ten_days_ago = time.time() - 10 * 86400
    os.utime(old, (ten_days_ago, ten_days_ago))
    script = f"{backups._dump_script('mongodb', str(directory))}; {backups._prune_script('mongodb', str(directory), 7)}"
    env = {"DB_HOST": "db", "DB_PORT": "27017", "DB_USER": "librechat", "MONGODB_PASSWORD": "pw-0123456789abcdef"}

    failed = _run_dump(tmp_path, script, {**env, "FAIL": "1"})
    assert failed.returncode != 0
    assert sorted(p.name for p in directory.iterdir()) == sorted([old.name, recent.name]), "nothing left or pruned"

    done = _run_dump(tmp_path, script, env)
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in directory.iterdir())
    assert old.name not in names and recent.name in names
    written = [n for n in names if n not in (recent.name,)]
    assert len(written) == 1 and written[0].endswith(".archive.gz") and not written[0].endswith(".partial")
    assert "pw-0123456789abcdef" not in (tmp_path / "argv").read_text()
    assert (tmp_path / "config").read_text() == 'password: "pw-0123456789abcdef"\n'
    assert not (tmp_path / "mongodb-tools.yaml").exists(), "the password file is removed on exit"
    assert (tmp_path / "mode").read_text().strip() == "600"


def test_pg_dump_script_takes_its_password_from_the_environment(tmp_path: Path) -> None:
    """pg_dump reads PGPASSWORD from its environment: the script writes a custom-format dump and never puts the
    password on a command line."""
    directory = tmp_path / "backups" / "pgvector"
    env = {"DB_HOST": "db", "DB_PORT": "5432", "DB_USER": "rag", "DB_NAME": "rag", "PGPASSWORD": "pw-0123456789abcdef"}
    done = _run_dump(tmp_path, backups._dump_script("pgvector", str(directory)), env)
    assert done.returncode == 0, done.stderr
    [written] = list(directory.iterdir())
    assert written.name.startswith("pgvector-") and written.name.endswith(".dump")
    argv = (tmp_path / "argv").read_text()
    assert "--format=custom" in argv and "pw-0123456789abcdef" not in argv


def test_the_metrics_key_hook_creates_the_key_once(tmp_path: Path) -> None:
    """The postStart hook, run by sh with the real curl against a stand-in of Meilisearch's POST /keys (master key
    as Bearer, JSON body; 201 when created, 409 when the uid exists): it succeeds both times, sends the master
    key only in its header, and fails when Meilisearch refuses it."""
    state = _state(_spec(monitoring={"enabled": True}))
    container = _manifest(state, "meilisearch-deployment")["spec"]["template"]["spec"]["containers"][0]
    command = container["lifecycle"]["postStart"]["exec"]["command"]
    seen: list[tuple[str, dict[str, Any]]] = []

    class Keys(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append((self.headers["Authorization"], body))
            known = [b["uid"] for _, b in seen[:-1]]
            status = (
                403
                if self.headers["Authorization"] != "Bearer master-0123456789abcdef"
                else 409
                if body["uid"] in known
                else 201
            )
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = str(server.server_address[1])
        script = command[2].replace("127.0.0.1:7700", f"127.0.0.1:{port}")
        assert "127.0.0.1:7700" in command[2] and "$(" not in command[2]

        def hook(master: str) -> int:
            env = {"PATH": os.environ["PATH"], "MEILI_MASTER_KEY": master}
            return subprocess.run(
                [*command[:2], script], env=env, capture_output=True, check=False, timeout=60
            ).returncode

        assert hook("master-0123456789abcdef") == 0 and hook("master-0123456789abcdef") == 0
        assert [b["actions"] for _, b in seen] == [["metrics.get"], ["metrics.get"]]
        assert hook("wrong") != 0
    finally:
        server.shutdown()
