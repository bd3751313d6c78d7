"""The function's runtime image, built here from Debian's packages and a lock of hashed wheels, with no base image
pulled from a container registry, and reproducibly: the same commit gives the same image digest on every machine.

    python hack/runtime_image.py build [OUT]   # the image tarball `make package` embeds (_output/runtime-image.tar)
    python hack/runtime_image.py rootfs DIR    # the same filesystem in a directory (the Dockerfile's build stage)
    python hack/runtime_image.py lock          # re-resolve both locks from Debian's signed indexes and PyPI

RUNTIME_ARCH (amd64, the default, or arm64) chooses the architecture: both locks hold both, so a release builds
the same image for each (the Dockerfile passes its TARGETARCH).

Three layers:
1. Debian bookworm's Python 3.11 and the libraries it and the wheels load (libstdc++ for grpcio), each package at
   the version and SHA-256 hack/runtime-debian.lock pins, unpacked as dpkg would (no maintainer scripts run: none
   is needed to import Python), without manuals and documentation but each package's copyright file; /etc/passwd
   and /etc/group naming the image's user, and /tmp.
2. The wheels hack/runtime-wheels.lock pins (pip's hash-checking mode fetches them), unpacked into Debian's site
   directory for local packages, /usr/local/lib/python3.11/dist-packages.
3. The function's own package, function/, beside them.
The image runs `python3.11 -I -B -u -m function.main` as 65532:65532, listening on 9443 (gRPC, TLS from
TLS_SERVER_CERTS_DIR, which Crossplane's runtime mounts) and serving metrics on 8080: what the Dockerfile states,
which builds the same filesystem with this script for users who build with a container engine.

Debian packages come from DEBIAN_MIRROR (http://deb.debian.org by default; the lock's SHA-256 is what is trusted,
as apt trusts its signed indexes' hashes), else from snapshot.debian.org at the time the lock was made (upstream's
permanent archive, for when a newer point release has replaced a locked version). `lock` verifies each suite's
InRelease with gpgv against Debian's archive keyring before reading its package index.
"""

from __future__ import annotations

import hashlib
import io
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "hack"))

import oci  # noqa: E402

from function import release  # noqa: E402
from function.__version__ import __version__  # noqa: E402

