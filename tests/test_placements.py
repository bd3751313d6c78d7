"""Placements: a workspace in a workload cluster the platform defines, picked by spec.placement.

Everything of a placed workspace that runs goes through the placement's provider configs; its Secrets reach the
cluster through one Release whose values provider-helm reads from a control-plane Secret, so no managed resource's
spec holds a value; its cloud datastores take the placement's regions; a change of placement that would leave data
behind is refused with how to migrate. Without a placement nothing changes (the goldens of the other examples).
"""

from __future__ import annotations

import base64
import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import xp
import yaml

from function import placements, release
from function.input import platform_settings
from function.plan import team_key_name
from function.services import placement
from function.spec import SecretKeySelector, parse_spec
from tests.helpers import (
    carried_secrets,
    desired,
    fatal,
    namespaced_xr,
    request,
    required_for,
    run,
    secret,
    yaml_docs,
)
from tests.test_network import dns_destinations
from tests.test_wiring import example_state, full_state

ROOT = Path(__file__).resolve().parent.parent
REMOTE = ROOT / "examples" / "placement-remote-namespaced"
REMOTE_CLAIMS = ROOT / "examples" / "placement-remote-claims"
REGIONS = ROOT / "examples" / "placement-regions-namespaced"
OPENAI = secret("openai", {"api-key": "sk-placement-canary-0123456789"})
INPUT: dict[str, Any] = {
    "apiVersion": "aiworkspace.fn.crossplane.io/v1alpha1",
    "kind": "Input",
    "placements": [
        {
            "name": "eu",
            "helmProviderConfigName": "helm-eu",
            "kubernetesProviderConfigName": "kubernetes-eu",
            "regions": {"aws": ["eu-west-1", "eu-central-1"]},
            "ingress": {"className": "nginx-eu", "clusterIssuer": "issuer-eu"},
            "clusterNetworks": ["10.64.0.0/14"],
        },
        {
            "name": "us",
            "helmProviderConfigName": "helm-us",
            "kubernetesProviderConfigName": "kubernetes-us",
            "regions": {"aws": ["us-east-1"]},
            "namespaces": ["team-b"],
            "clusterNetworks": ["10.72.0.0/14"],
        },
    ],
}
# Keys of a carried Secret that say where a database is, not how to get in (the RDS username is ragadmin).
NOT_SECRET = {"host", "port", "username", "database"}
AWS_DATABASE = {
    "provider": "aws",
    "aws": {"subnetGroupName": "private", "securityGroupIds": ["sg-0a1b2c3d4e5f60000"]},
}


def _spec(**extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "librechat": {"domain": "chat.team-a.example.com"},
        "openai": {"enabled": True, "apiKeySecretRef": {"name": "openai", "key": "api-key"}},
    }
    spec.update(extra)
    return spec


def _compose(
    spec: dict[str, Any], observed: dict[str, dict[str, Any]] | None = None, function_input: dict[str, Any] = INPUT
) -> tuple[str | None, Any]:
    xr = namespaced_xr(spec)
    rsp = run(request(xr, observed=observed, required=required_for(xr, [OPENAI]), function_input=function_input))
    return fatal(rsp), desired(rsp)


