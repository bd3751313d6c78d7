"""What an operator reads of the running function: Prometheus metrics and the standard gRPC health service.

Crossplane's package runtime gives a function's Deployment a `metrics` port, 8080, with Prometheus scrape
annotations; the function serves its metrics there (`--metrics-address`, default `:8080`; empty turns it off),
from a thread of its own, never from RunFunction. RunFunction only updates counters in memory.

Metrics (all prefixed function_ai_workspace_):
- run_function_seconds{outcome}: calls and their latency; outcome is `memo` (answered from the memo of
  repeated requests), `composed` or `fatal` (nothing applied).
- results_total{severity}: the results the responses carried (normal, warning, fatal).
- memo_hits_total, memo_misses_total, memo_bytes, memo_entries: the memo of repeated requests.
- composed_resources: how many resources a composed response desired.
Beside them, the client's process metrics (CPU seconds, resident memory, open files).
"""

from __future__ import annotations

from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, start_http_server

PREFIX = "function_ai_workspace"
METRICS_ADDRESS = ":8080"
SEVERITIES: dict[int, str] = {
    fnv1.SEVERITY_NORMAL: "normal",
    fnv1.SEVERITY_WARNING: "warning",
    fnv1.SEVERITY_FATAL: "fatal",
}


class Metrics:
    """The function's metrics, in `registry` (the process-wide one by default)."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.calls = Histogram(
            f"{PREFIX}_run_function_seconds",
            "RunFunction calls and their latency, by outcome: memo, composed or fatal.",
            ["outcome"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=registry,
        )
        self.results = Counter(
            f"{PREFIX}_results", "Results the responses carried, by severity.", ["severity"], registry=registry
        )
        self.memo_hits = Counter(f"{PREFIX}_memo_hits", "Requests answered from the memo.", registry=registry)
        self.memo_misses = Counter(f"{PREFIX}_memo_misses", "Requests composed afresh.", registry=registry)
        self.memo_bytes = Gauge(f"{PREFIX}_memo_bytes", "Bytes of responses the memo keeps.", registry=registry)
        self.memo_entries = Gauge(f"{PREFIX}_memo_entries", "Responses the memo keeps.", registry=registry)
        self.composed = Histogram(
            f"{PREFIX}_composed_resources",
            "Resources a composed response desired.",
            buckets=(1, 5, 10, 20, 30, 40, 50, 60, 80, 100, 150),
            registry=registry,
        )
        for outcome in ("memo", "composed", "fatal"):
            self.calls.labels(outcome)
        for severity in SEVERITIES.values():
            self.results.labels(severity)

    def observe(self, severities: tuple[int, ...], resources: int, seconds: float, *, memo: bool) -> None:
        """One call: its results' severities, the resources its response desires, its latency."""
        fatal = False
        for number in severities:
            severity = SEVERITIES.get(number)
            if severity:
                self.results.labels(severity).inc()
            fatal = fatal or number == fnv1.SEVERITY_FATAL
        outcome = "memo" if memo else "fatal" if fatal else "composed"
        self.calls.labels(outcome).observe(seconds)
        (self.memo_hits if memo else self.memo_misses).inc()
        if outcome == "composed":
            self.composed.observe(resources)

    def memo_size(self, size: int, entries: int) -> None:
        self.memo_bytes.set(size)
        self.memo_entries.set(entries)


def serve_metrics(address: str, registry: CollectorRegistry = REGISTRY) -> None:
    """Serve /metrics at `address` (`host:port`, or `:port` for every interface) from a thread of its own."""
    host, _, port = address.rpartition(":")
    start_http_server(int(port), addr=host or "0.0.0.0", registry=registry)


async def health_servicer(services: tuple[str, ...]) -> health.aio.HealthServicer:
    """The standard grpc.health.v1 service (asyncio): the server ("") and each service it runs are SERVING."""
    servicer = health.aio.HealthServicer()
    for name in ("", *services):
        await servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return servicer


add_health_servicer = health_pb2_grpc.add_HealthServicer_to_server
