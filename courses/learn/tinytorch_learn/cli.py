"""``tinytorch``: the learner's command, run inside a student tree or a course bundle.

::

    tinytorch status             each module's state, the milestones unlocked, the next step
    tinytorch test 03            one module's tests (also 3, 03_layers, layers); -v for all
    tinytorch milestone 1        checks the modules it needs are complete, then runs it
    tinytorch lab [03]           the lesson as a notebook in Jupyter, against your code
    tinytorch grade              your estimate, with the points of the course's grade
    tinytorch update SOURCE      take a newer release (tree, bundle folder or zip), keep your code
    tinytorch doctor             Python, the installed tiers, Jupyter: what to fix

Everything is read from the curriculum manifest (``curriculum.toml``) above the working
folder. Bad input (an unknown module or milestone, no tree here) is one line naming the
valid choices, with exit status 2. Nothing here deletes or overwrites a learner's code.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tinytorch_learn import doctor as setup
from tinytorch_learn import progress, runner, update, workspace
from tinytorch_learn.curriculum import CurriculumError, Module
from tinytorch_learn.progress import COMPLETE, IN_PROGRESS, NOT_STARTED, ModuleState
from tinytorch_learn.workspace import Workspace

console = Console(highlight=False, soft_wrap=True)  # colour only on a terminal (rich decides)
STYLE = {COMPLETE: "green", IN_PROGRESS: "yellow", NOT_STARTED: "dim"}


class UsageError(Exception):
    """Bad input from the learner: one line, exit status 2."""


# ----------------------------------------------------------------------------- helpers


def _states(tree: Workspace, modules: list[Module] | None = None) -> list[ModuleState]:
    """Module states with a progress bar while tests run (transient; only on a terminal)."""
    with Progress(
        TextColumn("running tests"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} modules"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("tests", total=len(tree.modules))
        return progress.module_states(tree, lambda module: bar.advance(task))


def _tests_cell(s: ModuleState) -> str:
    if s.outcome is None:
        return f"{s.stubs_left} to write"
    if s.outcome.error:
        return s.outcome.error
    return f"{s.outcome.passed}/{s.outcome.total} passing"


# ----------------------------------------------------------------------------- commands


def status(tree: Workspace, args: argparse.Namespace) -> int:
    """One screen: every module, the milestones, the single next step."""
    states = _states(tree)
    table = Table(title=f"TinyTorch · {tree.root.name}", title_justify="left")
    for column in ("module", "state", "progress", "lesson"):
        table.add_column(column, no_wrap=column != "progress")
    for s in states:
        table.add_row(
            s.module.title,
            f"[{STYLE[s.state]}]{s.state}[/]",
            _tests_cell(s),
            tree.shown(tree.lesson(s.module)),
        )
    console.print(table)
    console.print("Milestones:")
    for milestone in tree.curriculum.milestones:
        if not progress.milestone_available(tree, milestone):
            continue
        missing = progress.missing_for(milestone, states)
        if progress.milestone_passed(tree, milestone):
            verdict = "[green]passed[/]"
        elif missing:
            verdict = "locked: needs " + ", ".join(f"{m.number:02d}" for m in missing)
        else:
            verdict = f"[green]unlocked[/]: tinytorch milestone {milestone.number}"
        console.print(f"  {milestone.number} {milestone.name:<18} {verdict}")
    console.print(f"\n[bold]Next:[/] {progress.next_step(tree, states)}")
    return 0


def test(tree: Workspace, args: argparse.Namespace) -> int:
    """Only this module's tests: a summary and the first failure with what to read."""
    module = tree.module(args.module)
    lesson = tree.shown(tree.lesson(module))
    with console.status(f"running the tests of Module {module.title}"):
        outcome = runner.run(tree, module)
    if outcome.error:
        console.print(f"Module {module.title}: [red]{outcome.error}[/]")
        return 1
    verdict = "[green]all pass[/]" if outcome.failed == 0 else f"[red]{outcome.failed} failing[/]"
    console.print(
        f"Module {module.title}: {outcome.passed} of {outcome.total} tests pass, {verdict}"
        + (f" ({outcome.skipped} skipped: {outcome.skip_reason})" if outcome.skipped else "")
    )
    if not outcome.failures:
        left = tree.stubs_left(module)
        if left:
            console.print(f"{left} function(s) still to write: see {lesson}.")
            return 1
        console.print("Module complete. `tinytorch status` shows what comes next.")
        return 0
    first = outcome.failures[0]
    console.print(f"\n[bold]First failure:[/] {escape(first.test)}")
    console.print(
        f"  {first.message}" + (f"\n  at {first.where}" if first.where else ""), markup=False
    )
    if args.verbose:
        for failure in outcome.failures:
            console.print(f"\n[bold]{escape(failure.test)}[/]")
            console.print(failure.details, markup=False)
    console.print(
        f"\nHint: read {lesson}; `tinytorch test {module.number:02d} -v` shows every failure."
    )
    return 1


def milestone(tree: Workspace, args: argparse.Namespace) -> int:
    """Run a milestone once every module it needs is complete."""
    chosen = tree.curriculum.milestone(args.milestone)
    if not progress.milestone_available(tree, chosen):
        available = [
            str(m.number)
            for m in tree.curriculum.milestones
            if progress.milestone_available(tree, m)
        ]
        raise UsageError(
            f"Milestone {chosen.number} ({chosen.name}) needs the {chosen.tier} tier, which this "
            f"tree does not hold; milestones here: {', '.join(available) or 'none'}"
        )
    missing = progress.missing_for(chosen, _states(tree))
    if missing:
        console.print(
            f"Milestone {chosen.number} ({chosen.name}) needs modules that are not complete yet:"
        )
        for module in missing:
            lesson = tree.shown(tree.lesson(module))
            console.print(
                f"  {module.title}: read {lesson}, then `tinytorch test {module.number:02d}`"
            )
        return 1
    script = tree.root / chosen.script
    return subprocess.call([sys.executable, str(script), *args.options], env=runner.blas_env())


