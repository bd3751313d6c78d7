"""The e2e fixture: one real control plane on loopback, started once per run and shared by every scenario.

    from fixture import Fixture
    with Fixture.up("namespaced", kinds) as fx:    # etcd, kube-apiserver, controller-manager, Crossplane,
        fx.kubeconfig                               # the registry, the function, provider-kubernetes, a node,
                                                    # the core Configuration
        fx.cloud_on_top("aws")                      # a cloud's Configuration on top of the core
        fx.second_api_server()                      # another API server (a workload cluster), when a case needs one
        publish_secrets_chart(fx.cp, fx.registry)   # the Secrets chart, served to Helm by its published name

Every piece is built from the Go module proxy by `hack/tools.sh e2e` (pinned in hack/versions.env) or comes from
Debian's packages (the node's containerd, runc and CNI plugins), and every process is stopped by PID at the end.
Where it may (root, `unshare`), the whole run lives in a private network namespace, so nothing listens beyond its
own loopback and the node's bridge.

The function reaches Crossplane the way a platform installs it: `make package` builds the package, which is
pushed to a loopback OCI registry and installed as a `Function` by its published name (ImageConfigs point the
published names at the registry); the package manager pulls and unpacks it. The External runtime then waits for
someone to serve it, which the fixture does: the function runs locally with a server certificate signed by
Crossplane's own root CA, and the FunctionRevision's status is told its TLS Secret and endpoint, as a runtime
controller would. The core Configuration is installed the same way, its dependencies resolved by the package
manager: the function, found installed, and stand-ins of provider-helm and provider-kubernetes (their meta and
pinned CRDs, no controller), which it installs from the registry; a cloud's Configuration goes on top of it later
(Fixture.cloud_on_top).
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import copy
import fcntl
import functools
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import oci
import packages
import upgrade
import xp

from function import release, xrds

ROOT = xp.ROOT
FLAVOURS = ("namespaced", "claims")
FUNCTION = xrds.FUNCTION_NAME  # the name the Configurations' dependency on it installs it under
PACKAGE_FILE = packages.FUNCTION_XPKG
SYSTEM = "crossplane-system"
XRD_NAMES = {"namespaced": "aiworkspaces.aiworkspace.io", "claims": "compositeaiworkspaces.aiworkspace.io"}
TIMEOUT = float(os.environ.get("E2E_TIMEOUT", "120"))


class E2EError(Exception):
    """A check or a step failed; the message says which and why."""


def log(message: str) -> None:
    print(f"e2e: {message}", file=sys.stderr, flush=True)


def say(line: str) -> None:
    """One result line on stdout."""
    print(line, flush=True)


def wait_for(what: str, check: Callable[[], Any], timeout: float = TIMEOUT, interval: float = 0.5) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` and the last thing seen."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
        except E2EError as error:
            last = error
        if last and not isinstance(last, E2EError):
            return last
        if time.monotonic() > deadline:
            raise E2EError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last})")
        time.sleep(interval)


@dataclass(frozen=True)
class E2ETools:
    crossplane: str
    core: str
    etcd: str
    apiserver: str
    controller_manager: str
    kubectl: str
    registry: str
    core_crds: str
    provider_kubernetes: str
    scheduler: str
    kubelet: str
    chainsaw: str
    helm: str


def e2e_tools() -> E2ETools:
    proc = subprocess.run(
        ["bash", str(ROOT / "hack" / "tools.sh"), "e2e", "--print"], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise E2EError(f"building the control plane failed (hack/tools.sh e2e):\n{proc.stderr}")
    paths = dict(line.split("=", 1) for line in proc.stdout.strip().splitlines())
    return E2ETools(
        crossplane=paths["CROSSPLANE"],
        core=paths["CROSSPLANE_CORE"],
        etcd=paths["ETCD"],
        apiserver=paths["KUBE_APISERVER"],
        controller_manager=paths["KUBE_CONTROLLER_MANAGER"],
        kubectl=paths["KUBECTL"],
        registry=paths["REGISTRY"],
        core_crds=paths["CROSSPLANE_ALL_CRDS"],
        provider_kubernetes=paths["PROVIDER_KUBERNETES"],
        scheduler=paths["KUBE_SCHEDULER"],
        kubelet=paths["KUBELET"],
        chainsaw=paths["CHAINSAW"],
        helm=paths["HELM"],
    )


def openssl(*args: str) -> None:
    proc = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise E2EError(f"openssl {args[0]} failed: {proc.stderr}")


def free_port() -> int:
    return xp._free_port()


@dataclass
class Process:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


@dataclass
class ControlPlane:
    """One control plane in a temporary directory; every process it starts is stopped by PID on exit."""

    tools: E2ETools
    dir: Path
    processes: list[Process] = field(default_factory=list)
    provider_kubernetes: Process | None = None
    crossplane_metrics_port: int = 0  # core Crossplane's Prometheus metrics (function_run_function_*)
    # How functions run: "Deployment" (Crossplane's default runtime: a pod on the node, from the package's embedded
    # image) when there is a node, else "External" (the fixture serves the function from the checkout).
    function_runtime: str = "External"
    hosts: Path | None = None  # the /etc/hosts Crossplane resolves with, when functions run as pods (ClusterDNS)
    kubeconfig: Path = field(init=False)
    env: dict[str, str] = field(init=False)

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Process:
        log_path = self.dir / f"{name}.log"
        with log_path.open("wb") as out:
            proc = subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        process = Process(name, proc, log_path)
        self.processes.append(process)
        return process

    def alive(self, process: Process) -> None:
        if process.proc.poll() is not None:
            raise E2EError(f"{process.name} exited ({process.proc.returncode}):\n{process.tail()}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.proc.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.proc.pid, signal.SIGKILL)
                process.proc.wait(timeout=5)
        self.processes.clear()

    # kubectl -----------------------------------------------------------------------------------------------

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [self.tools.kubectl, "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and proc.returncode != 0:
            raise E2EError(f"kubectl {' '.join(args)} failed: {proc.stderr.strip() or proc.stdout.strip()}")
        return proc

    def apply(self, documents: list[dict[str, Any]] | str, *, server_side: bool = False) -> None:
        text = documents if isinstance(documents, str) else yaml.safe_dump_all(documents, sort_keys=False)
        args = ["apply", "-f", "-"]
        if server_side:
            args += ["--server-side", "--force-conflicts", "--field-manager", "e2e"]
        self.kubectl(*args, stdin=text)

    def get(self, *args: str) -> Any:
        proc = self.kubectl("get", *args, "-o", "json", check=False)
        if proc.returncode != 0:
            if "NotFound" in proc.stderr or "not found" in proc.stderr:
                return None
            raise E2EError(f"kubectl get {' '.join(args)} failed: {proc.stderr.strip()}")
        return json.loads(proc.stdout)

    # bring-up ----------------------------------------------------------------------------------------------

    def up(self) -> None:
        self._certificates()
        self._etcd_and_apiserver()
        self._controller_manager()
        self._crossplane()

    def _certificates(self) -> None:
        pki = self.dir / "pki"
        pki.mkdir()
        openssl(
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(pki / "apiserver.key"),
            "-out",
            str(pki / "apiserver.crt"),
        )
        openssl("genrsa", "-out", str(pki / "sa.key"), "2048")
        openssl("rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))
        self.token = base64.b32encode(os.urandom(20)).decode().lower()
        (pki / "tokens.csv").write_text(f'{self.token},e2e-admin,e2e-admin,"system:masters"\n')

    def _etcd_and_apiserver(self) -> None:
        client, peer, api = free_port(), free_port(), free_port()
        etcd = self.start(
            "etcd",
            [
                self.tools.etcd,
                "--name",
                "e2e",
                "--data-dir",
                str(self.dir / "etcd"),
                "--listen-client-urls",
                f"http://127.0.0.1:{client}",
                "--advertise-client-urls",
                f"http://127.0.0.1:{client}",
                "--listen-peer-urls",
                f"http://127.0.0.1:{peer}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{peer}",
                "--initial-cluster",
                f"e2e=http://127.0.0.1:{peer}",
                "--unsafe-no-fsync",
                "--log-level",
                "warn",
            ],
        )
        pki = self.dir / "pki"
        apiserver = self.start(
            "kube-apiserver",
            [
                self.tools.apiserver,
                "--etcd-servers",
                f"http://127.0.0.1:{client}",
                "--bind-address",
                "127.0.0.1",
                "--advertise-address",
                "127.0.0.1",
                "--secure-port",
                str(api),
                "--tls-cert-file",
                str(pki / "apiserver.crt"),
                "--tls-private-key-file",
                str(pki / "apiserver.key"),
                "--token-auth-file",
                str(pki / "tokens.csv"),
                "--service-account-key-file",
                str(pki / "sa.pub"),
                "--service-account-signing-key-file",
                str(pki / "sa.key"),
                "--service-account-issuer",
                "https://kubernetes.default.svc",
                "--authorization-mode",
                "RBAC",
                "--service-cluster-ip-range",
                "10.96.0.0/16",
                "--endpoint-reconciler-type",
                "none",
                "--enable-priority-and-fairness=false",
            ],
        )
        self.kubeconfig = self.dir / "kubeconfig"
        self.kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": "e2e",
                            "cluster": {
                                "server": f"https://127.0.0.1:{api}",
                                "certificate-authority-data": base64.b64encode(
                                    (pki / "apiserver.crt").read_bytes()
                                ).decode(),
                            },
                        }
                    ],
                    "users": [{"name": "e2e-admin", "user": {"token": self.token}}],
                    "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": "e2e-admin"}}],
                    "current-context": "e2e",
                }
            )
        )

        def ready() -> bool:
            self.alive(etcd)
            self.alive(apiserver)
            return self.kubectl("get", "--raw", "/readyz", check=False).returncode == 0

        wait_for("kube-apiserver /readyz", ready, timeout=90)

    def _controller_manager(self) -> None:
        kcm = self.start(
            "kube-controller-manager",
            [
                self.tools.controller_manager,
                "--kubeconfig",
                str(self.kubeconfig),
                # What turns the workspaces' objects into pods on the node, and deletion into garbage collection.
                "--controllers",
                "garbagecollector,namespace,serviceaccount,deployment,replicaset,statefulset,job,cronjob,disruption,"
                "endpointslice,nodelifecycle,podgc,persistentvolume-binder,pvc-protection,pv-protection,"
                # kube-root-ca.crt in every namespace, which every pod's service account token volume projects.
                "root-ca-cert-publisher",
                "--root-ca-file",
                str(self.dir / "pki" / "apiserver.crt"),
                # Volumes for the node's pods: the test-only host-path provisioner of the default StorageClass
                # the node brings (a PVC nothing binds keeps its pod from ever being scheduled).
                "--enable-hostpath-provisioner",
                "--leader-elect=false",
                "--secure-port",
                "0",
            ],
        )
        time.sleep(0.5)
        self.alive(kcm)

    def _crossplane(self) -> None:
        env = {"KUBECONFIG": str(self.kubeconfig), "POD_NAMESPACE": SYSTEM}
        self.crossplane_metrics_port = free_port()
        self.kubectl("create", "namespace", SYSTEM)
        empty = self.dir / "no-webhook-configurations"
        empty.mkdir()
        secrets = [
            "--tls-server-secret-name",
            "crossplane-tls-server",
            "--tls-client-secret-name",
            "crossplane-tls-client",
        ]
        # init creates the CRDs and the CA and TLS Secrets; it may exit non-zero later, on the package Lock,
        # before its CRDs are established, and is done with the part needed here by then.
        init = self.start(
            "crossplane-init",
            [
                self.tools.core,
                "core",
                "init",
                "--cr-ds-path",
                self.tools.core_crds,
                "--webhook-configurations-path",
                str(empty),
                # Webhooks stay enabled for init alone: only then does it write the server TLS Secret. It
                # installs no webhook configuration (the directory is empty), and `start` serves none.
                "--tlsca-secret-name",
                "crossplane-root-ca",
                *secrets,
            ],
            env,
        )
        try:
            init.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise E2EError(f"crossplane core init did not finish:\n{init.tail()}") from None
        dirs = {}
        for which in ("server", "client"):
            secret = wait_for(f"Secret crossplane-tls-{which}", lambda w=which: self._tls(f"crossplane-tls-{w}"))
            certs = self.dir / f"tls-{which}"
            certs.mkdir()
            for key, value in secret.items():
                (certs / key).write_bytes(value)
            dirs[which] = certs
        self.xpkg_cache = self.dir / "xpkg-cache"
        self.xpkg_cache.mkdir()
        # Providers are stand-ins with no image (External: the fixture does what their runtime would); functions
        # run as Crossplane runs them on a cluster when there is a node, and Crossplane then finds a function's
        # Service by name as in a cluster: through a hosts file of its own (ClusterDNS keeps it).
        runtime = "Provider=External" if self.function_runtime == "Deployment" else "External"
        resolver: list[str] = []
        if self.function_runtime == "Deployment":
            self.hosts = self.dir / "hosts"
            self.hosts.write_text(Path("/etc/hosts").read_text())
            mount = 'mount --bind "$0" /etc/hosts && exec "$@"'
            resolver = ["unshare", "--mount", "--propagation", "private", "sh", "-c", mount, str(self.hosts)]
        self.crossplane = self.start(
            "crossplane",
            [
                *resolver,
                self.tools.core,
                "core",
                "start",
                f"--package-runtime={runtime}",
                "--enable-webhooks=false",
                "--tls-server-certs-dir",
                str(dirs["server"]),
                "--tls-client-certs-dir",
                str(dirs["client"]),
                *secrets,
                "--cache-dir",
                str(self.xpkg_cache),
                "--metrics-port",
                str(self.crossplane_metrics_port),
                "--health-probe-port",
                str(free_port()),
                "--webhook-port",
                str(free_port()),
                "--poll-interval",
                "10s",
            ],
            env,
        )

        def established() -> bool:
            self.alive(self.crossplane)
            crd = self.get("crd", "compositeresourcedefinitions.apiextensions.crossplane.io")
            return bool(crd) and _condition(crd, "Established") == "True"

        wait_for("Crossplane's CRDs", established)
        if self.function_runtime == "Deployment":
            # What init's last step creates when it gets there (internal/initializer/deployment_runtime_config.go
            # at v2.3.4: an empty "default"), which the Deployment runtime reads for every package.
            def drc_established() -> bool:
                drc = self.get("crd", "deploymentruntimeconfigs.pkg.crossplane.io")
                return bool(drc) and _condition(drc, "Established") == "True"

            wait_for("Crossplane's CRD deploymentruntimeconfigs.pkg.crossplane.io Established", drc_established)
            if not self.get("deploymentruntimeconfig", "default"):
                self.apply([{"apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig",
                             "metadata": {"name": "default"}}])  # fmt: skip
            # The ServiceAccount Crossplane runs as in a cluster (its Helm chart creates it; the runtime copies its
            # image pull secrets to every package's ServiceAccount). Here Crossplane runs with the fixture's kubeconfig.
            self.apply([{"apiVersion": "v1", "kind": "ServiceAccount",
                         "metadata": {"name": "crossplane", "namespace": SYSTEM}}])  # fmt: skip

    def _tls(self, name: str) -> dict[str, bytes] | None:
        secret = self.get("secret", "-n", SYSTEM, name)
        data = (secret or {}).get("data") or {}
        if not {"tls.crt", "tls.key", "ca.crt"} <= set(data):
            return None
        return {key: base64.b64decode(data[key]) for key in ("tls.crt", "tls.key", "ca.crt")}


def start_provider_kubernetes(cp: ControlPlane, flavour: str) -> None:
    """provider-kubernetes out of cluster, against this API server, with the config the Objects name."""
    kubeconfig = base64.b64encode(cp.kubeconfig.read_bytes()).decode()
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "provider-kubernetes-kubeconfig", "namespace": SYSTEM},
        "data": {"kubeconfig": kubeconfig},
    }
    credentials = {
        "source": "Secret",
        "secretRef": {"namespace": SYSTEM, "name": "provider-kubernetes-kubeconfig", "key": "kubeconfig"},
    }
    config = (
        {"apiVersion": "kubernetes.crossplane.io/v1alpha1", "kind": "ProviderConfig"}
        if flavour == "claims"
        else {"apiVersion": "kubernetes.m.crossplane.io/v1alpha1", "kind": "ClusterProviderConfig"}
    )
    cp.apply([secret, {**config, "metadata": {"name": "default"}, "spec": {"credentials": credentials}}])
    provider = cp.start(
        "provider-kubernetes",
        [
            cp.tools.provider_kubernetes,
            "--poll",
            "10s",
            "--health-probe-bind-addr",
            f"127.0.0.1:{free_port()}",
        ],
        {"KUBECONFIG": str(cp.kubeconfig), "TLS_SERVER_CERTS_DIR": str(cp.dir / "tls-server")},
    )
    cp.provider_kubernetes = provider
    time.sleep(1)
    cp.alive(provider)


def _condition(obj: dict[str, Any], kind: str) -> str | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return str(condition.get("status"))
    return None


def _condition_message(obj: dict[str, Any], kind: str) -> str:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return f"{condition.get('reason')}: {condition.get('message', '')}".strip()
    return "no condition"


# The function, installed as a package and served locally ---------------------------------------------------------


def start_registry(cp: ControlPlane) -> str:
    """A loopback OCI registry the package manager pulls from; its host:port."""
    registry_port = free_port()
    registry = cp.start("registry", [cp.tools.registry, "-port", str(registry_port)])
    wait_for("the OCI registry", lambda: cp.alive(registry) or "serving on port" in registry.log.read_text())
    return f"127.0.0.1:{registry_port}"


def push(cp: ControlPlane, package: Path, reference: str) -> None:
    if not package.exists():
        raise E2EError(f"{package} is missing: run `make package`")
    pushed = subprocess.run(
        [cp.tools.crossplane, "xpkg", "push", "-f", str(package), reference],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if pushed.returncode != 0:
        raise E2EError(f"crossplane xpkg push {reference} failed: {pushed.stderr}{pushed.stdout}")


def serve_published_names(cp: ControlPlane, registry: str) -> None:
    """ImageConfigs that make the package manager pull every package by its published name from the loopback
    registry: this project's (the function, the Configurations) and the providers' (hack/providers.yaml). Crossplane
    v2.3.4 rewrites only the pull and keeps the published source for the lock, dependency resolution and the names
    it gives dependencies (internal/controller/pkg/manager/reconciler.go), so the dependencies resolve as on a
    platform's cluster."""
    prefixes = sorted(
        {packages.REGISTRY} | {repository.rsplit("/", 1)[0] for repository, _ in packages.pinned_providers()}
    )
    cp.apply(
        [
            {
                "apiVersion": "pkg.crossplane.io/v1beta1",
                "kind": "ImageConfig",
                "metadata": {"name": f"e2e-loopback-{index}"},
                "spec": {
                    "matchImages": [{"type": "Prefix", "prefix": f"{prefix}/"}],
                    "rewriteImage": {"prefix": f"{registry}/{prefix}/"},
                },
            }
            for index, prefix in enumerate(prefixes)
        ]
    )


