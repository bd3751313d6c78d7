"""YAML text the function writes into ConfigMaps (librechat.yaml, SearXNG's settings.yml).

libyaml's emitter (PyYAML's CSafeDumper) when PyYAML was built with it, else PyYAML's pure-Python SafeDumper:
the same document either way (tests/test_units.py compares both on every example), the C one several times
faster, and emitting was about half of each RunFunction call.
"""

from __future__ import annotations

from typing import Any

import yaml

SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump(data: Any, *, dumper: type[yaml.SafeDumper] | None = None, **options: Any) -> str:
    """yaml.safe_dump(data, **options), with the fastest safe emitter available."""
    text: str = yaml.dump(data, Dumper=dumper or SafeDumper, **options)
    return text
