"""The README's commands, targets and file names exist: every `make` target and variable it names is the
Makefile's, every `crossplane`, `kubectl` and `helm` command it shows is a command of the pinned binary with the
flags it passes, and every repository path it names is in the repository.

Commands are read from its sh blocks (continuation lines joined, comments dropped, pipelines and `&&` split)
and from inline code spans that start with one of those tools.
"""

from __future__ import annotations

import functools
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hack"))
import xp  # noqa: E402

README = ROOT / "README.md"
TOOLS = ("make", "kubectl", "crossplane", "helm")
# Flags kubectl takes before its command, with a value (kubectl options).
KUBECTL_GLOBAL = {"-n", "--namespace", "--context", "--kubeconfig", "-l", "--selector"}
# Paths the README names in other projects' packages.
NOT_OURS = {"package/crds"}
PATH = re.compile(r"^(?:\.ci|apis|e2e|examples|function|hack|package|portal|tests)/[\w./<>*-]*$")


def commands(text: str) -> list[str]:
    """Every command of `text` (a README) that starts with one of TOOLS."""
    found: list[str] = []
    for block in re.findall(r"```(?:sh|bash)\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            code = line.split(" #", 1)[0].strip()
            found += [part.strip() for part in re.split(r"\|\||&&|\||;", code)]
    for span in re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", text, flags=re.S)):
        found.append(" ".join(span.split()))
    return [c for c in found if c.split(" ", 1)[0] in TOOLS and len(c.split()) > 1]


def makefile_targets() -> tuple[set[str], str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z0-9-]*):", text, re.M)), text


def check_make(command: str) -> list[str]:
    targets, text = makefile_targets()
    problems = []
    for word in shlex.split(command)[1:]:
        if "=" in word:
            variable = word.split("=", 1)[0]
            if not re.search(rf"\b{re.escape(variable)}\b", text.replace(f"{variable}=", "")) and (
                f"$({variable})" not in text
            ):
                problems.append(f"{command}: the Makefile reads no {variable}")
        elif word not in targets:
            problems.append(f"{command}: no make target {word}")
    return problems


@functools.cache
def _help(binary: str, path: tuple[str, ...]) -> str | None:
    done = subprocess.run([binary, *path, "--help"], capture_output=True, text=True, check=False, timeout=60)
    return done.stdout + done.stderr if done.returncode == 0 else None


def _subcommands(help_text: str) -> set[str]:
    return set(re.findall(r"^\s{2,4}([a-z][a-z0-9-]*)(?:\s{2,}|\s*$)", help_text, re.M))


def check_cli(binary: str, command: str) -> list[str]:
    """The command's path (words up to the first flag or argument) is a command of `binary`, and every --flag it
    passes is in that command's help (or kubectl's global options)."""
    words = command.split()[1:]
    tool = command.split()[0]
    rest: list[str] = []
    skip = False
    for word in words:  # kubectl's global flags before the command
        if skip:
            skip = False
            continue
        if tool == "kubectl" and word in KUBECTL_GLOBAL and not rest:
            skip = True
            continue
        rest.append(word)
    path: list[str] = []
    help_text = _help(binary, ())
    assert help_text is not None, f"{binary} --help failed"
    for word in rest:
        if word.startswith("-") or not re.fullmatch(r"[a-z][a-z0-9-]*", word):
            break
        if tool == "kubectl" and word not in _subcommands(help_text):
            break  # an argument (a resource type, a name)
        deeper = _help(binary, (*path, word))
        if deeper is None:
            return [f"{command}: `{' '.join([tool, *path, word])}` is not a command of {tool}"]
        path.append(word)
        help_text = deeper
    if not path:
        return [f"{command}: no {tool} command"]
    problems = []
    options = _help(binary, ("options",)) if tool == "kubectl" else ""
    for flag in re.findall(r"(?:^|\s)(--[a-z][a-z0-9-]*)", " ".join(rest)):
        if not re.search(rf"{re.escape(flag)}\b", help_text + (options or "")):
            problems.append(f"{command}: `{tool} {' '.join(path)}` has no flag {flag}")
    return problems


def check_paths(text: str) -> list[str]:
    problems = []
    for span in sorted(set(re.findall(r"`([^`\s]+)`", re.sub(r"```.*?```", "", text, flags=re.S)))):
        if PATH.match(span) and span not in NOT_OURS:
            pattern = re.sub(r"<[^>]+>", "*", span).rstrip("/")
            if not list(ROOT.glob(pattern)):
                problems.append(f"{span}: no such file or directory in the repository")
    return problems


def check_tests(text: str) -> list[str]:
    """Every test the README names (`tests/<file>.py::<test>`) is a test of that file."""
    problems = []
    for file, name in sorted(set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text))):
        path = ROOT / file
        if not path.exists() or not re.search(rf"^def {name}\(", path.read_text(), re.M):
            problems.append(f"{file}::{name}: no such test")
    return problems


def check(text: str) -> list[str]:
    tools = xp.tools()
    binaries = {"crossplane": tools.crossplane, "kubectl": tools.kubectl, "helm": tools.helm}
    problems = check_paths(text) + check_tests(text)
    for command in commands(text):
        tool = command.split()[0]
        problems += check_make(command) if tool == "make" else check_cli(binaries[tool], command)
    return problems


def test_the_readmes_commands_targets_and_files_exist() -> None:
    text = README.read_text()
    assert len(commands(text)) >= 20, "the README's commands must be found"
    assert check(text) == []
    assert len(re.findall(r"`tests/[\w/]+\.py::\w+`", text)) > 30


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("`crossplane beta trace`", "is not a command of crossplane"),
        ("`crossplane resource trace --wide-open`", "has no flag --wide-open"),
        ("```sh\nkubectl -n team-a create jobs x --from=cronjob/y\n```", "has no flag --from"),
        ("```sh\nmake render \\\n  NOPE=1\n```", "reads no NOPE"),
        ("`make deploy`", "no make target deploy"),
        ("`tests/test_memo.py`", "no such file"),
        ("`tests/test_fn.py::test_that_was_renamed`", "no such test"),
        ("`helm templat x`", "is not a command of helm"),
    ],
)
def test_the_check_finds_what_does_not_exist(text: str, problem: str) -> None:
    """Each kind of stale reference the check exists for is found (the CLI's `beta trace` became `resource
    trace`; a renamed test file)."""
    problems = check(text)
    assert any(problem in p for p in problems), problems