def publish(cp: ControlPlane, registry: str, package: Path, repository: str, version: str) -> str:
    """Push a package to where the loopback registry serves `repository` (see serve_published_names); its published
    reference."""
    push(cp, package, f"{registry}/{repository}:{version}")
    return f"{repository}:{version}"


# The Secrets chart, pulled by the name the function composes --------------------------------------------------------


class PublishedChartRegistry:
    """Where Helm finds charts by their published names (under release.SECRETS_CHART_REPOSITORY): an HTTPS proxy
    on loopback, for a Helm client started with HTTPS_PROXY and SSL_CERT_FILE pointing here. Asked to CONNECT to
    the published registry's host, it ends TLS with a certificate for that host (self-signed, the only root that
    client trusts) and relays the requests to the loopback registry, which so answers for that host (its repository
    paths without the host: <registry path>/charts/aiworkspace-secrets); any other host is refused, so nothing
    leaves loopback. What ImageConfigs do for packages and containerd's hosts.toml for images, done for Helm's OCI
    client, which has neither (helm.sh/helm/v4 pkg/registry/transport.go@v4.2.3: a clone of http.DefaultTransport,
    which reads HTTPS_PROXY; its TLS roots are the system's, which Go reads from SSL_CERT_FILE)."""

    def __init__(self, cp: ControlPlane, registry: str, host: str) -> None:
        self.registry, self.host = registry, host
        pki = cp.dir / "published-registry"
        pki.mkdir(exist_ok=True)
        self.ca = pki / "tls.crt"
        key = pki / "tls.key"
        subject = ("-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host}")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", *subject, "-keyout", str(key), "-out",
                str(self.ca))  # fmt: skip
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(self.ca, key)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.proxy = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.relayed = 0  # connections relayed to the loopback registry
        threading.Thread(target=self._serve, name="published-chart-registry", daemon=True).start()

    def env(self) -> dict[str, str]:
        """What a Helm client needs to pull from here by published names."""
        return {"HTTPS_PROXY": self.proxy, "SSL_CERT_FILE": str(self.ca)}

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return  # closed by stop()
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError), client:
            client.settimeout(30)
            request = b""
            while b"\r\n\r\n" not in request and len(request) < 8192:
                chunk = client.recv(1024)
                if not chunk:
                    return
                request += chunk
            method, target, *_ = [*request.split(b"\r\n", 1)[0].split(b" "), b"", b""]
            if method != b"CONNECT" or target.decode(errors="replace") != f"{self.host}:443":
                client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            host, port = self.registry.rsplit(":", 1)
            with (
                self.tls.wrap_socket(client, server_side=True) as tls,
                socket.create_connection((host, int(port))) as up,
            ):
                self.relayed += 1
                tls.settimeout(None)
                back = threading.Thread(target=_pump, args=(up, tls), daemon=True)
                back.start()
                _pump(tls, up)
                back.join(timeout=30)

    def stop(self) -> None:
        self.server.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes from source to sink until source ends; then end sink's writing side."""
    with contextlib.suppress(OSError, ssl.SSLError):
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def publish_secrets_chart(cp: ControlPlane, registry: str) -> PublishedChartRegistry:
    """charts/aiworkspace-secrets packaged by the pinned Helm and pushed to the loopback registry, where the
    PublishedChartRegistry serves it under the name the function composes (release.SECRETS_CHART_REPOSITORY)."""
    published = urllib.parse.urlsplit(release.SECRETS_CHART_REPOSITORY)
    helm_env = {**os.environ, **helm_homes(cp.dir / "helm-publisher")}
    with tempfile.TemporaryDirectory(prefix="aiworkspace-chart-") as tmp:
        packaged = subprocess.run(
            [cp.tools.helm, "package", str(ROOT / "charts" / release.SECRETS_CHART_NAME), "--destination", tmp],
            capture_output=True, text=True, env=helm_env, timeout=120, check=False,
        )  # fmt: skip
        if packaged.returncode != 0:
            raise E2EError(f"helm package failed: {packaged.stderr}{packaged.stdout}")
        archive = Path(tmp) / f"{release.SECRETS_CHART_NAME}-{release.SECRETS_CHART_VERSION}.tgz"
        if not archive.exists():
            raise E2EError(f"helm package made {sorted(os.listdir(tmp))}, not {archive.name}: versions disagree")
        pushed = subprocess.run(
            [cp.tools.helm, "push", str(archive), f"oci://{registry}{published.path}", "--plain-http"],
            capture_output=True, text=True, env=helm_env, timeout=120, check=False,
        )  # fmt: skip
        if pushed.returncode != 0:
            raise E2EError(f"helm push failed: {pushed.stderr}{pushed.stdout}")
    return PublishedChartRegistry(cp, registry, published.netloc)


