"""Module 12 · Attention — the specification of scaled dot-product and multi-head attention.

Attention is softmax(QKᵀ/√d)·V with a boolean mask (True = may attend). It must agree
with the formula, pass a float64 gradient check with and without masks, never let a
query see a masked (future) key, and report its O(T²) memory.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinytorch.core import Tensor, gradcheck, no_grad
from tinytorch.nn.activations import softmax
from tinytorch.testing import case_ids, check_op, op_cases
from tinytorch.text.attention import (
    AttentionMemory,
    MultiHeadAttention,
    attention_memory,
    causal_mask,
    print_attention_memory,
    scaled_dot_product_attention,
)


def t64(rng: np.random.Generator, *shape: int) -> Tensor:
    return Tensor(rng.standard_normal(shape), requires_grad=True, dtype=np.float64)


def reference(q, k, v, mask=None):
    """The formula, written out in NumPy."""
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    return (p / p.sum(axis=-1, keepdims=True)) @ v


# ----------------------------------------------------------------------------- masks


class TestCausalMask:
    def test_lower_triangle(self):
        np.testing.assert_array_equal(
            causal_mask(3), [[True, False, False], [True, True, False], [True, True, True]]
        )
        assert causal_mask(3).dtype == np.bool_

    def test_with_cached_past_every_new_query_sees_the_whole_past(self):
        mask = causal_mask(2, past_len=3)
        assert mask.shape == (2, 5)
        np.testing.assert_array_equal(mask, [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]])

    def test_bad_lengths_are_refused(self):
        with pytest.raises(ValueError, match="seq_len > 0"):
            causal_mask(0)


# ----------------------------------------------------------------------------- SDPA


class TestScaledDotProductAttention:
    def test_matches_the_formula_for_batched_heads(self, rng):
        q, k, v = (rng.standard_normal(s) for s in [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)])
        out = scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v))
        assert out.shape == (2, 3, 4, 7)
        np.testing.assert_allclose(out.data, reference(q, k, v), rtol=1e-5, atol=1e-6)

    def test_keeps_float32_and_saves_the_t_by_t_weights(self, rng):
        q = Tensor(rng.standard_normal((2, 4, 5, 8)), requires_grad=True)
        out = scaled_dot_product_attention(q, q, q)
        assert out.dtype == np.float32
        weights = out.grad_fn.weights
        assert weights.shape == (2, 4, 5, 5) and weights.dtype == np.float32
        np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-6)

    def test_gradcheck_without_mask(self, rng):
        q, k, v = t64(rng, 2, 3, 4), t64(rng, 2, 5, 4), t64(rng, 2, 5, 3)
        assert gradcheck(scaled_dot_product_attention, [q, k, v])

    def test_gradcheck_with_causal_mask(self, rng):
        q, k, v = t64(rng, 2, 2, 4, 3), t64(rng, 2, 2, 4, 3), t64(rng, 2, 2, 4, 3)
        assert gradcheck(
            lambda q, k, v: scaled_dot_product_attention(q, k, v, causal_mask(4)), [q, k, v]
        )

    def test_gradcheck_with_a_padding_mask_broadcast_over_heads(self, rng):
        q, k, v = t64(rng, 2, 2, 3, 4), t64(rng, 2, 2, 5, 4), t64(rng, 2, 2, 5, 4)
        keep = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)[:, None, None, :]
        out = scaled_dot_product_attention(q, k, v, keep)
        np.testing.assert_allclose(out.data, reference(q.data, k.data, v.data, keep), atol=1e-12)
        assert gradcheck(lambda q, k, v: scaled_dot_product_attention(q, k, v, keep), [q, k, v])

    def test_masked_keys_get_zero_weight_and_zero_gradient(self, rng):
        q, k, v = t64(rng, 1, 3, 2), t64(rng, 1, 3, 2), t64(rng, 1, 3, 2)
        out = scaled_dot_product_attention(q, k, v, causal_mask(3))
        np.testing.assert_array_equal(out.grad_fn.weights[0][~causal_mask(3)], 0.0)
        out[:, 0].sum().backward()  # the first query sees only the first key
        np.testing.assert_array_equal(k.grad.data[0, 1:], 0.0)
        np.testing.assert_array_equal(v.grad.data[0, 1:], 0.0)

    def test_changing_the_future_leaves_earlier_outputs_unchanged(self, rng):
        q, k, v = (rng.standard_normal((1, 6, 4)) for _ in range(3))
        before = scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), causal_mask(6)).data
        k2, v2 = k.copy(), v.copy()
        k2[:, 4:] += 10.0
        v2[:, 4:] -= 10.0
        after = scaled_dot_product_attention(Tensor(q), Tensor(k2), Tensor(v2), causal_mask(6)).data
        np.testing.assert_array_equal(after[:, :4], before[:, :4])
        assert not np.allclose(after[:, 4:], before[:, 4:])

    def test_a_fully_masked_row_is_uniform_not_nan_and_huge_scores_stay_finite(self):
        q = Tensor(np.full((1, 2, 2), 1e4))
        v = Tensor(np.array([[[1.0, 0.0], [0.0, 1.0]]]))
        mask = np.array([[False, False], [True, False]])
        out = scaled_dot_product_attention(q, q, v, mask)
        assert np.isfinite(out.data).all()
        np.testing.assert_allclose(out.data[0], [[0.5, 0.5], [1.0, 0.0]])

    @pytest.mark.parametrize(
        "q_shape, k_shape, v_shape, mask_shape",
        [
            ((3, 2, 5, 7), (3, 1, 6, 7), (1, 2, 6, 3), (3, 1, 5, 6)),  # a padding mask
            ((2, 4, 9, 5), (2, 4, 9, 5), (2, 4, 9, 5), (9, 9)),  # causal, as in a GPT
            ((5, 7), (6, 7), (4, 6, 3), None),  # v carries the batch
            ((5, 7), (6, 7), (6, 3), (2, 5, 6)),  # the mask carries the batch
        ],
    )
    def test_values_and_gradients_match_the_unfused_composition(
        self, rng, q_shape, k_shape, v_shape, mask_shape
    ):
        """The fused node against Module 01/02 ops: matmul, scale, penalty, softmax, matmul."""
        mask = None
        if mask_shape == (9, 9):
            mask = causal_mask(9)
        elif mask_shape is not None:
            mask = rng.random(mask_shape) < 0.6
            mask[..., 0] = True  # every query sees at least one key
        arrays = [rng.standard_normal(shape) for shape in (q_shape, k_shape, v_shape)]

        def unfused(q, k, v):
            scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
            if mask is not None:
                scores = scores + np.where(mask, 0.0, -np.inf)
            return softmax(scores, dim=-1) @ v

        results = []
        for op in (scaled_dot_product_attention, unfused):
            q, k, v = (Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays)
            out = op(q, k, v) if op is unfused else op(q, k, v, mask)
            upstream = np.random.default_rng(1).standard_normal(out.shape)
            out.backward(upstream)
            results.append([out.data, q.grad.data, k.grad.data, v.grad.data])
        for fused, reference_value in zip(*results):
            np.testing.assert_allclose(fused, reference_value, rtol=1e-10, atol=1e-12)
        q, k, v = (Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays)
        assert gradcheck(lambda q, k, v: scaled_dot_product_attention(q, k, v, mask), [q, k, v])

    @pytest.mark.ungraded
    def test_inconsistent_shapes_are_refused_with_the_shapes(self):
        a, b = Tensor(np.zeros((2, 3, 4))), Tensor(np.zeros((2, 3, 5)))
        with pytest.raises(ValueError, match=r"q \(2, 3, 4\) and k \(2, 3, 5\) must share"):
            scaled_dot_product_attention(a, b, b)
        with pytest.raises(ValueError, match="same number of keys"):
            scaled_dot_product_attention(a, a, Tensor(np.zeros((2, 2, 4))))
        with pytest.raises(ValueError, match="do not broadcast"):
            scaled_dot_product_attention(
                a, Tensor(np.zeros((3, 3, 4))), Tensor(np.zeros((3, 3, 4)))
            )
        with pytest.raises(ValueError, match="at least 2 dimensions"):
            scaled_dot_product_attention(Tensor(np.zeros(4)), a, a)

    def test_bad_masks_are_refused(self):
        a = Tensor(np.zeros((2, 3, 4)))
        with pytest.raises(TypeError, match="mask must be boolean"):
            scaled_dot_product_attention(a, a, a, np.ones((3, 3)))
        with pytest.raises(
            ValueError, match=r"mask \(4, 4\) does not broadcast to the scores \(2, 3, 3\)"
        ):
            scaled_dot_product_attention(a, a, a, causal_mask(4))


# ----------------------------------------------------------------------------- memory


class TestAttentionMemory:
    def test_score_bytes_by_hand(self):
        m = attention_memory(1024, num_heads=12, batch=1)
        assert m == AttentionMemory(1024, 12, 1, 4)
        assert m.score_elements == 12 * 1024 * 1024
        assert m.score_bytes == 50_331_648  # 48 MiB
        assert attention_memory(2048, 12).score_bytes == 4 * m.score_bytes
        assert attention_memory(100, 2, 3, itemsize=8).score_bytes == 3 * 2 * 100 * 100 * 8
        assert "48.00 MiB" in str(m)

    def test_invalid_sizes_are_refused(self):
        with pytest.raises(ValueError, match="attention_memory: seq_len must be >= 1, got 0"):
            attention_memory(0)

    def test_printed_table_shows_quadratic_growth(self, capsys):
        rows = print_attention_memory((128, 256, 512), num_heads=2)
        assert [r.score_bytes for r in rows] == [2 * 4 * t * t for t in (128, 256, 512)]
        assert capsys.readouterr().out.count("(4.0x)") == 2


# ----------------------------------------------------------------------------- multi-head


def mha64(embed_dim: int = 8, num_heads: int = 2) -> MultiHeadAttention:
    mha = MultiHeadAttention(embed_dim, num_heads)
    rng = np.random.default_rng(3)
    for p in mha.parameters():
        p.data = rng.standard_normal(p.shape) * 0.5
    return mha


class TestMultiHeadAttention:
    @pytest.mark.ungraded
    def test_parameters_are_four_projections(self):
        mha = MultiHeadAttention(16, 4)
        assert mha.num_parameters() == 4 * (16 * 16 + 16)
        assert mha.head_dim == 4

    def test_heads_are_split_and_merged_exactly(self, rng):
        mha = MultiHeadAttention(8, 2)
        x = Tensor(rng.standard_normal((2, 3, 8)))
        heads = mha.split_heads(x)
        assert heads.shape == (2, 2, 3, 4)
        np.testing.assert_array_equal(heads.data[:, 1], x.data[..., 4:])
        np.testing.assert_array_equal(mha.merge_heads(heads).data, x.data)

    def test_matches_a_loop_over_heads(self, rng):
        mha = mha64(8, 2)
        x = rng.standard_normal((2, 5, 8))
        out = mha(Tensor(x, dtype=np.float64), causal_mask(5)).data
        w = {name: p.data for name, p in mha.named_parameters()}
        q = x @ w["q_proj.weight"] + w["q_proj.bias"]
        k = x @ w["k_proj.weight"] + w["k_proj.bias"]
        v = x @ w["v_proj.weight"] + w["v_proj.bias"]
        heads = [
            reference(
                q[..., h * 4 : (h + 1) * 4],
                k[..., h * 4 : (h + 1) * 4],
                v[..., h * 4 : (h + 1) * 4],
                causal_mask(5),
            )
            for h in range(2)
        ]
        expected = np.concatenate(heads, axis=-1) @ w["out_proj.weight"] + w["out_proj.bias"]
        np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)

    def test_gradcheck_wrt_input_and_parameters(self, rng):
        mha = mha64(4, 2)
        x = t64(rng, 2, 3, 4)
        assert gradcheck(lambda x, *params: mha(x, causal_mask(3)), [x, *mha.parameters()])

    def test_causal_attention_ignores_future_tokens(self, rng):
        mha = MultiHeadAttention(8, 4)
        x = rng.standard_normal((1, 6, 8)).astype(np.float32)
        before = mha(Tensor(x), causal_mask(6)).data
        x[:, 3:] = rng.standard_normal((1, 3, 8))
        after = mha(Tensor(x), causal_mask(6)).data
        np.testing.assert_array_equal(after[:, :3], before[:, :3])

    def test_a_cache_hook_gives_the_same_output_one_token_at_a_time(self, rng):
        class ConcatCache:
            def __init__(self):
                self.k = self.v = None

            def update(self, k, v):
                if self.k is not None:
                    k = Tensor(np.concatenate([self.k.data, k.data], axis=2), dtype=k.dtype)
                    v = Tensor(np.concatenate([self.v.data, v.data], axis=2), dtype=v.dtype)
                self.k, self.v = k, v
                return k, v

        mha = mha64(8, 2)
        x = rng.standard_normal((2, 4, 8))
        full = mha(Tensor(x, dtype=np.float64), causal_mask(4)).data
        cache = ConcatCache()
        with no_grad():
            steps = [
                mha(Tensor(x[:, t : t + 1], dtype=np.float64), causal_mask(1, t), cache).data
                for t in range(4)
            ]
        np.testing.assert_allclose(np.concatenate(steps, axis=1), full, rtol=1e-10)

    def test_bad_configurations_and_inputs_are_refused(self):
        with pytest.raises(
            ValueError, match=r"embed_dim \(10\) must be a positive multiple of num_heads \(4\)"
        ):
            MultiHeadAttention(10, 4)
        with pytest.raises(
            ValueError, match=r"expected input \(batch, seq, 8\), got shape \(3, 8\)"
        ):
            MultiHeadAttention(8, 2)(Tensor(np.zeros((3, 8))))


# ----------------------------------------------------------------------------- the op table

MODULE_12 = op_cases([12])


@pytest.mark.parametrize("case", MODULE_12, ids=case_ids(MODULE_12))
def test_every_op_of_this_module_keeps_its_row_of_the_op_table(case, rng) -> None:
    """From ``tinytorch.testing``: the NumPy forward, the gradient rule the op's own code
    names (and records), and that rule's gradient against finite differences."""
    check_op(case, rng)


@pytest.mark.ungraded
def test_the_op_table_loads_while_the_modules_are_still_stubs(monkeypatch) -> None:
    """A learner's tree with Module 12 unwritten must still collect every tier's tests."""
    import importlib

    from tinytorch.text import attention, op_cases

    def stub(*args, **kwargs):
        raise NotImplementedError("Module 12 (Attention): implement causal_mask")

    monkeypatch.setattr(attention, "causal_mask", stub)
    assert importlib.reload(op_cases).CASES  # nothing of Module 12 runs while it loads
    monkeypatch.undo()
    importlib.reload(op_cases)
