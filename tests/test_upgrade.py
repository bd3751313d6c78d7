"""The upgrade proof's judgement (hack/upgrade.py), which `make e2e` applies to a workspace the previous release
composed: each way an upgrade can hurt a team is caught, and an upgrade that hurts nothing passes. The previous
release it starts from is a commit this clone has."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import upgrade

ROOT = Path(__file__).resolve().parent.parent
OBJECTS = "objects.kubernetes.m.crossplane.io"


def _cluster(**changes: Any) -> dict[tuple[str, ...], dict[str, Any]]:
    """What `kubectl get` answers for the team's namespace: two volumes (one a StatefulSet's), their Objects,
    two Secrets, a Deployment."""
    pvcs = [
        {"metadata": {"name": "chat-files", "uid": changes.get("files_uid", "u-files")}},
        {"metadata": {"name": "data-chat-mongodb-0", "uid": "u-mongo"}},
    ]
    workloads = {
        "deployments": [{"metadata": {"name": "chat-librechat", "uid": "d1", "generation": changes.get("gen", 3)}}],
        "statefulsets": [
            {
                "metadata": {"name": "chat-mongodb", "uid": changes.get("sts_uid", "s1"), "generation": 1},
                "spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"}}]},
            }
        ],
    }
    objects = [
        {
            "metadata": {"name": "chat-files-pvc", "uid": "o1"},
            "spec": {
                "forProvider": {"manifest": {"kind": "PersistentVolumeClaim", "metadata": {"namespace": "team-a"}}}
            },
        },
        {
            "metadata": {"name": "chat-config", "uid": "o2"},
            "spec": {"forProvider": {"manifest": {"kind": "ConfigMap", "metadata": {"namespace": "team-a"}}}},
        },
    ]
    secrets = [
        {"metadata": {"name": "chat-generated"}, "data": {"key": changes.get("secret", "c2VjcmV0")}},
        {"metadata": {"name": "openai"}, "data": {"api-key": "c2s="}},
        {"metadata": {"name": "token"}, "type": "kubernetes.io/service-account-token", "data": {"t": "x"}},
    ]
    if changes.get("drop_secret"):
        secrets = secrets[1:]
    return {
        ("pvc", "-n", "team-a"): {"items": pvcs},
        ("deployments", "-n", "team-a"): {"items": workloads["deployments"]},
        ("statefulsets", "-n", "team-a"): {"items": workloads["statefulsets"]},
        (OBJECTS, "-A"): {"items": objects},
        ("secrets", "-n", "team-a"): {"items": secrets},
    }


def _observe(**changes: Any) -> upgrade.Observed:
    answers = _cluster(**changes)
    return upgrade.observe(lambda *args: answers.get(args), OBJECTS)


def test_observes_volumes_their_holders_secrets_and_workloads() -> None:
    seen = _observe()
    assert seen.claims == {"chat-files": "u-files", "data-chat-mongodb-0": "u-mongo"}
    assert seen.holders == {"statefulsets/chat-mongodb": "s1", "object/chat-files-pvc": "o1"}
    assert sorted(seen.secrets) == ["chat-generated", "openai"]  # a service account token is the cluster's
    assert seen.generations == {"deployments/chat-librechat": 3, "statefulsets/chat-mongodb": 1}


def test_an_upgrade_that_hurts_nothing_passes() -> None:
    assert upgrade.compare(_observe(), _observe(gen=4)) == []  # one roll is an upgrade


@pytest.mark.parametrize(
    ("after", "said"),
    [
        ({"files_uid": "u-new"}, "PersistentVolumeClaim chat-files was replaced"),
        ({"sts_uid": "s2"}, "volume holder statefulsets/chat-mongodb was replaced"),
        ({"secret": "b3RoZXI="}, "Secret chat-generated has other data"),
        ({"drop_secret": True}, "Secret chat-generated is gone"),
        ({"gen": 5}, "deployments/chat-librechat changed its spec 2 times"),
    ],
)
def test_each_harm_is_caught(after: dict[str, Any], said: str) -> None:
    problems = upgrade.compare(_observe(), _observe(**after))
    assert any(said in problem for problem in problems), problems


def test_the_previous_release_is_a_commit_of_this_repository() -> None:
    """PREVIOUS_RELEASE names a commit this clone has, and one before HEAD."""
    commit = upgrade.previous_commit()
    is_ancestor = subprocess.run(["git", "merge-base", "--is-ancestor", commit, "HEAD"], cwd=ROOT, check=False)
    assert is_ancestor.returncode == 0, f"{commit} is not an ancestor of HEAD"
