"""Responses to requests the function has answered before.

RunFunction is a pure function of its request: the same request gives a byte-identical response (no clock, no
network, no randomness; the generated secrets derive from the seed credential in the request). Crossplane
sends the same request again and again while a workspace is steady: on every poll of the composite (60 s by
default), and for every event that leaves the composite and its composed resources as they were. So the
function keeps the responses to recent requests and answers a repeated one from memory instead of composing
the workspace again.

Crossplane can cache responses itself for their `meta.ttl`, but only behind an alpha flag
(`--enable-function-response-cache`); this works on any control plane. The key is the SHA-256 of the whole
request's deterministic wire form (map entries sorted): any change (a spec field, an observed resource's
status, a Secret's value, the seed, the Input, the tag) is a different key and is composed afresh. Responses
are kept serialized (a parsed one takes several times the memory), within a byte budget (`--memo-mib`), least
recently used first out. A response with a Fatal result is never kept: those are cheap to compute, and their
log line should repeat.
"""

from __future__ import annotations

import hashlib

from crossplane.function.proto.v1 import run_function_pb2 as fnv1

from function.lru import LRU

MAX_BYTES = 8 * 1024 * 1024  # a workspace's response is 30-110 KiB: 75 to 270 workspaces


class ResponseMemo:
    """A bounded map from a request's digest to the serialized response the function gave it."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._responses: LRU[bytes, bytes] = LRU(max_bytes, len)

    def __len__(self) -> int:
        return len(self._responses)

    @property
    def size(self) -> int:
        """Bytes kept."""
        return self._responses.size

    @staticmethod
    def key(req: fnv1.RunFunctionRequest) -> bytes:
        return hashlib.sha256(req.SerializeToString(deterministic=True)).digest()

    def get(self, key: bytes) -> fnv1.RunFunctionResponse | None:
        """A fresh copy of the response kept for `key`, or None."""
        found = self._responses.get(key)
        return None if found is None else fnv1.RunFunctionResponse.FromString(found)

    def put(self, key: bytes, rsp: fnv1.RunFunctionResponse) -> None:
        """Keep `rsp` for `key`, unless it reports a Fatal result or the memo has no room for it."""
        if self._responses.budget and not any(r.severity == fnv1.SEVERITY_FATAL for r in rsp.results):
            self._responses.put(key, rsp.SerializeToString())
