"""The gRPC server: the function's RunFunction (v1 and v1beta1, as the SDK serves them), server reflection, and
the standard health service; and the metrics endpoint beside it (function/telemetry.py)."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import grpc
from crossplane.function import runtime
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1beta1 import run_function_pb2_grpc as grpcv1beta1
from grpc_health.v1 import health
from grpc_reflection.v1alpha import reflection

from function import telemetry
from function.fn import FunctionRunner

SERVICES = (*runtime.SERVICE_NAMES, health.SERVICE_NAME)
V1_SERVICE = "apiextensions.fn.proto.v1.FunctionRunnerService"


def _as_sent(wire: bytes) -> bytes:
    return wire


async def _serve(
    runner: FunctionRunner,
    address: str,
    creds: grpc.ServerCredentials | None,
    options: list[tuple[str, Any]],
) -> None:
    server = grpc.aio.server(options=options)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(
        signal.SIGTERM,
        lambda: asyncio.ensure_future(server.stop(grace=runtime.SHUTDOWN_GRACE_PERIOD_SECONDS)),
    )
    # v1 RunFunction as the SDK registers it, but the response goes out in the wire form the function made of it
    # (function/fn.py): never parsed into a message to be serialized again.
    handlers = {
        "RunFunction": grpc.unary_unary_rpc_method_handler(
            runner.run_function_wire,
            request_deserializer=fnv1.RunFunctionRequest.FromString,
            response_serializer=_as_sent,
        )
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(V1_SERVICE, handlers),))
    server.add_registered_method_handlers(V1_SERVICE, handlers)
    beta = runtime.BetaFunctionRunner(wrapped=runner)
    grpcv1beta1.add_FunctionRunnerServiceServicer_to_server(beta, server)  # type: ignore[no-untyped-call]
    telemetry.add_health_servicer(await telemetry.health_servicer(runtime.SERVICE_NAMES[1:]), server)
    reflection.enable_server_reflection(SERVICES, server)
    if creds is None:
        server.add_insecure_port(address)
    else:
        server.add_secure_port(address, creds)
    await server.start()
    await server.wait_for_termination()


def serve(
    runner: FunctionRunner,
    address: str,
    *,
    creds: grpc.ServerCredentials | None,
    insecure: bool,
    metrics_address: str,
    max_recv_mib: int,
    max_send_mib: int,
) -> None:
    """Serve until SIGTERM (then drain for the SDK's grace period). Without --insecure, TLS is required."""
    if creds is None and not insecure:
        raise ValueError("no TLS credentials (--tls-certs-dir) and not --insecure")
    options = [
        ("grpc.max_receive_message_length", max_recv_mib * 1024 * 1024),
        ("grpc.max_send_message_length", max_send_mib * 1024 * 1024),
    ]
    if metrics_address:
        telemetry.serve_metrics(metrics_address)
    asyncio.run(_serve(runner, address, None if insecure else creds, options))