def helm_homes(root: Path) -> dict[str, str]:
    """Helm's config, cache and data directories of its own under `root` (no registry login or repository of the
    machine's user is read or written)."""
    homes = {name: root / name.lower() for name in ("HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME")}
    for home in homes.values():
        home.mkdir(parents=True, exist_ok=True)
    return {name: str(home) for name, home in homes.items()}


@functools.cache
def provider_crd_documents() -> tuple[xp.CRDSource, tuple[dict[str, Any], ...]]:
    """The providers' CRDs the tests validate against (hack/xp.py crd_source), parsed once per run."""
    try:
        source = xp.crd_source()
    except xp.MissingCRDsError as error:
        raise E2EError(str(error)) from None
    return source, tuple(xp.crd_documents(source))


def _without_conversion_webhook(doc: dict[str, Any]) -> dict[str, Any]:
    """A provider's CRD as the fixture installs it: no status, and webhook conversion set to None, since no provider
    serves it here."""
    crd = copy.deepcopy(doc)
    crd.pop("status", None)
    if (crd["spec"].get("conversion") or {}).get("strategy") == "Webhook":
        crd["spec"]["conversion"] = {"strategy": "None"}
    return crd


def publish_stand_in(cp: ControlPlane, registry: str, repository: str, version: str) -> None:
    """A stand-in for a pinned provider package, which no registry here serves, published under its name and
    version: the meta as upstream declares it at that tag (capabilities: SafeStart, so the package manager creates its
    managed resources' definitions inactive) and the pinned version's CRDs of the groups it serves, from the CRDs
    the tests validate against (hack/xp.py crd_source: a subset of the real package's), webhook conversion None as
    the fixture's own. No controller: nothing reconciles what it defines."""
    name = repository.rsplit("/", 1)[-1]
    source, documents = provider_crd_documents()
    crds = [
        _without_conversion_webhook(doc)
        for doc in documents
        if (packages.serving(doc["spec"]["group"]) or ("", ""))[0] == repository
    ]
    if not crds:
        raise E2EError(f"no CRD of {repository} in {source.description}")
    meta = {
        "apiVersion": "meta.pkg.crossplane.io/v1",
        "kind": "Provider",
        "metadata": {
            "name": name,
            "annotations": {"meta.crossplane.io/description": f"e2e stand-in for {repository}:{version}"},
        },
        "spec": {"capabilities": ["SafeStart"]},
    }
    with tempfile.TemporaryDirectory(prefix=f"stand-in-{name}-") as tmp:
        root = Path(tmp) / "package"
        root.mkdir()
        (root / "crossplane.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
        (root / "crds.yaml").write_text(yaml.safe_dump_all(crds, sort_keys=False))
        built = Path(tmp) / f"{name}.xpkg"
        run_or_fail(
            cp.tools.crossplane,
            "xpkg",
            "build",
            f"--package-root={root}",
            f"--package-file={built}",
            what=f"building the stand-in of {repository}",
        )
        publish(cp, registry, built, repository, version)


def serve_provider_revisions(cp: ControlPlane) -> None:
    """What the provider runtime does before the package manager establishes a provider's objects, done here for the
    stand-ins (the External runtime leaves it to someone else): each ProviderRevision's TLS server Secret, named in
    its status. The package manager reads a CA from it for webhooks; no CRD of a stand-in has one."""
    revisions = (cp.get("providerrevisions.pkg.crossplane.io") or {}).get("items") or []
    pending = [r for r in revisions if not (r.get("status") or {}).get("tlsServerSecretName")]
    if not pending:
        return
    server = cp._tls("crossplane-tls-server")
    if server is None:
        raise E2EError("Crossplane's TLS server Secret is missing")
    for revision in pending:
        secret = revision["spec"].get("tlsServerSecretName") or f"{revision['metadata']['name']}-tls-server"
        cp.apply(
            [
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "type": "kubernetes.io/tls",
                    "metadata": {"name": secret, "namespace": SYSTEM},
                    "data": {key: base64.b64encode(value).decode() for key, value in server.items()},
                }
            ]
        )
        cp.kubectl(
            "patch",
            "providerrevisions.pkg.crossplane.io",
            revision["metadata"]["name"],
            "--subresource=status",
            "--type=merge",
            "-p",
            json.dumps({"status": {"tlsServerSecretName": secret}}),
            check=False,
        )


