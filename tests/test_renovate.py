"""renovate.json covers every pin: each pinned version in the pin files is found by one of its managers.

The custom managers' regexes are run here as Renovate's regex manager runs them (lib/modules/manager/custom/
regex: each of `matchStrings` with the `g` flag over the whole file, not per line; named groups, or the
`*Template` fields, give currentValue, depName or packageName, and datasource). Renovate writes its regexes
in RE2/JavaScript syntax; the only translation needed is `(?<name>` to Python's `(?P<name>`. The pins are
found independently of renovate.json (each file by its own format), so a pin added without a manager fails.

pyproject.toml, hack/librechat-schema/package.json, hack/backstage-template/package.json and the Dockerfile are
read by Renovate's built-in pep621, npm and dockerfile managers: checked here is that their default file patterns
(copied from Renovate's source) name these files and that nothing in renovate.json or the presets it extends
switches them off.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import packages
import pytest
from packaging.requirements import Requirement

from function import versions

ROOT = Path(__file__).resolve().parent.parent
CONFIG = json.loads((ROOT / "renovate.json").read_text())

# Lines of hack/versions.env that are not pins of something Renovate could look up.
NOT_PINS = {
    "GO_MIN_VERSION": "the oldest Go the tools build with (a floor checked by hack/tools.sh), not a pin",
    "PREVIOUS_RELEASE": "a commit of this repository the upgrade proof starts from, moved at each release",
}
# Renovate's built-in managers for the other pin files, with their default managerFilePatterns at Renovate 44
# (lib/modules/manager/<name>/index.ts, defaultConfig).
BUILT_IN = {
    "pyproject.toml": ("pep621", [r"/(^|/)pyproject\.toml$/"]),
    "hack/librechat-schema/package.json": ("npm", [r"/(^|/)package\.json$/"]),
    "hack/backstage-template/package.json": ("npm", [r"/(^|/)package\.json$/"]),
    "Dockerfile": (
        "dockerfile",
        [r"/(^|/|\.)([Dd]ocker|[Cc]ontainer)file$/", r"/(^|/)([Dd]ocker|[Cc]ontainer)file[^/]*$/"],
    ),
}
# config:recommended extends :ignoreModulesAndTests (lib/config/presets/internal/default.preset.ts).
PRESET_IGNORE_PATHS = [
    "**/node_modules/**",
    "**/bower_components/**",
    "**/vendor/**",
    "**/examples/**",
    "**/__tests__/**",
    "**/test/**",
    "**/tests/**",
    "**/__fixtures__/**",
]


@dataclass(frozen=True)
class Dep:
    manager: int
    dep_name: str
    package_name: str
    datasource: str
    current_value: str
    span: tuple[int, int]  # of currentValue in the file


def _python_regex(pattern: str) -> re.Pattern[str]:
    """A Renovate (RE2, JavaScript syntax) regex in Python's syntax."""
    for unsupported in ("(?=", "(?!", "(?<=", "(?<!"):
        assert unsupported not in pattern, f"RE2 has no lookaround: {pattern}"
    assert not re.search(r"\\[1-9]", pattern), f"RE2 has no backreferences: {pattern}"
    return re.compile(pattern.replace("(?<", "(?P<"))


def _template(template: str, groups: dict[str, str]) -> str:
    """Handlebars as the templates here use it: {{{name}}} or {{name}}, nothing else."""
    assert "{{#" not in template and "{{/" not in template, f"more Handlebars than this test knows: {template}"
    return re.sub(r"\{\{\{?\s*(\w+)\s*\}?\}\}", lambda m: groups.get(m.group(1), ""), template)


def _glob(pattern: str) -> re.Pattern[str]:
    """A minimatch glob without negation or braces: `**` any path, `*` and `?` within a path segment."""
    assert not pattern.startswith("!") and "{" not in pattern, pattern
    out = ""
    for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
        out += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
    return re.compile(out)


def matches_file(patterns: list[str], path: str) -> bool:
    """Renovate's string pattern matching: `/regex/` (or `/regex/i`), else a glob or exact path."""
    for pattern in patterns:
        regex = re.fullmatch(r"/(.*)/(i?)", pattern)
        if regex:
            if re.search(regex.group(1), path, re.I if regex.group(2) else 0):
                return True
        elif _glob(pattern).fullmatch(path):
            return True
    return False


