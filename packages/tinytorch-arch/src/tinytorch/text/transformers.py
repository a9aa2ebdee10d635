"""Module 13 · Transformers — attention, MLP and LayerNorm stacked into a language model.

Connection map
    Prerequisites : 02 Activations (GELU, softmax) · 03 Layers · 05 Autograd (Function) ·
                    10 Tokenization · 11 Embeddings · 12 Attention
    This module   : LayerNorm (one fused, gradchecked Function), the MLP block, the
                    pre-norm TransformerBlock, a decoder-only GPT with autoregressive
                    ``generate`` (greedy, temperature, top-k), and a per-layer memory
                    profile including the bytes a cache of every earlier token's keys
                    and values would need at a given context length
    Unlocks       : Milestone 5 (2017 Transformer) · 14 Profiling · 15 Quantization ·
                    17 Memoization (KV cache, through the hook in ``GPT.forward``)

Systems insight: a block holds 12·d² + 13·d parameters (attention 4d² + 4d, MLP 8d² + 5d,
two LayerNorms 4d), so a model's size is set by d and the number of layers, not by the
sequence length. Generation is different: each new token needs the keys and values of
every earlier token in every layer — 2 × layers × T × d numbers per sequence, if they
are kept instead of recomputed. For GPT-2 small (12 layers, d = 768) at T = 1,024 that
is 72 MiB per sequence in float32; ``GPT.kv_cache_bytes`` computes it for any model.
Training memory is another budget again: weights + gradients + Adam's two moments =
4 × the parameter bytes (GPT-3's 175 B parameters × 4 B × 4 ≈ 2.8 TB before a single
activation).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinytorch.checks import check_number
from tinytorch.core.autograd import Function, no_grad
from tinytorch.core.tensor import Tensor, _data, get_rng
from tinytorch.nn.layers import GELU, Dropout, Linear, Module, Parameter, check_positive
from tinytorch.text.attention import KVCacheLayer, MultiHeadAttention, _linear, causal_mask
from tinytorch.text.embeddings import Embedding, LearnedPositionalEmbedding, PositionalEncoding


def layer_norm_arrays(
    x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, n_axes: int, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LayerNorm's forward on arrays: (out, mean, rstd), mean and rstd kept per row.

    out = (x − mean) · rstd · weight + bias with rstd = 1/sqrt(var + eps), statistics over
    the last ``n_axes`` axes. Means are sums divided by the count: the same numbers as
    ``np.mean``, without its Python-level overhead (about 10 µs a call, which dominates
    at one token per row). ``LayerNormFunction`` runs it; so can code on plain arrays.
    """
    ### BEGIN SOLUTION
    axes = tuple(range(x.ndim - n_axes, x.ndim))
    count = math.prod(x.shape[x.ndim - n_axes :])
    mean = x.sum(axis=axes, keepdims=True) / count
    centred = x - mean
    var = (centred * centred).sum(axis=axes, keepdims=True) / count
    rstd = 1.0 / np.sqrt(var + eps)
    out = centred * rstd
    if weight is not None:
        out = out * weight + bias
    return out, mean, rstd
    ### END SOLUTION


