"""Names that always fit: every composed name is valid for its kind whatever the workspace is called, and a name
that already fits is left exactly as it is."""

from __future__ import annotations

import re
from typing import Any

import pytest

from function.k8s import label_value
from function.plan import fit
from tests.helpers import basic_spec, claims_xr, namespaced_xr, secret
from tests.test_wiring import full_state

DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# kind -> (pattern, longest name): a Service's name is a DNS-1035 label; a CronJob's Jobs append 11 characters.
LIMITS = {"Service": (DNS_1035, 63), "CronJob": (DNS_1123_LABEL, 52)}
OPENAI = secret("openai", {"api-key": "sk-test-0123456789abcdef"})


def _everything() -> dict[str, Any]:
    spec = basic_spec()
    spec["librechat"]["autoscaling"] = {"enabled": True, "maxReplicas": 1}
    spec.update(
        searxng={"enabled": True, "autoscaling": {"enabled": True}},
        firecrawl={"enabled": True, "workerAutoscaling": {"enabled": True}},
        speaches={"enabled": True},
        ollama={"enabled": True},
        monitoring={"enabled": True},
        backups={"enabled": True},
    )
    return spec


def _check(name: str, kind: str) -> None:
    pattern, limit = LIMITS.get(kind, (DNS_1035, 63))
    assert len(name) <= limit and pattern.fullmatch(name), f"{kind} {name!r} ({len(name)} characters)"


@pytest.mark.parametrize(
    "xr",
    [
        namespaced_xr(_everything(), name="a" * 63),
        namespaced_xr(_everything(), name="team.chat-" + "x" * 80),
        namespaced_xr(_everything(), name="1chat"),
        claims_xr(_everything()) | {"metadata": {"name": "c-x", "labels": {
            "crossplane.io/claim-name": "w" * 63, "crossplane.io/claim-namespace": "team-a"}}},
    ],
    ids=["63-characters", "dots-and-253ish", "leading-digit", "claim-63-characters"],
)  # fmt: skip
def test_every_composed_name_fits_its_kind(xr: dict[str, Any]) -> None:
    """Services are DNS-1035 labels, CronJobs at most 52 characters, every other object a 63-character label,
    the Helm release name at most 53, label values valid: for long names, dotted names, leading digits."""
    state = full_state(xr, [OPENAI])
    for key, body in state.items():
        if body["kind"] == "Object":
            manifest = body["spec"]["forProvider"]["manifest"]
            _check(manifest["metadata"]["name"], manifest["kind"])
            for value in manifest["metadata"].get("labels", {}).values():
                assert LABEL_VALUE.fullmatch(value) and len(value) <= 63, (key, value)
        elif body["kind"] in ("Secret", "ConfigMap"):
            _check(body["metadata"]["name"], body["kind"])
        elif body["kind"] == "Release":
            release = body["metadata"]["annotations"]["crossplane.io/external-name"]
            assert len(release) <= 53 and DNS_1035.fullmatch(release), release
            assert body["spec"]["forProvider"]["values"]["fullnameOverride"] == release


def test_names_that_fit_are_kept() -> None:
    """A name that is already valid and short enough is returned unchanged (golden files stay put)."""
    assert fit("chat-librechat") == "chat-librechat"
    assert fit("chat-librechat", 53) == "chat-librechat"
    assert label_value("chat") == "chat"


def test_fitted_names_are_stable_and_distinct() -> None:
    """The same long name always fits to the same result; two long names with one prefix never collide."""
    long_a, long_b = "a" * 70 + "-one", "a" * 70 + "-two"
    assert fit(long_a) == fit(long_a)
    assert fit(long_a) != fit(long_b)
    assert len(fit(long_a)) == 63 and DNS_1035.fullmatch(fit(long_a))
    assert fit("9lives") != "9lives" and DNS_1035.fullmatch(fit("9lives"))
