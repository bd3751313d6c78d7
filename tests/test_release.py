"""Release hygiene: the registry and source are named in function/release.py alone (every other file that names
them is generated from it), the license is the Apache License 2.0 everywhere it is stated, CHANGELOG.md follows
Keep a Changelog for this version, and RELEASING.md's commands are those of the pinned CLI and this repository."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import packages
import pytest
from generate import HEADER

from function import release, xrds
from function.__version__ import __version__
from tests.test_readme import check, commands

ROOT = Path(__file__).resolve().parent.parent
# The canonical text, https://www.apache.org/licenses/LICENSE-2.0.txt (also Debian's
# /usr/share/common-licenses/Apache-2.0): 11358 bytes.
APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
DEFINED_IN = "function/release.py"


def names() -> list[str]:
    """What spells out where the project is published: the registry, the Function package's path, the source
    (without its scheme) and the name the function is installed under, which is made of the registry's path."""
    return [
        release.REGISTRY,
        release.FUNCTION_PACKAGE.split("/", 1)[1],
        release.SOURCE.split("://", 1)[1],
        xrds.FUNCTION_NAME,
    ]


def generated_texts() -> dict[str, str]:
    """Every file `make generate` writes, as it writes it (README.md: its generated parts only)."""
    out = {relative: HEADER + xrds.dump(document) for relative, document in xrds.generated_files().items()}
    for relative, document in packages.generated_files().items():
        out[relative] = HEADER + packages.GENERATED_COMMENTS.get(relative, "") + xrds.dump(document)
    return out


def naming_outside(files: dict[str, str]) -> list[str]:
    """Where `files` (path -> text) name the registry or source other than in function/release.py, a generated
    file, README.md's generated table, or the aiworkspace-secrets chart's repository in a recorded render (a golden,
    an example's observed resources)."""
    generated = generated_texts()
    problems = []
    for path, text in sorted(files.items()):
        if path == DEFINED_IN or generated.get(path) == text:
            continue
        written = text
        if path.startswith("tests/golden/") or path.endswith("/observed-resources.yaml"):
            # A render of a placed workspace installs the chart release.py names: the function wrote it there.
            written = text.replace(release.SECRETS_CHART_REPOSITORY, "")
        if path == "README.md":
            head, _, rest = text.partition(packages.RELEASE_BEGIN)
            written = head + rest.partition(packages.RELEASE_END)[2]
        for number, line in enumerate(written.splitlines(), 1):
            problems += [f"{path}:{number}: {name}" for name in names() if name in line]
    return problems


def repository_files() -> dict[str, str]:
    """Every file git tracks or would track (ignored ones left out), as text."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    out = {}
    for path in filter(None, listed.split("\0")):
        file = ROOT / path
        if file.is_file():
            out[path] = file.read_bytes().decode("utf-8", errors="replace")
    return out


def test_the_registry_and_source_are_named_once() -> None:
    """No file spells out the registry or the source but function/release.py and what is generated from it."""
    files = repository_files()
    assert DEFINED_IN in files and "README.md" in files
    assert naming_outside(files) == []
    # ...and the generated files do name them, so the check above looked at real names.
    assert all(name in files["apis/claims/crossplane.yaml"] + files["apis/claims/composition.yaml"] for name in names())


def test_generated_files_are_current() -> None:
    """The files that name the registry are exactly what `make generate` writes from function/release.py."""
    files = repository_files()
    for path, text in generated_texts().items():
        assert files.get(path) == text, f"{path} is stale: run `make generate`"
    readme = files["README.md"]
    assert readme == packages.with_release(readme), "README's table of packages is stale: run `make generate`"


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("hack/packages.py", f'SOURCE = "{release.SOURCE}"\n'),
        ("RELEASING.md", f"crossplane xpkg push {release.FUNCTION_PACKAGE}:v0.1.0\n"),
        ("CHANGELOG.md", f"see {release.SOURCE.replace('https://', 'http://')}/releases\n"),
        ("README.md", f"installed as `{xrds.FUNCTION_NAME}`\n{packages.RELEASE_BEGIN}\n{packages.RELEASE_END}\n"),
        ("examples/functions.yaml", f"spec:\n  package: {release.FUNCTION_PACKAGE}:v0.1.0\n"),
    ],
)
def test_the_check_finds_a_name_written_out(path: str, text: str) -> None:
    """A name written by hand is found: in any file, in the README outside its table, and in a generated file
    that differs from what `make generate` writes."""
    assert naming_outside({path: text}) != []
    assert naming_outside({DEFINED_IN: text}) == []


def test_the_readme_says_where_to_change_them() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "change `REGISTRY` and `SOURCE` in\n`function/release.py`" in readme or (
        "change `REGISTRY` and `SOURCE` in `function/release.py`" in readme
    )
    table = readme.partition(packages.RELEASE_BEGIN)[2].partition(packages.RELEASE_END)[0]
    assert f"`{release.FUNCTION_PACKAGE}:v{__version__}`" in table
    for flavour in release.FLAVOURS:
        assert f"`{release.configuration_package(flavour)}:v{__version__}`" in table


def test_references_are_the_release_names_for_the_shell() -> None:
    """`python hack/packages.py references`, which RELEASING.md evaluates, prints release.py's names."""
    script = f'eval "$({sys.executable} hack/packages.py references)"; '
    script += 'printf "%s\\n" "$VERSION" "$FUNCTION_PACKAGE" "$SOURCE"'
    script += ' "$CONFIGURATION_CLAIMS" "$CONFIGURATION_NAMESPACED" "$FUNCTION_XPKG"'
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [
        f"v{__version__}",
        release.FUNCTION_PACKAGE,
        release.SOURCE,
        release.configuration_package("claims"),
        release.configuration_package("namespaced"),
        str(packages.FUNCTION_XPKG.relative_to(ROOT)),
    ]