def install_configuration(
    cp: ControlPlane, registry: str, flavour: str, part: str = packages.CORE, previous: upgrade.Previous | None = None
) -> str:
    """A Configuration as a platform team installs it, by its published name, its dependencies resolved by the
    package manager: the function (installed already, by the same name), the stand-ins of its providers, which the
    package manager installs from the registry, and (a cloud's) its flavour's core, installed already. Applied
    again, it upgrades the installed one to this package. The previous release's (for the upgrade proof) is
    installed without resolving dependencies, its Function installed already and its providers' CRDs in place."""
    name = packages.configuration_name(flavour, part)
    version = previous.version if previous else packages.function_version()
    started = time.monotonic()
    if not previous:
        provider_crd_documents()  # parsed once, before the threads
        with concurrent.futures.ThreadPoolExecutor() as pool:
            pins = packages.providers(flavour, part)
            for done in [pool.submit(publish_stand_in, cp, registry, *pin) for pin in pins]:
                done.result()
    package = packages.configuration_package(flavour, part)
    built = previous.configurations[flavour] if previous else packages.configuration_xpkg(flavour, part)
    reference = publish(cp, registry, built, package, version)
    cp.apply(
        [
            {
                "apiVersion": "pkg.crossplane.io/v1",
                "kind": "Configuration",
                "metadata": {"name": name},
                "spec": {"package": reference, "skipDependencyResolution": bool(previous)},
            }
        ]
    )

    def installed() -> dict[str, Any] | None:
        cp.alive(cp.crossplane)
        serve_provider_revisions(cp)
        configuration = cp.get("configuration", name) or {}
        current = (configuration.get("status") or {}).get("currentIdentifier", "")
        ok = all(_condition(configuration, c) == "True" for c in ("Installed", "Healthy"))
        return configuration if ok and current.endswith(f":{version}") else None

    published = time.monotonic()
    try:
        wait_for(f"Configuration {name} Installed and Healthy", installed)
        log(
            f"{name}: published in {published - started:.0f}s, installed with its dependencies in "
            f"{time.monotonic() - published:.0f}s"
        )
    except E2EError as error:
        configuration = cp.get("configuration", name) or {}
        lock = cp.get("locks.pkg.crossplane.io", "lock") or {}
        raise E2EError(
            f"{error}: {_condition_message(configuration, 'Installed')} / "
            f"{_condition_message(configuration, 'Healthy')}; lock: {_condition_message(lock, 'Resolved')}"
        ) from None
    return name


def dependencies_resolved(cp: ControlPlane, flavour: str, part: str) -> list[str]:
    """Check what the package manager resolved for an installed Configuration: its revision found every dependency
    installed and valid, the lock holds it with the dependencies its meta declares, each of them once, and each
    provider dependency installed under the name and package Crossplane gives a dependency. The dependencies'
    published names."""
    name = packages.configuration_name(flavour, part)
    revisions = (cp.get("configurationrevisions", "-l", f"pkg.crossplane.io/package={name}") or {}).get("items") or []
    revisions = [r for r in revisions if r["spec"].get("desiredState") == "Active"]
    if len(revisions) != 1:
        raise E2EError(f"Configuration {name} has {len(revisions)} active revisions")
    status = revisions[0].get("status") or {}
    found, installed = status.get("foundDependencies"), status.get("installedDependencies")
    if not found or found != installed or status.get("invalidDependencies"):
        raise E2EError(
            f"Configuration {name}'s dependencies: {found} found, {installed} installed, "
            f"{status.get('invalidDependencies')} invalid"
        )
    lock = (cp.get("locks.pkg.crossplane.io", "lock") or {}).get("packages") or []
    sources = [entry["source"] for entry in lock]
    declared = packages.dependencies(flavour, part)
    [own] = [entry for entry in lock if entry["source"] == packages.configuration_package(flavour, part)]
    if sorted(d["package"] for d in own.get("dependencies") or []) != sorted(d["package"] for d in declared):
        raise E2EError(f"the lock holds {name} with dependencies {own.get('dependencies')}, not {declared}")
    providers = {p["metadata"]["name"]: p for p in (cp.get("providers.pkg.crossplane.io") or {}).get("items") or []}
    for dependency in declared:
        if sources.count(dependency["package"]) != 1:
            raise E2EError(f"the lock holds {dependency['package']} {sources.count(dependency['package'])} times")
        if dependency["kind"] == "Provider":
            installed_as = xrds.package_name(dependency["package"])
            provider = providers.get(installed_as) or {}
            wanted = f"{dependency['package']}:{dependency['version']}"
            if (provider.get("spec") or {}).get("package") != wanted or _condition(provider, "Installed") != "True":
                raise E2EError(f"Provider {installed_as} is not {wanted}, installed: {provider.get('spec')}")
    return [d["package"].rsplit("/", 1)[-1] for d in declared]


def activation_ready(cp: ControlPlane, flavour: str, part: str) -> str:
    """The Configuration's ManagedResourceActivationPolicy as installed: controlled by its revision, Healthy, and
    having activated exactly the definitions it names; of the definitions its providers' stand-ins brought (inactive,
    SafeStart), exactly those are active, their CRDs Established. What it activated, as a line says it."""
    policy_name = packages.activation_policy_name(flavour, part)
    wanted = packages.activation_policy(flavour, part)["spec"]["activate"]

    def activated() -> dict[str, Any] | None:
        cp.alive(cp.crossplane)
        policy = cp.get("managedresourceactivationpolicy", policy_name) or {}
        done = _condition(policy, "Healthy") == "True" and (policy.get("status") or {}).get("activated") == wanted
        return policy if done else None

    started = time.monotonic()
    try:
        policy = wait_for(
            f"ManagedResourceActivationPolicy {policy_name} to activate {len(wanted)} definitions", activated
        )
        log(f"{policy_name}: activated its definitions in {time.monotonic() - started:.0f}s")
    except E2EError as error:
        policy = cp.get("managedresourceactivationpolicy", policy_name) or {}
        raise E2EError(
            f"{error}: {_condition_message(policy, 'Healthy')}, activated "
            f"{(policy.get('status') or {}).get('activated')}"
        ) from None
    owners = [o["kind"] for o in policy["metadata"].get("ownerReferences") or [] if o.get("controller")]
    if owners != ["ConfigurationRevision"]:
        raise E2EError(f"ManagedResourceActivationPolicy {policy_name} is controlled by {owners}")
    served = {repository for repository, _ in packages.providers(flavour, part)}
    definitions = [
        d
        for d in (cp.get("managedresourcedefinitions") or {}).get("items") or []
        if (packages.serving(d["spec"]["group"]) or ("", ""))[0] in served
    ]
    active = sorted(d["metadata"]["name"] for d in definitions if d["spec"].get("state") == "Active")
    if active != wanted:
        raise E2EError(f"of {len(definitions)} definitions of {sorted(served)}, {active} are active, not {wanted}")

    def established() -> bool:
        return all(_condition(cp.get("crd", crd) or {}, "Established") == "True" for crd in wanted)

    wait_for(f"the CRDs of {policy_name}'s definitions Established", established)
    named = ", ".join(wanted) if len(wanted) <= 3 else f"the {len(wanted)} definitions it lists"
    return (
        f"ManagedResourceActivationPolicy {policy_name} activated {named}: of the {len(definitions)} definitions its "
        f"providers brought, exactly those are active"
    )


def install_function(
    cp: ControlPlane, registry: str, previous: upgrade.Previous | None = None
) -> tuple[str, list[str]]:
    """Install the Function package by its published name (the core Configuration's dependency on it finds it
    installed), or upgrade the installed one to it, and wait for it to serve: as a pod Crossplane's runtime
    creates, or served here; a line saying how, and the URLs of its Prometheus metrics (one per pod). `previous`:
    the previous release's package instead (the upgrade proof). This tree's runs with the README's
    DeploymentRuntimeConfig (examples/function-runtime.yaml: two replicas, probes, resources, scrape annotations)
    when it runs as pods."""
    built, version = (previous.function, previous.version) if previous else (PACKAGE_FILE, packages.function_version())
    reference = publish(cp, registry, built, xrds.FUNCTION_PACKAGE, version)
    spec: dict[str, Any] = {"package": reference}
    if cp.function_runtime == "Deployment" and not previous:
        runtime_config = yaml.safe_load((xp.EXAMPLES / "function-runtime.yaml").read_text())
        cp.apply([runtime_config])
        spec["runtimeConfigRef"] = {"name": runtime_config["metadata"]["name"]}
    cp.apply([{"apiVersion": "pkg.crossplane.io/v1", "kind": "Function", "metadata": {"name": FUNCTION}, "spec": spec}])

    def revision() -> dict[str, Any] | None:
        cp.alive(cp.crossplane)
        revisions = cp.get("functionrevisions", "-l", f"pkg.crossplane.io/package={FUNCTION}")
        items = [
            r
            for r in (revisions or {}).get("items") or []
            if r["spec"].get("desiredState") == "Active" and r["spec"].get("image") == reference
        ]
        return items[0] if items else None

    rev = wait_for("the FunctionRevision the package manager creates", revision)
    if cp.function_runtime == "Deployment":
        return function_pod(cp, rev["metadata"]["name"])
    return f"Function {FUNCTION} installed from the loopback registry, served here", [serve_function(cp, rev)]


