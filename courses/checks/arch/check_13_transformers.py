"""Graded checks of Module 13 · Transformers: LayerNorm, MLP, blocks, a small GPT."""

import numpy as np

from tinytorch.core import Tensor, manual_seed
from tinytorch.text import GPT, MLP, LayerNorm, TransformerBlock, causal_mask

RNG = np.random.default_rng(1313)
X = RNG.standard_normal((2, 4, 6)) * 3 + 1


def _filled(model, seed=13):
    rng = np.random.default_rng(seed)
    for _, p in model.named_parameters():
        p.data = (rng.standard_normal(p.shape) * 0.3).astype(np.float32)
    return model


def _gpt():
    manual_seed(0)
    return _filled(GPT(vocab_size=11, d_model=8, n_heads=2, n_layers=2, max_len=16)).eval()


def check_layer_norm():
    """LayerNorm over the last axis: output and the gradients of input, weight and bias."""
    layer = _filled(LayerNorm(6))
    x = Tensor(X, requires_grad=True)
    out = layer(x)
    (out * Tensor(RNG.standard_normal(out.shape))).sum().backward()
    plain = LayerNorm(6, elementwise_affine=False)(Tensor(X)).data
    return {
        "out": out.data,
        "plain": plain,
        "x": x.grad.data,
        "weight": layer.weight.grad.data,
        "bias": layer.bias.grad.data,
    }


def check_mlp_and_block():
    """The feed-forward block, and a pre-norm transformer block with a causal mask."""
    mlp = _filled(MLP(6, 12))
    block = _filled(TransformerBlock(6, 2))
    return {"mlp": mlp(Tensor(X)).data, "block": block(Tensor(X), mask=causal_mask(4)).data}


def check_gpt_forward():
    """A two-layer GPT: final features and next-token logits for a batch of ids."""
    model = _gpt()
    ids = np.array([[1, 4, 2, 9, 3], [0, 10, 5, 5, 7]])
    return {"features": model.features(ids).data, "logits": model(ids).data}


def check_gpt_generate_greedy():
    """Greedy generation (temperature 0), with a stop token, from a batch of prompts."""
    model = _gpt()
    prompts = np.array([[1, 4], [3, 3]])
    return {
        "greedy": model.generate(prompts, max_new_tokens=6, temperature=0),
        "single": model.generate(np.array([5, 6, 7]), max_new_tokens=4, temperature=0),
    }


def check_gpt_memory():
    """Bytes of a KV cache, and the per-layer memory profile at a context length."""
    model = _gpt()
    rows = model.memory_profile(context_len=12, batch=3)
    return {
        "kv_cache": [model.kv_cache_bytes(12), model.kv_cache_bytes(16, batch=4)],
        "profile": [
            [r.name, r.parameters, r.parameter_bytes, r.kv_cache_bytes, r.attention_score_bytes]
            for r in rows
        ],
    }
