"""Cloud datastores, per cloud and flavour: connection values reach the RAG API and LibreChat only by reference,
never appear in a composed spec, a database or bucket that is not ready holds back only what needs it, and a
change of database or object storage keeps the old data resources.

Each cloud example carries the observed state of its managed resources and the connection Secrets their
providers publish (examples/<cloud>-<flavour>/observed-resources.yaml, required-resources.yaml).
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from crossplane.function import resource

from tests.helpers import SEED, example_observed, fatal, request, required_for, results, run, yaml_docs
from tests.test_wiring import full_state, run_observing

ROOT = Path(__file__).resolve().parent.parent
CLOUD_EXAMPLES = sorted(
    p for p in (ROOT / "examples").iterdir() if p.name.split("-")[0] in ("aws", "gcp", "azure") and p.is_dir()
)
DB_SECRET, ENV_SECRET = "chat-rag-database", "chat-librechat-env"

# contract key -> (composed resource, connection detail) it comes from; None: from the spec.
DATABASE_SOURCES: dict[str, dict[str, tuple[str, str] | None]] = {
    "aws": {
        "host": ("aws-database-instance", "address"),
        "port": ("aws-database-instance", "port"),
        "username": ("aws-database-instance", "username"),
        "password": ("aws-database-instance", "password"),
    },
    "gcp": {"host": ("gcp-database-instance", "privateIP"), "password": ("gcp-database-user", "password")},
    "azure": {
        "host": ("azure-database-server", "endpoint"),
        "port": ("azure-database-server", "port"),
        "password": ("azure-database-server", "password"),
    },
}
# LibreChat env -> (composed resource, connection detail); accessId of a GCP HMAC key is in its status.
FILES_SOURCES: dict[str, dict[str, tuple[str, str]]] = {
    "aws": {
        "AWS_ACCESS_KEY_ID": ("aws-files-access-key", "username"),
        "AWS_SECRET_ACCESS_KEY": ("aws-files-access-key", "password"),
    },
    "gcp": {"AWS_SECRET_ACCESS_KEY": ("gcp-files-hmac-key", "attribute.secret")},
    "azure": {"AZURE_STORAGE_CONNECTION_STRING": ("azure-files-account", "attribute.primary_connection_string")},
}
DATA_KEYS = {
    "aws": ("aws-database-instance", "aws-files-bucket"),
    "gcp": ("gcp-database-instance", "gcp-files-bucket"),
    "azure": ("azure-database-server", "azure-files-account", "azure-files-container"),
}


def _cloud(example: Path) -> str:
    return example.name.split("-")[0]


def _load(example: Path) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any], dict[str, dict[str, str]]]:
    xr = yaml.safe_load((example / "xr.yaml").read_text())
    observed, connections = example_observed(example)
    return xr, yaml_docs(example / "required-resources.yaml"), observed, connections


def _decoded(body: dict[str, Any]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in body.get("data", {}).items()}


def _manifest(state: dict[str, Any], key: str) -> dict[str, Any]:
    body = state[key]
    return body["spec"]["forProvider"]["manifest"] if body["kind"] == "Object" else body


@pytest.mark.parametrize("example", CLOUD_EXAMPLES, ids=lambda p: p.name)
def test_connection_values_reach_librechat_by_reference(example: Path) -> None:
    """The provider's connection details land in the normalised Secret and LibreChat's env Secret; the RAG API
    and LibreChat read them from there (secretKeyRef, envFrom), and the Release's values name only the Secret."""
    cloud = _cloud(example)
    xr, secrets, observed, connections = _load(example)
    state = full_state(xr, secrets, observed, connections)

    contract = _decoded(state["rag-database-secret"])
    assert set(contract) == {"host", "port", "username", "password", "database"}
    for key, source in DATABASE_SOURCES[cloud].items():
        assert source is not None
        assert contract[key] == connections[source[0]][source[1]], key
    assert contract["database"] == xr["spec"].get("database", {}).get("databaseName", "rag")

    rag = _manifest(state, "rag-api-deployment")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in rag["env"]}
    for name, key in (
        ("DB_HOST", "host"),
        ("DB_PORT", "port"),
        ("POSTGRES_USER", "username"),
        ("POSTGRES_PASSWORD", "password"),
        ("POSTGRES_DB", "database"),
    ):
        assert env[name] == {"name": name, "valueFrom": {"secretKeyRef": {"name": DB_SECRET, "key": key}}}

    librechat_env = _decoded(state["librechat-env"])
    for env_name, (key, detail) in FILES_SOURCES[cloud].items():
        assert librechat_env[env_name] == connections[key][detail], env_name
    if cloud == "gcp":
        assert librechat_env["AWS_ACCESS_KEY_ID"] == observed["gcp-files-hmac-key"]["status"]["atProvider"]["accessId"]
    values = state["librechat-release"]["spec"]["forProvider"]["values"]
    assert values["librechat"]["existingSecretName"] == ENV_SECRET
    assert values["global"]["librechat"]["existingSecretName"] == ENV_SECRET
    for env_name in FILES_SOURCES[cloud]:
        assert env_name not in values["librechat"]["configEnv"]
    config = yaml.safe_load(_manifest(state, "librechat-config")["data"]["librechat.yaml"])
    assert config["fileStrategy"] == ("azure_blob" if cloud == "azure" else "s3")
    assert values["librechat"]["configEnv"]["RAG_API_URL"] == "http://chat-rag-api.team-a.svc.cluster.local:8000"