def function_pod(cp: ControlPlane, revision: str) -> tuple[str, list[str]]:
    """The function as a platform's cluster runs it: Crossplane's Deployment runtime creates its Deployment,
    Service and TLS Secrets, the node pulls the package's embedded runtime image from the registry and runs it,
    and Crossplane calls it at its Service's name over its TLS. Waits for the Function Installed and Healthy."""

    selector = f"pkg.crossplane.io/function={FUNCTION},pkg.crossplane.io/revision={revision}"

    def healthy() -> bool:
        cp.alive(cp.crossplane)
        function = cp.get("function", FUNCTION) or {}
        if _condition(function, "Healthy") != "True" or _condition(function, "Installed") != "True":
            return False
        pods = (cp.get("pods", "-n", SYSTEM, "-l", selector) or {}).get("items") or []
        return any(_condition(pod, "Ready") == "True" for pod in pods)

    try:
        wait_for(f"Function {FUNCTION} Installed and Healthy (its pod running)", healthy, timeout=240)
    except E2EError as error:
        function = cp.get("function", FUNCTION) or {}
        pods = cp.kubectl("get", "pods", "-n", SYSTEM, "-o", "wide", check=False).stdout
        events = cp.kubectl("get", "events", "-n", SYSTEM, check=False).stdout
        said = [line for line in cp.crossplane.tail(400).splitlines() if FUNCTION in line][-10:]
        current = cp.get("functionrevision", revision) or {}
        said += [f"{c.get('type')}: {c.get('message')}" for c in current.get("status", {}).get("conditions") or []]
        raise E2EError(
            f"{error}; Function: {_condition_message(function, 'Installed')} / "
            f"{_condition_message(function, 'Healthy')}\n{pods}\n{events[-3000:]}\nCrossplane:\n" + "\n".join(said)
        ) from None
    ready = [p for p in (cp.get("pods", "-n", SYSTEM, "-l", selector) or {}).get("items") or []
             if _condition(p, "Ready") == "True"]  # fmt: skip
    images = sorted({c["imageID"] for p in ready for c in p["status"]["containerStatuses"]})
    endpoint = (cp.get("functionrevision", revision) or {}).get("status", {}).get("endpoint")
    how = (
        f"Function {FUNCTION} installed from the loopback registry and run by Crossplane's Deployment runtime: "
        f"{len(ready)} pod(s) on {', '.join(sorted({p['spec'].get('nodeName', '?') for p in ready}))} from "
        f"{', '.join(images)}, called at {endpoint} over TLS"
    )
    return how, [f"http://{p['status']['podIP']}:8080/metrics" for p in ready]


def scrape(urls: list[str]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Prometheus metrics summed over the URLs (a function's pods, or one process): (name, labels) -> value."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for url in urls:
        with urllib.request.urlopen(url, timeout=30) as response:  # loopback or the pod network
            text = response.read().decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                out[key] = out.get(key, 0.0) + sample.value
    return out


class ClusterDNS:
    """What a cluster's DNS answers Crossplane for a headless Service (a function's): its ready endpoints'
    addresses. Kept in the hosts file Crossplane alone resolves with (ControlPlane.hosts), from the EndpointSlices
    of the Services in Crossplane's namespace, as long as the fixture runs."""

    def __init__(self, cp: ControlPlane) -> None:
        assert cp.hosts is not None
        self.cp, self.hosts, self.base = cp, cp.hosts, cp.hosts.read_text()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="cluster-dns", daemon=True)
        self.thread.start()

    def records(self) -> str:
        slices = (self.cp.get("endpointslices", "-n", SYSTEM) or {}).get("items") or []
        lines = set()
        for item in slices:
            service = (item.get("metadata", {}).get("labels") or {}).get("kubernetes.io/service-name")
            for endpoint in item.get("endpoints") or []:
                if service and (endpoint.get("conditions") or {}).get("ready"):
                    names = [f"{service}.{SYSTEM}", f"{service}.{SYSTEM}.svc", f"{service}.{SYSTEM}.svc.cluster.local"]
                    lines.update(f"{address} {' '.join(names)}" for address in endpoint.get("addresses") or [])
        return "".join(f"{line}\n" for line in sorted(lines))

    def _run(self) -> None:
        while not self.stopped.wait(2):
            with contextlib.suppress(E2EError, subprocess.SubprocessError, OSError, ValueError):
                text = self.base + self.records()
                if text != self.hosts.read_text():
                    # In place: Crossplane's mount binds this file's inode over /etc/hosts.
                    with self.hosts.open("r+") as hosts:
                        hosts.write(text)
                        hosts.truncate()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)


