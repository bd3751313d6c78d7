"""Generated secrets: created once, stable across reconciles, never written into a composed resource's spec.

A value is taken from the observed Secret when it exists, so a workspace keeps its keys for life. Before
that it is derived, not drawn at random: HMAC-SHA256 of a platform seed (the Composition's step credentials)
over the workspace's namespace, name and the key's purpose. The same request therefore gives the same
response, and a Secret deleted by accident comes back with the same values, so data encrypted with
CREDS_KEY stays readable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from function.plan import GeneratedSecret, Workspace

SEED_KEY = "seed"
MIN_SEED_LENGTH = 32


class SeedError(ValueError):
    """The platform's seed is missing or too short."""


def check_seed(seed: str | None) -> bytes:
    if seed is None:
        raise SeedError(
            "the Composition's function step has no credentials named 'workspace-seed' with a 'seed' key; "
            "create it once with: kubectl -n crossplane-system create secret generic function-ai-workspace-seed "
            "--from-literal=seed=$(openssl rand -hex 32)"
        )
    if len(seed) < MIN_SEED_LENGTH:
        raise SeedError(
            f"the 'workspace-seed' credentials' seed is {len(seed)} characters; use at least "
            f"{MIN_SEED_LENGTH} random characters, e.g. $(openssl rand -hex 32)"
        )
    return seed.encode()


def derive(seed: bytes, workspace: Workspace, secret: GeneratedSecret) -> str:
    message = "\x00".join(("aiworkspace.io/v1", workspace.namespace, workspace.name, secret.key)).encode()
    digest = hmac.new(seed, message, hashlib.sha256).digest()
    while len(digest) < secret.nbytes:  # expand for keys longer than one SHA-256 block
        digest += hmac.new(seed, digest + message, hashlib.sha256).digest()
    return digest[: secret.nbytes].hex()


def resolve(
    seed: bytes,
    workspace: Workspace,
    secrets: tuple[GeneratedSecret, ...],
    observed: Mapping[str, Mapping[str, str]],
) -> dict[tuple[str, str], str]:
    """Value of every generated secret, keyed by (Secret name, key): observed first, else derived.

    `observed` maps a composed Secret's name to its decoded data.
    """
    values: dict[tuple[str, str], str] = {}
    for secret in secrets:
        current = observed.get(secret.secret, {}).get(secret.key)
        values[(secret.secret, secret.key)] = current if current else derive(seed, workspace, secret)
    return values


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def decode_data(data: Mapping[str, str] | None) -> dict[str, str]:
    """A Secret's base64 data, decoded (undecodable entries are skipped, never fatal)."""
    out: dict[str, str] = {}
    for key, value in (data or {}).items():
        try:
            out[key] = base64.b64decode(value, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            continue
    return out


def fingerprint_key(seed: bytes, workspace: Workspace) -> bytes:
    """The workspace's key for fingerprints of secret values (see `fingerprint`), derived from the seed."""
    message = "\x00".join(("aiworkspace.io/v1", workspace.namespace, workspace.name, "fingerprint")).encode()
    return hmac.new(seed, message, hashlib.sha256).digest()


def names_key(seed: bytes) -> bytes:
    """The platform's key for the hash in globally unique cloud names (plan.cloud_name), derived from the seed:
    nobody without the seed can compute a workspace's bucket name ahead of it."""
    return hmac.new(seed, b"aiworkspace.io/v1\x00cloud-names", hashlib.sha256).digest()


def fingerprint(key: bytes, values: Mapping[str, str]) -> str:
    """A keyed HMAC-SHA256 over a Secret's values: it changes whenever any value does, and, unlike a plain hash,
    cannot be used to test guesses of a value without the platform's seed. Safe to write into a spec."""
    message = "\x00".join(f"{name}={values[name]}" for name in sorted(values)).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