def _state(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return full_state(namespaced_xr(spec), [OPENAI], function_input=INPUT)


def _string_values(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for value in node.values() for v in _string_values(value)]
    if isinstance(node, list):
        return [v for value in node for v in _string_values(value)]
    return [node] if isinstance(node, str) else []


@pytest.mark.parametrize("example", [REMOTE, REMOTE_CLAIMS, REGIONS], ids=lambda p: p.name)
def test_every_object_and_release_goes_through_the_placement(example: Path) -> None:
    """Every Object and Release of a placed workspace names the placement's provider configs, and nothing but its
    Secrets (the carrier's source) and cloud managed resources stays in the control plane."""
    _, state = example_state(example)
    placed = {p["name"]: p for p in xp.step_input(example)["placements"]}
    spec = yaml.safe_load((example / "xr.yaml").read_text())["spec"]
    chosen = placed[spec["placement"]]
    kinds = set()
    for key, body in state.items():
        kinds.add(body["kind"])
        if body["kind"] == "Object":
            assert body["spec"]["providerConfigRef"]["name"] == chosen["kubernetesProviderConfigName"], key
        elif body["kind"] == "Release":
            assert body["spec"]["providerConfigRef"]["name"] == chosen["helmProviderConfigName"], key
        else:
            assert body["kind"] == "Secret" or "upbound.io" in body["apiVersion"] or "Usage" in body["kind"], key
        assert body["metadata"]["annotations"]["aiworkspace.io/placement"] == spec["placement"], key
    assert {"Object", "Release", "Secret"} <= kinds


@pytest.mark.parametrize("example", [REMOTE, REMOTE_CLAIMS, REGIONS], ids=lambda p: p.name)
def test_no_secret_value_in_any_managed_resource(example: Path) -> None:
    """No value of any Secret (generated, copied from the team, or from a provider's connection details) appears
    anywhere in an Object's or a Release's body: the Secrets reach the cluster only through valuesFrom."""
    _, state = example_state(example)
    carried = carried_secrets(state)
    assert carried, "a placed workspace carries its Secrets"
    values = {
        base64.b64decode(value).decode()
        for body in carried
        for name, value in (body.get("data") or {}).items()
        if name not in NOT_SECRET and len(base64.b64decode(value)) >= 8
    }
    assert values
    for key, body in state.items():
        if body["kind"] == "Secret":
            continue
        text = json.dumps(body)
        leaked = sorted(v for v in values if v in text or base64.b64encode(v.encode()).decode() in text)
        assert not leaked, f"{key} holds a secret value"
    releases = [b for b in state.values() if b["kind"] == "Release"]
    carrier = next(b for b in releases if b["spec"]["forProvider"]["chart"]["name"] == release.SECRETS_CHART_NAME)
    assert carrier["spec"]["forProvider"]["values"] == {}
    assert [ref["secretKeyRef"]["key"] for ref in carrier["spec"]["forProvider"]["valuesFrom"]] == ["values.yaml"]
    manifests = [b["spec"]["forProvider"]["manifest"] for b in state.values() if b["kind"] == "Object"]
    assert not [m for m in manifests if m["kind"] == "Secret"], "no Secret is wrapped in an Object"


def test_the_chart_renders_the_carried_secrets_as_they_are(tools: xp.Tools) -> None:
    """helm template of the aiworkspace-secrets chart with the values the function composes gives each Secret with
    exactly its data, even when a value holds template text, quotes or line breaks: data never becomes code."""
    hostile = "{{ .Release.Name }}\"\n${X} $(id) '\x01"
    spec = _spec(placement="eu")
    openai = secret("openai", {"api-key": hostile})
    xr = namespaced_xr(spec)
    state = full_state(xr, [openai], function_input=INPUT)
    carried = carried_secrets(state)
    assert carried is not None
    document = base64.b64decode(state[placement.SECRET_KEY]["data"][placement.VALUES_KEY]).decode()
    proc = subprocess.run(
        [
            tools.helm,
            "template",
            "chat-workload-secrets",
            str(ROOT / "charts" / "aiworkspace-secrets"),
            "-n",
            "team-a",
            "-f",
            "-",
        ],
        input=document,
        capture_output=True,
        text=True,
        check=True,
    )
    rendered = {d["metadata"]["name"]: d for d in yaml.safe_load_all(proc.stdout) if d}
    assert set(rendered) == {c["metadata"]["name"] for c in carried}
    for want in carried:
        got = rendered[want["metadata"]["name"]]
        assert (got["kind"], got["metadata"]["namespace"]) == ("Secret", "team-a")
        assert (got.get("data") or {}) == want["data"]
    key = team_key_name(SecretKeySelector(name="openai", key="api-key"))
    assert base64.b64decode(rendered["chat-team-keys"]["data"][key]).decode() == hostile


def test_the_chart_pin_is_the_charts_own() -> None:
    """The chart the function installs is the version charts/aiworkspace-secrets says it is."""
    chart = yaml.safe_load((ROOT / "charts" / "aiworkspace-secrets" / "Chart.yaml").read_text())
    assert (chart["name"], chart["version"]) == (release.SECRETS_CHART_NAME, release.SECRETS_CHART_VERSION)


def test_workloads_read_the_teams_keys_from_the_workspaces_copy() -> None:
    """In a placement the team's Secret does not exist: the RAG API reads the workspace's copy, which the function
    fetches and carries; without a placement it reads the team's own Secret, as before."""
    placed = _state(_spec(placement="eu"))
    env = placed["rag-api-deployment"]["spec"]["forProvider"]["manifest"]["spec"]["template"]["spec"]["containers"][0]
    key = next(e for e in env["env"] if e["name"] == "RAG_OPENAI_API_KEY")["valueFrom"]["secretKeyRef"]
    assert key == {"name": "chat-team-keys", "key": "openai_api-key"}
    carried = {s["metadata"]["name"]: s for s in carried_secrets(placed) or []}
    assert (
        base64.b64decode(carried["chat-team-keys"]["data"]["openai_api-key"]).decode()
        == "sk-placement-canary-0123456789"
    )
    local = _state(_spec())
    env = local["rag-api-deployment"]["spec"]["forProvider"]["manifest"]["spec"]["template"]["spec"]["containers"][0]
    key = next(e for e in env["env"] if e["name"] == "RAG_OPENAI_API_KEY")["valueFrom"]["secretKeyRef"]
    assert key == {"name": "openai", "key": "api-key"}


def test_librechat_waits_for_its_secrets_in_the_cluster() -> None:
    """LibreChat's Release is not created before the Release carrying its env Secret is Ready there (the chart
    mounts the Secret as optional)."""
    problem, first = _compose(_spec(placement="eu"))
    assert problem is None and "librechat-release" not in first and "workload-secrets" in first
    state = _state(_spec(placement="eu"))
    assert "librechat-release" not in state, "the carrying Release is not Ready yet"
    ready = {k: {**v, "status": {"conditions": [{"type": "Ready", "status": "True"}]}} for k, v in state.items()}
    _, after = _compose(_spec(placement="eu"), ready)
    assert after["librechat-release"]["spec"]["providerConfigRef"]["name"] == "helm-eu"


def test_ingress_and_networks_come_from_the_placement() -> None:
    """The placement's IngressClass and ClusterIssuer apply where the team set none (a team's own win), and its
    cluster networks are what internet egress excludes."""
    state = _state(_spec(placement="eu"))
    policy = state["librechat-networkpolicy"]["spec"]["forProvider"]["manifest"]
    excepted = {
        c
        for rule in policy["spec"]["egress"]
        for to in rule.get("to", [])
        for c in to.get("ipBlock", {}).get("except", [])
    }
    assert "10.64.0.0/14" in excepted
    own = _spec(
        placement="eu",
        librechat={
            "domain": "chat.team-a.example.com",
            "ingress": {"className": "own", "tls": {"clusterIssuer": "letsencrypt"}},
        },
    )
    for spec, want in ((_spec(placement="eu"), ("nginx-eu", "issuer-eu")), (own, ("own", "letsencrypt"))):
        ready = {
            k: {**v, "status": {"conditions": [{"type": "Ready", "status": "True"}]}} for k, v in _state(spec).items()
        }
        _, after = _compose(spec, ready)
        ingress = after["librechat-release"]["spec"]["forProvider"]["values"]["ingress"]
        assert (ingress["className"], ingress["annotations"]["cert-manager.io/cluster-issuer"]) == want


@pytest.mark.parametrize(
    ("reason", "spec", "want"),
    [
        (
            "A placement the platform does not define is refused, naming the field and the placements offered.",
            _spec(placement="mars"),
            "spec.placement: 'mars' is not a placement the platform defines (placements here: eu)",
        ),
        (
            "A placement kept for other namespaces is refused like an unknown one.",
            _spec(placement="us"),
            "spec.placement: 'us' is not offered to namespace team-a",
        ),
        (
            "A team's region outside the placement's is refused, with the placement's regions.",
            _spec(placement="eu", database={**AWS_DATABASE, "aws": {**AWS_DATABASE["aws"], "region": "us-east-1"}}),
            "spec.database.aws.region: 'us-east-1' is not a region of placement eu (eu-west-1, eu-central-1)",
        ),
        (
            "A cloud the placement puts no datastores on is refused.",
            _spec(placement="eu", objectStorage={"provider": "gcp", "gcp": {}}),
            "spec.objectStorage.provider: placement eu puts no datastores on gcp",
        ),
        (
            "Without a placement a cloud datastore needs its region (the admission rule, in the function too).",
            _spec(database=AWS_DATABASE),
            "spec.database.aws.region: required without spec.placement",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and value.endswith(".") else "",
)
def test_refused(reason: str, spec: dict[str, Any], want: str) -> None:
    problem, _ = _compose(spec)
    assert problem is not None and want in problem, reason


def test_regions_default_to_the_placements() -> None:
    """A cloud datastore without a region goes to the placement's first; a team may name another of its regions."""
    _, state = _compose(_spec(placement="eu", database=AWS_DATABASE))
    assert state["aws-database-instance"]["spec"]["forProvider"]["region"] == "eu-west-1"
    chosen = {**AWS_DATABASE, "aws": {**AWS_DATABASE["aws"], "region": "eu-central-1"}}
    _, state = _compose(_spec(placement="eu", database=chosen))
    assert state["aws-database-instance"]["spec"]["forProvider"]["region"] == "eu-central-1"


def _observed(state: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the cluster reports for a state: every resource, named, Ready."""
    out = {}
    for key, composed in state.items():
        body = copy.deepcopy(composed)
        body["metadata"].setdefault("name", f"chat-{key}")
        body["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
        out[key] = body
    return out


@pytest.mark.parametrize(
    ("reason", "before", "after", "refused"),
    [
        (
            "Moving a workspace with volumes from the control plane's cluster to a placement is refused.",
            _spec(),
            _spec(placement="eu"),
            "spec.placement: the workspace holds data in the control plane's cluster",
        ),
        (
            "Moving it back from a placement to the control plane's cluster is refused the same way.",
            _spec(placement="eu"),
            _spec(),
            "spec.placement: the workspace holds data in placement eu",
        ),
        (
            "DropData lets a workspace start empty in the new placement.",
            _spec(),
            _spec(placement="eu", placementChangePolicy="DropData"),
            None,
        ),
        (
            "A cloud database never changes region, even with DropData.",
            _spec(database={**AWS_DATABASE, "aws": {**AWS_DATABASE["aws"], "region": "eu-central-1"}}),
            _spec(placement="eu", database=AWS_DATABASE, placementChangePolicy="DropData"),
            "a cloud database or bucket never changes region",
        ),
        (
            "Picking a placement whose cluster and regions are where the data is moves nothing, so nothing is refused.",
            _spec(placement="eu", database=AWS_DATABASE),
            _spec(placement="eu", database={**AWS_DATABASE, "aws": {**AWS_DATABASE["aws"], "region": "eu-west-1"}}),
            None,
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and value.endswith(".") else "",
)
def test_moving_a_workspace_with_data(
    reason: str, before: dict[str, Any], after: dict[str, Any], refused: str | None
) -> None:
    observed = _observed(_state(before))
    problem, state = _compose(after, observed)
    if refused is None:
        assert problem is None, reason
        return
    assert problem is not None and refused in problem, reason
    for step in ("back up", "new workspace", "restore"):
        assert step in problem, f"{reason} The message says how to migrate: {step}"


def test_duplicate_placement_names_are_refused() -> None:
    """Two placements of one name in the input are the platform's error, named as such."""
    doubled = {**INPUT, "placements": [INPUT["placements"][0], INPUT["placements"][0]]}
    xr = namespaced_xr(_spec())
    rsp = run(request(xr, required=required_for(xr, [OPENAI]), function_input=doubled))
    problem = fatal(rsp)
    assert problem is not None and "Composition input placements" in problem and "eu named twice" in problem


@pytest.mark.parametrize(
    ("reason", "changed", "want"),
    [
        (
            "A placement naming the input's own helm config would render its carried Secrets over the ones Crossplane "
            "composes in the control plane's namespace.",
            {"helmProviderConfigName": "default"},
            "Composition input placements.0.helmProviderConfigName: 'default' (placement eu) is the input's own",
        ),
        (
            "The same for the kubernetes config.",
            {"kubernetesProviderConfigName": "default"},
            "Composition input placements.0.kubernetesProviderConfigName: 'default' (placement eu) is the input's own",
        ),
        (
            "A placement's cluster networks are its own: the input's are the control plane's.",
            {"clusterNetworks": None},
            "Composition input placements.0.clusterNetworks: Field required",
        ),
        (
            "An empty list of them is no better.",
            {"clusterNetworks": []},
            "Composition input placements.0.clusterNetworks: Tuple should have at least 1 item",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and value.endswith(".") else "",
)
def test_a_placement_is_another_cluster(reason: str, changed: dict[str, Any], want: str) -> None:
    eu = {k: v for k, v in {**INPUT["placements"][0], **changed}.items() if v is not None}
    function_input = {**INPUT, "placements": [eu, *INPUT["placements"][1:]]}
    xr = namespaced_xr(_spec())
    problem = fatal(run(request(xr, required=required_for(xr, [OPENAI]), function_input=function_input)))
    assert problem is not None and want in problem, reason
    # It is the name the input gives its own configs that counts: with those named otherwise, "default" is a placement.
    named = {**function_input, "helmProviderConfigName": "cp", "kubernetesProviderConfigName": "cp"}
    if "default" in changed.values():
        assert fatal(run(request(xr, required=required_for(xr, [OPENAI]), function_input=named))) is None, reason


def test_without_a_placement_nothing_is_carried() -> None:
    """No placement: no carrier, no copy of the team's keys, no placement annotation (the other goldens show the
    rest is as before)."""
    state = _state(_spec())
    assert "workload-secrets" not in state and "workload-secrets-release" not in state
    assert carried_secrets(state) is None
    assert not [k for k, b in state.items() if "aiworkspace.io/placement" in b["metadata"].get("annotations", {})]
    assert yaml_docs(REMOTE / "required-resources.yaml")


def test_dropdata_is_consent_to_the_teams_move_only() -> None:
    """A workspace placed with DropData whose placement the platform points at another cluster: nothing the team
    asked for moves, so its volumes are not dropped; the change is refused, saying what the platform changed."""
    spec = _spec(placement="eu", placementChangePolicy="DropData")
    observed = _observed(_state(spec))
    moved = copy.deepcopy(INPUT)
    moved["placements"][0]["kubernetesProviderConfigName"] = "kubernetes-eu-2"
    problem, _ = _compose(spec, observed, function_input=moved)
    assert problem is not None and "placement eu now reaches" in problem and "point the placement back" in problem


def test_a_teams_own_certificate_gets_no_placement_issuer() -> None:
    """A team naming its own TLS Secret keeps it: the placement's default issuer goes only on Ingresses whose
    certificate nobody named (cert-manager would otherwise reissue into the team's Secret)."""
    [eu] = [p for p in platform_settings(INPUT).placements if p.name == "eu"]
    librechat = {"domain": "chat.team-a.example.com", "ingress": {"tls": {"secretName": "team-a-wildcard"}}}
    own = parse_spec(_spec(placement="eu", librechat=librechat))
    tls = placements.place(own, eu).librechat.ingress.tls
    assert tls.secret_name == "team-a-wildcard" and tls.cluster_issuer is None
    assert placements.place(parse_spec(_spec(placement="eu")), eu).librechat.ingress.tls.cluster_issuer == "issuer-eu"


def test_what_a_placement_fills_in_is_held_to_tenancy() -> None:
    """A placement whose region the platform's tenancy refuses cannot carry a team's database there: the team
    could not write that region itself, so the placement may not fill it in."""
    strict = copy.deepcopy(INPUT)
    strict["tenancy"] = {"aws": {"regions": ["eu-*"]}}
    xr = namespaced_xr(_spec(placement="us", database=AWS_DATABASE), namespace="team-b")
    rsp = run(request(xr, required=required_for(xr, [secret("openai", {"api-key": "sk-x"}, "team-b")]),
                      function_input=strict))  # fmt: skip
    problem = fatal(rsp)
    assert problem is not None and "placement us fills in what the platform's tenancy refuses" in problem
    assert "us-east-1" in problem


def test_no_cluster_the_platform_names_is_the_internet() -> None:
    """Internet egress excludes the networks of every cluster the platform names, wherever the workspace runs: a
    workload cluster that routes to the control plane must not reach its providers (which hold every cloud
    credential) as 'the internet', nor a workspace in the control plane a workload cluster's pods."""
    function_input = {**INPUT, "clusterNetworks": ["10.244.0.0/16"]}

    def excepted(spec: dict[str, Any]) -> set[str]:
        state = full_state(namespaced_xr(spec), [OPENAI], function_input=function_input)
        policy = state["librechat-networkpolicy"]["spec"]["forProvider"]["manifest"]
        return {
            c
            for rule in policy["spec"]["egress"]
            for to in rule.get("to", [])
            for c in to.get("ipBlock", {}).get("except", [])
        }

    every = {"10.244.0.0/16", "10.64.0.0/14", "10.72.0.0/14"}
    assert every <= excepted(_spec(placement="eu"))
    assert every <= excepted(_spec())


def test_one_cluster_has_one_set_of_networks() -> None:
    """Two placements naming one provider config (one cluster) with different clusterNetworks are refused: one of
    them would leave that cluster's own pods open to its workspaces."""
    shared = {**INPUT["placements"][1], "name": "shared", "namespaces": ["*"], "clusterNetworks": ["10.200.0.0/16"]}
    shared["kubernetesProviderConfigName"] = INPUT["placements"][0]["kubernetesProviderConfigName"]
    function_input = {**INPUT, "placements": [INPUT["placements"][0], shared]}
    problem, _ = _compose(_spec(), function_input=function_input)
    assert problem is not None and "Composition input placements.1.clusterNetworks: placement shared" in problem
    same = {**shared, "clusterNetworks": INPUT["placements"][0]["clusterNetworks"]}
    problem, _ = _compose(_spec(), function_input={**INPUT, "placements": [INPUT["placements"][0], same]})
    assert problem is None


def _dns_rules(state: dict[str, dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The destinations of every NetworkPolicy's DNS rule (port 53) in a state."""
    return [
        dns_destinations(body["spec"]["forProvider"]["manifest"])
        for key, body in sorted(state.items())
        if key.endswith("-networkpolicy")
    ]


def test_dns_is_the_clusters_the_workspace_runs_in() -> None:
    """Port 53 goes to the DNS of the cluster the workspace runs in: a placement's own clusterDNS there (the
    input's is the control plane's), the defaults for a placement that names none, and the input's without a
    placement. Never another cluster's: the DNS is where a pod's queries go, not a range to exclude."""
    resolver = {"cidrs": ["10.0.0.10/32"]}  # the control plane's cluster queries a resolver on its nodes
    eu = {**INPUT["placements"][0], "clusterDNS": {"namespace": "dns-eu", "podLabels": {"app": "coredns"}}}
    function_input = {**INPUT, "clusterDNS": resolver, "placements": [eu, INPUT["placements"][1]]}
    node_local = {"ipBlock": {"cidr": "169.254.20.10/32"}}  # the default cidrs
    default_pods = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }
    eu_pods = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "dns-eu"}},
        "podSelector": {"matchLabels": {"app": "coredns"}},
    }
    cases = [
        (_spec(placement="eu"), "team-a", [eu_pods, node_local]),
        (_spec(placement="us"), "team-b", [default_pods, node_local]),
        (_spec(), "team-a", [default_pods, {"ipBlock": {"cidr": "10.0.0.10/32"}}]),
    ]
    for spec, namespace, want in cases:
        openai = secret("openai", {"api-key": "sk-x"}, namespace)
        state = full_state(namespaced_xr(spec, namespace=namespace), [openai], function_input=function_input)
        rules = _dns_rules(state)
        assert rules and all(rule == want for rule in rules), (spec.get("placement"), rules[:1])


def test_one_cluster_has_one_dns() -> None:
    """Two placements naming one provider config (one cluster) with different clusterDNS are refused, naming the
    field: one of them would open port 53 to what is not that cluster's DNS. The same DNS written in another
    order is the same."""
    eu = {**INPUT["placements"][0], "clusterDNS": {"cidrs": ["169.254.20.10/32", "10.64.0.10/32"]}}
    shared = {**eu, "name": "shared", "clusterDNS": {"cidrs": ["169.254.20.10/32"]}}
    problem, _ = _compose(_spec(), function_input={**INPUT, "placements": [eu, shared]})
    assert problem is not None and problem.startswith("Composition input placements.1.clusterDNS: placement shared")
    assert "169.254.20.10/32 against pods k8s-app=kube-dns in kube-system and 10.64.0.10/32" in problem, problem
    same = {**shared, "clusterDNS": {"cidrs": ["10.64.0.10/32", "169.254.20.10/32"]}}
    problem, _ = _compose(_spec(), function_input={**INPUT, "placements": [eu, same]})
    assert problem is None, problem


def test_a_placements_bad_dns_is_fatal_naming_the_field() -> None:
    """A placement's clusterDNS is checked as the input's, and the error names the placement's field."""
    eu = {**INPUT["placements"][0], "clusterDNS": {"podLabels": {"k8s-app": "kube dns"}}}
    problem, _ = _compose(_spec(), function_input={**INPUT, "placements": [eu, INPUT["placements"][1]]})
    assert problem is not None
    assert problem.startswith("Composition input placements.0.clusterDNS.podLabels.k8s-app: 'kube dns' is not a label")


def test_the_platform_repointing_the_inputs_config_keeps_volumes_where_they_are() -> None:
    """Without a placement before or after, a change of the input's kubernetesProviderConfigName would start every
    workspace's volumes empty wherever the new config points: refused, naming what changed and how to migrate."""
    observed = _observed(_state(_spec()))
    problem, _ = _compose(_spec(), observed, {**INPUT, "kubernetesProviderConfigName": "other-cluster"})
    assert problem is not None and "the platform changed the input's kubernetesProviderConfigName" in problem
    assert "the cluster of provider config default" in problem and "back up" in problem
    problem, _ = _compose(_spec(), observed)
    assert problem is None


def test_a_move_back_to_the_control_plane_names_the_configmaps_as_their_readers_ask() -> None:
    """A placed workspace's ConfigMaps are Objects under keys of their own: moving back to the control plane's
    cluster (DropData) composes the native ConfigMaps under their own keys, which Crossplane names as composed,
    not after the Objects it observed under the same key (it keeps a key's observed name across a change of
    kind), so LibreChat's chart and SearXNG find them by the names they ask for."""
    placed = _observed(_state(_spec(placement="eu")))
    problem, back = _compose(_spec(placementChangePolicy="DropData"), placed)
    assert problem is None
    for key in ("librechat-config",):
        assert back[key]["kind"] == "ConfigMap" and key not in placed
        assert placed[f"{key}-object"]["kind"] == "Object"


def test_librechat_moves_only_once_its_secrets_are_there() -> None:
    """On a move (DropData), LibreChat's Release keeps its current state until the Secrets Release is Ready in the
    new cluster: naming the new provider config and reconciled there at its current generation (its Synced
    condition's observedGeneration), not Ready from the cluster it left. Otherwise LibreChat starts without its
    Secrets (the chart mounts them optional)."""
    eu2 = {**INPUT["placements"][0], "name": "eu2", "helmProviderConfigName": "helm-eu2"}
    eu2["kubernetesProviderConfigName"] = "kubernetes-eu2"
    function_input = {**INPUT, "placements": [*INPUT["placements"], eu2]}
    placed = _observed(_state(_spec(placement="eu")))
    # LibreChat's Release, composed once the Secrets Release is Ready in eu, and observed there.
    _, then = _compose(_spec(placement="eu"), placed, function_input)
    placed |= _observed({"librechat-release": then["librechat-release"]})
    moved = _spec(placement="eu2", placementChangePolicy="DropData")

    def librechat_config(observed: dict[str, dict[str, Any]]) -> str:
        problem, state = _compose(moved, observed, function_input)
        assert problem is None
        return str(state["librechat-release"]["spec"]["providerConfigRef"]["name"])

    assert librechat_config(placed) == "helm-eu"  # the Secrets Release is Ready, but in the cluster it left
    secrets = copy.deepcopy(placed["workload-secrets-release"])
    secrets["spec"]["providerConfigRef"]["name"] = "helm-eu2"
    secrets["metadata"]["generation"] = 2
    for observed_generation, want in ((1, "helm-eu"), (2, "helm-eu2")):
        secrets["status"] = {
            "conditions": [
                {"type": "Ready", "status": "True"},
                {"type": "Synced", "status": "True", "observedGeneration": observed_generation},
            ]
        }
        assert librechat_config({**placed, "workload-secrets-release": secrets}) == want, observed_generation
    # Without a move, Ready is enough, as before (a provider that stamps no observedGeneration holds nothing).
    assert then["librechat-release"]["spec"]["providerConfigRef"]["name"] == "helm-eu"
