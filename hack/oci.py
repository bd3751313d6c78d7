"""Container images written byte for byte here: layers as tar streams with fixed owners, modes and times, and the
image as the tarball `crossplane xpkg build --embed-runtime-image-tarball` and `ctr images import` read (the
docker-archive layout go-containerregistry's `tarball.ImageFromPath` loads: manifest.json, the config, one tar per
layer). The same files give the same bytes, so the same digest, on every machine.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# What every entry of every layer says about itself, whatever the files were on disk: owned by root, dated 0.
MTIME = 0


@dataclass
class Layer:
    """One layer being written: entries in the order added (callers add them sorted), owned by root."""

    buffer: io.BytesIO = field(default_factory=io.BytesIO)
    names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.tar = tarfile.open(fileobj=self.buffer, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115

    def _info(self, name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
        name = name.lstrip("/")
        if name in self.names:
            raise ValueError(f"{name} is in the layer twice")
        self.names.add(name)
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = kind, mode, MTIME
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    def directory(self, name: str, mode: int = 0o755) -> None:
        self.tar.addfile(self._info(name, tarfile.DIRTYPE, mode))

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        info = self._info(name, tarfile.REGTYPE, mode)
        info.size = len(data)
        self.tar.addfile(info, io.BytesIO(data))

    def symlink(self, name: str, target: str) -> None:
        info = self._info(name, tarfile.SYMTYPE, 0o777)
        info.linkname = target
        self.tar.addfile(info)

    def hardlink(self, name: str, target: str) -> None:
        info = self._info(name, tarfile.LNKTYPE, 0o644)
        info.linkname = target.lstrip("/")
        self.tar.addfile(info)

    def close(self) -> bytes:
        self.tar.close()
        return self.buffer.getvalue()


def directories(paths: Iterable[str]) -> list[str]:
    """Every parent directory of paths, outermost first: a layer lists a directory before what is in it."""
    out: set[str] = set()
    for path in paths:
        parts = path.strip("/").split("/")[:-1]
        out.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(out)


def write_image(path: Path, tag: str, layers: list[bytes], config: dict[str, Any], architecture: str = "amd64") -> str:
    """The image for linux/architecture as a docker-archive tarball at path, tagged tag; its config digest (the
    image ID)."""
    diff_ids = [f"sha256:{hashlib.sha256(layer).hexdigest()}" for layer in layers]
    document = {
        "architecture": architecture,
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    config_bytes = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    config_digest = hashlib.sha256(config_bytes).hexdigest()
    names = [f"{diff_id.removeprefix('sha256:')}.tar" for diff_id in diff_ids]
    manifest = [{"Config": f"{config_digest}.json", "RepoTags": [tag], "Layers": names}]
    entries = [
        *zip(names, layers, strict=True),
        (f"{config_digest}.json", config_bytes),
        ("manifest.json", json.dumps(manifest, separators=(",", ":")).encode()),
    ]
    out = Layer()
    for name, data in entries:
        if name not in out.names:  # two equal layers are one file
            out.file(name, data)
    path.write_bytes(out.close())
    return f"sha256:{config_digest}"
