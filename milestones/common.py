"""Reporting shared by the milestone scripts: the story, the result table, JSON and PNG.

Nothing here trains anything: every model, loss, optimizer and training loop in a
milestone comes from ``tinytorch``. This file only prints, plots and records results.
"""

from __future__ import annotations

import json
import platform
import textwrap
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from tinytorch.files import atomic_write

RESULTS_DIR = Path(__file__).parent / "results"
TIER_DISTRIBUTIONS = ("tinytorch-foundation", "tinytorch-arch", "tinytorch-opt")


def tell(title: str, story: str) -> None:
    """Print the milestone's headline and its short history lesson."""
    print("=" * 78)
    print(title)
    print("=" * 78)
    print(textwrap.fill(" ".join(story.split()), width=78))
    print()


def tier_versions() -> dict[str, str]:
    """Versions of the installed tiers (and NumPy), recorded with every result."""
    versions = {"numpy": np.__version__, "python": platform.python_version()}
    for name in TIER_DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


@dataclass
class Check:
    """One bar a milestone must clear: ``value`` compared with ``bar``."""

    name: str
    value: float
    bar: float
    at_least: bool = True  # False: value must be at most bar

    @property
    def passed(self) -> bool:
        return self.value >= self.bar if self.at_least else self.value <= self.bar

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "bar": self.bar,
            "rule": ">=" if self.at_least else "<=",
            "passed": self.passed,
        }


@dataclass
class Result:
    """Everything a milestone reports; ``finish()`` prints, saves and returns the exit code."""

    name: str
    title: str
    seeds: list[int]
    checks: list[Check] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def check(self, name: str, value: float, bar: float, at_least: bool = True) -> None:
        self.checks.append(Check(name, float(value), float(bar), at_least))

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def finish(self) -> int:
        wall = time.perf_counter() - self.started
        width = max(len(c.name) for c in self.checks) + 2
        print()
        print(f"{'check':<{width}}{'value':>10}{'bar':>12}  result")
        print("-" * (width + 30))
        for c in self.checks:
            rule = ">=" if c.at_least else "<="
            print(
                f"{c.name:<{width}}{c.value:>10.4f}{rule:>6}{c.bar:>6.4f}  "
                f"{'PASS' if c.passed else 'FAIL'}"
            )
        print("-" * (width + 30))
        print(f"{self.title}: {'PASSED' if self.passed else 'FAILED'} in {wall:.1f} s")
        write_json(
            RESULTS_DIR / f"{self.name}.json",
            {
                "milestone": self.name,
                "title": self.title,
                "passed": self.passed,
                "checks": {c.name: c.as_dict() for c in self.checks},
                "seeds": self.seeds,
                "wall_time_s": round(wall, 2),
                "versions": tier_versions(),
                "details": self.details,
            },
        )
        return 0 if self.passed else 1


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON atomically (``atomic_write``: a temp file beside ``path``, then a rename)."""
    with atomic_write(path, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True, default=float)
        handle.write("\n")


def pyplot():
    """matplotlib's pyplot on a file-only backend (no screen needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, name: str) -> Path:
    path = RESULTS_DIR / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"plot written to {path}")
    return path
