"""Module 17 · Memoization — the specification, as tests.

A KVCache holds one layer's keys and values in buffers allocated once, writes each step's
rows at its write position, returns everything filled so far, refuses to overflow and can
be reset. Cached generation runs the prompt once and then one token per step, and gives
the uncached ``GPT.generate`` output token for token — greedy on random and trained
models, sampled with a seed, stopped at an end token. The cache's bytes are checked
against hand calculations and Module 13's ``kv_cache_bytes``. Timings are checked for
their structure only, never for their values.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch.core import Tensor, manual_seed, no_grad
from tinytorch.nn import CrossEntropyLoss, Linear
from tinytorch.nn.activations import gelu
from tinytorch.optim import AdamW
from tinytorch.perf import memoization
from tinytorch.perf.measure import Timing
from tinytorch.perf.memoization import (
    DecodePlan,
    GenerationTiming,
    KVCache,
    KVCacheMemory,
    decode_token,
    generate_cached,
    growth_exponent,
    has_lean_path,
    kv_cache_memory,
    make_caches,
    scaling_table,
    time_generation,
    token_passes,
)
from tinytorch.text.transformers import GPT, LayerNorm, layer_norm_arrays


def small_gpt(vocab: int = 11, max_len: int = 24, dtype=np.float32) -> GPT:
    model = GPT(vocab_size=vocab, d_model=16, n_heads=2, n_layers=2, max_len=max_len)
    for p in model.parameters():
        p.data = p.data.astype(dtype)
    return model


def kv(rng, batch: int, heads: int, steps: int, head_dim: int) -> tuple[Tensor, Tensor]:
    shape = (batch, heads, steps, head_dim)
    return (
        Tensor(rng.standard_normal(shape).astype(np.float32)),
        Tensor(rng.standard_normal(shape).astype(np.float32)),
    )


@pytest.fixture(scope="module")
def counting_gpt() -> GPT:
    """A GPT trained for a second to count up modulo 11 (3 4 5 -> 6 7 8 ...)."""
    manual_seed(0)
    rng = np.random.default_rng(0)
    model = small_gpt()
    optimizer = AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    loss_fn = CrossEntropyLoss()
    for _ in range(80):
        tokens = (rng.integers(0, 11, (32, 1)) + np.arange(13)) % 11
        optimizer.zero_grad()
        loss = loss_fn(model(tokens[:, :-1]).reshape(-1, 11), tokens[:, 1:].reshape(-1))
        loss.backward()
        optimizer.step()
    return model.eval()


# ============================================================================= the cache


class TestKVCache:
    def test_a_new_cache_is_empty_and_reserves_its_whole_length(self):
        cache = KVCache(batch=2, num_heads=4, head_dim=8, max_len=10)
        assert cache.keys.shape == cache.values.shape == (2, 4, 10, 8)
        assert cache.keys.dtype == np.float32
        assert cache.position == len(cache) == 0 and cache.max_len == 10
        # K and V × batch 2 × 4 heads × 10 positions × 8 numbers × 4 bytes
        assert cache.nbytes == 2 * 2 * 4 * 10 * 8 * 4 == 5120

    def test_update_writes_at_the_position_and_returns_everything_so_far(self, rng):
        cache = KVCache(2, 4, 8, 10)
        k1, v1 = kv(rng, 2, 4, 3, 8)
        keys, values = cache.update(k1, v1)
        assert keys.shape == values.shape == (2, 4, 3, 8) and cache.position == 3
        np.testing.assert_array_equal(keys.data, k1.data)
        np.testing.assert_array_equal(values.data, v1.data)
        k2, v2 = kv(rng, 2, 4, 1, 8)
        keys, values = cache.update(k2, v2)
        assert keys.shape == (2, 4, 4, 8) and len(cache) == 4
        np.testing.assert_array_equal(keys.data, np.concatenate([k1.data, k2.data], axis=2))
        np.testing.assert_array_equal(values.data, np.concatenate([v1.data, v2.data], axis=2))

    def test_what_update_returns_are_views_of_the_buffers_not_copies(self, rng):
        cache = KVCache(1, 2, 4, 6)
        keys, values = cache.update(*kv(rng, 1, 2, 2, 4))
        assert np.shares_memory(keys.data, cache.keys)
        assert np.shares_memory(values.data, cache.values)

    def test_overflow_is_refused_with_a_clear_message_and_changes_nothing(self, rng):
        cache = KVCache(1, 2, 4, max_len=4)
        cache.update(*kv(rng, 1, 2, 3, 4))
        before = cache.keys.copy()
        with pytest.raises(ValueError, match="at position 3 would overflow the cache of max_len 4"):
            cache.update(*kv(rng, 1, 2, 2, 4))
        assert cache.position == 3
        np.testing.assert_array_equal(cache.keys, before)

    def test_reset_starts_over_in_the_same_buffers(self, rng):
        cache = KVCache(1, 2, 4, 5)
        cache.update(*kv(rng, 1, 2, 5, 4))
        buffers = cache.keys
        cache.reset()
        assert cache.position == 0 and cache.keys is buffers
        k, v = kv(rng, 1, 2, 2, 4)
        keys, _ = cache.update(k, v)
        assert keys.shape == (1, 2, 2, 4)
        np.testing.assert_array_equal(keys.data, k.data)

    def test_bad_inputs_are_refused(self, rng):
        with pytest.raises(ValueError, match="KVCache: max_len must be >= 1, got 0"):
            KVCache(1, 2, 4, 0)
        cache = KVCache(1, 2, 4, 5)
        with pytest.raises(ValueError, match=r"expected \(1, 2, T_new, 4\)"):
            cache.update(*kv(rng, 1, 3, 1, 4))
        with pytest.raises(ValueError, match="float64 but the cache holds float32"):
            cache.update(Tensor(np.zeros((1, 2, 1, 4)), dtype=np.float64), kv(rng, 1, 2, 1, 4)[1])
        with pytest.raises(ValueError, match="differ in length"):
            cache.update(kv(rng, 1, 2, 1, 4)[0], kv(rng, 1, 2, 2, 4)[1])

    def test_a_cache_refuses_inputs_that_record_a_graph(self):
        model = small_gpt()
        with pytest.raises(RuntimeError, match="run cached generation under no_grad"):
            model(np.array([[1, 2]]), caches=make_caches(model))


class TestMakeCaches:
    def test_one_cache_per_block_shaped_like_its_attention(self):
        model = small_gpt(max_len=12)
        caches = make_caches(model, batch=3)
        assert len(caches) == model.n_layers
        for cache in caches:
            assert cache.keys.shape == (3, 2, 12, 8)  # 2 heads of 16 / 2 numbers
        assert [c.max_len for c in make_caches(model, 1, max_len=5)] == [5, 5]

    def test_caches_follow_the_model_dtype(self):
        caches = make_caches(small_gpt(dtype=np.float64), max_len=4)
        assert all(c.keys.dtype == np.float64 for c in caches)

    @pytest.mark.ungraded
    def test_a_cache_cannot_be_longer_than_the_model_has_positions(self):
        with pytest.raises(ValueError, match=r"max_len must be in \[1, 24\]"):
            make_caches(small_gpt(), 1, max_len=25)

    def test_cached_steps_reproduce_the_full_forward_pass(self, rng):
        model = small_gpt(dtype=np.float64)
        ids = rng.integers(0, 11, (2, 7))
        with no_grad():
            full = model(ids).data
            caches = make_caches(model, batch=2, max_len=7)
            prefix = model(ids[:, :4], caches=caches, start_pos=0).data
            steps = [model(ids[:, t : t + 1], caches=caches, start_pos=t).data for t in (4, 5, 6)]
        assert [c.position for c in caches] == [7, 7]
        np.testing.assert_allclose(np.concatenate([prefix, *steps], axis=1), full, rtol=1e-10)


# ============================================================================= generation


class TestGenerateCached:
    @pytest.mark.parametrize("prompt", [[1], [4, 2], [0, 10, 3, 3, 7], [5, 6, 7, 8, 9, 10, 0, 1]])
    def test_greedy_equals_uncached_generation_token_for_token(self, prompt):
        model = small_gpt()
        prompt = np.array(prompt)
        new = model.max_len - len(prompt) + 1  # as long as the positions allow
        expected = model.generate(prompt, new, temperature=0.0)
        out = generate_cached(model, prompt, new)
        assert out.dtype == np.int64 and out.shape == (len(prompt) + new,)
        np.testing.assert_array_equal(out, expected)

    def test_a_batch_of_prompts_equals_uncached_generation(self, rng):
        model = small_gpt()
        prompts = rng.integers(0, 11, (4, 3))
        out = generate_cached(model, prompts, 12)
        assert out.shape == (4, 15)
        np.testing.assert_array_equal(out, model.generate(prompts, 12, temperature=0.0))

    def test_a_trained_model_generates_the_same_with_and_without_the_cache(self, counting_gpt):
        np.testing.assert_array_equal(
            generate_cached(counting_gpt, np.array([3, 4, 5]), 6), [3, 4, 5, 6, 7, 8, 9, 10, 0]
        )
        for start in range(0, 11, 2):
            prompt = (start + np.arange(1 + start % 4)) % 11
            new = counting_gpt.max_len - len(prompt) + 1
            np.testing.assert_array_equal(
                generate_cached(counting_gpt, prompt, new),
                counting_gpt.generate(prompt, new, temperature=0.0),
            )

    def test_the_prompt_runs_once_then_one_token_per_step(self, monkeypatch):
        model = small_gpt()
        seen = []
        forward, decode = GPT.forward, memoization.decode_token

        def spy_forward(self, ids, caches=None, start_pos=0):
            seen.append(("forward", np.shape(ids), start_pos, caches is not None))
            return forward(self, ids, caches, start_pos)

        def spy_decode(plan, caches, ids, position):
            seen.append(("decode", np.shape(ids), position, [c.position for c in caches]))
            return decode(plan, caches, ids, position)

        monkeypatch.setattr(GPT, "forward", spy_forward)
        monkeypatch.setattr(memoization, "decode_token", spy_decode)
        generate_cached(model, np.array([[1, 2, 3], [4, 5, 6]]), 4)
        assert seen == [
            ("forward", (2, 3), 0, True),  # the prompt fills the caches
            ("decode", (2, 1), 3, [3, 3]),  # then one token per step, on the lean path
            ("decode", (2, 1), 4, [4, 4]),
            ("decode", (2, 1), 5, [5, 5]),
        ]

    @pytest.mark.parametrize(
        ("d_model", "heads", "batch", "positional"),
        [(16, 2, 1, "learned"), (15, 3, 3, "learned"), (12, 4, 2, "sinusoidal")],
    )
    def test_decode_token_is_the_full_forward_pass_of_one_token(
        self, rng, d_model, heads, batch, positional
    ):
        model = GPT(13, d_model, heads, n_layers=2, max_len=9, positional=positional).double()
        ids = rng.integers(0, 13, (batch, 9))
        with no_grad():
            full = model(ids).data
            caches = make_caches(model, batch)
            model(ids[:, :5], caches=caches)
            plan = DecodePlan.of(model)
            steps = [decode_token(plan, caches, ids[:, t : t + 1], t) for t in range(5, 9)]
        assert [c.position for c in caches] == [9, 9]
        np.testing.assert_allclose(np.stack(steps, axis=1), full[:, 5:], rtol=1e-10, atol=1e-12)

    def test_decode_token_refuses_to_run_past_its_caches(self, rng):
        model = small_gpt()
        caches = make_caches(model, 1, max_len=4)
        with no_grad():
            model(rng.integers(0, 11, (1, 4)), caches=caches)
        with pytest.raises(ValueError, match="at position 4 would overflow the cache of max_len 4"):
            decode_token(DecodePlan.of(model), caches, np.array([[1]]), 4)

    @pytest.mark.parametrize("batch", [1, 8])
    def test_the_lean_path_gives_the_uncached_tokens_at_milestone_size(self, rng, batch):
        manual_seed(0)
        model = GPT(vocab_size=1000, d_model=64, n_heads=4, n_layers=2, max_len=64)
        prompts = rng.integers(0, 1000, (batch, 8))
        assert has_lean_path(model)
        np.testing.assert_array_equal(
            generate_cached(model, prompts, 56), model.generate(prompts, 56, temperature=0.0)
        )

    @pytest.mark.parametrize("batch", [1, 8])
    def test_the_lean_path_samples_and_stops_as_uncached_generation_does(self, rng, batch):
        manual_seed(0)
        model = GPT(vocab_size=50, d_model=24, n_heads=3, n_layers=2, max_len=40)
        prompts = rng.integers(0, 50, (batch, 5))
        eos = int(generate_cached(model, prompts, 4)[0, -1])  # row 0's fourth new token
        assert has_lean_path(model)
        manual_seed(3)
        cached = generate_cached(model, prompts, 30, temperature=0.8, top_k=7, eos_id=eos)
        manual_seed(3)
        uncached = model.generate(prompts, 30, temperature=0.8, top_k=7, eos_id=eos)
        np.testing.assert_array_equal(cached, uncached)
        assert (cached == eos).any()

    def test_a_hooked_or_swapped_layer_keeps_the_full_forward_pass(self):
        model = small_gpt()
        prompt = np.array([[1, 2, 3]])
        expected = model.generate(prompt, 6, temperature=0.0)
        handle = model.blocks[1].mlp.fc.register_forward_hook(lambda m, args, out: out * 0.5)
        assert not has_lean_path(model)
        np.testing.assert_array_equal(
            generate_cached(model, prompt, 6), model.generate(prompt, 6, temperature=0.0)
        )
        handle.remove()

        class Scaled(type(model.head)):
            pass

        swapped = small_gpt()
        swapped.head.__class__ = Scaled
        assert has_lean_path(model) and not has_lean_path(swapped)
        np.testing.assert_array_equal(
            generate_cached(swapped, prompt, 6), swapped.generate(prompt, 6, temperature=0.0)
        )
        np.testing.assert_array_equal(generate_cached(model, prompt, 6), expected)

    def test_top_k_sampling_is_reproducible_with_a_seed_and_matches_uncached(self):
        model = small_gpt(dtype=np.float64)
        prompt = np.array([[2, 3], [7, 1]])
        manual_seed(7)
        first = generate_cached(model, prompt, 10, temperature=1.5, top_k=4)
        manual_seed(7)
        np.testing.assert_array_equal(
            first, generate_cached(model, prompt, 10, temperature=1.5, top_k=4)
        )
        manual_seed(7)
        np.testing.assert_array_equal(first, model.generate(prompt, 10, temperature=1.5, top_k=4))
        greedy = generate_cached(model, prompt, 10)
        np.testing.assert_array_equal(
            generate_cached(model, prompt, 10, temperature=3.0, top_k=1), greedy
        )

    def test_an_end_token_stops_rows_exactly_as_uncached_generation_does(self):
        model = small_gpt()
        prompts = np.array([[1, 2], [3, 4], [5, 6]])
        greedy = generate_cached(model, prompts, 8)
        eos = int(greedy[0, 3])  # the second new token of row 0
        out = generate_cached(model, prompts, 8, eos_id=eos)
        np.testing.assert_array_equal(out, model.generate(prompts, 8, temperature=0.0, eos_id=eos))
        assert (out[0, 3:] == eos).all()
        everyone = generate_cached(model, prompts[:1], 8, eos_id=int(greedy[0, 2]))
        assert everyone.shape == (1, 3)  # the only row finished at once

    def test_zero_new_tokens_returns_the_prompt_and_training_mode_is_restored(self):
        model = small_gpt()
        np.testing.assert_array_equal(generate_cached(model, np.array([3, 1]), 0), [3, 1])
        generate_cached(model, np.array([3, 1]), 2)
        assert model.training
        model.eval()
        generate_cached(model, np.array([3, 1]), 2)
        assert not model.training

    def test_bad_arguments_are_refused(self):
        model = small_gpt()
        with pytest.raises(ValueError, match="temperature and max_new_tokens must be >= 0"):
            generate_cached(model, np.array([1]), 2, temperature=-1.0)
        with pytest.raises(ValueError, match=r"top_k must be in \[1, 11\]"):
            generate_cached(model, np.array([1]), 2, top_k=12)
        with pytest.raises(ValueError, match="non-empty integer ids"):
            generate_cached(model, np.array([0.5]), 2)
        with pytest.raises(ValueError, match="run 25 positions, more than the model's max_len 24"):
            generate_cached(model, np.array([1, 2]), 24)


class TestDecodePlan:
    """The lean step's array functions against the layers they stand in for."""

    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    @pytest.mark.parametrize("batch", [1, 3])
    def test_side_by_side_projections_are_the_separate_layers(self, rng, dtype, batch):
        layers = [Linear(7, 5), Linear(7, 3, bias=False), Linear(7, 1)]
        for p in (p for layer in layers for p in layer.parameters()):
            p.data = rng.standard_normal(p.shape).astype(dtype)
        dense = memoization.DenseArrays.side_by_side(layers)
        x = rng.standard_normal((batch, 7)).astype(dtype)
        assert dense.weight.shape == (7, 9) and dense.bias.shape == (1, 9)
        with no_grad():
            separate = np.concatenate([layer(Tensor(x, dtype=dtype)).data for layer in layers], 1)
        np.testing.assert_allclose(memoization._dense(x, dense), separate, rtol=1e-6, atol=1e-6)

    @pytest.mark.parametrize("affine", [True, False])
    @pytest.mark.parametrize(("batch", "d", "dtype"), [(1, 64, np.float32), (5, 13, np.float64)])
    def test_the_row_layer_norm_is_layer_norm_arrays_number_for_number(
        self, rng, affine, batch, d, dtype
    ):
        norm = LayerNorm(d, eps=1e-3, elementwise_affine=affine)
        for p in norm.parameters():
            p.data = rng.standard_normal(p.shape).astype(dtype)
        x = (rng.standard_normal((batch, d)) * 3 + 1).astype(dtype)
        weight, bias = (norm.weight.data, norm.bias.data) if affine else (None, None)
        expected = layer_norm_arrays(x, weight, bias, 1, 1e-3)[0]
        out = memoization._layer_norm(x, memoization.NormArrays.of(norm, np.dtype(dtype)))
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, expected)

    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    def test_the_in_place_gelu_is_module_02s_gelu_number_for_number(self, rng, dtype):
        x = (rng.standard_normal((3, 37)) * 4).astype(dtype)
        expected = gelu(Tensor(x, dtype=dtype)).data
        out = memoization._gelu(x.copy(), memoization.GeluArrays.of(np.dtype(dtype)))
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, expected)

    def test_a_plan_reads_the_parameters_it_was_built_from(self):
        model = small_gpt()
        plan = DecodePlan.of(model)
        assert len(plan.blocks) == 2 and plan.head.weight is model.head.weight.data
        attn, qkv = model.blocks[0].attn, plan.blocks[0].qkv
        scale = 1 / np.sqrt(attn.head_dim)  # folded into q's columns
        for i, (layer, factor) in enumerate(
            [(attn.q_proj, scale), (attn.k_proj, 1.0), (attn.v_proj, 1.0)]
        ):
            columns = slice(attn.embed_dim * i, attn.embed_dim * (i + 1))
            np.testing.assert_allclose(qkv.weight[:, columns], layer.weight.data * factor)
            np.testing.assert_allclose(qkv.bias[0, columns], layer.bias.data * factor)
        assert not np.shares_memory(qkv.weight, attn.q_proj.weight.data)
        sinusoidal = GPT(11, 16, 2, n_layers=1, max_len=6, positional="sinusoidal")
        assert DecodePlan.of(sinusoidal).positions.dtype == np.float32


