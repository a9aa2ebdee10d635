"""A folder of capstone submissions as one static leaderboard page, measured where it can be.

::

    python -m coursetools.leaderboard submissions/ [--verify] [--out FILE]
    nox -s leaderboard -- submissions/ --verify        # the same, in its own environment

Every ``*.json`` below the folder is read as a Module 20 submission (``load_submission``:
schema, cross-checks, bounds); one that fails is listed with every reason, never dropped.
A submission may carry its models in ``<name>.model/`` (Module 20's ``save_model``: an
allow-listed architecture in JSON and its arrays in ``.npz``, baseline and optimized).
``--verify`` re-measures them in the grader's sandbox (:mod:`coursetools.sandbox`, running
:mod:`coursetools.measure` on the course's own tiers): accuracy on a held-out set whose
labels never enter the sandbox, latency of both models on this machine, size. Measured
figures replace claimed ones; a claim outside the measurement's 95% interval (Module
19's bootstrap) is shown beside it and marked. Models that cannot be measured make the
submission invalid, with the reason.

Four tracks (:data:`TRACKS`), one table each, rank the valid entries; a learner with
several entries for the same task keeps the best one per track, and the page says which
were set aside. The page is one self-contained HTML file (inline CSS, an inline SVG
chart, a small inline script for sorting; tables are rendered sorted, so it reads
without JavaScript) that opens from disk and publishes as-is (GitHub Pages:
``courses/templates/leaderboard-pages.yml``). Learner text is escaped by Jinja2's
autoescaping and never reaches a script, style or URL.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from coursetools import sandbox
from coursetools.tiers import PACKAGES_DIR, REPO_ROOT, all_tiers, write_metadata_shim
from tinytorch.capstone import SubmissionError, load_submission
from tinytorch.capstone.models import MODELS_SUFFIX, models_folder
from tinytorch.datasets import load_tinydigits, load_tinytalks_rows
from tinytorch.files import atomic_write
from tinytorch.perf.benchmarking import BenchmarkResult, bootstrap_interval, compare, summarize
from tinytorch.perf.measure import format_bytes, format_seconds

HERE = Path(__file__).parent
MODELS = ("baseline", "optimized")
MODEL_FILES = (".json", ".npz", ".tokenizer.json")
MAX_MODEL_FILE_BYTES = 64 << 20  # each file of a submission's models
MEASURE_SECONDS = 300.0  # per model, in the sandbox (the GPT's uncached runs take ~25 s)
TARGET_FRACTION = 0.99  # a task without an accuracy target must keep 99% of its baseline's

# ============================================================================= held-out sets


@dataclass(frozen=True)
class HeldOut:
    """A held-out set: the name a model file gives, what it is, and how its models are
    timed (:func:`write_heldout` writes its inputs)."""

    name: str
    about: str
    protocol: dict[str, int]


CANVAS, CANVAS_SEED = 16, 0  # Milestone 4's canvas and seed: its test split exactly
HELDOUT = {
    h.name: h
    for h in (
        HeldOut(
            "tinydigits",
            "TinyDigits' test split: 359 images of 8×8 pixels in [0, 1] (Milestone 3)",
            {"warmup": 3, "repeats": 30},
        ),
        HeldOut(
            "tinydigits-canvas16",
            f"TinyDigits' test split, each digit at a random offset on a {CANVAS}×{CANVAS} "
            "canvas: exactly Milestone 4's test set (its seed 0)",
            {"warmup": 3, "repeats": 30},
        ),
        HeldOut(
            "tinytalks",
            "TinyTalks' test split: exact-match of greedy answers of up to 16 tokens; "
            "timed generating 200 tokens for 8 prompts at once (Milestones 5 and 6)",
            {"warmup": 1, "repeats": 5, "prompts": 8, "new_tokens": 200, "answer_tokens": 16},
        ),
    )
}


def canvas(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, 8, 8) images pasted at uniform random offsets on (N, 1, CANVAS, CANVAS) zeros,
    drawn as Milestone 4 draws them (rows, then columns, one of each per image)."""
    n, size = len(images), images.shape[-1]
    rows, cols = rng.integers(0, CANVAS - size + 1, size=(2, n))
    out = np.zeros((n, 1, CANVAS, CANVAS), dtype=np.float32)
    r, c = rows[:, None, None] + np.arange(size)[:, None], cols[:, None, None] + np.arange(size)
    out[np.arange(n)[:, None, None], 0, r, c] = images
    return out


