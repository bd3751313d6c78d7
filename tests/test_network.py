"""NetworkPolicies, checked the way a CNI enforces them: every connection a workload is wired for is allowed, and
every other pair is not.

What a workload is wired to is read independently of the policies: the in-cluster hostnames in everything the
workload is given (its env, args and mounted config, the Secrets it reads, LibreChat's chart values), resolved to
the Services they name and the pods those select. The policies are then evaluated with NetworkPolicy semantics
(a pod selected by a policy of a type is isolated for it; a connection needs the source's egress and the
destination's ingress), in both of the CNIs' readings of ipBlock: matching only addresses outside the cluster
(Cilium, GKE Dataplane V2), or any address, pods' included (Calico). In-cluster calls must work on the first
(so they are allowed by selector) and nothing else may on the second (so the internet rule excepts the
cluster's networks, which the platform names: CLUSTER_NETWORKS here). Port 53 reaches the cluster's DNS and
nothing else: the DNS pods by namespace and labels, and the addresses the platform names for a DNS outside the
pod network (a hostNetwork NodeLocal DNSCache, modelled as an address outside the pod network, as GKE's
Dataplane V2 and Calico match it).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from function.services.network import DNS_PORTS
from tests.helpers import basic_spec, desired, fatal, namespaced_xr, request, required_for, run, yaml_docs
from tests.test_wiring import full_state

ROOT = Path(__file__).resolve().parent.parent
HOST = re.compile(r"([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local(?::([0-9]+))?")
NAMESPACE = "team-a"  # of the workspaces built here; the examples' own come from their state


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    labels: tuple[tuple[str, str], ...] = ()
    outside: bool = False  # outside the cluster (the internet, a cloud database): no policy of ours selects it
    address: str = ""  # its IP: a public one outside, one of the cluster's pod network inside

    @property
    def ip(self) -> str:
        return self.address or ("203.0.113.10" if self.outside else "10.244.7.7")

    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


@dataclass
class Cluster:
    pods: dict[str, Pod] = field(default_factory=dict)  # app -> pod
    policies: list[dict[str, Any]] = field(default_factory=list)
    service_ports: dict[str, list[int]] = field(default_factory=dict)  # app -> ports its Service exposes
    ipblock_matches_pods: bool = False  # Calico: an ipBlock matches a pod by its IP; Cilium: never a pod


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _peer_matches(peer: dict[str, Any], policy_namespace: str, pod: Pod, ipblock_matches_pods: bool) -> bool:
    if "ipBlock" in peer:  # an address in the block but its excepted ranges; a pod only on Calico
        if not pod.outside and not ipblock_matches_pods:
            return False
        address = ipaddress.ip_address(pod.ip)
        block = peer["ipBlock"]
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(e) for e in block.get("except", [])
        )
    if pod.outside:
        return False
    namespace_ok = (
        _selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": pod.namespace})
        if "namespaceSelector" in peer
        else pod.namespace == policy_namespace
    )
    pod_ok = _selects(peer["podSelector"], pod.label_map()) if "podSelector" in peer else True
    return namespace_ok and pod_ok


def _port_matches(rule: dict[str, Any], port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    return not ports or any(p.get("port") == port and p.get("protocol", "TCP") == protocol for p in ports)


def _allowed_one_way(cluster: Cluster, pod: Pod, peer: Pod, port: int, protocol: str, direction: str) -> bool:
    kind, peers = ("Ingress", "from") if direction == "ingress" else ("Egress", "to")
    if pod.outside:
        return True
    selecting = [
        p
        for p in cluster.policies
        if p["metadata"]["namespace"] == pod.namespace
        and kind in p["spec"]["policyTypes"]
        and _selects(p["spec"]["podSelector"], pod.label_map())
    ]
    if not selecting:
        return True
    return any(
        _port_matches(rule, port, protocol)
        and (
            peers not in rule
            or any(
                _peer_matches(x, policy["metadata"]["namespace"], peer, cluster.ipblock_matches_pods)
                for x in rule[peers]
            )
        )
        for policy in selecting
        for rule in policy["spec"].get(direction, [])
    )


def allowed(cluster: Cluster, source: Pod, destination: Pod, port: int, protocol: str = "TCP") -> bool:
    return _allowed_one_way(cluster, source, destination, port, protocol, "egress") and _allowed_one_way(
        cluster, destination, source, port, protocol, "ingress"
    )


def _manifests(state: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [b["spec"]["forProvider"]["manifest"] for b in state.values() if b["kind"] == "Object"]


def _data(state: dict[str, dict[str, Any]], kind: str, name: str, key: str | None = None) -> str:
    """The data of a Secret or ConfigMap the workspace composes (one key, or all), decoded."""
    for body in [*state.values(), *_manifests(state)]:
        if body.get("kind") == kind and body["metadata"]["name"] == name:
            data = {k: v for k, v in body.get("data", {}).items() if key is None or k == key}
            return " ".join(base64.b64decode(v).decode() if kind == "Secret" else v for v in data.values())
    return ""


def _pod_text(state: dict[str, dict[str, Any]], pod_spec: dict[str, Any]) -> str:
    """Everything a pod is given: its containers and the Secrets and ConfigMaps they read."""
    text = [json.dumps(pod_spec)]
    for container in [*pod_spec.get("initContainers", []), *pod_spec["containers"]]:
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                text.append(_data(state, "Secret", ref["name"], ref["key"]))
    for volume in pod_spec.get("volumes", []):
        if "configMap" in volume:
            text.append(_data(state, "ConfigMap", volume["configMap"]["name"]))
    return " ".join(text)


def _namespace(state: dict[str, dict[str, Any]]) -> str:
    return str(state["librechat-release"]["spec"]["forProvider"]["namespace"])


def wired(state: dict[str, dict[str, Any]]) -> tuple[Cluster, set[tuple[str, str, int]]]:
    """The cluster's pods and policies, and every (caller app, callee app, port) the wiring gives a workload."""
    cluster = Cluster()
    namespace = _namespace(state)
    services: dict[str, tuple[dict[str, str], int]] = {}
    texts: dict[str, str] = {}
    for manifest in _manifests(state):
        kind = manifest["kind"]
        if kind == "Service":
            selector, port = manifest["spec"]["selector"], int(manifest["spec"]["ports"][0]["port"])
            services[manifest["metadata"]["name"]] = (selector, port)
        elif kind == "NetworkPolicy":
            cluster.policies.append(manifest)
        elif kind in ("Deployment", "CronJob"):
            template = (
                manifest["spec"]["template"]
                if kind == "Deployment"
                else manifest["spec"]["jobTemplate"]["spec"]["template"]
            )
            labels = template["metadata"]["labels"]
            app = labels["app.kubernetes.io/name"]
            cluster.pods[app] = Pod(app, namespace, tuple(sorted(labels.items())))
            texts[app] = _pod_text(state, template["spec"])
    release = state["librechat-release"]["spec"]["forProvider"]
    fullname = release["values"]["fullnameOverride"]
    # The chart's pod labels (selectorLabels: the fullname and the release name) and what LibreChat is given.
    chart_labels = {"app.kubernetes.io/name": fullname, "app.kubernetes.io/instance": fullname}
    cluster.pods["librechat"] = Pod("librechat", namespace, tuple(sorted(chart_labels.items())))
    services[fullname] = (chart_labels, int(release["values"]["service"]["port"]))
    # The chart reads the whole env Secret (envFrom) and mounts librechat.yaml.
    texts["librechat"] = " ".join(
        [
            json.dumps(release["values"]),
            _data(state, "Secret", release["values"]["librechat"]["existingSecretName"]),
            _data(state, "ConfigMap", release["values"]["librechat"]["existingConfigYaml"]),
        ]
    )
    by_labels = {pod.labels: app for app, pod in cluster.pods.items()}
    for selector, port in services.values():
        target = next(app for labels, app in by_labels.items() if _selects({"matchLabels": selector}, dict(labels)))
        cluster.service_ports.setdefault(target, []).append(port)
    edges = set()
    for caller, text in texts.items():
        for service, called_namespace, port in HOST.findall(text):
            assert called_namespace == namespace, f"{caller} calls {service}.{called_namespace}"
            selector, service_port = services[service]
            callee = next(app for labels, app in by_labels.items() if _selects({"matchLabels": selector}, dict(labels)))
            edges.add((caller, callee, int(port or service_port)))
    return cluster, edges


