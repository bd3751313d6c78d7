"""A placed workspace's Secrets in its workload cluster, without their values in any managed resource's spec.

provider-kubernetes can copy a field of a control-plane Secret into an Object's manifest at apply time
(spec.references[].patchesFrom), but at the pinned v1.2.1 the copied value ends up in the Object's spec:
Observe patches it into the Object it holds (resolveReferencies, internal/controller/namespaced/object/object.go)
and crossplane-runtime's reconciler then writes that Object back to the API server before creating the external
resource (the external-create-pending update, pkg/reconciler/managed/reconciler.go at v2.0.0-rc.1). A copied
password then reads in plain text in spec.forProvider.manifest.data (crossplane-contrib/provider-kubernetes#223,
open; reproduced against the v1.2.1 binary). provider-helm reads a Release's valuesFrom at apply time into the
values it installs, never into the Release (composeValuesFromSpec, pkg/controller/namespaced/release/values.go at
v1.4.0). So, in a placement:

- every Secret the workspace composes stays in the control plane's namespace, as without a placement (the
  function reads its generated values back from there), and so do the team's own Secrets;
- one more control-plane Secret, <workspace>-workload-secrets, holds the values document listing each of them with
  its data (and, as <workspace>-team-keys, the keys of the team's Secrets its workloads read by reference);
- one Release of the aiworkspace-secrets chart (charts/aiworkspace-secrets, published with the packages), through
  the placement's provider-helm config, reads that document with valuesFrom and renders the Secrets in the
  workload cluster under the names the workloads reference. Its spec holds no value.
"""

from __future__ import annotations

import json

from function.plan import RELEASE_NAME_LIMIT, WORKLOAD_SECRETS_RELEASE, Draft, Part, team_key_name
from function.release import SECRETS_CHART_NAME, SECRETS_CHART_REPOSITORY, SECRETS_CHART_VERSION
from function.resources import Composed, helm_release, secret
from function.secrets import b64
from function.services import Context
from function.versions import Chart

COMPONENT = "placement"
VALUES_KEY = "values.yaml"  # the key provider-helm reads a valuesFrom Secret at by default
SECRET_KEY = "workload-secrets"
CHART = Chart(SECRETS_CHART_REPOSITORY, SECRETS_CHART_NAME, SECRETS_CHART_VERSION)


def plan_part(draft: Draft) -> Part:
    """In a placement: the control-plane Secret that carries the workspace's Secrets to the placement's cluster
    (also the name of the Release that installs them there), and the workspace's copy of the team's keys."""
    if draft.get("placement") is None:
        return Part({"team_keys_secret": "", "workload_secrets": ""})
    return Part(
        {
            "team_keys_secret": draft.name("team-keys"),
            "workload_secrets": draft.name("workload-secrets", RELEASE_NAME_LIMIT),
        }
    )


def _carried(ctx: Context, wanted: list[Composed]) -> dict[str, dict[str, str]]:
    """The data (base64, as a Secret holds it) of every Secret the workspace composes, by name: as composed, or
    as observed while a Secret is held (it never disappears from the workload cluster while it waits)."""
    out: dict[str, dict[str, str]] = {}
    for item in wanted:
        body = item.body
        if (body.get("apiVersion"), body.get("kind")) != ("v1", "Secret"):
            continue
        if item.hold is None:
            out[body["metadata"]["name"]] = dict(body.get("data") or {})
            continue
        observed = ctx.observed.data(item.key)
        if observed is not None:
            out[body["metadata"]["name"]] = observed
    plan = ctx.plan
    if plan.team_keys:
        out[plan.team_keys_secret] = {
            team_key_name(k.ref): b64(ctx.secrets.referenced(k.ref.name, k.ref.key)) for k in plan.team_keys
        }
    return out


def compose(ctx: Context, wanted: list[Composed]) -> list[Composed]:
    """Nothing without a placement; else the values Secret and the Release that renders it in the placement's
    cluster, which waits for it."""
    plan = ctx.plan
    if plan.placement is None:
        return []
    carried = _carried(ctx, wanted)
    document = {
        "secrets": [{"name": name, "data": dict(sorted(data.items()))} for name, data in sorted(carried.items())]
    }
    values = secret(
        plan,
        SECRET_KEY,
        COMPONENT,
        name=plan.workload_secrets,
        values={VALUES_KEY: json.dumps(document, sort_keys=True, separators=(",", ":"))},
    )
    release = helm_release(
        plan,
        WORKLOAD_SECRETS_RELEASE,
        COMPONENT,
        release_name=plan.workload_secrets,
        chart=CHART,
        values={},
        values_from=(plan.workload_secrets, VALUES_KEY),
        depends_on=(values.key,),
    )
    return [values, release]