@pytest.mark.parametrize("example", CLOUD_EXAMPLES, ids=lambda p: p.name)
def test_no_connection_value_in_any_composed_spec(example: Path) -> None:
    """No published connection value (nor its base64) is written anywhere but a Secret's data."""
    xr, secrets, observed, connections = _load(example)
    state = full_state(xr, secrets, observed, connections)
    # The admin login is an input the spec sets (and so in it), not a value the provider publishes.
    values = {v for details in connections.values() for k, v in details.items() if k != "username" and len(v) >= 8}
    values.add(str(observed.get("gcp-files-hmac-key", {}).get("status", {}).get("atProvider", {}).get("accessId", "")))
    values.discard("")
    needles = values | {base64.b64encode(v.encode()).decode() for v in values}
    assert values
    for key, body in state.items():
        shown = json.dumps({k: v for k, v in body.items() if not (body["kind"] == "Secret" and k == "data")})
        leaked = [n for n in needles if n in shown]
        assert not leaked, f"{key} holds connection values {leaked}"


@pytest.mark.parametrize("example", CLOUD_EXAMPLES, ids=lambda p: p.name)
def test_unready_database_holds_back_only_what_needs_it(example: Path) -> None:
    """Before the database is ready and has published its details, the normalised Secret, the RAG API and the
    Usage protecting the database wait; LibreChat, its datastores and the bucket do not."""
    cloud = _cloud(example)
    xr, secrets, observed, connections = _load(example)
    main = DATA_KEYS[cloud][0]
    db_keys = {k for k in observed if k.startswith(f"{cloud}-database-") and k != "gcp-database-admin-secret"}
    fresh = {
        k: v for k, v in observed.items() if k not in db_keys and k not in ("rag-database-secret", "rag-api-deployment")
    }
    waiting = {k: v for k, v in connections.items() if k not in db_keys}
    rsp = run(request(xr, observed=fresh, required=required_for(xr, secrets), seed=SEED, connections=waiting))
    assert fatal(rsp) is None, results(rsp)
    desired = {k for k in rsp.desired.resources}
    assert main in desired  # the database itself is created
    assert not desired & {"rag-database-secret", "rag-api-deployment", "database-usage"}
    assert {
        "librechat-release",
        "librechat-env",
        "mongodb-deployment",
        DATA_KEYS[cloud][1],
    } <= desired
    status = resource.struct_to_dict(rsp.desired.composite.resource)["status"]
    database = next(c for c in status["components"] if c["name"] == "database")
    assert not database["ready"] and "rag-database-secret: waits for" in database["message"]
    assert rsp.desired.composite.ready == 2  # READY_FALSE

    # Once written, the normalised Secret stays exactly as it was when the details vanish for a moment.
    converged = full_state(xr, secrets, observed, connections)
    lost = {k: v for k, v in connections.items() if k not in db_keys}
    again = run_observing(xr, secrets, {**converged, **observed}, lost)
    assert again["rag-database-secret"]["data"] == converged["rag-database-secret"]["data"]
    assert "rag-api-deployment" in again


