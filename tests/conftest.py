"""Session fixtures: the real crossplane binaries and the function served locally for render."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hack"))

import xp  # noqa: E402


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop at once, with one message, when the providers' CRDs cannot be had: every render test needs them."""
    try:
        source = xp.crd_source()
    except xp.MissingCRDsError as error:
        pytest.exit(f"make test: {error}", returncode=1)
    session.config.stash[CRDS] = source.description


def pytest_report_header(config: pytest.Config) -> str:
    return f"provider CRDs: {config.stash.get(CRDS, 'not looked up')}"


CRDS = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def tools() -> xp.Tools:
    # Builds on first use and never skips: a missing CLI is a failure, in CI and everywhere else.
    return xp.tools()


@pytest.fixture(scope="session")
def function_address() -> Iterator[str]:
    with xp.function_server() as address:
        yield address
