"""Reporting shared by the milestone scripts: story, progress, figures, checks, result files.

Nothing here trains anything: every model, loss, optimizer and training loop in a
milestone comes from ``tinytorch``. This file prints, draws and records:

* ``arguments``   the command line a one-seed milestone starts from (``--seed``);
* ``tell``        the milestone's headline and history lesson (``begin``: then its Result);
* ``progress``    a live bar on a terminal, a plain line every few seconds in a log;
* ``figure``      one figure style for every milestone (title, labelled axes, keys);
* ``Result``      the checks, one per line in the order they were made, and the JSON file;
* ``shown``       every path as seen from the folder the command was run in;
* ``run_main``    a milestone's ``main``, ended by one clear message (not a traceback) when
                  it reaches a function the learner has not written yet.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import textwrap
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from tinytorch.files import atomic_write

RESULTS_DIR = Path(__file__).parent / "results"
TIER_DISTRIBUTIONS = ("tinytorch-foundation", "tinytorch-arch", "tinytorch-opt")
LOG_EVERY_S = 5.0  # without a terminal, one progress line at least this often
NOT_WRITTEN = 3  # exit status: the milestone reached code a learner has not written yet
# What a student tree's unwritten function raises (coursetools.markers.stub_message).
_STUB = re.compile(
    r"Module (?P<number>\d{2}) \((?P<name>[^)]*)\): implement (?P<what>.+?)"
    r"(?: — see (?P<lesson>\S+))?$"
)


def run_main(main: Callable[[], int]) -> int:
    """``main()``'s exit status; a function still to write ends the milestone with one message.

    In a learner's tree an unwritten function raises ``NotImplementedError`` naming its
    module and lesson: the milestone says that, and which module to finish, instead of
    ending in a traceback. Any other error is a real error and propagates.
    """
    try:
        return main()
    except NotImplementedError as error:
        stub = _STUB.match(str(error))
        if stub is None:
            raise
        lesson = stub["lesson"] or f"the lesson of Module {stub['number']}"
        print(
            f"\nThis milestone needs Module {stub['number']} ({stub['name']}), which is not "
            f"finished: {stub['what']} is still to write.\nRead {lesson}, then check your "
            f"code with `tinytorch test {stub['number']}` (or pytest on its tests).",
            file=sys.stderr,
        )
        return NOT_WRITTEN


def arguments(title: str) -> argparse.ArgumentParser:
    """A one-seed milestone's options: ``--seed`` (default 0); the milestone adds its own."""
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--seed", type=int, default=0)
    return parser


def epoch_count(text: str) -> int:
    """An ``--epochs`` value: a whole number of at least 1 (argparse reports anything else)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def begin(name: str, title: str, story: str, seeds: list[int]) -> Result:
    """Tell the milestone's story, then open the Result its checks are recorded in."""
    tell(title, story)
    return Result(name, title, seeds=seeds)


def tell(title: str, story: str) -> None:
    """Print the milestone's headline and its short history lesson."""
    print("=" * 78)
    print(title)
    print("=" * 78)
    print(textwrap.fill(" ".join(story.split()), width=78))
    print()


