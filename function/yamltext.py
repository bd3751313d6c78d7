"""YAML text the function writes into ConfigMaps (librechat.yaml, SearXNG's settings.yml).

libyaml's emitter (PyYAML's CSafeDumper) when PyYAML was built with it, else PyYAML's pure-Python SafeDumper:
the same document either way (tests/test_units.py compares both on every example), the C one several times
faster, and emitting was about half of each RunFunction call.

PyYAML writes YAML 1.1; LibreChat reads librechat.yaml with js-yaml, a YAML 1.2 reader. A few plain scalars are
strings in 1.1 but numbers in 1.2 (1e3, 0o17, .5e1), so a team's welcome message or model name would change type
in LibreChat and fail its schema. The YAML 1.2 dumpers also resolve those forms, which makes the emitter quote
such strings: every string is read back as the same string by both readers.
"""

from __future__ import annotations

import marshal
import re
from typing import Any

import yaml

from function.lru import LRU

SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# The YAML 1.2 core schema's numbers that YAML 1.1 reads as strings (js-yaml's int and float types).
_YAML12_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_YAML12_OCTAL = re.compile(r"^[-+]?0o[0-7_]+$")


def _yaml12(dumper: type[yaml.SafeDumper]) -> type[yaml.SafeDumper]:
    class Yaml12Dumper(dumper):  # type: ignore[valid-type,misc]
        """Quotes every string a YAML 1.2 reader would not read back as that string."""

    Yaml12Dumper.add_implicit_resolver("tag:yaml.org,2002:float", _YAML12_FLOAT, list("-+0123456789."))
    Yaml12Dumper.add_implicit_resolver("tag:yaml.org,2002:int", _YAML12_OCTAL, list("-+0"))
    return Yaml12Dumper


Yaml12SafeDumper = _yaml12(SafeDumper)
Yaml12PureDumper = _yaml12(yaml.SafeDumper)


# A few KiB each, weighing their key and text: at most 1 MiB, none above 128 KiB.
_texts: LRU[tuple[type[yaml.SafeDumper], bytes], str] = LRU(2**20, largest=2**17)


def dump(data: Any, *, dumper: type[yaml.SafeDumper] | None = None, **options: Any) -> str:
    """yaml.safe_dump(data, **options), with the fastest safe emitter available.

    PyYAML's representer walks the data in Python even with libyaml's emitter, and the same settings are
    written on every call for a workspace: the text is kept per distinct (dumper, data, options), keyed by
    their `marshal` form (it round-trips, so different data never share a key) and the dumper itself."""
    dumper = dumper or SafeDumper
    key = (dumper, marshal.dumps((data, sorted(options.items()))))
    text = _texts.get(key)
    if text is None:
        text = yaml.dump(data, Dumper=dumper, **options)
        _texts.put(key, text, weight=len(key[1]) + len(text))
    return text


def dump_yaml12(data: Any, **options: Any) -> str:
    """YAML that a YAML 1.2 reader (js-yaml) reads as `data`, strings staying strings."""
    return dump(data, dumper=Yaml12SafeDumper, **options)
