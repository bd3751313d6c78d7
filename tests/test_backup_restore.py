"""Backup and restore, run as their pods run them: dump, upload, download, restore into an empty database,
compare row for row.

Each container of the composed backup and restore CronJobs runs its own script (as the kubelet passes it, `$$`
unescaped) in a private mount namespace and a root of its own, where its volumes are mounted at their mount
paths (read-only where the pod says so), as the pod's user, group and supplementary groups (its fsGroup) with
the umask runc gives a container (0022: runc's libcontainer/rootfs_linux.go, finalizeRootfs, when the OCI spec
sets none, as containerd's CRI does not). An emptyDir is what the kubelet makes of it with an fsGroup: mode
2777, group fsGroup; the backup volume a 2775 directory of group fsGroup.

The tools are the real ones wherever a registry here ships them: PostgreSQL, pg_dump and pg_restore from
Debian's packages (PostgreSQL 15 here, 17 in the pgvector image: the scripts do not depend on the version),
rclone from Debian's packages, and moto's S3 server for the bucket. No registry ships mongodump and
mongorestore: their stand-ins keep what matters of the real tools here, they read the password from the
--config file and refuse another, and write the archive as the real mongodump does (Go's os.Create: mode 0666
less the umask, owned by the process's uid and gid), so a dump the uploader cannot read fails as it would.

Needs root (to switch users and mount) and the tools above (hack/tools.sh installs them on Debian); with
CI=true a missing one fails the test, elsewhere it skips.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto.server import ThreadedMotoServer

from tests.helpers import secret, yaml_docs
from tests.test_wiring import full_state

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "operations-namespaced"
S3 = {
    "provider": "s3",
    "s3": {
        "endpoint": "https://minio.example.com",
        "bucket": "team-a-files",
        "forcePathStyle": True,
        "accessKeyIdSecretRef": {"name": "s3", "key": "id"},
        "secretAccessKeySecretRef": {"name": "s3", "key": "secret"},
    },
}
S3_KEYS = secret("s3", {"id": "AKIAEXAMPLEEXAMPLE00", "secret": "s3-secret-0123456789abcdef"})
ROWS = [(1, "first message", "[0.1,0.2]"), (2, "second, with 'quotes'", "[0.3,0.4]"), (3, "third ü", "[0.5,0.6]")]
DOCUMENTS = {"conversations.json": '{"_id": 1, "title": "hello"}\n', "messages.json": '{"_id": 7, "text": "hi"}\n'}


def _missing() -> list[str]:
    missing = [] if os.geteuid() == 0 else ["root"]
    for tool in ("unshare", "setpriv", "chroot", "rclone"):
        if shutil.which(tool) is None:
            missing.append(tool)
    if not _pg_bin("pg_restore").exists():
        missing.append("postgresql")
    return missing


def _pg_bin(tool: str) -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    return (versions[-1] if versions else Path("/nonexistent")) / tool


@pytest.fixture(scope="module", autouse=True)
def _tools() -> None:
    missing = _missing()
    if missing:
        message = f"the backup round trip needs {', '.join(missing)} (hack/tools.sh installs the Debian packages)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


# The cluster's side: a Postgres, an S3 API, the MongoDB stand-in ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Postgres:
    port: int
    directory: Path

    def psql(self, database: str, sql: str) -> str:
        done = subprocess.run(
            ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", str(_pg_bin("psql")),
             "-h", str(self.directory), "-p", str(self.port), "-d", database, "-XAtq", "-v", "ON_ERROR_STOP=1",
             "-c", sql],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    directory = Path(tempfile.mkdtemp(prefix="aiworkspace-pg-", dir="/var/tmp"))
    shutil.chown(directory, "postgres", "postgres")
    as_postgres = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]
    data = directory / "data"
    subprocess.run(
        [*as_postgres, str(_pg_bin("initdb")), "-D", str(data), "--auth-local=trust", "--auth-host=scram-sha-256",
         "-U", "postgres"],
        check=True, capture_output=True,
    )  # fmt: skip
    port = _free_port()
    server = subprocess.Popen(
        [*as_postgres, str(_pg_bin("postgres")), "-D", str(data), "-p", str(port), "-k", str(directory),
         "-c", "listen_addresses=127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            probe = [str(_pg_bin("pg_isready")), "-q", "-h", "127.0.0.1", "-p", str(port)]
            ready = subprocess.run(probe, check=False)
            if ready.returncode == 0:
                break
            time.sleep(0.1)
        yield Postgres(port, directory)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


# The stand-ins read MONGO_DATA's documents (a directory) and the one password they accept from files next to them.
MONGODUMP = """#!/bin/sh
# Stand-in for mongodump (no registry here ships it): the password from --config only, the archive created as
# Go's os.Create does (mode 0666 less the umask, the process's uid and gid), gzip of the database's documents.
set -eu
here=$(dirname "$0")
for arg in "$@"; do
  case "$arg" in
    --config=*) config=${arg#--config=} ;;
    --archive=*) archive=${arg#--archive=} ;;
    --password*) echo "the password must not be an argument" >&2; exit 9 ;;
  esac
