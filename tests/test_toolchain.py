"""The toolchain: pinned in one file, built once, found in the cache afterwards."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import io
import os
import platform
import subprocess
import tarfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import xp
import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_second_run_builds_nothing(tools: xp.Tools) -> None:
    """Once built, hack/tools.sh finds every binary (promtool included) in the cache and builds nothing."""
    proc = subprocess.run(["bash", str(ROOT / "hack" / "tools.sh")], capture_output=True, text=True, check=True)
    assert "building" not in proc.stderr, proc.stderr


def test_binaries_are_the_pinned_versions(tools: xp.Tools) -> None:
    """The cached CLI and core binaries are the versions hack/versions.env pins."""
    pins = dict(
        line.split("=", 1)
        for line in (ROOT / "hack" / "versions.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    cli = subprocess.run([tools.crossplane, "version", "--client"], capture_output=True, text=True, check=False)
    assert pins["CROSSPLANE_CLI_VERSION"] in cli.stdout + cli.stderr
    core = subprocess.run([tools.core, "--version"], capture_output=True, text=True, check=False)
    assert pins["CROSSPLANE_CORE_VERSION"] in core.stdout + core.stderr
    # promtool prints no version when built from the module proxy; its build info names the module it came from.
    info = subprocess.run(["go", "version", "-m", tools.promtool], capture_output=True, text=True, check=True).stdout
    assert "\tpath\tgithub.com/prometheus/prometheus/cmd/promtool\n" in info, info
    assert f"\tmod\tgithub.com/prometheus/prometheus\t{pins['PROMETHEUS_VERSION']}\t" in info, info
    assert "\tbuild\t-tags=remove_all_sd\n" in info, info


def test_readme_installs_the_pinned_providers() -> None:
    """The providers README tells platform teams to install are the ones hack/providers.yaml pins and the
    tests validate against: each package by name, with its pinned version."""
    readme = (ROOT / "README.md").read_text()
    providers = [d for d in yaml.safe_load_all((ROOT / "hack" / "providers.yaml").read_text()) if d]
    assert providers
    for provider in providers:
        package = provider["spec"]["package"]
        repository, version = package.rsplit(":", 1)
        assert repository.rsplit("/", 1)[-1] in readme, f"README does not name {repository}"
        assert version in readme, f"README does not name {package}'s version"


def _release_platform() -> str:
    os_name = {"Linux": "linux", "Darwin": "darwin"}[platform.system()]
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]
    return f"{os_name}_{arch}"


@contextlib.contextmanager
def _release_hosts(root: Path, checksum: Callable[[bytes], str]) -> Iterator[dict[str, str]]:
    """Stand-ins for cli.crossplane.io and releases.crossplane.io on loopback, laid out as upstream publishes
    (stable/<version>/bin/<os>_<arch>/crossplane and crossplane.sha256), with `checksum` as published."""
    pins = _pins()
    for host, version in (("cli", pins["CROSSPLANE_CLI_VERSION"]), ("core", pins["CROSSPLANE_CORE_VERSION"])):
        where = root / host / "stable" / version / "bin" / _release_platform()
        where.mkdir(parents=True)
        binary = f"#!/bin/sh\necho '{host} {version}'\n".encode()
        (where / "crossplane").write_bytes(binary)
        (where / "crossplane.sha256").write_text(checksum(binary))
    # get.helm.sh: helm-<version>-<os>-<arch>.tar.gz holding <os>-<arch>/helm, and .sha256sum beside it.
    platform = _release_platform().replace("_", "-")
    script = f"#!/bin/sh\necho 'helm {pins['HELM_VERSION']}'\n".encode()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo(f"{platform}/helm")
        info.size, info.mode = len(script), 0o755
        tar.addfile(info, io.BytesIO(script))
    tarball = root / "helm" / f"helm-{pins['HELM_VERSION']}-{platform}.tar.gz"
    tarball.parent.mkdir(parents=True)
    tarball.write_bytes(archive.getvalue())
    (tarball.parent / f"{tarball.name}.sha256sum").write_text(f"{checksum(archive.getvalue())}  {tarball.name}\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        yield {
            "CROSSPLANE_CLI_RELEASES": f"{url}/cli",
            "CROSSPLANE_RELEASES": f"{url}/core",
            "HELM_RELEASES": f"{url}/helm",
        }
    finally:
        server.shutdown()


def _pins() -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in (ROOT / "hack" / "versions.env").read_text().splitlines()
        if line and not line.startswith("#")
    )


def _tools(env: dict[str, str], cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "hack" / "tools.sh"), "--print"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env, "FUNCTION_AI_WORKSPACE_CACHE": str(cache), "FUNCTION_AI_WORKSPACE_TOOLS": "download"},
    )


def test_release_binaries_are_used_when_their_published_checksum_matches(tools: xp.Tools, tmp_path: Path) -> None:
    """With the release hosts reachable, both binaries are the published ones, checked against the SHA-256
    published beside them, cached, and not fetched again. (`tools` first: the module cache then holds core
    Crossplane's module, which the script reads its CRDs from.) promtool and kubectl have no release binary
    to download: download mode never builds them, and uses them once the cache holds them."""
    with _release_hosts(tmp_path / "www", lambda b: hashlib.sha256(b).hexdigest()) as hosts:
        unbuilt = _tools(hosts, tmp_path / "cache")
        assert unbuilt.returncode != 0 and "building" not in unbuilt.stderr, unbuilt.stderr
        assert unbuilt.stderr.count("downloaded") == 3, unbuilt.stderr
        assert "promtool" in unbuilt.stderr and "is only ever built" in unbuilt.stderr, unbuilt.stderr
        promtool = tmp_path / "cache" / "bin" / Path(tools.promtool).name
        promtool.symlink_to(tools.promtool)
        unbuilt = _tools(hosts, tmp_path / "cache")
        assert unbuilt.returncode != 0 and "kubectl" in unbuilt.stderr and "is only ever built" in unbuilt.stderr
        kubectl = tmp_path / "cache" / "bin" / Path(tools.kubectl).name
        kubectl.symlink_to(tools.kubectl)
        first = _tools(hosts, tmp_path / "cache")
        assert first.returncode == 0, first.stderr
        assert "downloaded" not in first.stderr and "building" not in first.stderr, first.stderr
        paths = dict(line.split("=", 1) for line in first.stdout.splitlines())
        assert paths["PROMTOOL"] == str(promtool)
        pins = _pins()
        for key, expected in (
            ("CROSSPLANE", f"cli {pins['CROSSPLANE_CLI_VERSION']}"),
            ("CROSSPLANE_CORE", f"core {pins['CROSSPLANE_CORE_VERSION']}"),
            ("HELM", f"helm {pins['HELM_VERSION']}"),
        ):
            ran = subprocess.run([paths[key]], capture_output=True, text=True, check=True)
            assert ran.stdout.strip() == expected
    again = _tools({}, tmp_path / "cache")  # the hosts are gone: the cache answers
    assert again.returncode == 0 and "downloaded" not in again.stderr, again.stderr


def test_a_release_binary_whose_checksum_differs_is_not_used(tools: xp.Tools, tmp_path: Path) -> None:
    with _release_hosts(tmp_path / "www", lambda b: hashlib.sha256(b + b"tampered").hexdigest()) as hosts:
        proc = _tools(hosts, tmp_path / "cache")
    assert proc.returncode != 0
    assert "not used" in proc.stderr and "no verified release binary" in proc.stderr, proc.stderr
    assert not list((tmp_path / "cache").glob("bin/crossplane-*")), "a binary that failed its check was kept"
    assert not list((tmp_path / "cache").glob("bin/helm-*")), "a helm that failed its check was kept"
