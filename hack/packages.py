"""The packages a platform team installs: the Function, and one Configuration per API flavour.

    python hack/packages.py build CROSSPLANE_CLI   # _output/*.xpkg: the Function and both Configurations, offline
    python hack/packages.py references             # where they are published, as shell assignments (RELEASING.md)

Each Configuration's package root is apis/<flavour>/: its XRD, its Composition and the crossplane.yaml
written here (by `make generate`). Its dependencies are the provider packages pinned in hack/providers.yaml,
the ones the tests validate every composed resource against, and this function at the version it is built
as: one source for every pin. Where they are published (registry, source) is function/release.py's; the
Function's package metadata (package/crossplane.yaml), examples/functions.yaml and the README's table of
packages are written here from it too.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from function import release  # noqa: E402
from function.__version__ import __version__  # noqa: E402
from function.xrds import FUNCTION_NAME, FUNCTION_PACKAGE, GROUP  # noqa: E402

PROVIDERS = ROOT / "hack" / "providers.yaml"
OUTPUT = ROOT / "_output"
FLAVOURS = release.FLAVOURS
CROSSPLANE_VERSION = ">=v2.2.0"
FLAVOUR_TEXT = {
    "claims": "Teams create an AIWorkspace claim in their namespace (a LegacyCluster CompositeAIWorkspace behind it).",
    "namespaced": "Teams create an AIWorkspace in their namespace (a Crossplane v2 namespaced composite resource).",
}


def pinned_providers() -> list[tuple[str, str]]:
    """(repository, version) of every provider package hack/providers.yaml pins, in file order."""
    out = []
    for document in yaml.safe_load_all(PROVIDERS.read_text()):
        if document and document.get("kind") == "Provider":
            repository, version = document["spec"]["package"].rsplit(":", 1)
            out.append((repository, version))
    return out


def function_version() -> str:
    return f"v{__version__}"


def configuration(flavour: str) -> dict[str, Any]:
    """The Configuration's crossplane.yaml: catalog metadata and a dependency on every package it composes with."""
    depends_on: list[dict[str, str]] = [
        {
            "apiVersion": "pkg.crossplane.io/v1",
            "kind": "Function",
            "package": FUNCTION_PACKAGE,
            "version": function_version(),
        }
    ]
    depends_on += [
        {"apiVersion": "pkg.crossplane.io/v1", "kind": "Provider", "package": repository, "version": version}
        for repository, version in pinned_providers()
    ]
    return {
        "apiVersion": "meta.pkg.crossplane.io/v1",
        "kind": "Configuration",
        "metadata": {
            "name": f"configuration-ai-workspace-{flavour}",
            "annotations": {
                "meta.crossplane.io/maintainer": release.MAINTAINER,
                "meta.crossplane.io/source": release.SOURCE,
                "meta.crossplane.io/license": release.LICENSE,
                "meta.crossplane.io/description": "A complete self-hosted AI workspace as one Kubernetes API: "
                "LibreChat wired to web search (SearXNG, Firecrawl), speech (Speaches or OpenAI), model providers "
                "(OpenAI, Anthropic, Ollama, vLLM), a database and object storage. "
                f"{FLAVOUR_TEXT[flavour]}",
                "meta.crossplane.io/readme": (
                    f"Offers the {GROUP} AIWorkspace API ({flavour} flavour).\n"
                    "After installing, create the seed of generated secrets once:\n"
                    "  kubectl -n crossplane-system create secret generic function-ai-workspace-seed "
                    '--from-literal=seed="$(openssl rand -hex 32)"\n'
                    "and a provider config named default for provider-helm and provider-kubernetes (and for the "
                    "cloud providers a workspace uses). See the project's README for every option."
                ),
            },
            "labels": {"aiworkspace.io/flavour": flavour},
        },
        "spec": {"crossplane": {"version": CROSSPLANE_VERSION}, "dependsOn": depends_on},
    }


def function_meta() -> dict[str, Any]:
    """The Function's crossplane.yaml (package/): catalog metadata."""
    return {
        "apiVersion": "meta.pkg.crossplane.io/v1",
        "kind": "Function",
        "metadata": {
            "name": FUNCTION_PACKAGE.rsplit("/", 1)[-1],
            "annotations": {
                "meta.crossplane.io/maintainer": release.MAINTAINER,
                "meta.crossplane.io/source": release.SOURCE,
                "meta.crossplane.io/license": release.LICENSE,
                "meta.crossplane.io/description": "Composes a complete self-hosted AI workspace from one AIWorkspace: "
                "LibreChat with its datastores, model providers and every URL and secret wired.",
                "meta.crossplane.io/readme": "See README.md: install the XRD and Composition of one flavour (claims "
                "or namespaced) from apis/, the seed Secret, provider-helm and provider-kubernetes.",
            },
        },
        "spec": {"crossplane": {"version": CROSSPLANE_VERSION}},
    }


