"""Every image the function composes is shown to be published at its source (issue 20): hack/image-evidence.yaml
has an entry for each exact reference, naming a repository, a ref and a file."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from function import versions
from function.versions import OVERRIDABLE_IMAGES, RCLONE_IMAGE, Image

ROOT = Path(__file__).resolve().parent.parent
EVIDENCE = ROOT / "hack" / "image-evidence.yaml"
GOLDEN = ROOT / "tests" / "golden"


@functools.cache
def evidence() -> dict[str, dict[str, Any]]:
    entries = yaml.safe_load(EVIDENCE.read_text())["images"]
    by_image = {entry["image"]: entry for entry in entries}
    assert len(by_image) == len(entries), "an image is listed twice"
    return by_image


def images_in(node: Any) -> set[str]:
    """Image references anywhere in a manifest: `image: <reference>` strings, and Helm values of the form
    `image: {registry, repository, tag}` (the LibreChat chart's)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "image" and isinstance(value, str):
                found.add(value)
            elif key == "image" and isinstance(value, dict) and "repository" in value:
                registry = f"{value['registry']}/" if value.get("registry") else ""
                found.add(f"{registry}{value['repository']}:{value.get('tag', '')}")
            else:
                found |= images_in(value)
    elif isinstance(node, list):
        for item in node:
            found |= images_in(item)
    return found


@functools.cache
def golden_images() -> frozenset[str]:
    docs = [doc for path in sorted(GOLDEN.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())]
    return frozenset(image for doc in docs for image in images_in(doc))


def pinned_images() -> set[str]:
    """Every Image in function/versions.py and the defaults of the overridable ones."""
    pinned = {value.reference for value in vars(versions).values() if isinstance(value, Image)}
    return pinned | {image.reference for image in OVERRIDABLE_IMAGES.values()}


def test_every_composed_image_has_evidence_for_its_exact_tag() -> None:
    """Each image reference in versions.py, in OVERRIDABLE_IMAGES and in any golden render has an entry."""
    composed = pinned_images() | golden_images()
    missing = sorted(composed - evidence().keys())
    assert not missing, f"no evidence in {EVIDENCE.relative_to(ROOT)} for: {missing}"


def test_no_evidence_for_an_image_no_longer_composed() -> None:
    """An entry whose reference is composed nowhere is stale: a tag changed without its evidence."""
    stale = sorted(evidence().keys() - pinned_images() - golden_images())
    assert not stale, f"evidence for images nothing composes: {stale}"


def test_goldens_compose_the_pinned_images() -> None:
    """The goldens are read for what they really hold: they include the LibreChat chart's image values and
    only images pinned in versions.py."""
    found = golden_images()
    assert versions.LIBRECHAT_IMAGE.reference in found
    assert RCLONE_IMAGE.reference in found
    assert found <= pinned_images(), sorted(found - pinned_images())


@pytest.mark.parametrize("image", sorted(evidence()))
def test_each_entry_names_a_repository_a_ref_and_a_file(image: str) -> None:
    entry = evidence()[image]
    assert entry["evidence"], f"{image}: no evidence"
    for item in entry["evidence"]:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", item["repo"]), item
        assert isinstance(item["ref"], str) and item["ref"].strip(), item
        assert isinstance(item["path"], str) and item["path"].strip() and not item["path"].startswith("/"), item
        assert isinstance(item["shows"], str) and item["shows"].strip(), item


def test_every_tag_is_shown() -> None:
    """No entry is a gap: a tag no source shows is not pinned (repin to one that is shown)."""
    gaps = sorted(image for image, entry in evidence().items() if "gap" in entry)
    assert not gaps, f"tags no source shows, with a `gap` in {EVIDENCE.relative_to(ROOT)}: {gaps}"