# competency: operations/optimizes tests=test_one_graph_node
class LayerNormFunction(Function):
    """y = (x − mean) / sqrt(var + eps) · weight + bias over the last ``n_axes`` axes.

    Forward (:func:`layer_norm_arrays`) keeps, per row, the mean and rstd =
    1/sqrt(var + eps) — two numbers, not a full-size array; backward recomputes
    x̂ = (x − mean)·rstd from the input it holds anyway. With g = dy·weight and means
    taken over the normalised axes (N numbers per row):
        dx = rstd · (g − mean(g) − x̂ · mean(g · x̂)),
        dweight = Σ_rows dy · x̂,  dbias = Σ_rows dy.
    One node instead of ~10 primitive ops: fewer saved arrays and one pass each way.
    """

    def forward(
        self,
        x: np.ndarray,
        weight: np.ndarray | None,
        bias: np.ndarray | None,
        *,
        n_axes: int,
        eps: float,
    ) -> np.ndarray:
        ### BEGIN SOLUTION
        out, self.mean, self.rstd = layer_norm_arrays(x, weight, bias, n_axes, eps)
        return out
        ### END SOLUTION

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        ### BEGIN SOLUTION
        axes = tuple(range(grad.ndim - self.n_axes, grad.ndim))
        count = math.prod(grad.shape[grad.ndim - self.n_axes :])
        x_hat = (self.array(0) - self.mean) * self.rstd
        affine = self.inputs[1] is not None
        g = grad * self.array(1) if affine else grad
        grad_x = g - g.sum(axis=axes, keepdims=True) / count
        grad_x -= x_hat * ((g * x_hat).sum(axis=axes, keepdims=True) / count)
        grad_x *= self.rstd
        if not affine:
            return (grad_x, None, None)
        rows = grad.reshape(-1, *grad.shape[grad.ndim - self.n_axes :])
        grad_weight = (rows * x_hat.reshape(rows.shape)).sum(axis=0)
        return grad_x, grad_weight, rows.sum(axis=0)
        ### END SOLUTION


