"""Every workflow of the TinyTorch tiers monorepo.

    nox                       what CI runs: tests, tooling, integration, lint, docs, lessons,
                              milestones
    nox -s tests              each tier in a fresh venv holding only it and its lower tiers
    nox -s hypothesis         each tier's op properties, searched harder (not in the default)
    nox -s lint               ruff + import-linter (curriculum order, tier boundaries)
    nox -s integration        cross-tier tests against built wheels
    nox -s docs               the Sphinx site, warnings as errors (nox -s lessons runs lessons)
    nox -s milestone          the historical milestones (``-- 3`` for one, ``-- --list``)
    nox -s milestone-tests    tests of the milestones' reporting: figures, progress, data
    nox -s build              wheel + sdist of every tier into dist/
    nox -s bench -- foundation   benchmarks that print ratios (never timed assertions)
    nox -s bench -- --compare-torch   tinytorch beside PyTorch CPU, one thread each

Sessions use the Python running nox (no interpreter downloads) and uv when available.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PACKAGES = ROOT / "packages"
LEARN = ROOT / "courses" / "learn"  # tinytorch-learn: the curriculum manifest's loader

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = False
nox.options.sessions = [
    "tests",
    "tooling",
    "integration",
    "lint",
    "docs",
    "lessons",
    "milestone-tests",
    "milestone",
]
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")  # never fetch an interpreter

# The tiers come from the curriculum manifest, read by its own loader (standard library
# only, so nox's interpreter imports it straight from the tree).
sys.path.insert(0, str(LEARN))
from tinytorch_learn.curriculum import load  # noqa: E402

CURRICULUM = load(ROOT)
# Each tier with the tiers it stands on, lowest first.
TIER_DEPENDENCIES = {
    t.name: [lower.name for lower in CURRICULUM.tiers_up_to(t.name)[:-1]] for t in CURRICULUM.tiers
}
TIERS = [tier for tier in TIER_DEPENDENCIES if (PACKAGES / f"tinytorch-{tier}").is_dir()]


def tier_path(tier: str) -> str:
    return str(PACKAGES / f"tinytorch-{tier}")


def install_tier(session: nox.Session, tier: str, editable: bool = False) -> None:
    """Install ``tier`` and the tiers below it (from this tree), nothing above."""
    paths = [tier_path(t) for t in [*TIER_DEPENDENCIES[tier], tier]]
    if editable:
        paths = [arg for path in paths for arg in ("-e", path)]
    session.install(*paths)


@nox.session
@nox.parametrize("tier", TIERS)
def tests(session: nox.Session, tier: str) -> None:
    """One tier's tests, against an installed (not editable) copy of the tier."""
    install_tier(session, tier)
    # matplotlib: the tests of the optional pictures (never a dependency of a tier)
    session.install("pytest>=8", "hypothesis>=6", "matplotlib")
    session.chdir(tier_path(tier))
    session.run("pytest", "tests", "-q", "-p", "no:cacheprovider", *session.posargs)


@nox.session
@nox.parametrize("tier", TIERS)
def hypothesis(session: nox.Session, tier: str) -> None:
    """A tier's op properties (tests/test_op_properties.py) under hypothesis's ``thorough``
    profile: 400 examples per property instead of the default sessions' 12."""
    install_tier(session, tier)
    session.install("pytest>=8", "hypothesis>=6")
    session.chdir(tier_path(tier))
    session.run(
        "pytest", "tests/test_op_properties.py", "-q", "-p", "no:cacheprovider", *session.posargs,
        env={"HYPOTHESIS_PROFILE": "thorough"},
    )  # fmt: skip


