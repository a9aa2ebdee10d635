"""pytest plugin the grader loads into each test run (``-p coursetools.pytest_grading``).

It writes one JSON object per line to ``--grading-log`` as things happen, so the
grader, watching from outside, always knows which test is running:

``{"event": "collected", "count": N}``
``{"event": "collect-error", "message": ...}``    a test module that does not import
``{"event": "start", "nodeid": ...}``
``{"event": "result", "nodeid": ..., "outcome": ..., "message": ...}``
``{"event": "wrong-code", "module": ..., "file": ...}``

A skip (or xfail) raised from inside the learner's source counts as a failure: the
grader leaves skipped tests out of the points, and learner code must not choose which.

Before any test runs it checks that every imported module of the learner's
subpackages (``--grading-own``) comes from the learner's source (``--grading-src``),
even if a ``conftest.py`` moved ``sys.path`` around; otherwise it stops the run.
The time limit is not enforced here: a test stuck in a C loop cannot be interrupted
from inside, so the grader kills the whole process instead and resumes after it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

_PHASE_FAILURE = {"setup": "error", "call": "failed", "teardown": "error"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grading", "coursetools grading")
    group.addoption("--grading-log", help="file to append JSON-lines events to")
    group.addoption("--grading-src", help="directory the learner's subpackages must import from")
    group.addoption(
        "--grading-own", default="", help="comma-separated subpackages that belong to the learner"
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("grading_log"):
        config.pluginmanager.register(_Recorder(config), "coursetools-grading-recorder")


class _Recorder:
    def __init__(self, config: pytest.Config):
        self.log = open(config.getoption("grading_log"), "a", encoding="utf-8")
        self.src = Path(config.getoption("grading_src") or ".").resolve()
        self.own = [name for name in config.getoption("grading_own").split(",") if name]
        self.outcomes: dict[str, tuple[str, str]] = {}

    def emit(self, **event: object) -> None:
        self.log.write(json.dumps(event) + "\n")
        self.log.flush()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.emit(event="collect-error", message=_last_line(report.longreprtext))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for name, module in sorted(sys.modules.items()):
            if not any(name == own or name.startswith(own + ".") for own in self.own):
                continue
            location = getattr(module, "__file__", None)
            if location is None or not Path(location).resolve().is_relative_to(self.src):
                self.emit(event="wrong-code", module=name, file=location)
                pytest.exit(f"{name} imports from {location}, not from {self.src}", returncode=3)
        self.emit(event="collected", count=len(session.items))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        if report.skipped and call.excinfo is not None and self._raised_by_learner(call.excinfo):
            report.outcome = "failed"
            report.longrepr = (
                f"skipped from inside {self.src}, which does not count: {call.excinfo.value}"
            )

    def _raised_by_learner(self, excinfo: pytest.ExceptionInfo) -> bool:
        return any(
            Path(str(entry.path)).resolve().is_relative_to(self.src) for entry in excinfo.traceback
        )

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.emit(event="start", nodeid=nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid in self.outcomes and self.outcomes[report.nodeid][0] != "passed":
            return  # the first problem of a test is the one to report
        if report.failed:
            message = getattr(getattr(report.longrepr, "reprcrash", None), "message", None)
            self.outcomes[report.nodeid] = (
                _PHASE_FAILURE[report.when],
                message or _last_line(report.longreprtext),
            )
        elif report.skipped:
            self.outcomes[report.nodeid] = ("skipped", _last_line(str(report.longrepr)))
        else:
            self.outcomes.setdefault(report.nodeid, ("passed", ""))

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        outcome, message = self.outcomes.pop(nodeid, ("error", "no report"))
        self.emit(event="result", nodeid=nodeid, outcome=outcome, message=message)

    def pytest_unconfigure(self) -> None:
        self.log.close()


def _last_line(text: str) -> str:
    """The last line of a pytest report, without pytest's ``E   `` prefix."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return re.sub(r"^E\s+", "", lines[-1].strip()) if lines else ""