def test_license_is_apache_2_everywhere() -> None:
    """LICENSE is the canonical Apache License 2.0, unmodified, and every place that states a license says so."""
    assert hashlib.sha256((ROOT / "LICENSE").read_bytes()).hexdigest() == APACHE_2_SHA256
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == release.LICENSE == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    for relative, document in packages.generated_files().items():
        if document["apiVersion"].startswith("meta.pkg.crossplane.io"):
            assert document["metadata"]["annotations"]["meta.crossplane.io/license"] == release.LICENSE, relative
    installed = metadata.distribution("function-ai-workspace")
    assert installed.metadata["License-Expression"] == release.LICENSE
    assert any(str(f).endswith("licenses/LICENSE") for f in installed.files or [])
    # The runtime image's build context admits LICENSE, so the wheel installed there carries it too.
    assert "!LICENSE" in (ROOT / ".dockerignore").read_text().splitlines()
    assert re.search(r"^COPY .*\bLICENSE\b", (ROOT / "Dockerfile").read_text(), re.M)


KEEP_A_CHANGELOG_TYPES = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")
CHANGELOG = ROOT / "CHANGELOG.md"


def changelog_section(version: str) -> str:
    """The text of a version's section of CHANGELOG.md, up to the next version's."""
    text = CHANGELOG.read_text()
    start = text.index(f"\n## [{version}] - ")
    following = text.find("\n## [", start + 1)
    return text[start : following if following != -1 else None]


def test_changelog_has_this_version() -> None:
    """Keep a Changelog 1.1.0: an optional `## [Unreleased]` section, then versions newest first as
    `## [x.y.z] - YYYY-MM-DD`, changes grouped under its types (and Upgrading); the newest version is this
    package's. A version not tagged yet may say `Unreleased` instead of its date; a tagged one has its date."""
    text = CHANGELOG.read_text()
    assert text.startswith("# Changelog\n")
    assert "https://keepachangelog.com/en/1.1.0/" in text
    headings = re.findall(r"^## (.+)$", text, re.M)
    if headings and headings[0] == "[Unreleased]":
        headings = headings[1:]
    versions = [re.fullmatch(r"\[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2}|Unreleased)", h) for h in headings]
    assert versions and all(versions), f"a version heading Keep a Changelog would not read: {headings}"
    assert versions[0] and versions[0].group(1) == __version__, "CHANGELOG.md's newest version is not this package's"
    for match in versions:
        assert match is not None
        version, date = match.groups()
        tagged = subprocess.run(
            ["git", "tag", "-l", f"v{version}"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        assert not (tagged and date == "Unreleased"), f"v{version} is tagged: give its date"
    for heading in re.findall(r"^### (.+)$", text, re.M):
        assert heading in (*KEEP_A_CHANGELOG_TYPES, "Upgrading"), heading


def test_changelog_of_the_first_release() -> None:
    """0.1.0's section says what a platform engineer gets and what changes for workspaces that already exist,
    naming what the code composes."""
    section = changelog_section("0.1.0")
    for needed in ("### Added", "### Security", "### Upgrading"):
        assert needed in section
    upgrading = section.partition("### Upgrading")[2].partition("\n### ")[0]
    for needed in (
        "networkPolicies",
        "`<name>-backup`",
        "`<name>-mongodb-backup`",
        "`<name>-pgvector-backup`",
        "`<name>-mongodb-restore`",
        "`<name>-meilisearch-metrics`",
        "WorkspaceAvailable",
        "DataRetained",
    ):
        assert needed in upgrading, needed


def test_releasing_commands_are_real() -> None:
    """Every make target, crossplane command and flag, repository path and test RELEASING.md names exists (the
    README's checks, with the pinned CLI), and it pushes the Function and both Configurations under the names
    `hack/packages.py references` gives."""
    text = (ROOT / "RELEASING.md").read_text()
    assert check(text) == []
    shown = commands(text)
    pushes = [c for c in shown if c.startswith("crossplane xpkg push")]
    variables = set(packages.references())
    for target in ("FUNCTION_PACKAGE", "CONFIGURATION_CLAIMS", "CONFIGURATION_NAMESPACED"):
        assert target in variables
        assert any(f'"${target}:$VERSION"' in c for c in pushes), f"RELEASING.md pushes no ${target}"
    for variable in set(re.findall(r"\$\{?([A-Z][A-Z_]+)", text)) - {"PATH", "HOME"}:
        assert variable in variables or re.search(rf"\b{variable}=", text), f"RELEASING.md uses an unset ${variable}"
    for path in ("function/__version__.py", "CHANGELOG.md", "Dockerfile"):
        assert path in text
    assert any(c.startswith("crossplane xpkg build") and "--embed-runtime-image-tarball" in c for c in shown)
