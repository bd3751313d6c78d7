"""The e2e scenarios of one API flavour, written as Chainsaw tests into a directory for `make e2e` to run.

Hand-written scenarios live in e2e/scenarios/ (invalid specs, the lifecycle cases, the node). Two kinds are
generated here, from data that already exists, so they never drift from it:

- one per example (examples/<name>/, but those with a function input of their own: placements name workload
  clusters this control plane does not reach): its team's Secrets and its workspace applied in a namespace of its own;
  the workspace Synced, with exactly the composed resources of its golden render (tests/golden/<name>.yaml, the
  converged render) and its status; every Object applied by provider-kubernetes; every Deployment's pods
  created, admitted under the Pod Security level the README promises (restricted, or baseline where a named
  root exception runs) and scheduled onto the node. Adding an example adds its scenario.
- one for a sample of the hostile corpus (tests/hostile.py): one case of each class of harm admission can
  refuse, refused by the API server naming its field.

Chainsaw bindings the scenarios read: `$namespace` (the test's), and `$values` (values.yaml, written here):
the flavour and the API version of provider-kubernetes' Object in it.
"""

from __future__ import annotations

import base64
import copy
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import xp
import yaml

from function.k8s import RUNS_AS_ROOT
from function.plan import WORKLOAD_SECRETS_RELEASE, team_key_name
from function.resources import NAMESPACE_LABEL, RESOURCE_LABEL
from function.services.placement import SECRET_KEY, VALUES_KEY
from function.spec import SecretKeySelector
from tests import hostile

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = ROOT / "tests" / "golden"
SCENARIOS = ROOT / "e2e" / "scenarios"
COMPOSITION_RESOURCE_NAME = "crossplane.io/composition-resource-name"
OBJECT_API_VERSION = {
    "namespaced": "kubernetes.m.crossplane.io/v1alpha1",
    "claims": "kubernetes.crossplane.io/v1alpha2",
}
HARMS = hostile.HARMS


def _docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc] if path.exists() else []


def _dump(path: Path, docs: list[dict[str, Any]]) -> None:
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False, width=1_000_000))


def own_input(example: Path) -> bool:
    """Whether the example renders with a function input of its own (input.yaml: the platform's placements),
    which the installed Configuration's Composition does not carry."""
    return (example / "input.yaml").exists()


def flavour_of(example: Path) -> str:
    kind = yaml.safe_load((example / "xr.yaml").read_text())["kind"]
    return "claims" if kind == "CompositeAIWorkspace" else "namespaced"


