"""No two workspaces of one namespace compose the same object: every name a workspace composes is
<workspace>-<part> for a part in plan.PARTS (fitted to its kind's limit), and a workspace name that would make one
workspace's <part> another's <ending>-<part> is refused (plan.RESERVED_ENDINGS)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from crossplane.function import resource

from function.plan import (
    CRON_JOB_NAME_LIMIT,
    NAME_LIMIT,
    PARTS,
    RELEASE_NAME_LIMIT,
    RESERVED_ENDINGS,
    check_name,
    fit,
)
from function.spec import SpecError
from tests.helpers import fatal, run

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hack"))
import bench  # noqa: E402

EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if (p / "xr.yaml").exists())
LIMITS = {
    "librechat": RELEASE_NAME_LIMIT,
    "backup": CRON_JOB_NAME_LIMIT,
    "mongodb-restore": CRON_JOB_NAME_LIMIT,
    "pgvector-restore": CRON_JOB_NAME_LIMIT,
}


def names(workspace: str) -> set[str]:
    """Every name a workspace may compose in its namespace (all parts at once, whatever its spec enables); the
    chart names LibreChat's ConfigMap after its fullname."""
    out = {fit(f"{workspace}-{part}", LIMITS.get(part, NAME_LIMIT)) for part in PARTS - {"librechat-configenv"}}
    return out | {f"{fit(f'{workspace}-librechat', RELEASE_NAME_LIMIT)}-configenv"}


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_composed_name_is_a_known_part(example: str) -> None:
    """What each example composes in the namespace is named <workspace>-<part> for a part of plan.PARTS, so the
    proof below covers everything a workspace composes."""
    req = bench.build_request(ROOT / "examples" / example)
    rsp = run(req)
    assert fatal(rsp) is None
    xr = resource.struct_to_dict(req.observed.composite.resource)
    workspace = xr["metadata"].get("labels", {}).get("crossplane.io/claim-name") or xr["metadata"]["name"]
    known = names(workspace)
    for key, composed in rsp.desired.resources.items():
        body = resource.struct_to_dict(composed.resource)
        manifest = body.get("spec", {}).get("forProvider", {}).get("manifest")
        if body.get("kind") in ("Secret", "ConfigMap"):
            manifest = body
        if manifest is not None:
            assert manifest["metadata"]["name"] in known, (key, manifest["metadata"]["name"])
        if body.get("kind") == "Release":
            assert body["metadata"]["annotations"]["crossplane.io/external-name"] in known, key


def admitted(name: str) -> bool:
    try:
        check_name(name)
    except SpecError:
        return False
    return True


BASES = ["chat", "c", "chat-a", "a-b-c", "team-ai-chat", "x" * 45, "z" * 60, "chat.v2", "9lives", "librechat"]
# Names made to collide: every base followed by every part and every reserved ending.
FAMILY = sorted(
    {*BASES, *(f"{b}-{p}" for b in BASES for p in PARTS), *(f"{b}-{e}" for b in BASES for e in RESERVED_ENDINGS)}
)


def test_no_two_admitted_workspaces_compose_one_name() -> None:
    """For every name a workspace composes and every way to read it as <other workspace>-<part>, the other
    workspace is the same one or its name is refused. Over a family of names made to collide (every base
    followed by every part), no two admitted workspaces share a name."""
    assert RESERVED_ENDINGS == ("firecrawl",)  # chat's firecrawl-redis is chat-firecrawl's redis
    owner: dict[str, str] = {}
    for workspace in filter(admitted, FAMILY):
        for name in names(workspace):
            assert owner.setdefault(name, workspace) == workspace, f"{workspace} and {owner[name]} compose {name}"
            for split in (m.start() for m in re.finditer("-", name)):
                other, part = name[:split], name[split + 1 :]
                if part in PARTS and other != workspace and admitted(other):
                    assert fit(f"{other}-{part}", LIMITS.get(part, NAME_LIMIT)) != name, (workspace, other, part)


def test_a_hashed_name_never_reads_as_a_part() -> None:
    """A name too long for its kind ends in an 8-hex-digit hash: no part ends in such a segment, so a fitted name
    can never be read as another workspace's <name>-<part>."""
    assert not [p for p in PARTS if re.search(r"(^|-)[0-9a-f]{8}$", p)]


def test_the_refusal_names_the_field_and_the_fix() -> None:
    with pytest.raises(SpecError, match=r"^metadata.name: chat-firecrawl ends in -firecrawl, so its parts"):
        check_name("chat-firecrawl")
    check_name("firecrawl")  # a workspace named firecrawl composes firecrawl-redis, which no other name reaches
    check_name("chat-firecrawls")
