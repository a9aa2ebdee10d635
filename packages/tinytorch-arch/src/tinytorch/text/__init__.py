"""tinytorch.text — Modules 10–13: tokenization, embeddings, attention, transformers.

``Embedding``, ``PositionalEncoding``, ``LearnedPositionalEmbedding``,
``MultiHeadAttention``, ``LayerNorm`` and ``TransformerBlock`` are also registered under
the ``tinytorch.nn`` entry-point group, so ``from tinytorch.nn import LayerNorm`` works
when this tier is installed.
"""

from tinytorch.text.attention import (
    AttentionMemory,
    KVCacheLayer,
    MultiHeadAttention,
    ScaledDotProductAttention,
    attention_memory,
    causal_mask,
    print_attention_memory,
    scaled_dot_product_attention,
)
from tinytorch.text.embeddings import (
    Embedding,
    EmbeddingFunction,
    EmbeddingGradReport,
    LearnedPositionalEmbedding,
    PositionalEncoding,
    sinusoidal_table,
)
from tinytorch.text.tokenization import (
    BOS,
    EOS,
    PAD,
    SPECIAL_TOKENS,
    UNK,
    BPETokenizer,
    CharTokenizer,
    Tokenizer,
    TokenizerFileError,
    TradeoffRow,
    load_tokenizer,
    print_vocab_tradeoff,
    vocab_tradeoff,
)
from tinytorch.text.transformers import (
    GPT,
    MLP,
    LayerMemory,
    LayerNorm,
    LayerNormFunction,
    TransformerBlock,
)

__all__ = [
    "BOS",
    "EOS",
    "GPT",
    "MLP",
    "PAD",
    "SPECIAL_TOKENS",
    "UNK",
    "AttentionMemory",
    "BPETokenizer",
    "CharTokenizer",
    "Embedding",
    "EmbeddingFunction",
    "EmbeddingGradReport",
    "KVCacheLayer",
    "LayerMemory",
    "LayerNorm",
    "LayerNormFunction",
    "LearnedPositionalEmbedding",
    "MultiHeadAttention",
    "PositionalEncoding",
    "ScaledDotProductAttention",
    "Tokenizer",
    "TokenizerFileError",
    "TradeoffRow",
    "TransformerBlock",
    "attention_memory",
    "causal_mask",
    "load_tokenizer",
    "print_attention_memory",
    "print_vocab_tradeoff",
    "scaled_dot_product_attention",
    "sinusoidal_table",
    "vocab_tradeoff",
]
