"""Packaging: the Function package builds and lints with the real CLI; the image runs as non-root."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import xp

ROOT = Path(__file__).resolve().parent.parent


def test_xpkg_builds(tools: xp.Tools, tmp_path: Path) -> None:
    """`crossplane xpkg build` accepts package/ (one Function meta, only CRDs beside it) with the examples."""
    out = tmp_path / "fn.xpkg"
    proc = subprocess.run(
        [
            tools.crossplane,
            "xpkg",
            "build",
            "--package-root",
            str(ROOT / "package"),
            "--examples-root",
            str(ROOT / "examples"),
            "--package-file",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 0


def test_dockerfile_same_python_non_root() -> None:
    """Build and runtime stages share one Python image, and the runtime user is not root."""
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)", text, flags=re.M)
    assert [image for image, _ in stages] == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    user = re.findall(r"^USER (\S+)", text, flags=re.M)
    assert user and not user[-1].startswith(("0", "root"))
