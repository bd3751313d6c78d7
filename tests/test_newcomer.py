"""The newcomer's path: a clone with nothing beside it, as a user gets it from the project's public home.

The clone is a copy of the working tree in a temporary directory, with no ../shared next to it and an empty
provider package cache. (The crossplane binaries' cache is shared: building them again proves nothing new and
takes minutes; tests/test_toolchain.py covers that cache.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("newcomer") / "function-ai-workspace"
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        source = ROOT / name
        if source.is_file():
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, where / name)  # keeps mtimes: make sees the venv as up to date
    assert not (where.parent / "shared").exists()
    return where


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SHARED_CRDS", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["FUNCTION_AI_WORKSPACE_XPKG_CACHE"] = str(tmp / "empty-xpkg-cache")
    return env


def _make(clone: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`make <args>` in the clone, with this checkout's virtualenv (up to date there: mtimes were kept)."""
    return subprocess.run(
        ["make", "--no-print-directory", *args, f"VENV={ROOT / '.venv'}"],
        cwd=clone,
        env=_env(tmp),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_missing_crds_stop_the_tests_with_one_message(clone: Path, tmp_path: Path) -> None:
    """No mirror: the CRDs come from the pinned packages, or `make test` stops at once (its `crds` step) with
    one message naming both ways to provide them. (pytest alone stops the same way, in conftest.py.)"""
    proc = _make(clone, tmp_path, "crds")
    output = proc.stdout + proc.stderr
    if proc.returncode == 0:  # a registry was reachable: the packages were fetched and used
        assert "provider CRDs: the provider packages of providers.yaml" in output
        return
    assert proc.returncode != 0
    assert "the providers' CRDs are not available" in output, output
    assert "SHARED_CRDS" in output and "hack/providers.yaml" in output
    assert "provider-helm:v1.4.0" in output
    assert "Traceback" not in output
    assert output.count("the providers' CRDs are not available") == 1


def test_make_render_shows_the_whole_workspace(clone: Path, tmp_path: Path) -> None:
    """The default render converges: the XR first, then everything, LibreChat's Release included."""
    proc = _make(clone, tmp_path, "render")
    assert proc.returncode == 0, proc.stderr
    docs = [doc for doc in yaml.safe_load_all(proc.stdout) if doc]
    assert docs[0]["kind"] == "AIWorkspace"
    assert any(doc["kind"] == "Release" for doc in docs[1:])
    single = _make(clone, tmp_path, "render", "RENDER_PASSES=1")
    assert single.returncode == 0, single.stderr
    first = [doc for doc in yaml.safe_load_all(single.stdout) if doc]
    assert not any(doc["kind"] == "Release" for doc in first), "one pass composes the Release's inputs first"
