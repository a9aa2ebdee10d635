"""Run code nobody vouches for in a worker process and get back plain, size-limited data.

The one entry point, :func:`run`, takes a folder to copy (the submission), read-only
folders to show beside it, the ``sys.path`` to import from, and a list of calls
(``module.function(*args)`` with JSON arguments and a wall-clock limit each). It returns
one :class:`Outcome` per call: ``ok`` with the JSON value the call returned, ``raised``
with the exception's one-line message, ``timeout`` or ``crashed``. Grading uses it to
run graded checks on a learner's code; anything else that must run learner code (a
leaderboard re-measuring a submitted model) uses it the same way::

    outcomes = sandbox.run(
        [Call("measure", "accuracy", ("model.npz",), seconds=120)],
        work=submission_copy,                       # copied fresh into every worker
        readonly={"tools": folder_with_measure_py},  # shown read-only as ``ro/tools``
        path=["ro/tools", "work/src"],
    )

Where the worker runs (:func:`isolation`):

``bwrap``
    Linux, grader running as root, bubblewrap installed (what CI and a grading machine
    use). The worker gets its own PID, mount, network, IPC and UTS namespaces
    (``bwrap --unshare-pid --unshare-net ...``) and sees only the interpreter, the
    system libraries, the third-party packages, the read-only folders and its copy of
    the submission on a tmpfs of ``Limits.disk`` bytes; no network; no repository, no
    home folder, no answers, no other submission. It runs as a user id of its own
    (:data:`UID_BASE` + ``slot``, or the next one free) with no groups, so parallel
    workers do not share a process limit: a lock file per user id keeps two graders
    running at once on one machine from ever handing out the same one.
``process``
    Anywhere else (macOS, a grader that is not root). Same worker, same limits and
    protocol, but in an ordinary process of the grader's user: it can read what that
    user can read and reach the network. Good for formative feedback and for tests of
    the machinery; not a place for summative grading of strangers' code.

As root without bubblewrap :func:`run` refuses: learner code never runs as root.

In both, the worker is ``python -I -S`` (no environment variables, user site, ``.pth``
or ``sitecustomize`` from anywhere) in a sanitized environment that names nothing of the
grader's (argv, environment and working directory hold only sandbox paths), in a new
session. Every limit of :class:`Limits` is set before the submission's code runs. The
clock is kept here, outside: a call that overruns is a ``timeout``, the whole sandbox
is killed and a fresh one (a fresh copy) takes the remaining calls, so a hang costs the
calls that hang. After every call any process the call started is killed (psutil, over
the worker's process tree; inside a PID namespace nothing can leave that tree). A
worker that dies or hangs before its ``preload`` modules are imported fails every call
with the reason (``os._exit(0)`` at import scores nothing and says so).
"""

from __future__ import annotations

import fcntl
import json
import os
import pwd
import selectors
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

WORKER = Path(__file__).with_name("worker.py")
#: Sandbox user ids are UID_BASE + slot: far above any account a system hands out.
UID_BASE = 1_999_000_000
_UID_SEARCH = 4096  # ids tried above a slot's own before giving up
#: One lock file per sandbox user id in use (see :func:`_claim_uid`).
UID_LOCKS = Path(tempfile.gettempdir()) / "coursetools-sandbox-uids"
_READ_CHUNK = 1 << 16
_MAX_LINE = 1 << 20  # no single result line may be longer than this


@dataclass(frozen=True)
class Limits:
    """What one worker may use. Memory and file size are per process."""

    memory: int = 2 << 30  # bytes of address space
    processes: int = 16  # processes and threads of the sandbox's user (bwrap only)
    file_size: int = 64 << 20  # bytes in any one file it writes
    open_files: int = 256
    disk: int = 256 << 20  # bytes of its writable tmpfs (bwrap only)
    output: int = 16 << 20  # bytes of results read back from one worker
    startup: float = 30.0  # seconds to start and import the preload modules


@dataclass(frozen=True)
class Call:
    """``module.function(*args)`` in the worker, within ``seconds`` of wall-clock time."""

    module: str
    function: str
    args: tuple = ()
    seconds: float = 60.0


