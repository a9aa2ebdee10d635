"""Module 14 · Profiling — the specification, as tests.

FLOP counts are checked against hand calculations written out in each test; timing
functions are checked for what they return (never for how long anything took).
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from tinytorch.core import Tensor
from tinytorch.nn import GELU, Dropout, Linear, Module, ReLU, Sequential, Sigmoid, Softmax, Tanh
from tinytorch.perf.flops import (
    activation_flops,
    attention_flops,
    conv2d_flops,
    conv2d_output_shape,
    layer_norm_flops,
    linear_flops,
    matmul_flops,
)
from tinytorch.perf.measure import Timing, peak_memory, time_call
from tinytorch.perf.profiling import Profiler, amdahl_speedup, count_flops, count_parameters, leaves
from tinytorch.perf.roofline import MachinePeak, measure_peak, roofline, roofline_point
from tinytorch.vision import Conv2d, Flatten, MaxPool2d


def mlp() -> Sequential:
    return Sequential(Linear(4, 8), ReLU(), Linear(8, 3), Softmax())


# ============================================================================= FLOPs by hand


def test_matmul_costs_two_flops_per_multiply_accumulate() -> None:
    assert matmul_flops(2, 3, 4) == 2 * 2 * 3 * 4 == 48
    assert matmul_flops(2, 3, 4, batch=5) == 5 * 48
    assert matmul_flops(1000, 1000, 1000) == 2_000_000_000  # Module 01's "2 GFLOPs"


def test_linear_flops_are_the_matmul_plus_one_add_per_output_for_the_bias() -> None:
    # Linear(784, 128) on 32 rows: 32 * (2*784*128) for x @ W, then 32*128 bias adds.
    assert linear_flops(32, 784, 128) == 32 * 2 * 784 * 128 + 32 * 128 == 6_426_624
    assert linear_flops(32, 784, 128, bias=False) == 6_422_528


def test_conv2d_flops_match_the_papers_cifar_example() -> None:
    # (128, 3, 32, 32) through 32 filters of 5x5: 128*32*28*28 outputs, each a dot product
    # of 3*5*5 = 75 multiply-accumulates: 240,844,800 MACs = 481,689,600 FLOPs.
    macs = 128 * 32 * 28 * 28 * 3 * 5 * 5
    assert macs == 240_844_800
    assert conv2d_flops((128, 3, 32, 32), 32, 5, bias=False) == 2 * macs
    assert conv2d_flops((128, 3, 32, 32), 32, 5) == 2 * macs + 128 * 32 * 28 * 28


def test_conv2d_flops_follow_stride_padding_and_rectangular_kernels() -> None:
    # (1, 1, 5, 5), 3x3 kernel, stride 2, padding 1: H_out = (5 + 2 - 3) // 2 + 1 = 3,
    # so 9 outputs of 9 MACs each: 2*81 + 9 (bias) = 171.
    assert conv2d_output_shape((1, 1, 5, 5), 1, 3, stride=2, padding=1) == (1, 1, 3, 3)
    assert conv2d_flops((1, 1, 5, 5), 1, 3, stride=2, padding=1) == 171
    # 2 channels, 4 filters of (3, 1) on 6x4: outputs 4 * 4*4 = 64, each 2*3*1 = 6 MACs.
    assert conv2d_flops((1, 2, 6, 4), 4, (3, 1), bias=False) == 2 * 64 * 6


def test_conv2d_flops_name_the_op_and_shapes_when_the_kernel_does_not_fit() -> None:
    with pytest.raises(ValueError, match=r"conv2d_flops.*\(1, 1, 2, 2\)"):
        conv2d_flops((1, 1, 2, 2), 1, 3)
    with pytest.raises(ValueError, match="conv2d_flops"):
        conv2d_flops((3, 32, 32), 8, 3)


def test_attention_flops_by_hand() -> None:
    # batch 2, T = S = 4, E = 8, H = 2 heads of d = 4:
    #   Q K^T: per head 2*T*d*S = 128, x H x batch = 512;   P V: also 512
    #   scale: B*H*T*S = 64;   softmax: 5 * 64 = 320
    #   projections: 4 Linear(8, 8) on 8 rows: 4 * 8 * (2*8*8 + 8) = 4352
    assert attention_flops(2, 4, 8, 2, projections=False) == 512 + 512 + 64 + 320 == 1408
    assert attention_flops(2, 4, 8, 2) == 1408 + 4352 == 5760
    # Cross-attention over S = 6 keys: scores grow with T*S, K/V projections with S.
    # Q K^T and P V: batch * H * 2*T*d*S each; scale + softmax: 6 * batch*H*T*S.
    core = 2 * (2 * 2 * 2 * 4 * 4 * 6) + 6 * (2 * 2 * 4 * 6)
    assert core == 2112
    proj = 2 * linear_flops(8, 8, 8) + 2 * linear_flops(12, 8, 8)
    assert attention_flops(2, 4, 8, 2, kv_len=6) == core + proj


def test_attention_flops_grow_quadratically_with_sequence_length() -> None:
    short = attention_flops(1, 64, 32, 4, projections=False)
    long = attention_flops(1, 128, 32, 4, projections=False)
    assert long == 4 * short


@pytest.mark.ungraded
def test_attention_flops_refuse_heads_that_do_not_divide_the_embedding() -> None:
    with pytest.raises(ValueError, match="divisible"):
        attention_flops(1, 4, 10, 3)


def test_activation_flops_follow_the_documented_conventions() -> None:
    assert activation_flops("relu", 10) == 10
    assert activation_flops("tanh", 10) == 10
    assert activation_flops("sigmoid", 10) == 40  # negate, exp, add, divide
    assert activation_flops("gelu", 10) == 90  # x*x*x (2), *a, +x, *c, tanh, +1, *x, *0.5
    assert activation_flops("softmax", 10) == 50  # max, subtract, exp, sum, divide
    assert layer_norm_flops(10) == 70 and layer_norm_flops(10, affine=False) == 50
    with pytest.raises(KeyError, match="swish"):
        activation_flops("swish", 10)


def test_count_flops_of_a_model_adds_up_the_layers_it_ran() -> None:
    # Sequential(Linear(4, 8), ReLU, Linear(8, 3), Softmax) on 5 rows:
    #   5*(2*4*8 + 8) + 5*8*1 + 5*(2*8*3 + 3) + 5*3*5 = 360 + 40 + 255 + 75
    assert count_flops(mlp(), (5, 4)) == 730
    assert count_flops(mlp(), Tensor(np.ones((5, 4)))) == 730
    # Leading dimensions are rows too: (2, 5, 4) is 10 rows.
    assert count_flops(mlp(), (2, 5, 4)) == 1460


def test_count_flops_refuses_to_silently_skip_layers_it_has_no_rule_for() -> None:
    model = Sequential(Linear(4, 8), lambda x: x * 2.0, Linear(8, 3))
    with pytest.raises(ValueError, match=r"no FLOP rule for 1 \(function\).*register_flops"):
        count_flops(model, (5, 4))
    assert count_flops(model, (5, 4), strict=False) == linear_flops(5, 4, 8) + linear_flops(5, 8, 3)


def test_dropout_costs_nothing_in_evaluation() -> None:
    model = Sequential(Linear(4, 4), Dropout(0.5))
    assert count_flops(model, (2, 4)) == linear_flops(2, 4, 4) + 2 * 8
    model.eval()
    assert count_flops(model, (2, 4)) == linear_flops(2, 4, 4)


# ============================================================================= parameters


def test_profiles_count_parameters_per_layer_and_a_shared_layer_once() -> None:
    profile = Profiler(warmup=0, repeats=1, memory=False).profile(mlp(), (2, 4))
    assert [layer.params for layer in profile.layers] == [4 * 8 + 8, 0, 8 * 3 + 3, 0]
    assert profile.params == (4 * 8 + 8) + (8 * 3 + 3) == mlp().num_parameters()
    shared = Linear(4, 4)
    model = Sequential(shared, ReLU(), shared)
    assert Profiler(warmup=0, repeats=1, memory=False).profile(model, (2, 4)).params == 20


@pytest.mark.ungraded
def test_count_parameters_is_a_deprecated_name_of_num_parameters() -> None:
    with pytest.warns(DeprecationWarning, match="num_parameters"):
        assert count_parameters(Linear(784, 128)) == 100_480


# ============================================================================= the layer tree


class Encoder(Module):
    def __init__(self) -> None:
        self.layers = [Linear(4, 6), Linear(6, 4)]
        self.act = Tanh()

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = self.act(layer(x))
        return x


class Net(Module):
    def __init__(self) -> None:
        self.encoder = Encoder()
        self.head = Sequential(Linear(4, 2), Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encoder(x))


@pytest.mark.ungraded
def test_leaves_are_named_by_their_path_in_forward_order() -> None:
    names = [name for name, _ in leaves(Net())]
    assert names == ["encoder.layers.0", "encoder.layers.1", "encoder.act", "head.0", "head.1"]
    assert [name for name, _ in Net().named_modules()][:3] == ["", "encoder", "encoder.layers.0"]


@pytest.mark.ungraded
def test_a_layer_with_a_rule_is_a_leaf_even_alone() -> None:
    layer = Linear(3, 2)
    assert leaves(layer) == [("Linear", layer)]


# ============================================================================= wall time


def test_time_call_warms_up_then_takes_one_sample_per_repeat() -> None:
    calls = []
    timing = time_call(lambda: calls.append(1), warmup=2, repeats=4, number=3)
    assert len(calls) == 2 + 4 * 3
    assert isinstance(timing, Timing)
    assert len(timing.samples) == 4 and all(s >= 0 for s in timing.samples)
    assert timing.min <= timing.median <= timing.max
    assert timing.warmup == 2 and timing.number == 3
    assert "median" in str(timing) and "4 repeats" in str(timing)


@pytest.mark.parametrize(
    ("fn", "settings", "error", "problem"),
    [
        (lambda: None, dict(repeats=0), ValueError, "repeats must be >= 1, got 0"),
        (lambda: None, dict(warmup=-1), ValueError, "warmup must be >= 0, got -1"),
        (lambda: None, dict(number=2.5), TypeError, "number must be an int, got float 2.5"),
        (5, {}, TypeError, "fn must be callable .*got int 5"),
    ],
)
@pytest.mark.ungraded
def test_time_call_rejects_impossible_settings(fn, settings, error, problem) -> None:
    with pytest.raises(error, match=f"time_call: {problem}"):
        time_call(fn, **settings)


# ============================================================================= memory


def test_peak_memory_sees_numpy_buffers() -> None:
    peak = peak_memory(lambda: np.ones(1_000_000))  # 8,000,000 bytes of float64
    assert 8_000_000 <= peak < 8_000_000 + 64 * 1024
    assert peak_memory(lambda: None) < 4096


def test_peak_memory_counts_temporaries_that_are_gone_by_the_end() -> None:
    def makes_and_drops() -> int:
        big = np.zeros(500_000)  # 4 MB, freed before returning
        return int(big.size)

    assert peak_memory(makes_and_drops) >= 4_000_000


def test_peak_memory_leaves_tracing_as_it_found_it() -> None:
    assert not tracemalloc.is_tracing()
    peak_memory(lambda: np.ones(10))
    assert not tracemalloc.is_tracing()
    tracemalloc.start()
    try:
        assert peak_memory(lambda: np.ones(125_000)) >= 1_000_000
        assert tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()


# ============================================================================= Profiler


def test_profile_reports_every_layer_with_shapes_parameters_flops_and_time() -> None:
    model = mlp()
    profile = Profiler(warmup=1, repeats=3).profile(model, (5, 4))
    assert [layer.name for layer in profile.layers] == ["0", "1", "2", "3"]
    assert [layer.kind for layer in profile.layers] == ["Linear", "ReLU", "Linear", "Softmax"]
    first = profile.layer("0")
    assert first.input_shape == (5, 4) and first.output_shape == (5, 8)
    assert first.params == 40 and first.param_bytes == 160
    assert first.flops == linear_flops(5, 4, 8)
    assert profile.flops == 730 and profile.params == 67 and profile.unknown_flops == []
    assert len(profile.timing.samples) == 3
    for layer in profile.layers:
        assert len(layer.time_samples) == 3 and layer.time > 0
        assert 0.0 <= profile.fraction(layer.name) <= 1.0
    assert profile.bottleneck() in profile.layers
    with pytest.raises(KeyError, match="no layer 'missing'"):
        profile.layer("missing")


def test_profile_measures_peak_memory_per_layer_and_for_the_model() -> None:
    model = Sequential(Linear(64, 1000), ReLU())
    profile = Profiler(warmup=0, repeats=1).profile(model, (100, 64))
    output_bytes = 100 * 1000 * 4  # each layer allocates at least its float32 output
    assert profile.layer("0").peak_bytes >= output_bytes
    assert profile.layer("1").peak_bytes >= output_bytes
    assert profile.peak_bytes >= output_bytes
    assert Profiler(repeats=1, memory=False).profile(model, (100, 64)).peak_bytes is None


def test_profile_bytes_moved_is_inputs_outputs_and_parameters() -> None:
    profile = Profiler(warmup=0, repeats=1, memory=False).profile(Linear(4, 8), (5, 4))
    (layer,) = profile.layers
    assert layer.bytes_moved == 5 * 4 * 4 + 5 * 8 * 4 + (4 * 8 + 8) * 4


def test_profile_counts_a_reused_layer_once_with_every_call() -> None:
    act = ReLU()
    model = Sequential(Linear(4, 4), act, Linear(4, 4), act)
    profile = Profiler(warmup=0, repeats=2, memory=False).profile(model, (3, 4))
    assert [layer.name for layer in profile.layers] == ["0", "1", "2"]
    assert len(profile.layer("1").calls) == 2
    assert profile.layer("1").flops == 2 * 12


def test_profile_leaves_the_model_exactly_as_it_was() -> None:
    model = Sequential(Linear(4, 8), lambda x: x * 2.0, GELU())
    x = Tensor(np.random.default_rng(0).standard_normal((3, 4)))
    before = model(x).data.copy()
    Profiler(warmup=1, repeats=2).profile(model, x)
    assert all("forward" not in vars(layer) for layer in (model[0], model[2]))
    assert model.stages[1].__name__ == "<lambda>"
    np.testing.assert_array_equal(model(x).data, before)


@pytest.mark.ungraded
def test_profile_restores_the_model_even_when_the_forward_pass_fails() -> None:
    model = Sequential(Linear(4, 8), Linear(5, 2))  # the second layer cannot take 8 features
    with pytest.raises(ValueError, match=r"Linear\.forward"):
        Profiler(warmup=0, repeats=1).profile(model, (3, 4))
    assert all("forward" not in vars(layer) for layer in model.stages)


def test_profile_marks_layers_without_a_rule_instead_of_guessing() -> None:
    model = Sequential(Linear(4, 8), lambda x: x * 2.0)
    profile = Profiler(warmup=0, repeats=1, memory=False).profile(model, (3, 4))
    assert profile.layer("1").flops is None
    assert profile.unknown_flops == ["1"]
    assert "no FLOP rule" in profile.table() and "+?" in profile.table()


def test_profile_table_lists_each_layer_and_the_totals() -> None:
    profile = Profiler(warmup=0, repeats=2).profile(Net(), (3, 4))
    table = str(profile)
    for name in ("encoder.layers.0", "encoder.layers.1", "encoder.act", "head.0", "head.1"):
        assert name in table
    assert "total" in table and "(between layers)" in table and "Profile of Net" in table
    assert "FLOPs" in table and "peak mem" in table
    assert f"{profile.params:,}" in table


def test_the_profiler_offers_each_measurement_on_its_own() -> None:
    profiler = Profiler(warmup=1, repeats=3)
    timing = profiler.time(lambda: np.ones(10))
    assert len(timing.samples) == 3 and timing.warmup == 1
    assert profiler.peak_memory(lambda: np.ones(125_000)) >= 1_000_000
    assert profiler.count_flops(mlp(), (5, 4)) == 730
    with pytest.raises(ValueError, match="repeats"):
        Profiler(repeats=0)


@pytest.mark.ungraded
def test_profile_rejects_inputs_it_cannot_turn_into_a_tensor() -> None:
    with pytest.raises(TypeError, match="shape tuple"):
        Profiler().profile(mlp(), "not an input")
    with pytest.raises(ValueError, match="at least one input"):
        Profiler().profile(mlp())


# ============================================================================= Amdahl's law


def test_amdahl_seventy_percent_twice_as_fast() -> None:
    # 1 / (0.3 + 0.7/2) = 1/0.65 = 1.538...: 1.54x rounded (the paper prints 1.53, truncated).
    assert amdahl_speedup(0.7, 2) == pytest.approx(1 / 0.65)
    assert round(amdahl_speedup(0.7, 2), 2) == 1.54


def test_amdahl_limits() -> None:
    assert amdahl_speedup(0.0, 100) == 1.0  # speeding up nothing changes nothing
    assert amdahl_speedup(1.0, 4) == pytest.approx(4.0)  # speeding up everything
    assert amdahl_speedup(0.5, 1) == 1.0
    assert amdahl_speedup(0.7, math.inf) == pytest.approx(1 / 0.3)  # the 30% caps it
    assert amdahl_speedup(1.0, math.inf) == math.inf
    assert amdahl_speedup(0.5, 0.5) == pytest.approx(1 / 1.5)  # a slowdown is a slowdown


@pytest.mark.ungraded
def test_amdahl_rejects_impossible_inputs() -> None:
    with pytest.raises(ValueError, match="fraction"):
        amdahl_speedup(1.2, 2)
    with pytest.raises(ValueError, match="factor"):
        amdahl_speedup(0.5, 0)


def test_a_profile_predicts_the_payoff_of_speeding_up_one_layer() -> None:
    profile = Profiler(warmup=0, repeats=2, memory=False).profile(mlp(), (5, 4))
    share = profile.fraction("0")
    assert profile.amdahl("0", 2) == pytest.approx(amdahl_speedup(share, 2))


# ============================================================================= roofline

PEAK = MachinePeak(flops_per_s=1e11, bytes_per_s=1e10)  # ridge at 10 FLOP/byte


def test_roofline_point_by_hand() -> None:
    assert PEAK.ridge == 10.0
    low = roofline_point("low", flops=1_000, bytes_moved=1_000, peak=PEAK)
    assert low.intensity == 1.0 and low.bound == "memory"
    assert low.attainable_flops_per_s == 1e10  # 1 FLOP/byte * 1e10 bytes/s
    high = roofline_point("high", flops=100_000, bytes_moved=1_000, peak=PEAK, seconds=1e-5)
    assert high.intensity == 100.0 and high.bound == "compute"
    assert high.attainable_flops_per_s == 1e11  # the compute roof
    assert high.achieved_flops_per_s == pytest.approx(1e10)
    assert high.efficiency == pytest.approx(0.1)
    with pytest.raises(ValueError, match="bytes"):
        roofline_point("none", 10, 0, PEAK)


def test_a_matrix_vector_layer_is_memory_bound_and_a_big_batch_compute_bound() -> None:
    # Linear(256, 256) on 1 row: 2*256*256 + 256 = 131,328 FLOPs, but the 263,168 weight
    # bytes must be read for it: intensity ~0.5 FLOP/byte, below the ridge (10).
    one_row = roofline(Linear(256, 256), (1, 256), peak=PEAK).point("Linear")
    assert one_row.flops == 131_328
    assert one_row.bytes == 256 * 4 + 256 * 4 + (256 * 256 + 256) * 4
    assert one_row.bound == "memory"
    # On 512 rows the same weights are reused 512 times: ~51 FLOP/byte, compute-bound.
    batch = roofline(Linear(256, 256), (512, 256), peak=PEAK).point("Linear")
    assert batch.intensity == pytest.approx(512 * 131_328 / (2 * 512 * 256 * 4 + 263_168))
    assert batch.bound == "compute"


def test_roofline_of_a_model_lists_each_layer_and_the_total() -> None:
    report = roofline(mlp(), (5, 4), peak=PEAK)
    assert [p.name for p in report.points] == ["0", "1", "2", "3"]
    assert report.total.flops == 730
    assert report.total.bytes == sum(p.bytes for p in report.points)
    assert all(p.achieved_flops_per_s is None for p in report.points)  # no clock involved
    assert "Roofline" in str(report) and "memory" in str(report)


def test_roofline_from_a_profile_adds_the_achieved_rate() -> None:
    model = mlp()
    profile = Profiler(warmup=0, repeats=2, memory=False).profile(model, (5, 4))
    report = roofline(model, peak=PEAK, profile=profile)
    assert all(p.achieved_flops_per_s > 0 for p in report.points)
    assert report.total.achieved_flops_per_s == pytest.approx(730 / profile.time)


def test_measure_peak_calibrates_flops_and_bandwidth() -> None:
    peak = measure_peak(n=64, copy_bytes=1 << 20, repeats=2)
    assert math.isfinite(peak.flops_per_s) and peak.flops_per_s > 0
    assert math.isfinite(peak.bytes_per_s) and peak.bytes_per_s > 0
    assert peak.ridge == pytest.approx(peak.flops_per_s / peak.bytes_per_s)
    assert "FLOP/s" in str(peak)


# ============================================================================= architecture tier


def test_conv2d_layers_are_counted_with_the_conv2d_formula() -> None:
    spatial = pytest.importorskip("tinytorch.vision.spatial")
    conv = spatial.Conv2d(3, 32, 3)
    assert conv.num_parameters() == 896  # the paper's 3 -> 32, 3x3 example
    assert count_flops(conv, (2, 3, 8, 8)) == conv2d_flops((2, 3, 8, 8), 32, 3)
    model = Sequential(
        spatial.Conv2d(1, 4, 3, padding=1),
        ReLU(),
        spatial.MaxPool2d(2),
        spatial.Flatten(),
        Linear(4 * 4 * 4, 10),
    )
    # conv 2*(2*4*8*8)*9 + 2*4*8*8 bias; relu 512; pool 2*4*4*4 windows of 4; linear.
    expected = (2 * 512 * 9 + 512) + 512 + 128 * 4 + 0 + linear_flops(2, 64, 10)
    assert count_flops(model, (2, 1, 8, 8)) == expected


def test_attention_and_transformer_layers_are_counted() -> None:
    attention = pytest.importorskip("tinytorch.text.attention")
    transformers = pytest.importorskip("tinytorch.text.transformers")
    assert count_flops(attention.MultiHeadAttention(8, 2), (2, 4, 8)) == 5760
    assert count_flops(transformers.LayerNorm(8), (2, 4, 8)) == 7 * 64
    # MLP(8, 32) on 8 tokens: Linear(8, 32), GELU on 8*32, Linear(32, 8).
    mlp_flops = linear_flops(8, 8, 32) + 9 * 8 * 32 + linear_flops(8, 32, 8)
    assert count_flops(transformers.MLP(8, 32), (2, 4, 8)) == mlp_flops
    block = transformers.TransformerBlock(8, 2)
    assert count_flops(block, (2, 4, 8)) == 2 * 7 * 64 + 5760 + mlp_flops


def test_a_gpt_profile_has_a_row_per_layer() -> None:
    transformers = pytest.importorskip("tinytorch.text.transformers")
    model = transformers.GPT(vocab_size=20, d_model=8, n_heads=2, n_layers=2, max_len=6)
    ids = np.random.default_rng(0).integers(0, 20, size=(2, 6))
    profile = Profiler(warmup=0, repeats=1).profile(model, ids)
    names = [layer.name for layer in profile.layers]
    assert names[:2] == ["token_embedding", "position"]
    assert {"blocks.0.attn", "blocks.1.mlp", "ln_f", "head"} <= set(names)
    assert profile.unknown_flops == []
    assert profile.params == model.num_parameters()


# ============================================================================= milestone models

# (name, type, FLOPs, parameters, bytes moved) per reported layer, recorded from the
# profiler before it looked at models through forward hooks: the figures must not move.
MILESTONE_PROFILES = {
    "M3 MLP (64 -> 256 -> 10) on (32, 64)": [
        ("0", "Linear", 1_056_768, 16_640, 107_520),
        ("1", "ReLU", 8_192, 0, 65_536),
        ("2", "Dropout", 0, 0, 65_536),
        ("3", "Linear", 164_160, 2_570, 44_328),
    ],
    "M4 CNN on (8, 1, 16, 16)": [
        ("0", "Conv2d", 622_592, 160, 139_904),
        ("1", "ReLU", 32_768, 0, 262_144),
        ("2", "MaxPool2d", 32_768, 0, 163_840),
        ("3", "Conv2d", 4_734_976, 4_640, 116_864),
        ("4", "ReLU", 16_384, 0, 131_072),
        ("5", "MaxPool2d", 16_384, 0, 81_920),
        ("6", "Flatten", 0, 0, 32_768),
        ("7", "Linear", 82_000, 5_130, 37_224),
    ],
    "M5 GPT (d 64, 4 heads, 2 layers) on (2, 24) ids": [
        ("token_embedding", "Embedding", 0, 2_560, 22_912),
        ("position", "LearnedPositionalEmbedding", 3_072, 3_072, 36_864),
        ("dropout", "Dropout", 0, 0, 24_576),
        ("blocks.0.ln1", "LayerNorm", 21_504, 128, 25_088),
        ("blocks.0.attn", "MultiHeadAttention", 1_907_712, 16_640, 91_712),
        ("blocks.0.ln2", "LayerNorm", 21_504, 128, 25_088),
        ("blocks.0.mlp", "MLP", 3_271_680, 33_088, 156_928),
        ("blocks.0.dropout", "Dropout", 0, 0, 49_152),
        ("blocks.1.ln1", "LayerNorm", 21_504, 128, 25_088),
        ("blocks.1.attn", "MultiHeadAttention", 1_907_712, 16_640, 91_712),
        ("blocks.1.ln2", "LayerNorm", 21_504, 128, 25_088),
        ("blocks.1.mlp", "MLP", 3_271_680, 33_088, 156_928),
        ("blocks.1.dropout", "Dropout", 0, 0, 49_152),
        ("ln_f", "LayerNorm", 21_504, 128, 25_088),
        ("head", "Linear", 247_680, 2_600, 30_368),
    ],
}


def milestone_model(name: str) -> tuple[Module, object]:
    from tinytorch.text import GPT

    if name.startswith("M3"):
        return Sequential(Linear(64, 256), ReLU(), Dropout(0.1), Linear(256, 10)).eval(), (32, 64)
    if name.startswith("M4"):
        model = Sequential(
            Conv2d(1, 16, 3, padding=1), ReLU(), MaxPool2d(2),
            Conv2d(16, 32, 3, padding=1), ReLU(), MaxPool2d(2),
            Flatten(), Linear(32 * 4 * 4, 10),
        )  # fmt: skip
        return model, (8, 1, 16, 16)
    return GPT(40, 64, 4, 2, 48).eval(), np.random.default_rng(0).integers(0, 40, (2, 24))


@pytest.mark.parametrize("name", MILESTONE_PROFILES)
def test_milestone_model_profiles_keep_their_recorded_figures(name: str) -> None:
    model, x = milestone_model(name)
    profile = Profiler(warmup=0, repeats=1, memory=False).profile(model, x)
    rows = [(l.name, l.kind, l.flops, l.params, l.bytes_moved) for l in profile.layers]
    assert rows == MILESTONE_PROFILES[name]
    assert profile.flops == count_flops(model, x) == sum(row[2] for row in rows)
    assert profile.params == model.num_parameters()


def test_profiling_leaves_no_hook_behind() -> None:
    model = mlp()
    Profiler(warmup=1, repeats=2).profile(model, (2, 4))
    for layer in model.modules():
        assert not vars(layer).get("_forward_hooks") and not vars(layer).get("_forward_pre_hooks")
        assert "forward" not in vars(layer)  # nothing shadows a layer's forward
