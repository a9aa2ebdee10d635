"""Specification of Module 03 · Layers (``tinytorch.nn.layers``).

Module (with forward hooks and module swaps), Parameter, Linear (Xavier init),
Sequential, Dropout, the activation layers, and the state that a checkpoint saves.
Every test runs with autograd dormant and active (``autograd_mode``) and checks forward
behaviour only; the layers' derivatives are Module 05's (``test_05_gradients.py``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import numpy as np
import pytest

import tinytorch.nn as nn
from tinytorch.core import Tensor, device, manual_seed
from tinytorch.nn import (
    GELU,
    Activation,
    Dropout,
    Linear,
    Module,
    Parameter,
    ReLU,
    Sequential,
    Tanh,
)
from tinytorch.testing import TwoHeads

pytestmark = pytest.mark.usefixtures("autograd_mode")


def mlp() -> Sequential:
    return Sequential(Linear(4, 8), ReLU(), Linear(8, 3))


# ----------------------------------------------------------------------------- Parameter


def test_parameter_is_a_tensor_that_requires_grad() -> None:
    p = Parameter(np.zeros(3))
    assert isinstance(p, Tensor)
    assert p.requires_grad is True and p.grad is None
    assert p.dtype == np.float32
    assert Parameter([1.0], requires_grad=False).requires_grad is False


# ----------------------------------------------------------------------------- Linear


def test_linear_stores_weight_in_by_out_and_zero_bias() -> None:
    layer = Linear(5, 3)
    assert isinstance(layer.weight, Parameter) and isinstance(layer.bias, Parameter)
    assert layer.weight.shape == (5, 3) and layer.bias.shape == (3,)
    assert layer.weight.dtype == layer.bias.dtype == np.float32
    np.testing.assert_array_equal(layer.bias.data, np.zeros(3))
    assert layer.in_features == 5 and layer.out_features == 3


@pytest.mark.parametrize("batch_shape", [(), (7,), (2, 7)], ids=str)
def test_linear_computes_x_at_w_plus_b_over_any_batch_shape(batch_shape, rng) -> None:
    layer = Linear(5, 3)
    layer.bias.data = rng.standard_normal(3).astype(np.float32)
    x = rng.standard_normal((*batch_shape, 5)).astype(np.float32)
    out = layer(Tensor(x))
    assert out.shape == (*batch_shape, 3) and out.dtype == np.float32
    np.testing.assert_allclose(
        out.data, x @ layer.weight.data + layer.bias.data, rtol=1e-5, atol=1e-6
    )


def test_linear_without_bias_has_only_a_weight(rng) -> None:
    layer = Linear(5, 3, bias=False)
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    x = rng.standard_normal((2, 5)).astype(np.float32)
    np.testing.assert_allclose(layer(Tensor(x)).data, x @ layer.weight.data, rtol=1e-5)


def test_linear_input_feature_mismatch_names_both_shapes() -> None:
    layer = Linear(4, 2)
    with pytest.raises(ValueError) as info:
        layer(Tensor(np.zeros((3, 5))))
    message = str(info.value)
    assert "Linear" in message and "(3, 5)" in message and "4" in message


@pytest.mark.parametrize("sizes", [(0, 3), (3, 0), (-1, 2)])
@pytest.mark.ungraded
def test_linear_rejects_non_positive_sizes(sizes) -> None:
    with pytest.raises(ValueError, match=r"Linear: (in|out)_features must be >= 1"):
        Linear(*sizes)


def test_linear_784_128_has_100480_parameters_in_401920_bytes() -> None:
    layer = Linear(784, 128)
    assert layer.num_parameters() == 784 * 128 + 128 == 100_480
    assert layer.parameter_bytes() == 401_920


@pytest.mark.parametrize(("fan_in", "fan_out"), [(2, 3), (784, 128), (10, 1), (1, 1)])
def test_xavier_init_stays_within_its_bound(fan_in, fan_out) -> None:
    weight = Linear(fan_in, fan_out).weight.data
    assert np.all(np.abs(weight) <= np.sqrt(6.0 / (fan_in + fan_out)))


def test_xavier_init_has_the_theoretical_spread() -> None:
    """U(-a, a) with a = sqrt(6/(in+out)) has std sqrt(2/(in+out)) and mean 0."""
    weight = Linear(400, 600).weight.data
    expected_std = np.sqrt(2.0 / (400 + 600))
    assert abs(float(weight.std()) - expected_std) < 0.01 * expected_std
    assert abs(float(weight.mean())) < 0.01 * expected_std
    bound = np.sqrt(6.0 / 1000)
    assert weight.max() > 0.99 * bound and weight.min() < -0.99 * bound  # fills the range


def test_manual_seed_makes_initialisation_reproducible() -> None:
    manual_seed(7)
    first = Linear(6, 4).weight.data.copy()
    manual_seed(7)
    np.testing.assert_array_equal(Linear(6, 4).weight.data, first)
    assert not np.array_equal(Linear(6, 4).weight.data, first)  # the generator moved on


def test_linear_repr_names_its_sizes() -> None:
    assert repr(Linear(2, 3)) == "Linear(in_features=2, out_features=3, bias=True)"


class Classifier(Module):
    """A model written the way PyTorch's "Build the Neural Network" tutorial writes one."""

    def __init__(self) -> None:
        super().__init__()
        self.stack = Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
        self.dropout = Dropout(0.25)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.stack(x))


