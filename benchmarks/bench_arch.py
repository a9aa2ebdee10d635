"""Architecture-tier benchmarks: ratios measured in one process (``nox -s bench -- arch``).

Prints, for the same machine and the same moment:
  1. Conv2d on a CIFAR batch (128, 3, 32, 32) -> 32 filters 5x5, forward and
     forward+backward, vs PyTorch when it is importable (target: at most 2x PyTorch);
  2. the one GEMM of im2col written as matmul, tensordot and einsum: the first three
     end in the same BLAS call and matmul, the leanest, is what Conv2d uses; einsum
     without ``optimize`` shows what skipping BLAS costs;
  3. the seven-loop reference on a small input, extrapolated to the CIFAR batch
     (the paper's point: at least 1,000x slower than the vectorized layer);
  4. the DataLoader with and without background prefetch, alone and feeding a model;
  5. attention time and score memory against sequence length (the O(N²)), fused vs
     composed from Tensor ops.

Sections are the functions listed in ``SECTIONS``; each prints its own rows under the
first line of its docstring. Add a benchmark by writing one more and listing it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from bench_foundation import row

from tinytorch.core import Tensor, manual_seed
from tinytorch.data import DataLoader, Dataset, TensorDataset
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
from tinytorch.optim import SGD
from tinytorch.vision import Conv2d, Flatten, MaxPool2d, conv2d_loops, im2col

CIFAR_BATCH = (128, 3, 32, 32)
FILTERS, KERNEL = 32, 5


def best_seconds(fn: Callable[[], object], repeats: int = 7) -> float:
    """Fastest of ``repeats`` timed calls, after one warm-up call.

    On a machine shared with other work the minimum is the steadiest estimate of what
    the code itself costs (every disturbance only ever adds time).
    """
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def blas_threads() -> int:
    """Threads NumPy's BLAS uses (its environment variable, else one per CPU); PyTorch gets
    as many, so ``OPENBLAS_NUM_THREADS=1 python bench_arch.py`` compares single cores."""
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(variable, "").isdigit():
            return int(os.environ[variable])
    return os.cpu_count() or 1


def cifar_batch() -> np.ndarray:
    return np.random.default_rng(0).standard_normal(CIFAR_BATCH, dtype=np.float32)


def bench_conv() -> None:
    """Conv2d, (128, 3, 32, 32) -> 32 filters 5x5 (im2col + one GEMM; col2im backward)."""
    manual_seed(0)
    layer = Conv2d(3, FILTERS, KERNEL)
    x = Tensor(cifar_batch(), requires_grad=True)
    print(f"  {layer.macs(CIFAR_BATCH):,} multiply-adds per forward; the input needs a gradient")

    def train_step() -> None:
        x.grad = None
        layer.zero_grad()
        layer(x).sum().backward()

    forward = best_seconds(lambda: layer(x))
    both = best_seconds(train_step)
    try:
        import torch
    except ImportError:
        row("tinytorch forward", forward)
        row("tinytorch forward+backward", both)
        print("  PyTorch not importable: skipped (it is never a dependency)")
        return
    torch.set_num_threads(blas_threads())
    t_layer = torch.nn.Conv2d(3, FILTERS, KERNEL)
    t_x = torch.from_numpy(cifar_batch()).requires_grad_()

    def torch_step() -> None:
        t_x.grad = None
        t_layer.zero_grad()
        t_layer(t_x).sum().backward()

    theirs_forward = best_seconds(lambda: t_layer(t_x))
    theirs_both = best_seconds(torch_step)
    row(f"PyTorch {torch.__version__} forward", theirs_forward, theirs_forward)
    row("tinytorch forward", forward, theirs_forward)
    row(f"PyTorch {torch.__version__} forward+backward", theirs_both, theirs_both)
    row("tinytorch forward+backward", both, theirs_both)
    print(
        f"  tinytorch / PyTorch: forward {forward / theirs_forward:.2f}x, "
        f"forward+backward {both / theirs_both:.2f}x (target <= 2x)"
    )


def bench_gemm() -> None:
    """The im2col GEMM, (32, 75) @ (75, 100,352), written three ways."""
    cols = im2col(cifar_batch(), KERNEL)
    weight = np.random.default_rng(1).standard_normal((FILTERS, 3, KERNEL, KERNEL), np.float32)
    w2 = weight.reshape(FILTERS, -1)
    w4 = weight
    cols6 = cols.reshape(3, KERNEL, KERNEL, -1)
    variants = {
        "matmul  W2 @ cols (what Conv2d uses)": lambda: w2 @ cols,
        "tensordot(W, cols, 3 axes)": lambda: np.tensordot(w4, cols6, axes=3),
        "einsum('ocij,cijn->on', optimize=True)": lambda: np.einsum(
            "ocij,cijn->on", w4, cols6, optimize=True
        ),
        "einsum('ocij,cijn->on') without BLAS": lambda: np.einsum("ocij,cijn->on", w4, cols6),
    }
    # Round-robin, so that a burst of load elsewhere hits every variant alike.
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(7):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    base = best[next(iter(variants))]
    for name, seconds in best.items():
        row(name, seconds, base)


def bench_loops() -> None:
    """The seven-loop reference vs Conv2d, extrapolated to the CIFAR batch."""
    small = (1, 3, 12, 12)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(small).astype(np.float32)
    weight = rng.standard_normal((4, 3, KERNEL, KERNEL)).astype(np.float32)
    macs_small = 1 * 4 * 8 * 8 * 3 * KERNEL * KERNEL
    start = time.perf_counter()
    conv2d_loops(x, weight)
    per_mac = (time.perf_counter() - start) / macs_small
    manual_seed(0)
    layer = Conv2d(3, FILTERS, KERNEL)
    big = Tensor(cifar_batch())
    macs_big = layer.macs(CIFAR_BATCH)
    vectorized = best_seconds(lambda: layer(big))
    loops = per_mac * macs_big
    print(
        f"  conv2d_loops on {small} -> 4 filters: {macs_small:,} multiply-adds in "
        f"{per_mac * macs_small * 1e3:.0f} ms ({per_mac * 1e9:.0f} ns each)"
    )
    row("Conv2d forward on the CIFAR batch (measured)", vectorized, vectorized)
    row(f"seven loops, {macs_big:,} MACs (extrapolated)", loops, vectorized)
    ratio = loops / vectorized
    print(f"  the loops would take {loops:.0f} s: {ratio:,.0f}x slower (paper: >= 1,000x)")


class FolderDataset(Dataset):
    """One .npy file per sample, read on demand: the shape of an image folder on disk."""

    def __init__(self, folder: Path, labels: np.ndarray) -> None:
        self.folder, self.labels = folder, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.int64]:
        return np.load(self.folder / f"{index}.npy"), self.labels[index]


class SlowStorage(TensorDataset):
    """In-memory samples behind a fixed wait per read (network storage, a busy disk)."""

    latency = 0.0005

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        time.sleep(self.latency)
        return super().__getitem__(index)


def epoch_seconds(loader: DataLoader, step: Callable[[Tensor, Tensor], None] | None) -> float:
    start = time.perf_counter()
    for images, labels in loader:
        if step is not None:
            step(images, labels)
    return time.perf_counter() - start


def bench_dataloader() -> None:
    """DataLoader, 2,048 CIFAR-sized samples in batches of 64: prefetch threads vs none.

    With ``num_workers`` threads the loader keeps ``2 * num_workers`` batches in flight.
    """
    n, batch = 2048, 64
    rng = np.random.default_rng(0)
    images = rng.standard_normal((n, 3, 32, 32), dtype=np.float32)
    labels = rng.integers(0, 10, size=n)
    manual_seed(0)
    model = Sequential(
        Conv2d(3, 8, 3, padding=1), ReLU(), MaxPool2d(4), Flatten(), Linear(8 * 8 * 8, 10)
    )
    optimizer = SGD(model.parameters(), lr=0.01)
    loss_fn = CrossEntropyLoss()

    def train_step(x: Tensor, y: Tensor) -> None:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i, image in enumerate(images):
            np.save(folder / f"{i}.npy", image)
        datasets = {
            "in memory (TensorDataset)": TensorDataset(images, labels),
            "one .npy file per sample": FolderDataset(folder, labels),
            f"storage waiting {SlowStorage.latency * 1e3:.1f} ms per read": SlowStorage(
                images, labels
            ),
        }
        for consumer, step in (("loading only", None), ("loading + a training step", train_step)):
            print(f"  {consumer}:")
            for name, dataset in datasets.items():
                base = None
                for workers in (0, 2, 4):
                    loader = DataLoader(
                        dataset, batch, shuffle=True, seed=0, num_workers=workers,
                        prefetch=max(2 * workers, 1),
                    )  # fmt: skip
                    seconds = min(epoch_seconds(loader, step) for _ in range(3))
                    base = base or seconds
                    label = f"{name}, num_workers={workers}"
                    print(
                        f"    {label:<50}{seconds * 1e3:>8.0f} ms/epoch  "
                        f"{n / seconds:>8,.0f} samples/s  {base / seconds:5.2f}x"
                    )


def bench_attention() -> None:
    """Attention (4 heads of 16, causal): time and score memory against sequence length."""
    from tinytorch.nn.activations import softmax
    from tinytorch.text import attention_memory, causal_mask, scaled_dot_product_attention

    heads, head_dim = 4, 16
    rng = np.random.default_rng(0)

    def inputs(seq_len: int) -> list[Tensor]:
        shape = (1, heads, seq_len, head_dim)
        return [Tensor(rng.standard_normal(shape, dtype=np.float32), True) for _ in range(3)]

    def fused_step(q: Tensor, k: Tensor, v: Tensor, mask: np.ndarray) -> None:
        scaled_dot_product_attention(q, k, v, mask).sum().backward()

    def composed_step(q: Tensor, k: Tensor, v: Tensor, mask: np.ndarray) -> None:
        blocked = np.where(mask, 0.0, -1e9).astype(np.float32)
        scores = q @ k.transpose() * (1.0 / np.sqrt(head_dim)) + blocked
        (softmax(scores, dim=-1) @ v).sum().backward()

    def measure(seq_len: int) -> tuple[float, float, int]:
        q, k, v = inputs(seq_len)
        mask = causal_mask(seq_len)
        forward = best_seconds(lambda: scaled_dot_product_attention(q, k, v, mask), 5)
        both = best_seconds(lambda: fused_step(q, k, v, mask), 5)
        saved = scaled_dot_product_attention(q, k, v, mask).grad_fn.weights.nbytes
        assert saved == attention_memory(seq_len, heads).score_bytes
        return forward, both, saved

    print(f"  {'T':>6}{'forward':>12}{'fwd+bwd':>12}{'time x':>9}{'scores MiB':>12}{'mem x':>8}")
    previous = None
    for seq_len in (64, 128, 256, 512, 1024):
        forward, both, saved = measure(seq_len)
        time_x = f"{both / previous[0]:.1f}x" if previous else ""
        mem_x = f"{saved / previous[1]:.1f}x" if previous else ""
        print(
            f"  {seq_len:>6}{forward * 1e3:>10.2f}ms{both * 1e3:>10.2f}ms{time_x:>9}"
            f"{saved / 2**20:>12.2f}{mem_x:>8}"
        )
        previous = (both, saved)
    q, k, v = inputs(256)
    mask = causal_mask(256)
    fused = best_seconds(lambda: fused_step(q, k, v, mask), 5)
    composed = best_seconds(lambda: composed_step(q, k, v, mask), 5)
    row("T=256 fwd+bwd: one fused Function (used)", fused, fused)
    row("T=256 fwd+bwd: composed from Tensor ops", composed, fused)


# Each entry prints one numbered section; add a function here to add a benchmark.
SECTIONS: list[Callable[[], None]] = [
    bench_conv,
    bench_gemm,
    bench_loops,
    bench_dataloader,
    bench_attention,
]


def main() -> None:
    print(
        f"tinytorch arch benchmarks — Python {sys.version.split()[0]}, "
        f"NumPy {np.__version__}, {os.cpu_count()} CPUs, {blas_threads()} BLAS threads"
    )
    for number, section in enumerate(SECTIONS, start=1):
        print(f"\n{number}. {section.__doc__.splitlines()[0]}")
        section()


if __name__ == "__main__":
    main()