def write_heldout(folder: Path) -> dict[str, list]:
    """Write every held-out set's inputs into ``folder`` (for the sandbox); return the
    labels or answers, which never leave this process."""
    folder.mkdir(parents=True, exist_ok=True)
    images, labels = load_tinydigits("test")
    np.save(folder / "inputs-tinydigits.npy", images)
    rng = np.random.default_rng(CANVAS_SEED)
    canvas(load_tinydigits("train")[0], rng)  # Milestone 4 draws the training offsets first
    np.save(folder / "inputs-tinydigits-canvas16.npy", canvas(images, rng))
    rows = load_tinytalks_rows("test")
    (folder / "questions-tinytalks.json").write_text(
        json.dumps([question for _, _, question, _ in rows]), encoding="utf-8"
    )
    return {
        "tinydigits": labels.tolist(),
        "tinydigits-canvas16": labels.tolist(),
        "tinytalks": [answer for *_, answer in rows],
    }


# ============================================================================= figures


@dataclass(frozen=True)
class Figures:
    """What an entry is ranked on: claimed by its file, or measured here (then with the
    95% intervals of accuracy and speed-up)."""

    accuracy: float
    baseline_accuracy: float
    latency: float  # the optimized model's median seconds per call of batch_size samples
    baseline_latency: float
    batch_size: int
    baseline_batch_size: int
    size_bytes: int
    baseline_size_bytes: int
    significant: bool
    accuracy_interval: tuple[float, float] | None = None
    speedup_interval: tuple[float, float] | None = None

    @property
    def speedup(self) -> float:
        return self.baseline_latency / self.latency

    @property
    def size_reduction(self) -> float:
        return self.baseline_size_bytes / self.size_bytes

    @property
    def accuracy_kept(self) -> float:
        """Optimized ÷ baseline accuracy, at most 1: losing accuracy costs, beating your
        own baseline earns nothing (a better baseline would have)."""
        return min(1.0, self.accuracy / self.baseline_accuracy) if self.baseline_accuracy else 1.0

    @property
    def all_round(self) -> float:
        return math.sqrt(self.speedup * self.size_reduction) * self.accuracy_kept

    @property
    def per_sample(self) -> float:
        return self.latency / self.batch_size

    @property
    def baseline_per_sample(self) -> float:
        return self.baseline_latency / self.baseline_batch_size


def claimed(document: dict[str, Any]) -> Figures:
    """The figures a valid submission states."""
    base, best = document["baseline"], document["optimized"]
    significance = document["improvement"].get("significance", {})
    return Figures(
        accuracy=best["accuracy"],
        baseline_accuracy=base["accuracy"],
        latency=best["latency"]["median_s"],
        baseline_latency=base["latency"]["median_s"],
        batch_size=best["batch_size"],
        baseline_batch_size=base["batch_size"],
        size_bytes=best["size_bytes"],
        baseline_size_bytes=base["size_bytes"],
        significant=bool(significance.get("significant", False)),
    )


# ============================================================================= entries


