"""tinytorch beside PyTorch CPU, one thread each, in one process a row (``nox -s bench -- torch``).

    python benchmarks/bench_torch.py [--quick] [--out DIR]
    nox -s bench -- --compare-torch     (installs PyTorch in the bench venv first)

Every row is one workload built twice with the same shapes and the same optimizer: once
with tinytorch, once with PyTorch (eager, CPU). The two take turns round by round
(Module 19's ``benchmark_interleaved``), so a burst of load elsewhere hits both alike, and
the ratio is tinytorch's median over PyTorch's. Each row runs in a fresh process whose
allocator keeps the memory it frees (see ``main``), so no row inherits another's state.
Rows bound by matrix products also show
the FLOP/s they achieve against this machine's measured single-core peak (Module 14's
``measure_peak``). Generation has no PyTorch twin: its row is tinytorch with and without
the KV cache (Module 17), with PyTorch's uncached loop for scale.

Targets (ratio tinytorch / PyTorch): MLP step <= 0.6, Conv2d forward <= 1.5, Conv2d
forward+backward <= 1.0, CNN step <= 1.0, GPT step <= 1.2; cached generation >= 20x
faster than uncached at batch 1 for 200 tokens, with identical tokens.

PyTorch is optional (never a tier dependency): without it the tinytorch column still
prints. Each run writes a JSON record (machine, versions, figures) to ``build/bench/``.
A benchmark, not a test: it prints what it measured and asserts nothing.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"  # before NumPy loads its BLAS: one core per framework

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from tinytorch.core import Tensor, manual_seed  # noqa: E402
from tinytorch.files import atomic_write  # noqa: E402
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential  # noqa: E402
from tinytorch.optim import SGD, Adam  # noqa: E402
from tinytorch.perf.benchmarking import benchmark_interleaved, system_metadata  # noqa: E402
from tinytorch.perf.measure import format_seconds  # noqa: E402
from tinytorch.perf.memoization import generate_cached  # noqa: E402
from tinytorch.perf.roofline import measure_peak  # noqa: E402
from tinytorch.text import GPT  # noqa: E402
from tinytorch.vision import Conv2d, Flatten, MaxPool2d  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
Step = Callable[[], object]


@dataclass
class Workload:
    """One row: a tinytorch step, its PyTorch twin (or None), FLOPs per step if GEMM-bound."""

    name: str
    target: float
    ours: Step
    theirs: Step | None
    flops: int | None = None


@dataclass
class Row:
    """What one workload measured (seconds are medians per step)."""

    name: str
    target: float
    tinytorch_s: float
    torch_s: float | None = None
    flops: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return None if self.torch_s is None else self.tinytorch_s / self.torch_s


def rng_array(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


def labels(n: int, classes: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, classes, size=n)


def train_step(model: Any, optimizer: Any, loss_fn: Any, x: Any, y: Any) -> Step:
    """zero_grad, forward, loss, backward, step: the same five calls in both frameworks."""

    def step() -> None:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    return step


# ============================================================================= workloads


def mlp(torch: Any) -> Workload:
    x, y = rng_array(64, 64), labels(64, 10)
    manual_seed(0)
    model = Sequential(Linear(64, 128), ReLU(), Linear(128, 10))
    ours = train_step(model, Adam(model.parameters()), CrossEntropyLoss(), Tensor(x), y)
    theirs = None
    if torch is not None:
        nn = torch.nn
        twin = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
        theirs = train_step(
            twin, torch.optim.Adam(twin.parameters()), nn.CrossEntropyLoss(),
            torch.from_numpy(x), torch.from_numpy(y),
        )  # fmt: skip
    return Workload("MLP 64-128-10, Adam step, batch 64", 0.6, ours, theirs)


CONV_INPUT, FILTERS, KERNEL = (128, 3, 32, 32), 32, 5


def conv(torch: Any, backward: bool) -> Workload:
    manual_seed(0)
    layer = Conv2d(3, FILTERS, KERNEL)
    x = Tensor(rng_array(*CONV_INPUT), requires_grad=True)
    macs = layer.macs(CONV_INPUT)

    def ours() -> None:
        out = layer(x)
        if backward:
            x.grad = None
            layer.zero_grad()
            out.sum().backward()

    theirs = None
    if torch is not None:
        twin = torch.nn.Conv2d(3, FILTERS, KERNEL)
        tx = torch.from_numpy(rng_array(*CONV_INPUT)).requires_grad_()

        def theirs() -> None:
            out = twin(tx)
            if backward:
                tx.grad = None
                twin.zero_grad()
                out.sum().backward()

    what = "fwd+bwd" if backward else "forward"
    return Workload(
        f"Conv2d {what}, (128,3,32,32) -> 32 x 5x5",
        1.0 if backward else 1.5,
        ours,
        theirs,
        flops=(6 if backward else 2) * macs,  # backward: two more GEMMs of the same size
    )


def cnn(torch: Any) -> Workload:
    """Milestone 4's LeNet-style CNN on 28x28 digits."""
    x, y = rng_array(64, 1, 28, 28), labels(64, 10)
    manual_seed(0)
    model = Sequential(
        Conv2d(1, 16, 3, padding=1), ReLU(), MaxPool2d(2),
        Conv2d(16, 32, 3, padding=1), ReLU(), MaxPool2d(2),
        Flatten(), Linear(32 * 7 * 7, 10),
    )  # fmt: skip
    ours = train_step(model, SGD(model.parameters(), lr=0.01), CrossEntropyLoss(), Tensor(x), y)
    theirs = None
    if torch is not None:
        nn = torch.nn
        twin = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
        )  # fmt: skip
        theirs = train_step(
            twin, torch.optim.SGD(twin.parameters(), lr=0.01), nn.CrossEntropyLoss(),
            torch.from_numpy(x), torch.from_numpy(y),
        )  # fmt: skip
    return Workload("LeNet-style CNN, SGD step, batch 64, 28x28", 1.0, ours, theirs)


