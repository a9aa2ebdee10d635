"""Files the course tools write (reports, gradebooks, answer keys, bundles): whole or not at all.

Every write goes to ``.<name>.partial`` beside the target and is renamed over it with
``os.replace``, atomic on POSIX and Windows: a reader sees the old file or the new one,
never half of one. An exception in the middle (KeyboardInterrupt included) removes the
partial file and leaves the target as it was.

A process killed outright (SIGKILL, power loss) runs no clean-up code and leaves its
``.partial`` behind, but only until the next write of the same target: the name is fixed
per target, so that write truncates the leftover, reuses it and renames it away. (The
course tools are the only writer of their output folders; two of them writing one target
at once would share the partial file.)

Why not ``tinytorch.files.atomic_write``: the course tools run where no tier is installed
(the grader's environment holds the tiers' third-party dependencies, never a tier, so it
can never import the reference instead of a learner's code), so they keep this one helper
of their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", permissions: int = 0o644
) -> Iterator[IO[Any]]:
    """Open ``.<name>.partial`` beside ``path`` (``mode`` "w" for UTF-8 text, "wb" for
    bytes); when the block ends it is flushed to disk and replaces ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, permissions)
    try:
        os.chmod(partial, permissions)  # a leftover partial keeps its old mode otherwise
        with os.fdopen(descriptor, mode, encoding=None if "b" in mode else "utf-8") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_atomic(path: str | os.PathLike[str], data: str | bytes, permissions: int = 0o644) -> Path:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` through :func:`atomic_write`."""
    with atomic_write(path, "wb" if isinstance(data, bytes) else "w", permissions) as file:
        file.write(data)
    return Path(path)