def test_print_model_uses_pytorchs_layout() -> None:
    assert repr(Classifier()) == (
        "Classifier(\n"
        "  (stack): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=8, bias=True)\n"
        "    (1): ReLU()\n"
        "    (2): Linear(in_features=8, out_features=3, bias=True)\n"
        "  )\n"
        "  (dropout): Dropout(p=0.25)\n"
        ")"
    )

    class Scaled(Module):  # settings of its own and children: settings first
        def __init__(self) -> None:
            self.inner = Linear(2, 2)

        def extra_repr(self) -> str:
            return "scale=2.0"

    assert repr(Scaled()) == (
        "Scaled(\n  scale=2.0\n  (inner): Linear(in_features=2, out_features=2, bias=True)\n)"
    )


# ----------------------------------------------------------------------------- discovery


def test_linear_parameters_are_weight_then_bias() -> None:
    layer = Linear(3, 2)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.parameters()[0] is layer.weight and layer.parameters()[1] is layer.bias


def test_sequential_names_parameters_by_position() -> None:
    model = mlp()
    assert [name for name, _ in model.named_parameters()] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
    ]
    assert model.parameters()[2] is model[2].weight


def test_nested_modules_list_own_parameters_then_children_in_attribute_order() -> None:
    """As in PyTorch: a module's own Parameters first, then each child's, depth first."""
    model = TwoHeads()
    assert [name for name, _ in model.named_parameters()] == [
        "scale",
        "encoder.0.weight",
        "encoder.0.bias",
        "heads.0.weight",
        "heads.0.bias",
        "heads.1.weight",
    ]
    assert model.parameters() == [p for _, p in model.named_parameters()]
    assert model.num_parameters() == 1 + (4 * 3 + 3) + (3 * 2 + 2) + 3


def test_tuples_of_modules_are_discovered_too() -> None:
    class Pair(Module):
        def __init__(self) -> None:
            self.pair = (Linear(2, 2), Linear(2, 1))

    assert [name for name, _ in Pair().named_parameters()] == [
        "pair.0.weight",
        "pair.0.bias",
        "pair.1.weight",
        "pair.1.bias",
    ]


def test_parameter_bytes_count_every_parameter() -> None:
    model = mlp()
    assert model.num_parameters() == (4 * 8 + 8) + (8 * 3 + 3)
    assert model.parameter_bytes() == 4 * model.num_parameters()


def test_shared_layer_is_listed_once() -> None:
    shared = Linear(3, 3)
    model = Sequential(shared, ReLU(), shared)
    assert len(model.parameters()) == 2
    assert model.num_parameters() == 12


# ----------------------------------------------------------------------------- Sequential


def test_sequential_applies_stages_in_order(rng) -> None:
    model = mlp()
    x = Tensor(rng.standard_normal((5, 4)))
    expected = model[2](nn.functional.relu(model[0](x)))
    np.testing.assert_allclose(model(x).data, expected.data, rtol=1e-6)


def test_sequential_indexes_and_counts_its_stages() -> None:
    first, act, last = Linear(2, 3), ReLU(), Linear(3, 1)
    model = Sequential(first, act, last)
    assert len(model) == 3
    assert model[0] is first and model[1] is act and model[-1] is last


