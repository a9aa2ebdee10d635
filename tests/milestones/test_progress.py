"""Progress: a live bar on a terminal, plain periodic lines in a log, never silence."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from functools import partial
from pathlib import Path

import numpy as np

import common

MILESTONES = Path(common.__file__).parent

# One second of work in 20 steps, reporting every 0.2 s (the milestones use 5 s).
PHASE = f"""
import sys, time
sys.path.insert(0, {str(MILESTONES)!r})
import common
common.LOG_EVERY_S = 0.2
print("before", flush=True)
bar = common.progress(total=20, desc="phase")
for step in range(20):
    time.sleep(0.05)
    bar.update()
    bar.set_postfix_str(f"loss {{1 / (step + 1):.3f}}", refresh=False)
bar.close()
print("after")
"""


def run_on_a_terminal(script: str) -> str:
    """Run ``script`` with a pseudo-terminal as stdout and stderr; returns what it wrote."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdout is the terminal
        os.execv(sys.executable, [sys.executable, "-c", script])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.waitpid(pid, 0)
    os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_terminal_gets_a_live_bar_with_the_loss() -> None:
    out = run_on_a_terminal(PHASE)
    assert "\r" in out  # redrawn in place
    assert re.search(r"phase:\s+\d+%\|", out), out  # tqdm's bar: percentage, then the bar
    assert "loss" in out
    assert out.index("before") < out.index("phase") < out.index("after")


def test_a_log_gets_a_plain_line_every_interval_and_one_at_the_end() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PHASE], capture_output=True, text=True, check=True
    ).stdout
    assert "\r" not in out
    lines = out.splitlines()
    progress = [line for line in lines if line.strip().startswith("phase:")]
    assert len(progress) >= 3, out  # periodic lines, not just the last one
    assert all(re.fullmatch(r"\s+phase: \d+/20 steps \(\d+%\), .* left, loss [\d.]+", p)
               for p in progress), progress  # fmt: skip
    assert progress[-1].strip().startswith("phase: 20/20 steps (100%)")
    assert lines[0] == "before" and lines[-1] == "after"  # in order with the prints


def test_the_trainer_reports_through_the_milestone_progress(capsys) -> None:
    from tinytorch.core import manual_seed
    from tinytorch.nn import CrossEntropyLoss, Linear
    from tinytorch.optim import SGD
    from tinytorch.training import Trainer

    manual_seed(0)
    model = Linear(4, 3)
    x = np.random.default_rng(0).standard_normal((40, 4)).astype(np.float32)
    y = np.arange(40) % 3
    trainer = Trainer(
        model, SGD(model.parameters(), lr=0.1), CrossEntropyLoss(),
        progress=partial(common.progress, desc="fit"),
    )  # fmt: skip
    trainer.fit(x, y, epochs=2, batch_size=8)
    out = capsys.readouterr().out
    assert re.search(r"fit: 10/10 steps \(100%\).*epoch 2/2, loss [\d.]+", out), out