def development_function() -> dict[str, Any]:
    """examples/functions.yaml: the function as `make render` runs it, under the name the Compositions call."""
    return {
        "apiVersion": "pkg.crossplane.io/v1",
        "kind": "Function",
        "metadata": {"name": FUNCTION_NAME, "annotations": {"render.crossplane.io/runtime": "Development"}},
        "spec": {"package": f"{FUNCTION_PACKAGE}:{function_version()}"},
    }


def generated_files() -> dict[str, dict[str, Any]]:
    return {
        "package/crossplane.yaml": function_meta(),
        "examples/functions.yaml": development_function(),
        **{f"apis/{flavour}/crossplane.yaml": configuration(flavour) for flavour in FLAVOURS},
    }


# What a generated file says about itself, after the header every generated file carries.
GENERATED_COMMENTS = {
    "examples/functions.yaml": "# The function, run locally for `make render` (Development runtime: render connects "
    "to a served function\n# instead of pulling the package).\n",
}

FUNCTION_XPKG = OUTPUT / f"{FUNCTION_PACKAGE.rsplit('/', 1)[-1]}.xpkg"


def configuration_xpkg(flavour: str) -> Path:
    return OUTPUT / f"configuration-ai-workspace-{flavour}.xpkg"


def flavour_examples(flavour: str, into: Path) -> Path:
    """What a team of this flavour writes, per example (a claim, or a namespaced XR), for a catalog to show."""
    wanted = "claim.yaml" if flavour == "claims" else "xr.yaml"
    for example in sorted((ROOT / "examples").glob(f"*-{flavour}")):
        if (example / wanted).is_file():
            (into / example.name).mkdir(parents=True)
            shutil.copyfile(example / wanted, into / example.name / wanted)
    return into


def package_files(staging: Path) -> dict[Path, tuple[Path, Path]]:
    """Package file -> (package root, examples root) for every package `make package` builds."""
    out = {FUNCTION_XPKG: (ROOT / "package", ROOT / "examples")}
    for flavour in FLAVOURS:
        out[configuration_xpkg(flavour)] = (ROOT / "apis" / flavour, flavour_examples(flavour, staging / flavour))
    return out


def build(crossplane: str) -> int:
    OUTPUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as staging:
        return _build(crossplane, Path(staging))


def _build(crossplane: str, staging: Path) -> int:
    for file, (root, examples) in package_files(staging).items():
        command = [crossplane, "xpkg", "build", f"--package-root={root}", f"--examples-root={examples}"]
        command.append(f"--package-file={file}")
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            where = root.relative_to(ROOT)
            print(f"crossplane xpkg build of {where} failed:\n{proc.stderr}{proc.stdout}", file=sys.stderr)
            return 1
        print(f"built {file.relative_to(ROOT)} from {root.relative_to(ROOT)}", file=sys.stderr)
    return 0


RELEASE_BEGIN = "<!-- release:begin (generated by `make generate` from function/release.py) -->"
RELEASE_END = "<!-- release:end -->"


def release_table() -> str:
    """The README's table of the packages and where they are published."""
    version = function_version()
    rows = [
        "| Package | Reference | Installed as |",
        "|---|---|---|",
        f"| Function | `{FUNCTION_PACKAGE}:{version}` | `{FUNCTION_NAME}` (the name the Compositions call) |",
    ]
    for flavour in FLAVOURS:
        repository = release.configuration_package(flavour)
        rows.append(f"| Configuration, {flavour} | `{repository}:{version}` | `{repository.rsplit('/', 1)[-1]}` |")
    return "\n".join(rows) + f"\n\nSource: <{release.SOURCE}>"


def with_release(readme: str) -> str:
    """README text with its generated table of packages replaced by the current one."""
    head, found, rest = readme.partition(RELEASE_BEGIN)
    if not found:
        raise ValueError(f"README.md has no {RELEASE_BEGIN}")
    _, _, tail = rest.partition(RELEASE_END)
    return f"{head}{RELEASE_BEGIN}\n{release_table()}\n{RELEASE_END}{tail}"


def references() -> dict[str, str]:
    """Where this version's packages are published and the files `make package` builds, for a release's commands."""
    out = {
        "VERSION": function_version(),
        "SOURCE": release.SOURCE,
        "FUNCTION_PACKAGE": FUNCTION_PACKAGE,
        "FUNCTION_XPKG": str(FUNCTION_XPKG.relative_to(ROOT)),
    }
    for flavour in FLAVOURS:
        out[f"CONFIGURATION_{flavour.upper()}"] = release.configuration_package(flavour)
        out[f"CONFIGURATION_{flavour.upper()}_XPKG"] = str(configuration_xpkg(flavour).relative_to(ROOT))
    return out


def main(argv: list[str]) -> int:
    if argv == ["references"]:
        print("\n".join(f"{name}={shlex.quote(value)}" for name, value in references().items()))
        return 0
    if argv[:1] != ["build"] or len(argv) != 2:
        print("usage: python hack/packages.py build CROSSPLANE_CLI | references", file=sys.stderr)
        return 2
    return build(argv[1])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