@nox.session
def tooling(session: nox.Session) -> None:
    """Tests of the repository's own tooling (layering contracts, course tools)."""
    install_tier(session, "foundation", editable=True)
    session.install("-e", f"{LEARN}[learner]")  # the manifest's loader, the tinytorch command
    session.install("pytest>=8", "pytest-xdist>=3.5", "hypothesis>=6", "import-linter>=2.1")
    session.install(*GRADER_TOOLS, "nbclient>=0.10", "ipykernel>=6")  # + a bundle's lesson
    session.install(*tier_requirements())  # what every tier's graded checks import
    # The leaderboard's page, read with an HTML parser and driven in Debian's chromium
    # (playwright's own browsers are never downloaded).
    session.install(*LEADERBOARD_TOOLS, "beautifulsoup4>=4.12", "playwright>=1.40")
    session.run(
        "pytest",
        "tests",
        "-q",
        "-p",
        "no:cacheprovider",
        "--ignore=tests/integration",
        "--ignore=tests/milestones",
        "--ignore=tests/site",  # run by the docs session, on the site it builds
        # One worker per core, a test file per worker at a time: most of these tests wait on
        # nox, pip and sandboxed graders in subprocesses, and a file's fixtures (a built set
        # of bundles, a generated tree) are made once, by the worker that runs the file.
        "--numprocesses=auto",
        "--dist=loadfile",
        *session.posargs,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, import-linter's curriculum-order and tier contracts, the forward-vocabulary
    check and the curriculum manifest against the tree."""
    session.install("ruff>=0.6", "import-linter>=2.1")
    for tier in TIERS:
        session.install("--no-deps", "-e", tier_path(tier))
    session.install("numpy", "tqdm")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")
    session.install("tomli; python_version < '3.11'", str(LEARN))  # the curriculum manifest
    session.run("python", str(ROOT / "tools" / "vocabulary.py"))  # forward-dependency check
    session.run("python", str(ROOT / "tools" / "manifest.py"))  # curriculum.toml vs the tree


@nox.session
def build(session: nox.Session) -> None:
    """Wheel and sdist of each tier into dist/ (hatchling backend)."""
    session.install("build")
    for tier in TIERS:
        session.run("python", "-m", "build", "--outdir", str(ROOT / "dist"), tier_path(tier))


# PyTorch for ``nox -s bench -- --compare-torch`` only (never a tier dependency): the CPU
# build that pip finds on this machine's disk (uv would fetch a multi-GB CUDA build instead).
TORCH = "torch==2.13.0"


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: ``nox -s bench -- foundation`` (default: every tier, then ``torch``).

    ``nox -s bench -- torch``: tinytorch beside PyTorch CPU, one thread each, every row
    with its twin (benchmarks/bench_torch.py; writes a JSON record to build/bench/).
    ``nox -s bench -- --compare-torch``: the same with PyTorch installed in the bench venv
    (``torch`` alone runs only the tinytorch column when PyTorch is absent; ``--quick``
    takes fewer rounds).
    ``nox -s bench -- m3 [--data-dir DIR]``: Milestone 3 beside its PyTorch twin
    (benchmarks/bench_m3_twin.py; PyTorch's side runs when torch is installed in the venv).
    ``nox -s bench -- grading``: the grader on a tier and on a batch of 20 submissions
    (in an environment without any tier: the grader's sandbox refuses one).
    """
    if session.posargs[:1] == ["m3"]:
        install_tier(session, "foundation")
        session.install("tqdm")
        twin = ROOT / "benchmarks" / "bench_m3_twin.py"
        session.run("python", str(twin), *session.posargs[1:])
        return
    if session.posargs[:1] == ["grading"]:
        session.install(*tier_requirements(), *GRADER_TOOLS, *COURSE_TOOLS)
        grading = ROOT / "benchmarks" / "bench_grading.py"
        session.run("python", str(grading), env={"PYTHONPATH": COURSE_PATH})
        return
    compare_torch = "--compare-torch" in session.posargs
    options = [arg for arg in session.posargs if arg.startswith("-") and arg != "--compare-torch"]
    names = [arg for arg in session.posargs if not arg.startswith("-")]
    names = names or (["torch"] if compare_torch else [*TIERS, "torch"])
    tiers = [name for name in names if name != "torch"]
    install_tier(session, TIERS[-1] if "torch" in names else max(tiers, key=TIERS.index))
    session.install("tqdm", "threadpoolctl")
    if compare_torch:
        session.install("pip")  # pip, not uv: it reads the machine's pip configuration
        session.run("python", "-m", "pip", "install", "--quiet", TORCH)
    for name in names:  # options (e.g. --quick) are bench_torch.py's
        extra = options if name == "torch" else []
        session.run("python", str(ROOT / "benchmarks" / f"bench_{name}.py"), *extra)


@nox.session
def milestone(session: nox.Session) -> None:
    """The historical milestones: ``nox -s milestone [-- 3 | --list | 3 --data-dir DIR]``."""
    install_tier(session, TIERS[-1])  # the highest tier brings every tier below it
    session.install("matplotlib", "tqdm", str(LEARN))  # tinytorch-learn: the milestone list
    session.run("python", str(ROOT / "milestones" / "run.py"), *session.posargs)


@nox.session(name="milestone-tests")
def milestone_tests(session: nox.Session) -> None:
    """Tests of the milestone scripts' reporting (tests/milestones): no milestone trains here."""
    install_tier(session, TIERS[-1])
    session.install("matplotlib", "tqdm", "pytest>=8", str(LEARN))
    session.run(
        "pytest", str(ROOT / "tests" / "milestones"), "-q", "-p", "no:cacheprovider",
        *session.posargs,
    )  # fmt: skip


COURSES = ROOT / "courses"
# The course tooling and the curriculum manifest's loader it reads points from (both
# standard library only, so they run from the tree without being installed).
COURSE_PATH = os.pathsep.join([str(COURSES), str(LEARN)])


def run_coursetool(session: nox.Session, tool: str, *args: str) -> None:
    """``python -m coursetools.<tool> ARGS`` with the course tooling importable."""
    session.run("python", "-m", f"coursetools.{tool}", *args, env={"PYTHONPATH": COURSE_PATH})


@nox.session
def student(session: nox.Session) -> None:
    """Student trees into build/student/<tier> (``-- foundation``; default every tier).

    An old tree holding a learner's commits or changes is never replaced silently: the
    run refuses, unless ``-- --backup`` (the old tree is kept beside) or ``-- --force``.

    Each tree is checked before it replaces the old one: it compiles, imports, and no
    solution line leaks into it (the leak check runs as part of the generation).
    """
    flags = [arg for arg in session.posargs if arg.startswith("--")]  # --backup, --force
    tiers = [arg for arg in session.posargs if not arg.startswith("--")] or TIERS
    install_tier(session, max(tiers, key=TIERS.index))  # what the generated trees import
    session.install("tomli; python_version < '3.11'")
    for tier in tiers:
        run_coursetool(session, "student", tier, *flags)


@nox.session
def grade(session: nox.Session) -> None:
    """Grade a tree: ``nox -s grade -- build/student/foundation [--key FILE] [--json FILE]``.

    The learner's code runs only in the grader's sandbox (bubblewrap when run as root);
    the environment holds the tiers' third-party dependencies, never a tier.
    """
    if not session.posargs:
        session.error("usage: nox -s grade -- TREE [--key FILE] [--json FILE]")
    session.install(*tier_requirements(), *GRADER_TOOLS, *COURSE_TOOLS)
    run_coursetool(session, "grade", *session.posargs)


@nox.session
def coverage(session: nox.Session) -> None:
    """Solution coverage: a stub in place of any one solution block fails a test of its module
    and changes a graded check of its module, and no unmarked test passes on the untouched
    tree (``-- foundation`` for one tier)."""
    tiers = session.posargs or TIERS
    session.install(*tier_requirements(), "pytest>=8", "hypothesis>=6", *GRADER_TOOLS)
    session.install(*COURSE_TOOLS)
    for tier in tiers:
        run_coursetool(session, "coverage", tier)
        run_coursetool(session, "coverage", tier, "--checks")
        run_coursetool(session, "coverage", tier, "--ungraded")  # stubs earn nothing


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site into docs/_build/html: Sphinx + MyST, offline, warnings are
    errors; then its pages in headless Chromium (tests/site)."""
    install_tier(session, TIERS[-1])  # the API reference documents every tier of the tree
    session.install(
        "hypothesis>=6",  # what tinytorch.testing_strategies' API page imports
        "pytest>=8",  # and tinytorch.testing_fixtures'
        "sphinx>=7.2",
        "myst-parser>=3",
        "pydata-sphinx-theme>=0.15",
        "sphinx-design>=0.5",
        "tomli; python_version < '3.11'",
        str(LEARN),  # the curriculum manifest: navigation order, tier pages
    )
    source, out = ROOT / "docs", ROOT / "docs" / "_build" / "html"
    session.run("sphinx-build", "-W", "--keep-going", "-q", "-b", "html", str(source), str(out))
    # The built pages in Debian's chromium: navigation in curriculum order, offline.
    session.install("pytest>=8", "playwright>=1.40")
    session.run(
        "pytest", str(ROOT / "tests" / "site"), "-q", "-p", "no:cacheprovider",
        *session.posargs, env={"TINYTORCH_DOCS_HTML": str(out)},
    )  # fmt: skip
    session.log(f"open {out / 'index.html'} (screenshots in {out.parent / 'screenshots'})")


@nox.session
@nox.parametrize("tier", TIERS)
def lessons(session: nox.Session, tier: str) -> None:
    """A tier's lessons run top to bottom in a fresh Jupyter kernel (``-- 1 5`` for some)."""
    if not any((PACKAGES / f"tinytorch-{tier}" / "lessons").glob("[0-9][0-9]_*.py")):
        session.skip(f"tinytorch-{tier} has no lessons yet")
    install_tier(session, tier)  # like `tests`: the tier and the tiers below it, nothing above
    session.install(
        "jupytext>=1.16",
        "nbclient>=0.10",
        "ipykernel>=6",
        "pytest>=8",
        "hypothesis>=6",
        "tomli; python_version < '3.11'",
    )
    session.install(str(LEARN))  # the lessons' test cell (run_tests)
    tools = ROOT / "tools" / "lessons.py"
    session.run("python", str(tools), "--tier", tier, "--check", "--execute", *session.posargs)


@nox.session
def integration(session: nox.Session) -> None:
    """Cross-tier tests (tests/integration) against wheels, never editable installs.

    Builds the wheel of every tier into a temporary folder, installs the highest tier from
    its wheel with ``--find-links`` to that folder (the tiers below arrive as its declared
    dependencies, as a user would get them), and runs the tests; tests that need a fresh
    environment of their own find the wheels through ``TINYTORCH_WHEELS``.
    """
    import shutil

    wheels = Path(session.create_tmp()) / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    if shutil.which("uv"):
        build = ["uv", "build", "--wheel", "--out-dir", str(wheels)]
    else:
        session.install("build")
        build = ["python", "-m", "build", "--wheel", "--outdir", str(wheels)]
    for tier in TIERS:
        session.run(*build, tier_path(tier), external=True)
    (top_wheel,) = wheels.glob(f"tinytorch_{TIERS[-1]}-*.whl")
    session.install("--find-links", str(wheels), str(top_wheel))
    session.install("pytest>=8")
    session.run(
        "pytest",
        str(ROOT / "tests" / "integration"),
        "-q",
        "-p",
        "no:cacheprovider",
        *session.posargs,
        env={"TINYTORCH_WHEELS": str(wheels)},
    )


# ---------------------------------------------------------------------------------------
# Courses: bundles, debug catalogs, releases, batch grading, tox (courses/coursetools).
# These sessions install the tiers' third-party dependencies but never the tiers: the
# tools read each tier from packages/ and put exactly the sources they mean on PYTHONPATH.

COURSE_TOOLS = ["packaging>=23", "tomli; python_version < '3.11'"]
GRADER_TOOLS = ["psutil>=5.9"]  # the grader's process control (coursetools.sandbox)
LEADERBOARD_TOOLS = ["jinja2>=3.1"]  # the leaderboard page, autoescaped


def tier_requirements() -> list[str]:
    """The third-party dependencies every tier declares (numpy, tqdm, ...), not the tiers."""
    found = set()
    for tier in TIERS:
        pyproject = nox.project.load_toml(PACKAGES / f"tinytorch-{tier}" / "pyproject.toml")
        found |= {d for d in pyproject["project"]["dependencies"] if not d.startswith("tinytorch")}
    return sorted(found)


@nox.session
def courses(session: nox.Session) -> None:
    """Check course files against the tree: ``nox -s courses [-- courses/NAME.toml ...]``.

    Also against courses/schema.json, the format as editors see it, so the two agree.
    """
    session.install(*COURSE_TOOLS, "jsonschema>=4")
    run_coursetool(session, "courses", "--schema", *session.posargs)


@nox.session
def bundle(session: nox.Session) -> None:
    """Course bundles: ``nox -s bundle -- courses/NAME.toml [...] [--out DIR]`` -> dist/courses.

    Default: every course file. Reproducible: set SOURCE_DATE_EPOCH to date the entries
    and wheels (default 2025-01-01).
    """
    import shutil

    session.install(*tier_requirements(), "pytest>=8", "hypothesis>=6", "jupytext>=1.16")
    session.install(*COURSE_TOOLS, *GRADER_TOOLS, *([] if shutil.which("uv") else ["build"]))
    run_coursetool(session, "bundle", *session.posargs)


@nox.session
def debug(session: nox.Session) -> None:
    """The debug-mode bug catalogs: ``nox -s debug [-- TIER ...]`` (default: every catalog).

    The shipped tests must pass on the clean solution and fail with each bug applied;
    writes the instructor's catalog page to build/debug/catalog.md.
    """
    session.install(*tier_requirements(), "pytest>=8", "hypothesis>=6", *COURSE_TOOLS)
    markdown = str(ROOT / "build" / "debug" / "catalog.md")
    run_coursetool(session, "debug", "check", *session.posargs, "--markdown", markdown)


@nox.session
def release(session: nox.Session) -> None:
    """Bump a tier: ``nox -s release -- TIER major|minor|patch [--apply] [--date YYYY-MM-DD]``.

    A dry run unless --apply; never commits or tags, and prints the tag to create.
    """
    session.install(*COURSE_TOOLS)
    run_coursetool(session, "release", *session.posargs)


@nox.session
def leaderboard(session: nox.Session) -> None:
    """A folder of capstone submissions as one static page: ``-- DIR [--verify] [--out FILE]``.

    ``--verify`` re-measures the models submissions carry in the grader's sandbox (run as
    root with bubblewrap); default page build/leaderboard/index.html. Like the grader's,
    this environment holds no tier: the tiers' sources come from this tree.
    """
    if not session.posargs:
        session.error("usage: nox -s leaderboard -- DIR [--verify] [--out FILE] [--title TEXT]")
    session.install(*tier_requirements(), *GRADER_TOOLS, *COURSE_TOOLS, *LEADERBOARD_TOOLS)
    sources = [str(PACKAGES / f"tinytorch-{tier}" / "src") for tier in TIERS]
    session.run(
        "python",
        "-m",
        "coursetools.leaderboard",
        *session.posargs,
        env={"PYTHONPATH": os.pathsep.join([COURSE_PATH, *sources])},
    )


@nox.session(name="grade-batch")
def grade_batch(session: nox.Session) -> None:
    """Grade a folder of submissions: ``nox -s grade-batch -- DIR [--key FILE] [--out DIR]``.

    Trees, bundles or zips of them, checked as data first; each tree graded in a sandbox
    (``--jobs`` at once, default one per core) into build/grades/gradebook.csv and .json.
    """
    if not session.posargs:
        session.error("usage: nox -s grade-batch -- DIR [--key FILE] [--out DIR] [--jobs N]")
    session.install(*tier_requirements(), *GRADER_TOOLS, *COURSE_TOOLS)
    run_coursetool(session, "gradebook", *session.posargs)


@nox.session
def tox(session: nox.Session) -> None:
    """One tier under tox, its lower tiers from pre-built wheels: ``nox -s tox -- arch``.

    ``-- TIER [--wheels DIR] [pytest args]``. Without --wheels, the lower tiers' wheels are
    built from this tree into a temporary folder with a constraints.txt pinning their
    versions (a course bundle's wheels/ folder works the same way). tox runs the tier's
    ``[tool.tox]`` environment ``wheels`` with its work folder under build/tox.
    """
    import shutil

    args = list(session.posargs) or ["arch"]
    tier, rest = args[0], args[1:]
    if tier not in TIERS:
        session.error(f"unknown tier {tier!r}; tiers: {', '.join(TIERS)}")
    wheels = None
    if "--wheels" in rest:
        at = rest.index("--wheels")
        wheels = Path(rest[at + 1]).resolve()
        rest = rest[:at] + rest[at + 2 :]
    session.install("tox>=4.21")
    if wheels is None:
        wheels = Path(session.create_tmp()).resolve() / "tox-wheels"
        shutil.rmtree(wheels, ignore_errors=True)
        wheels.mkdir(parents=True)
        if shutil.which("uv"):
            build = ["uv", "build", "--quiet", "--wheel", "--out-dir", str(wheels)]
        else:
            session.install("build")
            build = ["python", "-m", "build", "--wheel", "--outdir", str(wheels)]
        pins = []
        for lower in TIER_DEPENDENCIES[tier]:
            session.run(*build, tier_path(lower), external=True)
            version = nox.project.load_toml(PACKAGES / f"tinytorch-{lower}" / "pyproject.toml")
            pins.append(f"tinytorch-{lower}=={version['project']['version']}\n")
        (wheels / "constraints.txt").write_text("".join(pins), encoding="utf-8")
    work = ROOT / "build" / "tox" / tier
    session.run(
        "tox",
        "-c",
        str(PACKAGES / f"tinytorch-{tier}" / "pyproject.toml"),
        "-e",
        "wheels",
        "--recreate",  # same versions, maybe new bytes: never trust an old environment
        "--workdir",
        str(work),
        *(["--", *rest] if rest else []),
        env={"TINYTORCH_WHEELS": str(wheels)},
    )