def renamespaced(doc: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """`doc` with every string of its spec that is exactly the namespace `old`, or names a Service of it
    (<service>.<old>.svc), moved to `new`: what a team names after its namespace follows it."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if node == old:
            return new
        return node.replace(f".{old}.svc", f".{new}.svc") if isinstance(node, str) else node

    return {**doc, "spec": walk(doc.get("spec", {}))}


def _test(name: str, description: str, steps: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "chainsaw.kyverno.io/v1alpha1",
        "kind": "Test",
        "metadata": {"name": name},
        "spec": {"description": description, **spec, "steps": steps},
    }


def _step(name: str, *operations: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "try": list(operations)}


def _synced() -> dict[str, Any]:
    return {"(conditions[?type == 'Synced'])": [{"status": "True"}]}


def _team_secrets(example: Path, composed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The team's own Secrets among the example's: those providers would publish (connection details) are not."""
    published = {ref["name"] for doc in composed if (ref := (doc.get("spec") or {}).get("writeConnectionSecretToRef"))}
    return [
        doc
        for doc in _docs(example / "required-resources.yaml")
        if doc.get("kind") == "Secret" and doc["metadata"]["name"] not in published
    ]


def expected(example: Path, address: str, tool: Any) -> list[dict[str, Any]]:
    """What a control plane without providers composes for the example: its golden render, unless the golden
    holds what providers report (the example's observed resources and connection details); then the converged
    render without them, through the real crossplane CLI, as the golden is made."""
    golden = _docs(GOLDEN / f"{example.name}.yaml")
    if not (example / "observed-resources.yaml").exists():
        return golden
    team = _team_secrets(example, golden[1:])
    with tempfile.TemporaryDirectory() as tmp:
        given = Path(tmp) / "team.yaml"
        given.write_text(yaml.safe_dump_all(team))
        stream = xp.converge(example, address, tool=tool, observed=None, required=given if team else None)
    return [doc for doc in yaml.safe_load_all(stream) if doc]


def example_scenario(example: Path, out: Path, node: bool, rendered: list[dict[str, Any]]) -> None:
    """The example's scenario, in out/<example>/, expecting `rendered` (expected())."""
    flavour = flavour_of(example)
    xr, composed = rendered[0], rendered[1:]
    created = _docs(example / ("claim.yaml" if flavour == "claims" else "xr.yaml"))[0]
    own = created["metadata"].get("namespace", "team-a")
    namespace = f"e2e-{example.name}"[:63]
    created = renamespaced(copy.deepcopy(created), own, namespace)
    created["metadata"]["namespace"] = namespace
    name = created["metadata"]["name"]
    # The team's own Secrets: those providers would publish (connection details) are not the team's.
    team = [
        {**doc, "metadata": {**doc["metadata"], "namespace": namespace}} for doc in _team_secrets(example, composed)
    ]
    manifests = [
        doc["spec"]["forProvider"]["manifest"] for doc in composed if doc["kind"] == "Object"
    ]  # what provider-kubernetes applies
    deployments = [m for m in manifests if m["kind"] == "Deployment"]
    root = any(
        m["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] in RUNS_AS_ROOT for m in deployments
    )
    level = "baseline" if root else "restricted"

    where = out / example.name
    where.mkdir(parents=True)
    _dump(where / "workspace.yaml", [created])
    if team:
        _dump(where / "team.yaml", team)

    # The workspace and, in the claims flavour, its composite: Synced, with as many resources as the render.
    composite: dict[str, Any] = {"apiVersion": xr["apiVersion"], "kind": xr["kind"]}
    if flavour == "namespaced":
        composite |= {"metadata": {"name": name}, "spec": {"(length(crossplane.resourceRefs || `[]`))": len(composed)}}
    else:
        labels = {"crossplane.io/claim-name": name, "crossplane.io/claim-namespace": namespace}
        composite |= {"metadata": {"labels": labels}, "spec": {"(length(resourceRefs || `[]`))": len(composed)}}
    composite["status"] = _synced()
    synced = [composite]
    if flavour == "claims":
        synced.insert(0, {"apiVersion": created["apiVersion"], "kind": created["kind"], "metadata": {"name": name},
                          "status": _synced()})  # fmt: skip
    _dump(where / "synced.yaml", synced)

    # Each composed resource of the render, found by the labels the function gives it in both flavours; an Object
    # also applied by provider-kubernetes.
    expected = []
    for doc in composed:
        key = doc["metadata"]["annotations"][COMPOSITION_RESOURCE_NAME]
        found: dict[str, Any] = {
            "apiVersion": doc["apiVersion"],
            "kind": doc["kind"],
            "metadata": {"labels": {NAMESPACE_LABEL: namespace, RESOURCE_LABEL: key}},
        }
        if doc["kind"] == "Object":
            found["status"] = _synced()
        expected.append(found)
    _dump(where / "composed.yaml", expected)

    status = {"chatUrl": xr["status"]["chatUrl"], "(length(components || `[]`) > `0`)": True}
    said = [{**{k: v for k, v in composite.items() if k != "spec"}, "status": status}]
    if flavour == "claims":
        said.append({"apiVersion": created["apiVersion"], "kind": created["kind"], "metadata": {"name": name},
                     "status": {"chatUrl": xr["status"]["chatUrl"]}})  # fmt: skip
    _dump(where / "status.yaml", said)

    applied = [
        {"apiVersion": m["apiVersion"], "kind": m["kind"], "metadata": {"name": m["metadata"]["name"]}}
        for m in manifests
    ]
    _dump(where / "applied.yaml", applied)

    steps = [
        _step(
            "the team's Secrets and its workspace are admitted",
            *([{"apply": {"file": "team.yaml"}}] if team else []),
            {"apply": {"file": "workspace.yaml"}},
        ),
        _step(
            "Synced, with the composed resources of the converged render",
            {"assert": {"file": "synced.yaml"}},
            {"assert": {"file": "composed.yaml"}},
        ),
        _step("its status carries the chat URL and the components", {"assert": {"file": "status.yaml"}}),
        _step("provider-kubernetes applied every Object to the API server", {"assert": {"file": "applied.yaml"}}),
    ]
    if node and deployments:
        # Created by its ReplicaSet (so admitted under the namespace's Pod Security level) and placed by the
        # scheduler (the node has the room of a large GPU worker: hack/fixture.py NODE_CPUS), so a volume that
        # cannot bind, a selector, toleration or affinity no node satisfies fails here.
        pods = [
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"labels": m["spec"]["selector"]["matchLabels"]},
                "status": {"(conditions[?type == 'PodScheduled'].status | [0])": "True"},
            }
            for m in deployments
        ]
        _dump(where / "pods.yaml", pods)
        steps.append(
            _step(
                f"every Deployment's pods created under Pod Security '{level}' and scheduled",
                {"assert": {"file": "pods.yaml"}},
            )
        )
    labels = {"pod-security.kubernetes.io/enforce": level, "pod-security.kubernetes.io/warn": level}
    test = _test(
        f"example-{example.name}",
        f"The {example.name} example, as a team applies it, composed as rendered.",
        steps,
        namespace=namespace,
        namespaceTemplate={"metadata": {"labels": labels}},
    )
    _dump(where / "chainsaw-test.yaml", [test])