class LayerNorm(Module):
    """Normalise each row over its last dims: ``LayerNorm(normalized_shape, eps=1e-5)``.

    Input (..., *normalized_shape), output the same shape. Parameters (with
    ``elementwise_affine``): weight (ones) and bias (zeros) of ``normalized_shape``.
    FLOPs: about 8 per element. Unlike BatchNorm, nothing depends on the batch, so
    training and inference behave the same.
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
    ) -> None:
        shape = (
            (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        )
        if not shape or min(shape) <= 0:
            raise ValueError(
                f"LayerNorm: normalized_shape must be positive, got {normalized_shape}"
            )
        check_number("LayerNorm", "eps", eps, minimum=0.0, above=True)
        self.normalized_shape = shape
        self.eps = eps
        self.weight = Parameter(np.ones(shape, dtype=np.float32)) if elementwise_affine else None
        self.bias = Parameter(np.zeros(shape, dtype=np.float32)) if elementwise_affine else None

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        ### BEGIN SOLUTION
        n = len(self.normalized_shape)
        return LayerNormFunction.apply(x, self.weight, self.bias, n_axes=n, eps=self.eps)
        ### END SOLUTION

    def _check_input(self, x: Tensor) -> None:
        n = len(self.normalized_shape)
        if x.shape[x.ndim - n :] != self.normalized_shape or x.ndim < n:
            raise ValueError(
                f"{type(self).__name__}.forward: input shape {x.shape} does not end with "
                f"normalized_shape {self.normalized_shape}"
            )

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"


class MLP(Module):
    """The position-wise feed-forward block: Linear(d, 4d) -> GELU -> Linear(4d, d).

    Applied to every token independently. Parameters 8d² + 5d (with ratio 4); FLOPs
    16·d² per token — two thirds of a block's matmul work at short sequence lengths.
    """

    def __init__(self, embed_dim: int, hidden_dim: int | None = None) -> None:
        hidden_dim = 4 * embed_dim if hidden_dim is None else hidden_dim
        self.fc = Linear(embed_dim, hidden_dim)
        self.act = GELU()
        self.proj = Linear(hidden_dim, embed_dim)

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION
        return _linear(self.proj, self.act(_linear(self.fc, x)))
        ### END SOLUTION


# competency: models/implements
class TransformerBlock(Module):
    """Pre-norm block (GPT-2): x + Attn(LN(x)), then x + MLP(LN(x)). (B, T, d) -> (B, T, d).

    Normalising the input of each branch (not the sum, as the 2017 paper did) keeps the
    residual path an identity, which is what lets deep stacks train without warm-up
    tricks. ``dropout`` zeroes parts of each branch's output while training (GPT-2's
    residual dropout). ``mask`` and ``cache`` go to the attention (see
    ``MultiHeadAttention``). Parameters: 12·d² + 13·d with ``mlp_ratio=4``.
    """

    def __init__(
        self, embed_dim: int, num_heads: int, mlp_ratio: int = 4, dropout: float = 0.0
    ) -> None:
        self.ln1 = LayerNorm(embed_dim)
        self.attn = MultiHeadAttention(embed_dim, num_heads)
        self.ln2 = LayerNorm(embed_dim)
        self.mlp = MLP(embed_dim, mlp_ratio * embed_dim)
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor, mask: Any = None, cache: KVCacheLayer | None = None) -> Tensor:
        ### BEGIN SOLUTION
        x = x + self.dropout(self.attn(self.ln1(x), mask, cache))
        return x + self.dropout(self.mlp(self.ln2(x)))
        ### END SOLUTION


@dataclass(frozen=True)
class LayerMemory:
    """One row of a model's memory profile (bytes in the model's dtype)."""

    name: str
    parameters: int
    parameter_bytes: int
    kv_cache_bytes: int = 0
    attention_score_bytes: int = 0


# competency: models/implements
class GPT(Module):
    """A decoder-only transformer language model (GPT-2 layout, pre-norm).

    ``GPT(vocab_size, d_model, n_heads, n_layers, max_len)``: token Embedding + learned
    positions (or ``positional="sinusoidal"``), ``n_layers`` TransformerBlocks with a
    causal mask, a final LayerNorm and a Linear head to ``vocab_size`` logits;
    ``dropout`` applies to the embeddings and every residual branch while training.
    ids (B, T) int -> logits (B, T, vocab_size), T <= max_len. Position t only ever sees
    positions <= t, so one forward pass trains all T next-token predictions at once.

    Hook for Module 17: ``forward(ids, caches=..., start_pos=P)`` runs only
    the new tokens ids (B, T_new) at positions P..P+T_new-1. ``caches[i]`` is layer i's
    cache (see ``KVCacheLayer``), which returns the keys/values of all P + T_new tokens,
    and the causal mask becomes ``causal_mask(T_new, past_len=P)``. Without caches,
    ``generate`` re-runs the whole sequence for every new token: O(T²) work per
    sequence, exactly what Module 17 removes by passing ``generate(..., caches=...)``.
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int,
        n_heads: int,
        n_layers: int,
        max_len: int,
        mlp_ratio: int = 4,
        positional: str = "learned",
        dropout: float = 0.0,
    ) -> None:
        check_positive(
            "GPT",
            vocab_size=vocab_size,
            d_model=d_model,
            n_heads=n_heads,
            n_layers=n_layers,
            max_len=max_len,
        )
        if positional not in ("learned", "sinusoidal"):
            raise ValueError(
                f"GPT: positional must be 'learned' or 'sinusoidal', got {positional!r}"
            )
        self.vocab_size = vocab_size
        self.d_model = d_model
        self.n_heads = n_heads
        self.n_layers = n_layers
        self.max_len = max_len
        self.token_embedding = Embedding(vocab_size, d_model)
        # GPT-2's initialisation: small token vectors, so the positions are not drowned out.
        self.token_embedding.weight.data *= 0.02
        self.position = (
            LearnedPositionalEmbedding(max_len, d_model)
            if positional == "learned"
            else PositionalEncoding(max_len, d_model)
        )
        self.dropout = Dropout(dropout)
        self.blocks = [
            TransformerBlock(d_model, n_heads, mlp_ratio, dropout) for _ in range(n_layers)
        ]
        self.ln_f = LayerNorm(d_model)
        self.head = Linear(d_model, vocab_size)

    def features(
        self, ids: Any, caches: Sequence[KVCacheLayer] | None = None, start_pos: int = 0
    ) -> Tensor:
        """Final hidden states (B, T, d_model), after the last LayerNorm, before the head.

        Useful to apply the head only where a loss is needed (e.g. answer tokens).
        """
        ### BEGIN SOLUTION
        ids = np.asarray(_data(ids))
        if ids.ndim != 2:
            raise ValueError(f"GPT: ids must be (batch, seq_len), got shape {ids.shape}")
        if caches is not None and len(caches) != self.n_layers:
            raise ValueError(f"GPT: got {len(caches)} caches for {self.n_layers} layers")
        seq_len = ids.shape[1]
        x = self.dropout(self.position(self.token_embedding(ids), start_pos))
        mask = causal_mask(seq_len, past_len=start_pos if caches is not None else 0)
        for i, block in enumerate(self.blocks):
            x = block(x, mask, caches[i] if caches is not None else None)
        return self.ln_f(x)
        ### END SOLUTION

    def forward(
        self, ids: Any, caches: Sequence[KVCacheLayer] | None = None, start_pos: int = 0
    ) -> Tensor:
        """Next-token logits (B, T, vocab_size) for ids (B, T)."""
        ### BEGIN SOLUTION
        return _linear(self.head, self.features(ids, caches, start_pos))
        ### END SOLUTION

    def generate(
        self,
        prompt_ids: Any,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        eos_id: int | None = None,
        caches: Sequence[KVCacheLayer] | None = None,
        decode: Callable[[np.ndarray, int], np.ndarray] | None = None,
    ) -> np.ndarray:
        """Extend the prompt one token at a time; returns prompt + new ids (int64).

        ``prompt_ids`` is (T,) or (B, T). Each step runs the model and picks the next
        token from the last position's logits: ``temperature=0`` takes the argmax
        (greedy, deterministic); otherwise it samples from softmax(logits / temperature),
        restricted to the ``top_k`` most likely tokens when given, with the generator
        that ``manual_seed`` resets. A row that has produced ``eos_id`` keeps producing
        it; generation stops early once every row has. Runs in eval mode without
        recording a graph.

        Without ``caches`` every step runs the whole sequence again (its last ``max_len``
        tokens). With one empty cache per layer (Module 17), the prompt runs once and
        each later step feeds only the newest token at its position: the same tokens for
        O(n) instead of O(n²) work, as long as all P + n − 1 positions fit in ``max_len``.
        ``decode(ids, position)``, given with the caches, takes over those one-token steps:
        it returns the logits (B, vocab_size) of ids (B, 1) at ``position`` (Module 17's
        lean path, the same numbers without a Tensor per op).
        """
        ### BEGIN SOLUTION
        ids, single = prompt_batch("GPT.generate", prompt_ids)
        if temperature < 0 or max_new_tokens < 0:
            raise ValueError(
                f"GPT.generate: temperature and max_new_tokens must be >= 0, got "
                f"{temperature} and {max_new_tokens}"
            )
        if top_k is not None and not 1 <= top_k <= self.vocab_size:
            raise ValueError(f"GPT.generate: top_k must be in [1, {self.vocab_size}], got {top_k}")
        prompt_len = ids.shape[1]
        out = np.empty((len(ids), prompt_len + max_new_tokens), dtype=np.int64)
        out[:, :prompt_len] = ids
        end = prompt_len  # the ids so far are out[:, :end]; each step writes column `end`
        done = np.zeros(len(ids), dtype=bool)
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                for step in range(max_new_tokens):
                    if caches is None:
                        logits = self(out[:, max(0, end - self.max_len) : end]).data[:, -1, :]
                    elif step > 0 and decode is not None:
                        logits = decode(out[:, end - 1 : end], end - 1)
                    else:  # the prompt once, then only the token chosen last
                        start = 0 if step == 0 else end - 1
                        logits = self(out[:, start:end], caches, start_pos=start).data[:, -1, :]
                    nxt = _pick_next(logits, temperature, top_k)
                    if eos_id is not None:
                        nxt = np.where(done, eos_id, nxt)
                        done |= nxt == eos_id
                    out[:, end] = nxt
                    end += 1
                    if eos_id is not None and done.all():
                        break
        finally:
            self.train(was_training)
        ids = out[:, :end]
        return ids[0] if single else ids
        ### END SOLUTION

    # ------------------------------------------------------------------ memory
    # competency: deployment/knows
    def kv_cache_bytes(self, context_len: int, batch: int = 1) -> int:
        """Bytes a cache of keys and values needs for ``batch`` sequences of ``context_len``
        tokens.

        Every layer keeps one key and one value vector of d_model numbers per token:
        2 × n_layers × batch × context_len × d_model × itemsize.
        """
        ### BEGIN SOLUTION
        if context_len < 0 or batch <= 0:
            raise ValueError(
                f"GPT.kv_cache_bytes: need context_len >= 0 and batch > 0, got {context_len}, "
                f"{batch}"
            )
        itemsize = self.head.weight.dtype.itemsize
        return 2 * self.n_layers * batch * context_len * self.d_model * itemsize
        ### END SOLUTION

    def memory_profile(self, context_len: int, batch: int = 1) -> list[LayerMemory]:
        """Parameters per layer, plus what each block needs at ``context_len`` tokens:
        its cached keys and values (2·B·T·d numbers) and its attention scores (B·H·T²).
        """
        ### BEGIN SOLUTION
        itemsize = self.head.weight.dtype.itemsize

        def row(name: str, module: Module, kv: int = 0, scores: int = 0) -> LayerMemory:
            n = module.num_parameters()
            return LayerMemory(name, n, n * itemsize, kv * itemsize, scores * itemsize)

        rows = [row("token embedding", self.token_embedding), row("position", self.position)]
        for i, block in enumerate(self.blocks):
            rows.append(
                row(
                    f"block {i}",
                    block,
                    kv=2 * batch * context_len * self.d_model,
                    scores=batch * self.n_heads * context_len * context_len,
                )
            )
        rows += [row("final norm", self.ln_f), row("lm head", self.head)]
        return rows
        ### END SOLUTION

    def print_memory_profile(self, context_len: int, batch: int = 1) -> list[LayerMemory]:
        """Print the per-layer profile with totals and the training-memory estimate."""
        rows = self.memory_profile(context_len, batch)
        print(f"GPT memory profile at context {context_len}, batch {batch}")
        print(f"  {'layer':<16}{'params':>10}{'param KiB':>11}{'KV KiB':>10}{'scores KiB':>12}")
        for r in rows:
            print(
                f"  {r.name:<16}{r.parameters:>10,}{r.parameter_bytes / 1024:>11.1f}"
                f"{r.kv_cache_bytes / 1024:>10.1f}{r.attention_score_bytes / 1024:>12.1f}"
            )
        params = sum(r.parameter_bytes for r in rows)
        print(
            f"  total parameters {sum(r.parameters for r in rows):,} ({params / 1024:.1f} KiB); "
            f"cached keys+values {self.kv_cache_bytes(context_len, batch) / 1024:.1f} KiB; "
            f"training with Adam ≈ 4 × parameters = {4 * params / 1024:.1f} KiB"
        )
        return rows


def prompt_batch(op: str, prompt_ids: Any) -> tuple[np.ndarray, bool]:
    """Prompt ids as int64 (B, T), and whether a single (T,) prompt was given."""
    ids = np.asarray(_data(prompt_ids))
    single = ids.ndim == 1
    ids = ids[None, :] if single else ids
    if ids.ndim != 2 or ids.shape[1] == 0 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"{op}: prompt_ids must be non-empty integer ids (T,) or (B, T), got "
            f"dtype {ids.dtype} shape {np.shape(_data(prompt_ids))}"
        )
    return ids.astype(np.int64), single


def _pick_next(logits: np.ndarray, temperature: float, top_k: int | None) -> np.ndarray:
    """One next-token id per row of logits (B, V): greedy at temperature 0 (the argmax, the
    same in any float dtype), else sampled in float64."""
    if temperature == 0:
        return logits.argmax(axis=-1)  # the same index in any float dtype
    logits = logits.astype(np.float64) / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = np.partition(logits, -top_k, axis=-1)[:, -top_k][:, None]
        logits = np.where(logits >= kth, logits, -np.inf)
    probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    rng = get_rng()
    return np.array([rng.choice(len(p), p=p) for p in probs], dtype=np.int64)