def serve_function(cp: ControlPlane, rev: dict[str, Any]) -> str:
    """The function served here from the checkout, as the External runtime expects someone to: the URL of its
    Prometheus metrics."""
    name = rev["metadata"]["name"]

    # Serve the function as the External runtime would: a server certificate for 127.0.0.1, signed by
    # Crossplane's root CA, in a Secret the revision's status names.
    ca = wait_for("Secret crossplane-root-ca", lambda: cp.get("secret", "-n", SYSTEM, "crossplane-root-ca"))
    pki = cp.dir / "function-tls"
    pki.mkdir()
    (pki / "ca.crt").write_bytes(base64.b64decode(ca["data"]["tls.crt"]))
    (pki / "ca.key").write_bytes(base64.b64decode(ca["data"]["tls.key"]))
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        f"/CN={FUNCTION}",
        "-keyout",
        str(pki / "tls.key"),
        "-out",
        str(pki / "tls.csr"),
    )
    (pki / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    openssl(
        "x509",
        "-req",
        "-in",
        str(pki / "tls.csr"),
        "-CA",
        str(pki / "ca.crt"),
        "-CAkey",
        str(pki / "ca.key"),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        str(pki / "ext.cnf"),
        "-out",
        str(pki / "tls.crt"),
    )
    (pki / "ca.key").unlink()
    secret_name = f"{FUNCTION}-tls-server"
    cp.apply(
        [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "kubernetes.io/tls",
                "metadata": {"name": secret_name, "namespace": SYSTEM},
                "data": {
                    key: base64.b64encode((pki / key).read_bytes()).decode() for key in ("tls.crt", "tls.key", "ca.crt")
                },
            }
        ]
    )
    certs = cp.dir / "function-certs"
    certs.mkdir()
    for key in ("tls.crt", "tls.key", "ca.crt"):
        shutil.copy(pki / key, certs / key)
    port, metrics = free_port(), free_port()
    served = cp.start(
        "function",
        [
            sys.executable,
            "-m",
            "function.main",
            "--tls-certs-dir",
            str(certs),
            "--address",
            f"127.0.0.1:{port}",
            "--metrics-address",
            f"127.0.0.1:{metrics}",
        ],
        {"PYTHONPATH": str(ROOT)},
    )
    endpoint = f"dns:///127.0.0.1:{port}"

    def serving() -> bool:
        cp.alive(served)
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
        return False

    wait_for("the function to listen", serving)

    def healthy() -> bool:
        cp.alive(served)
        current = cp.get("functionrevision", name) or {}
        status = current.get("status") or {}
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "RuntimeHealthy"]
        if (
            status.get("endpoint") != endpoint
            or status.get("tlsServerSecretName") != secret_name
            or _condition(current, "RuntimeHealthy") != "True"
        ):
            # What a runtime controller reports: where the function listens, its TLS Secret, and that it runs.
            runtime = {
                "type": "RuntimeHealthy",
                "status": "True",
                "reason": "HealthyPackageRevision",
                "lastTransitionTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            patch = {"endpoint": endpoint, "tlsServerSecretName": secret_name, "conditions": [*conditions, runtime]}
            cp.kubectl(
                "patch",
                "functionrevision",
                name,
                "--subresource=status",
                "--type=merge",
                "-p",
                json.dumps({"status": patch}),
                check=False,
            )
            return False
        function = cp.get("function", FUNCTION) or {}
        return _condition(function, "Healthy") == "True" and _condition(function, "Installed") == "True"

    try:
        wait_for(f"Function {FUNCTION} Installed and Healthy", healthy)
    except E2EError as error:
        function = cp.get("function", FUNCTION) or {}
        current = cp.get("functionrevision", name) or {}
        raise E2EError(
            f"{error}; Function: {_condition_message(function, 'Installed')} / "
            f"{_condition_message(function, 'Healthy')}; revision: {_condition_message(current, 'Healthy')}"
        ) from None
    return f"http://127.0.0.1:{metrics}/metrics"


# Provider CRDs, the API and the seed --------------------------------------------------------------------------------


PROVIDER_KUBERNETES_GROUPS = ("kubernetes.crossplane.io", "kubernetes.m.crossplane.io")


def provider_crds(kinds: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """The CRDs of the composed kinds, from the providers' own CRDs, as the package manager installs them;
    all of provider-kubernetes' CRDs, since it runs here."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    source, documents = provider_crd_documents()
    for doc in documents:
        key = (doc["spec"]["group"], doc["spec"]["names"]["kind"])
        if key in kinds or key[0] in PROVIDER_KUBERNETES_GROUPS:
            found[key] = doc
    missing = (
        kinds
        - set(found)
        - {
            ("", "Secret"),
            ("", "ConfigMap"),
            ("protection.crossplane.io", "Usage"),
            ("protection.crossplane.io", "ClusterUsage"),
        }
    )
    if missing:
        raise E2EError(f"no CRD for {sorted(missing)} in {source.description}")
    # The package manager points a webhook conversion at the provider's Service; no provider runs here.
    return [_without_conversion_webhook(doc) for doc in found.values()]


# The node -------------------------------------------------------------------------------------------------------------

NODE_NAME = "e2e-node"
POD_CIDR = "10.244.0.0/24"
NODE_IP = "10.244.0.1"  # the bridge's address: a node address must not be loopback
BRIDGE = "cni0"
PAUSE_IMAGE = "localhost/pause:e2e"
HOSTPATH_VOLUMES = "/tmp/hostpath_pv"
NETNS_DIR = Path("/run/netns")
# The node's shape, as its kubelet reports it: a large worker with GPUs, so that every example's pods are placed at
# once (the plan-mixed example alone requests about 6 CPUs and 12 GiB, gpu-models 29 GiB and 4 GPUs), whatever
# machine runs the test. The kubelet reads CPUs and memory from a machine description of its own (Node._machine);
# GPUs are advertised as the NVIDIA device plugin and GPU feature discovery do on a GPU node. The pods never run
# their images, so nothing is overcommitted for real.
NODE_CPUS = 48
NODE_MEMORY_GIB = 192
NODE_GPUS = 8
NODE_GPU_LABELS = {"nvidia.com/gpu.present": "true", "nvidia.com/gpu.product": "NVIDIA-L4"}
PAUSE_C = r"""
#include <signal.h>
#include <unistd.h>
static void stop(int sig) { (void)sig; _exit(0); }
int main(void) { signal(SIGTERM, stop); signal(SIGINT, stop); for (;;) pause(); }
"""


def run_or_fail(*args: str, what: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(list(args), capture_output=True, text=True, cwd=cwd, check=False)
    if proc.returncode != 0:
        raise E2EError(f"{what} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


NODE_LOCK = Path("/run/lock/aiworkspace-e2e-node.lock")


@contextlib.contextmanager
def node_lock() -> Iterator[None]:
    """One node per machine at a time: a node's kubelet and CNI keep state in fixed places (/var/lib/kubelet,
    /var/lib/cni, /run/netns, the kubepods cgroups), so a second run waits for the first instead of sharing them."""
    NODE_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with NODE_LOCK.open("a") as held:
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"another run's node holds {NODE_LOCK}: waiting for it")
            fcntl.flock(held, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)


class Node:
    """A real node in the run's network namespace: containerd and runc (Debian's), a CNI bridge for the pod
    network, the kubelet and the scheduler. Images cannot be pulled here (no registry is reachable), so the
    workspaces' pods end in ImagePullBackOff once scheduled; the pause image the kubelet needs for every pod
    sandbox is built here. Recipe: ../shared/reference/kubelet-on-loopback.md."""

    def __init__(self, cp: ControlPlane, registry: str) -> None:
        self.cp = cp
        self.dir = cp.dir / "node"
        self.socket = self.dir / "run" / "containerd.sock"
        self.registry = registry  # the loopback OCI registry, which containerd pulls from over plain HTTP

    @staticmethod
    def possible() -> str | None:
        """Why no node can run here, or None: it needs root and the run's own network namespace."""
        if os.geteuid() != 0:
            return "the node needs root (containerd, the kubelet and the CNI bridge)"
        if not os.environ.get("E2E_NETNS"):
            return "the node needs the run's own network namespace (unshare --net), to keep the pod network private"
        for tool in ("containerd", "runc", "ctr", "gcc", "ip", "unshare", "mount"):
            if not shutil.which(tool):
                return f"{tool} is missing (hack/tools.sh e2e installs the node's Debian packages)"
        return None

    def up(self) -> None:
        why = self.possible()
        if why:
            raise E2EError(why)
        for sub in ("run", "containerd", "cni/net.d", "kubelet", "manifests", "pod-logs", "pki"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        # containerd 1.6 mounts each pod sandbox's network namespace at /run/netns/cni-<id>: those that appear from
        # now on are this node's, unmounted and removed by clean().
        self.netns_before = set(NETNS_DIR.glob("cni-*"))
        self._bridge()
        self._containerd()
        self._pause_image()
        self._kubelet()
        self.cp.start("kube-scheduler", [self.cp.tools.scheduler, "--kubeconfig", str(self.cp.kubeconfig),
                                           "--leader-elect=false", "--secure-port", "0"])  # fmt: skip

        def ready() -> bool:
            node = self.cp.get("node", NODE_NAME) or {}
            return _condition(node, "Ready") == "True"

        wait_for(f"node {NODE_NAME} Ready", ready, timeout=120)
        self._gpus()
        self.cp.apply(
            [
                {
                    "apiVersion": "storage.k8s.io/v1",
                    "kind": "StorageClass",
                    "metadata": {
                        "name": "e2e-hostpath",
                        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                    },
                    "provisioner": "kubernetes.io/host-path",
                }
            ]
        )

    def _bridge(self) -> None:
        # A bridge left by an earlier fixture of this run (the flavours share the network namespace) goes first.
        subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True, check=False)
        run_or_fail("ip", "link", "add", BRIDGE, "type", "bridge", what="creating the pod bridge")
        run_or_fail("ip", "addr", "add", f"{NODE_IP}/24", "dev", BRIDGE, what="addressing the pod bridge")
        run_or_fail("ip", "link", "set", BRIDGE, "up", what="bringing the pod bridge up")
        conflist = {
            "cniVersion": "1.0.0",
            "name": "e2e",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": BRIDGE,
                    "isGateway": True,
                    "ipMasq": False,
                    "ipam": {"type": "host-local", "ranges": [[{"subnet": POD_CIDR, "gateway": NODE_IP}]],
                             "dataDir": str(self.dir / "cni" / "ipam")},
                },
                {"type": "loopback"},
            ],
        }  # fmt: skip
        (self.dir / "cni" / "net.d" / "10-e2e.conflist").write_text(json.dumps(conflist))

    def _containerd(self) -> None:
        config = self.dir / "containerd.toml"
        config.write_text(
            "version = 2\n"
            f'root = "{self.dir / "containerd" / "root"}"\n'
            f'state = "{self.dir / "containerd" / "state"}"\n'
            "[grpc]\n"
            f'  address = "{self.socket}"\n'
            '[plugins."io.containerd.grpc.v1.cri"]\n'
            f'  sandbox_image = "{PAUSE_IMAGE}"\n'
            # The machine lacks CAP_SYS_RESOURCE: without this every sandbox fails to start.
            "  restrict_oom_score_adj = true\n"
            '  [plugins."io.containerd.grpc.v1.cri".containerd]\n'
            '    default_runtime_name = "runc"\n'
            '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n'
            '    runtime_type = "io.containerd.runc.v2"\n'
            '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n'
            "    SystemdCgroup = false\n"
            '  [plugins."io.containerd.grpc.v1.cri".cni]\n'
            '    bin_dir = "/usr/lib/cni"\n'
            f'    conf_dir = "{self.dir / "cni" / "net.d"}"\n'
            '  [plugins."io.containerd.grpc.v1.cri".registry]\n'
            f'    config_path = "{self.dir / "certs.d"}"\n'
        )
        # The loopback registry speaks plain HTTP (containerd's hosts.toml, read per registry host).
        hosts = self.dir / "certs.d" / self.registry
        hosts.mkdir(parents=True)
        (hosts / "hosts.toml").write_text(
            f'server = "http://{self.registry}"\n'
            f'[host."http://{self.registry}"]\n'
            '  capabilities = ["pull", "resolve"]\n'
        )
        self.containerd = self.cp.start("containerd", ["containerd", "--config", str(config)])
        wait_for("containerd", lambda: self.cp.alive(self.containerd) or self.socket.exists(), timeout=30)

    def _pause_image(self) -> None:
        source = self.dir / "pause.c"
        source.write_text(PAUSE_C)
        run_or_fail("gcc", "-static", "-O2", "-o", str(self.dir / "pause"), str(source), what="building pause")
        archive = self.dir / "pause.tar"
        layer = oci.Layer()
        layer.file("pause", (self.dir / "pause").read_bytes(), 0o755)
        oci.write_image(archive, PAUSE_IMAGE, [layer.close()], {"Entrypoint": ["/pause"]})
        run_or_fail("ctr", "--address", str(self.socket), "-n", "k8s.io", "images", "import", "--all-platforms",
                    str(archive), what="importing the pause image")  # fmt: skip

    def _machine(self) -> str:
        """The machine the kubelet sees: NODE_CPUS CPUs and NODE_MEMORY_GIB of memory. cAdvisor (v0.52, in the
        kubelet) counts the cpu<N> directories of /sys/devices/system/cpu when /sys/devices/system/node has none,
        and reads MemTotal from /proc/meminfo; the kubelet runs in a mount namespace of its own where those three
        are this description (bind mounts, seen by nobody else). Its root directory is a shared mount, so the
        volumes it mounts for pods (Secrets, projected tokens) reach containerd and runc as they do on a real
        node. The shell script that does this; the kubelet's argv follows it."""
        machine = self.dir / "machine"
        for cpu in range(NODE_CPUS):
            # No topology files: cAdvisor then reports the count and no CPU ids, so the kubelet (CPU manager
            # policy none) writes no cpuset of its own and its cgroups keep the machine's real CPUs.
            (machine / "cpu" / f"cpu{cpu}").mkdir(parents=True)
        (machine / "cpu" / "online").write_text(f"0-{NODE_CPUS - 1}\n")
        (machine / "node").mkdir()
        meminfo = Path("/proc/meminfo").read_text()
        total = f"MemTotal:       {NODE_MEMORY_GIB * 1024 * 1024} kB"
        (machine / "meminfo").write_text(re.sub(r"^MemTotal:.*$", total, meminfo, count=1, flags=re.M))
        root = self.dir / "kubelet"
        run_or_fail("mount", "--bind", str(root), str(root), what="binding the kubelet's root directory")
        run_or_fail("mount", "--make-shared", str(root), what="sharing the kubelet's root directory")
        return (
            "set -e; mount --make-rslave /sys; mount --make-rslave /proc; "
            f"mount --bind '{machine}/cpu' /sys/devices/system/cpu; "
            f"mount --bind '{machine}/node' /sys/devices/system/node; "
            f"mount --bind '{machine}/meminfo' /proc/meminfo; "
            'exec "$@"'
        )

    def _gpus(self) -> None:
        """Advertise the GPUs and label the node as GPU feature discovery would. The kubelet keeps extended
        resources set on its Node's status and admits pods requesting them without a device plugin."""
        self.cp.kubectl("label", "node", NODE_NAME, *(f"{k}={v}" for k, v in NODE_GPU_LABELS.items()))
        patch = [{"op": "add", "path": "/status/capacity/nvidia.com~1gpu", "value": str(NODE_GPUS)}]
        self.cp.kubectl("patch", "node", NODE_NAME, "--subresource=status", "--type=json", "-p", json.dumps(patch))

        def advertised() -> bool:
            node = self.cp.get("node", NODE_NAME) or {}
            return node.get("status", {}).get("allocatable", {}).get("nvidia.com/gpu") == str(NODE_GPUS)

        wait_for(f"node {NODE_NAME} advertising {NODE_GPUS} GPUs", advertised, timeout=60)

    def _kubelet(self) -> None:
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "cgroupDriver": "cgroupfs",
            "failCgroupV1": False,
            "failSwapOn": False,
            "containerRuntimeEndpoint": f"unix://{self.socket}",
            "staticPodPath": str(self.dir / "manifests"),
            "podLogsDir": str(self.dir / "pod-logs"),
            "address": NODE_IP,
            "port": free_port(),
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": free_port(),
            "readOnlyPort": 0,
            "resolvConf": "",
            "authentication": {"anonymous": {"enabled": True}, "webhook": {"enabled": False}},
            "authorization": {"mode": "AlwaysAllow"},
            "evictionHard": {"nodefs.available": "2%", "imagefs.available": "2%", "memory.available": "100Mi"},
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "podCIDR": POD_CIDR,
        }
        path = self.dir / "kubelet.yaml"
        path.write_text(yaml.safe_dump(config))
        machine = self._machine()
        self.kubelet = self.cp.start(
            "kubelet",
            [
                "unshare",
                "--mount",
                "--propagation",
                "unchanged",
                "sh",
                "-c",
                machine,
                "kubelet",
                self.cp.tools.kubelet,
                "--config",
                str(path),
                "--kubeconfig",
                str(self.cp.kubeconfig),
                "--root-dir",
                str(self.dir / "kubelet"),
                "--cert-dir",
                str(self.dir / "pki"),
                "--hostname-override",
                NODE_NAME,
                "--node-ip",
                NODE_IP,
            ],
        )

    def stop(self) -> None:
        """Stop the kubelet first (else it recreates the sandboxes killed next), then kill every pod sandbox and
        container while containerd still answers; their shims outlive containerd (they are reparented), so any
        left are found by the socket path on their command line, which is this run's own, and killed by PID, and
        so are the containers' own processes still running (a sandbox's pause, orphaned when its shim went),
        found by their root, a rootfs under this node's directory (never another kubelet's pods)."""
        kubelet = getattr(self, "kubelet", None)
        if kubelet is not None and kubelet.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(kubelet.proc.pid, signal.SIGTERM)
            try:
                kubelet.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(kubelet.proc.pid, signal.SIGKILL)
        ctr = ["ctr", "--address", str(self.socket), "-n", "k8s.io"]
        tasks = subprocess.run([*ctr, "tasks", "ls", "-q"], capture_output=True, text=True, check=False).stdout.split()
        for task in tasks:
            subprocess.run([*ctr, "tasks", "kill", "-s", "SIGKILL", task], capture_output=True, check=False)
        time.sleep(0.5)
        for task in tasks:
            subprocess.run([*ctr, "tasks", "delete", "-f", task], capture_output=True, check=False)
        for proc in Path("/proc").glob("[0-9]*"):
            with contextlib.suppress(OSError):
                if str(self.socket).encode() in (proc / "cmdline").read_bytes():
                    os.kill(int(proc.name), signal.SIGKILL)
        for proc in Path("/proc").glob("[0-9]*"):  # a container's process: its root is a rootfs of this node's
            with contextlib.suppress(OSError):
                if os.readlink(proc / "root").startswith(f"{self.dir}/"):
                    os.kill(int(proc.name), signal.SIGKILL)

    def clean(self) -> None:
        """What the node leaves outside its directory once its processes are stopped: the pods' mounts under its
        root, their cgroups, the pod bridge, the sandboxes' network namespaces, and the kubelet's and CNI's state
        in fixed places."""
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines() if str(self.dir) in line]
        for mount in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], capture_output=True, check=False)
        for controller in Path("/sys/fs/cgroup").glob("*/kubepods"):
            for cgroup in sorted(controller.rglob("*"), key=lambda p: len(p.parts), reverse=True):
                if cgroup.is_dir():
                    with contextlib.suppress(OSError):
                        cgroup.rmdir()
            with contextlib.suppress(OSError):
                controller.rmdir()
        subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True, check=False)
        for netns in sorted(set(NETNS_DIR.glob("cni-*")) - getattr(self, "netns_before", set())):
            subprocess.run(["umount", "-l", str(netns)], capture_output=True, check=False)
            with contextlib.suppress(OSError):
                netns.unlink()
        leftovers = ("/var/lib/kubelet", "/run/containerd/io.containerd.runtime.v2.task/k8s.io", "/var/lib/cni")
        # The host-path provisioner's volumes (kube-controller-manager writes them under /tmp/hostpath_pv).
        for leftover in (*leftovers, HOSTPATH_VOLUMES):
            shutil.rmtree(leftover, ignore_errors=True)


