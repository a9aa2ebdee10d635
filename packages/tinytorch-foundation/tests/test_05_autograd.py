"""Module 05 · Autograd — the specification of the engine, its switch and its tools.

The per-op derivative rules of Modules 01–04 are gradchecked in ``test_05_gradients.py``;
this file covers what the engine itself promises: how the graph is built and walked, how
gradients accumulate and un-broadcast, how autograd switches on (progressive disclosure),
and the tools around it (gradcheck, custom Functions, graph statistics).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import tinytorch.nn.functional as F
from tinytorch.core import (
    Function,
    GradcheckError,
    Tensor,
    disable_autograd,
    enable_autograd,
    enable_grad,
    gradcheck,
    graph_stats,
    is_autograd_active,
    is_grad_enabled,
    no_grad,
    unbroadcast,
)
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
from tinytorch.nn.activations import gelu as early_gelu

SRC = Path(__file__).resolve().parents[1] / "src"


def f64(values, requires_grad: bool = True) -> Tensor:
    return Tensor(
        np.asarray(values, dtype=np.float64), requires_grad=requires_grad, dtype=np.float64
    )


def mlp(in_features: int = 4, hidden: int = 8, classes: int = 3) -> Sequential:
    return Sequential(Linear(in_features, hidden), ReLU(), Linear(hidden, classes))


# ----------------------------------------------------------------------------- the engine


class TestBackward:
    def test_square_has_gradient_two_x(self):
        x = f64([1.0, -2.0, 3.0])
        (x * x).sum().backward()
        np.testing.assert_allclose(x.grad.data, [2.0, -4.0, 6.0])

    def test_gradients_accumulate_across_backward_calls(self):
        """Like PyTorch: .grad is summed until someone clears it (zero_grad)."""
        x = f64([1.0, 2.0])
        (x * 3.0).sum().backward()
        (x * 3.0).sum().backward()
        np.testing.assert_allclose(x.grad.data, [6.0, 6.0])

    def test_retain_graph_allows_a_second_backward_that_accumulates(self):
        x = f64([1.0, 2.0])
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        np.testing.assert_allclose(x.grad.data, [4.0, 8.0])

    def test_tensor_used_twice_sums_both_paths(self):
        x = f64([1.0, 2.0, -0.5])
        (x * x + x).sum().backward()
        np.testing.assert_allclose(x.grad.data, 2 * x.data + 1)

    def test_diamond_graph_sums_branches(self):
        """x feeds a and b, both feed y: dy/dx = dy/da * da/dx + dy/db * db/dx."""
        x = f64([0.5, 2.0])
        a = x * 3.0
        b = x.exp()
        y = (a * b).sum()
        y.backward()
        expected = 3.0 * np.exp(x.data) + 3.0 * x.data * np.exp(x.data)
        np.testing.assert_allclose(x.grad.data, expected)

    def test_shared_intermediate_is_visited_once(self):
        """A non-leaf used by two consumers gets both gradients before passing them on."""
        x = f64([1.5])
        h = x * x  # h = x^2
        y = h * h + h  # x^4 + x^2
        y.sum().backward()
        np.testing.assert_allclose(x.grad.data, 4 * 1.5**3 + 2 * 1.5)

    def test_scalar_root_backward_fills_a_leaf_directly(self):
        x = f64(2.0)
        x.backward()
        np.testing.assert_allclose(x.grad.data, 1.0)

    def test_explicit_gradient_is_the_vector_in_the_vjp(self):
        x = f64([1.0, 2.0, 3.0])
        y = x * x
        y.backward(np.array([1.0, 0.0, -1.0]))
        np.testing.assert_allclose(x.grad.data, [2.0, 0.0, -6.0])

    def test_explicit_gradient_may_be_a_tensor(self):
        x = f64([1.0, 2.0])
        (x * 2.0).backward(Tensor(np.ones(2), dtype=np.float64))
        np.testing.assert_allclose(x.grad.data, [2.0, 2.0])

    def test_input_without_requires_grad_gets_no_gradient(self):
        x = f64([1.0, 2.0])
        c = f64([3.0, 4.0], requires_grad=False)
        (x * c).sum().backward()
        np.testing.assert_allclose(x.grad.data, [3.0, 4.0])
        assert c.grad is None

    def test_backward_leaves_forward_values_untouched(self):
        x = f64([1.0, 2.0])
        y = x * x
        before = y.data.copy()
        y.sum().backward()
        np.testing.assert_array_equal(y.data, before)


class TestRequiresGrad:
    def test_result_requires_grad_iff_an_input_does(self):
        a = f64([1.0], requires_grad=True)
        b = f64([2.0], requires_grad=False)
        assert (a + b).requires_grad
        assert (b + a).requires_grad
        assert (a * a).requires_grad
        assert not (b * b).requires_grad
        assert not (b + 1.0).requires_grad

    def test_results_of_untracked_inputs_have_no_grad_fn(self):
        b = f64([2.0], requires_grad=False)
        assert (b * b).grad_fn is None
        assert (b * f64([3.0])).grad_fn is not None  # one tracked input is enough

    def test_results_of_tracked_inputs_remember_their_op(self):
        a = f64([1.0, 2.0])
        assert type((a + a).grad_fn).__name__ == "AddBackward"
        assert type((a @ a).grad_fn).__name__ == "MatMulBackward"
        assert type(a.sum().grad_fn).__name__ == "SumBackward"

    def test_only_leaves_receive_grad(self):
        x = f64([1.0, 2.0])
        h = x * 2.0
        y = (h * h).sum()
        y.backward()
        assert x.grad is not None
        assert h.grad is None
        assert y.grad is None

    def test_leaves_have_no_grad_fn_and_non_leaves_do(self):
        x = f64([1.0])
        assert x.grad_fn is None
        assert (x * 2.0).grad_fn is not None

    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    def test_grad_is_a_tensor_with_the_leaf_shape_and_dtype(self, dtype):
        x = Tensor(np.ones((2, 3)), requires_grad=True, dtype=dtype)
        b = Tensor(np.ones(3), requires_grad=True, dtype=dtype)
        (x * b).sum().backward()
        for leaf in (x, b):
            assert isinstance(leaf.grad, Tensor)
            assert leaf.grad.shape == leaf.shape
            assert leaf.grad.dtype == leaf.dtype
            assert not leaf.grad.requires_grad

    def test_grad_owns_its_memory(self):
        """Add passes its incoming gradient through unchanged; the leaf must copy it."""
        x = f64([1.0, 2.0])
        g = np.array([5.0, 6.0])
        (x + 0.0).backward(g)
        x.grad.data += 1.0
        np.testing.assert_array_equal(g, [5.0, 6.0])
        np.testing.assert_array_equal(x.grad.data, [6.0, 7.0])

    def test_detach_cuts_the_graph(self):
        x = f64([1.0, 2.0])
        y = x * 2.0
        assert y.grad_fn is not None
        d = y.detach()
        assert not d.requires_grad and d.grad_fn is None
        assert not (d * x.detach()).requires_grad


class TestGradMode:
    def test_no_grad_records_nothing(self):
        x = f64([1.0, 2.0])
        with no_grad():
            y = x * x
        assert not y.requires_grad
        assert y.grad_fn is None
        np.testing.assert_allclose(y.data, [1.0, 4.0])
        assert (x * x).grad_fn is not None  # and outside the block it records again

    def test_no_grad_restores_the_previous_mode(self):
        assert is_grad_enabled()
        with no_grad():
            assert not is_grad_enabled()
        assert is_grad_enabled()
        assert (f64([1.0]) * 2.0).grad_fn is not None

    def test_no_grad_nests(self):
        x = f64([1.0, 2.0])
        with no_grad():
            with no_grad():
                assert not is_grad_enabled()
                assert (x * x).grad_fn is None
            assert not is_grad_enabled()
            assert (x * x).grad_fn is None
        assert is_grad_enabled()
        assert (x * x).grad_fn is not None

    def test_no_grad_restores_after_an_exception(self):
        with pytest.raises(KeyError, match="boom"), no_grad():
            raise KeyError("boom")
        assert is_grad_enabled()
        assert (f64([1.0]) * 2.0).grad_fn is not None

    def test_enable_grad_records_inside_no_grad(self):
        x = f64([3.0])
        with no_grad():
            with enable_grad():
                assert is_grad_enabled()
                y = x * x
            assert not is_grad_enabled()
            z = x * x
        assert y.grad_fn is not None and z.grad_fn is None
        y.sum().backward()
        np.testing.assert_allclose(x.grad.data, [6.0])


class TestBackwardErrors:
    def test_non_scalar_without_gradient_raises_clearly(self):
        y = f64([1.0, 2.0]) * 2.0
        with pytest.raises(RuntimeError, match=r"one-element.*\(2,\).*gradient="):
            y.backward()

    def test_gradient_of_wrong_shape_raises(self):
        y = f64([1.0, 2.0]) * 2.0
        with pytest.raises(ValueError, match=r"gradient shape \(3,\) != tensor shape \(2,\)"):
            y.backward(np.ones(3))

    def test_tensor_not_requiring_grad_raises(self):
        y = f64([1.0, 2.0], requires_grad=False).sum()
        with pytest.raises(RuntimeError, match="does not require a gradient"):
            y.backward()

    def test_a_second_backward_through_a_spent_graph_raises_and_adds_nothing(self):
        """PyTorch's rule: without retain_graph=True the first backward() spends the graph."""
        x = f64([1.0, 2.0])
        y = (x * x).sum()
        y.backward()
        with pytest.raises(RuntimeError, match=r"second time .*retain_graph=True"):
            y.backward()
        np.testing.assert_allclose(x.grad.data, [2.0, 4.0])

    def test_a_new_graph_over_a_spent_one_is_refused_too(self):
        x = f64([1.0, 2.0])
        h = x * x
        h.sum().backward()
        with pytest.raises(RuntimeError, match="through MulBackward, output shape \\(2,\\)"):
            (h * 3.0).sum().backward()

    def test_failed_backward_leaves_no_partial_gradients(self):
        x = f64([1.0, 2.0])
        with pytest.raises(ValueError, match="gradient shape"):
            (x * 2.0).backward(np.ones(3))
        assert x.grad is None