@dataclass
class Entry:
    """One valid submission: what it claims and, once verified, what was measured."""

    file: str
    document: dict[str, Any]
    has_models: bool
    measured: Figures | None = None

    @property
    def claimed(self) -> Figures:
        return claimed(self.document)

    @property
    def figures(self) -> Figures:
        return self.measured or self.claimed

    @property
    def learner(self) -> str:
        return self.document["submitter"]

    @property
    def task(self) -> tuple[str, str]:
        return self.document["task"]["name"], self.document["task"]["dataset"]

    @property
    def group(self) -> tuple[str, str, str]:
        """Entries of one learner for one task compete with each other, not side by side."""
        return (" ".join(self.learner.split()).casefold(), *self.task)

    @property
    def target(self) -> float:
        stated = self.document["task"].get("accuracy_target")
        return stated if stated is not None else TARGET_FRACTION * self.figures.baseline_accuracy

    @property
    def meets_target(self) -> bool:
        return self.figures.accuracy >= self.target

    @property
    def differences(self) -> dict[str, str]:
        """Claims that lie outside what was measured (its 95% interval; the size reduction
        exactly): ``"inflated"`` when the claim is better than the measurement, else
        ``"understated"``."""
        if self.measured is None:
            return {}
        said, got = self.claimed, self.measured
        found = {
            "accuracy": _compared(said.accuracy, *got.accuracy_interval),
            "speedup": _compared(said.speedup, *got.speedup_interval),
            "size": _compared(said.size_reduction, got.size_reduction, got.size_reduction),
        }
        return {name: how for name, how in found.items() if how}


def _compared(claim: float, low: float, high: float) -> str:
    """ "inflated" above the interval, "understated" below it, "" inside (within rounding)."""
    if claim > high * (1 + 1e-9):
        return "inflated"
    return "understated" if claim < low * (1 - 1e-9) else ""


@dataclass(frozen=True)
class Rejected:
    """A file that is not a valid submission, or whose models could not be measured."""

    file: str
    reasons: list[str]


def find_submissions(folder: Path) -> list[Path]:
    """Every ``*.json`` below ``folder``, except inside ``*.model`` folders and hidden ones."""
    return sorted(
        path
        for path in folder.rglob("*.json")
        if not any(
            part.endswith(MODELS_SUFFIX) or part.startswith(".")
            for part in path.relative_to(folder).parts[:-1]
        )
    )


def read_submission(folder: Path, path: Path) -> Entry | Rejected:
    """The submission at ``path`` as an entry, or why it is not one."""
    name = path.relative_to(folder).as_posix()
    if path.is_symlink():
        return Rejected(name, ["a symbolic link: submissions must be regular files"])
    try:
        document = load_submission(path)
    except SubmissionError as error:  # messages name the file: by its name in the folder
        return Rejected(name, [problem.replace(str(path), name) for problem in error.problems])
    models = models_folder(path)
    return Entry(name, document, models.is_dir() and not models.is_symlink())


# ============================================================================= verification


@dataclass(frozen=True)
class View:
    """What every measuring sandbox is shown, and the answers kept from it."""

    readonly: dict[str, Path]  # the measuring tool, the held-out inputs, the tiers
    path: list[str]
    work: Path  # refilled with one submission's model files at a time
    truth: dict[str, list]  # labels or answers per held-out set: never in a sandbox


def verify(
    entries: list[Entry | Rejected], folder: Path, repeats: int | None = None
) -> tuple[list[Entry | Rejected], dict[str, Any] | None]:
    """Re-measure every entry that carries models; those that fail become rejections.

    Returns the entries and the system the measurements ran on (None if none ran).
    """
    with tempfile.TemporaryDirectory(prefix="coursetools-leaderboard-") as scratch:
        scratch = Path(scratch)
        truth = write_heldout(scratch / "data")
        (scratch / "tools").mkdir()
        shutil.copyfile(HERE / "measure.py", scratch / "tools" / "measure.py")
        sources = sorted(PACKAGES_DIR.glob("tinytorch-*/src"))
        view = View(
            readonly={
                "tools": scratch / "tools",
                "data": scratch / "data",
                "meta": write_metadata_shim(all_tiers(), scratch / "meta"),
                **{f"tier{n}": src for n, src in enumerate(sources)},
            },
            path=["ro/tools", *(f"ro/tier{n}" for n in range(len(sources))), "ro/meta"],
            work=scratch / "work",
            truth=truth,
        )
        system = None
        checked: list[Entry | Rejected] = []
        for entry in entries:
            if isinstance(entry, Entry) and entry.has_models:
                models = models_folder(folder / entry.file)
                entry, measured_on = remeasure(entry, models, view, repeats, system is None)
                system = system or measured_on
            checked.append(entry)
    return checked, system