@pytest.mark.parametrize("example", CLOUD_EXAMPLES, ids=lambda p: p.name)
def test_unready_bucket_holds_back_librechat(example: Path) -> None:
    """A new workspace's LibreChat starts only once its bucket's credentials exist; the RAG API does not wait."""
    xr, secrets, observed, connections = _load(example)
    files_keys = {k for k in observed if "-files-" in k}
    fresh = {k: v for k, v in observed.items() if k not in files_keys and not k.startswith("librechat-")}
    rsp = run(
        request(
            xr,
            observed=fresh,
            required=required_for(xr, secrets),
            seed=SEED,
            connections={k: v for k, v in connections.items() if k not in files_keys},
        )
    )
    assert fatal(rsp) is None, results(rsp)
    desired = set(rsp.desired.resources)
    assert not desired & {"librechat-env", "librechat-config", "librechat-release"}
    assert {"rag-database-secret", "mongodb-deployment"} <= desired


def _switch(spec: dict[str, Any], database: dict[str, Any], storage: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    out["database"], out["objectStorage"] = database, storage
    return out


SWITCHES = {
    "to-in-cluster": ({"provider": "inCluster"}, {"provider": "local"}),
    "to-another-cloud": (
        {
            "provider": "azure",
            "azure": {
                "location": "westeurope",
                "resourceGroupName": "team-a",
                "delegatedSubnetId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/network/"
                "providers/Microsoft.Network/virtualNetworks/workloads/subnets/postgres",
                "privateDnsZoneId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/network/"
                "providers/Microsoft.Network/privateDnsZones/privatelink.postgres.database.azure.com",
            },
        },
        {"provider": "gcp", "gcp": {"location": "EU"}},
    ),
}


@pytest.mark.parametrize("switch", sorted(SWITCHES))
@pytest.mark.parametrize("example", CLOUD_EXAMPLES, ids=lambda p: p.name)
def test_changing_datastores_keeps_the_old_data_resources(example: Path, switch: str) -> None:
    """Changing database or objectStorage on an existing workspace keeps every old data resource as it was,
    with a DataRetained warning naming it; the new datastores are composed beside them."""
    cloud = _cloud(example)
    if switch == "to-another-cloud" and cloud in ("azure", "gcp"):
        database, storage = (
            {
                "provider": "aws",
                "aws": {"region": "eu-west-1", "subnetGroupName": "p", "securityGroupIds": ["sg-0a1b2c3d4e5f60001"]},
            },
            {"provider": "aws", "aws": {"region": "eu-west-1"}},
        )
    else:
        database, storage = SWITCHES[switch]
    xr, secrets, observed, connections = _load(example)
    converged = {**full_state(xr, secrets, observed, connections), **observed}
    changed = {**xr, "spec": _switch(xr["spec"], database, storage)}
    rsp = run(
        request(
            changed, observed=converged, required=required_for(changed, secrets), seed=SEED, connections=connections
        )
    )
    assert fatal(rsp) is None, results(rsp)
    desired = {k: resource.struct_to_dict(v.resource) for k, v in rsp.desired.resources.items()}
    warnings = " ".join(m for severity, reason, m in results(rsp) if reason == "DataRetained")
    for key in DATA_KEYS[cloud]:
        assert key in desired, f"{key} was dropped"
        assert desired[key]["spec"] == observed[key]["spec"], f"{key} changed"
        assert key in warnings
    if switch == "to-in-cluster":
        assert "pgvector-deployment" in desired or "pgvector-pvc" in desired
