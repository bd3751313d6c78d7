"""The floor of a function that answers with a workspace's response, for `make bench --floor`: no composing.

Served by the same `crossplane.function.cli` as the no-op (hack/noop_function.py), its RunFunction answers every
request with the response read once from `FLOOR_RESPONSE` (a serialized RunFunctionResponse): what the transport
and the caller's parse of a 30-120 KiB response cost, which no memo or cache can take away.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from crossplane.function import cli
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1


class FloorRunner(grpcv1.FunctionRunnerServiceServicer):
    def __init__(self, answer: fnv1.RunFunctionResponse) -> None:
        self.answer = answer

    async def RunFunction(self, req: fnv1.RunFunctionRequest, _: object) -> fnv1.RunFunctionResponse:
        return self.answer


@click.command()
@cli.standard_options
def main(**options: object) -> None:
    answer = fnv1.RunFunctionResponse.FromString(Path(os.environ["FLOOR_RESPONSE"]).read_bytes())
    cli.run(FloorRunner(answer), **options)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