# ============================================================================= memory


class TestMemory:
    def test_kv_cache_memory_by_hand_and_against_module_13(self):
        model = GPT(vocab_size=100, d_model=32, n_heads=4, n_layers=3, max_len=64)
        memory = kv_cache_memory(model, 64, batch=5)
        assert isinstance(memory, KVCacheMemory)
        # K and V × 3 layers × 32 numbers × 4 bytes per token of one sequence
        assert memory.bytes_per_token == 2 * 3 * 32 * 4 == 768
        # × 5 sequences × 64 tokens
        assert memory.total_bytes == 768 * 5 * 64 == 245_760 == model.kv_cache_bytes(64, batch=5)
        assert memory.per_layer_bytes == 245_760 // 3
        assert memory.parameter_bytes == 4 * model.num_parameters()
        assert memory.break_even_tokens == pytest.approx(model.num_parameters() * 4 / 768)
        assert kv_cache_memory(model, 0).total_bytes == 0

    def test_the_allocated_caches_take_exactly_what_is_computed(self):
        for dtype in (np.float32, np.float64):
            model = small_gpt(dtype=dtype)
            caches = make_caches(model, batch=3, max_len=20)
            memory = kv_cache_memory(model, 20, batch=3)
            assert sum(c.nbytes for c in caches) == memory.total_bytes
            assert memory.total_bytes == model.kv_cache_bytes(20, batch=3)
        assert memory.bytes_per_token == 2 * 2 * 16 * 8  # float64: twice the bytes

    def test_memory_report_reads_well_and_bad_sizes_are_refused(self):
        text = str(kv_cache_memory(small_gpt(), 24))
        assert "KV cache for 1 × 24 tokens" in text and "per token" in text
        with pytest.raises(ValueError, match="need context_len >= 0 and batch > 0"):
            kv_cache_memory(small_gpt(), -1)


