"""The function's entry point: the SDK's standard flags (--address, --insecure, --tls-certs-dir, --debug)."""

import click
from crossplane.function import cli

from function.fn import FunctionRunner


@click.command()
@cli.standard_options
def main(**options: object) -> None:
    """Serve the AIWorkspace composition function over gRPC."""
    cli.run(FunctionRunner(), **options)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
