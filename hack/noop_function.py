"""The SDK's floor for `make bench`: a composition function that does nothing, on the same runtime as ours.

Served by the same `crossplane.function.cli` (same flags, same gRPC server, same logging) with a RunFunction
that only answers `response.to(req)`, what every function built on the SDK does at least.
"""

from __future__ import annotations

import click
from crossplane.function import cli, response
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1


class NoopRunner(grpcv1.FunctionRunnerServiceServicer):
    async def RunFunction(self, req: fnv1.RunFunctionRequest, _: object) -> fnv1.RunFunctionResponse:
        return response.to(req)


@click.command()
@cli.standard_options
def main(**options: object) -> None:
    cli.run(NoopRunner(), **options)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
