"""Responses to requests the function has answered before.

RunFunction is a pure function of its request: the same request gives a byte-identical response (no clock, no
network, no randomness; the generated secrets derive from the seed credential in the request). Crossplane
sends the same request again and again while a workspace is steady: on every poll of the composite (60 s by
default), and for every event that leaves the composite and its composed resources as they were. So the
function keeps the responses to recent requests and answers a repeated one from memory instead of composing
the workspace again.

Crossplane can cache responses itself for their `meta.ttl`, but only behind an alpha flag
(`--enable-function-response-cache`); this works on any control plane. The key is the SHA-256 of the whole
request's deterministic wire form (map entries sorted), field by field, each observed resource by its own
digest, which the observed summaries are keyed by too (function/observed.py: the resources are serialized once per
call, not twice): any change (a spec field, an observed resource's status, a Secret's value, the seed, the Input,
the tag) is a different key and is composed afresh. Responses
are kept serialized (a parsed one takes several times the memory), within a byte budget (`--memo-mib`), least
recently used first out. A response with a Fatal result is never kept: those are cheap to compute, and their
log line should repeat.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from crossplane.function.proto.v1 import run_function_pb2 as fnv1

from function.lru import LRU
from function.observed import Digest, digest

MAX_BYTES = 2 * 1024 * 1024  # a workspace's response is 30-120 KiB: 17 to 65 workspaces


def _framed(parts: list[bytes], part: bytes) -> None:
    parts += (len(part).to_bytes(8, "little"), part)


def request_key(req: fnv1.RunFunctionRequest) -> tuple[bytes, dict[str, Digest]]:
    """The request's key, and each observed resource's digest it was made of.

    The key is the SHA-256 over every set field of the request, each framed by its number and length: a message
    in its deterministic wire form, a map entry by entry in key order, and the observed resources each by its own
    digest (observed.digest). Two requests share a key only if they hold the same data."""
    resources = {key: digest(observed) for key, observed in req.observed.resources.items()}
    key: list[bytes] = []
    for field, value in req.ListFields():
        _framed(key, str(field.number).encode())
        if field.name == "observed":
            _framed(key, value.composite.SerializeToString(deterministic=True))
            for name in sorted(resources):
                _framed(key, name.encode())
                _framed(key, resources[name][0])
        elif field.message_type is not None and field.message_type.GetOptions().map_entry:
            for name in sorted(value):
                _framed(key, name.encode())
                _framed(key, value[name].SerializeToString(deterministic=True))
        else:
            _framed(key, value.SerializeToString(deterministic=True))
    return hashlib.sha256(b"".join(key)).digest(), resources


@dataclass(frozen=True)
class Answer:
    """A response in its deterministic wire form, what its metrics count (its results' severities and desired
    resources), and whether it came from the memo."""

    wire: bytes
    severities: tuple[int, ...]
    resources: int
    from_memo: bool = False

    @property
    def fatal(self) -> bool:
        return fnv1.SEVERITY_FATAL in self.severities


class ResponseMemo:
    """A bounded map from a request's key to the answer the function gave it, kept in wire form: a repeated
    request is answered with those bytes, never parsed and serialized again."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._responses: LRU[bytes, Answer] = LRU(max_bytes, lambda answer: len(answer.wire) + 256)

    def __len__(self) -> int:
        return len(self._responses)

    @property
    def size(self) -> int:
        """Bytes kept."""
        return self._responses.size

    @staticmethod
    def key(req: fnv1.RunFunctionRequest) -> bytes:
        return request_key(req)[0]

    def get(self, key: bytes) -> Answer | None:
        """The answer kept for `key`, or None."""
        found = self._responses.get(key)
        return None if found is None else replace(found, from_memo=True)

    def put(self, key: bytes, answer: Answer) -> None:
        """Keep `answer` for `key`, unless it reports a Fatal result or the memo has no room for it."""
        if self._responses.budget and not answer.fatal:
            self._responses.put(key, answer)
