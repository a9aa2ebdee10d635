"""Points and time limits of the curriculum's modules, as ``curriculum.toml`` gives them.

The manifest is the one place they are written (with the reasons for each number); this
module is how grading reads them. It needs only the standard library and the manifest's
loader (:mod:`tinytorch_learn.curriculum`): the formative runner shipped in trees and
bundles reads it too, with the loader and a copy of the manifest beside it under
``grading/`` (:func:`coursetools.shipping.grader_files`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinytorch_learn.curriculum import load

DEFAULT_TIMEOUT = 60.0  # seconds, for a module the curriculum does not list


@dataclass(frozen=True)
class ModuleSpec:
    """A curriculum module: its points, and the time limit of each of its checks or tests."""

    number: int
    name: str
    points: int
    timeout: float = DEFAULT_TIMEOUT


#: Points per module, from the manifest nearest this file (the repository's, or the copy
#: a tree or bundle carries under ``grading/``).
CURRICULUM: dict[int, ModuleSpec] = {
    m.number: ModuleSpec(m.number, m.name, m.points, m.timeout)
    for m in load(Path(__file__).parent).modules
}


def module_spec(number: int, name: str = "") -> ModuleSpec:
    """Points and time limit of curriculum module ``number`` (the one place grading reads them).

    A module the curriculum does not list (a course's own extra module) carries no points.
    """
    return CURRICULUM.get(number) or ModuleSpec(number, name or f"Module {number:02d}", 0)
