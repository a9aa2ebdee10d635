"""Graded checks of Module 17 · Memoization: the KV cache and cached generation."""

import numpy as np

from tinytorch.core import Tensor, manual_seed
from tinytorch.perf.memoization import (
    KVCache,
    generate_cached,
    growth_exponent,
    kv_cache_memory,
    make_caches,
    token_passes,
)
from tinytorch.text import GPT

RNG = np.random.default_rng(1717)


def _gpt():
    manual_seed(0)
    model = GPT(vocab_size=13, d_model=8, n_heads=2, n_layers=2, max_len=24)
    rng = np.random.default_rng(17)
    for _, p in model.named_parameters():
        p.data = (rng.standard_normal(p.shape) * 0.3).astype(np.float32)
    return model.eval()


def check_kv_cache_updates():
    """Keys and values appended step by step; every position so far comes back; reset empties it."""
    cache = KVCache(batch=2, num_heads=2, head_dim=3, max_len=5)
    first = [RNG.standard_normal((2, 2, 2, 3)) for _ in range(2)]
    second = [RNG.standard_normal((2, 2, 1, 3)) for _ in range(2)]
    cache.update(Tensor(first[0]), Tensor(first[1]))
    k, v = cache.update(Tensor(second[0]), Tensor(second[1]))
    filled = len(cache)
    cache.reset()
    try:
        cache.update(Tensor(np.zeros((2, 2, 6, 3))), Tensor(np.zeros((2, 2, 6, 3))))
        overflow = "accepted"
    except ValueError:
        overflow = "refused"
    return {
        "k": k.data,
        "v": v.data,
        "filled": filled,
        "reset": len(cache),
        "overflow": overflow,
        "nbytes": cache.nbytes,
    }


def check_caches_and_their_memory():
    """One cache per block, and what caching costs at a context length."""
    model = _gpt()
    caches = make_caches(model, batch=3)
    memory = kv_cache_memory(model, context_len=20, batch=2)
    return {
        "caches": [len(caches), caches[0].max_len, caches[0].nbytes],
        "memory": [memory.bytes_per_token, memory.total_bytes, memory.per_layer_bytes],
        "passes": [token_passes(5, 10), token_passes(100, 1)],
    }


def check_cached_generation():
    """Greedy generation with the cache gives exactly the tokens generation without it gives."""
    model = _gpt()
    prompts = np.array([[1, 4, 2], [7, 7, 0]])
    return {
        "batch": generate_cached(model, prompts, max_new_tokens=8),
        "single": generate_cached(model, np.array([3, 9]), max_new_tokens=5),
    }


def check_growth_exponent():
    """The k of time ∝ nᵏ fitted to measurements."""
    return [
        growth_exponent([10, 20, 40, 80], [1.0, 4.0, 16.0, 64.0]),
        growth_exponent([100, 200, 400], [0.5, 1.1, 1.9]),
    ]
