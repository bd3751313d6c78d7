"""The function's input: settings the platform team fixes in the Composition, not the team in its spec."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from function.plan import ProviderConfigs
from function.spec import SpecError


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


def provider_configs(raw: dict[str, Any]) -> ProviderConfigs:
    try:
        parsed = FunctionInput.model_validate(raw)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        raise SpecError(f"Composition input {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    return ProviderConfigs(helm=parsed.helm_provider_config_name, kubernetes=parsed.kubernetes_provider_config_name)