# The cluster's pod and Service networks, as a platform names them in the Composition's input (clusterNetworks).
CLUSTER_NETWORKS = ["10.244.0.0/16", "10.96.0.0/12"]
CNIS = {"cilium": False, "calico": True}  # does an ipBlock match pods?


def _example_state(example: str, function_input: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    xr = yaml.safe_load((ROOT / "examples" / example / "xr.yaml").read_text())
    secrets = [d for d in yaml_docs(ROOT / "examples" / example / "required-resources.yaml") if d["kind"] == "Secret"]
    return full_state(xr, secrets, function_input=function_input)


OFFLINE = {"mongodb", "meilisearch", "redis", "pgvector", "firecrawl-postgres", "firecrawl-redis"} | {
    "backup",
    "mongodb-restore",
    "pgvector-restore",
}  # (the examples' backups go to a volume)
EXAMPLES = ["basic-namespaced", "plan-mixed-namespaced", "gpu-models-namespaced", "operations-namespaced"]


@pytest.mark.parametrize("cni", sorted(CNIS))
@pytest.mark.parametrize("example", EXAMPLES)
def test_every_wired_connection_is_allowed_and_no_other(example: str, cni: str) -> None:
    """Inside the workspace a connection is allowed exactly when the caller is wired to the callee's Service
    on that port; callers outside it (another team, a stranger pod in the namespace) reach nothing; the
    ingress controller reaches LibreChat only; the internet is reachable only by the parts that need it. On
    both readings of ipBlock (the platform naming its cluster networks)."""
    state = _example_state(example, {**INPUT, "clusterNetworks": CLUSTER_NETWORKS})
    cluster, edges = wired(state)
    cluster.ipblock_matches_pods = CNIS[cni]
    assert edges, "the scan must find the wiring"
    apps = sorted(cluster.pods)
    for source in apps:
        for destination in apps:
            for port in cluster.service_ports.get(destination, []):
                expected = (source, destination, port) in edges
                got = allowed(cluster, cluster.pods[source], cluster.pods[destination], port)
                assert got == expected, f"{source} -> {destination}:{port}: allowed={got}, wired={expected}"
    ingress = Pod("ingress-nginx-controller", "ingress-nginx", (("app", "ingress-nginx"),))
    other_team = Pod("other", "team-b", (("app.kubernetes.io/name", "librechat"),))
    stranger = Pod("stranger", _namespace(state), (("app", "debug"),))
    internet = Pod("internet", "", outside=True)
    for app in apps:
        pod = cluster.pods[app]
        for port in cluster.service_ports.get(app, []):
            assert allowed(cluster, ingress, pod, port) == (app == "librechat"), (app, port)
            assert not allowed(cluster, other_team, pod, port), app
            assert not allowed(cluster, stranger, pod, port), app
        # The datastores and a backup job writing to a volume never leave the cluster; the rest call out.
        assert allowed(cluster, pod, internet, 443) == (app not in OFFLINE), app
        assert allowed(cluster, pod, Pod("kube-dns", "kube-system", (("k8s-app", "kube-dns"),)), 53, "UDP"), app
        assert not allowed(cluster, pod, other_team, 3080), app


def test_backups_reach_their_database_and_the_bucket_only_when_uploading() -> None:
    """The backup job reaches every database, a restore job its own; they reach the internet only when the dumps
    are in a bucket."""
    state = _example_state("operations-namespaced")
    cluster, edges = wired(state)
    assert {("backup", "mongodb", 27017), ("backup", "pgvector", 5432)} <= edges
    assert {("mongodb-restore", "mongodb", 27017), ("pgvector-restore", "pgvector", 5432)} <= edges
    assert not allowed(cluster, cluster.pods["mongodb-restore"], cluster.pods["pgvector"], 5432)
    internet = Pod("internet", "", outside=True)
    for job in ("backup", "mongodb-restore", "pgvector-restore"):
        assert not allowed(cluster, cluster.pods[job], internet, 443)
    xr = yaml.safe_load((ROOT / "examples" / "operations-namespaced" / "xr.yaml").read_text())
    xr["spec"]["objectStorage"] = {
        "provider": "s3",
        "s3": {
            "endpoint": "https://minio.example.com",
            "bucket": "team-a-files",
            "accessKeyIdSecretRef": {"name": "s3", "key": "id"},
            "secretAccessKeySecretRef": {"name": "s3", "key": "secret"},
        },
    }
    secrets = [d for d in yaml_docs(ROOT / "examples" / "operations-namespaced" / "required-resources.yaml")]
    s3 = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s3", "namespace": NAMESPACE},
          "data": {"id": base64.b64encode(b"AKIAEXAMPLE000000000").decode(),
                   "secret": base64.b64encode(b"s3-secret-0123456789abcdef").decode()}}  # fmt: skip
    uploading, _ = wired(full_state(xr, [*secrets, s3]))
    for job in ("backup", "mongodb-restore", "pgvector-restore"):
        assert allowed(uploading, uploading.pods[job], internet, 443)


