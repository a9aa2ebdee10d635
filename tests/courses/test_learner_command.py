"""The learner's ``tinytorch`` command on a generated foundation student tree.

One tree is generated per session; each stage of progress is a copy of the previous stage
with more solution files dropped in (a learner who solved those modules), so the cached
test results of earlier modules carry over, as they do for a learner. The tree's code is
what the command tests: ``PYTHONPATH`` puts its ``src`` ahead of the installed tiers.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from coursetools import shipping
from coursetools.bundle import lesson_notebook
from coursetools.coverage import unmarked_passes
from coursetools.student import GenerationError, generate_student_tree
from coursetools.tiers import PACKAGES_DIR, Tier

pytest.importorskip("rich")
from tinytorch_learn import cli, progress, workspace

SOLUTION = PACKAGES_DIR / "tinytorch-foundation"
#: The files a learner writes for each module, as the manifest lists them.
STAGES = {
    "untouched": [],
    "01 solved": [1],
    "01-04 solved": [2, 3, 4],
    "all solved": [5, 6, 7],
}


@pytest.fixture(scope="session")
def untouched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A foundation student tree as `nox -s student` makes it, with everything it ships."""
    tier = Tier.load(SOLUTION)
    out = tmp_path_factory.mktemp("student")
    return generate_student_tree(SOLUTION, out, extra_files=shipping.tree_extras(tier))