def hostile_scenario(out: Path) -> int:
    """One hostile case of each class admission can refuse, refused by the API server naming its field."""
    steps = []
    for harm in HARMS:
        case = next(c for c in hostile.CORPUS if c.harm == harm and c.admission)
        manifest = {
            "apiVersion": "aiworkspace.io/v1alpha1",
            "kind": "AIWorkspace",
            "metadata": {"name": case.name},
            "spec": case.full_spec(),
        }
        check = {"($error != null)": True, f"(contains($error, '{case.field}'))": True}
        steps.append(_step(f"{harm}: {case.reason}", {"apply": {"dryRun": True, "resource": manifest,
                                                                  "expect": [{"check": check}]}}))  # fmt: skip
    (out / "hostile-specs").mkdir(parents=True)
    test = _test(
        "hostile-specs", "A hostile spec of each class of harm is refused at admission, naming its field.", steps
    )
    _dump(out / "hostile-specs" / "chainsaw-test.yaml", [test])
    return len(steps)


RESTORE_MARKER = "<!-- e2e: restore"


def readme_restore_commands() -> list[str]:
    """The README's restore procedure (the sh block after its `e2e: restore` marker), one command per entry, the
    continuation lines joined."""
    text = (ROOT / "README.md").read_text()
    block = text[text.index(RESTORE_MARKER) :].split("```sh\n", 1)[1].split("```", 1)[0]
    commands, current = [], ""
    for line in block.splitlines():
        current += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            commands.append(" ".join(current.split()))
            current = ""
    return [c for c in commands if c]


def restore_scenario(out: Path) -> None:
    """The README's restore procedure, run: its `create job` commands (the namespace the test's), on a workspace
    with backups; the restore Job made, with RESTORE_DUMP in every container and the labels the database's
    NetworkPolicy admits, and its pod created under Pod Security 'restricted'."""
    commands = [c.split("#", 1)[0].strip() for c in readme_restore_commands() if " create job " in c]
    if len(commands) != 2:
        raise SystemExit(f"README.md's restore procedure has {len(commands)} create job commands, not 2")
    script = "set -eu\n" + "\n".join(c.replace("-n team-a", '-n "$NAMESPACE"') for c in commands) + "\n"
    workspace = {
        "apiVersion": "aiworkspace.io/v1alpha1",
        "kind": "AIWorkspace",
        "metadata": {"name": "chat"},
        "spec": {"librechat": {"domain": "chat.example.com"}, "backups": {"enabled": True}},
    }
    restore = {"app.kubernetes.io/name": "mongodb-restore", "app.kubernetes.io/instance": "chat"}
    dump = next(w.split("=", 1)[1] for c in commands for w in c.split() if w.startswith("RESTORE_DUMP="))
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "chat-restore"},
        "spec": {"template": {"metadata": {"labels": restore}}},
    }
    steps = [
        _step(
            "a workspace with backups to its volume",
            {"apply": {"resource": workspace}},
            {
                "assert": {
                    "resource": {
                        "apiVersion": "batch/v1",
                        "kind": "CronJob",
                        "metadata": {"name": "chat-mongodb-restore"},
                        "spec": {"suspend": True},
                    }
                }
            },
        ),
        _step(
            "the README's restore commands",
            {"script": {"content": script, "env": [{"name": "NAMESPACE", "value": "($namespace)"}]}},
        ),
        _step(
            "the restore Job: RESTORE_DUMP set, the restore labels, its pod created",
            {
                "assert": {
                    "resource": {
                        **job,
                        "(spec.template.spec.containers[0].env[?name == 'RESTORE_DUMP'].value | [0])": dump,
                    }
                }
            },
            {
                "assert": {
                    "resource": {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "chat-restore-list"}}
                }
            },
            {
                "assert": {
                    "resource": {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {"labels": {**restore, "job-name": "chat-restore"}},
                    }
                }
            },
        ),
    ]
    labels = {"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted"}
    (out / "restore").mkdir(parents=True)
    test = _test(
        "restore",
        "The README's restore procedure makes a restore Job from the suspended CronJob.",
        steps,
        namespaceTemplate={"metadata": {"labels": labels}},
    )
    _dump(out / "restore" / "chainsaw-test.yaml", [test])


