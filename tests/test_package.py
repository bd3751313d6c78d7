"""Packaging: the Function and every Configuration build with the real CLI, pin what the tests validate, and activate
exactly what the function composes; the image runs as non-root."""

from __future__ import annotations

import ast
import functools
import gzip
import io
import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import activation
import packages
import pytest
import xp
import yaml
from activation import CLOUDS, CORE, PARTS

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
def built(tools: xp.Tools) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """`make package`'s build: every package, offline, read back from the files it wrote; keyed (flavour, part),
    the Function's ("function", "")."""
    assert packages.build(tools.crossplane) == 0
    out = {("function", ""): _package_documents(packages.FUNCTION_XPKG)}
    for flavour in packages.FLAVOURS:
        for part in PARTS:
            out[(flavour, part)] = _package_documents(packages.configuration_xpkg(flavour, part))
    return out


Built = dict[tuple[str, str], list[dict[str, Any]]]
ALL = [(flavour, part) for flavour in packages.FLAVOURS for part in PARTS]
CLOUDY = [(flavour, cloud) for flavour in packages.FLAVOURS for cloud in CLOUDS]


def _one(documents: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    [found] = [d for d in documents if d["kind"] == kind]
    return {k: v for k, v in found.items() if k != "status"}  # the build's typed round trip adds a status


def test_function_package_holds_its_input_crd(built: Built) -> None:
    """The Function package is its meta and the CRD of its input, nothing else."""
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in built[("function", "")])
    assert kinds == [
        ("CustomResourceDefinition", "inputs.aiworkspace.fn.crossplane.io"),
        ("Function", "function-ai-workspace"),
    ]


@pytest.mark.parametrize("flavour", packages.FLAVOURS)
def test_core_configuration_holds_its_flavour(flavour: str, built: Built) -> None:
    """Each core Configuration is its meta, its flavour's XRD, Composition and activation policy exactly as
    generated under apis/<flavour>/."""
    documents = built[(flavour, CORE)]
    assert sorted(d["kind"] for d in documents) == [
        "CompositeResourceDefinition",
        "Composition",
        "Configuration",
        "ManagedResourceActivationPolicy",
    ]
    for kind, file in (
        ("CompositeResourceDefinition", "definition.yaml"),
        ("Composition", "composition.yaml"),
        ("ManagedResourceActivationPolicy", "activation.yaml"),
    ):
        assert _one(documents, kind) == yaml.safe_load((ROOT / "apis" / flavour / file).read_text())
    meta = _one(documents, "Configuration")
    for annotation in ("maintainer", "source", "license", "description", "readme"):
        assert meta["metadata"]["annotations"].get(f"meta.crossplane.io/{annotation}"), annotation


@pytest.mark.parametrize(("flavour", "cloud"), CLOUDY)
def test_cloud_configuration_is_dependencies_and_an_activation_policy(flavour: str, cloud: str, built: Built) -> None:
    """A cloud's Configuration is its meta and its activation policy, exactly as generated under
    apis/<flavour>-<cloud>/: the API itself comes from the core it depends on."""
    documents = built[(flavour, cloud)]
    assert sorted(d["kind"] for d in documents) == ["Configuration", "ManagedResourceActivationPolicy"]
    root = ROOT / "apis" / f"{flavour}-{cloud}"
    assert _one(documents, "ManagedResourceActivationPolicy") == yaml.safe_load((root / "activation.yaml").read_text())
    meta = _one(documents, "Configuration")
    assert meta["metadata"]["name"] == f"configuration-ai-workspace-{flavour}-{cloud}"
    for annotation in ("maintainer", "source", "license", "description", "readme"):
        assert meta["metadata"]["annotations"].get(f"meta.crossplane.io/{annotation}"), annotation


def _validated() -> dict[tuple[str, str], str]:
    """(kind, package) -> version of what the tests validate against: the providers of hack/providers.yaml (whose
    CRDs every render is validated with), this function's own version, and each core Configuration built with it."""
    validated = {}
    for document in yaml.safe_load_all((ROOT / "hack" / "providers.yaml").read_text()):
        repository, version = document["spec"]["package"].rsplit(":", 1)
        validated[("Provider", repository)] = version
    validated[("Function", FUNCTION_PACKAGE)] = f"v{__version__}"
    for flavour in packages.FLAVOURS:
        validated[("Configuration", packages.configuration_package(flavour))] = f"v{__version__}"
    return validated


def _dependencies(built: Built, flavour: str, part: str) -> dict[tuple[str, str], str]:
    meta = _one(built[(flavour, part)], "Configuration")
    pinned = {(d["kind"], d["package"]): d["version"] for d in meta["spec"]["dependsOn"]}
    assert len(meta["spec"]["dependsOn"]) == len(pinned), "a package is listed twice"
    return pinned


