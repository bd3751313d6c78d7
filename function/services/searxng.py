"""SearXNG, LibreChat's search provider: a generated settings.yml with JSON output and privacy defaults.

The secret key never enters the ConfigMap: SearXNG reads it from SEARXNG_SECRET (a generated Secret).
Its cache is the workspace's Valkey (database 1, LibreChat uses 0), reached through SEARXNG_VALKEY_URL from
the same Secret because the URL carries the password. The limiter stays off: the instance is internal and
only LibreChat calls it, and the limiter would bot-block those requests.
"""

from __future__ import annotations

from typing import Any

from function import k8s, yamltext
from function.plan import Draft, GeneratedSecret, Part
from function.resources import Composed, config_map, secret, workload
from function.services import Context
from function.spec import SafeSearch
from function.versions import SEARXNG_IMAGE

SEARXNG_UID = 977  # the searxng user of the image (container/dist.dockerfile)
SEARXNG_RESOURCES = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}}
SAFE_SEARCH = {SafeSearch.OFF: 0, SafeSearch.MODERATE: 1, SafeSearch.STRICT: 2}
SETTINGS_KEY = "settings.yml"


def plan_part(draft: Draft) -> Part:
    """SearXNG's Service and its Secret, with the secret key generated for it."""
    secret_name = draft.name("searxng")
    if not draft.spec.searxng.enabled:
        return Part({"searxng": None, "searxng_secret": secret_name})
    fields = {"searxng": draft.endpoint("searxng", 8080), "searxng_secret": secret_name}
    return Part(fields, (GeneratedSecret(secret_name, "SEARXNG_SECRET", 32),))


def settings(ctx: Context) -> dict[str, Any]:
    spec = ctx.plan.spec.searxng
    return {
        "use_default_settings": {"engines": {"keep_only": list(spec.engines)}},
        "general": {"instance_name": f"{ctx.plan.workspace.name} search", "enable_metrics": False},
        "server": {
            "limiter": False,  # internal instance: the limiter would bot-block LibreChat's requests
            "public_instance": False,
            "image_proxy": False,
            "method": "GET",
        },
        "search": {
            "formats": ["html", "json"],  # LibreChat reads JSON; the default is html only
            "safe_search": SAFE_SEARCH[spec.safe_search],
            "autocomplete": "",  # no queries leak to autocomplete backends
            "default_lang": spec.language,
        },
        "ui": {"query_in_title": False},
    }


def compose(ctx: Context) -> list[Composed]:
    plan = ctx.plan
    if plan.searxng is None:
        return []
    ws, ns, spec = plan.workspace.name, plan.workspace.namespace, plan.spec.searxng
    name = plan.searxng.service
    text = yamltext.dump(settings(ctx), sort_keys=True)
    values = ctx.secrets.generated_in(plan.searxng_secret)
    valkey_password = ctx.secrets.get(plan.datastore_secret, "redis-password")
    values["SEARXNG_VALKEY_URL"] = f"valkey://:{valkey_password}@{plan.redis.host_port}/1"
    config_name = plan.object_name("searxng-settings")
    container = {
        "name": "searxng",
        "image": SEARXNG_IMAGE.reference,
        "ports": [{"name": "http", "containerPort": plan.searxng.port}],
        "env": [
            k8s.secret_env("SEARXNG_SECRET", plan.searxng_secret, "SEARXNG_SECRET"),
            k8s.secret_env("SEARXNG_VALKEY_URL", plan.searxng_secret, "SEARXNG_VALKEY_URL"),
            {"name": "GRANIAN_HOST", "value": "0.0.0.0"},  # "::" fails on nodes without IPv6
            {"name": "FORCE_OWNERSHIP", "value": "false"},
        ],
        "resources": k8s.resources(spec.resources, SEARXNG_RESOURCES),
        "volumeMounts": [
            {"name": "config", "mountPath": "/etc/searxng"},
            {
                "name": "settings",
                "mountPath": f"/etc/searxng/{SETTINGS_KEY}",
                "subPath": SETTINGS_KEY,
                "readOnly": True,
            },
            {"name": "cache", "mountPath": "/var/cache/searxng"},
        ],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": plan.searxng.port}, "periodSeconds": 10},
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": plan.searxng.port},
            "initialDelaySeconds": 20,
            "periodSeconds": 20,
        },
    }
    volumes = [
        {"name": "config", "emptyDir": {}},
        {"name": "settings", "configMap": {"name": config_name}},
        {"name": "cache", "emptyDir": {}},
    ]
    checksum = {"checksum/settings": k8s.checksum(text)}
    return [
        secret(plan, "searxng-secret", "searxng", name=plan.searxng_secret, values=values),
        config_map(plan, "searxng-settings", "searxng", name=config_name, data={SETTINGS_KEY: text}),
        *workload(
            plan,
            "searxng",
            "searxng",
            port=plan.searxng.port,
            autoscaling=spec.autoscaling,
            deployment=k8s.deployment(
                name=name,
                namespace=ns,
                workspace=ws,
                component="searxng",
                container=container,
                run_as_user=SEARXNG_UID,
                volumes=volumes,
                annotations=checksum,
                replicas=k8s.replicas(spec.replicas, spec.autoscaling),
                stateless=True,
            ),
        ),
    ]