def test_opting_out_composes_no_policy() -> None:
    """spec.networkPolicies.enabled: false composes no NetworkPolicy."""
    xr = namespaced_xr()
    xr["spec"]["networkPolicies"] = {"enabled": False}
    secrets = [d for d in yaml_docs(ROOT / "examples" / "basic-namespaced" / "required-resources.yaml")]
    state: dict[str, dict[str, Any]] = {}
    for _ in range(3):  # the platform lets teams opt out (tenancy.networkPoliciesOptional)
        rsp = run(
            request(
                xr,
                observed=state,
                required=required_for(xr, secrets),
                function_input={**INPUT, "tenancy": {"networkPoliciesOptional": True}},
            )
        )
        assert fatal(rsp) is None, fatal(rsp)
        state = desired(rsp)
    assert not [m for m in _manifests(state) if m["kind"] == "NetworkPolicy"]


def _policies_of(xr: dict[str, Any], function_input: dict[str, Any]) -> tuple[Cluster, Pod]:
    """The workspace's policies as a Cluster, and LibreChat's pod (the chart's selector labels)."""
    secrets = [d for d in yaml_docs(ROOT / "examples" / "basic-namespaced" / "required-resources.yaml")]
    state: dict[str, dict[str, Any]] = {}
    for _ in range(3):  # until what waits for another resource is composed too
        rsp = run(request(xr, observed=state, required=required_for(xr, secrets), function_input=function_input))
        assert fatal(rsp) is None, fatal(rsp)
        state = desired(rsp)
    cluster = Cluster(policies=[m for m in _manifests(state) if m["kind"] == "NetworkPolicy"])
    fullname = state["librechat-release"]["spec"]["forProvider"]["values"]["fullnameOverride"]
    labels = {"app.kubernetes.io/name": fullname, "app.kubernetes.io/instance": fullname}
    return cluster, Pod("librechat", NAMESPACE, tuple(sorted(labels.items())))