GPT_SHAPE = {"vocab_size": 1000, "d_model": 64, "n_heads": 4, "n_layers": 2}
GPT_BATCH, GPT_T = 32, 64


def torch_gpt(torch: Any, vocab_size: int, d_model: int, n_heads: int, n_layers: int) -> Any:
    """tinytorch's GPT layout in PyTorch: learned positions, pre-norm blocks, GELU MLP."""
    nn, F = torch.nn, torch.nn.functional

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
            self.q, self.k, self.v, self.o = (nn.Linear(d_model, d_model) for _ in range(4))
            self.fc, self.proj = nn.Linear(d_model, 4 * d_model), nn.Linear(4 * d_model, d_model)

        def forward(self, x: Any) -> Any:
            b, t, _ = x.shape
            h = self.ln1(x)
            q, k, v = (
                p(h).view(b, t, n_heads, -1).transpose(1, 2) for p in (self.q, self.k, self.v)
            )
            att = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.o(att.transpose(1, 2).reshape(b, t, d_model))
            return x + self.proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))

    class TorchGPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok, self.pos = nn.Embedding(vocab_size, d_model), nn.Embedding(256, d_model)
            self.blocks = nn.ModuleList(Block() for _ in range(n_layers))
            self.ln_f, self.head = nn.LayerNorm(d_model), nn.Linear(d_model, vocab_size)

        def forward(self, ids: Any) -> Any:
            x = self.tok(ids) + self.pos(torch.arange(ids.shape[1]))
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x))

    return TorchGPT()


def gpt(torch: Any) -> Workload:
    ids = labels(GPT_BATCH * (GPT_T + 1), GPT_SHAPE["vocab_size"]).reshape(GPT_BATCH, -1)
    inputs, targets = ids[:, :-1], ids[:, 1:].reshape(-1)
    manual_seed(0)
    model = GPT(**GPT_SHAPE, max_len=GPT_T)
    vocab = GPT_SHAPE["vocab_size"]
    loss_fn = CrossEntropyLoss()
    ours = train_step(
        lambda i: model(i).reshape(-1, vocab), Adam(model.parameters()), loss_fn, inputs, targets
    )
    theirs = None
    if torch is not None:
        twin = torch_gpt(torch, **GPT_SHAPE)
        theirs = train_step(
            lambda i: twin(i).reshape(-1, vocab), torch.optim.Adam(twin.parameters()),
            torch.nn.CrossEntropyLoss(), torch.from_numpy(inputs), torch.from_numpy(targets),
        )  # fmt: skip
    return Workload(
        f"GPT d64 L2 H4 V1000, Adam step, batch {GPT_BATCH}, T {GPT_T}", 1.2, ours, theirs
    )


