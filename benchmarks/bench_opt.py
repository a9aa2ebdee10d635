"""Optimization-tier benchmarks: ratios measured in one process (``nox -s bench -- opt``).

    python benchmarks/bench_opt.py                 every section
    python benchmarks/bench_opt.py profiler        only the named sections
    python benchmarks/bench_opt.py --list          the section names
    python benchmarks/bench_opt.py --blas-threads default   leave BLAS's thread count alone

BLAS runs on one thread unless told otherwise (needs threadpoolctl): on a shared or busy
machine, BLAS threads waiting for each other swamp every other effect (the BLAS-threads
lesson, which sets its own counts, shows by how much).

Sections (each a function registered in SECTIONS; a module adds its own the same way):
  profiler      Module 14: what the profiler adds to the forward pass it measures
                (target: < 5%), alternating plain and profiled rounds;
  roofline      Module 14: measured machine peak, and where a model's layers sit on it;
  acceleration  Module 18: every measured lesson as a table of ratios, and accelerate()
                on a model, with the significance of its speedup (Module 19's compare).
  quantization  Modules 15-16: the M3 MLP as float32, int8 (both compute paths), 90%
                pruned and distilled: accuracy, bytes and latency; int8 convolution on the CNN.
  kv-cache      Module 17: generation with and without the KV cache at 25/50/100/200 new
                tokens (target: >= 20x at 200 tokens, d_model 64), the growth of each, and
                a preallocated cache against one grown by concatenation.

Nothing here is asserted: the script prints what it measured, on this machine, now.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import statistics
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from tinytorch.core import Tensor, manual_seed, no_grad
from tinytorch.datasets import load_tinydigits
from tinytorch.nn import GELU, CrossEntropyLoss, Dropout, Linear, ReLU, Sequential
from tinytorch.optim import AdamW, CosineAnnealingLR
from tinytorch.perf.acceleration import accelerate, run_lessons, speedup_table
from tinytorch.perf.benchmarking import benchmark, compare, system_metadata
from tinytorch.perf.compression import (
    distill,
    fine_tune,
    prune_magnitude,
    sparse_size_bytes,
    sparsity,
)
from tinytorch.perf.measure import format_seconds, time_call
from tinytorch.perf.profiling import Profiler
from tinytorch.perf.quantization import COMPUTE_MODES, model_size_bytes, quantize_model
from tinytorch.perf.roofline import measure_peak, roofline
from tinytorch.training import Trainer, accuracy


def _arch_models() -> list[tuple[str, Any, Any]]:
    """A small CNN and GPT from the architecture tier, when it is installed."""
    try:
        from tinytorch.text.transformers import GPT
        from tinytorch.vision.spatial import Conv2d, Flatten, MaxPool2d
    except ImportError:
        print("  (tinytorch-arch not importable: CNN and GPT rows skipped)")
        return []
    rng = np.random.default_rng(0)
    cnn = Sequential(
        Conv2d(3, 16, 3, padding=1),
        ReLU(),
        MaxPool2d(2),
        Conv2d(16, 32, 3, padding=1),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Linear(32 * 8 * 8, 10),
    )
    gpt = GPT(vocab_size=64, d_model=64, n_heads=4, n_layers=2, max_len=64)
    return [
        ("CNN 3->16->32 on (16, 3, 32, 32)", cnn, Tensor(rng.standard_normal((16, 3, 32, 32)))),
        ("GPT d=64, 2 layers, on (4, 64) ids", gpt, rng.integers(0, 64, size=(4, 64))),
    ]


def models() -> list[tuple[str, Any, Any]]:
    manual_seed(0)
    rng = np.random.default_rng(0)
    mlp = Sequential(Linear(784, 256), ReLU(), Linear(256, 128), ReLU(), Linear(128, 10))
    return [
        ("MLP 784-256-128-10 on (64, 784)", mlp, Tensor(rng.standard_normal((64, 784)))),
        *_arch_models(),
    ]


# ============================================================================= sections


def wrapper_cost(layers: int = 200, repeats: int = 50) -> float:
    """Seconds the profiler adds per layer call: a chain of cheap layers, profiled vs not."""
    chain = Sequential(*[ReLU() for _ in range(layers)])
    x = Tensor(np.ones(1, dtype=np.float32))
    with no_grad():
        plain = time_call(lambda: chain(x), warmup=5, repeats=repeats).min
    profiled = Profiler(warmup=5, repeats=repeats, memory=False).profile(chain, x).timing.min
    return (profiled - plain) / layers


def bench_profiler(rounds: int = 9, repeats: int = 15) -> None:
    print("\n1. Profiler overhead: profiled forward pass vs the same pass unprofiled (target < 5%)")
    cost = wrapper_cost()
    print(
        f"   cost of timing one layer call (200 cheap layers, best of 50): {format_seconds(cost)}"
    )
    print("   measured: median over rounds (alternating, so drift hits both) of profiled/plain;")
    print("   bound: layer calls x that cost / plain time")
    print(f"  {'model':<38}{'calls':>6}{'plain':>11}{'profiled':>11}{'measured':>10}{'bound':>8}")
    for name, model, x in models():
        profiler = Profiler(warmup=1, repeats=repeats, memory=False)
        ratios, plain_times, profiled_times = [], [], []
        for _ in range(rounds):
            with no_grad():
                plain = time_call(lambda m=model, x=x: m(x), warmup=1, repeats=repeats).median
            profile = profiler.profile(model, x)
            ratios.append(profile.time / plain)
            plain_times.append(plain)
            profiled_times.append(profile.time)
        plain = statistics.median(plain_times)
        calls = sum(len(layer.calls) for layer in profile.layers)
        print(
            f"  {name:<38}{calls:>6}{format_seconds(plain):>11}"
            f"{format_seconds(statistics.median(profiled_times)):>11}"
            f"{100 * (statistics.median(ratios) - 1):>9.1f}%{100 * calls * cost / plain:>7.2f}%"
        )
    name, model, x = models()[0]
    print(f"\n  the profile of the {name.split(' on ')[0]}:")
    print("  " + str(Profiler(warmup=2, repeats=20).profile(model, x)).replace("\n", "\n  "))


def bench_roofline() -> None:
    print("\n2. Roofline: calibrated machine peak, and where each layer sits")
    peak = measure_peak()
    print(f"  {peak}")
    name, model, x = models()[0]
    profile = Profiler(warmup=2, repeats=20, memory=False).profile(model, x)
    report = roofline(model, peak=peak, profile=profile)
    print(f"  {name}:")
    print("  " + str(report).replace("\n", "\n  "))


def bench_acceleration() -> None:
    print("\n3. Acceleration lessons (Module 18): same result two ways, ratio of medians")
    print("  " + speedup_table(run_lessons()).replace("\n", "\n  "))
    print("\n   accelerate() on models, verified on a sample; speedup tested with Welch's t-test")
    manual_seed(0)
    rng = np.random.default_rng(0)
    gelu_mlp = Sequential(Linear(256, 1024), GELU(), Linear(1024, 256), GELU(), Linear(256, 10))
    x = Tensor(rng.standard_normal((128, 256)).astype(np.float32))
    candidates = [("GELU MLP 256-1024-256-10 on (128, 256)", gelu_mlp, x)]
    candidates += [(n, m, ids) for n, m, ids in models()[1:] if "GPT" in n]
    for name, model, sample in candidates:
        with no_grad():
            before = benchmark(lambda m=model, s=sample: m(s), warmup=3, repeats=30, name="before")
        report = accelerate(model, sample, repeats=0)
        with no_grad():
            after = benchmark(lambda m=model, s=sample: m(s), warmup=3, repeats=30, name="after")
        swapped = ", ".join(f"{s.original}x{len(s.layers)}" for s in report.applied) or "nothing"
        print(f"  {name}: swapped {swapped}, max |output diff| {report.max_abs_error:.1e}")
        print(f"    {before}\n    {after}\n    {compare(after, before)}")


def bench_quantization() -> None:
    print("\n4. Quantization and compression (Modules 15-16): the M3 MLP, trained here")
    (x_train, y_train), (x_test, y_test) = (
        load_tinydigits(split, flatten=True) for split in ("train", "test")
    )
    mean, scale = x_train.mean(axis=0), x_train.std(axis=0) + 0.1
    x_train, x_test = (x_train - mean) / scale, (x_test - mean) / scale
    manual_seed(0)
    teacher = Sequential(Linear(64, 256), ReLU(), Dropout(0.3), Linear(256, 10))
    optimizer = AdamW(teacher.parameters(), lr=3e-3, weight_decay=0.05)
    Trainer(
        teacher, optimizer, CrossEntropyLoss(), CosineAnnealingLR(optimizer, 10), progress=False
    ).fit(x_train, y_train, epochs=10, batch_size=64)
    pruned = copy.deepcopy(teacher)
    fine_tune(prune_magnitude(pruned, 0.9), x_train, y_train, CrossEntropyLoss())
    manual_seed(0)
    student = Sequential(Linear(64, 32), ReLU(), Linear(32, 10))
    distill(teacher, student, x_train, y_train, temperature=2.0, alpha=0.5, epochs=30)
    sample = x_train[:512]
    variants = [
        ("float32", teacher),
        ("int8 W8A8 (int32 accumulation)", quantize_model(teacher, sample)),
        ("int8 W8A32 (dequantized weights)", quantize_model(teacher, sample, compute="dequantize")),
        ("90% pruned + fine-tuned (CSR)", pruned),
        ("distilled student 64-32-10", student),
    ]
    batch = Tensor(x_test)
    print(f"   {len(x_test)} test rows; latency: median [95% CI] of one forward pass; bytes")
    print("   'all' counts scales, zero-points and biases (the pruned row: stored as CSR)")
    print(f"  {'model':<35}{'accuracy':>9}{'weights B':>11}{'all B':>8}{'latency':>31}{'speed':>9}")
    with no_grad():
        base = benchmark(lambda: teacher(batch), warmup=3, repeats=30, name="float32")
        for name, model in variants:
            model.eval()
            score = accuracy(model(batch).data, y_test)
            timing, note = base, ""
            if model is not teacher:
                timing = benchmark(lambda m=model: m(batch), warmup=3, repeats=30, name=name)
                tests = (
                    compare(timing, base, method="permutation"),
                    compare(base, timing, method="permutation"),
                )
                note = "" if any(t.significant for t in tests) else " ~"
            stored = sparse_size_bytes(model) if model is pruned else model_size_bytes(model)
            latency = (
                f"{format_seconds(timing.median)} [{format_seconds(timing.ci_low)}, "
                f"{format_seconds(timing.ci_high)}]"
            )
            print(
                f"  {name:<35}{score:>9.2%}{model_size_bytes(model, weights_only=True):>11,}"
                f"{stored:>8,}{latency:>31}{base.median / timing.median:>8.2f}x{note}"
            )
    print("   ~: no significant difference from float32 (permutation test on the medians)")
    print(f"   pruned: sparsity {sparsity(pruned):.0%}; {model_size_bytes(pruned):,} B dense")
    cnns = [(name, model, x) for name, model, x in models()[1:] if "CNN" in name]
    for name, model, x in cnns:
        print(f"\n   QuantizedConv2d: {name}, int8 vs float32")
        with no_grad():
            reference = model(x).data
            for compute in COMPUTE_MODES:
                quantized = quantize_model(model, x, compute=compute)
                error = np.abs(quantized(x).data - reference).max() / np.abs(reference).max()
                # float32 timed right before each variant, so both see the same machine state
                base = benchmark(lambda m=model, x=x: m(x), warmup=2, repeats=15, name="float32")
                timing = benchmark(
                    lambda m=quantized, x=x: m(x), warmup=2, repeats=15, name=compute
                )
                print(
                    f"  {compute:<11}{format_seconds(timing.median):>10} vs "
                    f"{format_seconds(base.median)}: {compare(timing, base).speedup:.2f}x, "
                    f"max |error| {error:.1%} of the largest output"
                )


def bench_kv_cache() -> None:
    from tinytorch.perf.benchmarking import summarize
    from tinytorch.perf.measure import peak_memory
    from tinytorch.perf.memoization import (
        KVCache,
        kv_cache_memory,
        scaling_table,
        time_generation,
    )
    from tinytorch.text.transformers import GPT

    target, prompt_len = 20.0, 8
    print(
        "\n5. KV cache (Module 17): greedy generation without and with the cache "
        f"(target: >= {target:.0f}x faster for 200 new tokens at d_model 64)"
    )
    manual_seed(0)
    model = GPT(vocab_size=1000, d_model=64, n_heads=4, n_layers=2, max_len=256)
    print(
        "   GPT d_model 64, 4 heads, 2 layers, 1,000-token vocabulary (Milestone 5's shape, "
        f"max_len 256), random weights; prompts of {prompt_len} tokens"
    )
    print(f"   {kv_cache_memory(model, 256)}")
    print(f"   (Module 13's GPT.kv_cache_bytes(256) = {model.kv_cache_bytes(256):,} B)")
    rng = np.random.default_rng(0)
    at_200 = {}
    for batch in (1, 4, 8, 16):
        prompt = rng.integers(0, model.vocab_size, (batch, prompt_len))
        if batch in (1, 16):  # the whole growth curve for one sequence and for many
            rows = time_generation(model, prompt, (25, 50, 100, 200), repeats=3)
            print(
                f"\n   batch of {batch} prompt(s): medians of 3 runs, after a checked warm-up run"
            )
            print("  " + scaling_table(rows, prompt_len).replace("\n", "\n  "))
        else:
            rows = time_generation(model, prompt, (200,), repeats=3)
        at_200[batch] = rows[-1]
    print(
        "\n   200 new tokens by batch size (Module 19: 95% CI of each median, Welch's t-test); "
        "the cache removes the per-token work, not each step's fixed cost per layer call"
    )
    print(f"  {'batch':>6}{'uncached':>30}{'cached':>30}{'speedup':>9}{'p':>10}  same  target")
    for batch, row in at_200.items():
        uncached = summarize(row.uncached.samples, "uncached")
        cached = summarize(row.cached.samples, "cached")
        verdict = compare(cached, uncached)
        met = "met" if verdict.speedup >= target and verdict.significant else "NOT met"
        cells = [
            f"{format_seconds(r.median)} [{format_seconds(r.ci_low)}, {format_seconds(r.ci_high)}]"
            for r in (uncached, cached)
        ]
        print(
            f"  {batch:>6}{cells[0]:>30}{cells[1]:>30}{verdict.speedup:>8.1f}x"
            f"{verdict.p_value:>10.1e}  {'yes' if row.identical else 'NO':<4}  {met}"
        )

    print(
        "\n   cache bookkeeping alone (one layer, 4 heads x 16, n one-token updates): "
        "preallocated vs grown by np.concatenate"
    )

    class GrowingCache:
        """The alternative: keep exactly what is used, reallocate and copy on every step."""

        def __init__(self) -> None:
            self.keys = self.values = None

        def update(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
            if self.keys is not None:
                k = Tensor(np.concatenate([self.keys.data, k.data], axis=2))
                v = Tensor(np.concatenate([self.values.data, v.data], axis=2))
            self.keys, self.values = k, v
            return k, v

    step = Tensor(rng.standard_normal((1, 4, 1, 16)).astype(np.float32))

    def fill(cache: Any, n: int) -> None:
        for _ in range(n):
            cache.update(step, step)

    header = f"{'n':>6}{'preallocated':>14}{'grown':>11}{'ratio':>8}"
    print(f"  {header}{'peak prealloc':>15}{'peak grown':>12}")
    for n in (256, 1024, 2048):
        fixed = time_call(lambda n=n: fill(KVCache(1, 4, 16, n), n), warmup=1, repeats=3)
        grown = time_call(lambda n=n: fill(GrowingCache(), n), warmup=1, repeats=3)
        peaks = [peak_memory(lambda n=n: fill(KVCache(1, 4, 16, n), n))]
        peaks.append(peak_memory(lambda n=n: fill(GrowingCache(), n)))
        print(
            f"  {n:>6}{format_seconds(fixed.median):>14}{format_seconds(grown.median):>11}"
            f"{grown.median / fixed.median:>7.1f}x{peaks[0] / 1024:>11.0f} KiB"
            f"{peaks[1] / 1024:>8.0f} KiB"
        )
    print(
        "   grown: O(n) bytes copied per step, O(n^2) in all, old and new arrays alive during "
        "each copy; preallocated: each step writes its own row, and max_len is reserved up front"
    )


# Registry: name -> section. A module that adds benchmarks appends its own entry.
SECTIONS: dict[str, Callable[[], None]] = {
    "profiler": bench_profiler,
    "roofline": bench_roofline,
    "acceleration": bench_acceleration,
    "quantization": bench_quantization,
    "kv-cache": bench_kv_cache,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sections", nargs="*", help=f"any of: {', '.join(SECTIONS)}")
    parser.add_argument("--list", action="store_true", help="list the sections and exit")
    parser.add_argument(
        "--blas-threads", default="1", help="BLAS threads for every section, or 'default'"
    )
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(SECTIONS))
        return
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    with _blas_threads(args.blas_threads):
        meta = system_metadata()
        blas = meta["blas"] or {}
        print(
            f"tinytorch opt benchmarks — Python {meta['python']}, NumPy {meta['numpy']}, "
            f"{meta['cpu_count']} CPUs, BLAS {blas.get('name')} {blas.get('version')} "
            f"on {meta['blas_threads'] or '?'} thread(s)"
        )
        for name in args.sections or SECTIONS:
            SECTIONS[name]()


def _blas_threads(setting: str) -> contextlib.AbstractContextManager:
    """Limit BLAS to ``setting`` threads for the run ('default': leave it alone)."""
    if setting == "default":
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ModuleNotFoundError:
        print("(threadpoolctl not installed: BLAS keeps its default thread count)")
        return contextlib.nullcontext()
    return threadpool_limits(limits=int(setting), user_api="blas")


if __name__ == "__main__":
    main(sys.argv[1:])
