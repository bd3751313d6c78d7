"""The packages a platform team installs: the Function, and per API flavour a core Configuration and one
Configuration per cloud.

    python hack/packages.py build CROSSPLANE_CLI   # _output/*.xpkg: the Function and every Configuration, offline
    python hack/packages.py references             # where they are published, as shell assignments (RELEASING.md)

The core Configuration of a flavour (package root apis/<flavour>/) is its XRD, its Composition, a
ManagedResourceActivationPolicy and the crossplane.yaml written here; it depends on this function and the
providers of what every workspace composes (provider-helm, provider-kubernetes), so it serves in-cluster
workspaces alone. A cloud's Configuration (apis/<flavour>-<cloud>/) depends on its flavour's core and on the
provider packages of the kinds the function composes on that cloud, and carries a ManagedResourceActivationPolicy
activating exactly those kinds. Both lists are derived by composing (hack/activation.py), never listed by hand;
each provider's version is the one hack/providers.yaml pins, the ones the tests validate every composed resource
against: one source for every pin. Where they are published (registry, source) is function/release.py's; the
Function's package metadata (package/crossplane.yaml), examples/functions.yaml and the README's tables of
packages and Configurations are written here from it too (by `make generate`).
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
sys.path.insert(0, str(ROOT / "hack"))

import activation  # noqa: E402
import runtime_image  # noqa: E402
from activation import CLOUDS, CORE, PARTS  # noqa: E402

from function import release  # noqa: E402
from function.__version__ import __version__  # noqa: E402
from function.xrds import FUNCTION_NAME, FUNCTION_PACKAGE, GROUP  # noqa: E402

PROVIDERS = ROOT / "hack" / "providers.yaml"
OUTPUT = ROOT / "_output"
FLAVOURS = release.FLAVOURS
CROSSPLANE_VERSION = ">=v2.2.0"
# The Configurations are published where function/release.py says, beside the function's package.
REGISTRY = release.REGISTRY
FLAVOUR_TEXT = {
    "claims": "Teams create an AIWorkspace claim in their namespace (a LegacyCluster CompositeAIWorkspace behind it).",
    "namespaced": "Teams create an AIWorkspace in their namespace (a Crossplane v2 namespaced composite resource).",
}
CLOUD_TEXT = {
    "aws": "AWS (RDS and S3)",
    "gcp": "GCP (Cloud SQL and Cloud Storage)",
    "azure": "Azure (flexible server and Blob Storage)",
}
MRAP_API_VERSION = "apiextensions.crossplane.io/v1alpha1"  # ManagedResourceActivationPolicy at Crossplane v2.3.4


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


def configuration_name(flavour: str, part: str = CORE) -> str:
    return f"configuration-ai-workspace-{flavour}" + ("" if part == CORE else f"-{part}")


def configuration_package(flavour: str, part: str = CORE) -> str:
    """The repository a Configuration is published to (and a cloud's dependency on its core names)."""
    return f"{REGISTRY}/{configuration_name(flavour, part)}"


def package_root(flavour: str, part: str = CORE) -> Path:
    return ROOT / "apis" / (flavour if part == CORE else f"{flavour}-{part}")


def serving(group: str) -> tuple[str, str] | None:
    """The pinned provider package that serves an API group, by the packages' naming: one package per service,
    provider-<cloud>-<service> serving <service>.<cloud>[.m].upbound.io (upjet's provider families), and
    provider-<name> serving <name>[.m].crossplane.io (crossplane-contrib's provider-helm, provider-kubernetes);
    None when no pinned package does."""
    labels = group.split(".")[:-2]  # without the domain (upbound.io, crossplane.io)
    if labels[-1:] == ["m"]:  # Crossplane v2's namespaced groups
        labels = labels[:-1]
    wanted = "provider-" + "-".join(reversed(labels))
    for repository, version in pinned_providers():
        if repository.rsplit("/", 1)[-1] == wanted:
            return repository, version
    return None


def provider_for(group: str) -> tuple[str, str]:
    """The pinned provider package of a group the function composes: one must serve it."""
    found = serving(group)
    if found is None:
        raise SystemExit(f"packages: no provider package in {PROVIDERS.relative_to(ROOT)} serves {group}")
    return found


def providers(flavour: str, part: str) -> list[tuple[str, str]]:
    """(repository, version) of the providers whose kinds the function composes for this part, in the order of
    hack/providers.yaml."""
    wanted = {provider_for(kind.group) for kind in activation.activations(flavour)[part]}
    return [pin for pin in pinned_providers() if pin in wanted]


def dependencies(flavour: str, part: str) -> list[dict[str, str]]:
    """The core: this function and its providers. A cloud: its flavour's core and that cloud's providers."""
    first = (
        {"kind": "Function", "package": FUNCTION_PACKAGE}
        if part == CORE
        else {"kind": "Configuration", "package": configuration_package(flavour)}
    )
    out = [{"apiVersion": "pkg.crossplane.io/v1", **first, "version": function_version()}]
    out += [
        {"apiVersion": "pkg.crossplane.io/v1", "kind": "Provider", "package": repository, "version": version}
        for repository, version in providers(flavour, part)
    ]
    return out


def activation_policy_name(flavour: str, part: str = CORE) -> str:
    return f"aiworkspace-{flavour}" + ("" if part == CORE else f"-{part}")


def activation_policy(flavour: str, part: str = CORE) -> dict[str, Any]:
    """The ManagedResourceActivationPolicy of a part: exactly the managed-resource kinds the function composes for
    it, by the name Crossplane gives their ManagedResourceDefinitions (<plural>.<group>)."""
    return {
        "apiVersion": MRAP_API_VERSION,
        "kind": "ManagedResourceActivationPolicy",
        "metadata": {
            "name": activation_policy_name(flavour, part),
            "labels": {"aiworkspace.io/flavour": flavour},
        },
        "spec": {"activate": [kind.name for kind in activation.activations(flavour)[part]]},
    }


def _description(flavour: str, part: str) -> str:
    if part == CORE:
        return (
            "A complete self-hosted AI workspace as one Kubernetes API: LibreChat wired to web search (SearXNG, "
            "Firecrawl), speech (Speaches or OpenAI), model providers (OpenAI, Anthropic, Ollama, vLLM), and its "
            "datastores in the cluster. Cloud databases and buckets come with the cloud's Configuration "
            f"({', '.join(configuration_name(flavour, cloud) for cloud in CLOUDS)}). {FLAVOUR_TEXT[flavour]}"
        )
    return (
        f"The AIWorkspace API's databases and buckets on {CLOUD_TEXT[part]}, {flavour} flavour: the provider "
        f"packages of what the function composes there, and an activation policy for exactly those kinds. Installs "
        f"{configuration_name(flavour)} with it."
    )


def _readme(flavour: str, part: str) -> str:
    policy = activation_policy_name(flavour, part)
    activates = (
        f"It activates the {len(activation.activations(flavour)[part])} managed-resource kinds the function "
        f"composes (ManagedResourceActivationPolicy {policy}); with Crossplane's default policy (activate *) "
        "every kind of the providers is active anyway: install Crossplane with provider.defaultActivations empty "
        "for the policy to matter.\n"
    )
    if part == CORE:
        return (
            f"Offers the {GROUP} AIWorkspace API ({flavour} flavour), with in-cluster datastores.\n"
            + activates
            + "After installing, create the seed of generated secrets once:\n"
            "  kubectl -n crossplane-system create secret generic function-ai-workspace-seed "
            '--from-literal=seed="$(openssl rand -hex 32)"\n'
            "and a provider config named default for provider-helm and provider-kubernetes. See the project's README "
            "for every option."
        )
    return (
        f"Lets AIWorkspaces ({flavour} flavour) put their RAG database and files on {CLOUD_TEXT[part]}.\n"
        + activates
        + "Give each provider a provider config named default (or the one a workspace names). See the project's "
        "README for the network and identity each cloud needs."
    )


def configuration(flavour: str, part: str = CORE) -> dict[str, Any]:
    """A Configuration's crossplane.yaml: catalog metadata and its dependencies."""
    labels = {"aiworkspace.io/flavour": flavour} | ({} if part == CORE else {"aiworkspace.io/cloud": part})
    return {
        "apiVersion": "meta.pkg.crossplane.io/v1",
        "kind": "Configuration",
        "metadata": {
            "name": configuration_name(flavour, part),
            "annotations": {
                "meta.crossplane.io/maintainer": release.MAINTAINER,
                "meta.crossplane.io/source": release.SOURCE,
                "meta.crossplane.io/license": release.LICENSE,
                "meta.crossplane.io/description": _description(flavour, part),
                "meta.crossplane.io/readme": _readme(flavour, part),
            },
            "labels": labels,
        },
        "spec": {"crossplane": {"version": CROSSPLANE_VERSION}, "dependsOn": dependencies(flavour, part)},
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


CONFIGURATIONS_BEGIN = "<!-- configurations:begin (generated by `make generate`) -->"
CONFIGURATIONS_END = "<!-- configurations:end -->"


def configurations_table() -> str:
    """The README's table of the Configurations: per part, what it depends on and the kinds its policy activates
    (the same kinds in both flavours; their definitions' names differ: .m. groups in the namespaced flavour)."""
    rows = [
        "| Configuration | Depends on | Its policy activates (namespaced flavour: the `.m.` groups) |",
        "|---|---|---|",
    ]
    for part in PARTS:
        kinds = {flavour: [(k.group.replace(".m.", "."), k.kind) for k in activation.activations(flavour)[part]]
                 for flavour in FLAVOURS}  # fmt: skip
        if len({tuple(v) for v in kinds.values()}) != 1:
            raise SystemExit(f"packages: the flavours compose different kinds for {part}: {kinds}")
        by_group: dict[str, list[str]] = {}
        for group, kind in sorted(kinds[FLAVOURS[0]]):
            by_group.setdefault(group, []).append(kind)
        activates = "; ".join(f"`{group}`: {', '.join(kinds)}" for group, kinds in by_group.items())
        name = configuration_name("<flavour>", part)
        depends = ", ".join(
            f"{d['package'].rsplit('/', 1)[-1]} {d['version']}" for d in dependencies(FLAVOURS[0], part)
        ).replace(configuration_name(FLAVOURS[0]), configuration_name("<flavour>"))
        rows.append(f"| `{name}` | {depends} | {activates} |")
    return "\n".join(rows)


def with_configurations(readme: str) -> str:
    """README text with its generated table of the Configurations replaced by the current one."""
    head, _, rest = readme.partition(CONFIGURATIONS_BEGIN)
    _, _, tail = rest.partition(CONFIGURATIONS_END)
    return f"{head}{CONFIGURATIONS_BEGIN}\n{configurations_table()}\n{CONFIGURATIONS_END}{tail}"


def development_function() -> dict[str, Any]:
    """examples/functions.yaml: the function as `make render` runs it, under the name the Compositions call."""
    return {
        "apiVersion": "pkg.crossplane.io/v1",
        "kind": "Function",
        "metadata": {"name": FUNCTION_NAME, "annotations": {"render.crossplane.io/runtime": "Development"}},
        "spec": {"package": f"{FUNCTION_PACKAGE}:{function_version()}"},
    }


def generated_files() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {
        "package/crossplane.yaml": function_meta(),
        "examples/functions.yaml": development_function(),
    }
    for flavour in FLAVOURS:
        for part in PARTS:
            root = package_root(flavour, part).relative_to(ROOT)
            out[f"{root}/crossplane.yaml"] = configuration(flavour, part)
            out[f"{root}/activation.yaml"] = activation_policy(flavour, part)
    return out


# What a generated file says about itself, after the header every generated file carries.
GENERATED_COMMENTS = {
    "examples/functions.yaml": "# The function, run locally for `make render` (Development runtime: render connects "
    "to a served function\n# instead of pulling the package).\n",
}

FUNCTION_XPKG = OUTPUT / f"{FUNCTION_PACKAGE.rsplit('/', 1)[-1]}.xpkg"


def configuration_xpkg(flavour: str, part: str = CORE) -> Path:
    return OUTPUT / f"{configuration_name(flavour, part)}.xpkg"


def part_examples(flavour: str, part: str, into: Path) -> Path:
    """What a team of this flavour writes (a claim, or a namespaced XR) in the examples of this part: those that
    compose on the cloud, or for the core those that compose on none; for a catalog to show."""
    wanted = "claim.yaml" if flavour == "claims" else "xr.yaml"
    into.mkdir(parents=True)
    for name in activation.examples_of(flavour, part):
        if (ROOT / "examples" / name / wanted).is_file():
            (into / name).mkdir()
            shutil.copyfile(ROOT / "examples" / name / wanted, into / name / wanted)
    return into


def package_files(staging: Path) -> dict[Path, tuple[Path, Path]]:
    """Package file -> (package root, examples root) for every package `make package` builds."""
    out = {FUNCTION_XPKG: (ROOT / "package", ROOT / "examples")}
    for flavour in FLAVOURS:
        for part in PARTS:
            examples = part_examples(flavour, part, staging / f"{flavour}-{part}")
            out[configuration_xpkg(flavour, part)] = (package_root(flavour, part), examples)
    return out


def build(crossplane: str) -> int:
    """Every package; the Function's with its runtime image embedded (hack/runtime_image.py builds it)."""
    OUTPUT.mkdir(exist_ok=True)
    try:
        runtime_image.build(runtime_image.IMAGE)
    except runtime_image.BuildError as error:
        print(f"the function's runtime image: {error}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as staging:
        return _build(crossplane, Path(staging))


def _build(crossplane: str, staging: Path) -> int:
    for file, (root, examples) in package_files(staging).items():
        command = [crossplane, "xpkg", "build", f"--package-root={root}", f"--examples-root={examples}"]
        command.append(f"--package-file={file}")
        if file == FUNCTION_XPKG:
            command.append(f"--embed-runtime-image-tarball={runtime_image.IMAGE}")
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
        for part in PARTS:
            repository = configuration_package(flavour, part)
            what = f"Configuration, {flavour}" + ("" if part == CORE else f", {part}")
            rows.append(f"| {what} | `{repository}:{version}` | `{repository.rsplit('/', 1)[-1]}` |")
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
        "SECRETS_CHART_REPOSITORY": release.SECRETS_CHART_REPOSITORY,
        "SECRETS_CHART_VERSION": release.SECRETS_CHART_VERSION,
    }
    for flavour in FLAVOURS:
        for part in PARTS:
            name = f"CONFIGURATION_{flavour.upper()}" + ("" if part == CORE else f"_{part.upper()}")
            out[name] = configuration_package(flavour, part)
            out[f"{name}_XPKG"] = str(configuration_xpkg(flavour, part).relative_to(ROOT))
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