def _field(manager: dict[str, Any], name: str, groups: dict[str, str]) -> str:
    """A dependency's field: the manager's template for it when it has one, else the named group."""
    template = manager.get(f"{name}Template")
    return _template(template, groups) if template else groups.get(name, "")


def extract(config: dict[str, Any], path: str, text: str) -> list[Dep]:
    """What Renovate's regex custom managers of `config` extract from `text` (strategy `any`)."""
    deps = []
    for index, manager in enumerate(config.get("customManagers", [])):
        assert manager["customType"] == "regex"
        assert manager.get("matchStringsStrategy", "any") == "any"
        if not matches_file(manager["managerFilePatterns"], path):
            continue
        for pattern in manager["matchStrings"]:
            for match in _python_regex(pattern).finditer(text):
                groups = {k: v for k, v in match.groupdict().items() if v is not None}
                assert "currentValue" in groups, f"manager {index} captures no currentValue: {pattern}"
                dep_name, package_name = _field(manager, "depName", groups), _field(manager, "packageName", groups)
                deps.append(
                    Dep(
                        index,
                        dep_name or package_name,
                        package_name or dep_name,
                        _field(manager, "datasource", groups),
                        groups["currentValue"],
                        match.span("currentValue"),
                    )
                )
    return deps


def _line_spans(text: str, pattern: str, group: int) -> dict[tuple[int, int], str]:
    return {m.span(group): m.group(0) for m in re.finditer(pattern, text, re.M)}


def versions_env_pins(text: str) -> dict[tuple[int, int], str]:
    """Every assignment of hack/versions.env but NOT_PINS: the span of its value."""
    return {
        m.span(2): m.group(1)
        for m in re.finditer(r"^([A-Z][A-Z0-9_]*)=(.*)$", text, re.M)
        if m.group(1) not in NOT_PINS
    }


def providers_pins(text: str) -> dict[tuple[int, int], str]:
    """Every package reference's tag in hack/providers.yaml."""
    return _line_spans(text, r"^\s*package:\s*\S+:(\S+)\s*$", 1)


def configuration_pins(text: str) -> dict[tuple[int, int], str]:
    """The version of every Provider the Configuration depends on (its Function dependency is this project)."""
    out = {}
    for m in re.finditer(r"^  - apiVersion: \S+\n    kind: (\w+)\n    package: (\S+)\n    version: (\S+)$", text, re.M):
        if m.group(1) == "Provider":
            out[m.span(3)] = m.group(2)
    return out


# The argument of function/versions.py's dataclasses that holds the version: (position, keyword).
VERSION_ARGUMENT = {"Image": (2, "tag"), "Chart": (2, "version")}


def versions_py_pins(text: str) -> dict[tuple[int, int], str]:
    """Every Image(...) tag and Chart(...) version written in function/versions.py, found by its syntax tree."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    out = {}
    for node in ast.walk(ast.parse(text)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id not in VERSION_ARGUMENT:
            continue
        position, keyword = VERSION_ARGUMENT[node.func.id]
        if len(node.args) > position:
            value = node.args[position]
        else:
            value = next(k.value for k in node.keywords if k.arg == keyword)
        assert isinstance(value, ast.Constant) and isinstance(value.value, str), ast.dump(node)
        assert value.end_lineno is not None and value.end_col_offset is not None
        start = starts[value.lineno - 1] + value.col_offset + 1  # past the quote
        out[(start, starts[value.end_lineno - 1] + value.end_col_offset - 1)] = (
            f"{node.func.id}(...) line {node.lineno}"
        )
    return out


PIN_FILES = {
    "hack/versions.env": versions_env_pins,
    "hack/providers.yaml": providers_pins,
    "function/versions.py": versions_py_pins,
    "apis/claims/crossplane.yaml": configuration_pins,
    "apis/namespaced/crossplane.yaml": configuration_pins,
}


def unmatched(config: dict[str, Any], path: str, text: str) -> list[str]:
    """The pins of `text` (a file of PIN_FILES) that no manager of `config` extracts with a name and datasource."""
    found = {d.span: d for d in extract(config, path, text) if d.dep_name and d.datasource}
    return [f"{path}: {what} ({text[s:e]!r})" for (s, e), what in PIN_FILES[path](text).items() if (s, e) not in found]


@pytest.mark.parametrize("path", sorted(PIN_FILES))
def test_every_pin_is_found_by_a_manager(path: str) -> None:
    text = (ROOT / path).read_text()
    pins = PIN_FILES[path](text)
    assert pins, f"no pins found in {path}: the test's reading of it is broken"
    assert unmatched(CONFIG, path, text) == []


def test_every_manager_extracts_something() -> None:
    """No manager is dead: each finds at least one dependency in the repository's files."""
    used = set()
    for path in [*PIN_FILES, "README.md"]:
        used |= {d.manager for d in extract(CONFIG, path, (ROOT / path).read_text())}
    assert used == set(range(len(CONFIG["customManagers"])))