def remeasure(
    entry: Entry, models: Path, view: View, repeats: int | None, ask_system: bool
) -> tuple[Entry | Rejected, dict[str, Any] | None]:
    """One entry measured in a fresh sandbox (and, if asked, the machine it ran on)."""
    shutil.rmtree(view.work, ignore_errors=True)
    problems = copy_models(models, view.work)
    if problems:
        return Rejected(
            entry.file, [f"its models could not be measured: {'; '.join(problems)}"]
        ), None
    settings = protocol(entry, repeats)
    calls = [
        sandbox.Call("measure", "measure", (name, settings), MEASURE_SECONDS) for name in MODELS
    ]
    if ask_system:
        calls.append(sandbox.Call("measure", "system", seconds=30))
    outcomes = sandbox.run(
        calls, work=view.work, readonly=view.readonly, path=view.path, preload=["measure"]
    )
    system = outcomes[2].value if ask_system and outcomes[2].status == "ok" else None
    try:
        return replace(entry, measured=measurement(entry, outcomes[:2], view.truth)), system
    except ValueError as error:
        return Rejected(entry.file, [f"its models could not be measured: {error}"]), system


def copy_models(models: Path, work: Path) -> list[str]:
    """Copy the model files the sandbox may see into ``work``; the problems, if any."""
    work.mkdir(parents=True)
    problems = []
    for model in MODELS:
        for suffix in MODEL_FILES:
            source = models / f"{model}{suffix}"
            if source.is_symlink() or (source.exists() and not source.is_file()):
                problems.append(f"{source.name} is not a regular file")
            elif source.is_file() and source.stat().st_size > MAX_MODEL_FILE_BYTES:
                problems.append(f"{source.name} is over {MAX_MODEL_FILE_BYTES:,} bytes")
            elif source.is_file():
                shutil.copyfile(source, work / source.name)
        if not (work / f"{model}.json").is_file():
            problems.append(f"{models.name}/ has no {model}.json")
    return problems


def protocol(entry: Entry, repeats: int | None) -> dict[str, Any]:
    """How the sandbox measures this entry's models: the settings of every held-out set
    (each model names its own), classifiers timed on the submission's batch size."""
    sets = {
        name: {**h.protocol, **({} if repeats is None else {"repeats": repeats})}
        for name, h in HELDOUT.items()
    }
    return {"sets": sets, "batch_size": entry.claimed.batch_size}


def measurement(entry: Entry, outcomes: list[sandbox.Outcome], truth: dict[str, list]) -> Figures:
    """Figures from what the sandbox returned for the baseline and the optimized model,
    every value checked before it is used; raises ValueError saying what is wrong."""
    results = []
    for name, outcome in zip(MODELS, outcomes):
        if outcome.status != "ok":
            raise ValueError(f"{name}: {outcome.status} {outcome.message}".strip())
        results.append(_checked_result(name, outcome.value, truth))
    base, best = results
    if base["heldout"] != best["heldout"]:
        raise ValueError(f"baseline is for {base['heldout']}, optimized for {best['heldout']}")
    latency = {name: summarize(r["samples"], name=name, seed=0) for name, r in zip(MODELS, results)}
    # Faster by the medians, as the intervals are (Module 19's permutation test), at the
    # submission's own alpha.
    alpha = entry.document["improvement"].get("significance", {}).get("alpha", 0.05)
    verdict = compare(latency["optimized"], latency["baseline"], alpha, method="permutation")
    return Figures(
        accuracy=best["accuracy"],
        baseline_accuracy=base["accuracy"],
        latency=latency["optimized"].median,
        baseline_latency=latency["baseline"].median,
        batch_size=best["batch_size"],
        baseline_batch_size=base["batch_size"],
        size_bytes=best["size_bytes"],
        baseline_size_bytes=base["size_bytes"],
        significant=verdict.significant,
        accuracy_interval=best["accuracy_interval"],
        speedup_interval=_ratio_interval(latency["baseline"], latency["optimized"]),
    )