# The whole fixture ----------------------------------------------------------------------------------------------------


def configuration_ready(cp: ControlPlane, registry: str, flavour: str) -> list[str]:
    """The flavour's core Configuration installed from the registry with its dependencies resolved, its XRD
    Established (and Offered, for claims), its Composition and activation policy in place; a line per check."""
    configuration = install_configuration(cp, registry, flavour)

    def check() -> dict[str, Any] | None:
        cp.alive(cp.crossplane)
        xrd = cp.get("xrd", XRD_NAMES[flavour])
        wanted = ["Established"] + (["Offered"] if flavour == "claims" else [])
        return xrd if xrd and all(_condition(xrd, c) == "True" for c in wanted) else None

    try:
        wait_for(f"XRD {XRD_NAMES[flavour]} Established", check)
    except E2EError as error:
        xrd = cp.get("xrd", XRD_NAMES[flavour]) or {}
        raise E2EError(f"{error}: {_condition_message(xrd, 'Established')}") from None
    if not cp.get("composition", f"aiworkspace-{flavour}"):
        raise E2EError(f"Configuration {configuration} installed no Composition aiworkspace-{flavour}")
    dependencies = dependencies_resolved(cp, flavour, packages.CORE)
    activated = activation_ready(cp, flavour, packages.CORE)
    return [
        f"XRD {XRD_NAMES[flavour]}: installed by Configuration {configuration}, Established"
        + (" and Offered" if flavour == "claims" else "")
        + f"; its dependencies resolved ({', '.join(dependencies)})",
        activated,
    ]


def previous_release_running(
    cp: ControlPlane, registry: str, flavour: str, previous: upgrade.Previous
) -> upgrade.Observed:
    """The platform on the previous release: its Function and core Configuration installed, the team's basic
    workspace as that release's examples write it, composed, its volumes bound and settled; what it owns."""
    how, _ = install_function(cp, registry, previous)
    say(f"ok   {flavour:<10} previous release {previous.commit[:12]}: {how}")
    install_configuration(cp, registry, flavour, previous=previous)
    wait_for(f"XRD {XRD_NAMES[flavour]} Established", lambda: _condition(cp.get("xrd", XRD_NAMES[flavour]) or {},
                                                                           "Established") == "True")  # fmt: skip
    cp.kubectl("create", "namespace", upgrade.NAMESPACE)
    team = previous.example(flavour)
    cp.apply(team)
    [workspace] = [d for d in team if d["kind"] == "AIWorkspace"]
    # By plural and group: in the claims flavour a bare `aiworkspace` is ambiguous to kubectl.
    kind = f"{workspace['kind'].lower()}s.{workspace['apiVersion'].split('/')[0]}"
    name = workspace["metadata"]["name"]

    def composed() -> bool:
        current = cp.get(kind, "-n", upgrade.NAMESPACE, name) or {}
        claims = (cp.get("pvc", "-n", upgrade.NAMESPACE) or {}).get("items") or []
        bound = claims and all(c.get("status", {}).get("phase") == "Bound" for c in claims)
        return _condition(current, "Synced") == "True" and bool(bound)

    try:
        wait_for(f"the previous release's {kind} {name} Synced, its volumes bound", composed, timeout=240)
    except E2EError as error:
        current = cp.get(kind, "-n", upgrade.NAMESPACE, name) or {}
        said = [f"{c.get('type')}={c.get('status')}: {c.get('message', '')[:300]}"
                for c in current.get("status", {}).get("conditions") or []]  # fmt: skip
        claims = cp.kubectl("get", "pvc", "-n", upgrade.NAMESPACE, check=False).stdout
        events = cp.kubectl("get", "events", "-n", upgrade.NAMESPACE, check=False).stdout[-2000:]
        raise E2EError(f"{error}; {'; '.join(said)}\n{claims}\n{events}") from None
    resource = objects_resource(flavour)
    upgrade.wait_settled(cp.get, resource)
    before = upgrade.observe(cp.get, resource)
    say(
        f"ok   {flavour:<10} previous release: workspace {upgrade.NAMESPACE}/{name} composed, "
        f"{len(before.claims)} volumes bound, {len(before.secrets)} Secrets, {len(before.generations)} workloads"
    )
    return before


