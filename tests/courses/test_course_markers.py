"""Solution and hidden-test markers: what counts as a block, what stripping makes of it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from coursetools import markers

HEADER = '"""Module 04 · Losses — how wrong a prediction is."""\n\n'
FILE = Path("losses.py")


def source(body: str) -> str:
    return HEADER + textwrap.dedent(body).lstrip("\n")


def stripped(text: str, lesson: str | None = "lessons/04_losses.py", path: Path = FILE) -> str:
    return markers.strip(markers.parse(path, text), lesson)


def error_of(text: str, path: Path = FILE) -> str:
    with pytest.raises(markers.MarkerError) as caught:
        markers.parse(path, text)
    return str(caught.value)


# --- what a solution block becomes -------------------------------------------------


def test_a_method_body_becomes_a_raise_naming_module_function_and_lesson():
    text = source(
        """
        class MSELoss:
            def forward(self, pred, target):
                \"\"\"Mean of squared differences.\"\"\"
                # a hint that stays
                ### BEGIN SOLUTION
                diff = pred - target
                return (diff * diff).mean()
                ### END SOLUTION
        """
    )
    message = "Module 04 (Losses): implement MSELoss.forward — see lessons/04_losses.py"
    assert stripped(text) == source(
        f"""
        class MSELoss:
            def forward(self, pred, target):
                \"\"\"Mean of squared differences.\"\"\"
                # a hint that stays
                raise NotImplementedError("{message}")
        """
    )


def test_the_raise_keeps_the_indentation_of_the_markers_in_nested_functions():
    text = source(
        """
        def outer(x):
            def inner(y):
                if y:
                    ### BEGIN SOLUTION
                    return y + 1
                    ### END SOLUTION
                return 0
            return inner(x)
        """
    )
    assert stripped(text, lesson=None) == source(
        """
        def outer(x):
            def inner(y):
                if y:
                    raise NotImplementedError("Module 04 (Losses): implement outer.inner")
                return 0
            return inner(x)
        """
    )


def test_tab_indented_blocks_keep_their_tabs():
    text = HEADER + "def f():\n\t### BEGIN SOLUTION\n\treturn 1\n\t### END SOLUTION\n"
    assert stripped(text, lesson=None).endswith(
        'def f():\n\traise NotImplementedError("Module 04 (Losses): implement f")\n'
    )


def test_a_block_outside_any_function_is_named_as_an_exercise():
    text = source(
        """
        ### BEGIN SOLUTION
        ANSWER = 42
        ### END SOLUTION
        """
    )
    assert 'implement this exercise — see lessons/04_losses.py")' in stripped(text)


def test_a_block_of_comments_only_becomes_an_answer_placeholder():
    text = source(
        """
        def f():
            return 1
            ### BEGIN SOLUTION
            # the worked answer, in prose
            ### END SOLUTION
        """
    )
    assert stripped(text).endswith("    return 1\n    # YOUR ANSWER HERE\n")


def test_a_worked_answer_in_a_lesson_markdown_cell_becomes_your_answer_here():
    lesson = textwrap.dedent(
        """\
        # %% [markdown]
        # # Module 04 · Losses — how wrong a prediction is
        #
        # **Reflect.** Why log-sum-exp?
        #
        # ### BEGIN SOLUTION
        # Because exp overflows at large logits.
        # ### END SOLUTION

        # %%
        x = 1
        """
    )
    out = stripped(lesson, path=Path("lessons/04_losses.py"))
    assert "overflows" not in out
    assert "# **Reflect.** Why log-sum-exp?\n#\n# YOUR ANSWER HERE\n\n# %%\nx = 1\n" in out


def test_hidden_tests_disappear_with_their_markers():
    text = textwrap.dedent(
        """\
        def test_visible():
            assert True


        ### BEGIN HIDDEN TESTS
        def test_hidden():
            assert 2 + 2 == 4
        ### END HIDDEN TESTS
        """
    )
    assert (
        stripped(text, path=Path("tests/test_04_losses.py"))
        == "def test_visible():\n    assert True\n\n\n"
    )


def test_hidden_tests_need_no_module_header():
    text = "def test_a():\n    ### BEGIN HIDDEN TESTS\n    assert 1\n    ### END HIDDEN TESTS\n"
    text += "    assert 2\n"
    assert stripped(text, path=Path("tests/test_x.py")) == "def test_a():\n    assert 2\n"


def test_everything_outside_blocks_is_kept_byte_for_byte():
    text = source(
        """
        import math  # comment kept


        def f(x: float) -> float:
            \"\"\"Docstring kept.\"\"\"
            ### BEGIN SOLUTION
            return math.sqrt(x)
            ### END SOLUTION


        CONSTANT = 3  # kept
        """
    )
    out = stripped(text)
    before, after = (
        text.split("    ### BEGIN SOLUTION\n")[0],
        text.split("    ### END SOLUTION\n")[1],
    )
    assert out.startswith(before) and out.endswith(after)


def test_the_parse_reports_each_block_with_location_and_qualname():
    text = source(
        """
        class A:
            def f(self):
                ### BEGIN SOLUTION
                return 1
                ### END SOLUTION
        """
    )
    (block,) = markers.parse(FILE, text).blocks
    assert (block.kind, block.begin, block.end, block.indent, block.qualname) == (
        "SOLUTION",
        5,
        7,
        "        ",
        "A.f",
    )
    assert block.location == "losses.py:5"


# --- markers inside strings are text ----------------------------------------------


def test_marker_text_inside_docstrings_and_strings_is_not_a_marker():
    text = source(
        '''
        def explain():
            """Learners see blocks like:

            ### BEGIN SOLUTION
            """
            return "### END SOLUTION"


        TEMPLATE = """
        ### BEGIN HIDDEN TESTS
        """
        '''
    )
    parsed = markers.parse(FILE, text)
    assert parsed.blocks == ()
    assert markers.strip(parsed) == text


def test_a_real_block_next_to_marker_text_in_a_string_is_still_stripped():
    text = source(
        '''
        def f():
            """Doc mentioning
            ### END SOLUTION
            in passing."""
            ### BEGIN SOLUTION
            return 1
            ### END SOLUTION
        '''
    )
    out = stripped(text, lesson=None)
    assert "return 1" not in out
    assert '    ### END SOLUTION\n    in passing."""\n' in out