# ============================================================================= the work


class TestWork:
    def test_token_passes_by_hand(self):
        assert token_passes(1, 100) == (5050, 100)  # 1 + 2 + ... + 100 vs 100
        assert token_passes(4, 3) == (4 + 5 + 6, 4 + 1 + 1)
        assert token_passes(5, 1) == (5, 5)
        assert token_passes(5, 0) == (0, 0)
        with pytest.raises(ValueError, match="need prompt_len > 0"):
            token_passes(0, 3)

    def test_uncached_work_grows_quadratically_and_cached_work_linearly(self):
        lengths = [25, 50, 100, 200]
        uncached, cached = zip(*(token_passes(1, n) for n in lengths))
        assert growth_exponent(lengths, uncached) == pytest.approx(2.0, abs=0.02)
        assert growth_exponent(lengths, cached) == pytest.approx(1.0)

    def test_growth_exponent_of_exact_power_laws(self):
        n = [10, 20, 40, 80]
        assert growth_exponent(n, [3.0 * x**2 for x in n]) == pytest.approx(2.0)
        assert growth_exponent(n, [0.5 * x for x in n]) == pytest.approx(1.0)
        with pytest.raises(ValueError, match="at least two distinct lengths"):
            growth_exponent([10, 10], [1.0, 2.0])
        with pytest.raises(ValueError, match="must be positive"):
            growth_exponent([10, 20], [0.0, 1.0])

    def test_time_generation_reports_both_ways_and_whether_they_agree(self):
        model = small_gpt()
        rows = time_generation(model, np.array([1, 2]), lengths=(2, 4), repeats=2)
        assert [row.new_tokens for row in rows] == [2, 4]
        for row in rows:
            assert isinstance(row, GenerationTiming) and row.identical
            assert isinstance(row.uncached, Timing) and len(row.cached.samples) == 2
            assert row.speedup == row.uncached.median / row.cached.median > 0
        table = scaling_table(rows, prompt_len=2).splitlines()
        assert "same output" in table[0] and len(table) == 4
        assert table[1].split()[:3] == ["2", "5", "3"]  # token passes: 2 + 3 vs 2 + 1
        assert table[-1].startswith("time ∝ n^k: uncached k =")
        with pytest.raises(ValueError, match="lengths must be positive"):
            time_generation(model, np.array([1]), lengths=())
