"""The upgrade proof of `make e2e`: a platform running the previous release upgrades to this tree, and nothing a team
owns is lost, replaced or churned.

The previous release is the commit hack/versions.env names (PREVIOUS_RELEASE), built the same way as this tree:
its own `hack/packages.py build`, and its runtime image from `hack/runtime_image.py` (its own when it has one;
a commit from before the image was built here gets this tree's builder and locks around its function/). Its
packages are published under the version `<its version>-previous.<commit>` (a semver pre-release, so below
this tree's). Fixture.up installs its Function and core Configuration, creates the basic workspace of the flavour
as that commit's examples write it, waits for it to be composed and its pods placed, observes, then upgrades the
Function and the Configuration to this tree's packages as a platform does (the same objects, a new package), waits
for the workspace to settle under the new Composition revision and function, and checks:
- every PersistentVolumeClaim the workspace had is still there with the same UID, and so is every Object and
  StatefulSet that holds one;
- every Secret of the team's namespace is still there with the same data (generated Secrets are not generated
  again);
- each Deployment and StatefulSet changed its spec at most once (one roll, not a flap).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hack"))

import runtime_image  # noqa: E402

VERSIONS = ROOT / "hack" / "versions.env"
NAMESPACE = "team-a"  # where the previous release's basic examples put their workspace


class UpgradeError(Exception):
    pass


def previous_commit() -> str:
    for line in VERSIONS.read_text().splitlines():
        if line.startswith("PREVIOUS_RELEASE="):
            return line.split("=", 1)[1].strip()
    raise UpgradeError(f"{VERSIONS.name} names no PREVIOUS_RELEASE")


@dataclass
class Previous:
    """The previous release, built: its commit, the version it is published as, and its package files."""

    commit: str
    tree: Path
    version: str
    function: Path
    configurations: dict[str, Path] = field(default_factory=dict)  # flavour -> core Configuration package

    def example(self, flavour: str) -> list[dict[str, Any]]:
        """What a team wrote with it: the flavour's basic example, its Secrets first."""
        folder = self.tree / "examples" / f"basic-{flavour}"
        team = "claim.yaml" if flavour == "claims" else "xr.yaml"
        return [
            doc
            for name in ("required-resources.yaml", team)
            for doc in yaml.safe_load_all((folder / name).read_text())
            if doc
        ]


def _run(command: list[str], cwd: Path, what: str) -> str:
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise UpgradeError(f"{what} failed ({proc.returncode}):\n{proc.stderr.strip()[-3000:]}")
    return proc.stdout


def previous_release(crossplane: str) -> Previous:
    """The previous release, built once per commit and image builder into the tools' cache (so that `make e2e`,
    which runs again inside its network namespace, finds it built there, with no network)."""
    commit = previous_commit()
    builder = hashlib.sha256()
    for part in ("hack/runtime_image.py", "hack/oci.py", "hack/runtime-debian.lock", "hack/runtime-wheels.lock"):
        builder.update((ROOT / part).read_bytes())
    home = runtime_image.CACHE / "previous" / f"{commit[:12]}-{builder.hexdigest()[:12]}"
    done = home / "built.json"
    if not done.is_file():
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        built = build_previous(crossplane, home)
        done.write_text(json.dumps({"version": built.version, "tree": built.tree.name}))
    recorded = json.loads(done.read_text())
    previous = Previous(commit, home / recorded["tree"], recorded["version"], home / recorded["tree"] / FUNCTION_XPKG)
    for flavour in ("claims", "namespaced"):
        previous.configurations[flavour] = previous.tree / "_output" / f"configuration-ai-workspace-{flavour}.xpkg"
    return previous


FUNCTION_XPKG = "_output/function-ai-workspace.xpkg"


