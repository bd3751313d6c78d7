"""The function's entry point: the SDK's standard flags (--address, --insecure, --tls-certs-dir, --debug,
--max-recv-message-size, --max-send-message-size), the memo's size and the metrics address."""

import gc

import click
from crossplane.function import cli, logging, runtime

from function import server, telemetry
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
@click.option(
    "--metrics-address",
    envvar="FUNCTION_METRICS_ADDRESS",
    default=telemetry.METRICS_ADDRESS,
    show_default=True,
    help="Where to serve Prometheus metrics (host:port or :port; empty: not served).",
)
def main(
    memo_mib: int,
    metrics_address: str,
    debug: bool,
    address: str,
    tls_certs_dir: str | None,
    insecure: bool,
    max_recv_message_size: int,
    max_send_message_size: int | None,
) -> None:
    """Serve the AIWorkspace composition function over gRPC."""
    logging.configure(level=logging.Level.DEBUG if debug else logging.Level.INFO)
    runner = FunctionRunner(memo_bytes=memo_mib * 1024 * 1024, metrics=telemetry.Metrics())
    # Everything imported so far lives as long as the process: keep it out of every garbage collection, which
    # would otherwise walk it again and again while composing (a third of a call's time on large workspaces).
    gc.freeze()
    server.serve(
        runner,
        address,
        creds=runtime.load_credentials(tls_certs_dir) if tls_certs_dir else None,
        insecure=insecure,
        metrics_address=metrics_address,
        max_recv_mib=max_recv_message_size,
        max_send_mib=max_send_message_size or max_recv_message_size,
    )


if __name__ == "__main__":
    main()
