"""What the course tooling adds to the trees and bundles it hands out.

* :func:`grader_files` — the formative runner, copied under ``grading/coursetools/`` so a
  tree or bundle gives feedback in CI without the monorepo (see :mod:`coursetools.classroom`;
  the instructor's grader and its answer keys never ship);
* :func:`support_files` — files of a tier outside ``src``/``tests``/``lessons`` that its
  tests read (``scripts/generate_tinytalks.py``: the TinyTalks test regenerates the data);
* :func:`learner_files` — the learner's command: ``curriculum.toml``, the source of
  ``tinytorch-learn`` under ``learn/``, the tier's milestones under ``milestones/``, and
  the tier's ``pyproject.toml`` depending on ``learn/`` so that ``pip install -e .`` in the
  tree brings the ``tinytorch`` command with no index but the usual third-party one;
* :func:`tree_extras` — all of the above plus the GitHub Classroom workflow and a
  ``.gitignore``, for a student tree (``nox -s student`` and bundles).

Templates live in ``courses/templates/``.
"""

from __future__ import annotations

import re
from pathlib import Path

from coursetools.tiers import COURSES_DIR, REPO_ROOT, Tier

TEMPLATES = COURSES_DIR / "templates"
#: The modules of the shipped runner; they import nothing else from the course tooling.
GRADER_MODULES = ("points.py", "files.py", "classroom.py")
_NOT_SHIPPED = ("__pycache__", "build", "dist")
MANIFEST = REPO_ROOT / "curriculum.toml"
LEARN_DIR = COURSES_DIR / "learn"  # tinytorch-learn: the manifest's loader and the command
MILESTONES_DIR = REPO_ROOT / "milestones"
#: What a milestone script imports besides tinytorch: shared reporting, other milestones.
_MILESTONE_IMPORT = re.compile(r"^\s*(?:import|from)\s+(common|identify|m\d\d_\w+)\b", re.M)
#: The tree's own dependency on the command it ships (hatchling fills in ``{root:uri}``).
LEARN_REQUIREMENT = "tinytorch-learn[learner] @ {root:uri}/learn"
#: In a bundle the trees share one ``learn/`` beside them: two trees naming two copies
#: would be two URLs for one package, which pip and uv refuse to install together.
SHARED_LEARN_REQUIREMENT = "tinytorch-learn[learner] @ {root:parent:uri}/learn"

_PACKAGE_DOC = '''"""TinyTorch's formative test runner, as shipped with a course.

``python -m coursetools.classroom TREE --out reports`` runs a tree's tests: see classroom.py.
"""
'''


def grader_files(prefix: str = "grading") -> dict[str, bytes]:
    """The formative runner's files, keyed by their path under ``prefix``.

    ``coursetools/`` (the runner), the manifest's loader ``tinytorch_learn/`` and a copy
    of ``curriculum.toml``, which points.py finds by walking up from its own folder: the
    runner needs nothing else, wherever a tree or bundle puts the rest.
    """
    from tinytorch_learn import curriculum

    here, loader = Path(__file__).parent, Path(curriculum.__file__).parent
    files = {f"{prefix}/coursetools/__init__.py": _PACKAGE_DOC.encode("utf-8")}
    for name in GRADER_MODULES:
        files[f"{prefix}/coursetools/{name}"] = (here / name).read_bytes()
    for name in ("__init__.py", "curriculum.py"):
        files[f"{prefix}/tinytorch_learn/{name}"] = (loader / name).read_bytes()
    files[f"{prefix}/{curriculum.MANIFEST}"] = curriculum.find(here).read_bytes()
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


def milestone_scripts(scripts: list[str]) -> list[str]:
    """``scripts`` (names in ``milestones/``) and every milestone file they import, sorted."""
    pending, found = list(scripts), set()
    while pending:
        script = pending.pop()
        if script in found:
            continue
        path = MILESTONES_DIR / script
        if not path.is_file():
            raise FileNotFoundError(f"milestone script {path} is missing")
        found.add(script)
        pending += [f"{name}.py" for name in _MILESTONE_IMPORT.findall(path.read_text("utf-8"))]
    return sorted(found)


def learner_pyproject(tier: Tier) -> bytes:
    """The tier's ``pyproject.toml`` with one more dependency: the command under ``learn/``."""
    text = (tier.root / "pyproject.toml").read_text(encoding="utf-8")
    text, found = re.subn(
        r"^dependencies = \[",
        f'dependencies = [\n    "{LEARN_REQUIREMENT}",',
        text,
        count=1,
        flags=re.M,
    )
    if not found:
        raise ValueError(f"{tier.root / 'pyproject.toml'} has no dependencies = [ line")
    text += (
        "\n# The learner's `tinytorch` command ships with this tree, in learn/.\n"
        "[tool.hatch.metadata]\nallow-direct-references = true\n"
    )
    return text.encode("utf-8")


def learner_files(tier: Tier) -> dict[str, bytes]:
    """The manifest, the command's source, the tier's milestones and the tree's pyproject."""
    from tinytorch_learn.curriculum import load

    files = {"curriculum.toml": MANIFEST.read_bytes(), "pyproject.toml": learner_pyproject(tier)}
    for path in sorted(LEARN_DIR.rglob("*")):
        relative = path.relative_to(LEARN_DIR)
        if (
            path.is_file()
            and not any(
                part.startswith(".") or part in _NOT_SHIPPED or part.endswith(".egg-info")
                for part in relative.parts
            )
            and path.suffix != ".pyc"
        ):
            files[f"learn/{relative.as_posix()}"] = path.read_bytes()
    own = [Path(m.script).name for m in load(MANIFEST).milestones if m.tier == tier.name]
    for name in milestone_scripts(own) if own else []:
        files[f"milestones/{name}"] = (MILESTONES_DIR / name).read_bytes()
    return files


def share_learn(files: dict[str, bytes], trees: list[str]) -> None:
    """Move the ``learn/`` of each of ``trees`` (folders of a bundle) to one ``learn/``
    beside them, and point each tree's ``pyproject.toml`` at it."""
    for tree in trees:
        prefix = f"{tree}/learn/"
        for name in [n for n in files if n.startswith(prefix)]:
            files[f"learn/{name.removeprefix(prefix)}"] = files.pop(name)
        pyproject = files[f"{tree}/pyproject.toml"].decode("utf-8")
        if LEARN_REQUIREMENT not in pyproject:
            raise ValueError(f"{tree}/pyproject.toml does not name {LEARN_REQUIREMENT}")
        shared = pyproject.replace(LEARN_REQUIREMENT, SHARED_LEARN_REQUIREMENT)
        files[f"{tree}/pyproject.toml"] = shared.replace(
            "ships with this tree, in learn/", "ships with this bundle, in ../learn/"
        ).encode("utf-8")


def tree_extras(tier: Tier) -> dict[str, bytes]:
    """The workflow, grader, ``.gitignore``, support and learner files a student tree carries."""
    return {
        **learner_files(tier),
        ".github/workflows/classroom.yml": (TEMPLATES / "classroom-tree.yml").read_bytes(),
        ".gitignore": (TEMPLATES / "gitignore").read_bytes(),
        **grader_files(),
        **support_files(tier),
    }