def build_previous(crossplane: str, into: Path) -> Previous:
    """Check the previous release's files out of this clone's history and build its packages."""
    commit = previous_commit()

    def known() -> bool:
        found = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], check=False, cwd=ROOT,
                               capture_output=True)  # fmt: skip
        return found.returncode == 0

    if not known():  # a shallow clone: ask its origin for that one commit
        subprocess.run(["git", "fetch", "--quiet", "--depth=1", "origin", commit], cwd=ROOT, capture_output=True,
                       check=False, timeout=300)  # fmt: skip
    if not known():
        raise UpgradeError(
            f"the previous release {commit} is not in this clone's history (a shallow clone?): "
            "`git fetch --unshallow`, or clone without --depth"
        )
    tree = into / f"previous-{commit[:12]}"
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=ROOT, capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, filter="data")
    _run([sys.executable, "hack/packages.py", "build", crossplane], tree, f"the previous release's packages ({commit})")
    version_text = (tree / "function" / "__version__.py").read_text()
    version = version_text.split('"')[1]
    function = tree / FUNCTION_XPKG
    if not (tree / "hack" / "runtime_image.py").exists():
        # Before the image was built here: this tree's builder and locks around that commit's function/.
        image = tree / "_output" / "runtime-image.tar"
        runtime_image.build(image, source=tree)
        _run(
            [crossplane, "xpkg", "build", "--package-root=package", "--examples-root=examples",
             f"--embed-runtime-image-tarball={image}", f"--package-file={function}"],
            tree,
            "the previous release's Function package with its runtime image",
        )  # fmt: skip
    previous = Previous(commit, tree, f"v{version}-previous.{commit[:7]}", function)
    for flavour in ("claims", "namespaced"):
        previous.configurations[flavour] = tree / "_output" / f"configuration-ai-workspace-{flavour}.xpkg"
    missing = [p for p in [function, *previous.configurations.values()] if not p.is_file()]
    if missing:
        raise UpgradeError(f"the previous release's build wrote no {missing}")
    return previous


# What a team owns, observed before and after ------------------------------------------------------------------------


@dataclass
class Observed:
    claims: dict[str, str]  # PVC name -> UID
    holders: dict[str, str]  # "<kind>/<name>" of each StatefulSet and composed Object holding a volume -> UID
    secrets: dict[str, str]  # Secret name -> digest of its data
    generations: dict[str, int]  # "<kind>/<name>" of each Deployment and StatefulSet -> metadata.generation


def observe(get: Any, objects_resource: str) -> Observed:
    """The team namespace's volumes, their holders, Secrets and workloads; `get` is ControlPlane.get."""

    def items(*args: str) -> list[dict[str, Any]]:
        return list((get(*args) or {}).get("items") or [])

    claims = {c["metadata"]["name"]: c["metadata"]["uid"] for c in items("pvc", "-n", NAMESPACE)}
    holders, generations = {}, {}
    for kind in ("deployments", "statefulsets"):
        for workload in items(kind, "-n", NAMESPACE):
            key = f"{kind}/{workload['metadata']['name']}"
            generations[key] = int(workload["metadata"]["generation"])
            if kind == "statefulsets" and workload["spec"].get("volumeClaimTemplates"):
                holders[key] = workload["metadata"]["uid"]
    for composed in items(objects_resource, "-A"):
        manifest = composed.get("spec", {}).get("forProvider", {}).get("manifest", {})
        holds = manifest.get("kind") == "PersistentVolumeClaim" or (
            manifest.get("kind") == "StatefulSet" and manifest.get("spec", {}).get("volumeClaimTemplates")
        )
        if holds and manifest.get("metadata", {}).get("namespace") == NAMESPACE:
            holders[f"object/{composed['metadata']['name']}"] = composed["metadata"]["uid"]
    secrets = {
        s["metadata"]["name"]: hashlib.sha256(json.dumps(s.get("data") or {}, sort_keys=True).encode()).hexdigest()
        for s in items("secrets", "-n", NAMESPACE)
        if s.get("type") != "kubernetes.io/service-account-token"
    }
    return Observed(claims, holders, secrets, generations)


def compare(before: Observed, after: Observed) -> list[str]:
    """What the upgrade lost, replaced or churned; empty when nothing."""
    problems = []
    for what, old, new in (("PersistentVolumeClaim", before.claims, after.claims),
                           ("volume holder", before.holders, after.holders)):  # fmt: skip
        for name, uid in sorted(old.items()):
            if name not in new:
                problems.append(f"{what} {name} is gone")
            elif new[name] != uid:
                problems.append(f"{what} {name} was replaced (UID {uid} -> {new[name]})")
    for name, digest in sorted(before.secrets.items()):
        if name not in after.secrets:
            problems.append(f"Secret {name} is gone")
        elif after.secrets[name] != digest:
            problems.append(f"Secret {name} has other data")
    for name, generation in sorted(before.generations.items()):
        rolled = after.generations.get(name, generation) - generation
        if rolled > 1:
            problems.append(f"{name} changed its spec {rolled} times")
    return problems


def wait_settled(get: Any, objects_resource: str, seconds: float = 300) -> None:
    """Until the team's composed Objects stop changing (two looks a poll interval apart agree)."""
    deadline = time.monotonic() + seconds

    def versions() -> dict[str, str]:
        listed = (get(objects_resource, "-A") or {}).get("items") or []
        return {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in listed}

    last = versions()
    while time.monotonic() < deadline:
        time.sleep(float(os.environ.get("E2E_SETTLE_SECONDS", "12")))
        now = versions()
        if now == last:
            return
        last = now
    raise UpgradeError(f"the workspace's Objects kept changing for {seconds:.0f}s after the upgrade")