def objects_resource(flavour: str) -> str:
    return "objects.kubernetes.crossplane.io" if flavour == "claims" else "objects.kubernetes.m.crossplane.io"


def upgraded(cp: ControlPlane, flavour: str, previous: upgrade.Previous, before: upgrade.Observed) -> str:
    """After the Function and the core Configuration were upgraded: the workspace on the new Composition revision,
    settled, and nothing it owned lost, replaced or rolled twice; a line saying so."""
    composition = f"aiworkspace-{flavour}"

    def on_the_new_revision() -> bool:
        revisions = cp.get("compositionrevisions", "-l", f"crossplane.io/composition-name={composition}") or {}
        latest = max((r for r in revisions.get("items") or []), key=lambda r: r["spec"]["revision"], default=None)
        xrs = (cp.get(XRD_NAMES[flavour], "-A") or {}).get("items") or []
        refs = [(x["spec"].get("crossplane") or x["spec"]).get("compositionRevisionRef", {}).get("name") for x in xrs]
        return latest is not None and bool(refs) and all(ref == latest["metadata"]["name"] for ref in refs)

    wait_for(f"the workspace on the latest revision of Composition {composition}", on_the_new_revision, timeout=180)
    resource = objects_resource(flavour)
    upgrade.wait_settled(cp.get, resource)
    after = upgrade.observe(cp.get, resource)
    problems = upgrade.compare(before, after)
    if problems:
        raise E2EError(f"the upgrade from {previous.commit[:12]}: " + "; ".join(problems))
    rolled = sorted(n for n, g in after.generations.items() if g != before.generations.get(n, g))
    return (
        f"upgraded from {previous.commit[:12]} to this tree: {len(before.claims)} volumes and "
        f"{len(before.holders)} volume holders kept (same UIDs), {len(before.secrets)} Secrets unchanged, "
        f"{len(rolled)} of {len(before.generations)} workloads rolled once ({', '.join(rolled) or 'none'}), none twice"
    )


def cloud_ready(cp: ControlPlane, registry: str, flavour: str, cloud: str) -> list[str]:
    """A cloud's Configuration installed on top of the core: its dependencies resolved (the core found installed,
    not installed again; the cloud's providers installed from the registry), its activation policy activating
    exactly its definitions; one line per check."""
    started = time.monotonic()
    configuration = install_configuration(cp, registry, flavour, cloud)
    dependencies = dependencies_resolved(cp, flavour, cloud)
    core = packages.configuration_package(flavour)
    installed = (cp.get("configurations.pkg.crossplane.io") or {}).get("items") or []
    cores = [c["metadata"]["name"] for c in installed if c["spec"]["package"].startswith(f"{core}:")]
    if cores != [packages.configuration_name(flavour)]:
        raise E2EError(f"{core} is installed as {cores}, not once as {packages.configuration_name(flavour)}")
    activated = activation_ready(cp, flavour, cloud)
    return [
        f"Configuration {configuration} installed on top of the core in {time.monotonic() - started:.0f}s: its "
        f"dependencies resolved ({', '.join(dependencies)}), the core found installed",
        activated,
    ]


@dataclass
class Fixture:
    """A control plane ready for the workspaces of one API flavour: Crossplane with the function installed from
    the registry and served, provider-kubernetes against it, the core Configuration installed with its dependencies
    (XRD Established, activation policy in force), the seed and RBAC a platform sets up, and a node when the machine
    allows one."""

    cp: ControlPlane
    flavour: str
    registry: str
    node: Node | None
    extra: list[ControlPlane] = field(default_factory=list)
    function_metrics: list[str] = field(default_factory=list)  # its metrics' URLs at install (function_metrics_urls)

    @classmethod
    @contextlib.contextmanager
    def up(
        cls,
        flavour: str,
        kinds: set[tuple[str, str]],
        *,
        node: bool = True,
        tools: E2ETools | None = None,
        previous: upgrade.Previous | None = None,
    ) -> Iterator[Fixture]:
        """Bring the fixture up, say one line per piece, yield it, and stop everything by PID at the end. With
        `previous` (and a node), the platform first runs the previous release with a team's workspace, then
        upgrades to this tree's packages, and the fixture proves the upgrade (upgrade.py)."""
        with tempfile.TemporaryDirectory(prefix=f"aiworkspace-e2e-{flavour}-") as tmp:
            cp = ControlPlane(tools or e2e_tools(), Path(tmp))
            cp.function_runtime = "Deployment" if node else "External"
            fixture = cls(cp, flavour, "", None)
            dns = None
            machine = contextlib.ExitStack()
            try:
                if node:
                    machine.enter_context(node_lock())
                started = time.monotonic()
                cp.up()
                say(
                    f"ok   {flavour:<10} control plane up in {time.monotonic() - started:.0f}s "
                    "(etcd, kube-apiserver, kube-controller-manager, core Crossplane)"
                )
                fixture.registry = start_registry(cp)
                serve_published_names(cp, fixture.registry)
                if node:
                    fixture.node = Node(cp, fixture.registry)
                    fixture.node.up()
                    say(f"ok   {flavour:<10} node {NODE_NAME} Ready (containerd, kubelet, scheduler)")
                    dns = ClusterDNS(cp)
                objects = (
                    "kubernetes.crossplane.io" if flavour == "claims" else "kubernetes.m.crossplane.io",
                    "Object",
                )
                crds = provider_crds(kinds | {objects})
                cp.apply(crds, server_side=True)
                # Before their first objects (the provider configs): a CRD not yet Established is not served, and
                # kubectl then finds no mapping for its kind (seen on a busy machine).
                cp.kubectl("wait", "--for=condition=Established", f"--timeout={TIMEOUT:.0f}s",
                           *(f"crd/{crd['metadata']['name']}" for crd in crds))  # fmt: skip
                start_provider_kubernetes(cp, flavour)
                say(f"ok   {flavour:<10} provider-kubernetes running against this API server")
                cp.apply((ROOT / "apis" / "rbac" / "composed-kinds.yaml").read_text())
                cp.apply((xp.EXAMPLES / "function-credentials.yaml").read_text())
                before = None
                if previous and node:
                    before = previous_release_running(cp, fixture.registry, flavour, previous)
                how, fixture.function_metrics = install_function(cp, fixture.registry)
                say(f"ok   {flavour:<10} {how}")
                for line in configuration_ready(cp, fixture.registry, flavour):
                    say(f"ok   {flavour:<10} {line}")
                if previous and before:
                    say(f"ok   {flavour:<10} {upgraded(cp, flavour, previous, before)}")
                yield fixture
            finally:
                if dns:
                    dns.stop()
                if fixture.node:
                    fixture.node.stop()
                for other in fixture.extra:
                    other.stop()
                cp.stop()
                if fixture.node:
                    fixture.node.clean()
                machine.close()

    def function_metrics_urls(self) -> list[str]:
        """Where the function's metrics are served now: each Ready pod's, when it runs as pods (a pod the kubelet
        replaced has another address), else the process the fixture serves."""
        if self.cp.function_runtime != "Deployment":
            return self.function_metrics
        pods = (self.cp.get("pods", "-n", SYSTEM, "-l", f"pkg.crossplane.io/function={FUNCTION}") or {}).get("items")
        ready = [p for p in pods or [] if _condition(p, "Ready") == "True" and p["status"].get("podIP")]
        return [f"http://{p['status']['podIP']}:8080/metrics" for p in ready]

    def cloud_on_top(self, cloud: str) -> list[str]:
        """Install a cloud's Configuration of the fixture's flavour on top of its core (see cloud_ready)."""
        return cloud_ready(self.cp, self.registry, self.flavour, cloud)

    def second_api_server(self) -> Path:
        """Another etcd and kube-apiserver on loopback (a workload cluster, say), stopped with the fixture; its
        kubeconfig."""
        other = ControlPlane(self.cp.tools, self.cp.dir / f"api-server-{len(self.extra) + 2}")
        other.dir.mkdir()
        self.extra.append(other)
        other._certificates()
        other._etcd_and_apiserver()
        return other.kubeconfig

    def logs(self, lines: int = 15) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.tail(lines)}" for p in [*self.cp.processes])
