"""The e2e scenarios hack/scenarios.py writes for Chainsaw: one per example, expecting its render; the hostile
sample; the hand-written ones. `make e2e` runs them on a real control plane; this checks what they say."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hack"))
import scenarios  # noqa: E402
import xp  # noqa: E402

import e2e  # noqa: E402
from function.k8s import RUNS_AS_ROOT  # noqa: E402


def _docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.fixture(scope="module", params=["namespaced", "claims"])
def written(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, list[str]]:
    out = tmp_path_factory.mktemp(request.param) / "tests"
    return request.param, out, scenarios.write(request.param, out, node=True)


def test_every_example_has_its_scenario(written: tuple[str, Path, list[str]]) -> None:
    """Adding an example adds its scenario: every example of the flavour is one (but those whose Composition input
    names placements), beside the hostile sample and the hand-written scenarios."""
    flavour, out, names = written
    examples = sorted(
        p.name
        for p in (ROOT / "examples").iterdir()
        if (p / "xr.yaml").exists() and scenarios.flavour_of(p) == flavour and not scenarios.own_input(p)
    )
    assert [n for n in names if n.startswith("example-")] == [f"example-{e}" for e in examples]
    assert {"hostile-specs", "invalid-specs", "keep-data", "orphan-on-delete", "delete-when-asked"} <= set(names)
    for name in names:
        [test] = _docs(out / name.removeprefix("example-") / "chainsaw-test.yaml")
        assert test["kind"] == "Test" and test["spec"]["steps"], name


def test_an_example_expects_its_golden_render(written: tuple[str, Path, list[str]]) -> None:
    """Without observed resources, an example expects exactly its golden render's composed resources, each by
    the workspace labels, and as many as the render; Objects Synced."""
    flavour, out, _ = written
    for example in (ROOT / "examples").iterdir():
        if not (example / "xr.yaml").exists() or scenarios.flavour_of(example) != flavour:
            continue
        if (example / "observed-resources.yaml").exists() or scenarios.own_input(example):
            continue
        golden = _docs(ROOT / "tests" / "golden" / f"{example.name}.yaml")[1:]
        composed = _docs(out / example.name / "composed.yaml")
        keys = sorted(d["metadata"]["labels"]["aiworkspace.io/resource"] for d in composed)
        want = sorted(d["metadata"]["annotations"]["crossplane.io/composition-resource-name"] for d in golden)
        assert keys == want, example.name
        assert all("status" in d for d in composed if d["kind"] == "Object")
        synced = _docs(out / example.name / "synced.yaml")[-1]
        assert len(golden) in synced["spec"].values(), example.name


def test_pod_security_is_restricted_unless_a_named_root_exception_runs(written: tuple[str, Path, list[str]]) -> None:
    flavour, out, names = written
    for name in (n for n in names if n.startswith("example-")):
        where = out / name.removeprefix("example-")
        [test] = _docs(where / "chainsaw-test.yaml")
        level = test["spec"]["namespaceTemplate"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        applied = _docs(where / "applied.yaml")
        pods = _docs(where / "pods.yaml") if (where / "pods.yaml").exists() else []
        apps = {p["metadata"]["labels"]["app.kubernetes.io/name"] for p in pods}
        assert level == ("baseline" if apps & set(RUNS_AS_ROOT) else "restricted"), name
        assert len(pods) == sum(1 for a in applied if a["kind"] == "Deployment"), name


def test_every_deployments_pods_must_be_scheduled(written: tuple[str, Path, list[str]]) -> None:
    """Each Deployment's pods are expected placed on the node (PodScheduled True), not only seen by the scheduler;
    the node's shape leaves room for every example at once."""
    flavour, out, names = written
    sys.path.insert(0, str(ROOT / "hack"))
    import fixture  # noqa: PLC0415

    cpus = 0.0
    for name in (n for n in names if n.startswith("example-")):
        where = out / name.removeprefix("example-")
        for pod in _docs(where / "pods.yaml") if (where / "pods.yaml").exists() else []:
            assert pod["status"] == {"(conditions[?type == 'PodScheduled'].status | [0])": "True"}, name
        for doc in _docs(ROOT / "tests" / "golden" / f"{name.removeprefix('example-')}.yaml"):
            manifest = doc.get("spec", {}).get("forProvider", {}).get("manifest", {}) if doc["kind"] == "Object" else {}
            if manifest.get("kind") == "Deployment":
                for c in manifest["spec"]["template"]["spec"]["containers"]:
                    cpu = str(c.get("resources", {}).get("requests", {}).get("cpu", "0"))
                    each = float(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)
                    cpus += each * manifest["spec"].get("replicas", 1)
    assert 1 < cpus < fixture.NODE_CPUS, f"{flavour}: the examples request {cpus} CPUs at once; raise NODE_CPUS"


def test_the_hostile_sample_names_each_field(tmp_path: Path) -> None:
    """One admission case of each class of harm, each expected to be refused naming its field."""
    count = scenarios.hostile_scenario(tmp_path)
    [test] = _docs(tmp_path / "hostile-specs" / "chainsaw-test.yaml")
    assert count == len(scenarios.HARMS) == len(test["spec"]["steps"])
    for step in test["spec"]["steps"]:
        check = step["try"][0]["apply"]["expect"][0]["check"]
        assert check["($error != null)"] is True and any(
            k.startswith("(contains($error, 'spec") or k.startswith("(contains($error, 'metadata") for k in check
        )


