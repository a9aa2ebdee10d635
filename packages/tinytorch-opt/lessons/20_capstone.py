# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 20 · Capstone — an MLPerf-style submission that anyone can check
#
# The last module closes the loop of the optimization tier: Profile → Optimize →
# Benchmark → Submit. A submission is the record of one optimized model measured
# against its baseline on one machine: accuracy as a fraction, latency in seconds with
# its confidence interval, size in bytes, throughput, the improvement over the baseline
# with its significance, and the system it ran on. It is written as JSON against a
# JSON Schema, atomically, and `validate_submission` checks not only the shape of a
# file but also that its numbers agree with each other, listing every problem at once.
# That is what lets a leaderboard compare submissions from different people and
# machines without trusting any of them.
#
# ## Connection map
#
# - **Prerequisites**: 14 Profiling (size, FLOPs), 15 Quantization, 16 Compression,
#   17 Memoization and 18 Acceleration (the optimizations), and 19 Benchmarking
#   (latency with confidence intervals, `compare()`, `system_metadata()`).
# - **This module**: the submission format (a draft 2020-12 JSON Schema shipped as
#   `schema.json`), `ModelResult`, `make_submission` with normalized metrics and the
#   improvement over a baseline, atomic `write_submission`, and `validate_submission`;
#   and `save_model`, which lets a submission carry the models it is about.
# - **Unlocks**: Milestone 6 (Profile → Optimize → Benchmark → Submit) and classroom
#   leaderboards that compare submissions from different machines.

# %%
import copy
import json
import tempfile
from pathlib import Path

import numpy as np

from tinytorch.capstone import (
    Inputs,
    ModelResult,
    SubmissionError,
    load_model,
    load_schema,
    load_submission,
    make_submission,
    models_folder,
    save_model,
    validate_submission,
    write_submission,
)
from tinytorch.core import Tensor
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
from tinytorch.perf.benchmarking import benchmark
from tinytorch.perf.compression import fine_tune, prune_structured
from tinytorch.perf.profiling import Profiler
from tinytorch.perf.quantization import model_size_bytes, quantize_model
from tinytorch_learn.lesson import run_tests, trained_tinydigits_mlp

workdir = Path(tempfile.mkdtemp(prefix="tinytorch-capstone-"))

# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/capstone/submission.py`**:
#
# - `ModelResult.to_dict`: the schema's `result` object: model, accuracy, the latency
#   summary of Module 19, size, batch size, throughput = batch size / median latency,
#   and the parameter count when known.
# - `improvement`: speed-up (baseline median / optimized median), size reduction,
#   accuracy delta (optimized − baseline) and throughput gain.
# - `_read`: parse a file as JSON only, noting every duplicate key instead of stopping,
#   keeping over-long integer literals as markers (the given `_parse_int`), and turning
#   a syntax error into a problem with its line and column. The size and nesting bounds
#   before it are given; NaN and Infinity parse to floats that the validator refuses at
#   their location, exactly as it does for the same value in a dict.
# - `_schema_problems`: every violation of the schema (not just the first), each as
#   `$.location: message`, in document order, with the validator whose "number" is a
#   JSON number (finite: never NaN or ±Infinity).
# - `_result_problems`: what the schema cannot express: the interval must contain the
#   statistic it is for, and the throughput must follow from batch size and latency.
# - `_improvement_problems`: the stated improvement must be what the two results give,
#   and the significance flag must agree with p < α.
# - `write_submission`: validate first (refuse with every problem, write nothing), then
#   write through `atomic_write` (`tinytorch.files`), which writes a temporary file in
#   the same folder, flushes and fsyncs it and `os.replace`s it over the target.
#
# `make_submission`, `load_schema`, `_time_problems`, `validate_submission` and
# `load_submission` are given.

# %% [markdown]
# ## Use
#
# **Profile.** The Milestone 3 MLP on TinyDigits, trained for a few seconds, then
# profiled on the batch size we will serve (64):

# %%
# Trained by tinytorch_learn.lesson (seeded, 10 epochs of Adam); lessons 15, 16, 20 share it.
baseline_model, (x_train, y_train, x_test, y_test) = trained_tinydigits_mlp()


def accuracy(net) -> float:
    return float((net(Tensor(x_test)).data.argmax(axis=1) == y_test).mean())


print(Profiler(warmup=2, repeats=10).profile(baseline_model, (64, 64)))

# %% [markdown]
# **Optimize** with int8 post-training quantization (Module 15), and **benchmark** both
# models the careful way (Module 19):

# %%
int8_model = quantize_model(baseline_model, x_train[:256])
batch = Tensor(x_test[:64])
float_latency = benchmark(lambda: baseline_model(batch), warmup=3, repeats=30, name="float32")
int8_latency = benchmark(lambda: int8_model(batch), warmup=3, repeats=30, name="int8")
print(float_latency)
print(int8_latency)