def test_sequential_accepts_any_callable_stage() -> None:
    model = Sequential(lambda t: t * 2, lambda t: t + 1)
    np.testing.assert_array_equal(model(Tensor([1.0, 2.0])).data, [3.0, 5.0])
    assert model.parameters() == []


def test_empty_sequential_is_the_identity() -> None:
    x = Tensor([1.0, 2.0])
    assert Sequential()(x) is x


# ----------------------------------------------------------------------------- Dropout


def test_dropout_in_eval_mode_is_the_identity(rng) -> None:
    layer = Dropout(0.5).eval()
    x = Tensor(rng.standard_normal((10, 10)))
    np.testing.assert_array_equal(layer(x).data, x.data)


def test_dropout_with_p_zero_is_the_identity_even_in_training() -> None:
    x = Tensor(np.ones(100))
    np.testing.assert_array_equal(Dropout(0.0)(x).data, x.data)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.9])
def test_dropout_zeroes_about_p_and_scales_survivors_by_1_over_1_minus_p(p) -> None:
    x = Tensor(np.full(100_000, 2.0, dtype=np.float32))
    out = Dropout(p)(x).data
    dropped = out == 0
    assert abs(dropped.mean() - p) < 0.01
    np.testing.assert_allclose(out[~dropped], 2.0 / (1.0 - p), rtol=1e-6)
    assert abs(out.mean() - 2.0) < 0.05  # the expected value is preserved
    assert out.dtype == np.float32


def test_dropout_draws_a_new_mask_each_call_and_is_reproducible_with_manual_seed() -> None:
    layer, x = Dropout(0.5), Tensor(np.ones(1000))
    manual_seed(3)
    first, second = layer(x).data.copy(), layer(x).data
    assert not np.array_equal(first, second)
    manual_seed(3)
    np.testing.assert_array_equal(layer(x).data, first)


def test_dropout_keeps_float64() -> None:
    assert Dropout(0.5)(Tensor(np.ones(10), dtype=np.float64)).dtype == np.float64


@pytest.mark.parametrize(
    ("p", "error", "problem"),
    [
        (-0.1, ValueError, "p must be a finite number >= 0.0, got -0.1"),
        (1.0, ValueError, r"p must be in \[0, 1\), got 1.0"),
        (1.5, ValueError, r"p must be in \[0, 1\), got 1.5"),
        (float("nan"), ValueError, "p must be a finite number"),
        ("0.5", TypeError, "p must be a number, got str '0.5'"),
    ],
)
@pytest.mark.ungraded
def test_dropout_rejects_p_outside_zero_to_one(p, error, problem) -> None:
    with pytest.raises(error, match=f"Dropout: {problem}"):
        Dropout(p)


def test_sequential_refuses_a_stage_that_cannot_be_called() -> None:
    with pytest.raises(TypeError, match=r"Sequential: stage 1 must be callable .*got int 3"):
        Sequential(Linear(2, 2), 3)


def test_linear_refuses_an_input_that_is_not_a_tensor() -> None:
    with pytest.raises(TypeError, match=r"Linear.forward: expected a Tensor input, got str"):
        Linear(2, 3)("a")


def test_dropout_has_no_parameters() -> None:
    assert Dropout(0.5).parameters() == []
    assert repr(Dropout(0.25)) == "Dropout(p=0.25)"


# ----------------------------------------------------------------------------- modes and grads


def test_modules_start_in_training_mode() -> None:
    assert all(m.training for m in TwoHeads().modules())


def test_train_and_eval_recurse_and_return_self() -> None:
    model = TwoHeads()
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert not model.encoder[2].training
    assert model.train() is model
    assert all(m.training for m in model.modules())
    model.train(False)
    assert not model.heads[1].training


def test_modules_walks_every_submodule() -> None:
    model = TwoHeads()
    found = list(model.modules())
    assert found[0] is model
    assert model.encoder[0] in found and model.encoder[2] in found and model.heads[1] in found
    # self, encoder, its Linear, ReLU and Dropout, two heads
    assert len(found) == 1 + 1 + 3 + 2


