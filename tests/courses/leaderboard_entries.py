"""Write the folder of submissions the leaderboard tests build a page from.

    python tests/courses/leaderboard_entries.py OUT      (the tiers' src folders on PYTHONPATH)

Run in its own process because it needs every tier, which the tooling session does not
install (the grader's sandbox refuses an environment holding one). It writes:

=========================  =====================================================================
alice/narrow.json          honest, with models: a 64-512-512-10 MLP made 64-16-10 (much faster,
                           smaller, a little less accurate)
alice/first-try.json       alice again, same task, claimed only: a smaller speed-up (set aside)
bob/inflated.json          with models whose optimized model *is* the baseline (speed-up ~1x),
                           claiming ten times the speed-up it measures
carol/claims-only.json     no models: a claimed 3x speed-up, unverified
eve/bad-model.json         valid, but its model names a layer outside the allow-list
broken.json                not JSON
tampered.json              a stated speed-up the two results do not give
x<b>y.json                 learner text that tries to be HTML and script, claimed only
=========================  =====================================================================
"""

from __future__ import annotations

import copy
import json
import sys
from itertools import pairwise
from pathlib import Path

import numpy as np

from tinytorch.capstone import (
    Inputs,
    ModelResult,
    make_submission,
    models_folder,
    save_model,
    write_submission,
)
from tinytorch.core import Tensor, manual_seed, no_grad
from tinytorch.datasets import load_tinydigits
from tinytorch.nn import CrossEntropyLoss, Linear, Module, ReLU, Sequential
from tinytorch.optim import Adam
from tinytorch.perf.benchmarking import BenchmarkResult, benchmark, summarize
from tinytorch.perf.quantization import model_size_bytes
from tinytorch.training import Trainer

X_TRAIN, Y_TRAIN = load_tinydigits("train", flatten=True)
X_TEST, Y_TEST = load_tinydigits("test", flatten=True)
DIGITS = {"heldout": "tinydigits", "inputs": Inputs((64,))}
TASK = {"task": "digit classification", "dataset": "TinyDigits test split", "accuracy_target": 0.85}


def trained(*sizes: int) -> Sequential:
    """An MLP with these layer sizes, trained for a few seconds on TinyDigits."""
    manual_seed(0)
    layers: list[Module] = []
    for fan_in, fan_out in pairwise(sizes):
        layers += [Linear(fan_in, fan_out), ReLU()]
    model = Sequential(*layers[:-1])
    optimizer = Adam(model.parameters(), lr=3e-3)
    Trainer(model, optimizer, CrossEntropyLoss(), progress=False).fit(X_TRAIN, Y_TRAIN, epochs=3)
    return model.eval()


def result(name: str, model: Module, latency: BenchmarkResult | None = None) -> ModelResult:
    """Accuracy and size as measured here; latency measured unless one is given."""
    batch = Tensor(X_TEST)
    with no_grad():
        accuracy = float((model(batch).data.argmax(axis=1) == Y_TEST).mean())
        latency = latency or benchmark(lambda: model(batch), warmup=2, repeats=10, name=name)
    return ModelResult(name, accuracy, latency, model_size_bytes(model), batch_size=len(X_TEST))


def submit(path: Path, learner: str, base: ModelResult, best: ModelResult, **extra: object) -> Path:
    document = make_submission(
        submitter=learner, baseline=base, optimized=best, optimizations=["narrower"], **TASK
    )
    document.update(extra)
    return write_submission(path, document)


def with_models(path: Path, baseline: Module, optimized: Module) -> None:
    for name, model in (("baseline", baseline), ("optimized", optimized)):
        save_model(models_folder(path) / f"{name}.json", model, **DIGITS)


def main(out: Path) -> None:
    wide, narrow = trained(64, 512, 512, 10), trained(64, 16, 10)
    wide_result = result("mlp-64-512-512-10", wide)

    path = submit(out / "alice" / "narrow.json", "alice", wide_result, result("mlp-16", narrow))
    with_models(path, wide, narrow)
    first = result("mlp-16 first try", narrow, summarize([wide_result.latency.median / 2] * 3))
    submit(out / "alice" / "first-try.json", "Alice", wide_result, first)

    # The optimized model is the baseline itself (speed-up ~1), its latency claimed 10x lower.
    inflated = summarize([s / 10 for s in wide_result.latency.samples], name="same-model")
    claimed = result("same-model, claimed 10x faster", wide, inflated)
    path = submit(out / "bob" / "inflated.json", "bob", wide_result, claimed)
    with_models(path, wide, wide)

    three = summarize([wide_result.latency.median / 3] * 3)
    submit(out / "carol" / "claims-only.json", "carol", wide_result, result("c", narrow, three))

    path = submit(out / "eve" / "bad-model.json", "eve", wide_result, result("e", narrow))
    with_models(path, wide, narrow)
    spec = json.loads((models_folder(path) / "optimized.json").read_text())
    spec["architecture"]["layers"][0]["type"] = "subprocess.Popen"
    (models_folder(path) / "optimized.json").write_text(json.dumps(spec))

    (out / "broken.json").write_text('{"schema_version": "1.0", "submitter": ')
    document = json.loads((out / "carol" / "claims-only.json").read_text())
    tampered = copy.deepcopy(document)
    tampered["improvement"]["speedup"] = 30.0
    (out / "tampered.json").write_text(json.dumps(tampered))

    hostile = copy.deepcopy(document)
    hostile["submitter"] = '<script>alert("submitter")</script>'
    hostile["optimized"]["model"] = '"><img src=x onerror=alert(1)>'
    hostile["task"]["name"] = "</style><b>bold</b>"
    hostile["optimizations"] = ["<svg onload=alert(2)>", "javascript:alert(3)"]
    (out / "x<b>y.json").write_text(json.dumps(hostile))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main(Path(sys.argv[1]))
