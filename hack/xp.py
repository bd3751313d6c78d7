"""Drive the real crossplane CLI: render an example through the locally served function, validate output.

    python hack/xp.py render examples/basic-namespaced     # the rendered YAML stream, nothing else on stdout
    python hack/xp.py validate FILE|-                      # crossplane resource validate against CRDs and XRDs
    python hack/xp.py crds                                 # where the providers' CRDs come from, or why none

Used by the Makefile and the tests alike, so what a developer runs is what CI checks.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHARED_CRDS = Path(os.environ.get("SHARED_CRDS") or ROOT.parent / "shared" / "crds")
PROVIDERS = ROOT / "hack" / "providers.yaml"
EXAMPLES = ROOT / "examples"
FLAVOURS = {"CompositeAIWorkspace": "claims", "AIWorkspace": "namespaced"}


@dataclass(frozen=True)
class Tools:
    crossplane: str
    core: str
    core_crds: str  # core Crossplane's Usage, ClusterUsage, DeploymentRuntimeConfig and MRAP CRDs
    helm: str  # helm, to render the pinned LibreChat chart with composed values
    kubectl: str  # the README's kubectl commands are checked against it
    promtool: str  # Prometheus's promtool, to check and unit-test the composed alerting rules


def tools() -> Tools:
    """Paths of the cached CLI and core binaries (hack/tools.sh builds them on first use)."""
    out = subprocess.run(
        ["bash", str(ROOT / "hack" / "tools.sh"), "--print"], check=True, capture_output=True, text=True
    ).stdout
    paths = dict(line.split("=", 1) for line in out.strip().splitlines())
    return Tools(
        crossplane=paths["CROSSPLANE"],
        core=paths["CROSSPLANE_CORE"],
        core_crds=paths["CROSSPLANE_CORE_CRDS"],
        helm=paths["HELM"],
        kubectl=paths["KUBECTL"],
        promtool=paths["PROMTOOL"],
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a server and wait for it; kill it if it does not go within 10s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def wait_listening(proc: subprocess.Popen[bytes], address: str, what: str, timeout: float = 30) -> None:
    """Wait until `proc` accepts connections on host:port `address`; fail if it exits or takes too long."""
    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early ({proc.returncode})")
        with contextlib.suppress(OSError), socket.create_connection((host, int(port)), timeout=0.2):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen on {address} within {timeout:.0f}s")
        time.sleep(0.05)


@contextlib.contextmanager
def function_server() -> Iterator[str]:
    """Serve the function locally (insecure, loopback only) and yield its address."""
    port = _free_port()
    address = f"127.0.0.1:{port}"
    log = tempfile.TemporaryFile()  # noqa: SIM115 - outlives this statement; closed in finally
    proc = subprocess.Popen(
        [sys.executable, "-m", "function.main", "--insecure", "--address", address, "--metrics-address", ""],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        try:
            wait_listening(proc, address, "function")
        except RuntimeError as error:
            log.seek(0)
            raise RuntimeError(f"{error}:\n{log.read().decode(errors='replace')}") from None
        yield address
    finally:
        stop(proc)
        log.close()


def render_seed() -> bytes:
    """The seed render gives the function (examples/function-credentials.yaml)."""
    doc = yaml.safe_load((EXAMPLES / "function-credentials.yaml").read_text())
    return base64.b64decode(doc["data"]["seed"])


def flavour_of(example: Path) -> str:
    xr = yaml.safe_load((example / "xr.yaml").read_text())
    return FLAVOURS[xr["kind"]]


_EXAMPLE_FILE = Path("<the example's own>")


def _own(example: Path, name: str, given: Path | None) -> Path | None:
    """`given`, or for _EXAMPLE_FILE the example's file of that name when it has one."""
    if given != _EXAMPLE_FILE:
        return given
    return example / name if (example / name).exists() else None