@dataclass(frozen=True)
class Outcome:
    """How one call went: ``ok`` (``value`` is what it returned), ``raised``, ``timeout``
    or ``crashed`` (``message`` says why)."""

    status: str
    value: object = None
    message: str = ""
    seconds: float = 0.0


class SandboxError(RuntimeError):
    """No sandbox can be set up here (running as root without bubblewrap, say)."""


def isolation(trusted: bool = False) -> str:
    """``bwrap`` or ``process``: how :func:`run` isolates the worker on this machine.

    As root without bubblewrap only ``trusted`` code (the course's own) may run.
    """
    if os.name == "posix" and os.geteuid() == 0:
        if shutil.which("bwrap") is None:
            if trusted:
                return "process"
            raise SandboxError(
                "refusing to run untrusted code as root without bubblewrap: install it "
                "(apt-get install bubblewrap) or grade as an ordinary user"
            )
        return "bwrap"
    return "process"


def run(
    calls: Sequence[Call],
    *,
    work: Path,
    readonly: Mapping[str, Path] | None = None,
    path: Sequence[str] = (),
    preload: Sequence[str] = (),
    limits: Limits = Limits(),
    slot: int = 0,
    trusted: bool = False,
) -> list[Outcome]:
    """Make every call in a sandboxed worker; one :class:`Outcome` per call, in order.

    ``work`` is copied into the sandbox as ``work/`` (writable, the working directory);
    each ``readonly`` folder appears as ``ro/<name>``; ``path`` entries are relative to
    the sandbox (``work/src``, ``ro/checks``). Workers that run at the same time need
    different ``slot`` numbers; ``trusted`` is for the course's own code (see :func:`isolation`).
    """
    how = isolation(trusted)
    readonly = dict(readonly or {})
    outcomes: list[Outcome | None] = [None] * len(calls)
    pending = list(range(len(calls)))
    while pending:
        with _Worker(
            how, work, readonly, path, preload, [calls[i] for i in pending], limits, slot
        ) as w:
            problem = w.start()
            if problem:
                for index in pending:
                    outcomes[index] = problem
                break
            done = 0
            for position, index in enumerate(pending):
                outcome = w.result(position, calls[index].seconds)
                outcomes[index] = outcome
                done = position + 1
                if outcome.status in ("timeout", "crashed"):
                    break
                w.kill_strays()
            pending = pending[done:]
    return [o for o in outcomes if o is not None]