def test_the_restore_scenario_runs_the_readmes_commands(written: tuple[str, Path, list[str]]) -> None:
    """The restore scenario's script is the README's restore procedure's `create job` commands, word for word
    but the namespace; the Job it expects is the one those commands name, from the CronJob the function composes
    (tests/test_backup_restore.py runs that CronJob's pods)."""
    _, out, names = written
    assert "restore" in names
    [test] = _docs(out / "restore" / "chainsaw-test.yaml")
    script = next(op["script"]["content"] for step in test["spec"]["steps"] for op in step["try"] if "script" in op)
    readme = [c.split("#", 1)[0].strip() for c in scenarios.readme_restore_commands() if " create job " in c]
    assert script.splitlines()[1:] == [c.replace("-n team-a", '-n "$NAMESPACE"') for c in readme]
    assert any("--from=cronjob/chat-mongodb-restore" in c and "RESTORE_DUMP=" in c for c in readme)
    assert all(c.startswith("kubectl ") for c in scenarios.readme_restore_commands())


def test_the_placement_scenario_looks_for_every_object_in_the_workload_cluster(
    tmp_path: Path, function_address: str, tools: Any
) -> None:
    """The two-cluster scenario applies the placed example (its placement is the one hack/e2e.py adds to the
    installed Composition and reaches the second API server by) and looks in the workload cluster for every Object
    it composes without providers (Deployments, Services, volumes, ConfigMaps, NetworkPolicies)."""
    rendered = scenarios.expected(scenarios.PLACED_EXAMPLE, function_address, tools)
    scenarios.placement_scenario(tmp_path, rendered)
    where = tmp_path / "placement-workload-cluster"
    [workspace] = _docs(where / "workspace.yaml")
    placements = {p["name"]: p for p in xp.step_input(scenarios.PLACED_EXAMPLE)["placements"]}
    assert placements[workspace["spec"]["placement"]]["kubernetesProviderConfigName"] == e2e.WORKLOAD_PLACEMENT
    [test] = _docs(where / "chainsaw-test.yaml")
    [looked_for] = [
        e["value"].split()
        for step in test["spec"]["steps"]
        for operation in step["try"]
        for e in operation.get("script", {}).get("env", [])
        if e["name"] == "OBJECTS"
    ]
    manifests = [d["spec"]["forProvider"]["manifest"] for d in rendered[1:] if d["kind"] == "Object"]
    assert looked_for == [f"{m['kind'].lower()}/{m['metadata']['name']}" for m in manifests]
    kinds = {m["kind"] for m in manifests}
    assert {"Deployment", "Service", "PersistentVolumeClaim", "ConfigMap", "NetworkPolicy"} <= kinds


def test_the_placement_scenario_checks_every_secret_the_workspace_carries(
    tmp_path: Path, function_address: str, tools: Any
) -> None:
    """The two-cluster scenario looks in the workload cluster for every Secret the values document carries (each
    Secret the workspace composes, and its copy of the team's keys, followed back to the team's Secret), after the
    step that installs the Release's chart there."""
    rendered = scenarios.expected(scenarios.PLACED_EXAMPLE, function_address, tools)
    scenarios.placement_scenario(tmp_path, rendered)
    [test] = _docs(tmp_path / "placement-workload-cluster" / "chainsaw-test.yaml")
    env = {
        step["name"]: {e["name"]: e["value"] for e in operation["script"].get("env", [])}
        for step in test["spec"]["steps"]
        for operation in step["try"]
        if "script" in operation
    }
    [install, check] = [name for name, values in env.items() if "CARRIED" in values]
    assert list(env).index(install) < list(env).index(check)
    composed = {d["metadata"]["name"] for d in rendered[1:] if d["kind"] == "Secret"}
    carried = json.loads(env[check]["CARRIED"])
    team_keys = json.loads(env[check]["TEAM_KEYS"])
    xr = rendered[0]
    openai = xr["spec"]["openai"]["apiKeySecretRef"]
    assert set(carried) == composed - {f"{xr['metadata']['name']}-workload-secrets"} | set(team_keys)
    assert team_keys == {
        f"{xr['metadata']['name']}-team-keys": {f"{openai['name']}_{openai['key']}": [openai["name"], openai["key"]]}
    }


def test_the_regions_scenario_finds_the_cloud_datastores_in_the_placements_region(
    tmp_path: Path, function_address: str, tools: Any
) -> None:
    """Two regions on one cloud: the placed workspace's database and bucket are looked for in the control plane in
    the region its placement gives them (us-east-1, the placement's first, as the spec names none), and every
    placement of the placed examples is one hack/e2e.py writes into the Composition's input, once, reaching the
    second API server by its provider-kubernetes config."""
    example = scenarios.PLACED_EXAMPLES["placement-regions"]
    rendered = scenarios.expected(example, function_address, tools)
    scenarios.placement_scenario(tmp_path, rendered, example, "placement-regions")
    in_region = _docs(tmp_path / "placement-regions" / "in-region.yaml")
    assert {(d["kind"], d["spec"]["forProvider"]["region"]) for d in in_region} >= {
        ("Instance", "us-east-1"),
        ("Bucket", "us-east-1"),
    }
    [test] = _docs(tmp_path / "placement-regions" / "chainsaw-test.yaml")
    asserted = [o["assert"].get("file") for step in test["spec"]["steps"] for o in step["try"] if "assert" in o]
    assert "in-region.yaml" in asserted
    for flavour in ("namespaced", "claims"):
        placements = {p["name"]: p for p in e2e.workload_placements(flavour)}
        for placed in e2e.placed_examples(flavour).values():
            for placement in xp.step_input(placed)["placements"]:
                assert placements[placement["name"]] == placement
    assert set(e2e.placed_examples("claims")) == {"placement-workload-cluster-claims"}
