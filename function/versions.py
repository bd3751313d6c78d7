"""Every image and chart the function composes, pinned in one place.

Sources are in ../shared/reference/services-integration.md. LibreChat v0.8.8 is the release whose config
version (1.3.16) matches librechat-data-provider 0.8.523, the schema the tests validate librechat.yaml with
(pinned in hack/versions.env). Chart 2.0.6 is the newest chart release whose version could be confirmed
(its default appVersion is v0.8.7); the image tag is set explicitly, so the chart default never applies.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    repository: str
    name: str
    version: str


@dataclass(frozen=True)
class Image:
    registry: str
    repository: str
    tag: str

    @property
    def reference(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag}"


LIBRECHAT_CHART = Chart(repository="oci://ghcr.io/danny-avila/librechat-chart", name="librechat", version="2.0.6")
LIBRECHAT_IMAGE = Image("registry.librechat.ai", "danny-avila/librechat", "v0.8.8")
# The librechat.yaml schema version the pinned image understands (Constants.CONFIG_VERSION).
LIBRECHAT_CONFIG_VERSION = "1.3.16"

# LibreChat's own datastores, as its upstream deploy-compose.yml pins them.
MONGODB_IMAGE = Image("docker.io", "library/mongo", "8.0.20")
MEILISEARCH_IMAGE = Image("docker.io", "getmeili/meilisearch", "v1.35.1")
# Valkey as SearXNG's upstream compose runs it (the only tag upstream names).
VALKEY_IMAGE = Image("docker.io", "valkey/valkey", "9-alpine")