@pytest.mark.parametrize(("flavour", "part"), ALL)
def test_configuration_pins_equal_the_validated_ones(flavour: str, part: str, built: Built) -> None:
    """Every dependency is pinned to exactly the version the tests validate against. The core depends on this
    function, a cloud's Configuration on its own flavour's core (by the repository it is published to)."""
    pinned = _dependencies(built, flavour, part)
    validated = _validated()
    assert {key: validated.get(key) for key in pinned} == pinned
    first = (
        ("Function", FUNCTION_PACKAGE) if part == CORE else ("Configuration", packages.configuration_package(flavour))
    )
    assert [key for key in pinned if key[0] != "Provider"] == [first]


@pytest.mark.parametrize("flavour", packages.FLAVOURS)
def test_each_pinned_provider_is_a_dependency_of_exactly_one_configuration(flavour: str, built: Built) -> None:
    """Between them, a flavour's Configurations depend on every provider hack/providers.yaml pins, each once: no pin
    goes unused, no provider is installed by two parts."""
    seen: list[str] = []
    for part in PARTS:
        seen += [package for kind, package in _dependencies(built, flavour, part) if kind == "Provider"]
    pinned = [package for kind, package in _validated() if kind == "Provider"]
    assert sorted(seen) == sorted(pinned)


@pytest.mark.parametrize("flavour", packages.FLAVOURS)
def test_core_configuration_has_no_cloud_dependency(flavour: str, built: Built) -> None:
    """The core installs provider-helm and provider-kubernetes beside the function, no cloud provider, and activates
    no cloud kind: it serves in-cluster workspaces alone."""
    providers = [package for kind, package in _dependencies(built, flavour, CORE) if kind == "Provider"]
    assert sorted(p.rsplit("/", 1)[-1] for p in providers) == ["provider-helm", "provider-kubernetes"]
    for package in providers:
        assert not set(CLOUDS) & set(package.rsplit("/", 1)[-1].split("-")), package
    activated = _one(built[(flavour, CORE)], "ManagedResourceActivationPolicy")["spec"]["activate"]
    suffix = ".m.crossplane.io" if flavour == "namespaced" else ".crossplane.io"
    assert activated and all(
        name.endswith(suffix) and (".m." in name) == (flavour == "namespaced") for name in activated
    )
    assert all(activation.part_of(name.split(".", 1)[1]) == CORE for name in activated)


@pytest.mark.parametrize(("flavour", "cloud"), CLOUDY)
def test_cloud_providers_are_those_of_the_kinds_it_activates(flavour: str, cloud: str, built: Built) -> None:
    """A cloud's Configuration depends on exactly the provider packages that serve the kinds it activates (upjet's
    provider-<cloud>-<service> serves <service>.<cloud>[.m].upbound.io), no more."""
    providers = {package for kind, package in _dependencies(built, flavour, cloud) if kind == "Provider"}
    activated = _one(built[(flavour, cloud)], "ManagedResourceActivationPolicy")["spec"]["activate"]
    serving = set()
    for name in activated:
        service, provider_cloud = name.split(".")[1:3]
        assert provider_cloud == cloud, name
        serving.add(f"xpkg.upbound.io/upbound/provider-{cloud}-{service}")
    assert providers == serving


def _crd_name(group: str, kind: str) -> str:
    """The name of the pinned provider's CRD of a kind (what Crossplane names its ManagedResourceDefinition)."""
    return activation.crd_names()[(group, kind)]


@pytest.mark.parametrize(("flavour", "cloud"), CLOUDY)
def test_activation_policy_is_what_the_function_composes_on_the_cloud(flavour: str, cloud: str, built: Built) -> None:
    """The cloud's example, and each branch of it no example takes, composed by the function as a control plane
    converges it: the managed-resource kinds it composes (by their CRD's name, which Crossplane gives their
    ManagedResourceDefinitions) are exactly what the packaged policy activates."""
    example = ROOT / "examples" / f"{cloud}-{flavour}"
    composed = [
        doc for change in [None, *activation.BRANCHES.get(cloud, [])] for doc in activation.compose(example, change)
    ]
    kinds = {activation.group_kind(doc) for doc in composed}
    names = {_crd_name(group, kind) for group, kind in kinds if cloud in group.split(".")}
    activated = _one(built[(flavour, cloud)], "ManagedResourceActivationPolicy")["spec"]["activate"]
    assert sorted(names) == activated
    core = {_crd_name(g, k) for g, k in kinds if g.split(".")[0] in {"helm", "kubernetes"}}
    assert core <= set(_one(built[(flavour, CORE)], "ManagedResourceActivationPolicy")["spec"]["activate"])