# --- line endings and determinism -------------------------------------------------


def test_crlf_files_stay_crlf():
    text = source(
        """
        def f():
            ### BEGIN SOLUTION
            return 1
            ### END SOLUTION


        def g():
            return 2
        """
    ).replace("\n", "\r\n")
    out = stripped(text, lesson=None)
    assert out.count("\r\n") == out.count("\n")
    assert 'raise NotImplementedError("Module 04 (Losses): implement f")\r\n' in out


def test_stripping_is_deterministic():
    text = source(
        """
        def f():
            ### BEGIN SOLUTION
            return 1
            ### END SOLUTION
        """
    )
    assert stripped(text) == stripped(text)


# --- malformed markers are errors with file:line ----------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "def f():\n    ### BEGIN SOLUTION\n    return 1\n",
            "losses.py:4: BEGIN SOLUTION is never closed",
        ),
        (
            "def f():\n    return 1\n    ### END SOLUTION\n",
            "losses.py:5: END SOLUTION without a BEGIN SOLUTION",
        ),
        (
            "def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    ### END SOLUTION\n",
            "losses.py:5: BEGIN SOLUTION inside the SOLUTION block opened at line 4",
        ),
        (
            "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END HIDDEN TESTS\n",
            "losses.py:6: END HIDDEN TESTS closes the SOLUTION block opened at line 4",
        ),
        (
            "def f():\n    if True:\n        ### BEGIN SOLUTION\n        return 1\n"
            "    ### END SOLUTION\n",
            "losses.py:7: END SOLUTION is not indented like the SOLUTION block opened at line 5",
        ),
        (
            "def f():\n    if True:\n        ### BEGIN SOLUTION\n        pass\n    return 1\n"
            "        ### END SOLUTION\n",
            "losses.py:7: line is left of the markers of the block opened at line 5",
        ),
        (
            "def f():\n    return 1  ### BEGIN SOLUTION\n",
            "losses.py:4: marker must be alone on its line",
        ),
        (
            "def f():\n    ##### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n",
            "losses.py:4: malformed marker '##### BEGIN SOLUTION'",
        ),
        (
            "def f():\n    ### begin solution\n    return 1\n    ### end solution\n",
            "losses.py:4: malformed marker '### begin solution'",
        ),
        (
            "def f():\n    ###  BEGIN  SOLUTION\n    return 1\n    ###  END  SOLUTION\n",
            "losses.py:4: malformed marker '###  BEGIN  SOLUTION'",
        ),
        (
            "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTON\n",
            "losses.py:6: malformed marker '### END SOLUTON'",
        ),
        (
            "def f():\n    return 1\n\n\n# ### begin hidden test\n",
            "losses.py:7: malformed marker '# ### begin hidden test'",
        ),
    ],
    ids=[
        "begin-without-end",
        "stray-end",
        "nested-begin",
        "wrong-kind-end",
        "end-indent",
        "body-left",
        "shared-line",
        "misspelt",
        "lower-case",
        "two-spaces",
        "typo",
        "near-miss-hidden-tests",
    ],
)
def test_malformed_markers_are_reported_with_file_and_line(body, expected):
    assert error_of(HEADER + body) == expected


def test_a_code_block_needs_a_module_header_to_name_it_by():
    text = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    assert "helpers.py:2: solution block in a file with no 'Module NN · Name" in error_of(
        text, Path("helpers.py")
    )


def test_marker_errors_come_before_the_syntax_errors_they_cause():
    text = HEADER + "def f():\n    ### END SOLUTION\n"  # f has no body: not valid Python either
    assert error_of(text) == "losses.py:4: END SOLUTION without a BEGIN SOLUTION"


def test_a_file_that_is_not_python_is_an_error_with_its_line():
    assert error_of(HEADER + "def f(:\n    pass\n").startswith("losses.py:3: not valid Python")


@pytest.mark.parametrize(
    ("comment", "looks"),
    [
        ("### BEGIN SOLUTION", True),
        ("# ### END HIDDEN TESTS", True),
        ("#begin_solution", True),
        ("### BEGIN-SOLUTION", True),
        ("### BEGN SOLUTON", True),
        ("# begin with the solution of the previous exercise", False),
        ("# Begins solving the system", False),
        ("# the end: solution found", False),
        ("# END", False),
    ],
)
def test_a_comment_that_reads_like_a_marker_is_treated_as_one(comment: str, looks: bool):
    assert markers.looks_like_marker(comment) is looks