class TestUnbroadcast:
    def test_bias_added_to_a_batch_gets_the_summed_gradient(self):
        w = f64(np.arange(12.0).reshape(4, 3))
        b = f64([1.0, 2.0, 3.0])
        (w + b).backward(np.ones((4, 3)))
        assert b.grad.shape == (3,)
        np.testing.assert_allclose(b.grad.data, [4.0, 4.0, 4.0])
        np.testing.assert_allclose(w.grad.data, np.ones((4, 3)))

    def test_column_times_row_sums_over_the_stretched_axes(self):
        col = f64(np.arange(3.0).reshape(3, 1))
        row = f64(np.arange(4.0).reshape(1, 4) + 1.0)
        (col * row).sum().backward()
        assert col.grad.shape == (3, 1) and row.grad.shape == (1, 4)
        np.testing.assert_allclose(col.grad.data, np.full((3, 1), row.data.sum()))
        np.testing.assert_allclose(row.grad.data, np.full((1, 4), col.data.sum()))

    def test_scalar_tensor_broadcast_everywhere_gets_the_total(self):
        s = f64(2.0)
        x = f64(np.ones((2, 3)), requires_grad=False)
        (x * s).sum().backward()
        assert s.grad.shape == ()
        np.testing.assert_allclose(s.grad.data, 6.0)

    def test_unbroadcast_same_shape_is_identity(self):
        g = np.arange(6.0).reshape(2, 3)
        np.testing.assert_array_equal(unbroadcast(g, (2, 3)), g)

    def test_unbroadcast_sums_new_leading_axes(self):
        g = np.arange(24.0).reshape(2, 4, 3)
        out = unbroadcast(g, (3,))
        assert out.shape == (3,)
        np.testing.assert_allclose(out, g.sum(axis=(0, 1)))

    def test_unbroadcast_sums_stretched_size_one_axes(self):
        g = np.arange(12.0).reshape(3, 4)
        np.testing.assert_allclose(unbroadcast(g, (3, 1)), g.sum(axis=1, keepdims=True))
        np.testing.assert_allclose(unbroadcast(g, (1, 4)), g.sum(axis=0, keepdims=True))
        np.testing.assert_allclose(unbroadcast(g, (1, 1)), [[g.sum()]])

    def test_unbroadcast_handles_leading_and_stretched_together(self):
        g = np.arange(24.0).reshape(2, 3, 4)
        out = unbroadcast(g, (3, 1))
        assert out.shape == (3, 1)
        np.testing.assert_allclose(out, g.sum(axis=0).sum(axis=1, keepdims=True))

    def test_unbroadcast_to_a_scalar(self):
        g = np.arange(6.0).reshape(2, 3)
        out = unbroadcast(g, ())
        assert out.shape == ()
        assert float(out) == g.sum()


