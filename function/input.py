"""The function's input: settings the platform team fixes in the Composition, not the team in its spec."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from function.clusterdns import ClusterDNS
from function.placements import Placement, check_elsewhere, check_one_cluster_one_network, check_unique
from function.plan import Platform
from function.spec import SpecError, error_message
from function.strings import CIDR
from function.tenancy import Tenancy
from function.versions import OVERRIDABLE_IMAGES

# An OCI image reference: [registry/]repository[:tag][@sha256:digest], lower-case repository path.
IMAGE_REFERENCE = re.compile(
    r"[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?"
)


class FunctionInput(BaseModel):
    """Platform settings of the AIWorkspace function, set in the Composition's pipeline step."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    helm_provider_config_name: str = Field(
        default="default",
        alias="helmProviderConfigName",
        min_length=1,
        description="provider-helm (Cluster)ProviderConfig that installs LibreChat's chart.",
    )
    kubernetes_provider_config_name: str = Field(
        default="default",
        alias="kubernetesProviderConfigName",
        min_length=1,
        description="provider-kubernetes (Cluster)ProviderConfig that applies the workspace's workloads.",
    )
    tenancy: Tenancy = Field(
        default_factory=Tenancy,
        description="What teams may use: provider configs, CIDRs, Ingress annotations, domains, issuers, storage "
        "classes, Services of other namespaces, cloud coordinates, and ceilings per workspace.",
    )
    cluster_networks: list[CIDR] = Field(
        default_factory=list,
        alias="clusterNetworks",
        description="The cluster's pod and service CIDRs: the workspace's internet egress excludes them, as it "
        "always excludes link-local and metadata addresses, so that 'the internet' never means the cluster.",
    )
    cluster_dns: ClusterDNS = Field(
        default_factory=ClusterDNS,
        alias="clusterDNS",
        description="Where this cluster's DNS answers: every workload's egress on port 53 goes to these pods and "
        "addresses only. Set it where the DNS pods are labelled otherwise or a DNS runs outside the pod network "
        "(NodeLocal DNSCache, GKE's Cloud DNS); a placement's cluster has its own (placements[].clusterDNS).",
    )
    placements: list[Placement] = Field(
        default_factory=list,
        description="Workload clusters teams may run workspaces in (spec.placement names one): each with the "
        "provider configs that reach it, the cloud regions of its datastores and its ingress defaults. Without "
        "spec.placement a workspace runs in this control plane's cluster, with the provider configs above.",
    )
    images: dict[str, str] = Field(
        default_factory=dict,
        description="Images to run instead of the pinned ones, by name ("
        + ", ".join(OVERRIDABLE_IMAGES)
        + "): upstream publishes these only as `latest`, so pin your mirror's copy by digest here.",
    )

    @field_validator("placements")
    @classmethod
    def _unique_placements(cls, placements: list[Placement]) -> list[Placement]:
        return list(check_unique(tuple(placements)))

    @model_validator(mode="after")
    def _placements_elsewhere(self) -> FunctionInput:
        check_elsewhere(tuple(self.placements), self.helm_provider_config_name, self.kubernetes_provider_config_name)
        check_one_cluster_one_network(tuple(self.placements))
        return self

    @field_validator("images")
    @classmethod
    def _known_images(cls, images: dict[str, str]) -> dict[str, str]:
        for name, reference in images.items():
            if name not in OVERRIDABLE_IMAGES:
                raise ValueError(f"unknown image {name!r}; overridable: {', '.join(OVERRIDABLE_IMAGES)}")
            if not IMAGE_REFERENCE.fullmatch(reference):
                raise ValueError(f"images.{name}: {reference!r} is not an image reference (registry/repo:tag@digest)")
        return images


def platform_settings(raw: dict[str, Any]) -> Platform:
    try:
        parsed = FunctionInput.model_validate(raw)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        loc = first["loc"][:-2] if first["loc"] and first["loc"][-1] == "[key]" else first["loc"]
        where = ".".join(map(str, loc))
        message = error_message(first)
        raise SpecError(f"Composition input {where}: {message}" if where else f"Composition input {message}") from None
    return Platform(
        helm=parsed.helm_provider_config_name,
        kubernetes=parsed.kubernetes_provider_config_name,
        images=tuple(sorted(parsed.images.items())),
        tenancy=parsed.tenancy,
        cluster_networks=tuple(parsed.cluster_networks),
        cluster_dns=parsed.cluster_dns,
        placements=tuple(parsed.placements),
    )
