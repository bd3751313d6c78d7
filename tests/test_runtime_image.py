"""The function's runtime image (hack/runtime_image.py): reproducible, built from what its locks pin, stating what
the Dockerfile states, and serving when run as Crossplane's runtime runs it (uid and gid 2000, nothing writable).
`make e2e` then runs it for real: Crossplane's Deployment runtime creates its pod from the Function package, a
kubelet runs it from the embedded image, and every scenario composes through it."""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import json
import lzma
import os
import re
import shutil
import socket
import subprocess
import tarfile
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import runtime_image
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1
from grpc_health.v1 import health_pb2, health_pb2_grpc
from packaging.requirements import Requirement

from tests.helpers import full_request, namespaced_xr

ROOT = Path(__file__).resolve().parent.parent
CROSSPLANE_UID = 2000  # what Crossplane's Deployment runtime runs a function as (runtime.go, v2.3.4: RunAsUser)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("image") / "runtime-image.tar"
    runtime_image.build(out)
    return out


def _config(image: Path) -> dict[str, object]:
    with tarfile.open(image) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        return dict(json.load(tar.extractfile(manifest[0]["Config"])))  # type: ignore[arg-type]


def test_two_builds_of_one_commit_are_the_same_image(image: Path, tmp_path: Path) -> None:
    """Byte for byte, so the same digest: nothing of the build's time, place or machine gets in."""
    again = tmp_path / "again.tar"
    runtime_image.build(again)
    assert again.read_bytes() == image.read_bytes()


def test_image_states_what_the_dockerfile_states(image: Path) -> None:
    """User, entrypoint and ports: the Dockerfile (for those building with a container engine) builds the same
    filesystem with the same script and the same locks, and states the same."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    config = _config(image)
    settings = config["config"]
    assert isinstance(settings, dict)
    [user] = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert settings["User"] == user == f"{runtime_image.USER}:{runtime_image.GROUP}"
    assert not user.startswith(("0:", "root"))
    [entrypoint] = re.findall(r"^ENTRYPOINT (.+)$", dockerfile, re.M)
    assert settings["Entrypoint"] == json.loads(entrypoint) == runtime_image.ENTRYPOINT
    [exposed] = re.findall(r"^EXPOSE (.+)$", dockerfile, re.M)
    assert sorted(settings["ExposedPorts"]) == sorted(f"{p}/tcp" for p in exposed.split())
    assert re.search(
        r"^RUN RUNTIME_ARCH=\$\{TARGETARCH\} python hack/runtime_image.py rootfs /rootfs$", dockerfile, re.M
    )
    assert re.search(r"^ARG TARGETARCH=amd64$", dockerfile, re.M)
    copied = " ".join(re.findall(r"^COPY (?!--from)(.+)$", dockerfile, re.M))
    for needed in ("hack/runtime_image.py", "hack/oci.py", "hack/runtime-debian.lock", "hack/runtime-wheels.lock"):
        assert needed in copied, f"the Dockerfile's build stage does not copy {needed}"
    assert re.search(r"^FROM scratch AS runtime$", dockerfile, re.M), "the runtime stage has no base image"
    assert config["architecture"] == "amd64" and config["os"] == "linux"


def test_layers_hold_the_locked_packages_and_wheels(image: Path) -> None:
    """Each locked Debian package's copyright file (or its documentation link), each locked wheel's dist-info at
    its locked version, the function's package and licence; every entry owned by root and dated 0."""
    with tarfile.open(image) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        names: set[str] = set()
        for layer in manifest[0]["Layers"]:
            with tarfile.open(fileobj=tar.extractfile(layer)) as files:
                for member in files.getmembers():
                    assert (member.uid, member.gid, member.mtime) == (0, 0, 0), member.name
                    names.add(member.name)
    _, debs = runtime_image.read_debian_lock()
    for deb in debs:
        # (or the link to its source package's documentation, as libgcc-s1's to gcc-12-base's)
        assert {f"usr/share/doc/{deb.package}/copyright", f"usr/share/doc/{deb.package}"} & names, deb.package
    for name, (version, _) in runtime_image.read_wheels_lock().items():
        dist = re.sub(r"[-_.]+", "_", name)
        assert any(re.fullmatch(rf"{runtime_image.SITE}/{dist}-{re.escape(version)}\.dist-info/METADATA", n, re.I)
                   for n in names), f"{name} {version}"  # fmt: skip
    assert f"{runtime_image.SITE}/function/main.py" in names
    assert runtime_image.LICENSE_FILE in names
    assert "tmp" in names and "etc/passwd" in names
    assert not [n for n in names if n.startswith("usr/share/man/")]