# The two-cluster scenario: examples/placement-remote-namespaced on a control plane whose second API server is the
# placement's workload cluster. hack/e2e.py sets it up as a platform would: the example's placements added to the
# input of the installed Composition (the XRD enforces that one), a provider-kubernetes ClusterProviderConfig of
# the placement's name reaching the second API server, whose kubeconfig it gives as $values.workloadKubeconfig; and
# the Secrets chart published where the name the function composes (release.SECRETS_CHART_REPOSITORY) leads Helm
# (fixture.PublishedChartRegistry, whose client settings it gives as $values.helmEnv).
PLACED_EXAMPLE = EXAMPLES / "placement-remote-namespaced"
# Every placed example the fixture runs, by the scenario's name: one remote cluster, and two regions on one cloud
# (its placements' provider configs reach the same second API server; its cloud datastores are composed in the
# control plane, in the placement's region, and stay unready with no cloud provider here).
PLACED_EXAMPLES = {
    "placement-workload-cluster": PLACED_EXAMPLE,
    "placement-regions": EXAMPLES / "placement-regions-namespaced",
    "placement-workload-cluster-claims": EXAMPLES / "placement-remote-claims",
}
# The managed kinds of a flavour a placed workspace composes: Objects and Releases, namespaced (the workspace's
# namespace) or cluster-scoped (found by the workspace's namespace label, as for a namespaced one).
MANAGED_KINDS = {
    "namespaced": "objects.kubernetes.m.crossplane.io,releases.helm.m.crossplane.io",
    "claims": "objects.kubernetes.crossplane.io,releases.helm.crossplane.io",
}
RELEASE_KIND = {"namespaced": "releases.helm.m.crossplane.io", "claims": "releases.helm.crossplane.io"}
# Each Object's manifest ($OBJECTS, kind/name) found in the workload cluster within two minutes.
IN_WORKLOAD_CLUSTER = r"""set -eu
for object in $OBJECTS; do
  for _ in $(seq 1 60); do
    kubectl --kubeconfig "$WORKLOAD" -n "$NAMESPACE" get "$object" >/dev/null 2>&1 && continue 2
    sleep 2
  done
  echo "$object is not in the workload cluster"
  exit 1
done
"""
# What a placed workspace leaves in the control plane's namespace besides Secrets: nothing (kube-root-ca.crt is
# the controller-manager's, in every namespace).
LEFT_IN_CONTROL_PLANE = r"""set -eu
left=$(kubectl -n "$NAMESPACE" get deployments,services,persistentvolumeclaims,networkpolicies,configmaps,cronjobs \
  -o name | grep -v '^configmap/kube-root-ca.crt$' || true)
if [ -n "$left" ]; then
  echo "left in the control plane: $left"
  exit 1
fi
"""
# Every value of the namespace's Secrets (but where a database is: host, port, username, database; and the carried
# values document itself), looked for in every Object and Release of the namespace, as written and base64-encoded.
NO_VALUE_IN_MANAGED_RESOURCES = r"""python3 - "$NAMESPACE" "$MANAGED" "$NAMESPACE_LABEL" <<'EOF'
import base64, json, subprocess, sys

def get(kinds, *selector):
    out = subprocess.run(["kubectl", "get", kinds, "-n", sys.argv[1], *selector, "-o", "json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)["items"]

values = set()
for item in get("secrets"):
    for key, value in (item.get("data") or {}).items():
        text = base64.b64decode(value).decode(errors="replace")
        if key not in ("host", "port", "username", "database", "values.yaml") and len(text) >= 8:
            values.add(text)
if not values:
    sys.exit("no secret values found to look for")
# Cluster-scoped in the claims flavour: the workspace's own are those labelled with its namespace.
managed = get(sys.argv[2], "-l", f"{sys.argv[3]}={sys.argv[1]}")
leaks = sorted({(m["kind"], m["metadata"]["name"]) for m in managed for v in values
                if v in json.dumps(m) or base64.b64encode(v.encode()).decode() in json.dumps(m)})
if leaks:
    sys.exit(f"secret values in {leaks}")
print(f"{len(values)} secret values, none in {len(managed)} Objects and Releases")
EOF
"""