@pytest.mark.parametrize(
    ("path", "edit"),
    [
        ("hack/versions.env", lambda t: t + "FOO_VERSION=v1.2.3\n"),
        ("hack/versions.env", lambda t: t.replace("CHAINSAW_VERSION=", "CHAINSAW_TOOL_VERSION=")),
        (
            "function/versions.py",
            lambda t: t + '\nX_IMAGE = Image(registry="docker.io", repository="x/y", tag="1.0")\n',
        ),
        ("function/versions.py", lambda t: t + '\nX_CHART = Chart("oci://example.com/charts", "x", "1.0.0")\n'),
        (
            "hack/providers.yaml",
            lambda t: t + "---\nkind: Provider\nspec:\n  package: index.docker.io/x/provider-y:v1.0.0\n",
        ),
    ],
)
def test_a_new_pin_without_a_manager_fails(path: str, edit: Any) -> None:
    """A pin written in a shape no manager reads is reported (a new variable, keyword arguments, a registry)."""
    text = edit((ROOT / path).read_text())
    assert unmatched(CONFIG, path, text) != []


def _by_var(deps: list[Dep], text: str) -> dict[str, Dep]:
    out = {}
    for dep in deps:
        line_start = text.rfind("\n", 0, dep.span[0]) + 1
        out[text[line_start : dep.span[0]].rstrip("=")] = dep
    return out


def test_tool_pins_name_the_modules_the_tools_are_built_from() -> None:
    """Each hack/versions.env pin is looked up where hack/tools.sh builds it from (`<module>@$VAR`), or, for the
    prometheus-operator CRDs, the repository hack/xp.py fetches them from."""
    text = (ROOT / "hack" / "versions.env").read_text()
    deps = _by_var(extract(CONFIG, "hack/versions.env", text), text)
    tools_sh, xp_py = (ROOT / "hack" / "tools.sh").read_text(), (ROOT / "hack" / "xp.py").read_text()
    for var, dep in deps.items():
        if dep.datasource == "go":
            assert f"{dep.package_name}@${var}" in tools_sh, f"{var}: hack/tools.sh builds no {dep.package_name}"
        else:
            assert dep.datasource == "github-releases", var
            assert f"/{dep.package_name}/" in xp_py, f"{var}: hack/xp.py fetches nothing from {dep.package_name}"
    assert set(deps) == set(versions_env_pins(text).values())


def test_image_and_chart_pins_are_the_ones_composed() -> None:
    """The images and chart Renovate looks up are exactly those function/versions.py defines."""
    deps = extract(CONFIG, "function/versions.py", (ROOT / "function" / "versions.py").read_text())
    images = {
        (v.registry + "/" + v.repository, v.tag) for v in vars(versions).values() if isinstance(v, versions.Image)
    }
    assert {(d.package_name, d.current_value) for d in deps if d.datasource == "docker" and "/" in d.dep_name} == images
    chart = versions.LIBRECHAT_CHART
    oci = chart.repository.removeprefix("oci://")
    assert [(d.dep_name, d.package_name, d.current_value) for d in deps if d.dep_name == chart.name] == [
        (chart.name, f"{oci}/{chart.name}", chart.version)
    ]