class TestDeepGraphs:
    def test_chain_of_ten_thousand_multiplications(self):
        """The topological sort is iterative: no RecursionError on deep graphs."""
        x = f64([1.0, 2.0])
        y = x
        for _ in range(10_000):
            y = y * 1.0001
        y.sum().backward()
        np.testing.assert_allclose(x.grad.data, [1.0001**10_000] * 2, rtol=1e-9)

    def test_chain_of_ten_thousand_additions(self):
        x = f64([0.0])
        y = x
        for _ in range(10_000):
            y = y + x
        y.sum().backward()
        np.testing.assert_allclose(x.grad.data, [10_001.0])

    def test_deep_graph_statistics_do_not_recurse(self):
        x = f64([1.0])
        y = x
        for _ in range(10_000):
            y = y * 1.0
        assert graph_stats(y).nodes == 10_000


# ----------------------------------------------------------------------------- switching on


class TestProgressiveDisclosure:
    def test_enable_autograd_is_idempotent(self):
        def gradient() -> np.ndarray:
            x = f64([1.0, 2.0])
            (x * x + x).sum().backward()
            return x.grad.data

        expected = gradient()
        for _ in range(3):
            enable_autograd()
        np.testing.assert_array_equal(gradient(), expected)

    def test_switching_replaces_no_method_and_no_function(self):
        """Ops call one hook; switching autograd changes what is behind it, nothing else."""
        from tinytorch.nn import activations, losses

        before = [Tensor.__add__, Tensor.backward, activations.relu, losses.cross_entropy, F.gelu]
        try:
            disable_autograd()
            dormant = [Tensor.__add__, Tensor.backward, activations.relu, losses.cross_entropy]
        finally:
            enable_autograd()
        after = [Tensor.__add__, Tensor.backward, activations.relu, losses.cross_entropy, F.gelu]
        assert dormant == before[:4] and after == before
        assert F.gelu is activations.gelu

    def test_a_function_imported_before_switching_follows_the_switch(self):
        """No stale bindings: ``gelu`` imported at the top of this file is the same object
        as the module's, so it records exactly when autograd is active."""
        from tinytorch.nn import activations

        x = f64([[0.5, -1.0]])
        try:
            disable_autograd()
            assert early_gelu(x).grad_fn is None and activations.gelu(x).grad_fn is None
        finally:
            enable_autograd()
        assert type(early_gelu(x).grad_fn).__name__ == "GELUBackward"
        assert type(activations.gelu(x).grad_fn).__name__ == "GELUBackward"

    def test_disable_autograd_makes_backward_say_how_to_switch_it_back_on(self):
        try:
            disable_autograd()
            assert not is_autograd_active()
            x = f64([1.0, 2.0])
            y = (x * x).sum()
            assert y.grad_fn is None
            assert F.relu(x).grad_fn is None
            with pytest.raises(RuntimeError, match=r"switched off by disable_autograd\(\)"):
                y.backward()
        finally:
            enable_autograd()
        assert is_autograd_active()

    def test_a_stubbed_module_05_stays_dormant_and_backward_names_module_05(self, monkeypatch):
        """What a learner's tree does before Module 05 is written: it imports, forward ops
        work, and backward() says where gradients come from (never "call enable_autograd")."""
        from tinytorch.core import activate_if_implemented, autograd

        def stub(*args, **kwargs):
            raise NotImplementedError("Module 05 (Autograd): implement Engine.record")

        monkeypatch.setattr(autograd.Engine, "record", stub)
        try:
            assert activate_if_implemented() is False
            assert not is_autograd_active()
            x = f64([1.0, 2.0])
            y = (x * x).sum()
            np.testing.assert_allclose(y.data, 5.0)
            with pytest.raises(RuntimeError, match=r"Module 05 \(Autograd\)") as info:
                y.backward()
            assert "enable_autograd" not in str(info.value)
            assert "tinytorch/core/autograd.py" in str(info.value)
        finally:
            monkeypatch.undo()
            assert activate_if_implemented() is True

    def test_disable_autograd_keeps_forward_values(self):
        x = f64([[1.0, -2.0]])
        active = (F.relu(x) * 3.0).data.copy()
        try:
            disable_autograd()
            dormant = (F.relu(x) * 3.0).data.copy()
        finally:
            enable_autograd()
        np.testing.assert_array_equal(active, dormant)

    def test_reenabling_after_disable_restores_gradients(self):
        disable_autograd()
        enable_autograd()
        x = f64([[1.0, -2.0]])
        F.relu(x).sum().backward()
        np.testing.assert_array_equal(x.grad.data, [[1.0, 0.0]])

    def test_autograd_mode_fixture_switches_between_dormant_and_active(self, autograd_mode):
        active = autograd_mode == "active"
        assert is_autograd_active() == active
        assert ((f64([1.0]) * 2.0).grad_fn is not None) == active
        enable_autograd()  # what the fixture does afterwards: back on, whatever the mode
        assert (f64([1.0]) * 2.0).grad_fn is not None

    def test_is_autograd_enabled_is_a_deprecated_name_of_is_autograd_active(self):
        from tinytorch.core import is_autograd_enabled

        with pytest.warns(DeprecationWarning, match="is_autograd_active"):
            assert is_autograd_enabled() is True

    @pytest.mark.parametrize("first", ["tinytorch.nn", "tinytorch.core"])
    def test_importing_the_package_activates_autograd(self, first):
        """In the released tier, gradients are on from the first import, in either order."""
        second = "tinytorch.core" if first == "tinytorch.nn" else "tinytorch.nn"
        script = textwrap.dedent(f"""
            import {first}, {second}
            import numpy as np
            import tinytorch.nn.functional as F
            from tinytorch.core import Tensor, is_autograd_active
            from tinytorch.nn import CrossEntropyLoss, Linear
            assert is_autograd_active()
            x = Tensor(np.array([[1.0, -2.0]]), requires_grad=True)
            print(type(F.relu(x).grad_fn).__name__)
            layer = Linear(2, 3)
            loss = CrossEntropyLoss()(layer(x), np.array([1]))
            loss.backward()
            print(type(loss.grad_fn).__name__)
            print(layer.weight.grad is not None and x.grad is not None)
        """)
        paths = [str(SRC), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["ReLUBackward", "CrossEntropyBackward", "True"]


# ----------------------------------------------------------------------------- Function / gradcheck


class Cube(Function):
    """x^3 written as a custom op: forward on arrays, backward = 3x^2 * grad."""

    def forward(self, a):
        return a**3

    def backward(self, grad):
        return (grad * 3.0 * self.array(0) ** 2,)


class WrongSquare(Function):
    """x^2 with a deliberately wrong derivative (x instead of 2x)."""

    def forward(self, a):
        return a * a

    def backward(self, grad):
        return (grad * self.array(0),)


class ScaledProduct(Function):
    """a * b whose derivative for b is off by one at element (1, 2) only."""

    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        grad_b = np.array(grad * self.array(0))
        grad_b[1, 2] += 1.0
        return grad * self.array(1), grad_b


class TestCustomFunction:
    def test_cube_forward_and_backward(self):
        x = f64([1.0, -2.0, 0.5])
        y = Cube.apply(x)
        np.testing.assert_allclose(y.data, x.data**3)
        assert isinstance(y.grad_fn, Cube)
        y.sum().backward()
        np.testing.assert_allclose(x.grad.data, 3.0 * x.data**2)

    def test_cube_composes_with_built_in_ops(self):
        x = f64([[0.3, -1.2], [2.0, 0.7]])
        w = f64([[1.0], [-0.5]])
        assert gradcheck(lambda a, b: Cube.apply(a @ b).sum() * 2.0, [x, w])

    def test_cube_passes_gradcheck(self, rng):
        assert gradcheck(lambda a: Cube.apply(a), [f64(rng.standard_normal((3, 4)))])

    def test_custom_op_on_untracked_input_records_nothing(self):
        y = Cube.apply(f64([2.0], requires_grad=False))
        assert y.grad_fn is None and not y.requires_grad

    def test_custom_op_under_no_grad_records_nothing(self):
        with no_grad():
            y = Cube.apply(f64([2.0]))
        assert y.grad_fn is None

    def test_custom_op_records_its_inputs_for_graph_stats(self):
        x = f64(np.ones(10))
        stats = graph_stats(Cube.apply(x))
        assert stats.nodes == 1 and stats.leaves == 1
        assert stats.ops == {"Cube": 1}
        assert stats.saved_bytes == 2 * 10 * 8  # input and output


class TestGradcheck:
    def test_returns_true_for_correct_ops(self, rng):
        a = f64(rng.standard_normal((2, 3)))
        b = f64(rng.standard_normal((3, 2)))
        assert gradcheck(lambda x, y: (x @ y).exp().sum(axis=1), [a, b]) is True

    def test_returns_true_for_a_small_network_and_loss(self, rng):
        x = f64(rng.standard_normal((5, 4)), requires_grad=False)
        w1 = f64(rng.standard_normal((4, 6)))
        w2 = f64(rng.standard_normal((6, 3)))
        targets = np.array([0, 2, 1, 1, 0])
        loss = CrossEntropyLoss()
        assert gradcheck(lambda a, b: loss(F.relu(x @ a) @ b, targets), [w1, w2])

    def test_wrong_backward_raises_naming_input_and_values(self):
        """A GradcheckError is an AssertionError: pytest reports it as a failed check."""
        x = f64([[1.0, 2.0], [3.0, 4.0]])
        with pytest.raises(GradcheckError, match=r"input 0 .*element.*analytic.*numerical") as info:
            gradcheck(lambda a: WrongSquare.apply(a), [x])
        assert isinstance(info.value, AssertionError)

    def test_error_names_the_wrong_input_and_element(self, rng):
        a = f64(rng.standard_normal((3, 4)))
        b = f64(rng.standard_normal((3, 4)))
        with pytest.raises(GradcheckError, match=r"input 1 \(shape \(3, 4\)\) element \(1, 2\)"):
            gradcheck(lambda x, y: ScaledProduct.apply(x, y), [a, b])

    def test_rejects_float32_inputs(self):
        x = Tensor(np.ones(3), requires_grad=True)  # float32 by default
        with pytest.raises(TypeError, match="float64"):
            gradcheck(lambda a: a * a, [x])

    def test_rejects_inputs_without_requires_grad(self):
        with pytest.raises(ValueError, match="requires_grad"):
            gradcheck(lambda a: a * a, [f64([1.0], requires_grad=False)])

    def test_ignores_untracked_float32_inputs(self):
        """Only inputs that are checked must be float64."""
        w = f64([1.0, 2.0])
        c = Tensor(np.array([3.0, 4.0]))  # float32, constant
        assert gradcheck(lambda a, b: a * b, [w, c])

    def test_leaves_inputs_unchanged(self, rng):
        x = f64(rng.standard_normal(5))
        before = x.data.copy()
        gradcheck(lambda a: (a * a).sum(), [x])
        np.testing.assert_array_equal(x.data, before)


# ----------------------------------------------------------------------------- graph_stats


class TestGraphStats:
    def loss_of(self, model, batch: int, rng) -> Tensor:
        x = Tensor(rng.standard_normal((batch, 4)))
        targets = rng.integers(0, 3, size=batch)
        return CrossEntropyLoss()(model(x), targets)

    def test_counts_nodes_and_ops_of_an_mlp_with_loss(self, rng):
        model = mlp()
        stats = graph_stats(self.loss_of(model, 5, rng))
        assert stats.nodes == 6
        assert stats.leaves == 4  # two weights, two biases; the input needs no gradient
        assert stats.ops == {
            "MatMulBackward": 2,
            "AddBackward": 2,
            "ReLUBackward": 1,
            "CrossEntropyBackward": 1,
        }

    def test_string_form_names_nodes_bytes_and_ops(self, rng):
        text = str(graph_stats(self.loss_of(mlp(), 5, rng)))
        assert "6 nodes" in text and "4 leaves" in text
        assert "KiB" in text and "MatMulBackward×2" in text

    def test_saved_bytes_grow_linearly_with_batch_size(self, rng):
        model = mlp()
        sizes = [graph_stats(self.loss_of(model, b, rng)).saved_bytes for b in (8, 16, 24, 32)]
        steps = np.diff(sizes)
        assert steps[0] > 0
        assert np.all(steps == steps[0])

    def test_exclude_removes_exactly_the_parameter_bytes(self, rng):
        model = mlp()
        loss = self.loss_of(model, 8, rng)
        params = model.parameters()
        full = graph_stats(loss).saved_bytes
        activations = graph_stats(loss, exclude=[p.data for p in params]).saved_bytes
        assert full - activations == sum(p.data.nbytes for p in params)
        assert activations > 0

    def test_each_array_is_counted_once(self):
        """x*x holds x twice (both inputs) and its output once."""
        x = f64(np.ones(100))
        assert graph_stats(x * x).saved_bytes == 2 * 100 * 8

    def test_untracked_result_has_empty_stats(self):
        stats = graph_stats(f64([1.0], requires_grad=False) * 2.0)
        assert stats.nodes == 0 and stats.saved_bytes == 0
        assert graph_stats(f64([1.0]) * 2.0).nodes == 1  # the same op, tracked