INPUT = {"apiVersion": "aiworkspace.fn.crossplane.io/v1alpha1", "kind": "Input"}


def test_the_internet_never_means_the_metadata_service_or_the_cluster() -> None:
    """On a CNI whose ipBlock rules match cluster addresses (Calico), the internet rule excludes the metadata and
    link-local ranges and the cluster's pod and service networks the platform names: LibreChat reaches a public
    address, never 169.254.169.254 or another team's pod by its IP."""
    cluster, librechat = _policies_of(namespaced_xr(), {**INPUT, "clusterNetworks": ["10.244.0.0/16", "10.96.0.0/12"]})
    assert allowed(cluster, librechat, Pod("api", "", outside=True, address="203.0.113.10"), 443)
    for address in (
        "169.254.169.254",
        "169.254.170.2",
        "10.244.3.7",
        "10.96.0.1",
        "127.0.0.1",
        "fd00:ec2::254",
        "fd00:ec2::23",
        "::1",
    ):
        assert not allowed(cluster, librechat, Pod("x", "", outside=True, address=address), 443), address
    # A cloud database outside the cluster's networks stays reachable (the RAG API's RDS, say).
    assert allowed(cluster, librechat, Pod("rds", "", outside=True, address="10.20.3.4"), 443)


@pytest.mark.parametrize("cni", sorted(CNIS))
def test_services_a_team_names_are_reached_by_namespace_never_others(cni: str) -> None:
    """An MCP server in the workspace's namespace, and one in a namespace the platform allows, are reached on
    their port by selector (Cilium never matches pods with CIDR rules); a third namespace is not (Calico's
    ipBlock matching pods does not open it: the cluster's networks are excepted)."""
    spec = basic_spec()
    spec["librechat"]["mcpServers"] = [
        {"name": "own", "url": "http://tools.team-a.svc:8080/mcp"},
        {"name": "shared", "url": "http://search.mcp-shared.svc.cluster.local:9000/mcp"},
    ]
    function_input = {**INPUT, "tenancy": {"serviceNamespaces": ["mcp-shared"]}, "clusterNetworks": CLUSTER_NETWORKS}
    cluster, librechat = _policies_of(namespaced_xr(spec), function_input)
    cluster.ipblock_matches_pods = CNIS[cni]
    own = Pod("tools", NAMESPACE, (("app", "tools"),))
    shared = Pod("search", "mcp-shared", (("app", "search"),))
    other = Pod("db", "team-b", (("app", "db"),))
    assert allowed(cluster, librechat, own, 8080) and not allowed(cluster, librechat, own, 9000)
    assert allowed(cluster, librechat, shared, 9000) and not allowed(cluster, librechat, shared, 8080)
    assert not allowed(cluster, librechat, other, 8080) and not allowed(cluster, librechat, other, 9000)


