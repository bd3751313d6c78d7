"""The observed composed resources, each read only as far as the function needs it.

Crossplane sends every composed resource whole, status included (for a provider-kubernetes Object, the
manifest twice: in its spec and in status.atProvider.manifest). Converting all of them to Python data (the
SDK's `struct_to_dict`, protobuf's pure-Python JSON walk) cost more than composing the workspace once it
existed. Of most of them the function reads a few fields: kind, name, annotations, conditions, a generated
Secret's data. So every resource gets a summary with just those, read from the protobuf directly, and its
whole body is converted on first use only (a managed resource's status.atProvider; a resource kept exactly
as observed is copied in protobuf by fn.py). Most observed resources are the same from one call to the
next, so summaries are kept per distinct resource (the SHA-256 of its deterministic wire form).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

from crossplane.function import resource
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from google.protobuf import struct_pb2

from function.lru import LRU

SUMMARY_METADATA = ("name", "namespace", "labels", "annotations")


def value(message: struct_pb2.Value) -> Any:
    """A protobuf Value as Python data, as `struct_to_dict` gives it (numbers are floats)."""
    kind = message.WhichOneof("kind")
    if kind == "string_value":
        return message.string_value
    if kind == "struct_value":
        return {k: value(v) for k, v in message.struct_value.fields.items()}
    if kind == "list_value":
        return [value(v) for v in message.list_value.values]
    if kind == "number_value":
        return message.number_value
    if kind == "bool_value":
        return message.bool_value
    return None


def _struct(message: struct_pb2.Value) -> Any:
    return message.struct_value if message.WhichOneof("kind") == "struct_value" else None


def summary(body: struct_pb2.Struct) -> dict[str, Any]:
    """apiVersion, kind, metadata's name, namespace, labels and annotations, status.conditions, and a
    Secret's data: everything readiness, retention and the generated secrets read."""
    fields = body.fields
    out: dict[str, Any] = {k: value(fields[k]) for k in ("apiVersion", "kind") if k in fields}
    metadata = _struct(fields["metadata"]) if "metadata" in fields else None
    if metadata is not None:
        out["metadata"] = {k: value(metadata.fields[k]) for k in SUMMARY_METADATA if k in metadata.fields}
    status = _struct(fields["status"]) if "status" in fields else None
    if status is not None and "conditions" in status.fields:
        out["status"] = {"conditions": value(status.fields["conditions"])}
    if out.get("kind") == "Secret" and out.get("apiVersion") == "v1" and "data" in fields:
        out["data"] = value(fields["data"])
    return out


# A few hundred bytes each (a Secret's data more), weighing twice the body they summarise and what an entry costs
# (measured): at most 2 MiB.
_summaries: LRU[bytes, dict[str, Any]] = LRU(2 * 2**20, largest=2**18)


# What identifies an observed resource: the SHA-256 of its deterministic wire form, and that form's size.
Digest = tuple[bytes, int]


def digest(observed: fnv1.Resource) -> Digest:
    """The SHA-256 of the resource's deterministic wire form (map entries sorted), and its size."""
    wire = observed.SerializeToString(deterministic=True)
    return hashlib.sha256(wire).digest(), len(wire)


def kept_summary(observed: fnv1.Resource, known: Digest | None = None) -> dict[str, Any]:
    """summary(observed.resource), kept per distinct resource (its digest, computed unless `known`). Callers only
    read it."""
    key, size = known or digest(observed)
    found = _summaries.get(key)
    if found is None:
        found = summary(observed.resource)
        _summaries.put(key, found, weight=2 * size + 512)
    return found


class ObservedResources(Mapping[str, dict[str, Any]]):
    """Observed composed resources by key: whole bodies, each converted on first use, and `summaries`; `digests`
    are the resources' own (digest()), where the caller computed them already."""

    def __init__(self, resources: Mapping[str, fnv1.Resource], digests: Mapping[str, Digest] | None = None) -> None:
        self._resources = resources
        self._bodies: dict[str, dict[str, Any]] = {}
        known = digests or {}
        self.summaries = {key: kept_summary(resources[key], known.get(key)) for key in sorted(resources)}

    def part(self, key: str, field: str) -> Any:
        """One top-level field of the resource's body as Python data, None if the resource or field is absent;
        converted alone unless the whole body was."""
        if key in self._bodies:
            return self._bodies[key].get(field)
        if key not in self.summaries:
            return None
        fields = self._resources[key].resource.fields
        return value(fields[field]) if field in fields else None

    def __getitem__(self, key: str) -> dict[str, Any]:
        found = self._bodies.get(key)
        if found is None:
            if key not in self.summaries:
                raise KeyError(key)
            found = self._bodies[key] = resource.struct_to_dict(self._resources[key].resource)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self.summaries)

    def __len__(self) -> int:
        return len(self.summaries)

    def __contains__(self, key: object) -> bool:
        return key in self.summaries