def test_named_modules_names_every_module_by_its_path_in_attribute_order() -> None:
    names = [name for name, _ in TwoHeads().named_modules()]
    assert names == ["", "encoder", "encoder.0", "encoder.1", "encoder.2", "heads.0", "heads.1"]
    assert [name for name, _ in TwoHeads().named_modules(prefix="m")][:2] == ["m", "m.encoder"]


def test_a_module_used_twice_is_named_once_unless_asked() -> None:
    shared = ReLU()
    model = Sequential(Linear(2, 2), shared, Linear(2, 2), shared)
    assert [name for name, _ in model.named_modules()] == ["", "0", "1", "2"]
    every = [name for name, _ in model.named_modules(remove_duplicate=False)]
    assert every == ["", "0", "1", "2", "3"]


def test_get_and_set_submodule_follow_the_dotted_names() -> None:
    model = TwoHeads()
    assert model.get_submodule("heads.1") is model.heads[1]
    assert model.get_submodule("encoder.0") is model.encoder[0]
    new_head, new_act = Linear(3, 1), Tanh()
    model.set_submodule("heads.1", new_head)
    model.set_submodule("encoder.1", new_act)
    assert model.heads[1] is new_head and model.encoder[1] is new_act
    replacement = Sequential(Linear(4, 3))
    model.set_submodule("encoder", replacement)
    assert model.encoder is replacement
    with pytest.raises(AttributeError, match="no submodule 'decoder'"):
        model.get_submodule("decoder")
    with pytest.raises(AttributeError, match=r"no submodule 'heads\.7'"):
        model.set_submodule("heads.7", Linear(3, 1))


def test_activation_layers_are_modules() -> None:
    for layer in (ReLU(), GELU(), Tanh()):
        assert isinstance(layer, Activation) and isinstance(layer, Module)
        assert layer.num_parameters() == 0 and layer.state_dict() == {}
    assert repr(nn.Softmax(dim=0)) == "Softmax(dim=0)" and repr(ReLU()) == "ReLU()"


# ----------------------------------------------------------------------------- hooks


def test_forward_hooks_see_the_module_its_inputs_and_its_output() -> None:
    layer, seen = Linear(4, 2), []
    layer.register_forward_pre_hook(lambda module, args: seen.append(("pre", module, args)))
    layer.register_forward_hook(lambda module, args, out: seen.append(("post", module, out)))
    x = Tensor(np.ones((3, 4)))
    out = layer(x)
    assert [kind for kind, *_ in seen] == ["pre", "post"]
    assert seen[0][1] is layer and seen[0][2] == (x,)
    assert seen[1][1] is layer and seen[1][2] is out


def test_hooks_run_in_the_order_they_were_registered() -> None:
    layer, order = ReLU(), []
    for name in "abc":
        layer.register_forward_hook(lambda m, args, out, name=name: order.append(name))
    layer.register_forward_pre_hook(lambda m, args: order.append("pre"))
    layer(Tensor([1.0]))
    assert order == ["pre", "a", "b", "c"]


def test_a_removed_hook_no_longer_runs() -> None:
    layer, calls = ReLU(), []
    first = layer.register_forward_hook(lambda m, args, out: calls.append("first"))
    layer.register_forward_hook(lambda m, args, out: calls.append("second"))
    first.remove()
    first.remove()  # removing twice is harmless
    layer(Tensor([1.0]))
    assert calls == ["second"]
    with layer.register_forward_pre_hook(lambda m, args: calls.append("scoped")):
        layer(Tensor([1.0]))
    layer(Tensor([1.0]))
    assert calls == ["second", "scoped", "second", "second"]


def test_a_hook_may_replace_the_inputs_or_the_output() -> None:
    layer = Linear(2, 2)
    layer.weight.data = np.eye(2, dtype=np.float32)
    layer.register_forward_pre_hook(lambda m, args: args[0] * 2.0)  # one value: wrapped
    x = Tensor([[1.0, 3.0]])
    np.testing.assert_array_equal(layer(x).data, [[2.0, 6.0]])
    layer.register_forward_hook(lambda m, args, out: out + 1.0)
    np.testing.assert_array_equal(layer(x).data, [[3.0, 7.0]])
    layer.register_forward_hook(lambda m, args, out: None)  # None keeps the output
    np.testing.assert_array_equal(layer(x).data, [[3.0, 7.0]])