def shown(path: str | os.PathLike[str]) -> str:
    """``path`` relative to the folder the command was run in (absolute only off that tree)."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def tier_versions() -> dict[str, str]:
    """Versions of the installed tiers (and NumPy), recorded with every result."""
    versions = {"numpy": np.__version__, "python": platform.python_version()}
    for name in TIER_DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


# ----------------------------------------------------------------------------- progress


class LogLines(tqdm):
    """tqdm for logs and pipes: a whole line every ``mininterval`` seconds, never a ``\\r``.

    A redrawn bar turns into one endless line in a CI log, and tqdm's own default
    (``disable=None``) prints nothing at all without a terminal: a long phase looks hung.
    """

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        if msg == "":  # tqdm clearing its line on close: there is no line to clear in a log
            return False
        self.fp.write(f"{self if msg is None else msg}\n")
        self.fp.flush()
        return True

    @classmethod
    def write(cls, s: str, file: Any = None, end: str = "\n", nolock: bool = False) -> None:
        """A message between progress lines: just print it (tqdm's would redraw the bars)."""
        print(s, end=end, file=file or sys.stdout, flush=True)

    def close(self) -> None:
        if not self.disable:
            self.refresh()  # the final count and postfix, whatever the interval
        super().close()


def progress(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str = "training",
    unit: str = "step",
) -> tqdm:
    """A progress bar over a long phase; update it with ``.update()`` and ``.set_postfix_str``.

    On a terminal: tqdm's live bar, cleared when the phase ends. Elsewhere (CI, ``| tee``,
    a file): a plain line every ``LOG_EVERY_S`` seconds and one when the phase ends. Both
    go to stdout, so they stay in order with the ``print``s around them.
    ``Trainer(..., progress=partial(progress, desc="seed 0"))`` uses it for ``fit``.
    """
    if sys.stdout.isatty():
        return tqdm(
            iterable, total=total, desc=desc, unit=unit, file=sys.stdout, leave=False,
            dynamic_ncols=True, mininterval=0.2,
        )  # fmt: skip
    sys.stdout.flush()  # lines printed before the phase come first
    return LogLines(
        iterable, total=total, desc=f"  {desc}", unit=unit, file=sys.stdout, leave=False,
        mininterval=LOG_EVERY_S, miniters=1, delay=LOG_EVERY_S,
        bar_format="{desc}: {n_fmt}/{total_fmt} {unit}s ({percentage:.0f}%), "
        "{elapsed} elapsed, {remaining} left{postfix}",
    )  # fmt: skip


def ticking(fn: Callable[[], Any], bar: tqdm) -> Callable[[], Any]:
    """``fn`` that also advances ``bar`` by one each call (for timed calls in a loop)."""

    def call() -> Any:
        out = fn()
        bar.update()
        return out

    return call


# ----------------------------------------------------------------------------- figures

# Okabe & Ito's palette: eight colours that stay distinct for every kind of colour vision.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
BASELINE, OPTIMIZED = "#7F7F7F", "#E69F00"  # Milestone 6: before and after
STYLE = {
    "figure.dpi": 110,
    "figure.titlesize": 13,
    "figure.titleweight": "bold",
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
    "legend.framealpha": 0.9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
}


def pyplot() -> Any:
    """matplotlib's pyplot on a file-only backend (no screen needed), in the milestone style."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from cycler import cycler

    plt.rcParams.update({**STYLE, "axes.prop_cycle": cycler(color=PALETTE)})
    return plt


def figure(title: str, panels: int, width: float = 4.3, height: float = 3.7) -> tuple[Any, list]:
    """A titled figure with ``panels`` axes side by side; returns ``(fig, axes)``.

    Constrained layout keeps the title, labels and outside legends from overlapping.
    """
    plt = pyplot()
    fig, axes = plt.subplots(1, panels, figsize=(width * panels, height), layout="constrained")
    fig.suptitle(title)
    return fig, list(np.atleast_1d(axes))


def save_figure(fig: Any, name: str) -> Path:
    """Write ``fig`` to ``results/<name>.png`` atomically, close it, and say where it went."""
    path = RESULTS_DIR / f"{name}.png"
    with atomic_write(path) as handle:  # a reader sees the old picture or the new one
        fig.savefig(handle, format="png")
    pyplot().close(fig)
    print(f"figure: {shown(path)}")
    return path


# ----------------------------------------------------------------------------- checks


@dataclass
class Check:
    """One bar a milestone must clear: ``value`` compared with ``bar``; no bar: measured only."""

    name: str
    value: float
    bar: float | None
    at_least: bool = True  # False: value must be at most bar

    @property
    def rule(self) -> str:
        return ">=" if self.at_least else "<="

    @property
    def passed(self) -> bool | None:
        if self.bar is None:
            return None
        return self.value >= self.bar if self.at_least else self.value <= self.bar

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "measured"}[self.passed]

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "bar": self.bar,
            "rule": self.rule if self.bar is not None else None,
            "passed": self.passed,
        }

    def line(self, width: int) -> str:
        """``name  value  rule bar  verdict``, aligned on ``width`` columns of name."""
        bar = f"{self.rule} {self.bar:.4g}" if self.bar is not None else "no bar"
        return f"{self.name:<{width}}  {self.value:>10.4g}  {bar:<12}  {self.verdict}"


@dataclass
class Result:
    """Everything a milestone reports; ``finish()`` prints, saves and returns the exit code."""

    name: str
    title: str
    seeds: list[int]
    checks: list[Check] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    cpu_started: float = field(default_factory=time.process_time)

    def cpu_seconds(self) -> float:
        """CPU seconds this milestone has used so far: what a time bar checks. On a machine
        shared with other work (or running two milestones at once) wall time counts the
        waiting too; the milestones train on one thread, so on an idle core both agree."""
        return time.process_time() - self.cpu_started

    def check(self, name: str, value: float, bar: float | None, at_least: bool = True) -> None:
        """Record a check; ``bar=None`` records a measurement that passes or fails nothing."""
        self.checks.append(Check(name, float(value), None if bar is None else float(bar), at_least))

    @property
    def passed(self) -> bool | None:
        """True when every bar is met, False when one is missed, None when nothing had a bar."""
        verdicts = [c.passed for c in self.checks if c.passed is not None]
        return all(verdicts) if verdicts else None

    @property
    def verdict(self) -> str:
        return {True: "PASSED", False: "FAILED", None: "MEASURED (no bar to meet)"}[self.passed]

    def summary(self) -> str:
        """One check per line, in the order the milestone made them."""
        width = max(len(c.name) for c in self.checks)
        rule = "-" * (width + 40)
        header = f"{'check':<{width}}  {'value':>10}  {'bar':<12}  result"
        return "\n".join([header, rule, *(c.line(width) for c in self.checks), rule])

    def finish(self) -> int:
        """Print the summary, write ``results/<name>.json``; 0 unless a bar was missed."""
        wall = time.perf_counter() - self.started
        path = RESULTS_DIR / f"{self.name}.json"
        write_json(
            path,
            {
                "milestone": self.name,
                "title": self.title,
                "passed": self.passed,
                "checks": {c.name: c.as_dict() for c in self.checks},
                "seeds": self.seeds,
                "wall_time_s": round(wall, 2),
                "cpu_time_s": round(self.cpu_seconds(), 2),
                "versions": tier_versions(),
                "details": self.details,
            },
        )
        print(f"results: {shown(path)}\n")
        print(self.summary())
        print(f"{self.title}: {self.verdict} in {wall:.1f} s")
        return 1 if self.passed is False else 0


# ----------------------------------------------------------------------------- files


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """``payload`` as indented JSON, written atomically (``tinytorch.files.atomic_write``)."""
    text = json.dumps(payload, indent=2, default=float) + "\n"  # checks keep their order
    with atomic_write(path, "w", encoding="utf-8") as stream:
        stream.write(text)


def legend_hides_nothing(ax: Any) -> bool:
    """True when ``ax``'s legend covers none of its plotted points (checked on every figure)."""
    legend = ax.get_legend()
    if legend is None:
        return True
    ax.figure.canvas.draw()
    box = legend.get_window_extent()
    shapes = [(line.get_transform(), line.get_xydata()) for line in ax.get_lines()]
    shapes += [(c.get_offset_transform(), c.get_offsets()) for c in ax.collections]
    for transform, xy in shapes:
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy) and box.count_contains(transform.transform(xy)):
            return False
    return True