# ============================================================================= measuring


def measure(work: Workload, rounds: int, min_seconds: float) -> Row:
    """Median seconds per step of both sides, timed in alternating rounds."""
    fns = {"tinytorch": work.ours}
    if work.theirs is not None:
        fns["torch"] = work.theirs
    for fn in fns.values():
        fn()  # first call: allocations, lazy imports
    per_call = min(benchmark_interleaved(fns, warmup=0, repeats=2)["tinytorch"].samples)
    number = max(1, int(min_seconds / max(per_call, 1e-7)))
    results = benchmark_interleaved(fns, warmup=1, repeats=rounds, number=number)
    theirs = results.get("torch")
    return Row(
        work.name,
        work.target,
        results["tinytorch"].median,
        theirs.median if theirs else None,
        work.flops,
        {"samples": {k: list(r.samples) for k, r in results.items()}, "number": number},
    )


def generation_row(torch: Any, rounds: int, new_tokens: int = 200, prompt_len: int = 8) -> Row:
    """Greedy generation at batch 1: uncached vs KV-cached tinytorch (+ PyTorch uncached)."""
    manual_seed(0)
    model = GPT(**GPT_SHAPE, max_len=256)
    prompt = labels(prompt_len, GPT_SHAPE["vocab_size"])[None, :]
    same = {
        b: bool(
            np.array_equal(
                model.generate(np.repeat(prompt, b, 0), new_tokens, temperature=0.0),
                generate_cached(model, np.repeat(prompt, b, 0), new_tokens),
            )
        )
        for b in (1, 8)
    }
    fns: dict[str, Step] = {
        "uncached": lambda: model.generate(prompt, new_tokens, temperature=0.0),
        "cached": lambda: generate_cached(model, prompt, new_tokens),
    }
    if torch is not None:
        twin = torch_gpt(torch, **GPT_SHAPE).eval()
        tprompt = torch.from_numpy(prompt)

        def torch_uncached() -> None:
            ids = tprompt
            with torch.no_grad():
                for _ in range(new_tokens):
                    nxt = twin(ids)[:, -1].argmax(-1, keepdim=True)
                    ids = torch.cat([ids, nxt], dim=1)

        fns["torch uncached"] = torch_uncached
    results = benchmark_interleaved(fns, warmup=1, repeats=max(3, rounds // 3))
    medians = {name: r.median for name, r in results.items()}
    return Row(
        f"Greedy generation, {new_tokens} tokens, batch 1: cached vs uncached",
        20.0,
        medians["cached"],
        None,
        extra={
            "seconds": medians,
            "speedup": medians["uncached"] / medians["cached"],
            "per_token_s": medians["cached"] / new_tokens,
            "identical": same,
        },
    )


# ============================================================================= reporting


def gflops(row: Row, seconds: float | None, peak: float) -> str:
    """Achieved GFLOP/s and its share of the single-core peak, for GEMM-bound rows."""
    if not (row.flops and seconds):
        return ""
    rate = row.flops / seconds
    return f"{rate / 1e9:.1f} ({rate / peak:.0%})"


def print_table(rows: list[Row], torch_version: str | None, peak_flops: float) -> None:
    print(
        f"\n  {'workload':<50}{'tinytorch':>11}{'PyTorch':>11}{'ratio':>8}{'target':>9}"
        f"{'':9}{'GFLOP/s (of peak): ours':>24}{'PyTorch':>13}"
    )
    for row in rows:
        if "speedup" in row.extra:
            continue
        ratio = row.ratio
        verdict = "" if ratio is None else ("met" if ratio <= row.target else "NOT met")
        print(
            f"  {row.name:<50}{format_seconds(row.tinytorch_s):>11}"
            f"{format_seconds(row.torch_s) if row.torch_s else '-':>11}"
            f"{f'{ratio:.2f}x' if ratio else '':>8}{f'<= {row.target}':>9} {verdict:<8}"
            f"{gflops(row, row.tinytorch_s, peak_flops):>24}"
            f"{gflops(row, row.torch_s, peak_flops):>13}"
        )
    print(f"  single-core peak (Module 14, 512^3 float32 matmul): {peak_flops / 1e9:.1f} GFLOP/s")
    for row in rows:
        if "speedup" not in row.extra:
            continue
        e = row.extra
        s = e["seconds"]
        met = "met" if e["speedup"] >= row.target and all(e["identical"].values()) else "NOT met"
        torch_part = (
            f"; PyTorch uncached {format_seconds(s['torch uncached'])}"
            if "torch uncached" in s
            else ""
        )
        print(
            f"  {row.name}: {format_seconds(s['cached'])} vs {format_seconds(s['uncached'])} = "
            f"{e['speedup']:.1f}x (target >= {row.target:.0f}x, {met}); "
            f"{format_seconds(e['per_token_s'])} per cached token (target <= 100 us)"
            f"{torch_part}; identical tokens at batch 1: {e['identical'][1]}, "
            f"batch 8: {e['identical'][8]}"
        )
    if torch_version is None:
        print("  PyTorch not installed: `nox -s bench -- --compare-torch` adds its column")


def write_record(out_dir: Path, rows: list[Row], torch_version: str | None, peak: Any) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    record = {
        "system": system_metadata(),
        "torch": torch_version,
        "peak_flops_per_s": peak.flops_per_s,
        "peak_bytes_per_s": peak.bytes_per_s,
        "rows": [{**asdict(row), "ratio": row.ratio} for row in rows],
    }
    path = out_dir / f"torch-compare-{stamp}.json"
    with atomic_write(path, "w", encoding="utf-8") as file:
        json.dump(record, file, indent=1)
    return path


#: The rows, in the order they print; each is measured in a fresh process (see main).
ROWS: dict[str, Callable[[Any], Workload]] = {
    "mlp": mlp,
    "conv forward": partial(conv, backward=False),
    "conv fwd+bwd": partial(conv, backward=True),
    "cnn": cnn,
    "gpt": gpt,
}


def load_torch() -> Any:
    """PyTorch on one thread, seeded, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    torch.manual_seed(0)
    return torch


def measure_row(name: str, rounds: int, min_seconds: float) -> Row:
    """One row, both frameworks, in the calling process (main gives each a fresh one)."""
    torch = load_torch()
    if name == "generation":
        return generation_row(torch, rounds)
    return measure(ROWS[name](torch), rounds, min_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench")
    args = parser.parse_args(argv)
    torch = load_torch()
    version = torch.__version__ if torch is not None else None
    rounds, min_seconds = (3, 0.02) if args.quick else (15, 0.1)
    meta = system_metadata()
    print(
        f"tinytorch vs PyTorch {version or '(not installed)'} — Python {meta['python']}, "
        f"NumPy {meta['numpy']}, BLAS on {meta['blas_threads'] or '?'} thread(s), "
        f"{meta['cpu_count']} CPUs; medians of {rounds} alternating rounds, "
        "each row in a fresh process, allocator settled"
    )
    peak = measure_peak()
    # What a process freed earlier decides whether glibc hands a multi-MB array back as
    # fresh pages (thousands of page faults a step: each a trip into the kernel) or
    # reuses memory it kept; that moved both columns by 2x or more depending on which
    # rows ran before (PyTorch's Conv2d 7 -> 28 ms, the CNN step 18 -> 35 ms). So each
    # row runs in a fresh process whose allocator keeps what it frees (glibc's
    # documented tunables; arrays up to 32 MiB come from the heap): both frameworks are
    # timed in the same steady state, compute and memory traffic rather than page faults.
    os.environ.update(MALLOC_TRIM_THRESHOLD_=str(1 << 30), MALLOC_MMAP_THRESHOLD_=str(32 << 20))
    with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        rows = [
            pool.apply(measure_row, (name, rounds, min_seconds)) for name in [*ROWS, "generation"]
        ]
    print_table(rows, version, peak.flops_per_s)
    print(f"\n  record: {write_record(args.out, rows, version, peak)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
