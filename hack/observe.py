"""Write an example's observed state: what the cluster reports once its cloud resources, or all of it, are up.

    python hack/observe.py examples/aws-namespaced
    python hack/observe.py --ready examples/ready-namespaced

Renders the example through the real CLI, then records every composed cloud managed resource as Ready
(with the status fields the function reads), the connection Secrets their providers publish (as required
resources, where render's connection-details fetcher finds them), and the Secrets and ConfigMap that exist
once the function has written them. With --ready it records every composed resource, each Ready, as the
function composes it once everything it waits for exists: the whole workspace up, so the XR is Ready. The
values are placeholders, never real credentials. The files it writes are committed and reviewed like any
other example.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import xp

KEY = "crossplane.io/composition-resource-name"
OPENAI = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "openai", "namespace": "team-a"},
    "type": "Opaque",
    "data": {"api-key": base64.b64encode(b"sk-example-not-a-real-key").decode()},
}
# Resources a converged workspace has that its dependents wait for.
EXISTING = (
    "gcp-database-admin-secret",
    "rag-database-secret",
    "librechat-env",
    "librechat-config",
    "rag-api-deployment",
    "librechat-release",
    "workload-secrets",
    "workload-secrets-release",
)


def _secret(name: str, namespace: str, values: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "connection.crossplane.io/v1alpha1",
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in sorted(values.items())},
    }


def _connection_values(key: str, spec: dict[str, Any], external: str) -> dict[str, str]:
    """Placeholder connection details, keyed as each provider publishes them."""
    fp = spec.get("forProvider", {})
    if key == "aws-database-instance":  # RDS
        host = f"{fp['identifier']}.cexample0000.{fp['region']}.rds.amazonaws.com"
        return {
            "address": host,
            "host": host,
            "endpoint": f"{host}:5432",
            "port": "5432",
            "username": fp["username"],
            "password": "ExampleRdsPassword0NotReal0",
        }
    if key == "gcp-database-instance":
        return {"privateIP": "10.30.0.5", "connectionName": f"acme-ai:{fp['region']}:{external}"}
    if key == "gcp-database-user":
        return {"password": "replaced-by-the-generated-password"}
    if key == "azure-database-server":  # Azure flexible server
        return {
            "endpoint": f"{external}.postgres.database.azure.com",
            "port": "5432",
            "username": f"{fp['administratorLogin']}@{external}",
            "password": "ExampleAzurePassword0NotReal",
        }
    if key == "aws-files-access-key":
        return {"username": "AKIAEXAMPLE0NOTREAL00", "password": "example0secret0access0key0not0real000000"}
    if key == "gcp-files-hmac-key":
        return {"attribute.secret": "example0hmac0secret0not0real0000000000"}
    if key == "azure-files-account":
        return {
            "attribute.primary_connection_string": f"DefaultEndpointsProtocol=https;AccountName={external};"
            "AccountKey=ZXhhbXBsZS1ub3QtYS1yZWFsLWtleQ==;EndpointSuffix=core.windows.net"
        }
    return {}


def _status(key: str, doc: dict[str, Any]) -> dict[str, Any]:
    conditions = [
        {"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": "2026-11-24T10:00:00Z"},
        {
            "type": "Synced",
            "status": "True",
            "reason": "ReconcileSuccess",
            "lastTransitionTime": "2026-11-24T10:00:00Z",
        },
    ]
    status: dict[str, Any] = {"conditions": conditions}
    if key == "gcp-files-hmac-key":
        status["atProvider"] = {"accessId": "GOOG1EEXAMPLEACCESSIDNOTREAL0000"}
    if key == "gcp-files-service-account":
        account = doc["metadata"].get("annotations", {}).get("crossplane.io/external-name", "files")
        status["atProvider"] = {"email": f"{account}@example-project.iam.gserviceaccount.com"}
    return status


def _documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def observed_body(doc: dict[str, Any], workspace: str, namespace: str | None) -> dict[str, Any]:
    """A rendered resource as the cluster reports it: Crossplane's name for it (`<workspace>-<key>`) and, but
    for a Secret or ConfigMap (which carry no status), Ready; a cloud managed resource in the XR's namespace."""
    key = doc["metadata"]["annotations"][KEY]
    cloud = "upbound.io/" in doc["apiVersion"]
    body = {k: v for k, v in doc.items() if k != "status"}
    body["metadata"] = dict(doc["metadata"])
    body["metadata"].pop("ownerReferences", None)
    if body["kind"] != "Secret" and body["kind"] != "ConfigMap":
        body["metadata"]["name"] = f"{workspace}-{key}"
        body["status"] = _status(key, doc)
    if cloud and namespace:
        body["metadata"]["namespace"] = namespace
    return body