def test_provider_pins_are_the_validated_ones() -> None:
    """hack/providers.yaml's packages, the Configurations' dependsOn written from them, and the README's list all
    read as the same (package, version) pairs, so one Renovate update moves them together."""
    pinned = set(packages.pinned_providers())
    deps = extract(CONFIG, "hack/providers.yaml", (ROOT / "hack/providers.yaml").read_text())
    assert {(d.dep_name, d.current_value) for d in deps} == pinned
    for flavour in packages.FLAVOURS:  # each Configuration pins some providers; together, every one
        read = set()
        for part in packages.PARTS:
            path = str((packages.package_root(flavour, part) / "crossplane.yaml").relative_to(ROOT))
            deps = extract(CONFIG, path, (ROOT / path).read_text())
            providers = {(d.dep_name, d.current_value) for d in deps if "/provider-" in d.dep_name}
            assert providers <= pinned and providers, path
            assert {d.datasource for d in deps} == {"docker"}
            read |= providers
        assert read == pinned, flavour
    readme = {(d.dep_name, d.current_value) for d in extract(CONFIG, "README.md", (ROOT / "README.md").read_text())}
    assert readme and readme <= pinned


@pytest.mark.parametrize("path", sorted(BUILT_IN))
def test_built_in_managers_read_the_other_pin_files(path: str) -> None:
    manager, patterns = BUILT_IN[path]
    assert matches_file(patterns, path)
    assert CONFIG.get(manager, {}).get("enabled", True), f"{manager} is switched off"
    assert manager in CONFIG.get("enabledManagers", [manager])
    assert not matches_file(CONFIG.get("ignorePaths", []) + PRESET_IGNORE_PATHS, path)
    assert set(CONFIG["extends"]) <= {"config:recommended"}, "a preset this test does not know"


def test_pyproject_is_read_as_pep621() -> None:
    """Renovate's poetry manager supersedes pep621 on a pyproject.toml without a lock file
    (lib/workers/repository/extract/supersedes.ts) and reads no build-system.requires; this project is not Poetry."""
    assert CONFIG["poetry"]["enabled"] is False
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = [
        *project["build-system"]["requires"],
        *project["project"]["dependencies"],
        *(r for group in project["project"]["optional-dependencies"].values() for r in group),
    ]
    pinned = [Requirement(r) for r in requirements if Requirement(r).specifier]
    assert {r.name for r in pinned} >= {"hatchling", "crossplane-function-sdk-python", "pydantic", "ruff"}


def test_pin_files_outside_the_presets_ignored_paths() -> None:
    for path in [*PIN_FILES, *BUILT_IN]:
        assert (ROOT / path).is_file(), path
        assert not matches_file(PRESET_IGNORE_PATHS, path), path


def test_the_file_pattern_matching_is_renovates() -> None:
    """Globs stay within a path segment, `**` crosses them, `/.../` is a regex (Renovate's string matching)."""
    assert matches_file(["apis/*/crossplane.yaml"], "apis/claims/crossplane.yaml")
    assert not matches_file(["apis/*/crossplane.yaml"], "apis/claims/x/crossplane.yaml")
    assert matches_file(["**/tests/**"], "tests/golden/x.yaml")
    assert matches_file(["**/node_modules/**"], "hack/librechat-schema/node_modules/x/package.json")
    assert matches_file([r"/(^|/)package\.json$/"], "hack/librechat-schema/package.json")
    assert not matches_file(["hack/versions.env"], "hack/versions.env.bak")


def test_a_manager_needs_a_name_a_datasource_and_a_value() -> None:
    """Renovate's required fields: currentValue captured, depName or packageName, and a datasource; a pin whose
    manager lacks one is not covered."""
    manager = {"customType": "regex", "managerFilePatterns": ["hack/versions.env"]}
    manager["matchStrings"] = ["(?:^|\\n)X_VERSION=(?<currentValue>\\S+)"]
    text = "# tools\nX_VERSION=v1.0.0\n"
    assert unmatched({"customManagers": [manager]}, "hack/versions.env", text) == [
        "hack/versions.env: X_VERSION ('v1.0.0')"
    ]
    manager["depNameTemplate"] = "example.com/x"
    assert unmatched({"customManagers": [manager]}, "hack/versions.env", text) != []
    manager["datasourceTemplate"] = "go"
    assert unmatched({"customManagers": [manager]}, "hack/versions.env", text) == []
    assert [d.current_value for d in extract({"customManagers": [manager]}, "hack/versions.env", text)] == ["v1.0.0"]