# %% [markdown]
# **Submit.** Two `ModelResult` records, one submission with the improvement, its
# significance (a permutation test on the medians, which a few slow outlier runs
# cannot sway) and this machine's metadata; written atomically, validated, read back.

# %%
baseline = ModelResult(
    "m3-mlp-float32",
    accuracy(baseline_model),
    float_latency,
    model_size_bytes(baseline_model),
    batch_size=64,
    parameters=baseline_model.num_parameters(),
)
optimized = ModelResult(
    "m3-mlp-int8", accuracy(int8_model), int8_latency, model_size_bytes(int8_model), batch_size=64
)
# Who submits, for which task, against which baseline: the same for every entry, so
# that a leaderboard can rank the entries against each other.
entry_fields = dict(
    submitter="lesson 20",
    task="digit classification",
    dataset="TinyDigits",
    accuracy_target=0.95,
    test="permutation",
    baseline=baseline,
)
submission = make_submission(
    **entry_fields,
    optimized=optimized,
    optimizations=["int8 post-training static quantization, per-channel weights"],
)
path = write_submission(workdir / "int8.json", submission)
print(f"wrote {path.name}: {path.stat().st_size:,} bytes, problems: {validate_submission(path)}")
print(json.dumps(load_submission(path)["improvement"], indent=2))

# %% [markdown]
# **Carry the models.** Validation proves that the numbers agree with each other, not
# that they are true. A classroom leaderboard can measure them again if the submission
# carries its two models: `save_model` (given, in `tinytorch/capstone/models.py`) writes
# each as JSON naming its layers and their arguments, plus an `.npz` of its arrays: data,
# never code, so the leaderboard rebuilds the model from its own copy of the course's
# layers and times it on its own machine, on a held-out set it names (`tinydigits`).

# %%
folder = models_folder(path)  # int8.json -> int8.model/
save_model(folder / "baseline.json", baseline_model, "tinydigits", Inputs((64,)))
save_model(folder / "optimized.json", int8_model, "tinydigits", Inputs((64,)))
reloaded = load_model(folder / "optimized.json")
same = np.array_equal(reloaded.model(batch).data, int8_model(batch).data)
print(sorted(p.name for p in folder.iterdir()), f"same outputs: {same}")

# %% [markdown]
# **A file that lies.** Change a few numbers by hand and validate:

# %%
tampered = copy.deepcopy(submission)
tampered["improvement"]["speedup"] = 3.0
tampered["optimized"]["accuracy"] = 1.5
del tampered["system"]
for problem in validate_submission(tampered):
    print("-", problem)

# %% [markdown]
# ### Run this module's tests

# %%
run_tests("20")

# %% [markdown]
# ## Reflect
#
# **Q1 · A slower "optimization".** Read the submission's improvement block. The int8
# model is smaller and as accurate, but is it faster? Why, and is the submission still
# worth making?

# %%
# competency: efficiency/measures
### BEGIN SOLUTION
figures = submission["improvement"]
verdict = (
    f"speed-up {figures['speedup']:.2f}x (significant: {figures['significance']['significant']}), "
    f"{figures['size_reduction']:.2f}x smaller, accuracy {figures['accuracy_delta']:+.3f}"
)
### END SOLUTION
print(verdict)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** It is about 3.6× smaller with the same accuracy, but slower: NumPy has no
# integer matrix product, so the int8 path quantizes the input, converts to floats
# for an exact BLAS call and rescales, several extra passes over the data that int8
# hardware would not need. The speed-up comes out below 1 and is not significant in the
# "faster" direction, and the submission says so. That is the point of recording
# instead of claiming: a 3.6× size reduction is valuable on its own (download size,
# memory per replica), and anyone reading it knows what they get and what they do not.
# On hardware with int8 instructions the same model would also be faster; that claim
# needs its own measurement on that hardware.
# ### END SOLUTION
#
# **Q2 · A second entry and a leaderboard.** Build a competing entry: remove half of the
# hidden neurons by structured pruning (Module 16), fine-tune, then rebuild the model
# with a hidden layer of 128 so the savings become speed. Benchmark it, submit it, and
# rank the two entries by speed-up among those that meet the accuracy target.

