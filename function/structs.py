"""Python data into the response's protobuf Structs, each distinct body converted once.

Filling a Struct (`Struct.update`, what the SDK's `resource.update` does) walks the data in pure Python, one
protobuf operation per field, and was about a third of each RunFunction call. Crossplane calls the function
again and again for the same workspace (every poll, every watch event), and most composed bodies are the same
each time. So the Struct is built once per distinct body, kept in wire form in a bounded LRU, and later calls
parse it in protobuf's C code. The key is the body's `marshal` form (C code, several times faster than JSON
text; it round-trips, so two different bodies never share a key), so a changed body is always built afresh;
the result is the Struct `update` would build (tests/test_units.py checks it).
"""

from __future__ import annotations

import marshal
from typing import Any

from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from google.protobuf import struct_pb2

from function.lru import LRU

# Bodies are a few KiB; a body weighs its key and its value. At most 1 MiB in all, none above 32 KiB: the kept
# outputs of function/recompose.py hold the bodies of whole workspaces, this only what a service composes again.
MAX_BYTES = 2**20
_wire: LRU[bytes, bytes] = LRU(MAX_BYTES, largest=MAX_BYTES // 32)


def wire(data: dict[str, Any]) -> bytes:
    """The serialized Struct of `data`, in deterministic wire form (map entries by key): the form the response
    carries it in (fn.py splices it into the response as it is)."""
    key = marshal.dumps(data)
    found = _wire.get(key)
    if found is None:
        message = struct_pb2.Struct()
        message.update(data)
        found = bytes(message.SerializeToString(deterministic=True))
        _wire.put(key, found, weight=len(key) + len(found))
    return found


def update(target: fnv1.Resource, data: dict[str, Any]) -> None:
    """Like crossplane.function.resource.update(target, data): each top-level key of `data` replaces the
    target's (a map entry parsed again replaces the one before it)."""
    target.resource.MergeFromString(wire(data))
