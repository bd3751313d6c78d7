"""The function's entry point: the SDK's standard flags (--address, --insecure, --tls-certs-dir, --debug)."""

import gc

import click
from crossplane.function import cli

from function.fn import FunctionRunner
from function.memo import MAX_BYTES


@click.command()
@cli.standard_options
@click.option(
    "--memo-mib",
    envvar="FUNCTION_MEMO_MIB",
    type=click.IntRange(min=0),
    default=MAX_BYTES // (1024 * 1024),
    show_default=True,
    help="Memory for responses to repeated requests, in MiB (0: compose every request afresh).",
)
def main(memo_mib: int, **options: object) -> None:
    """Serve the AIWorkspace composition function over gRPC."""
    runner = FunctionRunner(memo_bytes=memo_mib * 1024 * 1024)
    # Everything imported so far lives as long as the process: keep it out of every garbage collection, which
    # would otherwise walk it again and again while composing (a third of a call's time on large workspaces).
    gc.freeze()
    cli.run(runner, **options)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