def _checked_result(name: str, value: Any, truth: dict[str, list]) -> dict[str, Any]:
    """One model's result, checked, with its accuracy and that accuracy's 95% interval."""
    if not isinstance(value, dict) or value.get("heldout") not in truth:
        raise ValueError(f"{name}: names no held-out set this leaderboard has ({sorted(truth)})")
    expected = truth[value["heldout"]]
    said = value.get("predictions", value.get("answers"))
    if not isinstance(said, list) or len(said) != len(expected):
        raise ValueError(f"{name}: expected {len(expected)} predictions")
    samples, size, batch = value.get("samples"), value.get("size_bytes"), value.get("batch_size")
    if not (
        isinstance(samples, list)
        and len(samples) >= 2
        and all(isinstance(s, float) and 0 < s < math.inf for s in samples)
        and isinstance(size, int)
        and size > 0
        and isinstance(batch, int)
        and batch > 0
    ):
        raise ValueError(f"{name}: the worker returned malformed timings or sizes")
    correct = np.array([a == b for a, b in zip(said, expected)], dtype=np.float64)
    low, high = bootstrap_interval(correct, 0.95, statistic="mean")
    accuracy = float(correct.mean())
    return {**value, "accuracy": accuracy, "accuracy_interval": (low, high)}


def _ratio_interval(base: BenchmarkResult, best: BenchmarkResult) -> tuple[float, float]:
    """The speed-up's interval from the two medians' intervals: every ratio they allow."""
    return base.ci_low / best.ci_high, base.ci_high / max(best.ci_low, 1e-12)


# ============================================================================= tracks


@dataclass(frozen=True)
class Track:
    """One table: which column ranks it, and whether an entry must meet its accuracy target."""

    key: str
    title: str
    column: str
    caption: str
    score: Callable[[Figures], float]
    needs_target: bool


TRACKS = (
    Track(
        "speed",
        "Speed",
        "speedup",
        "Speed-up: the baseline's median latency divided by the optimized model's, both "
        "timed on the same machine (higher is better; n.s.: not significantly faster). "
        "Ranked among entries whose optimized model meets its task's accuracy target.",
        lambda f: f.speedup,
        True,
    ),
    Track(
        "compression",
        "Compression",
        "smaller",
        "Size reduction: the baseline's bytes divided by the optimized model's (int8 "
        "weights, pruned weights stored as CSR, fewer parameters). Ranked among entries "
        "whose optimized model meets its task's accuracy target.",
        lambda f: f.size_reduction,
        True,
    ),
    Track(
        "accuracy",
        "Accuracy",
        "accuracy",
        "Accuracy of the optimized model on its task's held-out set (Δ: points gained "
        "or lost against its own baseline). Compare entries of the same task.",
        lambda f: f.accuracy,
        False,
    ),
    Track(
        "all-round",
        "All-round efficiency",
        "all_round",
        "All-round: √(speed-up × size reduction) × accuracy kept (optimized ÷ baseline "
        "accuracy, at most 1). 1.00 is the baseline itself.",
        lambda f: f.all_round,
        False,
    ),
)


@dataclass
class Row:
    entry: Entry
    rank: int | None  # None: not ranked in this track (below its accuracy target)
    competing: int = 1  # entries of this learner for this task, this one the best


@dataclass
class Board:
    track: Track
    rows: list[Row] = field(default_factory=list)
    set_aside: list[tuple[Entry, Entry]] = field(default_factory=list)  # (entry, kept one)