@pytest.fixture(scope="session")
def stages(untouched: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Stage name -> a copy of the tree at that stage (each built on the one before)."""
    trees, previous = {}, untouched
    curriculum = workspace.find(untouched).curriculum
    for name, modules in STAGES.items():
        tree = tmp_path_factory.mktemp(name.replace(" ", "-")) / "foundation"
        shutil.copytree(previous, tree, symlinks=True)
        for number in modules:
            for source in curriculum.module(number).sources:
                shutil.copyfile(SOLUTION / source, tree / source)
        trees[name] = previous = tree
    return trees


def tinytorch(tree: Path, *args: str, capsys, monkeypatch) -> tuple[int, str, str]:
    """Run the command in ``tree`` (its own src first on the path): status, stdout, stderr."""
    monkeypatch.chdir(tree)
    monkeypatch.setenv("PYTHONPATH", str(tree / "src"))
    capsys.readouterr()
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def states_and_next(tree: Path) -> tuple[dict[str, str], str]:
    found = workspace.find(tree)
    states = progress.module_states(found)
    return {s.module.slug: s.state for s in states}, progress.next_step(found, states)


# ----------------------------------------------------------------------------- status


def test_an_untouched_tree_is_not_started_and_points_at_the_first_function(
    stages, capsys, monkeypatch
):
    tree = stages["untouched"]
    code, out, _ = tinytorch(tree, "status", capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0 and "01 Tensor" in out and "07 Training" in out
    assert "locked: needs 01, 02, 03, 04, 05, 06, 07" in out
    monkeypatch.setenv("PYTHONPATH", str(tree / "src"))
    states, step = states_and_next(tree)
    assert set(states.values()) == {"not started"}
    line = next(
        n
        for n, text in enumerate(
            (tree / "src/tinytorch/core/tensor.py").read_text().splitlines(), 1
        )
        if "implement Tensor.__init__" in text
    )
    assert step == (
        "Start Module 01 Tensor: read lessons/01_tensor.py (or `tinytorch lab 01`), write "
        f"Tensor.__init__ in src/tinytorch/core/tensor.py:{line}, then run `tinytorch test 01`."
    )


def test_with_module_01_solved_the_next_step_is_module_02(stages, capsys, monkeypatch):
    tree = stages["01 solved"]
    code, out, _ = tinytorch(tree, "status", capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0 and re.search(r"01 Tensor\s*│ complete\s*│ (\d+)/\1 passing", out)
    states, step = states_and_next(tree)
    assert states["01_tensor"] == "complete"
    assert [s for n, s in states.items() if n != "01_tensor"] == ["not started"] * 6
    assert step.startswith("Start Module 02 Activations: read lessons/02_activations.py")
    assert "write relu in src/tinytorch/nn/activations.py:" in step


def test_with_modules_01_to_04_solved_milestone_1_still_waits_for_05_to_07(
    stages, capsys, monkeypatch
):
    tree = stages["01-04 solved"]
    code, out, _ = tinytorch(tree, "status", capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0 and "locked: needs 05, 06, 07" in out
    states, step = states_and_next(tree)
    assert [states[f"0{n}_{s}"] for n, s in ((1, "tensor"), (4, "losses"))] == ["complete"] * 2
    assert states["05_autograd"] == "not started"
    assert step.startswith("Start Module 05 Autograd: read lessons/05_autograd.py")

    code, out, err = tinytorch(tree, "milestone", "1", capsys=capsys, monkeypatch=monkeypatch)
    assert code == 1 and "Traceback" not in out + err
    assert "05 Autograd: read lessons/05_autograd.py, then `tinytorch test 05`" in out
    assert "04 Losses" not in out


@pytest.mark.slow
def test_with_every_module_solved_milestone_1_runs_and_passes(stages, capsys, monkeypatch):
    tree = stages["all solved"]
    states, step = states_and_next(tree)
    assert set(states.values()) == {"complete"}
    assert step == "Run Milestone 1 (1958 Perceptron): `tinytorch milestone 1`."
    code, out, err = tinytorch(tree, "milestone", "1", capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0, out + err
    assert json.loads((tree / "milestones/results/m01_1958_perceptron.json").read_text())["passed"]
    assert states_and_next(tree)[1].startswith("Run Milestone 2 (1969 XOR)")


# ----------------------------------------------------------------------------- test, grade


def test_test_runs_one_module_and_shows_its_first_failure_and_lesson(stages, capsys, monkeypatch):
    code, out, _ = tinytorch(
        stages["01 solved"], "test", "activations", capsys=capsys, monkeypatch=monkeypatch
    )
    assert code == 1
    assert out.startswith("Module 02 Activations: ") and "tests pass" in out
    assert "First failure: tests/test_02_activations.py::" in out
    assert "implement relu" in out and "read lessons/02_activations.py" in out
    assert "test_03" not in out and "Module 03" not in out  # no flood of later modules

    code, out, _ = tinytorch(
        stages["01 solved"], "test", "01", capsys=capsys, monkeypatch=monkeypatch
    )
    assert code == 0 and "all pass" in out


def test_an_untouched_tree_grades_to_exactly_zero(stages, capsys, monkeypatch):
    code, out, _ = tinytorch(stages["untouched"], "grade", capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0 and "0.0 / 400" in out and "estimate" in out
    monkeypatch.setenv("PYTHONPATH", str(stages["untouched"] / "src"))
    states = progress.module_states(workspace.find(stages["untouched"]))
    assert sum(s.points for s in states) == 0


def test_grade_uses_the_manifests_points(stages, capsys, monkeypatch):
    code, out, _ = tinytorch(stages["01 solved"], "grade", capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0 and "60.0 / 60" in out and "60.0 / 400" in out


# ----------------------------------------------------------------------------- lab, doctor


def test_lab_makes_the_lessons_notebook_once_and_never_overwrites_it(
    stages, tmp_path, capsys, monkeypatch
):
    tree = tmp_path / "foundation"
    shutil.copytree(stages["untouched"], tree, symlinks=True)
    code, out, _ = tinytorch(tree, "lab", "01", "--no-open", capsys=capsys, monkeypatch=monkeypatch)
    notebook = tree / "notebooks" / "01_tensor.ipynb"
    assert code == 0 and notebook.is_file() and "notebooks/01_tensor.ipynb" in out
    notebook.write_text(notebook.read_text() + " ")  # the learner's edits
    edited = notebook.read_text()
    tinytorch(tree, "lab", "01", "--no-open", capsys=capsys, monkeypatch=monkeypatch)
    assert notebook.read_text() == edited


def test_doctor_names_what_to_fix(stages, capsys, monkeypatch):
    code, out, _ = tinytorch(stages["untouched"], "doctor", capsys=capsys, monkeypatch=monkeypatch)
    assert "Python 3." in out and "tinytorch-foundation" in out and "pytest" in out
    assert code in (0, 1) and ("All set." in out) == (code == 0)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("test", "99"), "unknown module '99'; choose from 01_tensor, 02_activations"),
        (("test", "convolution"), "unknown module 'convolution'; choose from 01_tensor"),
        (("test", "09"), "belongs to the arch tier, which is not in this tree"),
        (("milestone", "9"), "unknown milestone '9'; choose from 1 (1958 Perceptron)"),
        (
            ("milestone", "4"),
            "needs the arch tier, which this tree does not hold; milestones here: 1, 2, 3",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_choices(stages, capsys, monkeypatch, args, says):
    code, out, err = tinytorch(stages["untouched"], *args, capsys=capsys, monkeypatch=monkeypatch)
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err


def test_outside_any_tree_the_command_says_where_to_run_it(tmp_path, capsys, monkeypatch):
    code, _, err = tinytorch(tmp_path, "status", capsys=capsys, monkeypatch=monkeypatch)
    assert code == 2 and "no curriculum.toml" in err and len(err.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- update


def _git(tree: Path, *args: str) -> str:
    identity = ["-c", "user.name=Learner", "-c", "user.email=learner@example.com"]
    done = subprocess.run(["git", *identity, *args], cwd=tree, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_update_keeps_solved_blocks_and_brings_a_changed_test(
    stages, tmp_path, capsys, monkeypatch
):
    tree = tmp_path / "mine" / "foundation"
    shutil.copytree(stages["untouched"], tree, symlinks=True)
    solved = SOLUTION / "src/tinytorch/core/tensor.py"
    shutil.copyfile(solved, tree / "src/tinytorch/core/tensor.py")
    _git(tree, "add", "-A")
    _git(tree, "commit", "-q", "-m", "Module 01")

    release = tmp_path / "release" / "foundation"  # the next release: one more test
    shutil.copytree(stages["untouched"], release, symlinks=True)
    new_test = "\n\ndef test_added_in_the_new_release():\n    assert True\n"
    test_file = release / "tests/test_02_activations.py"
    test_file.write_text(test_file.read_text() + new_test)

    code, out, err = tinytorch(tree, "update", str(release), capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0, out + err
    assert "merged; your code is kept" in out
    assert (tree / "src/tinytorch/core/tensor.py").read_bytes() == solved.read_bytes()
    assert "test_added_in_the_new_release" in (tree / "tests/test_02_activations.py").read_text()
    assert "Module 01" in _git(tree, "log", "--format=%s")  # the learner's commit stays

    code, out, _ = tinytorch(tree, "update", str(release), capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0 and "already at this release" in out


def test_update_reports_a_conflict_and_resolves_nothing(stages, tmp_path, capsys, monkeypatch):
    tree = tmp_path / "mine" / "foundation"
    shutil.copytree(stages["untouched"], tree, symlinks=True)
    target = tree / "tests/test_01_tensor.py"
    target.write_text("# my notes\n" + target.read_text())
    _git(tree, "commit", "-q", "-am", "notes")
    release = tmp_path / "release" / "foundation"
    shutil.copytree(stages["untouched"], release, symlinks=True)
    changed = release / "tests/test_01_tensor.py"
    changed.write_text("# the release's header\n" + changed.read_text())

    code, out, _ = tinytorch(tree, "update", str(release), capsys=capsys, monkeypatch=monkeypatch)
    assert code == 1 and "tests/test_01_tensor.py" in out and "git merge --abort" in out
    assert "<<<<<<<" in target.read_text()  # marked in the file, for the learner to decide


def test_update_refuses_uncommitted_work(stages, tmp_path, capsys, monkeypatch):
    tree = tmp_path / "mine" / "foundation"
    shutil.copytree(stages["untouched"], tree, symlinks=True)
    (tree / "src/tinytorch/core/tensor.py").write_text("# half written\n")
    code, _, err = tinytorch(
        tree, "update", str(stages["untouched"]), capsys=capsys, monkeypatch=monkeypatch
    )
    assert code == 2 and "commit your work first" in err
    assert (tree / "src/tinytorch/core/tensor.py").read_text() == "# half written\n"


def test_a_tree_without_history_merges_file_by_file_against_its_first_release(
    stages, tmp_path, capsys, monkeypatch
):
    """A bundle's tree: no .git, so the release it started from is given."""
    started = stages["untouched"]
    tree = tmp_path / "bundle" / "foundation"
    shutil.copytree(started, tree, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    solved = SOLUTION / "src/tinytorch/core/tensor.py"
    shutil.copyfile(solved, tree / "src/tinytorch/core/tensor.py")
    release = tmp_path / "release" / "foundation"
    shutil.copytree(started, release, symlinks=True)
    test_file = release / "tests/test_02_activations.py"
    test_file.write_text(test_file.read_text() + "\n\ndef test_new():\n    assert True\n")

    code, _, err = tinytorch(tree, "update", str(release), capsys=capsys, monkeypatch=monkeypatch)
    assert code == 2 and "--started-from" in err  # no history: it will not guess

    code, out, err = tinytorch(
        tree, "update", str(release), "--started-from", str(started), capsys=capsys,
        monkeypatch=monkeypatch,
    )  # fmt: skip
    assert code == 0 and "your code is kept" in out, out + err
    assert (tree / "src/tinytorch/core/tensor.py").read_bytes() == solved.read_bytes()
    assert "def test_new" in (tree / "tests/test_02_activations.py").read_text()


# ----------------------------------------------------------------------------- regenerating


def test_regenerating_over_a_learner_commit_refuses_or_backs_up(demo_tier: Path, tmp_path: Path):
    out = tmp_path / "student"
    tree = generate_student_tree(demo_tier, out, lower=[])
    (tree / "notes.md").write_text("mine\n")
    _git(tree, "add", "notes.md")
    _git(tree, "commit", "-q", "-m", "my notes")

    with pytest.raises(GenerationError, match=r"--backup.*--force"):
        generate_student_tree(demo_tier, out, lower=[])
    assert (tree / "notes.md").read_text() == "mine\n"

    generate_student_tree(demo_tier, out, lower=[], existing="backup")
    (backup,) = out.glob(f"{tree.name}.backup-*")
    assert (backup / "notes.md").read_text() == "mine\n"
    assert "my notes" in _git(backup, "log", "--format=%s")
    assert not (tree / "notes.md").exists()


# ----------------------------------------------------------------------------- stubs earn nothing


def test_a_test_that_passes_on_the_stubs_must_be_marked_ungraded(demo_tier: Path):
    tests = demo_tier / "tests" / "test_01_vector.py"
    before = unmarked_passes(demo_tier, lower=[])  # the demo's length check is provided code
    assert before == ["test_01_vector.py::test_add_rejects_different_lengths"]
    provided = "\n\ndef test_the_class_exists():\n    assert Vector is not None\n"
    tests.write_text(tests.read_text() + provided)
    assert unmarked_passes(demo_tier, lower=[]) == [
        *before,
        "test_01_vector.py::test_the_class_exists",
    ]

    marked = provided.replace("def ", "@pytest.mark.ungraded\ndef ")
    tests.write_text(tests.read_text().replace(provided, marked))
    assert unmarked_passes(demo_tier, lower=[]) == before


# ----------------------------------------------------------------------------- lessons


def test_a_bundles_lesson_notebook_finds_and_runs_its_modules_tests(
    untouched: Path, tmp_path: Path
):
    """Laid out as a bundle: the tree in foundation/, the notebook in lessons/foundation/."""
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    root = tmp_path / "bundle"
    shutil.copytree(untouched, root / "foundation", symlinks=True)
    shutil.copyfile(shipping.MANIFEST, root / "curriculum.toml")
    text = (untouched / "lessons/01_tensor.py").read_text()
    notebook = nbformat.reads(lesson_notebook(text, "01_tensor.py").decode(), as_version=4)
    # up to the test cell: the Reflect cells after it are the learner's to write
    last = next(i for i, c in enumerate(notebook.cells) if 'run_tests("01")' in c.source)
    notebook.cells = notebook.cells[: last + 1]
    folder = root / "lessons" / "foundation"
    folder.mkdir(parents=True)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    client.execute()  # the kernel's tinytorch is the installed solution: the tests pass
    output = "".join(o.get("text", "") for o in notebook.cells[last].outputs)
    assert "passed" in output and "No tests" not in output
