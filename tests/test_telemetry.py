"""The function as it runs: `python -m function.main`, serving RunFunction, the gRPC health service and its
Prometheus metrics; what the metrics say after a composed call, a repeated one and a refused one."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import xp
import yaml
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import OPENAI_KEY, basic_spec, full_request, namespaced_xr

ROOT = Path(__file__).resolve().parent.parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, str]]:
    grpc_port, metrics_port = _port(), _port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "function.main", "--insecure", "--address", f"127.0.0.1:{grpc_port}",
         "--metrics-address", f"127.0.0.1:{metrics_port}"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", grpc_port), timeout=0.2):
                break
            time.sleep(0.1)
        yield f"127.0.0.1:{grpc_port}", f"http://127.0.0.1:{metrics_port}/metrics"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0 or proc.returncode == -signal.SIGTERM


def _metrics(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_health_and_metrics_follow_the_calls(served: tuple[str, str]) -> None:
    """The health service says SERVING for the server and RunFunction; a composed call, the same request again
    (from the memo) and a refused spec are counted by outcome, with their results by severity, the memo's hits
    and size, and the resources composed."""
    address, metrics = served
    with grpc.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "apiextensions.fn.proto.v1.FunctionRunnerService"):
            status = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10).status
            assert status == health_pb2.HealthCheckResponse.SERVING, service
        before = _metrics(metrics)
        stub = grpcv1.FunctionRunnerServiceStub(channel)
        req = full_request(namespaced_xr())
        first = stub.RunFunction(req, timeout=30)
        again = stub.RunFunction(req, timeout=30)
        assert first.SerializeToString(deterministic=True) == again.SerializeToString(deterministic=True)
        bad = basic_spec()
        bad["librechat"]["domain"] = "-bad-"
        refused = stub.RunFunction(full_request(namespaced_xr(bad)), timeout=30)
        assert any(r.severity == fnv1.SEVERITY_FATAL for r in refused.results)
    after = _metrics(metrics)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    prefix = "function_ai_workspace"
    assert grew(f"{prefix}_run_function_seconds_count", outcome="composed") == 1
    assert grew(f"{prefix}_run_function_seconds_count", outcome="memo") == 1
    assert grew(f"{prefix}_run_function_seconds_count", outcome="fatal") == 1
    assert grew(f"{prefix}_results_total", severity="fatal") == 1
    assert grew(f"{prefix}_results_total", severity="normal") >= 2
    assert grew(f"{prefix}_memo_hits_total") == 1 and grew(f"{prefix}_memo_misses_total") == 2
    assert after[(f"{prefix}_memo_bytes", ())] >= len(first.SerializeToString()) > 0
    assert after[(f"{prefix}_memo_entries", ())] >= 1
    assert grew(f"{prefix}_composed_resources_count") == 1
    assert grew(f"{prefix}_composed_resources_sum") == len(first.desired.resources)
    assert ("process_resident_memory_bytes", ()) in after
    assert OPENAI_KEY not in urllib.request.urlopen(metrics, timeout=10).read().decode()


def test_the_runtime_config_example_is_valid_and_sets_what_it_says() -> None:
    """examples/function-runtime.yaml validates against core Crossplane's DeploymentRuntimeConfig CRD (the pinned
    core's), names the runtime's container, and sizes the memo through the env the function reads."""
    text = (ROOT / "examples" / "function-runtime.yaml").read_text()
    report = xp.validate(text)
    assert report["summary"] == {"total": 1, "valid": 1, "invalid": 0, "missingSchemas": 0}, report
    [doc] = [d for d in yaml.safe_load_all(text) if d]
    [container] = doc["spec"]["deploymentTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["name"] == "package-runtime"
    assert {"name": "FUNCTION_MEMO_MIB", "value": "32"} in container["env"]
    assert container["livenessProbe"]["httpGet"]["port"] == 8080