done
grep -qxF "password: \\"$(cat "$here/password")\\"" "$config" || { echo "authentication failed" >&2; exit 1; }
data=$(cat "$here/data")
find "$data" -mindepth 1 -maxdepth 1 -printf '%P\\n' | tar -C "$data" -czf - -T - > "$archive"
if [ -e "$here/fail" ]; then echo "connection lost midway" >&2; exit 1; fi
"""
MONGORESTORE = """#!/bin/sh
# Stand-in for mongorestore: the password from --config only; --drop replaces the collections the archive holds.
set -eu
here=$(dirname "$0")
drop=
for arg in "$@"; do
  case "$arg" in
    --config=*) config=${arg#--config=} ;;
    --archive=*) archive=${arg#--archive=} ;;
    --drop) drop=1 ;;
    --password*) echo "the password must not be an argument" >&2; exit 9 ;;
  esac
done
grep -qxF "password: \\"$(cat "$here/password")\\"" "$config" || { echo "authentication failed" >&2; exit 1; }
data=$(cat "$here/data")
[ -n "$drop" ] && find "$data" -mindepth 1 -delete
tar -C "$data" -xzf "$archive"
"""


@dataclass
class Mongo:
    bin: Path
    data: Path


@pytest.fixture()
def mongo(tmp_path: Path) -> Iterator[Mongo]:
    # Under /var/tmp: the pod's /tmp is its own emptyDir.
    top = Path(tempfile.mkdtemp(prefix="aiworkspace-mongo-", dir="/var/tmp"))
    top.chmod(0o755)
    bin_dir, data = top / "bin", top / "data"
    bin_dir.mkdir()
    data.mkdir(mode=0o777)
    data.chmod(0o777)  # the database's files, whoever runs the tools
    for name, text in (("mongodump", MONGODUMP), ("mongorestore", MONGORESTORE)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (bin_dir / "data").write_text(str(data))
    yield Mongo(bin_dir, data)
    shutil.rmtree(top, ignore_errors=True)


# A pod, run --------------------------------------------------------------------------------------------------------

KUBELET_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def kubelet_expand(text: str, env: dict[str, str]) -> str:
    """What the kubelet makes of a command or args string: `$$` is `$`, `$(VAR)` a defined env var's value."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return KUBELET_REFERENCE.sub(one, text)


def kubelet_volume_ownership(directory: Path, fs_group: int, read_only: bool) -> None:
    """What the kubelet does to a volume with an fsGroup on every mount (fsGroupChangePolicy Always, the default;
    pkg/volume/volume_linux.go, SetVolumeOwnership): every file and directory to group fsGroup, group read and
    write (read-only: read) added, directories also executable and setgid."""
    for path in [directory, *directory.rglob("*")]:
        os.chown(path, -1, fs_group, follow_symlinks=False)
        mask = 0o440 if read_only else 0o660
        if path.is_dir():
            mask |= 0o110 | stat.S_ISGID
        path.chmod(stat.S_IMODE(path.stat().st_mode) | mask)


MOUNT = r"""
set -eu
root=$1; shift
mount -t tmpfs -o mode=755 rootfs "$root"
for d in usr etc dev proc var; do mkdir -p "$root/$d"; mount --rbind "/$d" "$root/$d"; done
for d in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$root/$d"
  elif [ -d "/$d" ]; then mkdir -p "$root/$d"; mount --rbind "/$d" "$root/$d"; fi
done
while [ "$1" != -- ]; do
  mkdir -p "$root$2"; mount --bind "$1" "$root$2"
  [ "$3" = ro ] && mount -o remount,bind,ro "$root$2"
  shift 3
done
shift
umask 022
exec "$CHROOT" "$root" "$@"
"""


