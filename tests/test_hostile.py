"""The hostile corpus (tests/hostile.py), each case refused naming its field: by the function in both flavours, and
by the API server's validation (crossplane resource validate) exactly where the case says admission can tell."""

from __future__ import annotations

from typing import Any

import pytest
import xp
import yaml

from tests.helpers import _secret_refs, fatal, request, required_for, results, run, secret
from tests.hostile import CORPUS, HARMS, Hostile

INPUT = {"apiVersion": "aiworkspace.fn.crossplane.io/v1alpha1", "kind": "Input"}


def xr_for(case: Hostile, flavour: str) -> dict[str, Any]:
    """The XR Crossplane would send for the case: namespaced, or the claims flavour's composite of a claim."""
    metadata: dict[str, Any] = {"name": case.name, "namespace": "team-a"}
    if flavour == "claims":
        labels = {"crossplane.io/claim-name": case.name, "crossplane.io/claim-namespace": "team-a"}
        metadata = {"name": f"{case.name}-x7k2p", "labels": labels}
    kind = "AIWorkspace" if flavour == "namespaced" else "CompositeAIWorkspace"
    return {"apiVersion": "aiworkspace.io/v1alpha1", "kind": kind, "metadata": metadata, "spec": case.full_spec()}


def secrets_for(case: Hostile) -> list[dict[str, Any]]:
    """Every Secret the case references, with the case's values where it gives them and harmless ones elsewhere."""
    data: dict[str, dict[str, str]] = {}
    for ref in _secret_refs(case.full_spec()):
        data.setdefault(ref.name, {})[ref.key] = f"value-of-{ref.name}-{ref.key}"
    for name, values in case.secrets.items():
        data.setdefault(name, {}).update(values)
    return [secret(name, values) for name, values in sorted(data.items())]


@pytest.mark.parametrize("flavour", ["namespaced", "claims"])
@pytest.mark.parametrize("case", CORPUS, ids=lambda c: f"{c.harm}: {c.reason}")
def test_the_function_refuses_it_naming_the_field(case: Hostile, flavour: str) -> None:
    xr = xr_for(case, flavour)
    function_input = {**INPUT, "tenancy": case.tenancy} if case.tenancy else INPUT
    rsp = run(request(xr, required=required_for(xr, secrets_for(case)), function_input=function_input))
    message = fatal(rsp)
    assert message is not None, f"composed: {case.reason} {results(rsp)}"
    assert message.startswith(f"{case.field}:") or f"; {case.field}:" in message, message
    assert not rsp.desired.resources, "a refused workspace composes nothing"


def test_admission_refuses_what_it_can_tell(tools: xp.Tools) -> None:
    """Each admission case is refused by the API server's validation naming its field, in both flavours (the
    namespaced XR and the claim); each function-only case is admitted, so the corpus says truly which layer
    refuses it."""
    docs = []
    for i, case in enumerate(CORPUS):
        for flavour in ("namespaced", "claims"):
            doc = {
                "apiVersion": "aiworkspace.io/v1alpha1",
                "kind": "AIWorkspace",
                "metadata": {"name": case.name, "namespace": f"hostile-{i}-{flavour}"},
                "spec": case.full_spec(),
            }
            docs.append(doc)
    report = xp.validate(yaml.safe_dump_all(docs), tool=tools)
    by_namespace = {r["namespace"]: r for r in report["resources"]}  # type: ignore[union-attr]
    for i, case in enumerate(CORPUS):
        for flavour in ("namespaced", "claims"):
            result = by_namespace[f"hostile-{i}-{flavour}"]
            said = " ".join(f"{e.get('field')} {e.get('message')}" for e in result.get("errors") or [])
            if case.admission:
                assert result["status"] == "invalid" and case.field in said, (case.reason, result)
            else:
                assert result["status"] == "valid", (case.reason, result)


def test_the_corpus_covers_every_class_of_harm() -> None:
    """Every class of harm the red team found has at least one case, and some cases only the function can see."""
    harms = {case.harm for case in CORPUS}
    assert harms >= set(HARMS)
    assert any(not case.admission for case in CORPUS) and any(case.admission for case in CORPUS)
