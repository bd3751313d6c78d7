"""Observed state -> ready or not, per kind (what function-auto-ready does, plus kinds without conditions)."""

from __future__ import annotations

from typing import Any

# Kinds Crossplane applies directly that carry no status: they are ready once they exist.
_READY_WHEN_PRESENT = {("v1", "Secret"), ("v1", "ConfigMap")}


def condition(observed: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for cond in observed.get("status", {}).get("conditions", []) or []:
        if cond.get("type") == kind:
            return dict(cond)
    return None


def is_ready(observed: dict[str, Any] | None) -> bool:
    """Whether an observed composed resource is ready; a resource not yet observed never is."""
    if not observed:
        return False
    if (observed.get("apiVersion"), observed.get("kind")) in _READY_WHEN_PRESENT:
        return True
    ready = condition(observed, "Ready")
    return bool(ready and ready.get("status") == "True")


def waiting_reason(observed: dict[str, Any] | None) -> str:
    """Why a resource is not ready, in words an operator can act on."""
    if not observed:
        return "not created yet"
    synced = condition(observed, "Synced")
    if synced and synced.get("status") == "False":
        return f"not synced: {synced.get('message') or synced.get('reason', 'unknown')}"
    ready = condition(observed, "Ready")
    if ready and ready.get("message"):
        return f"{ready.get('reason', 'not ready')}: {ready['message']}"
    if ready:
        return str(ready.get("reason") or "not ready")
    return "waiting for the provider to report readiness"
