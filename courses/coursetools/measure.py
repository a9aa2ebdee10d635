"""What the leaderboard's sandboxed worker runs: measure one submitted model on held-out inputs.

:mod:`coursetools.leaderboard` copies a submission's models (``baseline.json``,
``optimized.json`` and their ``.npz``, written by Module 20's ``save_model``) into a
sandbox as its work folder, shows this file as ``ro/tools/measure.py`` and the held-out
inputs as ``ro/data/`` (``inputs-<set>.npy`` images, ``questions-<set>.json``: never the
labels or answers, which stay with the leaderboard), and calls :func:`measure` once per
model. The model is built by Module 20's ``load_model`` from the course's own tiers (layers
from an allow-list, arrays checked before they are read), so no code comes from the
submission; the sandbox bounds what a hostile file can cost (memory, time, disk).

Everything returned is plain JSON: the predicted labels (or answer texts), the raw timing
samples and the size in bytes. Accuracy, intervals and significance are computed by the
leaderboard, outside, from these.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from tinytorch.capstone.models import SavedModel, load_model
from tinytorch.core import Tensor, no_grad
from tinytorch.perf.benchmarking import system_metadata
from tinytorch.perf.measure import time_call

DATA = Path("..") / "ro" / "data"  # the worker's working directory is the sandbox's work/
CHUNK = 256  # held-out samples per forward pass when predicting


def measure(name: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Load ``<name>.json`` and measure it on the held-out set it names, with that set's
    settings from ``settings["sets"]`` (``warmup``, ``repeats``; a GPT's ``prompts``,
    ``new_tokens`` and ``answer_tokens``); classifiers are timed on ``batch_size`` samples."""
    saved = load_model(f"{name}.json")
    if saved.heldout not in settings["sets"]:
        raise ValueError(
            f"{name}.json names the held-out set {saved.heldout[:40]!r}; there are "
            f"{', '.join(sorted(settings['sets']))}"
        )
    protocol = {**settings["sets"][saved.heldout], "batch_size": settings["batch_size"]}
    if (saved.generation is not None) != ("new_tokens" in protocol):
        kind = "a language model" if saved.generation is not None else "a classifier"
        raise ValueError(f"{name}.json is {kind}, which {saved.heldout} cannot measure")
    measured = classify(saved, protocol) if saved.inputs is not None else generate(saved, protocol)
    return {"heldout": saved.heldout, "size_bytes": saved.size_bytes, **measured}


def classify(saved: SavedModel, protocol: dict[str, Any]) -> dict[str, Any]:
    """Predicted labels for every held-out image; seconds per forward pass on a batch."""
    images = np.load(DATA / f"inputs-{saved.heldout}.npy", allow_pickle=False)
    x = saved.inputs.prepare(images)
    with no_grad():
        logits = [saved.model(Tensor(x[i : i + CHUNK])).data for i in range(0, len(x), CHUNK)]
        batch = Tensor(np.resize(x, (protocol["batch_size"], *x.shape[1:])))
        timing = time_call(
            lambda: saved.model(batch), warmup=protocol["warmup"], repeats=protocol["repeats"]
        )
    return {
        "predictions": np.concatenate(logits).argmax(axis=-1),
        "samples": timing.samples,
        "batch_size": protocol["batch_size"],
    }


def generate(saved: SavedModel, protocol: dict[str, Any]) -> dict[str, Any]:
    """Greedy answers to every held-out question; seconds to generate ``new_tokens`` for
    ``prompts`` prompts of the most common prompt length at once."""
    questions = json.loads((DATA / f"questions-{saved.heldout}.json").read_text("utf-8"))
    generation, model = saved.generation, saved.model
    prompts = [generation.prompt_ids(question) for question in questions]
    answers = [""] * len(prompts)
    by_length: dict[int, list[int]] = {}
    for i, prompt in enumerate(prompts):
        by_length.setdefault(len(prompt), []).append(i)
    with no_grad():
        for length, members in by_length.items():
            ids = np.array([prompts[i] for i in members])
            out = generation.generate(model, ids, protocol["answer_tokens"], stop=True)
            for i, row in zip(members, out):
                answers[i] = generation.answer(row[length:])
        common = max(by_length, key=lambda length: len(by_length[length]))
        batch = np.array([prompts[i] for i in by_length[common]][: protocol["prompts"]])
        timing = time_call(
            lambda: generation.generate(model, batch, protocol["new_tokens"], stop=False),
            warmup=protocol["warmup"],
            repeats=protocol["repeats"],
        )
    return {
        "answers": answers,
        "samples": timing.samples,
        "batch_size": len(batch) * protocol["new_tokens"],
    }


def system() -> dict[str, Any]:
    """The machine the measurements ran on, as a submission's ``system`` block records it."""
    return system_metadata()