def test_an_exception_inside_a_hook_reaches_the_caller() -> None:
    layer = ReLU()

    def broken(module, args, out):
        raise RuntimeError("hook failed")

    handle = layer.register_forward_hook(broken)
    with pytest.raises(RuntimeError, match="hook failed"):
        layer(Tensor([1.0]))
    handle.remove()
    np.testing.assert_array_equal(layer(Tensor([-1.0])).data, [0.0])


def test_keyword_arguments_go_to_forward_untouched() -> None:
    class Scale(Module):
        def forward(self, x: Tensor, factor: float = 1.0) -> Tensor:
            return x * factor

    layer, seen = Scale(), []
    layer.register_forward_pre_hook(lambda m, args: seen.append(args))
    np.testing.assert_array_equal(layer(Tensor([2.0]), factor=3.0).data, [6.0])
    assert len(seen[0]) == 1


@pytest.mark.ungraded
def test_a_hook_must_be_callable() -> None:
    with pytest.raises(TypeError, match="hook must be callable"):
        ReLU().register_forward_hook("not a function")


def test_zero_grad_clears_every_gradient() -> None:
    model = TwoHeads()
    for p in model.parameters():
        p.grad = Tensor(np.ones(p.shape))
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# ----------------------------------------------------------------------------- state


def test_state_dict_maps_names_to_copies_of_the_arrays() -> None:
    model = mlp()
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    np.testing.assert_array_equal(state["0.weight"], model[0].weight.data)
    state["0.weight"][...] = 123.0
    assert not np.any(model[0].weight.data == 123.0)
    model[2].bias.data[...] = 5.0
    assert not np.any(state["2.bias"] == 5.0)


def test_load_state_dict_round_trips_between_models(rng) -> None:
    source, target = mlp(), mlp()
    target.load_state_dict(source.state_dict())
    for (name, p), (_, q) in zip(source.named_parameters(), target.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    x = Tensor(rng.standard_normal((2, 4)))
    np.testing.assert_array_equal(source(x).data, target(x).data)


def test_load_state_dict_copies_and_keeps_the_parameter_dtype() -> None:
    model = Linear(2, 2)
    weight = np.arange(4.0).reshape(2, 2)  # float64 on purpose
    model.load_state_dict({"weight": weight, "bias": np.zeros(2)})
    assert model.weight.dtype == np.float32
    weight[0, 0] = 99.0
    assert model.weight.data[0, 0] == 0.0


def test_load_state_dict_reports_missing_names() -> None:
    state = mlp().state_dict()
    del state["2.bias"]
    with pytest.raises(KeyError, match=r"2\.bias"):
        mlp().load_state_dict(state)


def test_load_state_dict_reports_unexpected_names() -> None:
    state = {**mlp().state_dict(), "4.weight": np.zeros((3, 3))}
    with pytest.raises(KeyError, match=r"4\.weight"):
        mlp().load_state_dict(state)


def test_non_strict_load_tolerates_missing_and_unexpected_names() -> None:
    source, target = mlp(), mlp()
    state = source.state_dict()
    del state["2.weight"]
    state["extra"] = np.zeros(1)
    before = target[2].weight.data.copy()
    target.load_state_dict(state, strict=False)
    np.testing.assert_array_equal(target[0].weight.data, source[0].weight.data)
    np.testing.assert_array_equal(target[2].weight.data, before)


@pytest.mark.parametrize("strict", [True, False])
def test_shape_mismatch_is_an_error_and_modifies_nothing(strict) -> None:
    source, target = mlp(), mlp()
    state = source.state_dict()
    state["2.weight"] = np.zeros((8, 4))  # the model has (8, 3); earlier names are fine
    before = target.state_dict()
    with pytest.raises(ValueError) as info:
        target.load_state_dict(state, strict=strict)
    message = str(info.value)
    assert "2.weight" in message and "(8, 4)" in message and "(8, 3)" in message
    for name, value in target.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def replaced(name: str, value) -> Callable[[dict], None]:
    return lambda state: state.update({name: value})


# Each damages the last entry (or the whole state), so a loader that copies entry by
# entry would already have overwritten every earlier parameter when it noticed.
BAD_STATES = {
    "a string array": (replaced("2.bias", np.array(["x", "y", "z"])), r"'2.bias' is a <U1 array"),
    "an object array": (replaced("2.bias", np.array([1, None, 2], dtype=object)), "object array"),
    "a wrong shape": (replaced("2.bias", np.zeros(4)), r"shape \(4,\) in the state"),
    "a NaN": (replaced("2.bias", np.array([0.0, np.nan, 0.0])), "'2.bias' holds NaN or inf"),
    "an infinity": (replaced("2.bias", np.array([0.0, np.inf, 0.0])), "NaN or infinite"),
    "beyond float32": (replaced("2.bias", np.array([0.0, 1e39, 0.0])), "NaN or infinite"),
    "a missing name": (lambda state: state.pop("2.bias"), r"missing \['2.bias'\]"),
}


@pytest.mark.parametrize("case", list(BAD_STATES))
def test_a_bad_state_is_refused_and_changes_no_array(case) -> None:
    damage, problem = BAD_STATES[case]
    source, target = mlp(), mlp()
    state = source.state_dict()
    damage(state)
    before = {name: p.data.copy() for name, p in target.named_parameters()}
    with pytest.raises((ValueError, KeyError), match=f"Sequential.load_state_dict: .*{problem}"):
        target.load_state_dict(state)
    for name, p in target.named_parameters():
        np.testing.assert_array_equal(p.data, before[name], err_msg=name)


def test_a_state_that_is_not_a_mapping_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"Sequential.load_state_dict: expected a dict .*got list"):
        mlp().load_state_dict(list(mlp().state_dict().values()))


