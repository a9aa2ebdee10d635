"""Where a learner stands: each module's state, the milestones it unlocks, the next step.

A module is

* **not started** while its source files are exactly as the release shipped them (the
  tree's first commit, or a bundle's lock); its tests are not run, so a fresh tree's
  status is instant and earns nothing,
* **complete** once nothing of it is left to write and all its tests pass,
* **in progress** otherwise, with how many of its tests pass.

Modules of the tiers below a learner's tree come installed as solutions and count as
complete. Tests run in parallel processes, one per module, and their outcomes are cached
by the hash of the files they reach (:mod:`tinytorch_learn.runner`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tinytorch_learn import runner
from tinytorch_learn.curriculum import Milestone, Module
from tinytorch_learn.workspace import STUB, Workspace

NOT_STARTED, IN_PROGRESS, COMPLETE = "not started", "in progress", "complete"


@dataclass(frozen=True)
class ModuleState:
    module: Module
    state: str
    stubs_left: int
    outcome: runner.Outcome | None  # None when the tests were not run (not started)

    @property
    def points(self) -> float:
        """The estimate: the module's points times the share of its graded tests passing."""
        if self.outcome is None or self.outcome.error or not self.outcome.graded:
            return 0.0
        return self.module.points * self.outcome.graded_passed / self.outcome.graded


def module_states(
    workspace: Workspace, tick: Callable[[Module], None] = lambda module: None
) -> list[ModuleState]:
    """The state of every module in the tree, tests run (or read from the cache) in parallel."""
    plan = []
    for module in workspace.modules:
        left = workspace.stubs_left(module)
        plan.append((module, left, left > 0 and workspace.untouched(module) is True))

    def state(item: tuple[Module, int, bool]) -> ModuleState:
        module, left, untouched = item
        if untouched:
            tick(module)
            return ModuleState(module, NOT_STARTED, left, None)
        outcome = runner.run(workspace, module)
        tick(module)
        done = left == 0 and outcome.complete
        return ModuleState(module, COMPLETE if done else IN_PROGRESS, left, outcome)

    workers = max(1, min(len(plan), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(state, plan))


def missing_for(milestone: Milestone, states: list[ModuleState]) -> list[Module]:
    """The modules ``milestone`` needs that the learner has not completed (in this tree)."""
    by_number = {s.module.number: s for s in states}
    return [
        by_number[n].module
        for n in milestone.modules
        if n in by_number and by_number[n].state != COMPLETE
    ]


def milestone_available(workspace: Workspace, milestone: Milestone) -> bool:
    """Whether the tree ships the milestone's script and holds every tier it needs."""
    tiers = [t.name for t in workspace.curriculum.tiers]
    highest = max(tiers.index(t) for t in workspace.roots)
    return (workspace.root / milestone.script).is_file() and tiers.index(milestone.tier) <= highest


def milestone_passed(workspace: Workspace, milestone: Milestone) -> bool:
    """Whether the milestone's last run met its bar (its results file says so)."""
    results = workspace.root / Path(milestone.script).parent / "results" / f"{milestone.slug}.json"
    try:
        return json.loads(results.read_text(encoding="utf-8")).get("passed") is True
    except (OSError, ValueError, AttributeError):
        return False


def first_stub(workspace: Workspace, module: Module) -> tuple[Path, int, str] | None:
    """Where the first function of ``module`` still to write is: file, line, its name."""
    for path in workspace.sources(module):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = STUB.search(line)
            if match and int(match.group(1)) == module.number:
                name = line.split(": implement ", 1)[-1].split(" — ", 1)[0].rstrip('")')
                return path, number, name
    return None


def next_step(workspace: Workspace, states: list[ModuleState]) -> str:
    """The one thing to do next, with the exact file to open or command to run."""
    for s in states:
        if s.state == COMPLETE:
            continue
        module, lesson = s.module, workspace.shown(workspace.lesson(s.module))
        stub = first_stub(workspace, module)
        where = (
            f"write {stub[2]} in {workspace.shown(stub[0])}:{stub[1]}"
            if stub
            else "fix what its first failing test names"
        )
        if s.state == NOT_STARTED:
            return (
                f"Start Module {module.title}: read {lesson} (or `tinytorch lab "
                f"{module.number:02d}`), {where}, then run `tinytorch test {module.number:02d}`."
            )
        return (
            f"Finish Module {module.title}: {where}, then run `tinytorch test "
            f"{module.number:02d}` (its first failure says what is wrong; read {lesson})."
        )
    for milestone in workspace.curriculum.milestones:
        if milestone_available(workspace, milestone) and not milestone_passed(workspace, milestone):
            number = milestone.number
            return f"Run Milestone {number} ({milestone.name}): `tinytorch milestone {number}`."
    return "Every module here is complete and every milestone has passed: well done."
