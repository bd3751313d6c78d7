"""Where a cluster's DNS answers, as the platform names it in the Composition's input (`clusterDNS`, and each
placement's own): the only destination a workspace's pods may reach on port 53.

A NetworkPolicy rule on port 53 without a destination lets every pod, the datastores included, talk TCP and UDP
to any host on the internet or any pod or node on that port: a channel out past the metadata and cluster
exclusions of the internet rule. So the DNS rule names the DNS pods, by their namespace and labels (CoreDNS and
kube-dns carry `k8s-app: kube-dns` in `kube-system` on kubeadm and kind, k3s, EKS, GKE and AKS), and the
addresses of a DNS the pod selector cannot see: a hostNetwork NodeLocal DNSCache on its link-local address
(169.254.20.10), GKE's Cloud DNS on the node's metadata server (169.254.169.254), a resolver on the nodes.
The internet rule excepts link-local ranges, so such an address is reached through this rule, on port 53 only.
"""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator

from function.strings import CIDR, LabelKey, LabelValue, NamespaceName
from function.tenancy import Settings

DEFAULT_NAMESPACE = "kube-system"
DEFAULT_POD_LABELS = {"k8s-app": "kube-dns"}
# NodeLocal DNSCache's conventional link-local address (on by default in GKE Autopilot, and in GKE Standard from
# 1.34): nothing else can listen there, so port 53 to it is allowed unless the platform names other addresses.
DEFAULT_CIDRS = ("169.254.20.10/32",)
# The widest network a DNS address may be given as: a host, a node subnet, a VPC; never "the internet".
MIN_PREFIX = {4: 8, 6: 32}


class ClusterDNS(Settings):
    """Where the pods of one cluster send DNS queries: the DNS pods, and the addresses of a DNS outside the pod
    network. Port 53 reaches nothing else."""

    namespace: NamespaceName = Field(
        default=DEFAULT_NAMESPACE, description="The namespace of the cluster's DNS pods (CoreDNS, kube-dns)."
    )
    pod_labels: dict[LabelKey, LabelValue] = Field(
        default_factory=lambda: dict(DEFAULT_POD_LABELS),
        min_length=1,
        description="Labels of the cluster's DNS pods (default k8s-app: kube-dns, which CoreDNS and kube-dns carry "
        "on kubeadm, kind, k3s, EKS, GKE and AKS). Every workload's DNS egress goes to the pods carrying all of "
        "them in that namespace.",
    )
    cidrs: tuple[CIDR, ...] = Field(
        default=DEFAULT_CIDRS,
        description="Addresses of a DNS that is not a pod the labels select, reached on port 53 only: NodeLocal "
        "DNSCache's link-local address (169.254.20.10/32, the default; its pods use the host's network), GKE's "
        "Cloud DNS (169.254.169.254/32), a resolver on the nodes. At most a /8 (IPv4) or a /32 (IPv6).",
    )

    @field_validator("cidrs")
    @classmethod
    def _not_the_internet(cls, cidrs: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in cidrs:
            network = ipaddress.ip_network(cidr, strict=False)
            if network.prefixlen < MIN_PREFIX[network.version]:
                raise ValueError(
                    f"{cidr!r} is wider than a /{MIN_PREFIX[network.version]}: port 53 to it would reach hosts on "
                    f"the internet; name the DNS's own addresses (e.g. 169.254.20.10/32 for NodeLocal DNSCache)"
                )
        return cidrs

    def networks(self) -> tuple[str, ...]:
        """The CIDRs as networks (host bits cleared), sorted, without repeats."""
        return tuple(sorted({str(ipaddress.ip_network(cidr, strict=False)) for cidr in self.cidrs}))

    def destinations(self) -> tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]]:
        """What the DNS rule allows, in one canonical form: (namespace, labels sorted, networks)."""
        return self.namespace, tuple(sorted(self.pod_labels.items())), self.networks()