class _Worker:
    """One sandbox and the worker in it, from start to the last process killed."""

    def __init__(
        self,
        how: str,
        work: Path,
        readonly: dict[str, Path],
        path: Sequence[str],
        preload: Sequence[str],
        calls: list[Call],
        limits: Limits,
        slot: int,
    ):
        site = _site_folders()
        self.how, self.limits = how, limits
        self.scratch = Path(tempfile.mkdtemp(prefix="coursetools-sandbox-"))
        self.job = {
            "root": "/" if how == "bwrap" else str(self.scratch),
            "limits": {
                "memory": limits.memory,
                "cpu_seconds": int(limits.startup + sum(c.seconds for c in calls)) + 1,
                "file_size": limits.file_size,
                "open_files": limits.open_files,
                "processes": limits.processes if how == "bwrap" else None,
            },
            "path": list(path),
            "site": [f"/site/{n}" for n in range(len(site))] if how == "bwrap" else site,
            "preload": list(preload),
            "calls": [[c.module, c.function, list(c.args)] for c in calls],
        }
        if how == "bwrap":  # the worker copies /in/work onto its tmpfs, as root, then drops
            _copy(work, self.scratch / "in" / "work")
            self.command = _bwrap_command(self.scratch / "in" / "work", readonly, site)
        else:
            _copy(work, self.scratch / "work")
            for name, folder in readonly.items():
                _copy(folder, self.scratch / "ro" / name)
            shutil.copyfile(WORKER, self.scratch / "worker.py")
            self.command = [_interpreter(), "-I", "-S", "worker.py"]
        self.process: subprocess.Popen | None = None
        self.buffer = b""
        self.read = 0
        self.uid_lock: int | None = None  # claimed last: nothing below can fail and leak it
        if how == "bwrap":
            uid, self.uid_lock = _claim_uid(slot)
            self.job["setup"] = {"uid": uid, "gid": uid, "disk": limits.disk}

    def __enter__(self) -> _Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        shutil.rmtree(self.scratch, ignore_errors=True)
        if self.uid_lock is not None:
            os.close(self.uid_lock)  # closing the file releases its lock

    def start(self) -> Outcome | None:
        """Start the worker; None once it is ready, else the outcome of every call."""
        started = time.monotonic()
        self.process = subprocess.Popen(
            self.command,
            cwd=self.scratch,
            env=_ENV,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.process.stdin.write(json.dumps(self.job).encode())
        self.process.stdin.close()
        record, problem = self._next(lambda r: "ready" in r, self.limits.startup)
        if record is not None:
            return None
        seconds = time.monotonic() - started
        if problem == "timeout":
            why = f"the submission's code did not finish importing within {self.limits.startup:g} s"
            return Outcome("timeout", message=why, seconds=seconds)
        return Outcome("crashed", message=f"{problem} before its code finished importing")

    def result(self, position: int, seconds: float) -> Outcome:
        """The outcome of the call at ``position``, waiting at most ``seconds``."""
        started = time.monotonic()
        record, problem = self._next(lambda r: r.get("call") == position, seconds)
        took = round(time.monotonic() - started, 3)
        if record is None:
            if problem == "timeout":
                return Outcome("timeout", message=f"took over {seconds:g} s", seconds=took)
            return Outcome("crashed", message=problem, seconds=took)
        reported = record.get("seconds")  # the worker's clock: trusted only for the solution's
        if isinstance(reported, (int, float)) and 0 <= reported < float("inf"):
            took = round(float(reported), 6)
        if record.get("status") == "ok" and "value" in record:
            return Outcome("ok", record["value"], seconds=took)
        return Outcome("raised", message=str(record.get("message", ""))[:500], seconds=took)

    def _next(self, wanted, seconds: float) -> tuple[dict | None, str]:
        """The next JSON line ``wanted`` accepts, or (None, why not) once time is up."""
        deadline = time.monotonic() + seconds
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while True:
                while b"\n" in self.buffer:
                    line, self.buffer = self.buffer.split(b"\n", 1)
                    record = _record(line)
                    if record is not None and wanted(record):
                        return record, ""
                if len(self.buffer) > _MAX_LINE:
                    return None, f"the worker wrote a line over {_MAX_LINE} bytes"
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, "timeout"
                if not selector.select(timeout=left):
                    continue
                chunk = os.read(self.process.stdout.fileno(), _READ_CHUNK)
                if not chunk:
                    code = self.process.wait()
                    return None, f"the worker exited (exit code {code})"
                self.read += len(chunk)
                if self.read > self.limits.output:
                    return None, f"the worker wrote over {self.limits.output} bytes of results"
                self.buffer += chunk

    def _runner(self) -> psutil.Process | None:
        """The worker's own process (inside bubblewrap: the sandbox's PID 1)."""
        try:
            outer = psutil.Process(self.process.pid)
            if self.how == "process":
                return outer
            children = outer.children()
            return children[0] if children else None
        except psutil.NoSuchProcess:
            return None

    def kill_strays(self) -> None:
        """Kill every process the calls started, leaving the worker itself running."""
        runner = self._runner()
        if runner is not None:
            _kill_all(_descendants(runner))

    def kill(self) -> None:
        """Kill the worker and everything in its sandbox; wait for them."""
        if self.process is None:
            return
        runner = self._runner()
        doomed = [*(_descendants(runner) if runner else []), *([runner] if runner else [])]
        try:
            doomed.append(psutil.Process(self.process.pid))
        except psutil.NoSuchProcess:
            pass
        _kill_all(doomed)
        self.process.wait()
        self.process.stdout.close()
        psutil.wait_procs(doomed, timeout=5)  # until the killed are reaped and gone


def _descendants(process: psutil.Process) -> list[psutil.Process]:
    try:
        return process.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _kill_all(processes: list[psutil.Process]) -> None:
    """SIGKILL each; the dead are reaped by their parent (inside bubblewrap, with the sandbox)."""
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass


def _record(line: bytes) -> dict | None:
    """One result line as a dict, or None if it is not a JSON object (then it is ignored)."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/nonexistent",
    "LANG": "C.UTF-8",
    "TMPDIR": "tmp",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def _interpreter() -> str:
    """The real interpreter behind ``sys.executable`` (a venv's ``python`` is a symlink)."""
    return os.path.realpath(sys.executable)


def _site_folders() -> list[str]:
    """The folders of third-party packages the worker imports from (NumPy, ...).

    Refuses when one of them holds an installed ``tinytorch``: the worker could read it.
    """
    paths = sysconfig.get_paths()
    folders = sorted({paths["purelib"], paths["platlib"]})
    for folder in folders:
        if (Path(folder) / "tinytorch").exists():
            raise SandboxError(
                f"tinytorch is installed in {folder}, where learner code could read it: "
                "grade from an environment holding only the tiers' third-party dependencies"
            )
    return folders


def _claim_uid(slot: int) -> tuple[int, int]:
    """A sandbox user id no other live sandbox on this machine holds, and the open lock
    file that holds it (closing it frees the id).

    Tries UID_BASE + slot first, then the ids above it. A non-blocking ``flock`` on one
    file per id, in the grader's temporary folder (which no sandbox can see), settles
    races between graders in different processes; the kernel drops the lock if a grader
    dies, so nothing is ever left claimed.
    """
    UID_LOCKS.mkdir(mode=0o700, exist_ok=True)
    # The temporary folder is shared with every user of the machine: a folder of that
    # name made by someone else (or a symlink) could hold the locks or aim the grader's
    # files elsewhere, so it must be a real folder, the grader's own, closed to others.
    found = os.lstat(UID_LOCKS)
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.geteuid() or found.st_mode & 0o077:
        raise SandboxError(
            f"{UID_LOCKS} must be a folder of the grader's own user that nobody else can "
            "enter (mode 700); remove it and grade again"
        )
    for uid in range(UID_BASE + slot, UID_BASE + slot + _UID_SEARCH):
        _require_unused(uid)
        fd = os.open(UID_LOCKS / str(uid), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return uid, fd
    raise SandboxError(
        f"every sandbox user id from {UID_BASE + slot} to {UID_BASE + slot + _UID_SEARCH - 1} "
        "is in use by a running grader; wait for one to finish"
    )


def _require_unused(uid: int) -> None:
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        return
    raise SandboxError(f"sandbox user id {uid} belongs to the account {name!r}")


def _bwrap_command(work: Path, readonly: Mapping[str, Path], site: list[str]) -> list[str]:
    """bubblewrap: new namespaces, a root holding only what the worker needs, read-only."""
    command = [
        "bwrap",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--as-pid-1",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--chdir",
        "/",
    ]
    for folder in ("/work", "/in", "/ro", "/site"):  # mount points the worker may enter
        command += ["--perms", "0755", "--dir", folder]
    for name in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "etc"):
        top = Path("/") / name
        if top.is_symlink():
            command += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            command += ["--ro-bind", str(top), str(top)]
    prefix = Path(sys.base_prefix).resolve()
    if not prefix.is_relative_to("/usr"):
        for parent in reversed(prefix.parents[:-1]):  # visible folders down to the prefix
            command += ["--perms", "0755", "--dir", str(parent)]
        command += ["--ro-bind", str(prefix), str(prefix)]
    for number, folder in enumerate(site):
        command += ["--ro-bind", folder, f"/site/{number}"]
    for name, folder in readonly.items():
        command += ["--ro-bind", str(Path(folder).resolve()), f"/ro/{name}"]
    command += ["--ro-bind", str(work), "/in/work", "--ro-bind", str(WORKER), "/in/worker.py"]
    return [*command, "--", _interpreter(), "-I", "-S", "/in/worker.py"]


def _copy(source: Path, target: Path) -> None:
    """Copy a folder for the sandbox, without symbolic links (they could point anywhere)."""
    shutil.copytree(
        source,
        target,
        symlinks=True,
        ignore=lambda folder, names: [
            n for n in names if n == "__pycache__" or os.path.islink(os.path.join(folder, n))
        ],
    )
