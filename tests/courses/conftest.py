"""Fixtures for the course-tooling tests: a small synthetic tier built in ``tmp_path``.

``demo_tier`` is ``packages/tinytorch-demo`` with three modules, laid out like a real
tier: solution blocks in ``src`` (at module level, in methods, in a nested function),
a progressive-disclosure hook in ``__init__`` (Module 03 patches ``Vector`` at import
and must not break the import while it is a stub), a test that skips while Module 03
is dormant, a hidden test, and a lesson with a code exercise and a worked answer in
a Markdown cell. ``DEMO_CHECKS`` are its graded checks (``courses/checks/<tier>/`` for a
real tier).

``graded_demo`` is built once per session: the demo tier, its checks, its answer key and
its untouched student tree, which tests copy before they change anything.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

COURSES = Path(__file__).resolve().parents[2] / "courses"
if str(COURSES) not in sys.path:
    sys.path.insert(0, str(COURSES))

DEMO_FILES = {
    "pyproject.toml": """
        [build-system]
        requires = ["hatchling>=1.25"]
        build-backend = "hatchling.build"

        [project]
        name = "tinytorch-demo"
        version = "0.3.1"
        requires-python = ">=3.10"
        dependencies = []

        [project.entry-points."tinytorch.nn"]
        Vector = "tinytorch.demo.vector:Vector"
        """,
    "CHANGELOG.md": """
        # Changelog

        ## 0.3.1
        - Demo tier for the course tooling tests.
        """,
    "src/tinytorch/demo/__init__.py": '''
        """Demo tier: vectors (01), statistics (02), and a boost that switches itself on (03)."""

        from tinytorch.demo.boost import enable_boost
        from tinytorch.demo.stats import mean, variance
        from tinytorch.demo.vector import Vector

        try:
            enable_boost()
        except NotImplementedError:
            pass  # Module 03 not written yet: Vector.boosted stays dormant

        __all__ = ["Vector", "enable_boost", "mean", "variance"]
        ''',
    "src/tinytorch/demo/vector.py": '''
        """Module 01 · Vector — a list of numbers that knows its length.

        Connection map
            Prerequisites : Python
            Unlocks       : 02 Stats · 03 Boost
        """


        class Vector:
            """A list of floats.

            The markers below only show the syntax; they are text, not markers:
            ### BEGIN SOLUTION
            ### END SOLUTION
            """

            def __init__(self, values):
                self.values = [float(v) for v in values]

            def boosted(self):
                """Dormant until Module 03 switches it on."""
                raise RuntimeError("boosted() activates in Module 03")

            def norm(self) -> float:
                """Euclidean length: sqrt of the sum of squares."""
                ### BEGIN SOLUTION
                total = sum(v * v for v in self.values)
                return total ** 0.5
                ### END SOLUTION

            def add(self, other: "Vector") -> "Vector":
                """Element-wise sum of two vectors of the same length."""
                if len(self.values) != len(other.values):
                    raise ValueError("add: lengths differ")
                ### BEGIN SOLUTION
                return Vector(a + b for a, b in zip(self.values, other.values))
                ### END SOLUTION
        ''',
    "src/tinytorch/demo/stats.py": '''
        """Module 02 · Stats — mean and variance of a vector.

        Connection map
            Prerequisites : 01 Vector
            Unlocks       : 03 Boost
        """

        from tinytorch.demo.vector import Vector


        def mean(x: Vector) -> float:
            """Arithmetic mean of the values."""
            ### BEGIN SOLUTION
            return sum(x.values) / len(x.values)
            ### END SOLUTION


        def variance(x: Vector) -> float:
            """Population variance: the mean squared deviation from the mean."""

            def squared_deviations(values, centre):
                ### BEGIN SOLUTION
                return [(value - centre) ** 2 for value in values]
                ### END SOLUTION

            centre = sum(x.values) / len(x.values)
            deviations = squared_deviations(x.values, centre)
            return sum(deviations) / len(deviations)
        ''',
    "src/tinytorch/demo/boost.py": '''
        """Module 03 · Boost — switch on a dormant method at import time.

        Connection map
            Prerequisites : 01 Vector
        """

        from tinytorch.demo.vector import Vector


        def enable_boost() -> None:
            """Give every Vector a working ``boosted()`` (twice each value)."""
            ### BEGIN SOLUTION
            Vector.boosted = lambda self: Vector(2 * value for value in self.values)
            ### END SOLUTION
        ''',
    "tests/test_01_vector.py": """
        import pytest

        from tinytorch.demo import Vector


        def test_norm_of_3_4_is_5():
            assert Vector([3, 4]).norm() == 5.0


        def test_add_is_elementwise():
            assert Vector([1, 2]).add(Vector([10, 20])).values == [11.0, 22.0]


        def test_add_rejects_different_lengths():
            with pytest.raises(ValueError):
                Vector([1]).add(Vector([1, 2]))


        def test_boosted_vectors_are_twice_as_long():
            try:
                boosted = Vector([3, 4]).boosted()
            except RuntimeError:
                pytest.skip("boosted() activates in Module 03")
            assert boosted.norm() == 10.0
        """,
    "tests/test_02_stats.py": """
        from tinytorch.demo import Vector, mean, variance


        def test_mean():
            assert mean(Vector([1, 2, 3])) == 2.0


        def test_variance():
            assert variance(Vector([1, 3])) == 1.0


        ### BEGIN HIDDEN TESTS
        def test_variance_of_a_constant_is_zero():
            assert variance(Vector([7, 7, 7])) == 0.0
        ### END HIDDEN TESTS
        """,
    "tests/test_03_boost.py": """
        from tinytorch.demo import Vector


        def test_boost_is_on_after_import():
            assert Vector([1, 2]).boosted().values == [2.0, 4.0]
        """,
    "lessons/01_vector.py": """
        # ---
        # jupyter:
        #   jupytext:
        #     formats: py:percent
        # ---

        # %% [markdown]
        # # Module 01 · Vector — a list of numbers that knows its length
        #
        # **Reflect.** Why does `norm()` square before it sums?
        #
        # ### BEGIN SOLUTION
        # Squares are never negative, so opposite components cannot cancel each other out.
        # ### END SOLUTION

        # %%
        from tinytorch.demo import Vector

        def cosine(a: Vector, b: Vector) -> float:
            ### BEGIN SOLUTION
            dot_product = sum(x * y for x, y in zip(a.values, b.values))
            return dot_product / (a.norm() * b.norm())
            ### END SOLUTION
        """,
}


DEMO_CHECKS = {
    "check_01_vector.py": '''
        from tinytorch.demo import Vector


        def check_norm():
            """The length of (3, 4, 12)."""
            return Vector([3.0, 4.0, 12.0]).norm()


        def check_add():
            """An element-wise sum with negative and fractional values."""
            return Vector([1, 2.5]).add(Vector([10, -20])).values
        ''',
    "check_02_stats.py": '''
        from tinytorch.demo import Vector, mean, variance


        def check_mean():
            """The mean of four values."""
            return mean(Vector([1, 2, 3, 10]))


        def check_variance():
            """The population variance of three values."""
            return variance(Vector([1, 3, 7]))
        ''',
    "check_03_boost.py": '''
        from tinytorch.demo import Vector


        def check_boosted():
            """A boosted vector once Module 03 switched boosting on at import."""
            return Vector([1.5, -2]).boosted().values
        ''',
}


def write_tier(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> dedented text) under ``root`` and return ``root``."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def demo_tier(tmp_path: Path) -> Path:
    """A fresh copy of the demo tier at ``tmp_path/packages/tinytorch-demo``."""
    return write_tier(tmp_path / "packages" / "tinytorch-demo", DEMO_FILES)


@dataclass(frozen=True)
class GradedDemo:
    """The demo tier ready to grade: solution, checks, answer key, untouched student tree."""

    tier: Path
    checks: Path
    key: object  # coursetools.answers.TierKey
    student: Path

    def learner(self, where: Path, *solved: str) -> Path:
        """A learner's copy of the student tree at ``where`` with these files solved."""
        tree = Path(shutil.copytree(self.student, where, ignore=shutil.ignore_patterns(".git")))
        for name in solved:
            shutil.copyfile(
                self.tier / "src/tinytorch/demo" / name, tree / "src/tinytorch/demo" / name
            )
        return tree


