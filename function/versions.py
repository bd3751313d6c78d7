"""Every image and chart the function composes, pinned in one place.

Where each image tag is published upstream (repository, ref, file) is recorded in hack/image-evidence.yaml;
tests/test_image_evidence.py fails when a composed image has no evidence for its exact tag. LibreChat is
pinned to v0.8.8-rc1, the newest tag shown in a source (its git tag, with the tag-images workflow that publishes
it); its librechat-data-provider is 0.8.521 (config 1.3.14), the schema the tests validate librechat.yaml with
(hack/librechat-schema/package.json). The v0.8.8 release (config 1.3.16) is in no source seen yet: move both
together once its tag can be shown. Chart 2.0.6 is the chart the tests render (hack/xp.py librechat_chart: its
source at the release tag, or `helm pull`); its default appVersion is v0.8.7-rc1, so the image tag is set
explicitly (its `app.kubernetes.io/version` label still says v0.8.7-rc1). Upstream tagged chart-2.0.8
(appVersion v0.8.8-rc1) on the same commit as v0.8.8-rc1; move to it once a copy can be rendered here.
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
LIBRECHAT_IMAGE = Image("registry.librechat.ai", "danny-avila/librechat", "v0.8.8-rc1")
# The librechat.yaml schema version the pinned image understands (Constants.CONFIG_VERSION).
LIBRECHAT_CONFIG_VERSION = "1.3.14"

# LibreChat's own datastores, as its upstream deploy-compose.yml pins them (at v0.8.7 and v0.8.8-rc1).
MONGODB_IMAGE = Image("docker.io", "library/mongo", "8.0.20")
MEILISEARCH_IMAGE = Image("docker.io", "getmeili/meilisearch", "v1.35.1")
# Valkey as SearXNG's upstream compose runs it (container/docker-compose.yml; the only tag upstream names).
VALKEY_IMAGE = Image("docker.io", "valkey/valkey", "9-alpine")

# SearXNG publishes one tag per master commit, <commit date, no leading zeros>-<short hash> (searx/version.py,
# .github/workflows/container.yml): this is commit 541c6c3cb of 2026-03-25.
SEARXNG_IMAGE = Image("docker.io", "searxng/searxng", "2026.3.25-541c6c3cb")
# Firecrawl's image workflows push only `latest`: on every commit to main at 61e38dc8 (2025-08-25,
# deploy-image.yml and deploy-playwright.yml), on the `release` branch at 81015eb1 (those two and
# deploy-nuq-postgres.yml); its compose file builds from source. These references therefore drift; a platform
# that needs reproducible workspaces mirrors the images and sets them, pinned by digest, in the Composition's
# input (`images`, see OVERRIDABLE_IMAGES).
FIRECRAWL_IMAGE = Image("ghcr.io", "firecrawl/firecrawl", "latest")
FIRECRAWL_PLAYWRIGHT_IMAGE = Image("ghcr.io", "firecrawl/playwright-service", "latest")
FIRECRAWL_POSTGRES_IMAGE = Image("ghcr.io", "firecrawl/nuq-postgres", "latest")
# Firecrawl's own Redis, as its compose runs it (Valkey is "untested" upstream).
FIRECRAWL_REDIS_IMAGE = Image("docker.io", "library/redis", "alpine")
# Speaches v0.8.3 (2025-09-18), CPU and CUDA variants.
SPEACHES_CPU_IMAGE = Image("ghcr.io", "speaches-ai/speaches", "0.8.3-cpu")
SPEACHES_CUDA_IMAGE = Image("ghcr.io", "speaches-ai/speaches", "0.8.3-cuda")
# Ollama at the app version of otwld/ollama-helm 1.77.0.
OLLAMA_IMAGE = Image("docker.io", "ollama/ollama", "0.32.15")
# vLLM's OpenAI-compatible server at its v0.33.0 release (the PyPI sdist vllm-0.33.0 is the source at that tag,
# and its release pipeline pushes vllm/vllm-openai:v<version>; see hack/image-evidence.yaml).
VLLM_IMAGE = Image("docker.io", "vllm/vllm-openai", "v0.33.0")
# LibreChat's RAG API (danny-avila/rag_api), the lite image upstream's deploy-compose.yml runs, at its v0.9.0
# release tag; and pgvector 0.8.1 on PostgreSQL 17 for the in-cluster database.
RAG_API_IMAGE = Image("registry.librechat.ai", "danny-avila/librechat-rag-api-dev-lite", "v0.9.0")
PGVECTOR_IMAGE = Image("docker.io", "pgvector/pgvector", "0.8.1-pg17-trixie")

# rclone uploads backups to the workspace's bucket. v1.75.0 is its newest release tag (master's VERSION file
# already says v1.76.0, but no such tag exists); at that tag .github/workflows/build_publish_docker_image.yml
# publishes ghcr.io/rclone/rclone with type=semver,pattern={{version}}, the tag without its `v`. The remote is
# configured from RCLONE_CONFIG_<REMOTE>_<OPTION> env vars (fs/config/config.go), and azureblob takes a
# connection_string (backend/azureblob/auth/auth.go).
RCLONE_IMAGE = Image("ghcr.io", "rclone/rclone", "1.75.0")
RCLONE_UID = 1009  # the rclone user of the image (Dockerfile at v1.75.0: adduser -u 1009)

# Images the platform team may replace in the Composition's input (`images: {<name>: <reference>}`): those
# upstream publishes only as moving tags, so a platform can pin them by digest in its own mirror.
OVERRIDABLE_IMAGES: dict[str, Image] = {
    "firecrawl": FIRECRAWL_IMAGE,
    "firecrawlPlaywright": FIRECRAWL_PLAYWRIGHT_IMAGE,
    "firecrawlPostgres": FIRECRAWL_POSTGRES_IMAGE,
}
