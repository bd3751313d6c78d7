"""The toolchain: pinned in one file, built once, found in the cache afterwards."""

from __future__ import annotations

import subprocess
from pathlib import Path

import xp
import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_second_run_builds_nothing(tools: xp.Tools) -> None:
    """Once built, hack/tools.sh finds both binaries in the cache and builds nothing."""
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