READY_PASSES = 10


def ready(example: Path) -> None:
    """Every composed resource observed Ready, each as the function composes it once all the others exist.

    Each pass records what the render composed, as the cluster would report it, and feeds it back; it ends when
    a pass composes exactly what is recorded (no new resource, no changed body)."""
    xr = yaml.safe_load((example / "xr.yaml").read_text())
    namespace = xr["metadata"].get("namespace")
    observed_file = example / "observed-resources.yaml"
    required_file = example / "required-resources.yaml"
    observed_file.unlink(missing_ok=True)
    required_file.write_text(
        "# What render's store holds besides the XR: the team's OpenAI key Secret (a placeholder value, written\n"
        "# by hack/observe.py --ready).\n" + yaml.safe_dump(OPENAI, sort_keys=False)
    )
    observed: dict[str, dict[str, Any]] = {}
    with xp.function_server() as address:
        for _ in range(READY_PASSES):
            composed = {}
            for doc in _documents(xp.render(example, address))[1:]:
                composed[doc["metadata"]["annotations"][KEY]] = observed_body(doc, xr["metadata"]["name"], namespace)
            if composed == observed:
                break
            observed = composed
            observed_file.write_text(yaml.safe_dump_all([observed[k] for k in sorted(observed)], sort_keys=False))
        else:
            raise SystemExit(f"{example.name}: the render still changed after {READY_PASSES} passes")
    header = (
        f"# What the cluster reports once {example.name}'s workspace is up (written by hack/observe.py --ready,\n"
        "# placeholder values): every composed resource Ready, as the function composes it, the Secrets and\n"
        "# ConfigMap it has written included.\n"
    )
    observed_file.write_text(header + yaml.safe_dump_all([observed[k] for k in sorted(observed)], sort_keys=False))


def main(example: Path) -> None:
    xr = yaml.safe_load((example / "xr.yaml").read_text())
    namespace = xr["metadata"].get("namespace")
    observed_file = example / "observed-resources.yaml"
    required_file = example / "required-resources.yaml"
    observed_file.unlink(missing_ok=True)
    required_file.write_text(yaml.safe_dump(OPENAI, sort_keys=False))
    observed: list[dict[str, Any]] = []
    required: list[dict[str, Any]] = [OPENAI]
    seen: set[str] = set()
    generated_password = ""
    with xp.function_server() as address:
        # Each reconcile creates what waited for the previous one; repeat until nothing new appears.
        while True:
            new = False
            for doc in _documents(xp.render(example, address)):
                key = doc.get("metadata", {}).get("annotations", {}).get(KEY)
                if not key or key in seen:
                    continue
                cloud = "upbound.io/" in doc["apiVersion"]
                if not cloud and key not in EXISTING:
                    continue
                seen.add(key)
                new = True
                if key == "gcp-database-admin-secret":
                    generated_password = base64.b64decode(doc["data"]["password"]).decode()
                observed.append(observed_body(doc, xr["metadata"]["name"], namespace))
                ref = doc["spec"].get("writeConnectionSecretToRef") if cloud else None
                if ref:
                    external = doc["metadata"].get("annotations", {}).get("crossplane.io/external-name", "")
                    values = _connection_values(key, doc["spec"], external)
                    if key == "gcp-database-user":
                        values["password"] = generated_password
                    required.append(_secret(ref["name"], ref.get("namespace", namespace), values))
            required_file.write_text(yaml.safe_dump_all(required, sort_keys=False))
            observed_file.write_text(yaml.safe_dump_all(observed, sort_keys=False))
            if not new:
                break
    header = (
        f"# What the cluster reports once {example.name}'s cloud resources are up (written by hack/observe.py,\n"
        "# placeholder values): every managed resource Ready, and the Secrets the function has written.\n"
    )
    observed_file.write_text(header + yaml.safe_dump_all(observed, sort_keys=False))
    required_file.write_text(
        "# What render's store holds besides the XR: the team's OpenAI key Secret and the connection Secrets\n"
        "# the providers publish (placeholder values, written by hack/observe.py).\n"
        + yaml.safe_dump_all(required, sort_keys=False)
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--ready":
        ready(Path(sys.argv[2]).resolve())
    elif len(sys.argv) == 2 and not sys.argv[1].startswith("-"):
        main(Path(sys.argv[1]).resolve())
    else:
        raise SystemExit(__doc__)