# %%
# competency: models/optimizes, deployment/measures
### BEGIN SOLUTION
pruned = copy.deepcopy(baseline_model)
fine_tune(prune_structured(pruned, 0.5, layers=["0"]), x_train, y_train, CrossEntropyLoss())
kept = np.flatnonzero(np.abs(pruned.stages[0].weight.data).sum(axis=0))
narrow = Sequential(Linear(64, len(kept)), ReLU(), Linear(len(kept), 10))
narrow.stages[0].weight.data = pruned.stages[0].weight.data[:, kept].copy()
narrow.stages[0].bias.data = pruned.stages[0].bias.data[kept].copy()
narrow.stages[2].weight.data = pruned.stages[2].weight.data[kept].copy()
narrow.stages[2].bias.data = pruned.stages[2].bias.data.copy()
narrow_latency = benchmark(lambda: narrow(batch), warmup=3, repeats=30, name="narrow")
narrow_result = ModelResult(
    "m3-mlp-pruned-128",
    accuracy(narrow),
    narrow_latency,
    model_size_bytes(narrow),
    64,
    narrow.num_parameters(),
)
second = make_submission(
    **entry_fields,
    optimized=narrow_result,
    optimizations=["structured pruning of half the hidden neurons, fine-tuned, rebuilt narrower"],
)
write_submission(workdir / "pruned.json", second)
entries = [load_submission(p) for p in sorted(workdir.glob("*.json"))]
board = sorted(
    (e for e in entries if e["optimized"]["accuracy"] >= e["task"]["accuracy_target"]),
    key=lambda e: e["improvement"]["speedup"],
    reverse=True,
)
### END SOLUTION
print(f"{'entry':<20}{'accuracy':>9}{'speed-up':>10}{'smaller':>9}{'significant':>13}")
for entry in board:
    result, gain = entry["optimized"], entry["improvement"]
    print(
        f"{result['model']:<20}{result['accuracy']:>9.3f}{gain['speedup']:>9.2f}x"
        f"{gain['size_reduction']:>8.2f}x{gain['significance']['significant']!s:>13}"
    )

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** The rebuilt model has half the hidden neurons, so about half the FLOPs and
# parameters in two ordinary dense layers; it is measurably faster than the baseline
# (a significant speed-up, usually well above 1×) and within the accuracy target, while
# the int8 entry is smaller but slower. Which one "wins" depends on the ranking rule, so
# a leaderboard must fix it in advance: a metric (speed-up, size, or a combination), an
# accuracy target every entry must meet, and significance required for a speed claim.
# Ranking by the improvement over a baseline measured on the same machine, rather than
# by raw latency, is what makes entries from different machines comparable at all.
# ### END SOLUTION
#
# **Q3 · Why check the numbers against each other.** The schema already fixes types,
# ranges and required fields. Which lies in the tampered file above would pass the
# schema alone, and what else would a leaderboard be exposed to without those checks?
#
# ### BEGIN SOLUTION
# **Answer.** A speed-up of 3.0 is a perfectly valid number by the schema; only
# recomputing it from the two latencies shows that it is not what the results say.
# The same holds for a throughput that does not follow from batch size and latency, a
# median outside its own interval, or "significant: true" with p = 0.6. Without these
# cross-checks a leaderboard would rank whoever typed the best number. Listing every
# problem at once (instead of stopping at the first) means one round trip to fix a
# file, and reading it with `json` alone (never pickle, whose loading can run arbitrary
# code) means a hostile file can at worst be rejected.
# ### END SOLUTION
#
# **Q4 · Atomic writes.** Try to overwrite the valid submission with the tampered one.
# What is on disk afterwards? What would a plain `open(path, "w")` risk if the process
# were killed while writing?

# %%
# competency: deployment/implements
before = (workdir / "int8.json").read_text()
### BEGIN SOLUTION
try:
    write_submission(workdir / "int8.json", tampered)
except SubmissionError as refusal:
    refused_with = len(refusal.problems)
unchanged = (workdir / "int8.json").read_text() == before
leftovers = [p.name for p in workdir.iterdir() if p.name.endswith(".tmp")]
### END SOLUTION
print(
    f"refused with {refused_with} problems; file unchanged: {unchanged}; "
    f"temporary files: {leftovers}"
)

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Nothing changes: an invalid submission is refused before anything is
# written, and the old file stays as it was, with no temporary files left behind.
# Opening the target with `"w"` truncates it at once; a crash, a full disk or a kill
# in the middle then leaves half a file, and the previous good result is gone too.
# Writing a temporary file in the same folder, flushing and fsyncing it, then
# `os.replace`-ing it over the target is atomic on POSIX and Windows: a reader sees
# the old file or the new one, never a mixture. That is `atomic_write`, the one helper
# that checkpoints (Module 07) and tokenizer files (Module 10) use for the same reason.
# ### END SOLUTION
#
# **Q5 · What the schema fixes.** Look at the units the schema prescribes. Why seconds,
# bytes and fractions rather than "ms", "MB" and percentages, and why must the system
# block be there?

# %%
schema = load_schema()
print(schema["description"][:400])

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** One unit per quantity, in base units, means no submission can be
# misread by a factor of 1,000 (ms against s) or 1.048576 (MB against MiB), and every
# comparison is a plain division. Fractions avoid 95 being read as 95% or as 9,500%.
# The system block (CPU, BLAS and its threads, library and tier versions, time) is
# what makes a latency interpretable: the same model can differ several-fold between a
# laptop and a server, or between one BLAS thread and eight, so a number without its
# system can be quoted but not compared. MLPerf's rules exist for exactly these
# reasons, on a larger scale.
# ### END SOLUTION