# --- DNS: port 53 to the cluster's DNS only ------------------------------------------------------------------
DNS_POD = Pod("coredns", "kube-system", (("k8s-app", "kube-dns"),), address="10.244.0.10")
NODE_LOCAL_DNS = "169.254.20.10"


def dns_destinations(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """The destinations of a policy's one egress rule on port 53, failing when a rule names no destination (it
    would allow every address, on its ports or on all), or port 53 is allowed by more or fewer than one rule."""
    egress = policy["spec"]["egress"]
    name = policy["metadata"]["name"]
    open_rules = [rule for rule in egress if not rule.get("to")]
    assert not open_rules, f"{name}: an egress rule without destinations allows every address: {open_rules}"
    dns = [rule for rule in egress if {"protocol": "UDP", "port": 53} in rule.get("ports", [])]
    assert len(dns) == 1, f"{name}: {len(dns)} rules allow DNS"
    assert dns[0]["ports"] == DNS_PORTS, name
    return list(dns[0]["to"])


def test_the_dns_check_refuses_a_rule_without_destinations() -> None:
    """The check the DNS tests use catches the rule composed before: port 53 with no `to`, which allowed every
    address on the internet and every pod and node of the cluster."""
    policy = {"metadata": {"name": "chat-mongodb"}, "spec": {"egress": [{"ports": DNS_PORTS}]}}
    with pytest.raises(AssertionError, match="without destinations allows every address"):
        dns_destinations(policy)


def _pods(namespace: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        "podSelector": {"matchLabels": labels},
    }


@dataclass
class DnsCase:
    reason: str
    cluster_dns: dict[str, Any] | None  # the input's clusterDNS, None: not set
    want: list[dict[str, Any]]  # the DNS rule's destinations in every policy


DNS_CASES = [
    DnsCase(
        "Without clusterDNS, the pods CoreDNS and kube-dns run as on kubeadm, kind, k3s, EKS, GKE and AKS, and "
        "NodeLocal DNSCache's link-local address.",
        None,
        [_pods("kube-system", {"k8s-app": "kube-dns"}), {"ipBlock": {"cidr": "169.254.20.10/32"}}],
    ),
    DnsCase(
        "The platform's namespace and labels replace the defaults; a pod needs every label.",
        {"namespace": "dns", "podLabels": {"app.kubernetes.io/name": "coredns", "app.kubernetes.io/instance": "dns"}},
        [
            _pods("dns", {"app.kubernetes.io/instance": "dns", "app.kubernetes.io/name": "coredns"}),
            {"ipBlock": {"cidr": "169.254.20.10/32"}},
        ],
    ),
    DnsCase(
        "Naming no address leaves the DNS pods alone.",
        {"cidrs": []},
        [_pods("kube-system", {"k8s-app": "kube-dns"})],
    ),
    DnsCase(
        "Each CIDR becomes an ipBlock after the pods, as a network (host bits cleared), sorted, without repeats.",
        {"cidrs": ["169.254.20.10/32", "10.0.0.2/32", "169.254.20.10/32", "fd00:ec2::253/128", "10.1.2.3/16"]},
        [
            _pods("kube-system", {"k8s-app": "kube-dns"}),
            {"ipBlock": {"cidr": "10.0.0.2/32"}},
            {"ipBlock": {"cidr": "10.1.0.0/16"}},
            {"ipBlock": {"cidr": "169.254.20.10/32"}},
            {"ipBlock": {"cidr": "fd00:ec2::253/128"}},
        ],
    ),
]


@pytest.mark.parametrize("case", DNS_CASES, ids=lambda c: c.reason)
def test_dns_goes_to_the_destinations_the_input_names_and_no_other(case: DnsCase) -> None:
    function_input = {**INPUT, "clusterNetworks": CLUSTER_NETWORKS}
    if case.cluster_dns is not None:
        function_input["clusterDNS"] = case.cluster_dns
    policies = [
        m for m in _manifests(_example_state("operations-namespaced", function_input)) if m["kind"] == "NetworkPolicy"
    ]
    assert len(policies) > 10, "every workload of the example has a policy"
    for policy in policies:
        assert dns_destinations(policy) == case.want, (case.reason, policy["metadata"]["name"])


@pytest.mark.parametrize("cni", sorted(CNIS))
def test_port_53_reaches_the_clusters_dns_and_nothing_else(cni: str) -> None:
    """Every workload resolves names through the DNS pods, on UDP and TCP. None reaches port 53 of another
    namespace's pod (one labelled like the DNS pods included: the namespace is the platform's, the labels anyone's),
    of a kube-system pod without the DNS labels, or of the link-local NodeLocal DNSCache address when the input
    names no address (it is the default's); the datastores and a backup writing to a volume reach no internet
    address on it either (the parts that call out reach the internet on every port, port 53 as any other)."""
    function_input = {**INPUT, "clusterNetworks": CLUSTER_NETWORKS, "clusterDNS": {"cidrs": []}}
    state = _example_state("operations-namespaced", function_input)
    cluster, _ = wired(state)
    cluster.ipblock_matches_pods = CNIS[cni]
    squatter = Pod("fake-dns", "team-b", (("k8s-app", "kube-dns"),), address="10.244.9.9")
    other_system = Pod("metrics-server", "kube-system", (("k8s-app", "metrics-server"),), address="10.244.0.11")
    internet = Pod("resolver", "", outside=True, address="203.0.113.53")
    node_local = Pod("node-local-dns", "", outside=True, address=NODE_LOCAL_DNS)
    assert OFFLINE & set(cluster.pods), "the example runs datastores"
    for app, pod in sorted(cluster.pods.items()):
        for protocol in ("UDP", "TCP"):
            assert allowed(cluster, pod, DNS_POD, 53, protocol), (app, protocol)
            assert not allowed(cluster, pod, DNS_POD, 443, protocol), (app, protocol)
            assert not allowed(cluster, pod, squatter, 53, protocol), (app, protocol)
            assert not allowed(cluster, pod, other_system, 53, protocol), (app, protocol)
            assert not allowed(cluster, pod, node_local, 53, protocol), (app, protocol)
            assert allowed(cluster, pod, internet, 53, protocol) == (app not in OFFLINE), (app, protocol)


@pytest.mark.parametrize("cni", sorted(CNIS))
def test_a_dns_outside_the_pod_network_is_reached_on_port_53_only(cni: str) -> None:
    """With NodeLocal DNSCache's address in clusterDNS.cidrs, every workload reaches it on port 53, though the
    internet rule excepts link-local addresses; a datastore reaches it on no other port, and no neighbouring
    link-local address (the metadata service included) on port 53."""
    function_input = {
        **INPUT,
        "clusterNetworks": CLUSTER_NETWORKS,
        "clusterDNS": {"cidrs": [f"{NODE_LOCAL_DNS}/32"]},
    }
    cluster, _ = wired(_example_state("operations-namespaced", function_input))
    cluster.ipblock_matches_pods = CNIS[cni]
    node_local = Pod("node-local-dns", "", outside=True, address=NODE_LOCAL_DNS)
    for app, pod in sorted(cluster.pods.items()):
        for protocol in ("UDP", "TCP"):
            assert allowed(cluster, pod, node_local, 53, protocol), (app, protocol)
            assert allowed(cluster, pod, DNS_POD, 53, protocol), (app, protocol)
        assert not allowed(cluster, pod, node_local, 443), app
        for address in ("169.254.20.11", "169.254.169.254"):
            assert not allowed(cluster, pod, Pod("x", "", outside=True, address=address), 53, "UDP"), (app, address)


def test_the_platforms_dns_pods_replace_the_default_ones() -> None:
    """With the DNS pods named otherwise, workloads reach those and no longer kube-system's kube-dns pods."""
    function_input = {
        **INPUT,
        "clusterNetworks": CLUSTER_NETWORKS,
        "clusterDNS": {"namespace": "dns", "podLabels": {"app.kubernetes.io/name": "coredns"}},
    }
    cluster, _ = wired(_example_state("operations-namespaced", function_input))
    coredns = Pod("coredns", "dns", (("app.kubernetes.io/name", "coredns"),), address="10.244.0.12")
    for app, pod in sorted(cluster.pods.items()):
        assert allowed(cluster, pod, coredns, 53, "UDP"), app
        assert not allowed(cluster, pod, DNS_POD, 53, "UDP"), app


@pytest.mark.parametrize(
    ("reason", "cluster_dns", "want"),
    [
        (
            "No labels would select every pod of the namespace.",
            {"podLabels": {}},
            "Composition input clusterDNS.podLabels: Dictionary should have at least 1 item",
        ),
        (
            "A label key is a Kubernetes label key.",
            {"podLabels": {"k8s app": "kube-dns"}},
            "Composition input clusterDNS.podLabels: key 'k8s app' is not a label or annotation key",
        ),
        (
            "A label value is a Kubernetes label value.",
            {"podLabels": {"k8s-app": "kube dns"}},
            "Composition input clusterDNS.podLabels.k8s-app: 'kube dns' is not a label value",
        ),
        (
            "The namespace is a namespace's name.",
            {"namespace": "Kube_System"},
            "Composition input clusterDNS.namespace: 'Kube_System' is not a DNS label",
        ),
        (
            "A CIDR is a network in CIDR notation.",
            {"cidrs": ["169.254.20.10"]},
            "Composition input clusterDNS.cidrs.0: '169.254.20.10' is not a network in CIDR notation",
        ),
        (
            "An address the pattern admits is still checked.",
            {"cidrs": ["169.254.20.300/32"]},
            "Composition input clusterDNS.cidrs.0: '169.254.20.300/32' is not a CIDR",
        ),
        (
            "Port 53 to the whole internet is the channel this closes.",
            {"cidrs": ["0.0.0.0/0"]},
            "Composition input clusterDNS.cidrs: '0.0.0.0/0' is wider than a /8",
        ),
        (
            "Half of it is no better.",
            {"cidrs": ["128.0.0.0/1"]},
            "Composition input clusterDNS.cidrs: '128.0.0.0/1' is wider than a /8",
        ),
        (
            "The same for IPv6.",
            {"cidrs": ["::/0"]},
            "Composition input clusterDNS.cidrs: '::/0' is wider than a /32",
        ),
        (
            "A misspelt setting is refused, not ignored.",
            {"cidr": ["169.254.20.10/32"]},
            "Composition input clusterDNS.cidr: Extra inputs are not permitted",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and value.endswith(".") else "",
)
def test_a_bad_cluster_dns_is_fatal_naming_the_field(reason: str, cluster_dns: dict[str, Any], want: str) -> None:
    xr = namespaced_xr()
    secrets = [d for d in yaml_docs(ROOT / "examples" / "basic-namespaced" / "required-resources.yaml")]
    function_input = {**INPUT, "clusterDNS": cluster_dns}
    problem = fatal(run(request(xr, required=required_for(xr, secrets), function_input=function_input)))
    assert problem is not None and problem.startswith(want), (reason, problem)
