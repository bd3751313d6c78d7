"""Where this project is published: the one place that names its source repository and its registry.

Every other file that names them is written from here by `make generate` (the packages' metadata, the
Compositions' reference to the function, the XRDs' source annotation, examples/functions.yaml and the README's
table of packages), or reads them at run time (`python hack/packages.py references`, which RELEASING.md uses).
tests/test_release.py fails when any other file of the repository spells them out.

The committed values are placeholders under `example`. To publish under your own registry and source, change
REGISTRY and SOURCE here and run `make generate`.
"""

from __future__ import annotations

# The OCI registry and path the Function and Configuration packages are pushed to (without a package name).
REGISTRY = "ghcr.io/example"
# The repository the packages are built from, as catalogs show it (meta.crossplane.io/source).
SOURCE = "https://github.com/example/function-ai-workspace"
MAINTAINER = "function-ai-workspace maintainers"
# SPDX identifier of LICENSE; pyproject.toml's `license` says the same (tests/test_release.py).
LICENSE = "Apache-2.0"

FUNCTION_PACKAGE = f"{REGISTRY}/function-ai-workspace"
# The Helm chart that carries a placed workspace's Secrets to its workload cluster (charts/aiworkspace-secrets),
# pushed beside the packages with each release (RELEASING.md); its version is the chart's own (Chart.yaml).
SECRETS_CHART_REPOSITORY = f"oci://{REGISTRY}/charts"
SECRETS_CHART_NAME = "aiworkspace-secrets"
SECRETS_CHART_VERSION = "0.1.0"
FLAVOURS = ("claims", "namespaced")


def configuration_package(flavour: str) -> str:
    """The repository of a flavour's Configuration package (no tag)."""
    return f"{REGISTRY}/configuration-ai-workspace-{flavour}"
