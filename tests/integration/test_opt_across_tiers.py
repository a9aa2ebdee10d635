"""The optimization tier working on the models of the two tiers below it.

Runs in the environment of ``nox -s integration``: all three tiers installed from their
wheels, so ``tinytorch.nn`` finds arch's and opt's layers through the entry points in the
installed metadata. An int8 copy of a CNN built from arch's Conv2d keeps its accuracy; a
GPT from arch generates the same tokens with opt's KV cache as without it; a capstone
submission is written and validated with the JSON Schema shipped inside the opt wheel.
"""

from __future__ import annotations

import json
from importlib import metadata

import numpy as np
import pytest

pytest.importorskip(
    "tinytorch.perf", reason="tinytorch-opt is not installed here: run `nox -s integration`"
)

import tinytorch.nn as nn
import tinytorch.perf.quantization as quantization
from tinytorch.capstone import (
    ModelResult,
    load_schema,
    make_submission,
    validate_submission,
    write_submission,
)
from tinytorch.core import Tensor, manual_seed, no_grad
from tinytorch.datasets import load_tinydigits
from tinytorch.optim import Adam, AdamW
from tinytorch.perf import benchmark, generate_cached, kv_cache_memory, quantize_model, size_report
from tinytorch.text import GPT
from tinytorch.training import Trainer, accuracy
from tinytorch.vision import Flatten


def test_the_opt_tier_under_test_comes_from_a_wheel_not_an_editable_checkout():
    for name in ("tinytorch-foundation", "tinytorch-arch", "tinytorch-opt"):
        direct_url = metadata.distribution(name).read_text("direct_url.json")
        editable = direct_url and json.loads(direct_url).get("dir_info", {}).get("editable")
        assert not editable, f"{name} is an editable install; run `nox -s integration`"


def test_tinytorch_nn_resolves_the_quantized_layers_through_entry_points():
    from tinytorch.nn import Conv2d, QuantizedConv2d, QuantizedLinear

    assert QuantizedLinear is quantization.QuantizedLinear
    assert QuantizedConv2d is quantization.QuantizedConv2d
    assert {"QuantizedLinear", "QuantizedConv2d", "Conv2d"} <= set(dir(nn))
    assert Conv2d.__module__ == "tinytorch.vision.spatial"


def test_an_int8_cnn_from_arch_conv2d_keeps_its_accuracy():
    from tinytorch.nn import Conv2d, MaxPool2d, QuantizedConv2d, QuantizedLinear

    (x_train, y_train), (x_test, y_test) = (load_tinydigits(s) for s in ("train", "test"))
    x_train, x_test = x_train[:, None], x_test[:, None]
    manual_seed(0)
    model = nn.Sequential(
        Conv2d(1, 8, 3, padding=1), nn.ReLU(), MaxPool2d(2), Flatten(), nn.Linear(128, 10)
    )
    optimizer = Adam(model.parameters(), lr=1e-2)
    Trainer(model, optimizer, nn.CrossEntropyLoss(), progress=False).fit(
        x_train, y_train, epochs=4, batch_size=64
    )
    model.eval()
    with no_grad():
        float_accuracy = accuracy(model(Tensor(x_test)).data, y_test)
    int8 = quantize_model(model, x_train[:256])
    assert isinstance(int8[0], QuantizedConv2d) and isinstance(int8[4], QuantizedLinear)
    with no_grad():
        int8_accuracy = accuracy(int8(Tensor(x_test)).data, y_test)
    assert float_accuracy > 0.9
    assert float_accuracy - int8_accuracy <= 0.01
    assert size_report(model, int8).weight_ratio == pytest.approx(4.0)


def test_a_kv_cached_gpt_from_arch_generates_exactly_what_the_uncached_one_does():
    manual_seed(0)
    rng = np.random.default_rng(0)
    model = GPT(vocab_size=11, d_model=16, n_heads=2, n_layers=2, max_len=32)
    optimizer = AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(80):  # learn to count up modulo 11
        tokens = (rng.integers(0, 11, (32, 1)) + np.arange(13)) % 11
        optimizer.zero_grad()
        loss_fn(model(tokens[:, :-1]).reshape(-1, 11), tokens[:, 1:].reshape(-1)).backward()
        optimizer.step()
    np.testing.assert_array_equal(
        generate_cached(model, np.array([3, 4, 5]), 5), [3, 4, 5, 6, 7, 8, 9, 10]
    )
    prompts = rng.integers(0, 11, (4, 3))
    np.testing.assert_array_equal(
        generate_cached(model, prompts, 30), model.generate(prompts, 30, temperature=0.0)
    )
    assert kv_cache_memory(model, 32, batch=4).total_bytes == model.kv_cache_bytes(32, batch=4)


def test_a_submission_validates_against_the_schema_shipped_in_the_wheel(tmp_path):
    assert load_schema()["title"] == "TinyTorch capstone submission"
    manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    x = Tensor(np.random.default_rng(0).standard_normal((128, 64)).astype(np.float32))
    int8 = quantize_model(model, x)
    with no_grad():
        timings = [
            benchmark(lambda m=m: m(x), warmup=1, repeats=5, name=name)
            for name, m in (("float32", model), ("int8", int8))
        ]
    results = [
        ModelResult(name, 0.5, timing, quantization.model_size_bytes(m), batch_size=128)
        for name, m, timing in zip(("float32", "int8"), (model, int8), timings)
    ]
    document = make_submission(
        submitter="integration test",
        task="random inputs",
        dataset="none",
        baseline=results[0],
        optimized=results[1],
        optimizations=["int8-quantization"],
    )
    path = write_submission(tmp_path / "submission.json", document)
    assert validate_submission(path) == []
    assert document["system"]["tiers"]["tinytorch-opt"] == metadata.version("tinytorch-opt")
