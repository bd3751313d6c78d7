"""What `make scale` creates and how it counts (hack/scale.py); the run itself is `make scale`, out of CI."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hack"))
import scale  # noqa: E402


def test_n_workspaces_each_in_its_namespace_with_its_teams_secrets() -> None:
    """N workspaces, the in-cluster examples in turn, each in a namespace of its own holding its team's Secrets,
    what the team names after its namespace following it; each expects its converged render's composed count."""
    docs, expected, examples = scale._workspaces("namespaced", 6)
    namespaces = [d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"]
    assert namespaces == [f"scale-{i:03d}" for i in range(6)] == list(expected)
    for namespace in namespaces:
        own = [d for d in docs if d["metadata"].get("namespace") == namespace]
        [workspace] = [d for d in own if d["kind"] == "AIWorkspace"]
        assert ".team-a.svc" not in str(workspace["spec"]), "a Service the team names follows its namespace"
        assert workspace["metadata"]["namespace"] == namespace
        assert all(d["kind"] in ("Secret", "AIWorkspace") for d in own)
    assert [examples[n] for n in namespaces] == [*scale.EXAMPLES["namespaced"], *scale.EXAMPLES["namespaced"][:2]]
    assert all(20 <= expected[n] <= 90 for n in namespaces), expected


def test_the_report_reads_as_a_table() -> None:
    phase = scale.Phase(12.0, 30, 25.0, 28, 2, 9.5, [scale.Process("crossplane", 4.0, 180.0)], 500, {"secrets": 40})
    report = scale.Report("namespaced", 4, {"basic-namespaced": 4}, 100, phase, phase)
    text = scale.markdown([report])
    assert "| namespaced | 4 | 100 | create | 12 | 30 | 25.0 | 28 / 2 | 9.5 |" in text
    assert "500 objects stored, most: secrets 40" in text and "4 s, 180 MiB" in text
