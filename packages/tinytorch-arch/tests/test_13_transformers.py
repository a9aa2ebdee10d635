"""Module 13 · Transformers — the specification of LayerNorm, the block and the GPT.

LayerNorm is one fused, gradchecked op. A pre-norm block is x + Attn(LN(x)) then
x + MLP(LN(x)). The GPT predicts each next token from the tokens before it only,
generates greedily (deterministic) or by sampling (seeded, top-k), and reports its
memory per layer, including the cached keys and values a context would need — checked
against hand calculations.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch.core import Tensor, gradcheck, manual_seed, no_grad
from tinytorch.testing import case_ids, check_op, op_cases
from tinytorch.text import transformers
from tinytorch.text.attention import causal_mask


def f64(module, scale: float | None = None, seed: int = 5):
    """Parameters in float64 (for gradcheck), optionally re-drawn as N(0, scale²)."""
    rng = np.random.default_rng(seed)
    for p in module.parameters():
        p.data = rng.standard_normal(p.shape) * scale if scale else p.data.astype(np.float64)
    return module


def t64(rng, *shape):
    return Tensor(rng.standard_normal(shape), requires_grad=True, dtype=np.float64)


class ConcatCache:
    """The simplest cache the forward hook accepts: it concatenates (Module 17 preallocates)."""

    def __init__(self):
        self.k = self.v = None

    def update(self, k, v):
        if self.k is not None:
            k = Tensor._wrap(np.concatenate([self.k.data, k.data], axis=2))
            v = Tensor._wrap(np.concatenate([self.v.data, v.data], axis=2))
        self.k, self.v = k, v
        return k, v


def tiny_gpt(**kwargs) -> transformers.GPT:
    return transformers.GPT(vocab_size=7, d_model=8, n_heads=2, n_layers=2, max_len=6, **kwargs)


# ----------------------------------------------------------------------------- LayerNorm


class TestLayerNorm:
    def test_matches_the_formula(self, rng):
        ln = transformers.LayerNorm(6)
        ln.weight.data = rng.standard_normal(6).astype(np.float32)
        ln.bias.data = rng.standard_normal(6).astype(np.float32)
        x = rng.standard_normal((3, 4, 6)).astype(np.float32) * 5 + 2
        expected = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
        out = ln(Tensor(x))
        assert out.dtype == np.float32
        np.testing.assert_allclose(
            out.data, expected * ln.weight.data + ln.bias.data, rtol=1e-4, atol=1e-5
        )

    def test_rows_come_out_with_mean_zero_and_variance_one(self, rng):
        out = transformers.LayerNorm(16)(
            Tensor(rng.standard_normal((5, 16)) * 100 + 7, dtype=np.float64)
        ).data
        np.testing.assert_allclose(out.mean(-1), 0.0, atol=1e-12)
        np.testing.assert_allclose(out.var(-1), 1.0, rtol=1e-5)

    def test_gradcheck_input_weight_and_bias(self, rng):
        ln = f64(transformers.LayerNorm(5), scale=1.0)
        x = t64(rng, 2, 3, 5)
        assert gradcheck(lambda x, w, b: ln(x), [x, ln.weight, ln.bias])

    def test_gradcheck_over_two_normalised_axes_without_affine(self, rng):
        ln = transformers.LayerNorm((3, 4), elementwise_affine=False)
        assert ln.parameters() == []
        assert gradcheck(ln, [t64(rng, 2, 3, 4)])

    def test_one_graph_node(self, rng):
        out = transformers.LayerNorm(4)(Tensor(rng.standard_normal((2, 4)), requires_grad=True))
        assert isinstance(out.grad_fn, transformers.LayerNormFunction)

    @pytest.mark.ungraded
    def test_shape_errors_name_both_shapes(self):
        with pytest.raises(
            ValueError, match=r"input shape \(2, 5\) does not end with normalized_shape \(4,\)"
        ):
            transformers.LayerNorm(4)(Tensor(np.zeros((2, 5))))
        with pytest.raises(ValueError, match="must be positive"):
            transformers.LayerNorm(0)


# ----------------------------------------------------------------------------- MLP and block


def test_mlp_shape_parameters_and_gradient(rng):
    mlp = transformers.MLP(8)
    assert mlp.num_parameters() == 8 * 8**2 + 5 * 8
    assert mlp(Tensor(rng.standard_normal((2, 3, 8)))).shape == (2, 3, 8)
    small = f64(transformers.MLP(3, 5), scale=0.7)
    assert gradcheck(lambda x, *ps: small(x), [t64(rng, 2, 2, 3), *small.parameters()])


class TestTransformerBlock:
    @pytest.mark.ungraded
    def test_parameter_count_is_12_d_squared_plus_13_d(self):
        assert transformers.TransformerBlock(16, 4).num_parameters() == 12 * 16**2 + 13 * 16

    def test_pre_norm_residual_is_the_identity_when_both_branches_output_zero(self, rng):
        block = transformers.TransformerBlock(8, 2)
        for layer in (block.attn.out_proj, block.mlp.proj):
            layer.weight.data[:] = 0.0
            layer.bias.data[:] = 0.0
        x = rng.standard_normal((2, 3, 8)).astype(np.float32)
        np.testing.assert_array_equal(block(Tensor(x)).data, x)

    def test_each_branch_adds_to_the_residual(self, rng):
        block = f64(transformers.TransformerBlock(4, 2), scale=0.5)
        x = Tensor(rng.standard_normal((1, 3, 4)), dtype=np.float64)
        h = x + block.attn(block.ln1(x), causal_mask(3))
        expected = h + block.mlp(block.ln2(h))
        np.testing.assert_allclose(block(x, causal_mask(3)).data, expected.data, rtol=1e-12)

    def test_gradcheck_wrt_input_and_parameters(self, rng):
        block = f64(transformers.TransformerBlock(4, 2, mlp_ratio=2), scale=0.5)
        x = t64(rng, 2, 3, 4)
        assert gradcheck(lambda x, *ps: block(x, causal_mask(3)), [x, *block.parameters()])

    def test_with_a_causal_mask_the_future_does_not_change_the_past(self, rng):
        block = transformers.TransformerBlock(8, 2)
        x = rng.standard_normal((2, 5, 8)).astype(np.float32)
        before = block(Tensor(x), causal_mask(5)).data
        x[:, 2:] += 3.0
        np.testing.assert_array_equal(block(Tensor(x), causal_mask(5)).data[:, :2], before[:, :2])

    def test_dropout_only_while_training(self, rng):
        block = transformers.TransformerBlock(8, 2, dropout=0.5)
        x = Tensor(rng.standard_normal((2, 3, 8)))
        block.eval()
        np.testing.assert_array_equal(block(x).data, block(x).data)
        block.train()
        assert not np.array_equal(block(x).data, block(x).data)


# ----------------------------------------------------------------------------- GPT


class TestGPT:
    def test_logits_shape_and_features(self):
        gpt = tiny_gpt()
        ids = np.array([[1, 2, 3], [4, 5, 6]])
        logits = gpt(ids)
        assert logits.shape == (2, 3, 7)
        features = gpt.features(ids)
        assert features.shape == (2, 3, 8)
        np.testing.assert_allclose(
            logits.data, (features @ gpt.head.weight + gpt.head.bias).data, rtol=1e-6
        )

    def test_gradcheck_of_logits_wrt_every_parameter(self):
        gpt = f64(
            transformers.GPT(
                vocab_size=5, d_model=4, n_heads=2, n_layers=1, max_len=4, mlp_ratio=2
            ),
            scale=0.5,
        )
        ids = np.array([[0, 3, 4], [2, 2, 1]])
        assert gradcheck(lambda *ps: gpt(ids), gpt.parameters())

    def test_each_position_sees_only_earlier_tokens(self, rng):
        gpt = tiny_gpt()
        ids = rng.integers(0, 7, (2, 6))
        before = gpt(ids).data
        changed = ids.copy()
        changed[:, 4:] = (changed[:, 4:] + 1) % 7
        after = gpt(changed).data
        np.testing.assert_array_equal(after[:, :4], before[:, :4])
        assert not np.allclose(after[:, 4:], before[:, 4:])

    def test_sinusoidal_positions_work_too(self):
        gpt = tiny_gpt(positional="sinusoidal")
        assert gpt(np.array([[1, 2]])).shape == (1, 2, 7)
        with pytest.raises(ValueError, match="positional must be"):
            tiny_gpt(positional="rotary")

    def test_bad_ids_are_refused(self):
        gpt = tiny_gpt()
        with pytest.raises(ValueError, match=r"ids must be \(batch, seq_len\), got shape \(3,\)"):
            gpt(np.array([1, 2, 3]))
        with pytest.raises(IndexError, match="out of range for a table of 7 rows"):
            gpt(np.array([[1, 9]]))
        with pytest.raises(ValueError, match="exceed max_len 6"):
            gpt(np.zeros((1, 7), dtype=np.int64))

    def test_the_kv_cache_hook_reproduces_the_full_forward(self, rng):
        """Module 17 plugs a cache into forward(ids, caches, start_pos); this one concatenates."""

        gpt = f64(tiny_gpt())
        ids = rng.integers(0, 7, (2, 5))
        full = gpt(ids).data
        caches = [ConcatCache() for _ in range(gpt.n_layers)]
        with no_grad():
            prefix = gpt(ids[:, :3], caches=caches, start_pos=0).data
            steps = [gpt(ids[:, t : t + 1], caches=caches, start_pos=t).data for t in (3, 4)]
        np.testing.assert_allclose(np.concatenate([prefix, *steps], axis=1), full, rtol=1e-10)
        with pytest.raises(ValueError, match="got 1 caches for 2 layers"):
            gpt(ids, caches=caches[:1])


class TestGenerate:
    def test_greedy_is_deterministic_and_picks_the_argmax_each_step(self):
        gpt = tiny_gpt()
        prompt = np.array([1, 2])
        out = gpt.generate(prompt, 4, temperature=0)
        assert out.shape == (6,) and out.dtype == np.int64
        np.testing.assert_array_equal(out, gpt.generate(prompt, 4, temperature=0))
        ids = prompt.copy()
        for _ in range(4):
            ids = np.append(ids, gpt(ids[None, -6:]).data[0, -1].argmax())
        np.testing.assert_array_equal(out, ids)

    def test_batched_prompts_and_context_cropped_to_max_len(self):
        gpt = tiny_gpt()
        prompts = np.array([[1, 2, 3, 4, 5], [6, 5, 4, 3, 2]])
        out = gpt.generate(prompts, 3, temperature=0)
        assert out.shape == (2, 8)
        np.testing.assert_array_equal(out[1], gpt.generate(prompts[1], 3, temperature=0))

    def test_sampling_is_reproducible_with_manual_seed(self):
        gpt = tiny_gpt()
        manual_seed(7)
        first = gpt.generate(np.array([1]), 5, temperature=1.5)
        manual_seed(7)
        np.testing.assert_array_equal(first, gpt.generate(np.array([1]), 5, temperature=1.5))

    def test_top_k_one_is_greedy_and_top_k_limits_the_choices(self):
        gpt = tiny_gpt()
        prompt = np.array([[3, 1]])
        greedy = gpt.generate(prompt, 4, temperature=0)
        np.testing.assert_array_equal(gpt.generate(prompt, 4, temperature=5.0, top_k=1), greedy)
        with no_grad():
            logits = gpt(prompt).data[0, -1]
        allowed = set(np.argsort(logits)[-2:])
        picks = {int(gpt.generate(prompt, 1, temperature=10.0, top_k=2)[0, -1]) for _ in range(40)}
        assert picks <= allowed and len(picks) == 2

    def test_generation_stops_after_eos_and_leaves_training_mode_as_it_was(self):
        gpt = tiny_gpt(dropout=0.1)
        first = int(gpt.generate(np.array([1]), 1, temperature=0)[-1])
        out = gpt.generate(np.array([[1], [1]]), 5, temperature=0, eos_id=first)
        assert out.shape == (2, 2)  # every row finished at once
        assert gpt.training

    @pytest.mark.parametrize("prompt", [[1], [4, 2, 0], [[1, 2], [3, 4]]], ids=str)
    def test_with_caches_the_same_tokens_come_from_one_pass_per_new_token(self, prompt):
        gpt = tiny_gpt()
        prompt = np.array(prompt)
        new = gpt.max_len - prompt.shape[-1] + 1
        caches = [ConcatCache() for _ in range(gpt.n_layers)]
        np.testing.assert_array_equal(
            gpt.generate(prompt, new, temperature=0, caches=caches),
            gpt.generate(prompt, new, temperature=0),
        )
        assert caches[0].k.shape[2] == prompt.shape[-1] + new - 1  # the last token never runs

    def test_sampling_with_caches_draws_the_same_tokens(self):
        gpt = tiny_gpt()
        manual_seed(3)
        plain = gpt.generate(np.array([[2, 5]]), 4, temperature=1.2, top_k=3)
        manual_seed(3)
        caches = [ConcatCache() for _ in range(gpt.n_layers)]
        cached = gpt.generate(np.array([[2, 5]]), 4, temperature=1.2, top_k=3, caches=caches)
        np.testing.assert_array_equal(cached, plain)

    def test_bad_arguments_are_refused(self):
        gpt = tiny_gpt()
        with pytest.raises(ValueError, match="temperature and max_new_tokens must be >= 0"):
            gpt.generate(np.array([1]), 2, temperature=-1)
        with pytest.raises(ValueError, match=r"top_k must be in \[1, 7\]"):
            gpt.generate(np.array([1]), 2, top_k=0)
        with pytest.raises(ValueError, match="non-empty integer ids"):
            gpt.generate(np.array([0.5]), 2)


class TestNoStaleBindings:
    def test_the_mlp_records_gelu_exactly_when_autograd_is_active(self, rng):
        """The MLP holds a GELU layer that calls Module 02's gelu through Module 01's hook,
        so switching autograd off and on reaches it like every other op."""
        from tinytorch.core import disable_autograd, enable_autograd

        mlp = transformers.MLP(4)
        x = Tensor(rng.standard_normal((2, 4)), requires_grad=True)
        try:
            disable_autograd()
            assert mlp(x).grad_fn is None
            assert mlp.act(x).grad_fn is None
        finally:
            enable_autograd()
        assert type(mlp.act(x).grad_fn).__name__ == "GELUBackward"
        assert mlp(x).grad_fn is not None


# ----------------------------------------------------------------------------- memory


class TestMemoryProfile:
    def test_kv_cache_bytes_by_hand(self):
        gpt = transformers.GPT(vocab_size=100, d_model=32, n_heads=4, n_layers=3, max_len=64)
        # 2 (K and V) × 3 layers × 5 sequences × 64 tokens × 32 numbers × 4 bytes
        assert gpt.kv_cache_bytes(64, batch=5) == 2 * 3 * 5 * 64 * 32 * 4 == 245_760
        assert gpt.kv_cache_bytes(0) == 0
        with pytest.raises(ValueError, match="context_len >= 0"):
            gpt.kv_cache_bytes(-1)

    def test_per_layer_profile_by_hand(self):
        v, d, h, n, t = 100, 32, 4, 3, 64
        gpt = transformers.GPT(vocab_size=v, d_model=d, n_heads=h, n_layers=n, max_len=t)
        rows = gpt.memory_profile(context_len=16, batch=2)
        assert [r.name for r in rows] == [
            "token embedding",
            "position",
            "block 0",
            "block 1",
            "block 2",
            "final norm",
            "lm head",
        ]
        assert rows[0] == transformers.LayerMemory("token embedding", v * d, v * d * 4)
        assert rows[1].parameters == t * d
        block = 12 * d * d + 13 * d
        assert rows[2] == transformers.LayerMemory(
            "block 0",
            block,
            block * 4,
            kv_cache_bytes=2 * 2 * 16 * d * 4,  # K and V, batch 2, 16 tokens
            attention_score_bytes=2 * h * 16 * 16 * 4,  # batch 2, 4 heads, 16² scores
        )
        assert rows[5].parameters == 2 * d and rows[6].parameters == d * v + v
        assert sum(r.parameters for r in rows) == gpt.num_parameters()
        assert sum(r.kv_cache_bytes for r in rows) == gpt.kv_cache_bytes(16, batch=2)

    def test_printed_profile(self, capsys):
        rows = tiny_gpt().print_memory_profile(6)
        out = capsys.readouterr().out
        assert "block 1" in out and "cached keys+values" in out and "4 × parameters" in out
        assert len(rows) == 2 + 2 + 2


# ----------------------------------------------------------------------------- the op table

MODULE_13 = op_cases([13])


@pytest.mark.parametrize("case", MODULE_13, ids=case_ids(MODULE_13))
def test_every_op_of_this_module_keeps_its_row_of_the_op_table(case, rng) -> None:
    """From ``tinytorch.testing``: the NumPy forward, the gradient rule the op's own code
    names (and records), and that rule's gradient against finite differences."""
    check_op(case, rng)
