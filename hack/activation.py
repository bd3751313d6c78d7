"""What each Configuration activates: the managed-resource kinds the function composes, per API flavour and part
(the core, or one cloud).

Derived, never listed. Every example of a flavour, and each branch no example takes (BRANCHES: a spec change,
never a kind), is composed by the function in-process as a control plane converges it: the example's observed
resources and Secrets fed in, each pass's composed resources fed back until nothing changes (as `make render`
does). A composed kind is a managed resource when a pinned provider's CRD defines it (the CRDs every render is
validated against, hack/xp.py crd_source). Crossplane v2.3.4's package manager turns each such CRD of a provider
package into a ManagedResourceDefinition of the same name (internal/converter/custom_to_managed.go keeps the
CRD's metadata), so a ManagedResourceActivationPolicy names it `<plural>.<group>`, the CRD's name. A kind belongs
to the cloud whose label its group carries (`rds.aws.m.upbound.io`: aws; the clouds are function/clouds' modules),
every other one to the core (`helm.m.crossplane.io`, `kubernetes.m.crossplane.io`).

    python hack/activation.py      # each flavour's parts and the MRD names they activate
"""

from __future__ import annotations

import copy
import functools
import pkgutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "hack"))

import bench  # noqa: E402
import xp  # noqa: E402
from crossplane.function import resource  # noqa: E402

import function.clouds  # noqa: E402

CORE = "core"
# One Configuration per cloud module of the function (function/clouds/<cloud>.py).
CLOUDS = tuple(sorted(m.name for m in pkgutil.iter_modules(function.clouds.__path__)))
PARTS = (CORE, *CLOUDS)

# Branches of the function that no example takes, as spec changes to the example of their cloud (both flavours):
# what a team may write there, not a kind. tests/test_package.py fails when a kind function/clouds/<cloud>.py
# composes is reached by neither an example nor a branch here.
BRANCHES: dict[str, list[dict[str, Any]]] = {
    # IRSA / EKS Pod Identity: the bucket policy attached to the team's role instead of a composed IAM user.
    "aws": [{"objectStorage": {"aws": {"roleArn": "arn:aws:iam::123456789012:role/team-a.librechat"}}}],
}


@dataclass(frozen=True, order=True)
class ManagedKind:
    """A managed-resource kind the function composes: its MRD name (<plural>.<group>), group and kind."""

    name: str
    group: str
    kind: str

    @property
    def part(self) -> str:
        return part_of(self.group)


def part_of(group: str) -> str:
    """The cloud whose label the group carries (rds.aws.m.upbound.io: aws), else the core."""
    labels = group.split(".")
    clouds = [cloud for cloud in CLOUDS if cloud in labels]
    return clouds[0] if clouds else CORE


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d] if path.exists() else []


def _merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in change.items():
        out[key] = _merge(out.get(key) or {}, value) if isinstance(value, dict) else copy.deepcopy(value)
    return out


def compose(example: Path, spec_change: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """What the function composes for an example (its spec changed by `spec_change`), converged: the Composition's
    own input, the Secrets the example holds, its observed resources with their connection details, and every
    other composed resource fed back as composed, until the desired set stops changing."""
    xr = yaml.safe_load((example / "xr.yaml").read_text())
    if spec_change:
        xr["spec"] = _merge(xr["spec"], spec_change)
    try:
        _, rsp = bench.converge(example, xr, xp.step_input(example))
    except RuntimeError as error:
        raise RuntimeError(f"{error} {spec_change or ''}") from None
    return [resource.struct_to_dict(r.resource) for r in rsp.desired.resources.values()]


def examples(flavour: str) -> list[Path]:
    return sorted(p for p in xp.EXAMPLES.iterdir() if (p / "xr.yaml").is_file() and xp.flavour_of(p) == flavour)


def group_kind(doc: dict[str, Any]) -> tuple[str, str]:
    api_version = str(doc["apiVersion"])
    return (api_version.rsplit("/", 1)[0] if "/" in api_version else "", str(doc["kind"]))


@functools.cache
def crd_names() -> dict[tuple[str, str], str]:
    """(group, kind) -> CRD name of every pinned provider's CRD (what its package's MRD is named)."""
    try:
        source = xp.crd_source()
    except xp.MissingCRDsError as error:
        raise SystemExit(f"activation: {error}") from None
    return {(d["spec"]["group"], d["spec"]["names"]["kind"]): d["metadata"]["name"] for d in xp.crd_documents(source)}


def managed(kinds: set[tuple[str, str]]) -> set[ManagedKind]:
    """The managed-resource kinds among composed (group, kind)s: those a pinned provider's CRD defines. A kind of a
    cloud group without one is an error (it would be composed but never activated)."""
    names = crd_names()
    out = set()
    for group, kind in kinds:
        if (group, kind) in names:
            out.add(ManagedKind(names[(group, kind)], group, kind))
        elif part_of(group) != CORE:
            raise SystemExit(
                f"activation: the function composes {kind}.{group}, which no pinned provider's CRD defines"
            )
    return out


@functools.cache
def _composed_by_example(flavour: str) -> dict[str, frozenset[tuple[str, str]]]:
    """Example name -> (group, kind) of everything the function composes for it, with its cloud's BRANCHES."""
    out: dict[str, frozenset[tuple[str, str]]] = {}
    branched: set[str] = set()
    for example in examples(flavour):
        kinds = {group_kind(doc) for doc in compose(example)}
        for cloud in sorted({part_of(group) for group, _ in kinds} - {CORE}):
            for change in BRANCHES.get(cloud, []):
                kinds |= {group_kind(doc) for doc in compose(example, change)}
            branched.add(cloud)
        out[example.name] = frozenset(kinds)
    if set(BRANCHES) - branched:
        missing = ", ".join(sorted(set(BRANCHES) - branched))
        raise SystemExit(f"activation: no {flavour} example composes on {missing}, to compose its branches on")
    return out


@functools.cache
def activations(flavour: str) -> dict[str, tuple[ManagedKind, ...]]:
    """Part -> the managed-resource kinds the function composes for it in this flavour, sorted by MRD name."""
    found = managed(set().union(*_composed_by_example(flavour).values()))
    return {part: tuple(sorted(k for k in found if k.part == part)) for part in PARTS}


def examples_of(flavour: str, part: str) -> list[str]:
    """The flavour's examples that compose on a cloud (for that cloud's package), or on none (for the core's)."""
    out = []
    for name, kinds in _composed_by_example(flavour).items():
        clouds = {part_of(group) for group, _ in kinds} - {CORE}
        if (part in clouds) if part != CORE else not clouds:
            out.append(name)
    return out


def main() -> int:
    for flavour in ("claims", "namespaced"):
        for part, kinds in activations(flavour).items():
            print(f"{flavour} {part}: {', '.join(k.name for k in kinds) or '-'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