def _cloud_module_kinds(cloud: str) -> set[tuple[str, str]]:
    """(group, kind) of every managed(plan, key, component, "<group>", "<Kind>", ...) call in
    function/clouds/<cloud>.py, whichever branch it is on."""
    tree = ast.parse((ROOT / "function" / "clouds" / f"{cloud}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "managed":
            group, kind = node.args[3], node.args[4]
            assert isinstance(group, ast.Constant) and isinstance(kind, ast.Constant), ast.unparse(node)[:200]
            found.add((str(group.value), str(kind.value)))
    return found


@pytest.mark.parametrize(("flavour", "cloud"), CLOUDY)
def test_activation_policy_covers_every_kind_the_cloud_module_composes(flavour: str, cloud: str, built: Built) -> None:
    """Read from the code instead: every kind function/clouds/<cloud>.py composes, on any branch, in the flavour's
    naming (function/resources.py managed: <group>.m.upbound.io namespaced, <group>.upbound.io cluster-scoped), is
    activated, and nothing else is. A kind only a branch no example takes reaches fails here until
    hack/activation.py BRANCHES composes that branch."""
    infix = ".m" if flavour == "namespaced" else ""
    wanted = {_crd_name(f"{group}{infix}.upbound.io", kind) for group, kind in _cloud_module_kinds(cloud)}
    assert wanted, cloud
    assert _one(built[(flavour, cloud)], "ManagedResourceActivationPolicy")["spec"]["activate"] == sorted(wanted)


@pytest.mark.parametrize(("flavour", "part"), ALL)
def test_golden_renders_compose_only_activated_kinds(flavour: str, part: str, built: Built) -> None:
    """What the real `crossplane composition render` composed for the flavour's examples (tests/golden/) never
    needs a kind the part's policy leaves inactive."""
    activated = set(_one(built[(flavour, part)], "ManagedResourceActivationPolicy")["spec"]["activate"])
    by_kind = activation.crd_names()
    seen = {by_kind[gk] for gk in _golden_kinds(flavour) if gk in by_kind and activation.part_of(gk[0]) == part}
    assert seen and seen <= activated


@functools.cache
def _golden_kinds(flavour: str) -> frozenset[tuple[str, str]]:
    """(group, kind) of every resource the golden renders of the flavour's examples compose."""
    out = set()
    for golden in sorted((ROOT / "tests" / "golden").glob(f"*-{flavour}.yaml")):
        out |= {activation.group_kind(doc) for doc in [d for d in yaml.safe_load_all(golden.read_text()) if d][1:]}
    return frozenset(out)


def test_activation_policies_are_valid_for_crossplane(tools: xp.Tools) -> None:
    """Every apis/*/activation.yaml validates against core Crossplane's ManagedResourceActivationPolicy CRD (the
    pinned core's: apiextensions.crossplane.io/v1alpha1, spec.activate)."""
    files = sorted((ROOT / "apis").glob("*/activation.yaml"))
    assert len(files) == len(ALL)
    report = xp.validate("---\n".join(f.read_text() for f in files), tool=tools)
    assert report["summary"] == {"total": len(ALL), "valid": len(ALL), "invalid": 0, "missingSchemas": 0}, report


def test_compositions_name_the_function_as_its_dependency_installs_it(built: Built) -> None:
    """Crossplane installs a dependency under the DNS label of its repository path (xpkg.ToDNSLabel); the
    Compositions must reference the function by that name or they never find it."""
    assert package_name("xpkg.crossplane.io/crossplane-contrib/provider-helm") == "crossplane-contrib-provider-helm"
    assert package_name("xpkg.upbound.io/upbound/provider-aws-rds") == "upbound-provider-aws-rds"
    assert package_name(FUNCTION_PACKAGE) == FUNCTION_NAME
    for flavour in packages.FLAVOURS:
        composition = _one(built[(flavour, CORE)], "Composition")
        assert [s["functionRef"]["name"] for s in composition["spec"]["pipeline"]] == [FUNCTION_NAME]
    development = yaml.safe_load((ROOT / "examples" / "functions.yaml").read_text())
    assert development["metadata"]["name"] == FUNCTION_NAME
    assert development["spec"]["package"] == f"{FUNCTION_PACKAGE}:v{__version__}"


def test_generated_package_metadata_is_committed() -> None:
    """apis/*/crossplane.yaml and apis/*/activation.yaml are exactly what `make generate` writes from what the
    function composes and hack/providers.yaml."""
    for relative, document in packages.generated_files().items():
        committed = yaml.safe_load((ROOT / relative).read_text())
        assert committed == document, f"{relative} is stale: run `make generate`"


def test_readme_table_of_configurations_is_current() -> None:
    """README's table of the Configurations (what each depends on and activates) is what `make generate` writes."""
    readme = (ROOT / "README.md").read_text()
    assert packages.CONFIGURATIONS_BEGIN in readme
    assert readme == packages.with_configurations(readme), "README's table of Configurations is stale: make generate"
