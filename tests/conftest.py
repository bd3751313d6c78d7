"""Session fixtures: the real crossplane binaries and the function served locally for render."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hack"))

import xp  # noqa: E402


@pytest.fixture(scope="session")
def tools() -> xp.Tools:
    # Builds on first use and never skips: a missing CLI is a failure, in CI and everywhere else.
    return xp.tools()


@pytest.fixture(scope="session")
def function_address() -> Iterator[str]:
    with xp.function_server() as address:
        yield address