def board(track: Track, entries: list[Entry]) -> Board:
    """The track's table: each learner's best entry per task, ranked; ties share a rank."""
    groups: dict[tuple[str, str, str], list[Entry]] = {}
    for entry in entries:
        groups.setdefault(entry.group, []).append(entry)

    def strength(entry: Entry) -> tuple[bool, float, bool]:
        """Eligible first, then the score; between equals, a measured entry."""
        eligible = entry.meets_target or not track.needs_target
        return eligible, track.score(entry.figures), entry.measured is not None

    result = Board(track)
    kept = []
    for members in groups.values():
        best = max(members, key=strength)  # the first of equals, in file order
        kept.append((best, len(members)))
        result.set_aside += [(entry, best) for entry in members if entry is not best]
    kept.sort(key=lambda pair: ([-value for value in strength(pair[0])], pair[0].file))
    scores = [strength(entry)[1] for entry, _ in kept if strength(entry)[0]]
    for entry, competing in kept:
        eligible, score, _ = strength(entry)
        rank = 1 + sum(s > score for s in scores) if eligible else None
        result.rows.append(Row(entry, rank, competing))
    return result


# ============================================================================= the chart

WIDTH, HEIGHT = 760, 420
MARGIN = {"left": 70, "right": 24, "top": 16, "bottom": 56}
COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")


def chart(entries: list[Entry]) -> dict[str, Any]:
    """Accuracy against latency per sample (log scale) for every valid entry, baseline to
    optimized, each point's area proportional to its model's bytes: coordinates only,
    drawn as inline SVG by the template."""
    if not entries:
        return {}
    figures = [e.figures for e in entries]
    seconds = [f.per_sample for f in figures] + [f.baseline_per_sample for f in figures]
    accuracy = [f.accuracy for f in figures] + [f.baseline_accuracy for f in figures]
    low, high = math.floor(math.log10(min(seconds))), math.ceil(math.log10(max(seconds)))
    high = max(high, low + 1)
    bottom = min(0.9, math.floor(min(accuracy) * 10) / 10)
    inner_w = WIDTH - MARGIN["left"] - MARGIN["right"]
    inner_h = HEIGHT - MARGIN["top"] - MARGIN["bottom"]

    def x(s: float) -> float:
        return round(MARGIN["left"] + inner_w * (math.log10(s) - low) / (high - low), 1)

    def y(a: float) -> float:
        return round(MARGIN["top"] + inner_h * (1 - (a - bottom) / (1 - bottom)), 1)

    largest = max(max(f.size_bytes, f.baseline_size_bytes) for f in figures)

    def radius(size: int) -> float:
        return round(3 + 15 * math.sqrt(size / largest), 1)

    tasks = sorted({e.task for e in entries})
    colour = {task: COLOURS[i % len(COLOURS)] for i, task in enumerate(tasks)}
    points = []
    for entry, f in zip(entries, figures):
        points.append(
            {
                "x": x(f.per_sample),
                "y": y(f.accuracy),
                "r": radius(f.size_bytes),
                "bx": x(f.baseline_per_sample),
                "by": y(f.baseline_accuracy),
                "br": radius(f.baseline_size_bytes),
                "colour": colour[entry.task],
                "verified": entry.measured is not None,
                "label": entry.document["optimized"]["model"],
                "entry": entry,
            }
        )
    steps = [bottom + i / 10 for i in range(round((1 - bottom) * 10) + 1)]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "margin": MARGIN,
        "points": points,
        "x_ticks": [(x(10.0**p), format_seconds(10.0**p)) for p in range(low, high + 1)],
        "y_ticks": [(y(a), f"{a:.0%}") for a in steps],
        "legend": [(colour[task], task) for task in tasks],
        "sizes": [(radius(s), format_bytes(s)) for s in _reference_sizes(largest)],
    }


def _reference_sizes(largest: int) -> list[int]:
    """Up to three round sizes for the legend (1 KiB, 10 KiB, ... 100 MiB), at most ``largest``."""
    sizes = [10**k << shift for shift in (10, 20) for k in range(3)]
    return [size for size in sizes if size <= largest][-3:]


