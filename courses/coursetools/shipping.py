"""What the course tooling adds to the trees and bundles it hands out.

* :func:`grader_files` — the formative runner, copied under ``grading/coursetools/`` so a
  tree or bundle gives feedback in CI without the monorepo (see :mod:`coursetools.classroom`;
  the instructor's grader and its answer keys never ship);
* :func:`support_files` — files of a tier outside ``src``/``tests``/``lessons`` that its
  tests read (``scripts/generate_tinytalks.py``: the TinyTalks test regenerates the data);
* :func:`tree_extras` — all of the above plus the GitHub Classroom workflow and a
  ``.gitignore``, for a student tree (``nox -s student`` and bundles).

Templates live in ``courses/templates/``.
"""

from __future__ import annotations

from pathlib import Path

from coursetools.tiers import COURSES_DIR, Tier

TEMPLATES = COURSES_DIR / "templates"
#: The modules of the shipped runner; they import nothing else from the course tooling.
GRADER_MODULES = ("points.py", "files.py", "classroom.py")
_NOT_SHIPPED = ("__pycache__", "build", "dist")

_PACKAGE_DOC = '''"""TinyTorch's formative test runner, as shipped with a course.

``python -m coursetools.classroom TREE --out reports`` runs a tree's tests: see classroom.py.
"""
'''


def grader_files(prefix: str = "grading/coursetools") -> dict[str, bytes]:
    """The grader's source files, keyed by their path under ``prefix``."""
    here = Path(__file__).parent
    files = {f"{prefix}/__init__.py": _PACKAGE_DOC.encode("utf-8")}
    for name in GRADER_MODULES:
        files[f"{prefix}/{name}"] = (here / name).read_bytes()
    return files


def support_files(tier: Tier) -> dict[str, bytes]:
    """Files in the tier's sub-folders other than ``src``/``tests``/``lessons`` (``scripts/``)."""
    files = {}
    for path in sorted(tier.root.rglob("*")):
        relative = path.relative_to(tier.root)
        if (
            path.is_file()
            and len(relative.parts) > 1
            and relative.parts[0] not in ("src", "tests", "lessons")
            and not any(part.startswith(".") or part in _NOT_SHIPPED for part in relative.parts)
            and path.suffix != ".pyc"
        ):
            files[relative.as_posix()] = path.read_bytes()
    return files


def tree_extras(tier: Tier) -> dict[str, bytes]:
    """The workflow, grader, ``.gitignore`` and support files a student tree carries."""
    return {
        ".github/workflows/classroom.yml": (TEMPLATES / "classroom-tree.yml").read_bytes(),
        ".gitignore": (TEMPLATES / "gitignore").read_bytes(),
        **grader_files(),
        **support_files(tier),
    }