# provider-helm's part, played by Helm. provider-helm cannot be built here: the Go module proxy serves
# github.com/crossplane-contrib/provider-helm@v1.4.0's .info and .mod but refuses its source (403 on the module's
# zip). So the pinned helm (HELM_VERSION: helm.sh/helm/v4 v4.2.3, the Helm library provider-helm v1.4.0 installs
# with, its go.mod) does what its Release reconciler does with the Release the function composed
# (pkg/controller/namespaced/release/release.go@v1.4.0, deploy): the values its valuesFrom names read from the
# control plane, its spec.values over them (values.go, composeValuesFromSpec), the chart pulled by repository, name
# and version (pkg/clients/helm/client.go, pullChart: <repository>/<name> for OCI), installed under the Release's
# external name in its namespace with its wait. A field of the Release this does not play (set, patchesFrom, a URL,
# a digest...) fails the step rather than be ignored. The Release's own status is provider-helm's to write: nothing
# here writes it.
HELM_PLAYS_PROVIDER_HELM = r"""python3 - <<'EOF'
import base64, json, os, subprocess, sys, tempfile, time

namespace, workload = os.environ["NAMESPACE"], os.environ["WORKLOAD"]
# The workspace's Release, namespaced or (claims) cluster-scoped: found by its key and its workspace's namespace.
selector = f"{os.environ['RELEASE_SELECTOR']},{os.environ['NAMESPACE_LABEL']}={namespace}"

def kubectl(*args):
    return json.loads(subprocess.run(["kubectl", *args, "-o", "json"], check=True, capture_output=True,
                                     text=True).stdout)

for _ in range(60):
    found = kubectl("get", os.environ["RELEASE_KIND"], "-n", namespace, "-l", selector)
    if found["items"]:
        break
    time.sleep(2)
else:
    sys.exit(f"no Release {selector} in the control plane")
release = found["items"][0]
spec = release["spec"]["forProvider"]
# maxHistory (the CRD defaults it) bounds upgrades only: provider-helm sets it on its upgrade client alone.
played = {"chart", "namespace", "skipCreateNamespace", "values", "valuesFrom", "wait", "waitTimeout", "maxHistory"}
if set(spec) - played or set(spec["chart"]) - {"repository", "name", "version"}:
    sys.exit(f"the Release asks for what this step does not play: {sorted(set(spec) - played)} {spec['chart']}")
name = release["metadata"]["annotations"]["crossplane.io/external-name"]
chart = spec["chart"]
env = {**os.environ, **json.loads(os.environ["HELM_ENV"])}
with tempfile.TemporaryDirectory() as tmp:
    for home in ("HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME"):
        env[home] = os.path.join(tmp, home.lower())
    files = []
    for index, source in enumerate(spec.get("valuesFrom") or []):
        ref = source["secretKeyRef"]
        secret = kubectl("get", "secret", ref["name"], "-n", namespace)
        files.append(os.path.join(tmp, f"values-from-{index}.yaml"))
        with open(files[-1], "wb") as out:
            out.write(base64.b64decode(secret["data"][ref["key"]]))
    files.append(os.path.join(tmp, "values.yaml"))
    with open(files[-1], "w") as out:
        json.dump(spec.get("values") or {}, out)
    command = ["helm", "install", name, f"{chart['repository'].rstrip('/')}/{chart['name']}", "--version",
               chart["version"], "--namespace", spec["namespace"], "--kubeconfig", workload]
    command += [arg for path in files for arg in ("--values", path)]
    if not spec.get("skipCreateNamespace"):
        command.append("--create-namespace")
    if spec.get("wait"):
        command += ["--wait=watcher", "--timeout", spec.get("waitTimeout", "5m")]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command[:4])} failed: {done.stderr}{done.stdout}")
    status = json.loads(subprocess.run(["helm", "status", name, "-n", spec["namespace"], "--kubeconfig", workload,
                                        "-o", "json"], env=env, check=True, capture_output=True, text=True).stdout)
if status["info"]["status"] != "deployed":
    sys.exit(f"release {name}: {status['info']['status']}")
print(f"{chart['repository']}/{chart['name']}:{chart['version']} installed as {name}: deployed")
EOF
"""
# Each Secret the values document carries ($CARRIED) in the workload cluster with the data of the control plane's
# Secret of that name, or, for the workspace's copy of the team's keys ($TEAM_KEYS), of the team's Secret keys it
# copies; each rendered by the Helm release (its annotations and label), and no other Secret of that release.
SECRETS_IN_WORKLOAD_CLUSTER = r"""python3 - <<'EOF'
import json, os, subprocess, sys

namespace, workload = os.environ["NAMESPACE"], os.environ["WORKLOAD"]
# The workspace's Release, namespaced or (claims) cluster-scoped: found by its key and its workspace's namespace.
selector = f"{os.environ['RELEASE_SELECTOR']},{os.environ['NAMESPACE_LABEL']}={namespace}"
carried, team_keys = json.loads(os.environ["CARRIED"]), json.loads(os.environ["TEAM_KEYS"])

def get(*args, kubeconfig=None):
    where = ["--kubeconfig", kubeconfig] if kubeconfig else []
    return json.loads(subprocess.run(["kubectl", *where, "get", *args, "-n", namespace, "-o", "json"],
                                     check=True, capture_output=True, text=True).stdout)

release = get(os.environ["RELEASE_KIND"], "-l", selector)["items"][0]
name = release["metadata"]["annotations"]["crossplane.io/external-name"]
there = {s["metadata"]["name"]: s for s in get("secrets", kubeconfig=workload)["items"]}
problems = []
for secret in carried:
    remote = there.get(secret)
    if remote is None:
        problems.append(f"{secret}: not in the workload cluster")
        continue
    if secret in team_keys:
        want = {key: get("secret", team)["data"][team_key] for key, (team, team_key) in team_keys[secret].items()}
    else:
        want = get("secret", secret)["data"]
    have = remote.get("data") or {}
    if have != want:
        differ = sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
        problems.append(f"{secret}: data differs from the control plane's at {differ}")
    annotations = remote["metadata"].get("annotations") or {}
    owner = (annotations.get("meta.helm.sh/release-name"), annotations.get("meta.helm.sh/release-namespace"),
             (remote["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by"))
    if owner != (name, namespace, "Helm"):
        problems.append(f"{secret}: not the Helm release {name}'s: {owner}")
rendered = sorted(s for s, r in there.items()
                  if (r["metadata"].get("annotations") or {}).get("meta.helm.sh/release-name") == name)
if rendered != sorted(carried):
    problems.append(f"the release {name} rendered {rendered}, not {sorted(carried)}")
if problems:
    sys.exit("; ".join(problems))
print(f"{len(carried)} Secrets in the workload cluster with the control plane's data, all of Helm release {name}")
EOF
"""


