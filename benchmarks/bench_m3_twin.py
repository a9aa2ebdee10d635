"""Milestone 3 and its PyTorch twin on the same data: accuracy and time side by side.

    python benchmarks/bench_m3_twin.py [--data-dir DIR] [--seeds 0 1 2]
    nox -s bench -- m3 [--data-dir DIR]

The tinytorch side is Milestone 3 itself (``m03.load`` and ``m03.train``: same data,
standardization, MLP, AdamW, cosine schedule, test accuracy after every epoch). The
PyTorch side repeats that recipe step for step: the same initial weights (copied from the
tinytorch model), the same batches in the same order, the same schedule; only dropout's
random masks differ. Both run on one thread. PyTorch is optional: without it the
tinytorch side still runs and says how to add the other. A benchmark, not a test: it
prints what it measured and asserts nothing.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # as the milestones run (docs/architecture.md)

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "milestones"))
import m03_1986_mlp as m03  # noqa: E402
from common import progress  # noqa: E402
from tinytorch.core import manual_seed  # noqa: E402


def tinytorch_run(setup: m03.Setup, data: m03.Arrays, seed: int) -> tuple[float, float]:
    """Milestone 3's own training for one seed: (test accuracy, seconds)."""
    start = time.perf_counter()
    _, score = m03.train(setup, data, seed, desc=f"tinytorch, seed {seed}")
    return score, time.perf_counter() - start


def torch_run(torch, setup: m03.Setup, data: m03.Arrays, seed: int) -> tuple[float, float]:
    """The same recipe in PyTorch: (test accuracy, seconds)."""
    x_train, y_train, x_test, y_test = data
    manual_seed(seed)
    twin = m03.build_mlp(x_train.shape[1], setup)  # tinytorch's initial weights, copied
    nn = torch.nn
    model = nn.Sequential(
        nn.Linear(x_train.shape[1], setup.hidden),
        nn.ReLU(),
        nn.Dropout(setup.dropout),
        nn.Linear(setup.hidden, 10),
    )
    with torch.no_grad():
        for ours, theirs in ((twin[0], model[0]), (twin[3], model[3])):
            theirs.weight.copy_(torch.from_numpy(ours.weight.data.T))  # (in, out) -> (out, in)
            theirs.bias.copy_(torch.from_numpy(ours.bias.data))
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=setup.lr, weight_decay=setup.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, setup.epochs)
    loss_fn = nn.CrossEntropyLoss()
    tx_train, ty_train = torch.from_numpy(x_train), torch.from_numpy(y_train)
    tx_test, ty_test = torch.from_numpy(x_test), torch.from_numpy(y_test)
    order_rng = np.random.default_rng(seed)  # the Trainer's batch order
    steps = -(-len(x_train) // setup.batch_size)
    bar = progress(total=setup.epochs * steps, desc=f"PyTorch, seed {seed}")
    start = time.perf_counter()
    for _ in range(setup.epochs):
        model.train()
        order = torch.from_numpy(order_rng.permutation(len(x_train)))
        for first in range(0, len(order), setup.batch_size):
            batch = order[first : first + setup.batch_size]
            optimizer.zero_grad()
            loss_fn(model(tx_train[batch]), ty_train[batch]).backward()
            optimizer.step()
            bar.update()
        model.eval()
        with torch.no_grad():  # as Milestone 3 does: test accuracy after every epoch
            score = (model(tx_test).argmax(1) == ty_test).double().mean().item()
        schedule.step()
    seconds = time.perf_counter() - start
    bar.close()
    return score, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="IDX files, e.g. MNIST (default: TinyDigits)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    setup, about, data = m03.load(args.data_dir)
    print(
        f"Milestone 3 and its PyTorch twin — {setup.label}, {len(data[0])} training images, "
        f"MLP {data[0].shape[1]} -> {setup.hidden} -> 10, {setup.epochs} epochs, one thread"
    )
    if args.data_dir:
        print(f"  data identified as {about['identified']}")
    try:
        import torch
    except ImportError:
        torch = None
        print("  PyTorch is not installed: `pip install torch` to put its numbers beside these")
    else:
        torch.set_num_threads(1)
    runs: dict[str, list[tuple[float, float]]] = {"tinytorch": []}
    for seed in args.seeds:  # the two frameworks take turns, so both see the same machine load
        runs["tinytorch"].append(tinytorch_run(setup, data, seed))
        if torch is not None:
            runs.setdefault(f"PyTorch {torch.__version__}", []).append(
                torch_run(torch, setup, data, seed)
            )
    print(f"\n  {'framework':<22}{'mean test accuracy':>20}{'per seed':>26}{'s per seed':>12}")
    for name, results in runs.items():
        scores = [score for score, _ in results]
        seconds = statistics.median(s for _, s in results)
        per_seed = " ".join(f"{s:.2%}" for s in scores)
        print(f"  {name:<22}{np.mean(scores):>20.2%}{per_seed:>26}{seconds:>12.1f}")
    if len(runs) == 2:
        (ours, theirs) = (statistics.median(s for _, s in r) for r in runs.values())
        print(f"\n  time tinytorch / PyTorch: {ours / theirs:.2f}x (median seconds per seed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
