"""The architecture tier's language pieces working through the foundation tier's machinery.

Runs in the environment of ``nox -s integration``: both tiers installed from their
wheels. A tiny transformer is trained by foundation's Trainer (gradient clipping, cosine
schedule); a GPT survives a checkpoint round trip; TinyTalks, shipped inside the
foundation wheel, feeds arch's tokenizer.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip(
    "tinytorch.text", reason="tinytorch-arch is not installed here: run `nox -s integration`"
)

import tinytorch.nn as nn
import tinytorch.text as text
from tinytorch.core import Tensor, manual_seed
from tinytorch.datasets import load_tinytalks
from tinytorch.nn.functional import cross_entropy
from tinytorch.optim import AdamW, CosineAnnealingLR
from tinytorch.training import (
    CheckpointError,
    Trainer,
    clip_grad_norm_,
    load_checkpoint,
    save_checkpoint,
)

VOCAB, SEQ = 11, 8


class NextToken(nn.Module):
    """A GPT as a Trainer model: token ids in (as the Trainer's Tensor), logits (B*T, V) out."""

    def __init__(self) -> None:
        self.gpt = text.GPT(VOCAB, d_model=16, n_heads=2, n_layers=2, max_len=SEQ)

    def forward(self, x: Tensor) -> Tensor:
        ids = np.asarray(x.data).astype(np.int64)  # the Trainer hands ids over as floats
        return self.gpt(ids).reshape(-1, VOCAB)


def counting_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sequences that count up modulo VOCAB from a random start; targets are shifted by one."""
    starts = np.random.default_rng(seed).integers(0, VOCAB, n)
    tokens = (starts[:, None] + np.arange(SEQ + 1)) % VOCAB
    return tokens[:, :-1], tokens[:, 1:]


def next_token_loss(logits: Tensor, targets: np.ndarray) -> Tensor:
    return cross_entropy(logits, np.asarray(targets).reshape(-1).astype(np.int64))


def test_tinytorch_nn_resolves_the_text_layers_through_entry_points():
    from tinytorch.nn import (
        Embedding,
        LayerNorm,
        LearnedPositionalEmbedding,
        MultiHeadAttention,
        PositionalEncoding,
        TransformerBlock,
    )

    assert (Embedding, PositionalEncoding, LearnedPositionalEmbedding) == (
        text.Embedding,
        text.PositionalEncoding,
        text.LearnedPositionalEmbedding,
    )
    assert (MultiHeadAttention, LayerNorm, TransformerBlock) == (
        text.MultiHeadAttention,
        text.LayerNorm,
        text.TransformerBlock,
    )


def test_a_transformer_trained_by_the_foundation_trainer_with_clipping_and_cosine():
    manual_seed(0)
    model = NextToken()
    optimizer = AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    epochs = 12
    scheduler = CosineAnnealingLR(optimizer, T_max=epochs, eta_min=1e-4)
    trainer = Trainer(
        model, optimizer, next_token_loss, scheduler=scheduler, max_grad_norm=1.0, progress=False
    )
    x, y = counting_data(256, seed=0)
    history = trainer.fit(x, y, epochs=epochs, batch_size=32, validation=counting_data(64, 1))
    losses = history["loss"]
    assert losses[-1] < 0.2 * losses[0]
    assert history["val_loss"][-1] < 0.2 * history["val_loss"][0]
    assert history["lr"][0] == pytest.approx(1e-2) and history["lr"][-1] < 1e-3
    # After training, the model counts: greedy generation continues the sequence.
    out = model.gpt.generate(np.array([3, 4, 5]), 4, temperature=0)
    np.testing.assert_array_equal(out, [3, 4, 5, 6, 7, 8, 9])


def test_clip_grad_norm_bounds_the_joint_gradient_of_a_transformer():
    manual_seed(1)
    model = NextToken()
    x, y = counting_data(16, seed=2)
    next_token_loss(model(Tensor(x)), y).backward()
    before = clip_grad_norm_(model.parameters(), max_norm=0.01)
    after = np.sqrt(sum(float((p.grad.data**2).sum()) for p in model.parameters()))
    assert before > 0.01 and after == pytest.approx(0.01, rel=1e-4)


def test_a_gpt_checkpoint_round_trip_restores_logits_generation_and_optimizer(tmp_path):
    manual_seed(2)
    model = NextToken()
    optimizer = AdamW(model.parameters(), lr=3e-3)
    scheduler = CosineAnnealingLR(optimizer, T_max=10)
    Trainer(model, optimizer, next_token_loss, scheduler=scheduler, progress=False).fit(
        *counting_data(64, 3), epochs=2, batch_size=16
    )
    path = save_checkpoint(tmp_path / "gpt.npz", model, optimizer, scheduler, note="tiny gpt")

    manual_seed(99)  # a differently initialised copy
    restored = NextToken()
    optimizer2 = AdamW(restored.parameters(), lr=3e-3)
    scheduler2 = CosineAnnealingLR(optimizer2, T_max=10)
    assert load_checkpoint(path, restored, optimizer2, scheduler2) == {"note": "tiny gpt"}
    ids = np.array([[1, 2, 3, 4]])
    np.testing.assert_array_equal(restored.gpt(ids).data, model.gpt(ids).data)
    np.testing.assert_array_equal(
        restored.gpt.generate(ids, 3, temperature=0), model.gpt.generate(ids, 3, temperature=0)
    )
    assert optimizer2.step_count == optimizer.step_count and scheduler2.last_step == 2

    wider = text.GPT(VOCAB, d_model=32, n_heads=2, n_layers=2, max_len=SEQ)
    with pytest.raises(CheckpointError, match="does not fit this model"):
        load_checkpoint(path, wider)


def test_tinytalks_from_the_foundation_wheel_feeds_the_arch_tokenizer(tmp_path):
    train = load_tinytalks("train")
    assert len(train) == 2526
    corpus = [f" {q}\n {a}" for q, a in train]
    tokenizer = text.BPETokenizer().train(corpus, 600)
    loaded = text.load_tokenizer(tokenizer.save(tmp_path / "tinytalks-bpe.json"))
    for question, answer in load_tinytalks("test")[:50]:
        sample = f" {question}\n {answer}"
        assert loaded.decode(loaded.encode(sample)) == sample
        assert len(loaded.encode(sample)) < len(sample)