def composition(example: Path) -> dict[str, Any]:
    """The Composition an example renders with: its flavour's, with the example's own function input
    (input.yaml, the Input a platform writes in its Composition, e.g. its placements) when it has one."""
    flavour = flavour_of(example)
    document: dict[str, Any] = yaml.safe_load((ROOT / "apis" / flavour / "composition.yaml").read_text())
    own = example / "input.yaml"
    if own.exists():
        document["spec"]["pipeline"][0]["input"] = yaml.safe_load(own.read_text())
    return document


def step_input(example: Path) -> dict[str, Any]:
    """The function input an example's Composition gives (see composition)."""
    found: dict[str, Any] = composition(example)["spec"]["pipeline"][0]["input"]
    return found


def render(
    example: Path,
    address: str,
    *,
    results: bool = False,
    tool: Tools | None = None,
    observed: Path | None = _EXAMPLE_FILE,
    required: Path | None = _EXAMPLE_FILE,
) -> str:
    """The real `crossplane composition render` of an example directory.

    `observed` and `required` replace the example's observed-resources.yaml and required-resources.yaml
    (None: none at all)."""
    tool = tool or tools()
    flavour = flavour_of(example)
    observed = _own(example, "observed-resources.yaml", observed)
    required = _own(example, "required-resources.yaml", required)
    composition_file = ROOT / "apis" / flavour / "composition.yaml"
    with tempfile.TemporaryDirectory(prefix="render-") as scratch:
        if (example / "input.yaml").exists():
            composition_file = Path(scratch) / "composition.yaml"
            composition_file.write_text(yaml.safe_dump(composition(example), sort_keys=False))
        return _render(example, address, tool, composition_file, observed, required, results)


def _render(
    example: Path,
    address: str,
    tool: Tools,
    composition_file: Path,
    observed: Path | None,
    required: Path | None,
    results: bool,
) -> str:
    args = [
        tool.crossplane,
        "composition",
        "render",
        str(example / "xr.yaml"),
        str(composition_file),
        str(EXAMPLES / "functions.yaml"),
        "--crossplane-binary",
        tool.core,
        "--xrd",
        str(ROOT / "apis" / flavour_of(example) / "definition.yaml"),
        "--include-full-xr",
        "--function-annotations",
        f"render.crossplane.io/runtime-development-target={address}",
        "--function-credentials",
        str(EXAMPLES / "function-credentials.yaml"),
        "--timeout",
        "60s",
    ]
    if required is not None:
        args += ["--required-resources", str(required)]
    if observed is not None:
        args += ["--observed-resources", str(observed)]
    if results:
        args.append("--include-function-results")
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"render of {example} failed ({proc.returncode}):\n{proc.stderr}{proc.stdout}")
    return proc.stdout


RESOURCE_NAME = "crossplane.io/composition-resource-name"


def resource_key(doc: dict[str, Any]) -> str:
    """A composed resource's key (its composition-resource-name annotation); '' when it has none."""
    return str(doc.get("metadata", {}).get("annotations", {}).get(RESOURCE_NAME, ""))


def _yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc] if path.exists() else []