def test_debian_lock_is_closed_under_dependencies() -> None:
    """Every package a locked package depends on (some alternative of each relation) is locked, but for those
    not followed on purpose (runtime_image.NOT_FOLLOWED, each with its reason); read from the packages' own
    control files."""
    stamp, debs = runtime_image.read_debian_lock()
    locked = {deb.package for deb in debs}
    assert set(runtime_image.ROOTS) <= locked
    for deb in debs:
        members = runtime_image.deb_members(runtime_image.download_deb(deb, stamp))
        control_tar = next(v for k, v in members.items() if k.startswith("control.tar"))
        data = lzma.decompress(control_tar) if members.get("control.tar.xz") else control_tar
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            control = tar.extractfile("./control").read().decode()  # type: ignore[union-attr]
        fields = dict(re.findall(r"^([\w-]+): (.*)$", control, re.M))
        assert (fields["Package"], fields["Version"]) == (deb.package, deb.version)
        for relation in ("Pre-Depends", "Depends"):
            for alternatives in filter(None, (r.strip() for r in fields.get(relation, "").split(","))):
                names = {re.split(r"[ :(]", a.strip())[0] for a in alternatives.split("|")}
                assert names & (locked | set(runtime_image.NOT_FOLLOWED)), f"{deb.package} needs {alternatives}"


def test_wheels_lock_is_the_projects_dependencies_and_what_the_tests_run() -> None:
    """Each runtime dependency of pyproject.toml is locked at a version it admits, every wheel has its hash, and the
    venv the tests run in has exactly the locked versions (the Makefile installs it with the lock as constraints),
    so what is tested is what ships."""
    locked = runtime_image.read_wheels_lock()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for dependency in project["dependencies"]:
        requirement = Requirement(dependency)
        name = requirement.name.lower().replace("_", "-")
        assert name in locked, f"{name} is a dependency but not locked: run `python hack/runtime_image.py lock`"
        assert requirement.specifier.contains(locked[name][0]), f"{name}=={locked[name][0]} vs {requirement}"
    for name, (version, hashes) in locked.items():
        assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name
        assert importlib.metadata.version(name) == version, f"the venv has {name} {importlib.metadata.version(name)}"


def test_renovate_keeps_the_wheels_lock() -> None:
    """Renovate's pip_requirements manager (hashes updated with hashin) reads the wheels lock; the Debian lock is
    re-resolved by `runtime_image.py lock` (RELEASING.md), since no Renovate manager reads it."""
    config = json.loads((ROOT / "renovate.json").read_text())
    patterns = config["pip_requirements"]["managerFilePatterns"]
    assert any(re.search(p.strip("/"), "hack/runtime-wheels.lock") for p in patterns)


# Run as Crossplane's runtime runs it ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The image's filesystem, its entrypoint run in it (chroot) as uid and gid 2000 with no supplementary group,
    as Crossplane's runtime runs a function's container (securityContext runAsUser/runAsGroup 2000, runAsNonRoot);
    gRPC and metrics on loopback ports, TLS off (the pod's TLS is e2e's)."""
    missing = [] if os.geteuid() == 0 else ["root"]
    missing += [tool for tool in ("unshare", "chroot", "mount") if shutil.which(tool) is None]
    if missing:
        message = f"running the image's filesystem needs {', '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("rootfs")
    runtime_image.rootfs(root)
    assert (root / "tmp").stat().st_mode & 0o7777 == 0o1777
    port, metrics = _free_port(), _free_port()
    argv = [*runtime_image.ENTRYPOINT, "--insecure", "--address", f"127.0.0.1:{port}"]
    argv += ["--metrics-address", f"127.0.0.1:{metrics}"]
    # What the container runtime gives every container, in a mount namespace of its own: /dev and /proc.
    for mountpoint in ("dev", "proc"):
        (root / mountpoint).mkdir(exist_ok=True)
    user = f"--userspec={CROSSPLANE_UID}:{CROSSPLANE_UID}"
    script = (
        'mount --rbind /dev "$0/dev" && mount -t proc proc "$0/proc" && '
        f'exec chroot {user} --groups={CROSSPLANE_UID} "$0" "$@"'
    )
    log = root.parent / "function.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(root), *argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the image's entrypoint exited {proc.returncode}:\n{log.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"the image's entrypoint did not listen in 60s:\n{log.read_text()}")
            time.sleep(0.2)
        yield f"127.0.0.1:{port}", f"http://127.0.0.1:{metrics}/metrics"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_image_serves_as_crossplane_runs_it(served: tuple[str, str]) -> None:
    """Health SERVING, a workspace composed, and its metrics scraped, from the image's own Python and wheels."""
    address, metrics = served
    with grpc.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        status = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10).status
        assert status == health_pb2.HealthCheckResponse.SERVING
        response = grpcv1.FunctionRunnerServiceStub(channel).RunFunction(full_request(namespaced_xr()), timeout=60)
    assert len(response.desired.resources) > 10
    with urllib.request.urlopen(metrics, timeout=10) as scraped:
        assert 'outcome="composed"' in scraped.read().decode()