DEBIAN_LOCK = ROOT / "hack" / "runtime-debian.lock"
WHEELS_LOCK = ROOT / "hack" / "runtime-wheels.lock"
IMAGE = ROOT / "_output" / "runtime-image.tar"
CACHE = Path(
    os.environ.get("FUNCTION_AI_WORKSPACE_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "function-ai-workspace"
)

# Debian: the release, its suites (archive, suite), and what the image needs installed.
ARCHITECTURES = {"amd64": "x86_64", "arm64": "aarch64"}  # Debian's name: the manylinux wheels' name
ARCHITECTURE = os.environ.get("RUNTIME_ARCH", "amd64")
SUITES = (("debian", "bookworm"), ("debian", "bookworm-updates"), ("debian-security", "bookworm-security"))
ROOTS = (
    "python3.11-minimal",  # the interpreter
    "libpython3.11-stdlib",  # the standard library beyond the minimal one (asyncio, concurrent, logging's handlers)
    "libstdc++6",  # grpcio's extension links it
    "libgcc-s1",
)
# Dependencies not followed, with why: only dpkg's own installation needs them.
NOT_FOLLOWED = {
    "dpkg": "readline-common depends on it to install; nothing in the image runs dpkg",
    "install-info": "an alternative of dpkg for readline-common's info pages, which are not kept",
}
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org").rstrip("/")
SNAPSHOT = "https://snapshot.debian.org/archive"

# Python: the interpreter's tags the wheels are chosen for, and where they go.
PYTHON = "3.11"
GLIBC = 36  # bookworm's glibc 2.36: wheels for it and every older manylinux


def wheel_platform(architecture: str) -> list[str]:
    """pip's options choosing wheels for the image's Python on an architecture."""
    machine = ARCHITECTURES[architecture]
    tags = [f"manylinux_2_{minor}_{machine}" for minor in range(GLIBC, 4, -1)]
    tags += [
        f"manylinux2014_{machine}",
        *([f"manylinux2010_{machine}", f"manylinux1_{machine}"] * (machine == "x86_64")),
    ]
    return [*(f"--platform={tag}" for tag in tags), "--python-version", PYTHON, "--implementation", "cp"]


SITE = f"usr/local/lib/python{PYTHON}/dist-packages"
# Kept of /usr/share: what Python reads (mime types); of the documentation, each package's copyright file.
DROPPED = re.compile(
    r"^usr/share/(man|info|lintian|locale|bug|doc-base|menu|gcc|gdb)/|^usr/share/doc/[^/]+/(?!copyright$)"
)

# The image: its user, what it runs, its ports (the Dockerfile states the same).
USER, GROUP = 65532, 65532
ENTRYPOINT = [f"/usr/bin/python{PYTHON}", "-I", "-B", "-u", "-m", "function.main"]
PORTS = (9443, 8080)
TAG = f"{release.FUNCTION_PACKAGE}:runtime-{__version__}"
LICENSE_FILE = "usr/share/doc/function-ai-workspace/copyright"


class BuildError(Exception):
    pass


def log(message: str) -> None:
    print(f"runtime-image: {message}", file=sys.stderr)


# The Debian lock ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deb:
    package: str
    version: str
    architecture: str
    archive: str
    pool: str
    size: int
    sha256: str

    def line(self) -> str:
        return f"{self.package} {self.version} {self.architecture} {self.archive} {self.pool} {self.size} {self.sha256}"


def read_debian_lock(path: Path = DEBIAN_LOCK, architecture: str = ARCHITECTURE) -> tuple[str, list[Deb]]:
    """The lock's snapshot time (for snapshot.debian.org) and its packages for an architecture."""
    stamp, debs = "", []
    for line in path.read_text().splitlines():
        if line.startswith("# snapshot: "):
            stamp = line.removeprefix("# snapshot: ").strip()
        elif line and not line.startswith("#"):
            package, version, arch, archive, pool, size, sha256 = line.split()
            if arch == architecture:
                debs.append(Deb(package, version, arch, archive, pool, int(size), sha256))
    if not re.fullmatch(r"\d{8}T\d{6}Z", stamp) or not debs:
        raise BuildError(f"{path.name} has no snapshot time or no {architecture} package: run `runtime_image.py lock`")
    return stamp, debs


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        return bytes(response.read())


def download_deb(deb: Deb, stamp: str) -> bytes:
    """A locked package's bytes, from the cache, the mirror or the snapshot archive, checked against the lock."""
    cached = CACHE / "debs" / f"{deb.sha256}.deb"
    if cached.is_file() and hashlib.sha256(cached.read_bytes()).hexdigest() == deb.sha256:
        return cached.read_bytes()
    tried = []
    for url in (f"{MIRROR}/{deb.archive}/{deb.pool}", f"{SNAPSHOT}/{deb.archive}/{stamp}/{deb.pool}"):
        try:
            data = fetch(url)
        except OSError as error:
            tried.append(f"{url}: {error}")
            continue
        got = hashlib.sha256(data).hexdigest()
        if got != deb.sha256:
            raise BuildError(f"{url} has SHA-256 {got}, the lock says {deb.sha256}: refusing it")
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(data)
        return data
    raise BuildError(f"{deb.package} {deb.version} could not be fetched:\n  " + "\n  ".join(tried))


def deb_members(data: bytes) -> dict[str, bytes]:
    """The members of a .deb (an ar archive)."""
    if not data.startswith(b"!<arch>\n"):
        raise BuildError("not a Debian package (no ar header)")
    out, at = {}, 8
    while at < len(data):
        header = data[at : at + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        out[name] = data[at + 60 : at + 60 + size]
        at += 60 + size + (size % 2)
    return out


def deb_files(data: bytes) -> tarfile.TarFile:
    """The filesystem a .deb installs (its data.tar)."""
    members = deb_members(data)
    if "data.tar.xz" in members:
        return tarfile.open(fileobj=io.BytesIO(lzma.decompress(members["data.tar.xz"])))
    if "data.tar.gz" in members:
        return tarfile.open(fileobj=io.BytesIO(members["data.tar.gz"]), mode="r:gz")
    raise BuildError(f"no data.tar.xz or data.tar.gz among {sorted(members)}")


# The Python lock ----------------------------------------------------------------------------------------------------


def read_wheels_lock(path: Path = WHEELS_LOCK) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of the wheels lock (pip's requirements format, hash-checking mode)."""
    text = path.read_text().replace("\\\n", " ")
    out = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, *options = line.split()
        name, _, version = requirement.partition("==")
        hashes = [o.removeprefix("--hash=sha256:") for o in options if o.startswith("--hash=sha256:")]
        if not version or not hashes:
            raise BuildError(f"{path.relative_to(ROOT)}: {requirement} is not pinned with a hash")
        out[name.lower().replace("_", "-")] = (version, hashes)
    return out


def download_wheels(into: Path) -> list[Path]:
    """The locked wheels for the image's Python, fetched by pip in hash-checking mode (no dependency resolved)."""
    cache = CACHE / "wheels"
    cache.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    command += ["--no-deps", "--only-binary=:all:", "--require-hashes", *wheel_platform(ARCHITECTURE)]
    command += ["--dest", str(cache), "-r", str(WHEELS_LOCK)]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"pip download of {WHEELS_LOCK.name} failed:\n{proc.stderr.strip()}")
    wheels = []
    for name, (version, hashes) in sorted(read_wheels_lock().items()):
        stem = f"{re.sub(r'[-_.]+', '_', name)}-{version}-"
        found = [w for w in cache.glob("*.whl") if w.name.lower().startswith(stem.lower())]
        machine = ARCHITECTURES[ARCHITECTURE]
        found = [w for w in found if w.stem.rsplit("-", 1)[-1] == "any" or w.stem.endswith(f"_{machine}")]
        found = [w for w in found if hashlib.sha256(w.read_bytes()).hexdigest() in hashes]
        if len(found) != 1:
            raise BuildError(f"expected one wheel of {name} {version} with a locked hash in {cache}, found {found}")
        wheels.append(found[0])
    return wheels


# The layers ---------------------------------------------------------------------------------------------------------


def debian_layer(debs: list[Deb], stamp: str) -> oci.Layer:
    """Every locked package unpacked, then the image's own /etc/passwd, /etc/group and /tmp."""
    entries: dict[str, tarfile.TarInfo] = {}
    contents: dict[str, bytes] = {}
    for deb in debs:
        with deb_files(download_deb(deb, stamp)) as tar:
            for member in tar.getmembers():
                name = os.path.normpath(member.name).lstrip("./")
                if not name or DROPPED.search(name + ("/" if member.isdir() else "")):
                    continue
                if name in entries and not (member.isdir() and entries[name].isdir()):
                    raise BuildError(f"{name} is installed by two packages (second: {deb.package})")
                entries.setdefault(name, member)
                if member.isfile():
                    extracted = tar.extractfile(member)
                    assert extracted is not None
                    contents[name] = extracted.read()
    users = (
        f"root:x:0:0:root:/root:/usr/sbin/nologin\nfunction:x:{USER}:{GROUP}:function:/nonexistent:/usr/sbin/nologin\n"
    )
    contents["etc/passwd"], contents["etc/group"] = users.encode(), f"root:x:0:\nfunction:x:{GROUP}:\n".encode()
    for name in ("etc/passwd", "etc/group"):
        entries[name] = tarfile.TarInfo(name)
        entries[name].mode = 0o644
    for name, mode in (("tmp", 0o1777), (SITE, 0o755), ("etc", 0o755)):
        info = entries.get(name) or tarfile.TarInfo(name)
        info.type, info.mode = tarfile.DIRTYPE, mode
        entries[name] = info
    layer = oci.Layer()
    for name in sorted({*entries, *oci.directories(entries)}):
        member = entries.get(name)
        if member is None or member.isdir():
            layer.directory(name, member.mode if member is not None else 0o755)
        elif member.issym():
            layer.symlink(name, member.linkname)
        elif member.islnk():
            layer.hardlink(name, os.path.normpath(member.linkname).lstrip("./"))
        elif member.isfile():
            layer.file(name, contents[name], member.mode)
        else:
            raise BuildError(f"{name}: a file of type {member.type!r} is not expected in these packages")
    return layer


def wheels_layer(wheels: list[Path]) -> oci.Layer:
    """The wheels unpacked into the site directory, as an installer would (their .data/purelib and platlib too)."""
    files: dict[str, tuple[bytes, int]] = {}
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for item in archive.infolist():
                if item.is_dir():
                    continue
                path = PurePosixPath(item.filename)
                if path.parts[0].endswith(".data"):
                    if path.parts[1] not in ("purelib", "platlib"):
                        raise BuildError(f"{wheel.name} installs {item.filename}: only library files are expected")
                    path = PurePosixPath(*path.parts[2:])
                name = f"{SITE}/{path}"
                if name in files:
                    raise BuildError(f"{name} is in two wheels (second: {wheel.name})")
                executable = (item.external_attr >> 16) & 0o111
                files[name] = (archive.read(item), 0o755 if executable else 0o644)
    return files_layer(files, below=SITE)


def function_layer(source: Path = ROOT) -> oci.Layer:
    """The function's package (of the tree at source), as the wheel `pip install .` builds would install it, and
    its licence."""
    files = {
        f"{SITE}/{path.relative_to(source).as_posix()}": (path.read_bytes(), 0o644)
        for path in sorted((source / "function").rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    files[LICENSE_FILE] = ((source / "LICENSE").read_bytes(), 0o644)
    return files_layer(files, below="usr/")


def files_layer(files: dict[str, tuple[bytes, int]], below: str) -> oci.Layer:
    layer = oci.Layer()
    parents = [d for d in oci.directories(files) if d.startswith(below)]
    for name in sorted({*files, *parents}):
        if name in files:
            layer.file(name, *files[name])
        else:
            layer.directory(name)
    return layer


def config() -> dict[str, object]:
    """What the image runs and as whom: the Dockerfile states the same."""
    return {
        "User": f"{USER}:{GROUP}",
        "Entrypoint": ENTRYPOINT,
        "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
        "ExposedPorts": {f"{port}/tcp": {} for port in PORTS},
        "WorkingDir": "/",
        "Labels": {
            "org.opencontainers.image.source": release.SOURCE,
            "org.opencontainers.image.version": __version__,
            "org.opencontainers.image.licenses": release.LICENSE,
            "org.opencontainers.image.title": "function-ai-workspace",
        },
    }


def layers(source: Path = ROOT) -> list[bytes]:
    stamp, debs = read_debian_lock()
    log(f"{len(debs)} Debian packages ({DEBIAN_LOCK.relative_to(ROOT)})")
    base = debian_layer(debs, stamp).close()
    with tempfile.TemporaryDirectory() as tmp:
        wheels = download_wheels(Path(tmp))
    log(f"{len(wheels)} wheels ({WHEELS_LOCK.relative_to(ROOT)})")
    return [base, wheels_layer(wheels).close(), function_layer(source).close()]


def build(out: Path = IMAGE, source: Path = ROOT) -> str:
    """The image tarball at out (of the function in the tree at source: this one, or the previous release's for
    the upgrade proof); its image ID (the config's digest)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    image_id = oci.write_image(out, TAG, layers(source), config(), ARCHITECTURE)
    log(f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: image {image_id}")
    return image_id


def rootfs(into: Path) -> None:
    """The image's filesystem in a directory, for the Dockerfile (COPY --from=build) and the tests."""
    into.mkdir(parents=True, exist_ok=True)
    into.chmod(0o755)  # a container's root, which every user traverses
    for layer in layers():
        with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
            # Built here, so trusted: owners, modes (/tmp's sticky bit) and links as a container runtime unpacks them.
            tar.extractall(into, filter="fully_trusted")


# Locking ------------------------------------------------------------------------------------------------------------


def signed_index(archive: str, suite: str, architecture: str, workdir: Path) -> tuple[str, dict[str, dict[str, str]]]:
    """A suite's package index (main, the image's architecture), its InRelease verified by gpgv against Debian's
    archive keyring and the index by the SHA-256 InRelease gives; its date and its packages."""
    base = f"{MIRROR}/{archive}/dists/{suite}"
    inrelease = workdir / f"{suite}-{architecture}.InRelease"
    inrelease.write_bytes(fetch(f"{base}/InRelease"))
    if not KEYRING.is_file() or not shutil.which("gpgv"):
        raise BuildError(f"locking needs gpgv and {KEYRING} (Debian: gpgv, debian-archive-keyring)")
    proc = subprocess.run(["gpgv", "--keyring", str(KEYRING), str(inrelease)], capture_output=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"{base}/InRelease: signature not verified: {proc.stderr.decode().strip()}")
    text = inrelease.read_text()
    wanted = f"main/binary-{architecture}/Packages.xz"
    sums = text.split("\nSHA256:\n", 1)[1]
    digest = next(line.split()[0] for line in sums.splitlines() if line.split()[-1:] == [wanted])
    packed = fetch(f"{base}/{wanted}")
    if hashlib.sha256(packed).hexdigest() != digest:
        raise BuildError(f"{base}/{wanted} does not have the SHA-256 its InRelease gives")
    date = re.search(r"^Date: (.+)$", text, re.MULTILINE)
    packages: dict[str, dict[str, str]] = {}
    for block in lzma.decompress(packed).decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line[0].isspace())
        if "Package" in fields:
            fields["Archive"] = archive
            current = packages.get(fields["Package"])
            if current is None or newer(fields["Version"], current["Version"]):
                packages[fields["Package"]] = fields
    return (date.group(1) if date else "?"), packages


def newer(a: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, "gt", b], check=False).returncode == 0


def lock_debian(workdir: Path, architecture: str) -> tuple[list[str], list[Deb]]:
    """The suites' dates and the packages the roots need on an architecture."""
    index: dict[str, dict[str, str]] = {}
    dates = []
    for archive, suite in SUITES:
        date, packages = signed_index(archive, suite, architecture, workdir)
        dates.append(f"{suite} {date}")
        for name, fields in packages.items():
            if name not in index or newer(fields["Version"], index[name]["Version"]):
                index[name] = fields
    chosen: dict[str, dict[str, str]] = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in chosen or name in NOT_FOLLOWED:
            continue
        if name not in index:
            raise BuildError(f"{name} is in none of {[s for _, s in SUITES]}")
        chosen[name] = index[name]
        for relation in ("Pre-Depends", "Depends"):
            for alternatives in filter(None, (d.strip() for d in chosen[name].get(relation, "").split(","))):
                names = [re.split(r"[ :(]", a.strip())[0] for a in alternatives.split("|")]
                todo.append(next((n for n in names if n in chosen or n in index), names[0]))
    debs = [
        Deb(name, f["Version"], architecture, f["Archive"], f["Filename"], int(f["Size"]), f["SHA256"])
        for name, f in sorted(chosen.items())
    ]
    return dates, debs


def debian_lock(workdir: Path) -> str:
    lines = [
        "# The Debian packages of the function's runtime image: generated by `python hack/runtime_image.py lock`.",
        f"# snapshot: {time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}",
    ]
    debs = []
    for architecture in ARCHITECTURES:
        dates, found = lock_debian(workdir, architecture)
        debs += found
    lines += [
        f"# From {MIRROR} ({', '.join(dates)}), each suite's InRelease verified with gpgv; roots: {', '.join(ROOTS)}.",
        "# package version architecture archive pool-path size sha256",
    ]
    return "\n".join([*lines, *(deb.line() for deb in debs)]) + "\n"


def wheels_lock(workdir: Path) -> str:
    """The project's runtime dependencies resolved for the image's Python on each architecture, with the hashes
    of their wheels there (the same versions on both, or locking fails)."""
    found: dict[str, tuple[str, list[str]]] = {}
    for architecture in ARCHITECTURES:
        report = workdir / f"report-{architecture}.json"
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--dry-run"]
        command += ["--ignore-installed", "--only-binary=:all:", *wheel_platform(architecture)]
        command += ["--target", str(workdir / "target"), "--report", str(report), str(ROOT)]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BuildError(f"resolving the runtime dependencies for {architecture} failed:\n{proc.stderr.strip()}")
        for item in json.loads(report.read_text())["install"]:
            name = item["metadata"]["name"].lower().replace("_", "-")
            if name == "function-ai-workspace":
                continue
            version, digest = item["metadata"]["version"], item["download_info"]["archive_info"]["hashes"]["sha256"]
            if name in found and found[name][0] != version:
                raise BuildError(f"{name} resolves to {found[name][0]} and {version} on different architectures")
            hashes = found.setdefault(name, (version, []))[1]
            if digest not in hashes:
                hashes.append(digest)
    lines = [
        "# The wheels of the function's runtime image: generated by `python hack/runtime_image.py lock` from",
        f"# pyproject.toml's dependencies, for CPython {PYTHON} on glibc 2.{GLIBC} (manylinux), "
        f"{' and '.join(ARCHITECTURES)}; pip's hash-checking mode (`pip download --require-hashes`).",
    ]
    for name, (version, hashes) in sorted(found.items()):
        lines.append(" \\\n".join([f"{name}=={version}", *(f"    --hash=sha256:{h}" for h in sorted(hashes))]))
    return "\n".join(lines) + "\n"


def lock() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        DEBIAN_LOCK.write_text(debian_lock(Path(tmp)))
        WHEELS_LOCK.write_text(wheels_lock(Path(tmp)))
    log(f"wrote {DEBIAN_LOCK.relative_to(ROOT)} and {WHEELS_LOCK.relative_to(ROOT)}")


def main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["build"] and len(argv) <= 2:
            build(Path(argv[1]).resolve() if len(argv) == 2 else IMAGE)
        elif argv[:1] == ["rootfs"] and len(argv) == 2:
            rootfs(Path(argv[1]))
        elif argv == ["lock"]:
            lock()
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except BuildError as error:
        log(str(error))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