# ----------------------------------------------------------------------------- tier bridge


ARCH_INSTALLED = importlib.util.find_spec("tinytorch.vision") is not None
without_arch = pytest.mark.skipif(ARCH_INSTALLED, reason="tinytorch-arch is installed here")


@without_arch
@pytest.mark.ungraded
def test_a_layer_of_an_uninstalled_tier_names_the_tier_to_install() -> None:
    """An ImportError, so that the ``from`` form keeps the message (Python would replace
    an AttributeError with a generic "cannot import name")."""
    with pytest.raises(nn.TierNotInstalledError) as info:
        nn.Conv2d  # noqa: B018
    message = str(info.value)
    assert "Conv2d" in message and "installed tiers" in message
    assert "pip install tinytorch-arch" in message


@without_arch
@pytest.mark.ungraded
def test_from_import_of_an_uninstalled_layer_says_which_tier_provides_it() -> None:
    with pytest.raises(ImportError) as info:
        from tinytorch.nn import Conv2d  # noqa: F401
    assert "tinytorch-arch" in str(info.value)


@pytest.mark.ungraded
def test_an_unknown_name_is_an_attribute_error_that_lists_installed_tiers() -> None:
    assert not hasattr(nn, "Transformerz")
    with pytest.raises(AttributeError, match=r"installed tiers: .*tinytorch-foundation"):
        nn.Transformerz  # noqa: B018


@pytest.mark.ungraded
def test_foundation_layers_are_listed_by_dir() -> None:
    assert {"Linear", "Sequential", "Dropout", "ReLU", "CrossEntropyLoss"} <= set(dir(nn))


# ----------------------------------------------------------------------------- device and dtype


@pytest.mark.parametrize("where", ["cpu", device("cpu")], ids=["str", "device"])
def test_module_to_the_cpu_returns_the_model_unchanged(where) -> None:
    model = mlp()
    before = model.state_dict()
    assert model.to(where) is model and model.to(device=where) is model
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("where", ["cuda", "mps"])
def test_module_to_another_device_is_refused(where) -> None:
    with pytest.raises(ValueError, match="CPU only"):
        mlp().to(where)


def test_module_to_a_dtype_casts_parameters_in_place() -> None:
    model = mlp()
    params = model.parameters()
    assert model.to(np.float64) is model
    assert [p is q for p, q in zip(params, model.parameters())] == [True] * len(params)
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float64)}
    assert model(Tensor(np.ones((2, 4)), dtype=np.float64)).dtype == np.float64
    assert model.float() is model and model.parameters()[0].dtype == np.float32
    assert model.double().parameters()[0].dtype == np.float64
    assert model.to("cpu", np.float32).parameters()[0].dtype == np.float32


def test_module_to_an_integer_dtype_is_refused() -> None:
    with pytest.raises(TypeError, match="floating-point"):
        mlp().to(np.int64)