def carried_secrets(composed: list[dict[str, Any]]) -> tuple[list[str], dict[str, dict[str, list[str]]]]:
    """The Secrets the render's values document carries to the workload cluster (their names), and of those that
    exist only there (the workspace's copy of the team's keys), which team Secret key each of its keys copies."""
    values = next(
        doc for doc in composed if doc["kind"] == "Secret" and doc["metadata"]["labels"][RESOURCE_LABEL] == SECRET_KEY
    )
    encoded = (values.get("data") or {}).get(VALUES_KEY)
    text = base64.b64decode(encoded).decode() if encoded else values["stringData"][VALUES_KEY]
    document = json.loads(text)
    composed_secrets = {doc["metadata"]["name"] for doc in composed if doc["kind"] == "Secret"}
    team_keys: dict[str, dict[str, list[str]]] = {}
    for entry in document["secrets"]:
        if entry["name"] in composed_secrets:
            continue
        for key in entry["data"]:
            team, team_key = key.split("_", 1)  # team_key_name: '_' is in no Secret's name
            if team_key_name(SecretKeySelector(name=team, key=team_key)) != key:
                raise SystemExit(f"{entry['name']}: {key} is no team key this test can follow")
            team_keys.setdefault(entry["name"], {})[key] = [team, team_key]
    return [entry["name"] for entry in document["secrets"]], team_keys


