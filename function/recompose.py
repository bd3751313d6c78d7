"""A change to one part recomposes only what reads it.

Crossplane calls the function again whenever anything in a workspace changes: a composed resource's status, a
connection detail, a Secret's value. Most such changes touch no service's output at all (readiness is read per
call), or one service's. So each step of a compose (a service's `compose`, monitoring, placement, the ceilings,
the placement-move check) is kept per (step, plan identity, identities of the outputs it reads), together with
every question it asked of the request through the views of function/services/__init__.py and the answer it got.
A later request reuses the output only if it answers every recorded question alike (the answers are compared,
not hashed); otherwise the step runs again. A step that raises is never kept.

This is sound because a step is a pure function of its plan, the outputs it is given and the answers to its
questions: a service reads the request only through the views (tests/test_recompose.py holds every service
module to that), and the plan is kept per distinct spec, Input and seed (fn._plan). tests/test_recompose.py also
compares, for every example and every kind of single change, the response composed from kept outputs with one
composed from nothing, byte for byte.

Outputs are kept least recently used first out, within a byte budget, each weighed at what it holds (its bodies'
marshal and wire forms, its items, the answers it recorded), as measured.
"""

from __future__ import annotations

import itertools
import marshal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from function.lru import LRU
from function.plan import Plan
from function.services import Asked, Context, Observed, Question, SecretValues, answers_alike

T = TypeVar("T")

MAX_BYTES = 7 * 2**19
_serials = itertools.count(1)


@dataclass(frozen=True)
class Kept(Generic[T]):
    """A step's output, the questions it asked with their answers, and a serial naming this output: steps that
    read it are kept per serial (an output recomposed alike keeps its serial)."""

    serial: int
    asked: tuple[tuple[Question, Any], ...]
    value: T


# A workspace's steps weigh 50 to 250 KiB (measured): the outputs of some 14 to 70 workspaces. None above 1 MiB.
_kept: LRU[tuple[str, bytes, tuple[int, ...]], Kept[Any]] = LRU(MAX_BYTES, largest=2**20)


def clear() -> None:
    _kept.clear()


def _answers_weight(asked: Asked) -> int:
    """About what the recorded questions and answers weigh (an answer may be a whole observed body)."""
    try:
        return 128 * len(asked) + 2 * len(marshal.dumps([answer for _, answer in asked]))
    except ValueError:  # an answer marshal cannot write: weighed as a large one
        return 128 * len(asked) + 2**16


class Steps:
    """The steps of one compose: each run afresh or taken from what was kept."""

    def __init__(self, plan: Plan, identity: bytes, observed: Observed, secrets: SecretValues) -> None:
        self.plan = plan
        self.identity = identity
        self.observed = observed
        self.secrets = secrets
        self.reused = 0
        self.run_afresh = 0

    def run(
        self, name: str, inputs: tuple[int, ...], step: Callable[[Context], T], weight: Callable[[T], int]
    ) -> Kept[T]:
        """The output of `step` for this request: kept, if the request answers its questions alike; else composed
        (and kept, weighing `weight(output)` bytes)."""
        key = (name, self.identity, inputs)
        kept: Kept[T] | None = _kept.get(key)
        if kept is not None and answers_alike(kept.asked, self.observed, self.secrets):
            self.reused += 1
            return kept
        asked: Asked = []
        ctx = Context(plan=self.plan, secrets=self.secrets.recording(asked), observed=self.observed.recording(asked))
        value = step(ctx)
        # An output composed alike keeps its serial, so the steps that read it are not run again for nothing.
        serial = kept.serial if kept is not None and kept.value == value else next(_serials)
        fresh = Kept(serial, tuple(asked), value)
        _kept.put(key, fresh, weight=weight(value) + _answers_weight(asked))
        self.run_afresh += 1
        return fresh