def lab(tree: Workspace, args: argparse.Namespace) -> int:
    """Open a lesson as a notebook in JupyterLab (or Notebook), with this environment's kernel."""
    if args.module is None:
        states = _states(tree)
        module = next((s.module for s in states if s.state != COMPLETE), tree.modules[-1])
    else:
        module = tree.module(args.module)
    notebook = lesson_notebook(tree, module)
    app = next((a for a in ("jupyterlab", "notebook") if importlib.util.find_spec(a)), None)
    command = [sys.executable, "-m", app or "jupyterlab", str(notebook)]
    if args.no_open:
        console.print(f"{tree.shown(notebook)}\n{' '.join(command)}", markup=False)
        return 0
    if app is None:
        raise UsageError(
            "Jupyter is not installed in this environment: run `pip install jupyterlab`, "
            f"then `tinytorch lab {module.number:02d}`"
        )
    console.print(f"Opening {tree.shown(notebook)} in {app} (Ctrl+C here stops it).")
    return subprocess.call(command, cwd=notebook.parent)


def lesson_notebook(tree: Workspace, module: Module) -> Path:
    """The lesson's notebook: the bundle's ``lessons/<tier>/<slug>.ipynb``, or one made from
    the lesson's ``.py`` into ``notebooks/`` of the tree (made once, never overwritten)."""
    shipped = tree.root / "lessons" / module.tier / f"{module.slug}.ipynb"
    if shipped.is_file():
        return shipped
    made = tree.roots[module.tier] / "notebooks" / f"{module.slug}.ipynb"
    if not made.is_file():
        import jupytext

        made.parent.mkdir(parents=True, exist_ok=True)
        notebook = jupytext.read(tree.lesson(module), fmt="py:percent")
        jupytext.write(notebook, made, fmt="ipynb")
    return made


def grade(tree: Workspace, args: argparse.Namespace) -> int:
    """An estimate from the tree's own tests, with the course's points per module."""
    states = _states(tree)
    table = Table(title="Your estimate (your own tests, run on your code)", title_justify="left")
    for column in ("module", "graded tests passing", "points"):
        table.add_column(column, justify="right" if column != "module" else "left")
    for s in states:
        outcome = s.outcome
        passing = "—" if outcome is None else f"{outcome.graded_passed}/{outcome.graded}"
        table.add_row(s.module.title, passing, f"{s.points:.1f} / {s.module.points}")
    total = sum(s.points for s in states)
    most = sum(s.module.points for s in states)
    table.add_row("[bold]total[/]", "", f"[bold]{total:.1f} / {most}[/]")
    console.print(table)
    console.print(
        "This is an estimate. Your course's grade runs its own graded checks on your code "
        "in a sandbox, with these points; an untouched tree scores 0 in both."
    )
    return 0


def doctor(tree: Workspace, args: argparse.Namespace) -> int:
    """Check the set-up and say exactly what to fix."""
    problems = 0
    for ok, line in setup.checks(tree):
        console.print(f"[{'green' if ok else 'red'}]{'ok ' if ok else 'FIX'}[/] {line}")
        problems += not ok
    console.print("All set." if not problems else f"{problems} thing(s) to fix.")
    return 1 if problems else 0


def update_command(tree: Workspace, args: argparse.Namespace) -> int:
    """Merge a newer release into the tree; conflicts are reported, never resolved silently."""
    try:
        started = Path(args.started_from) if args.started_from else None
        messages, code = update.merge_release(tree, Path(args.source), started)
    except update.UpdateError as error:
        raise UsageError(str(error)) from None
    for line in messages:
        console.print(line, markup=False)
    return code


# ----------------------------------------------------------------------------- entry point

COMMANDS: dict[str, Callable[[Workspace, argparse.Namespace], int]] = {
    "status": status,
    "test": test,
    "milestone": milestone,
    "lab": lab,
    "grade": grade,
    "update": update_command,
    "doctor": doctor,
}


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(
        prog="tinytorch", description="Your TinyTorch tree: status, tests, milestones, lessons."
    )
    sub = main_parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser("status", help="each module's state and the next step")
    one = sub.add_parser("test", help="one module's tests: tinytorch test 03")
    one.add_argument("module", help="number, slug or name: 3, 03, 03_layers, layers")
    one.add_argument("-v", "--verbose", action="store_true", help="every failure in full")
    run = sub.add_parser("milestone", help="run a milestone once its modules are complete")
    run.add_argument("milestone", help="number or name: 1, 1958 Perceptron")
    run.add_argument("options", nargs=argparse.REMAINDER, help="passed to the milestone script")
    open_lab = sub.add_parser("lab", help="open a lesson in Jupyter (default: your next module)")
    open_lab.add_argument("module", nargs="?", help="number, slug or name")
    open_lab.add_argument(
        "--no-open", action="store_true", help="make the notebook and print how to open it"
    )
    sub.add_parser("grade", help="estimate your grade from your tests")
    take = sub.add_parser("update", help="take a newer release of the course, keeping your code")
    take.add_argument("source", help="the new release: a student tree, a bundle folder or .zip")
    take.add_argument(
        "--started-from",
        metavar="OLD",
        help="the release this tree was made from (for a tree without its git history)",
    )
    sub.add_parser("doctor", help="check Python, the installed tiers and Jupyter")
    return main_parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        tree = workspace.find()
        return COMMANDS[args.command](tree, args)
    except (CurriculumError, UsageError) as error:
        print(f"tinytorch {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