@dataclass
class Pod:
    """A composed pod spec and the host directories its volumes are."""

    spec: dict[str, Any]
    secrets: dict[tuple[str, str], str]
    overrides: dict[str, str]
    path: str
    volumes: dict[str, Path] = field(default_factory=dict)

    def make_volumes(self, top: Path, claims: dict[str, Path]) -> None:
        fs_group = int(self.spec["securityContext"]["fsGroup"])
        for volume in self.spec["volumes"]:
            if "emptyDir" in volume:
                directory = top / f"emptydir-{volume['name']}"
                directory.mkdir()
                os.chown(directory, 0, fs_group)
                directory.chmod(0o2777)
            else:
                directory = claims[volume["persistentVolumeClaim"]["claimName"]]
                kubelet_volume_ownership(directory, fs_group, volume["persistentVolumeClaim"].get("readOnly", False))
            self.volumes[volume["name"]] = directory

    def env(self, container: dict[str, Any]) -> dict[str, str]:
        out = {"PATH": self.path}
        for entry in container.get("env", []):
            if "value" in entry:
                out[entry["name"]] = kubelet_expand(entry["value"], out)
            else:
                ref = entry["valueFrom"]["secretKeyRef"]
                out[entry["name"]] = self.secrets[(ref["name"], ref["key"])]
        return {**out, **{k: v for k, v in self.overrides.items() if k in out or k == "RESTORE_DUMP"}}

    def run(self, container: dict[str, Any], root: Path) -> subprocess.CompletedProcess[str]:
        security = {**self.spec["securityContext"], **container.get("securityContext", {})}
        uid, gid = int(security["runAsUser"]), int(security["runAsGroup"])
        pod_security = self.spec["securityContext"]
        groups = sorted({int(g) for g in (pod_security["fsGroup"], *pod_security.get("supplementalGroups", []))})
        mounts: list[str] = []
        for mount in container["volumeMounts"]:
            source = self.volumes[mount["name"]]
            mounts += [str(source), mount["mountPath"], "ro" if mount.get("readOnly") else "rw"]
        env = self.env(container)
        argv = [kubelet_expand(a, env) for a in [*container["command"], *container.get("args", [])]]
        setpriv = [str(shutil.which("setpriv")), f"--reuid={uid}", f"--regid={gid}"]
        setpriv += [f"--groups={','.join(map(str, groups))}", "--inh-caps=-all", "--"]
        return subprocess.run(
            [str(shutil.which("unshare")), "--mount", "--propagation", "private", "/bin/sh", "-c",
             f"CHROOT={shutil.which('chroot')}\n{MOUNT}", "mount", str(root), *mounts, "--", *setpriv, *argv],
            env=env, capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip

    def run_all(self, root: Path) -> tuple[int, str]:
        """The init containers in turn, then the container (as the kubelet: a failed init container ends it)."""
        log = []
        for container in [*self.spec.get("initContainers", []), *self.spec["containers"]]:
            done = self.run(container, root)
            log.append(f"[{container['name']}] exit {done.returncode}\n{done.stdout}{done.stderr}")
            if done.returncode != 0:
                return done.returncode, "\n".join(log)
        return 0, "\n".join(log)


def _pod(cron_job: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


@dataclass
class Workspace:
    state: dict[str, dict[str, Any]]
    secrets: dict[tuple[str, str], str]

    def cron_job(self, key: str) -> dict[str, Any]:
        manifest: dict[str, Any] = self.state[key]["spec"]["forProvider"]["manifest"]
        return manifest


def _workspace(bucket: bool) -> Workspace:
    xr = yaml.safe_load((EXAMPLE / "xr.yaml").read_text())
    given = list(yaml_docs(EXAMPLE / "required-resources.yaml"))
    if bucket:
        xr["spec"]["objectStorage"] = S3
        given.append(S3_KEYS)
    state = full_state(xr, given)
    values: dict[tuple[str, str], str] = {}
    for body in [*state.values(), *given]:
        if body.get("kind") == "Secret":
            for key, value in body.get("data", {}).items():
                values[(body["metadata"]["name"], key)] = base64.b64decode(value).decode()
    return Workspace(state, values)


def _connection(ws: Workspace, postgres: Postgres, s3: str | None) -> dict[str, str]:
    """The env that points the pods at this machine: the databases' host and port, the bucket's endpoint."""
    out = {"DB_HOST": "127.0.0.1", "DB_PORT": str(postgres.port)}
    if s3:
        out["RCLONE_CONFIG_BACKUP_ENDPOINT"] = s3
    return out


def _rag_credentials(ws: Workspace) -> tuple[str, str, str]:
    database_secret = next(
        e["valueFrom"]["secretKeyRef"]["name"]
        for c in _pod(ws.cron_job("pgvector-restore-cronjob"))["containers"]
        for e in c["env"]
        if e["name"] == "PGPASSWORD"
    )
    return (
        ws.secrets[(database_secret, "username")],
        ws.secrets[(database_secret, "password")],
        ws.secrets[(database_secret, "database")],
    )


def _seed(postgres: Postgres, mongo: Mongo, ws: Workspace) -> tuple[str, str]:
    user, password, database = _rag_credentials(ws)
    postgres.psql("postgres", f"DROP DATABASE IF EXISTS {database}")
    postgres.psql("postgres", f"DROP ROLE IF EXISTS {user}")
    postgres.psql("postgres", f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")
    postgres.psql("postgres", f"CREATE DATABASE {database} OWNER {user}")
    values = ", ".join(f"({i}, $t${text}$t$, '{embedding}')" for i, text, embedding in ROWS)
    postgres.psql(
        database,
        f"SET ROLE {user}; CREATE TABLE documents (id int PRIMARY KEY, text text NOT NULL, embedding text); "
        f"INSERT INTO documents VALUES {values}",
    )
    for name, text in DOCUMENTS.items():
        (mongo.data / name).write_text(text)
    ref = next(
        e["valueFrom"]["secretKeyRef"]
        for c in _pod(ws.cron_job("mongodb-restore-cronjob"))["containers"]
        for e in c["env"]
        if e["name"] == "MONGODB_PASSWORD"
    )
    (mongo.bin / "password").write_text(ws.secrets[(ref["name"], ref["key"])])
    return database, user


def _empty(postgres: Postgres, mongo: Mongo, database: str, user: str) -> None:
    """Empty databases, as a restore meets them after a loss."""
    postgres.psql("postgres", f"DROP DATABASE {database}")
    postgres.psql("postgres", f"CREATE DATABASE {database} OWNER {user}")
    for path in mongo.data.iterdir():
        path.unlink()


def _rows(postgres: Postgres, database: str) -> str:
    return postgres.psql(database, "SELECT id, text, embedding FROM documents ORDER BY id")


@pytest.fixture()
def top() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="aiworkspace-pods-", dir="/var/tmp"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def _run(ws: Workspace, key: str, top: Path, name: str, overrides: dict[str, str], mongo: Mongo,
         claims: dict[str, Path] | None = None) -> tuple[int, str]:  # fmt: skip
    base = top / name
    base.mkdir()
    pod = Pod(_pod(ws.cron_job(key)), ws.secrets, overrides, f"{mongo.bin}:/usr/bin:/bin")
    pod.make_volumes(base, claims or {})
    root = base / "root"
    root.mkdir()
    return pod.run_all(root)


def _objects(s3: str) -> list[str]:
    client = boto3.client(
        "s3", endpoint_url=s3, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    listed = client.list_objects_v2(Bucket="team-a-files")
    return sorted(o["Key"] for o in listed.get("Contents", []))


def _make_bucket(s3: str) -> None:
    client = boto3.client(
        "s3", endpoint_url=s3, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    client.create_bucket(Bucket="team-a-files")


# The round trips ----------------------------------------------------------------------------------------------------


def test_bucket_round_trip(postgres: Postgres, s3: str, mongo: Mongo, top: Path) -> None:
    """Backups to the bucket: the dumps are uploaded under the workspace's prefix; the restore Job lists them
    without RESTORE_DUMP, refuses a name that is not a dump's, and with one restores it into an empty database,
    row for row."""
    ws = _workspace(bucket=True)
    _make_bucket(s3)
    database, user = _seed(postgres, mongo, ws)
    before = _rows(postgres, database)
    env = _connection(ws, postgres, s3)

    code, log = _run(ws, "backup-cronjob", top, "backup", env, mongo)
    assert code == 0, log
    keys = _objects(s3)
    prefix = "aiworkspace-backups/team-a/chat"
    mongodb = [k for k in keys if re.fullmatch(rf"{prefix}/mongodb/mongodb-\d{{8}}T\d{{6}}Z\.archive\.gz", k)]
    pgvector = [k for k in keys if re.fullmatch(rf"{prefix}/pgvector/pgvector-\d{{8}}T\d{{6}}Z\.dump", k)]
    assert len(mongodb) == 1 and len(pgvector) == 1 and len(keys) == 2, keys

    _empty(postgres, mongo, database, user)
    code, log = _run(ws, "pgvector-restore-cronjob", top, "list", env, mongo)
    assert code == 2 and pgvector[0].rsplit("/", 1)[1] in log, log
    code, log = _run(
        ws, "pgvector-restore-cronjob", top, "hostile", {**env, "RESTORE_DUMP": "pgvector-../x.dump"}, mongo
    )
    assert code == 2 and "must be a dump's file name" in log, log
    assert postgres.psql(database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0\n"

    for key, dump in (("pgvector-restore-cronjob", pgvector[0]), ("mongodb-restore-cronjob", mongodb[0])):
        code, log = _run(ws, key, top, key, {**env, "RESTORE_DUMP": dump.rsplit("/", 1)[1]}, mongo)
        assert code == 0, log
    assert _rows(postgres, database) == before and before.count("\n") == len(ROWS)
    assert {p.name: p.read_text() for p in mongo.data.iterdir()} == DOCUMENTS


def test_volume_round_trip(postgres: Postgres, mongo: Mongo, top: Path) -> None:
    """Backups to the protected volume: both dumps in one pod, 0640 and group fsGroup; past the retention old
    dumps and a killed run's partial file are pruned; the restore Job reads the volume read-only."""
    ws = _workspace(bucket=False)
    database, user = _seed(postgres, mongo, ws)
    before = _rows(postgres, database)
    env = _connection(ws, postgres, None)
    claim = top / "backups-volume"
    claim.mkdir()
    fs_group = int(_pod(ws.cron_job("backup-cronjob"))["securityContext"]["fsGroup"])
    os.chown(claim, 0, fs_group)
    claim.chmod(0o2775)
    claims = {"chat-backups": claim}
    (claim / "mongodb").mkdir()
    old = [
        claim / "mongodb" / "mongodb-20200101T000000Z.archive.gz",
        claim / "mongodb" / "mongodb-x.archive.gz.partial",
    ]
    for path in old:
        path.write_text("old")
        os.utime(path, (time.time() - 30 * 86400, time.time() - 30 * 86400))

    code, log = _run(ws, "backup-cronjob", top, "backup", env, mongo, claims)
    assert code == 0, log
    dumps = {d: sorted((claim / d).iterdir()) for d in ("mongodb", "pgvector")}
    assert not any(p.exists() for p in old), "pruned past the retention"
    for files in dumps.values():
        [dump] = files
        info = dump.stat()
        assert stat.S_IMODE(info.st_mode) == 0o640 and info.st_gid == fs_group, (dump, oct(info.st_mode))

    _empty(postgres, mongo, database, user)
    for database_name, files in dumps.items():
        key = f"{database_name}-restore-cronjob"
        code, log = _run(ws, key, top, key, {**env, "RESTORE_DUMP": files[0].name}, mongo, claims)
        assert code == 0, log
    assert _rows(postgres, database) == before
    assert {p.name: p.read_text() for p in mongo.data.iterdir()} == DOCUMENTS


def test_a_dump_the_uploader_cannot_read_fails_the_backup(postgres: Postgres, s3: str, mongo: Mongo, top: Path) -> None:
    """The harness keeps the pods' users and modes: with the umask 077 of the password file left set for the
    rest of the shell (as an earlier script did), mongodump writes the archive 0600, and the rclone container,
    another user in the dump's group, cannot read it: the backup fails."""
    ws = _workspace(bucket=True)
    _make_bucket(s3)
    _seed(postgres, mongo, ws)
    cron_job = ws.cron_job("backup-cronjob")
    for container in _pod(cron_job)["initContainers"]:
        if container["name"] == "mongodb-dump":
            script = container["args"][0]
            assert "(umask 077; printf" in script
            container["args"] = [script.replace("(umask 077; printf", "umask 077; (printf")]
    code, log = _run(ws, "backup-cronjob", top, "backup", _connection(ws, postgres, s3), mongo)
    assert code != 0 and "permission denied" in log.lower() and ".archive.gz" in log, log


def test_a_failed_dump_leaves_nothing_to_upload(postgres: Postgres, s3: str, mongo: Mongo, top: Path) -> None:
    """A dump that fails midway leaves no partial file, and the pod uploads nothing; one refused by the database
    fails it too."""
    ws = _workspace(bucket=True)
    _make_bucket(s3)
    _seed(postgres, mongo, ws)
    before = _objects(s3)
    (mongo.bin / "fail").write_text("")
    code, log = _run(ws, "backup-cronjob", top, "midway", _connection(ws, postgres, s3), mongo)
    assert code != 0 and "connection lost midway" in log, log
    assert _objects(s3) == before
    work = top / "midway" / "emptydir-work" / "mongodb"
    assert work.is_dir() and list(work.iterdir()) == [], "the partial dump is removed"
    (mongo.bin / "fail").unlink()
    (mongo.bin / "password").write_text("another-password")
    code, log = _run(ws, "backup-cronjob", top, "refused", _connection(ws, postgres, s3), mongo)
    assert code != 0 and "authentication failed" in log, log
    assert _objects(s3) == before