# ============================================================================= the page


def render(
    title: str,
    entries: list[Entry],
    rejected: list[Rejected],
    verified: bool,
    system: dict[str, Any] | None,
) -> str:
    """The page as one HTML document (Jinja2, autoescaped)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        percent=lambda v: f"{100 * v:.1f}%",
        times=lambda v: f"{v:.2f}×",
        size=format_bytes,
        seconds=format_seconds,
    )
    return environment.get_template("leaderboard.html.j2").render(
        title=title,
        created=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        boards=[board(track, entries) for track in TRACKS],
        entries=entries,
        rejected=rejected,
        chart=chart(entries),
        verified=verified,
        system=system,
        isolation=sandbox.isolation() if verified else None,
        heldout=HELDOUT.values(),
    )


def build(
    folder: Path, out: Path, verify_models: bool, title: str, repeats: int | None = None
) -> list[Entry | Rejected]:
    """Read (and with ``verify_models`` re-measure) the submissions in ``folder``; write the
    page to ``out`` atomically; return the entries and rejections, in file order."""
    found = [read_submission(folder, path) for path in find_submissions(folder)]
    system = None
    if verify_models:
        found, system = verify(found, folder, repeats)
    entries = [e for e in found if isinstance(e, Entry)]
    rejected = [e for e in found if isinstance(e, Rejected)]
    page = render(title, entries, rejected, verify_models, system)
    with atomic_write(out, "w", encoding="utf-8") as file:
        file.write(page)
    return found


def summary(found: list[Entry | Rejected]) -> str:
    """Claimed against measured, one line per submission, for the terminal."""
    lines = [
        f"{'submission':<32} {'status':<10} {'accuracy':>17} {'speed-up':>26} {'bytes':>19}",
    ]
    for item in found:
        if isinstance(item, Rejected):
            lines.append(f"{item.file:<32} {'invalid':<10} {item.reasons[0][:70]}")
            continue
        said, got = item.claimed, item.measured
        if got is None:
            status = "claimed"
            accuracy, speedup, size = (
                f"{said.accuracy:.4f}",
                f"{said.speedup:.2f}x",
                said.size_bytes,
            )
        else:
            status = "verified"
            low, high = got.speedup_interval
            accuracy = f"{said.accuracy:.4f}->{got.accuracy:.4f}"
            speedup = f"{said.speedup:.2f}x->{got.speedup:.2f}x [{low:.2f},{high:.2f}]"
            size = f"{said.size_bytes}->{got.size_bytes}"
            marks = set(item.differences.values())
            status += "!" if "inflated" in marks else "~" if marks else ""
        lines.append(f"{item.file:<32} {status:<10} {accuracy:>17} {speedup:>26} {size:>19}")
    lines.append("verified! : a claim is better than its measurement's 95% interval (~: worse)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.leaderboard",
        description="Turn a folder of capstone submissions into one static leaderboard page.",
    )
    parser.add_argument("folder", type=Path, help="a folder of submissions (*.json, *.model/)")
    parser.add_argument(
        "--verify", action="store_true", help="re-measure the models submissions carry"
    )
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "build" / "leaderboard" / "index.html"
    )
    parser.add_argument("--title", default="TinyTorch capstone leaderboard")
    parser.add_argument("--repeats", type=int, help="timed runs per model (default: per set)")
    args = parser.parse_args(argv)
    folder = args.folder.resolve()
    if not folder.is_dir():
        print(f"leaderboard: {folder} is not a folder", file=sys.stderr)
        return 2
    if args.repeats is not None and args.repeats < 2:
        print("leaderboard: --repeats must be at least 2 (an interval needs two)", file=sys.stderr)
        return 2
    try:
        found = build(folder, args.out.resolve(), args.verify, args.title, args.repeats)
    except sandbox.SandboxError as error:
        print(f"leaderboard: {error}", file=sys.stderr)
        return 2
    print(summary(found))
    print(f"\npage: {args.out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
