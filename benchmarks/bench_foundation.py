"""Foundation-tier benchmarks: ratios measured in one process (``nox -s bench -- foundation``).

Prints, for the same machine and the same moment:
  1. Tensor matmul 1000x1000 vs raw NumPy (target: within 1.1x);
  2. the triple-loop reference matmul vs the vectorized one on a small size;
  3. one training step of an MLP 64 -> 128 -> 10 at batch 64 (forward, cross-entropy,
     backward, SGD) vs the same math written directly in NumPy, and vs PyTorch when it
     is importable (target: at most 1.5x PyTorch);
  4. activation checkpointing: graph memory saved vs extra compute.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from tinytorch.core import Tensor, graph_stats, manual_seed, matmul_loops
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
from tinytorch.optim import SGD
from tinytorch.training import checkpoint


def median_seconds(fn: Callable[[], object], repeats: int = 7, min_time: float = 0.2) -> float:
    """Median over ``repeats`` rounds of the mean time per call (after one warm-up call)."""
    fn()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_time / repeats:
        fn()
        calls += 1
    calls = max(calls, 1)
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        rounds.append((time.perf_counter() - start) / calls)
    return statistics.median(rounds)


def row(name: str, seconds: float, baseline: float | None = None, unit: str = "ms") -> None:
    scale = {"ms": 1e3, "us": 1e6}[unit]
    ratio = f"{seconds / baseline:8.2f}x" if baseline else " " * 9
    print(f"  {name:<44}{seconds * scale:>12.1f} {unit}  {ratio}")


def bench_matmul() -> None:
    print("\n1. matmul 1000x1000 @ 1000x1000 (float32)")
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 1000, 1000), dtype=np.float32)
    ta, tb = Tensor(a), Tensor(b)
    base = median_seconds(lambda: a @ b)
    row("numpy", base, base)
    row("tinytorch Tensor @", median_seconds(lambda: ta @ tb), base)


def bench_loops() -> None:
    n = 48
    print(f"\n2. triple-loop reference vs vectorized, {n}x{n} @ {n}x{n}")
    rng = np.random.default_rng(0)
    ta, tb = Tensor(rng.standard_normal((n, n))), Tensor(rng.standard_normal((n, n)))
    fast = median_seconds(lambda: ta @ tb)
    row("vectorized (BLAS)", fast, fast, "us")
    row(
        "matmul_loops (n*k*m Python steps)",
        median_seconds(lambda: matmul_loops(ta, tb), 3),
        fast,
        "us",
    )


def numpy_mlp_step(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, lr: float) -> None:
    """The same step as the tinytorch one, hand-derived, no framework."""
    w1, b1, w2, b2 = params
    h = x @ w1 + b1
    a = np.maximum(h, 0)
    logits = a @ w2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    probs[np.arange(len(y)), y] -= 1
    g_logits = probs / len(y)
    g_w2, g_b2 = a.T @ g_logits, g_logits.sum(0)
    g_h = (g_logits @ w2.T) * (h > 0)
    g_w1, g_b1 = x.T @ g_h, g_h.sum(0)
    for p, g in zip(params, (g_w1, g_b1, g_w2, g_b2)):
        p -= lr * g


def bench_mlp_step() -> None:
    print("\n3. one training step, MLP 64 -> 128 -> 10, batch 64 (forward, CE, backward, SGD)")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 64), dtype=np.float32)
    y = rng.integers(0, 10, size=64)
    manual_seed(0)
    model = Sequential(Linear(64, 128), ReLU(), Linear(128, 10))
    optimizer = SGD(model.parameters(), lr=0.01)
    loss_fn = CrossEntropyLoss()
    tx = Tensor(x)

    def tinytorch_step() -> None:
        optimizer.zero_grad()
        loss_fn(model(tx), y).backward()
        optimizer.step()

    params = [p.data.copy() for p in model.parameters()]
    base = median_seconds(lambda: numpy_mlp_step(params, x, y, 0.01))
    row("numpy (hand-derived gradients)", base, base, "us")
    ours = median_seconds(tinytorch_step)
    row("tinytorch", ours, base, "us")
    try:
        import torch
    except ImportError:
        print("  PyTorch not importable: skipped (it is never a dependency)")
        return
    # Same thread count as NumPy's BLAS, so the ratio compares frameworks, not threading.
    torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", os.cpu_count() or 1)))
    net = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    tx_t, ty_t = torch.from_numpy(x), torch.from_numpy(y)
    ce = torch.nn.CrossEntropyLoss()

    def torch_step() -> None:
        opt.zero_grad()
        ce(net(tx_t), ty_t).backward()
        opt.step()

    theirs = median_seconds(torch_step)
    row(f"PyTorch {torch.__version__}", theirs, base, "us")
    print(f"  tinytorch / PyTorch = {ours / theirs:.2f}x (target <= 1.5x)")


def bench_checkpointing() -> None:
    print("\n4. activation checkpointing, MLP 256 -> 4x1024 -> 10, batch 256")
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((256, 256), dtype=np.float32))
    y = rng.integers(0, 10, size=256)
    manual_seed(0)
    head = Sequential(Linear(256, 1024), ReLU())
    middle = Sequential(
        Linear(1024, 1024), ReLU(), Linear(1024, 1024), ReLU(), Linear(1024, 1024), ReLU()
    )
    tail = Linear(1024, 10)
    params = [p.data for m in (head, middle, tail) for p in m.parameters()]
    loss_fn = CrossEntropyLoss()

    def loss(use_checkpoint: bool) -> Tensor:
        h = head(x)
        h = checkpoint(middle, h) if use_checkpoint else middle(h)
        return loss_fn(tail(h), y)

    plain, ckpt = (graph_stats(loss(flag), exclude=params).saved_bytes for flag in (False, True))
    t_plain = median_seconds(lambda: loss(False).backward(), 5)
    t_ckpt = median_seconds(lambda: loss(True).backward(), 5)
    print(
        f"  activation memory held by the graph: {plain / 2**20:.1f} MiB -> "
        f"{ckpt / 2**20:.1f} MiB ({plain / ckpt:.1f}x less)"
    )
    row("forward+backward, no checkpointing", t_plain, t_plain)
    row("forward+backward, middle checkpointed", t_ckpt, t_plain)


def main() -> None:
    print(
        f"tinytorch foundation benchmarks — Python {sys.version.split()[0]}, "
        f"NumPy {np.__version__}, {os.cpu_count()} CPUs"
    )
    bench_matmul()
    bench_loops()
    bench_mlp_step()
    bench_checkpointing()


if __name__ == "__main__":
    main()