def example_state(example: Path) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, str]]]:
    """An example's observed resources by key, and the connection details Crossplane reads for them: the data of
    the connection Secret each names (spec.writeConnectionSecretToRef) among the example's required resources,
    where render's connection-details fetcher finds it."""
    stored = _yaml_docs(example / "required-resources.yaml")
    secrets = {(d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in stored if d["kind"] == "Secret"}
    observed: dict[str, dict[str, Any]] = {}
    connections: dict[str, dict[str, str]] = {}
    for doc in _yaml_docs(example / "observed-resources.yaml"):
        key = resource_key(doc)
        observed[key] = doc
        ref = (doc.get("spec") or {}).get("writeConnectionSecretToRef")
        if ref:
            found = secrets.get((ref.get("namespace", doc["metadata"].get("namespace")), ref["name"]))
            if found:
                connections[key] = {k: base64.b64decode(v).decode() for k, v in found.get("data", {}).items()}
    return observed, connections


def converge(
    example: Path,
    address: str,
    *,
    passes: int = 5,
    tool: Tools | None = None,
    observed: Path | None = _EXAMPLE_FILE,
    required: Path | None = _EXAMPLE_FILE,
) -> str:
    """Render until the workspace stops changing, as a control plane converges (at most `passes` renders).

    Each pass feeds the previous pass's composed resources back as observed resources: they exist but report
    nothing (no provider has acted on them), so whatever waits for a resource to exist appears, and whatever
    waits for a provider's output (readiness, connection details) keeps waiting. Resources in `observed` (the
    example's observed-resources.yaml by default) are observed as written there, with their status.
    """
    tool = tool or tools()
    observed = _own(example, "observed-resources.yaml", observed)
    given = {resource_key(doc): doc for doc in yaml.safe_load_all(observed.read_text()) if doc} if observed else {}
    stream = render(example, address, tool=tool, observed=observed, required=required)
    previous: list[dict[str, Any]] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(passes - 1):
            composed = [doc for doc in list(yaml.safe_load_all(stream))[1:] if doc]
            if composed == previous:
                break
            previous = composed
            fed = Path(tmp) / "observed.yaml"
            fed.write_text(yaml.safe_dump_all([given.get(resource_key(doc), doc) for doc in composed], sort_keys=True))
            stream = render(example, address, tool=tool, observed=fed, required=required)
    return stream


class MissingChartError(RuntimeError):
    """Neither the chart mirror nor the chart's OCI registry is available."""


def librechat_chart(tool: Tools | None = None) -> Path:
    """The pinned LibreChat chart (function/versions.py LIBRECHAT_CHART), with its dependencies, ready for
    `helm template`; prepared once in a cache outside the clone, from:

    1. the directory LIBRECHAT_CHART_DIR names, or ../shared/charts/librechat-<version> beside the clone (an
       offline mirror of the chart's source at its release tag, with its subcharts rebuilt from source);
    2. the chart's OCI registry, with `helm pull` (the published package holds its subcharts);
    3. otherwise MissingChartError, naming both ways to provide it.
    """
    from function.versions import LIBRECHAT_CHART  # noqa: PLC0415 - the function's own pin

    version = LIBRECHAT_CHART.version
    ready = _package_cache().parent / "charts" / f"{LIBRECHAT_CHART.name}-{version}"
    if (ready / "Chart.yaml").is_file():
        return ready
    mirror = Path(os.environ.get("LIBRECHAT_CHART_DIR") or ROOT.parent / "shared" / "charts" / f"librechat-{version}")
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "chart"
        if (mirror / "librechat" / "Chart.yaml").is_file():
            shutil.copytree(mirror / "librechat", staged)
            if (mirror / "render-test" / "subcharts").is_dir():
                shutil.copytree(mirror / "render-test" / "subcharts", staged / "charts")
        else:
            tool = tool or tools()
            proc = subprocess.run(
                [
                    tool.helm,
                    "pull",
                    f"{LIBRECHAT_CHART.repository}/{LIBRECHAT_CHART.name}",
                    "--version",
                    version,
                    "--untar",
                    "--untardir",
                    tmp,
                ],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if proc.returncode != 0:
                raise MissingChartError(
                    f"the LibreChat chart {version} is needed to check how it prints the values the function "
                    f"composes.\n  Either set LIBRECHAT_CHART_DIR to a directory holding librechat/ (its source at "
                    f"the release tag) and render-test/subcharts/, or let helm pull "
                    f"{LIBRECHAT_CHART.repository}/{LIBRECHAT_CHART.name}:{version}, which answered: "
                    f"{proc.stderr.strip()}"
                )
            (Path(tmp) / LIBRECHAT_CHART.name).rename(staged)
        chart = yaml.safe_load((staged / "Chart.yaml").read_text())
        if chart.get("version") != version:
            raise MissingChartError(f"{mirror or 'the pulled chart'} holds chart {chart.get('version')}, not {version}")
        ready.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(ready, ignore_errors=True)
        shutil.move(str(staged), ready)
    return ready


def helm_template(release: str, namespace: str, values: dict[str, Any], tool: Tools | None = None) -> str:
    """`helm template` of the pinned LibreChat chart with the values a Release composes, as provider-helm would
    install it (same Helm library; the API version of the control plane's Kubernetes)."""
    tool = tool or tools()
    chart = librechat_chart(tool)
    kube = _pins()["KUBERNETES_VERSION"]
    with tempfile.TemporaryDirectory() as tmp:
        given = Path(tmp) / "values.yaml"
        given.write_text(json.dumps(values))
        proc = subprocess.run(
            [
                tool.helm,
                "template",
                release,
                str(chart),
                "--namespace",
                namespace,
                "--kube-version",
                kube,
                "-f",
                str(given),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"helm template failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


class MissingCRDsError(RuntimeError):
    """Neither the CRD mirror nor the provider packages are available."""


def _package_cache() -> Path:
    """Where `resource validate` keeps the provider packages it fetched (outside the clone)."""
    if os.environ.get("FUNCTION_AI_WORKSPACE_XPKG_CACHE"):
        return Path(os.environ["FUNCTION_AI_WORKSPACE_XPKG_CACHE"])
    root = (
        os.environ.get("FUNCTION_AI_WORKSPACE_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "function-ai-workspace"
    )
    return Path(root) / "xpkg"


def _run_validate(tool: Tools, sources: list[str], resources: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    # An existing (empty) cache entry for the Crossplane image stops validate from downloading it.
    (cache / "xpkg.crossplane.io" / "crossplane" / "crossplane@stable").mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [
            tool.crossplane,
            "resource",
            "validate",
            ",".join(sources),
            str(resources),
            "--cache-dir",
            str(cache),
            "--error-on-missing-schemas",
            "--output",
            "json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@dataclass(frozen=True)
class CRDSource:
    sources: list[str]  # what `resource validate` reads the providers' CRDs from
    cache: Path | None  # validate's package cache, when the CRDs come from the packages
    description: str


_CRD_SOURCE: list[CRDSource] = []


def crd_source(tool: Tools | None = None) -> CRDSource:
    """Where the providers' CRDs come from (see _find_crd_source); found once per process."""
    if not _CRD_SOURCE:
        _CRD_SOURCE.append(_find_crd_source(tool))
    return _CRD_SOURCE[0]


PROMETHEUS_OPERATOR_CRDS = ("servicemonitors", "podmonitors", "prometheusrules")


def _pins() -> dict[str, str]:
    text = (ROOT / "hack" / "versions.env").read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def _prometheus_operator_crds() -> Path:
    """The monitoring.coreos.com CRDs (ServiceMonitor, PodMonitor, PrometheusRule) at the pinned
    prometheus-operator release, from its example/prometheus-operator-crd, downloaded once into the cache."""
    version = _pins()["PROMETHEUS_OPERATOR_VERSION"]
    into = _package_cache().parent / "crds" / f"prometheus-operator-{version}"
    for name in PROMETHEUS_OPERATOR_CRDS:
        path = into / f"monitoring.coreos.com_{name}.yaml"
        if path.exists():
            continue
        url = (
            "https://raw.githubusercontent.com/prometheus-operator/prometheus-operator/"
            f"{version}/example/prometheus-operator-crd/{path.name}"
        )
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                text = response.read().decode()
        except OSError as error:
            raise MissingCRDsError(
                "the prometheus-operator CRDs are not available, so no ServiceMonitor or PrometheusRule can be "
                f"validated.\n  Either set SHARED_CRDS to a directory holding them (prometheus-operator/), or let "
                f"the tests download {url}, which failed: {error}"
            ) from None
        into.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return into


def _find_crd_source(tool: Tools | None = None) -> CRDSource:
    """Where the providers' CRDs come from, in this order:

    1. the directory SHARED_CRDS names, or ../shared/crds beside the clone (an offline mirror);
    2. the provider packages pinned in hack/providers.yaml, fetched by `crossplane resource validate` the
       way it fetches any Provider package, into a cache outside the clone (once; later runs reuse it);
    3. otherwise MissingCRDsError, naming both ways to provide them.
    """
    if SHARED_CRDS.is_dir():
        dirs = [str(path) for path in sorted(SHARED_CRDS.iterdir()) if path.is_dir()]
        return CRDSource(dirs, None, f"the CRD mirror in {SHARED_CRDS}")
    tool = tool or tools()
    cache = _package_cache()
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "nothing.yaml"
        empty.write_text("")
        proc = _run_validate(tool, [str(PROVIDERS)], empty, cache)
    if proc.returncode == 0:
        monitoring = _prometheus_operator_crds()
        return CRDSource(
            [str(PROVIDERS), str(monitoring)],
            cache,
            f"the provider packages of {PROVIDERS.name}, cached in {cache}, and the CRDs in {monitoring}",
        )
    kinds = sorted(
        {
            doc["spec"]["package"].rsplit("/", 1)[-1]
            for doc in yaml.safe_load_all(PROVIDERS.read_text())
            if doc and doc.get("kind") == "Provider"
        }
    )
    detail = (proc.stderr or proc.stdout).strip().splitlines()
    raise MissingCRDsError(
        "the providers' CRDs are not available, so no composed resource can be validated.\n"
        f"  Missing: the CRDs of {', '.join(kinds)}.\n"
        f"  Either set SHARED_CRDS to a directory holding them (one folder per provider; {SHARED_CRDS} does "
        "not exist),\n"
        f"  or let `crossplane resource validate` fetch the packages pinned in hack/providers.yaml: that needs "
        f"their registries (xpkg.crossplane.io, xpkg.upbound.io), which answered: "
        f"{detail[-1] if detail else 'nothing'}"
    )


def crd_documents(source: CRDSource) -> list[dict[str, Any]]:
    """The CustomResourceDefinitions of a CRD source, as parsed documents."""
    roots = [Path(p) for p in source.sources if Path(p).is_dir()]
    if source.cache is not None:
        roots.append(source.cache)
    docs = []
    for root in roots:
        for path in sorted(root.rglob("*.yaml")) if root.is_dir() else []:
            for doc in yaml.safe_load_all(path.read_text()):
                if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                    docs.append(doc)
    return docs


def schema_sources(tool: Tools, crds: CRDSource | None = None) -> list[str]:
    """Every CRD and XRD a rendered workspace is validated against."""
    crds = crds or crd_source(tool)
    return [
        *crds.sources,
        tool.core_crds,
        str(ROOT / "apis" / "claims" / "definition.yaml"),
        str(ROOT / "apis" / "namespaced" / "definition.yaml"),
    ]


def validate(documents: str, *, tool: Tools | None = None, cache_dir: Path | None = None) -> dict[str, object]:
    """`crossplane resource validate` of a YAML stream, offline once the CRDs are at hand; returns the report."""
    tool = tool or tools()
    crds = crd_source(tool)
    with tempfile.TemporaryDirectory() as tmp:
        cache = cache_dir or crds.cache or Path(tmp)
        resources = Path(tmp) / "resources.yaml"
        resources.write_text(documents)
        proc = _run_validate(tool, schema_sources(tool, crds), resources, cache)
    try:
        report: dict[str, object] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"validate gave no JSON report ({proc.returncode}):\n{proc.stderr}{proc.stdout}") from None
    return report


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "render":
        passes = int(os.environ.get("RENDER_PASSES") or 5)
        with function_server() as address:
            sys.stdout.write(converge(Path(argv[1]).resolve(), address, passes=max(passes, 1)))
        return 0
    if argv == ["crds"]:
        try:
            print(f"provider CRDs: {crd_source().description}", file=sys.stderr)
        except MissingCRDsError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        return 0
    if len(argv) == 2 and argv[0] == "validate":
        text = sys.stdin.read() if argv[1] == "-" else Path(argv[1]).read_text()
        report = validate(text)
        print(json.dumps(report["summary"], indent=2))
        summary = report["summary"]
        assert isinstance(summary, dict)
        return 0 if summary.get("invalid") == 0 and summary.get("missingSchemas") == 0 else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