def isolation() -> str:
    """How the sandbox isolates learner code here (``bwrap`` or ``process``), or why it cannot."""
    from coursetools import sandbox

    try:
        return sandbox.isolation()
    except sandbox.SandboxError as error:
        return str(error)


@pytest.fixture(scope="session")
def bwrap() -> None:
    """Skip unless learner code runs in bubblewrap here (root and bubblewrap: CI has both)."""
    if isolation() != "bwrap":
        pytest.skip(
            f"needs the bubblewrap sandbox (root, bubblewrap installed); here: {isolation()}"
        )


@pytest.fixture(scope="session")
def graded_demo(tmp_path_factory: pytest.TempPathFactory) -> GradedDemo:
    if isolation() not in ("bwrap", "process"):
        pytest.skip(isolation())
    from coursetools import answers
    from coursetools.student import generate_student_tree
    from coursetools.tiers import Tier

    root = tmp_path_factory.mktemp("graded-demo")
    tier = write_tier(root / "packages" / "tinytorch-demo", DEMO_FILES)
    checks = write_tier(root / "checks" / "demo", DEMO_CHECKS)
    key = answers.record(Tier.load(tier), [], checks)
    student = generate_student_tree(tier, root / "student", lower=[])
    return GradedDemo(tier, checks, key, student)


@pytest.fixture
def sandbox_strays():
    """A function listing the strays: live processes of sandbox users no running grader holds.

    Graders running beside the test (the tooling tests run a file per core) hold their
    own user ids, by a lock each; a zombie is already dead, waiting only to be reaped.
    """
    import fcntl
    import os

    import psutil

    from coursetools import sandbox

    def held_by_a_grader(uid: int) -> bool:
        try:
            fd = os.open(sandbox.UID_LOCKS / str(uid), os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # releases the shared lock, if it was taken

    def strays() -> list[psutil.Process]:
        found = []
        for process in psutil.process_iter(["uids", "status"]):
            uids = process.info["uids"]
            if (
                uids
                and sandbox.UID_BASE <= uids.real < sandbox.UID_BASE + 10_000
                and process.info["status"] != psutil.STATUS_ZOMBIE
                and not held_by_a_grader(uids.real)
            ):
                found.append(process)
        return found

    return strays
