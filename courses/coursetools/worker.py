"""The sandbox's worker: call functions on code nobody vouches for, print each result as JSON.

:mod:`coursetools.sandbox` starts this file as ``python -I -S worker.py`` with the job, a
JSON object, on standard input. It is the first code the process runs and it uses the
standard library only; until the job's modules are imported nothing in the process comes
from the submission. In order it:

1. reads the job (at most 1 MiB);
2. inside bubblewrap, still as root in the sandbox's own namespaces: mounts a tmpfs of
   ``disk`` bytes on ``/work`` (the only writable place) and copies the submission into
   it from the read-only ``/in/work``;
3. sets the resource limits (address space, CPU seconds, file size, open files, core
   dumps; processes when the sandbox has a user id of its own) and, inside bubblewrap,
   drops to that user id with no supplementary groups;
4. keeps its standard output for results and points file descriptors 0, 1 and 2 at
   ``/dev/null``: what the submission prints goes nowhere and cannot flood anything;
5. puts the job's ``path`` first on ``sys.path`` (then the standard library, then the
   third-party ``site`` folders: no ``.pth`` file or ``sitecustomize`` is ever read);
6. imports the ``preload`` modules and prints ``{"ready": true, "problems": {...}}``;
7. makes each call in turn and prints ``{"call": i, "status": "ok", "value": ...}`` or
   ``{"call": i, "status": "raised", "message": ...}``, with the ``seconds`` it took.

Nothing printed here is trusted: the submission's code runs in this process and can
write anything to any descriptor. The grader only compares values against answers this
process never sees, and kills it on its own clock.
"""

import ctypes
import importlib
import json
import os
import resource
import shutil
import sys
import time

MAX_JOB_BYTES = 1 << 20
MAX_DEPTH = 32  # nesting of a returned value (lists of lists of ...)
MAX_MESSAGE = 300  # characters of an exception message sent back
_MS_NOSUID, _MS_NODEV = 2, 4
_LIMITS = {
    "memory": "RLIMIT_AS",
    "cpu_seconds": "RLIMIT_CPU",
    "file_size": "RLIMIT_FSIZE",
    "open_files": "RLIMIT_NOFILE",
    "processes": "RLIMIT_NPROC",
}


def main() -> None:
    job = json.loads(sys.stdin.buffer.read(MAX_JOB_BYTES))
    root, setup = job["root"], job.get("setup")
    if setup:
        _mount_work(setup)
    _limit(job["limits"])
    if setup:
        os.setgroups([])
        os.setresgid(setup["gid"], setup["gid"], setup["gid"])
        os.setresuid(setup["uid"], setup["uid"], setup["uid"])
    work = os.path.join(root, "work")
    os.makedirs(os.path.join(work, "tmp"), exist_ok=True)
    os.chdir(work)
    results = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    sys.path[:0] = [os.path.join(root, entry) for entry in job["path"]]
    sys.path += job["site"]

    def emit(**record: object) -> None:
        results.write(json.dumps(record) + "\n")
        results.flush()

    problems = {}
    for name in job["preload"]:
        try:
            importlib.import_module(name)
        except BaseException as error:
            problems[name] = describe(error)
    emit(ready=True, problems=problems)
    for index, (module, function, args) in enumerate(job["calls"]):
        started = time.perf_counter()
        try:
            value = plain(getattr(importlib.import_module(module), function)(*args))
        except BaseException as error:
            record = {"status": "raised", "message": describe(error)}
        else:
            record = {"status": "ok", "value": value}
        emit(call=index, seconds=round(time.perf_counter() - started, 6), **record)


def _mount_work(setup: dict) -> None:
    """A tmpfs of ``disk`` bytes on /work, owned by the sandbox's user, holding the copy."""
    libc = ctypes.CDLL(None, use_errno=True)
    options = f"size={setup['disk']},mode=0700,uid={setup['uid']},gid={setup['gid']}"
    flags = _MS_NOSUID | _MS_NODEV
    if libc.mount(b"tmpfs", b"/work", b"tmpfs", flags, options.encode()) != 0:
        raise OSError(ctypes.get_errno(), "cannot mount the sandbox's tmpfs on /work")
    shutil.copytree("/in/work", "/work", symlinks=True, dirs_exist_ok=True)
    for folder, dirs, files in os.walk("/work"):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(folder, name), setup["uid"], setup["gid"])


def _limit(limits: dict) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for key, name in _LIMITS.items():
        if limits.get(key) is not None:
            value = int(limits[key])
            resource.setrlimit(getattr(resource, name), (value, value))


def plain(value: object, depth: int = 0) -> object:
    """``value`` as JSON data: NumPy arrays and scalars become lists and numbers."""
    if depth > MAX_DEPTH:
        raise ValueError(f"the value is nested more than {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(item, depth + 1) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: plain(item, depth + 1) for key, item in value.items()}
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # a NumPy array or scalar
        return plain(value.tolist(), depth + 1)
    raise TypeError(f"returned a {type(value).__name__}, which is not plain data")


def describe(error: BaseException) -> str:
    """``Type: message``, one line, short: what a report shows about a failure."""
    text = " ".join(str(error).split())
    line = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


if __name__ == "__main__":
    main()
