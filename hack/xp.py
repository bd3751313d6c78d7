"""Drive the real crossplane CLI: render an example through the locally served function, validate output.

    python hack/xp.py render examples/basic-namespaced     # the rendered YAML stream, nothing else on stdout
    python hack/xp.py validate FILE|-                      # crossplane resource validate against CRDs and XRDs

Used by the Makefile and the tests alike, so what a developer runs is what CI checks.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHARED_CRDS = Path(os.environ.get("SHARED_CRDS", ROOT.parent / "shared" / "crds"))
EXAMPLES = ROOT / "examples"
FLAVOURS = {"CompositeAIWorkspace": "claims", "AIWorkspace": "namespaced"}


@dataclass(frozen=True)
class Tools:
    crossplane: str
    core: str
    core_crds: str  # core Crossplane's Usage and ClusterUsage CRDs


def tools() -> Tools:
    """Paths of the cached CLI and core binaries (hack/tools.sh builds them on first use)."""
    out = subprocess.run(
        ["bash", str(ROOT / "hack" / "tools.sh"), "--print"], check=True, capture_output=True, text=True
    ).stdout
    paths = dict(line.split("=", 1) for line in out.strip().splitlines())
    return Tools(crossplane=paths["CROSSPLANE"], core=paths["CROSSPLANE_CORE"], core_crds=paths["CROSSPLANE_CORE_CRDS"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def function_server() -> Iterator[str]:
    """Serve the function locally (insecure, loopback only) and yield its address."""
    port = _free_port()
    address = f"127.0.0.1:{port}"
    log = tempfile.TemporaryFile()  # noqa: SIM115 - outlives this statement; closed in finally
    proc = subprocess.Popen(
        [sys.executable, "-m", "function.main", "--insecure", "--address", address],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"function exited early:\n{log.read().decode(errors='replace')}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"function did not listen on {address} within 30s")
            time.sleep(0.1)
        yield address
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def flavour_of(example: Path) -> str:
    xr = yaml.safe_load((example / "xr.yaml").read_text())
    return FLAVOURS[xr["kind"]]


def render(example: Path, address: str, *, results: bool = False, tool: Tools | None = None) -> str:
    """The real `crossplane composition render` of an example directory."""
    tool = tool or tools()
    flavour = flavour_of(example)
    args = [
        tool.crossplane,
        "composition",
        "render",
        str(example / "xr.yaml"),
        str(ROOT / "apis" / flavour / "composition.yaml"),
        str(EXAMPLES / "functions.yaml"),
        "--crossplane-binary",
        tool.core,
        "--xrd",
        str(ROOT / "apis" / flavour / "definition.yaml"),
        "--include-full-xr",
        "--function-annotations",
        f"render.crossplane.io/runtime-development-target={address}",
        "--function-credentials",
        str(EXAMPLES / "function-credentials.yaml"),
        "--timeout",
        "60s",
    ]
    if (example / "required-resources.yaml").exists():
        args += ["--required-resources", str(example / "required-resources.yaml")]
    if (example / "observed-resources.yaml").exists():
        args += ["--observed-resources", str(example / "observed-resources.yaml")]
    if results:
        args.append("--include-function-results")
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"render of {example} failed ({proc.returncode}):\n{proc.stderr}{proc.stdout}")
    return proc.stdout


def schema_sources(tool: Tools) -> list[str]:
    """Every CRD and XRD a rendered workspace is validated against."""
    return [str(path) for path in sorted(SHARED_CRDS.iterdir()) if path.is_dir()] + [
        tool.core_crds,
        str(ROOT / "apis" / "claims" / "definition.yaml"),
        str(ROOT / "apis" / "namespaced" / "definition.yaml"),
    ]


def validate(documents: str, *, tool: Tools | None = None, cache_dir: Path | None = None) -> dict[str, object]:
    """`crossplane resource validate` of a YAML stream, fully offline; returns the JSON report."""
    tool = tool or tools()
    with tempfile.TemporaryDirectory() as tmp:
        cache = cache_dir or Path(tmp)
        # An existing (empty) cache entry for the Crossplane image stops validate from downloading it.
        (cache / "xpkg.crossplane.io" / "crossplane" / "crossplane@stable").mkdir(parents=True, exist_ok=True)
        resources = Path(tmp) / "resources.yaml"
        resources.write_text(documents)
        proc = subprocess.run(
            [
                tool.crossplane,
                "resource",
                "validate",
                ",".join(schema_sources(tool)),
                str(resources),
                "--cache-dir",
                str(cache),
                "--error-on-missing-schemas",
                "--output",
                "json",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    try:
        report: dict[str, object] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"validate gave no JSON report ({proc.returncode}):\n{proc.stderr}{proc.stdout}") from None
    return report


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "render":
        with function_server() as address:
            sys.stdout.write(render(Path(argv[1]).resolve(), address))
        return 0
    if len(argv) == 2 and argv[0] == "validate":
        text = sys.stdin.read() if argv[1] == "-" else Path(argv[1]).read_text()
        report = validate(text)
        print(json.dumps(report["summary"], indent=2))
        summary = report["summary"]
        assert isinstance(summary, dict)
        return 0 if summary.get("invalid") == 0 and summary.get("missingSchemas") == 0 else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
