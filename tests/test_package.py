"""Packaging: the Function package builds and lints with the real CLI; the image runs as non-root."""

from __future__ import annotations

import gzip
import io
import json
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import packages
import pytest
import xp
import yaml

from function.__version__ import __version__
from function.xrds import FUNCTION_NAME, FUNCTION_PACKAGE, package_name

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


def _package_documents(xpkg: Path) -> list[dict[str, Any]]:
    """The documents of package.yaml inside a built .xpkg (an OCI image tarball), as Crossplane reads them."""
    with tarfile.open(xpkg) as image:
        manifest = json.load(image.extractfile("manifest.json"))  # type: ignore[arg-type]
        for layer in manifest[0]["Layers"]:
            data = image.extractfile(layer).read()  # type: ignore[union-attr]
            with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as files:
                if "package.yaml" in files.getnames():
                    text = files.extractfile("package.yaml").read().decode()  # type: ignore[union-attr]
                    return [d for d in yaml.safe_load_all(text) if d]
    raise AssertionError(f"{xpkg} has no package.yaml")


@pytest.fixture(scope="module")
def built(tools: xp.Tools) -> dict[str, list[dict[str, Any]]]:
    """`make package`'s build: every package, offline, read back from the files it wrote."""
    assert packages.build(tools.crossplane) == 0
    out = {"function": _package_documents(packages.FUNCTION_XPKG)}
    for flavour in packages.FLAVOURS:
        out[flavour] = _package_documents(packages.configuration_xpkg(flavour))
    return out


def test_function_package_holds_its_input_crd(built: dict[str, list[dict[str, Any]]]) -> None:
    """The Function package is its meta and the CRD of its input, nothing else."""
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in built["function"])
    assert kinds == [
        ("CustomResourceDefinition", "inputs.aiworkspace.fn.crossplane.io"),
        ("Function", "function-ai-workspace"),
    ]


@pytest.mark.parametrize("flavour", packages.FLAVOURS)
def test_configuration_holds_its_flavour(flavour: str, built: dict[str, list[dict[str, Any]]]) -> None:
    """Each Configuration is its meta, its flavour's XRD and Composition exactly as generated under apis/."""
    documents = built[flavour]
    by_kind = {d["kind"]: d for d in documents}
    assert sorted(by_kind) == ["CompositeResourceDefinition", "Composition", "Configuration"]
    assert len(documents) == 3
    for kind, file in (("CompositeResourceDefinition", "definition.yaml"), ("Composition", "composition.yaml")):
        packaged = {k: v for k, v in by_kind[kind].items() if k != "status"}  # the build's typed round trip adds it
        assert packaged == yaml.safe_load((ROOT / "apis" / flavour / file).read_text())
    meta = by_kind["Configuration"]
    for annotation in ("maintainer", "source", "license", "description", "readme"):
        assert meta["metadata"]["annotations"].get(f"meta.crossplane.io/{annotation}"), annotation


@pytest.mark.parametrize("flavour", packages.FLAVOURS)
def test_configuration_pins_equal_the_validated_ones(flavour: str, built: dict[str, list[dict[str, Any]]]) -> None:
    """Every dependency is pinned to exactly the version the tests validate against: the providers of
    hack/providers.yaml (whose CRDs every render is validated with) and this function's own version."""
    meta = next(d for d in built[flavour] if d["kind"] == "Configuration")
    pinned = {(d["kind"], d["package"]): d["version"] for d in meta["spec"]["dependsOn"]}
    validated = {}
    for document in yaml.safe_load_all((ROOT / "hack" / "providers.yaml").read_text()):
        repository, version = document["spec"]["package"].rsplit(":", 1)
        validated[("Provider", repository)] = version
    validated[("Function", FUNCTION_PACKAGE)] = f"v{__version__}"
    assert pinned == validated
    assert len(meta["spec"]["dependsOn"]) == len(pinned), "a package is listed twice"


def test_compositions_name_the_function_as_its_dependency_installs_it(built: dict[str, list[dict[str, Any]]]) -> None:
    """Crossplane installs a dependency under the DNS label of its repository path (xpkg.ToDNSLabel); the
    Compositions must reference the function by that name or they never find it."""
    assert package_name("xpkg.crossplane.io/crossplane-contrib/provider-helm") == "crossplane-contrib-provider-helm"
    assert package_name("xpkg.upbound.io/upbound/provider-aws-rds") == "upbound-provider-aws-rds"
    assert package_name(FUNCTION_PACKAGE) == FUNCTION_NAME
    for flavour in packages.FLAVOURS:
        composition = next(d for d in built[flavour] if d["kind"] == "Composition")
        assert [s["functionRef"]["name"] for s in composition["spec"]["pipeline"]] == [FUNCTION_NAME]
    development = yaml.safe_load((ROOT / "examples" / "functions.yaml").read_text())
    assert development["metadata"]["name"] == FUNCTION_NAME
    assert development["spec"]["package"] == f"{FUNCTION_PACKAGE}:v{__version__}"


def test_generated_package_metadata_is_committed() -> None:
    """apis/<flavour>/crossplane.yaml is exactly what `make generate` writes from hack/providers.yaml."""
    for relative, document in packages.generated_files().items():
        committed = yaml.safe_load((ROOT / relative).read_text())
        assert committed == document, f"{relative} is stale: run `make generate`"