def _in_region(composed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each composed cloud resource of the render (one with a region or location), found by its key with the
    region or location the render gives it."""
    found = []
    for doc in composed:
        for_provider = (doc.get("spec") or {}).get("forProvider") or {}
        where = {k: for_provider[k] for k in ("region", "location") if isinstance(for_provider.get(k), str)}
        if where:
            key = doc["metadata"]["annotations"][COMPOSITION_RESOURCE_NAME]
            found.append(
                {
                    "apiVersion": doc["apiVersion"],
                    "kind": doc["kind"],
                    "metadata": {"labels": {RESOURCE_LABEL: key}},
                    "spec": {"forProvider": where},
                }
            )
    return found


def placement_scenario(
    out: Path, rendered: list[dict[str, Any]], example: Path = PLACED_EXAMPLE, name: str = "placement-workload-cluster"
) -> None:
    """The placed example (expecting `rendered`, expected()) with its workload cluster: its Objects applied in the
    second API server; its cloud datastores in the control plane, in the placement's region; its Secrets chart,
    installed there as its Release asks (by Helm, playing provider-helm), rendering each Secret it carries with the
    control plane's data; nothing of it but Secrets in the control plane's namespace, and no Secret's value in any
    Object or Release there."""
    flavour = flavour_of(example)
    created = _docs(example / ("claim.yaml" if flavour == "claims" else "xr.yaml"))[0]
    created["metadata"].pop("namespace", None)
    team = [
        {**doc, "metadata": {k: v for k, v in doc["metadata"].items() if k != "namespace"}}
        for doc in _team_secrets(example, rendered[1:])
    ]
    manifests = [doc["spec"]["forProvider"]["manifest"] for doc in rendered[1:] if doc["kind"] == "Object"]
    where = out / name
    where.mkdir(parents=True)
    _dump(where / "workspace.yaml", [created])
    _dump(where / "team.yaml", team)
    in_region = _in_region(rendered[1:])
    if in_region:
        _dump(where / "in-region.yaml", in_region)
    objects = " ".join(f"{m['kind'].lower()}/{m['metadata']['name']}" for m in manifests)
    carried, team_keys = carried_secrets(rendered[1:])
    env = [
        {"name": "WORKLOAD", "value": "($values.workloadKubeconfig)"},
        {"name": "NAMESPACE", "value": "($namespace)"},
        {"name": "NAMESPACE_LABEL", "value": NAMESPACE_LABEL},
    ]
    helm_env = [
        *env,
        {"name": "RELEASE_SELECTOR", "value": f"{RESOURCE_LABEL}={WORKLOAD_SECRETS_RELEASE}"},
        {"name": "RELEASE_KIND", "value": RELEASE_KIND[flavour]},
        {"name": "HELM_ENV", "value": "($values.helmEnv)"},
        {"name": "CARRIED", "value": json.dumps(carried)},
        {"name": "TEAM_KEYS", "value": json.dumps(team_keys, sort_keys=True)},
    ]
    create_namespace = 'kubectl --kubeconfig "$WORKLOAD" create namespace "$NAMESPACE"'
    synced = {
        "apiVersion": created["apiVersion"],
        "kind": created["kind"],
        "metadata": {"name": created["metadata"]["name"]},
        "status": _synced(),
    }
    steps = [
        _step(
            "the workspace's namespace exists in the placement's cluster, as the platform creates it there",
            {"script": {"content": create_namespace, "env": env}},
        ),
        _step(
            "the team's Secret and its workspace, placed, Synced",
            {"apply": {"file": "team.yaml"}},
            {"apply": {"file": "workspace.yaml"}},
            {"assert": {"resource": synced}},
        ),
        _step(
            "provider-kubernetes applied every Object in the workload cluster",
            {
                "script": {
                    "content": IN_WORKLOAD_CLUSTER,
                    "env": [*env, {"name": "OBJECTS", "value": objects}],
                    "timeout": "150s",
                }
            },
        ),
        *(
            [
                _step(
                    "its cloud datastores composed in the control plane, in the placement's region",
                    {"assert": {"file": "in-region.yaml"}},
                )
            ]
            if in_region
            else []
        ),
        _step(
            "provider-helm's part, played by the pinned Helm: the Secrets chart pulled by the name the Release "
            "composes and installed in the workload cluster with the values its valuesFrom reads",
            {"script": {"content": HELM_PLAYS_PROVIDER_HELM, "env": helm_env, "timeout": "150s"}},
        ),
        _step(
            "every Secret the workspace carries in the workload cluster, with the control plane's data, "
            "rendered by the Helm release",
            {"script": {"content": SECRETS_IN_WORKLOAD_CLUSTER, "env": helm_env}},
        ),
        _step(
            "nothing of the workspace but its Secrets in the control plane's namespace",
            {"script": {"content": LEFT_IN_CONTROL_PLANE, "env": env}},
        ),
        _step(
            "no Secret's value in any Object or Release",
            {
                "script": {
                    "content": NO_VALUE_IN_MANAGED_RESOURCES,
                    "env": [*env, {"name": "MANAGED", "value": MANAGED_KINDS[flavour]}],
                }
            },
        ),
    ]
    test = _test(
        name,
        f"{example.name}: a workspace placed in a workload cluster (a second API server): its Objects there, its "
        "Secrets carried there by its Secrets chart without their values in any managed resource.",
        steps,
    )
    _dump(where / "chainsaw-test.yaml", [test])


def kinds(flavour: str) -> set[tuple[str, str]]:
    """(group, kind) of everything the flavour's examples compose, and of what their Objects hold that only a CRD
    defines (ServiceMonitor, PrometheusRule): the CRDs the fixture installs."""
    out: set[tuple[str, str]] = set()
    for example in EXAMPLES.iterdir():
        if not (example / "xr.yaml").exists() or flavour_of(example) != flavour:
            continue
        for doc in _docs(GOLDEN / f"{example.name}.yaml")[1:]:
            out.add(_group_kind(doc))
            if doc["kind"] == "Object":
                group, kind = _group_kind(doc["spec"]["forProvider"]["manifest"])
                if "." in group and not group.endswith(".k8s.io"):
                    out.add((group, kind))
    return out


def _group_kind(doc: dict[str, Any]) -> tuple[str, str]:
    api_version = str(doc["apiVersion"])
    return (api_version.split("/")[0] if "/" in api_version else "", str(doc["kind"]))


def write(
    flavour: str,
    out: Path,
    *,
    node: bool,
    only: list[str] | None = None,
    workload: Path | None = None,
    helm_env: dict[str, str] | None = None,
) -> list[str]:
    """Every scenario of the flavour in `out` (and values.yaml beside them); the names of the tests. With the
    kubeconfig of a `workload` cluster (the namespaced flavour) and the settings that lead Helm to the published
    Secrets chart (`helm_env`), also the two-cluster scenario."""
    names = []
    tool = xp.tools()
    with xp.function_server() as address:
        for example in sorted(p for p in EXAMPLES.iterdir() if (p / "xr.yaml").exists()):
            if own_input(example):
                continue  # the platform's placements: workload clusters the fixture's control plane does not reach
            if flavour_of(example) == flavour and (not only or example.name in only):
                example_scenario(example, out, node, expected(example, address, tool))
                names.append(f"example-{example.name}")
        for name, example in PLACED_EXAMPLES.items():
            if workload is not None and flavour == flavour_of(example) and (not only or name in only):
                placement_scenario(out, expected(example, address, tool), example, name)
                names.append(name)
    if not only:
        hostile_scenario(out)
        names.append("hostile-specs")
        restore_scenario(out)
        names.append("restore")
        for scenario in sorted(SCENARIOS.iterdir()):
            if scenario.name == "node-runs-pods" and not node:
                continue
            shutil.copytree(scenario, out / scenario.name)
            names.append(scenario.name)
    values = {"flavour": flavour, "objectApiVersion": OBJECT_API_VERSION[flavour]}
    if workload is not None:
        values["workloadKubeconfig"] = str(workload)
        values["helmEnv"] = json.dumps(helm_env or {}, sort_keys=True)
    (out / "values.yaml").write_text(yaml.safe_dump(values))
    return names
