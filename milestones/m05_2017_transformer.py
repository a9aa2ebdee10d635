"""Milestone 5 · 2017 · Attention is all you need.

Needs: architecture tier (modules 10–13) on the foundation tier.
Shows: (1) attention routes information by content and position — a two-block
transformer reverses digit sequences it has never seen; (2) a small GPT trained on
TinyTalks answers held-out questions, generating the answer token by token.
Bars: reversal >= 99% exact-match sequences; TinyTalks test >= 80% exact-match answers
(greedy decoding); everything in under 5 minutes of CPU time (one core). Offline, seeded.
"""

from __future__ import annotations

import os

# The matrices here are small (a few hundred rows): BLAS threads cost more to wake than
# they save, and on a busy 2-core machine they spin against each other (measured: a
# training run took 20x longer with 2 OpenBLAS threads on a loaded machine). One thread
# per process, unless the caller says otherwise. Must be set before NumPy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402

import common  # noqa: E402
from common import PALETTE, arguments, begin, figure, progress, run_main, save_figure  # noqa: E402
from tinytorch.core import Tensor, manual_seed, no_grad  # noqa: E402
from tinytorch.datasets import load_tinytalks_rows  # noqa: E402
from tinytorch.nn import CrossEntropyLoss, Linear, Module  # noqa: E402
from tinytorch.optim import AdamW, CosineAnnealingLR  # noqa: E402
from tinytorch.text import (  # noqa: E402
    GPT,
    BPETokenizer,
    CharTokenizer,
    Embedding,
    LayerNorm,
    PositionalEncoding,
    TransformerBlock,
    print_attention_memory,
)
from tinytorch.training import clip_grad_norm_  # noqa: E402

NAME = "m05_2017_transformer"
TITLE = "Milestone 5 · 2017 · Attention is all you need"
STORY = """
In 2017 Ashish Vaswani and seven colleagues at Google dropped recurrence altogether:
"Attention Is All You Need" let every token look at every other token in one step,
weighted by learned relevance. Within two years the Transformer had become GPT and BERT,
and today it underlies nearly every language model. Here everything is yours: the
tokenizer, embeddings, attention, LayerNorm, the transformer block, autograd through all
of it, AdamW and the cosine schedule. First, attention proves it can route information
by position; then a small GPT learns to answer questions it has never seen.
"""
TIME_BAR_S = 300.0


# ----------------------------------------------------------------------------- part 1


@dataclass
class ReversalSetup:
    seq_len: int = 8
    digits: int = 10
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    steps: int = 300
    batch_size: int = 64
    lr: float = 3e-3
    test_sequences: int = 2000
    bar: float = 0.99


class Reverser(Module):
    """Digits in, the same digits reversed out: embeddings, two blocks, a classifier.

    No causal mask: output position i must read input position T-1-i, which only
    attention can fetch (an MLP applied token by token never sees other positions).
    Sinusoidal positions (amplitude 1, like the N(0, 1) token vectors) make "where" as
    loud as "what" from the first step.
    """

    def __init__(self, setup: ReversalSetup) -> None:
        self.embed = Embedding(setup.digits, setup.d_model)
        self.position = PositionalEncoding(setup.seq_len, setup.d_model)
        self.blocks = [
            TransformerBlock(setup.d_model, setup.n_heads) for _ in range(setup.n_layers)
        ]
        self.norm = LayerNorm(setup.d_model)
        self.head = Linear(setup.d_model, setup.digits)

    def forward(self, digits: np.ndarray) -> Tensor:
        x = self.position(self.embed(digits))
        for block in self.blocks:
            x = block(x)
        b, t, d = x.shape
        return self.head(self.norm(x).reshape(b * t, d))  # (B*T, digits)


def attention_proof(setup: ReversalSetup, seed: int) -> tuple[float, list[float], float]:
    """Train on fresh random sequences; returns (test exact-match, losses, seconds)."""
    start = time.perf_counter()
    manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Reverser(setup)
    optimizer = AdamW(model.parameters(), lr=setup.lr, weight_decay=0.01)
    schedule = CosineAnnealingLR(optimizer, setup.steps, warmup_steps=setup.steps // 20)
    loss_fn = CrossEntropyLoss()
    losses = []
    bar = progress(total=setup.steps, desc="reversal")
    for _ in range(setup.steps):
        x = rng.integers(0, setup.digits, (setup.batch_size, setup.seq_len))
        optimizer.zero_grad()
        loss = loss_fn(model(x), x[:, ::-1].reshape(-1))
        loss.backward()
        clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        bar.update()
        bar.set_postfix_str(f"loss {losses[-1]:.4f}", refresh=False)
    bar.close()
    test = np.random.default_rng(seed + 10_000).integers(
        0, setup.digits, (setup.test_sequences, setup.seq_len)
    )
    model.eval()
    with no_grad():
        predicted = model(test).data.argmax(axis=1).reshape(test.shape)
    exact = float((predicted == test[:, ::-1]).all(axis=1).mean())
    for row, guess in zip(test[:3], predicted[:3]):
        print(f"    {''.join(map(str, row))} -> {''.join(map(str, guess))}")
    return exact, losses, time.perf_counter() - start


# ----------------------------------------------------------------------------- part 2


@dataclass
class ChatSetup:
    vocab_size: int = 1000  # BPE merges stop earlier: every pair occurring twice is merged
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    max_len: int = 40
    dropout: float = 0.1
    epochs: int = 50
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 0.1
    max_answer_tokens: int = 16
    bar: float = 0.80


class QA:
    """TinyTalks as token ids: prompt ``<bos> question\\n`` then `` answer<eos>``.

    The question gets a leading space so a word is the same token wherever it stands
    (GPT-2's "add prefix space"); the answer follows the newline with its own space.
    """

    def __init__(self, tokenizer: BPETokenizer) -> None:
        self.tokenizer = tokenizer

    def prompt(self, question: str) -> list[int]:
        return [self.tokenizer.bos_id, *self.tokenizer.encode(f" {question}\n")]

    def answer(self, answer: str) -> list[int]:
        return [*self.tokenizer.encode(f" {answer}"), self.tokenizer.eos_id]

    def text(self, ids: np.ndarray) -> str:
        ids = list(ids)
        if self.tokenizer.eos_id in ids:
            ids = ids[: ids.index(self.tokenizer.eos_id)]
        return self.tokenizer.decode(ids).strip()


def make_batch(
    examples: list[tuple[list[int], list[int]]], pad_id: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs (B, T) padded on the right, plus the flat rows and targets of answer tokens.

    The loss is taken only where the next token belongs to the answer (or is <eos>):
    the model is asked to answer, not to predict the questions.
    """
    width = max(len(p) + len(a) for p, a in examples) - 1
    x = np.full((len(examples), width), pad_id, dtype=np.int64)
    rows, targets = [], []
    for r, (p, a) in enumerate(examples):
        sequence = p + a
        x[r, : len(sequence) - 1] = sequence[:-1]
        rows.extend(r * width + np.arange(len(p) - 1, len(sequence) - 1))
        targets.extend(a)
    return x, np.array(rows), np.array(targets, dtype=np.int64)


def answer_loss(model: GPT, x: np.ndarray, rows: np.ndarray, targets: np.ndarray) -> Tensor:
    """Cross-entropy of the answer tokens only: the head runs on just those rows."""
    hidden = model.features(x).reshape(-1, model.d_model)[rows]
    return CrossEntropyLoss()(model.head(hidden), targets)


def bucketed_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list:
    """Shuffle, then sort each window of 8 batches by length: less padding, still random."""
    order = rng.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), 8 * batch_size):
        window = sorted(order[start : start + 8 * batch_size], key=lambda i: lengths[i])
        batches += [window[i : i + batch_size] for i in range(0, len(window), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def answer_all(model: GPT, qa: QA, questions: list[str], max_new: int) -> list[str]:
    """Greedy answers, batching prompts of equal length into one ``generate`` call."""
    prompts = [qa.prompt(q) for q in questions]
    by_length: dict[int, list[int]] = {}
    for i, p in enumerate(prompts):
        by_length.setdefault(len(p), []).append(i)
    answers = [""] * len(questions)
    for length, members in by_length.items():
        out = model.generate(
            np.array([prompts[i] for i in members]),
            max_new,
            temperature=0.0,
            eos_id=qa.tokenizer.eos_id,
        )
        for row, i in zip(out, members):
            answers[i] = qa.text(row[length:])
    return answers


def exact_match(predicted: list[str], expected: list[str]) -> float:
    return float(np.mean([p == e for p, e in zip(predicted, expected)]))


def chat(setup: ChatSetup, seed: int) -> dict:
    """Tokenize TinyTalks, train the GPT, answer the test split; returns what to report."""
    start = time.perf_counter()
    train = load_tinytalks_rows("train")
    validation = load_tinytalks_rows("validation")
    test = load_tinytalks_rows("test")
    corpus = [f" {q}\n {a}" for _, _, q, a in train]
    tokenizer = BPETokenizer().train(corpus, setup.vocab_size)
    chars = CharTokenizer().train(corpus)
    qa = QA(tokenizer)
    examples = [(qa.prompt(q), qa.answer(a)) for _, _, q, a in train]
    lengths = np.array([len(p) + len(a) for p, a in examples])
    mean_bpe = np.mean([len(tokenizer.encode(t)) for t in corpus])
    mean_chars = np.mean([len(chars.encode(t)) for t in corpus])
    print(
        f"  tokenizer: BPE with {tokenizer.vocab_size} tokens ({len(tokenizer.merges)} merges); "
        f"{mean_bpe:.1f} tokens per pair vs {mean_chars:.1f} characters "
        f"({(mean_chars / mean_bpe) ** 2:.1f}x fewer attention scores)"
    )
    val_examples = [(qa.prompt(q), qa.answer(a)) for _, _, q, a in validation]
    val_batch = make_batch(val_examples, tokenizer.pad_id)

    manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = GPT(
        tokenizer.vocab_size,
        setup.d_model,
        setup.n_heads,
        setup.n_layers,
        setup.max_len,
        dropout=setup.dropout,
    )
    if lengths.max() > setup.max_len:
        raise SystemExit(f"m05: a TinyTalks pair has {lengths.max()} tokens > {setup.max_len}")
    steps_per_epoch = -(-len(examples) // setup.batch_size)
    optimizer = AdamW(model.parameters(), lr=setup.lr, weight_decay=setup.weight_decay)
    total_steps = setup.epochs * steps_per_epoch
    # Warm up for one epoch, or a tenth of a short run (the cosine needs steps after it).
    warmup = min(steps_per_epoch, total_steps // 10)
    schedule = CosineAnnealingLR(optimizer, total_steps, warmup_steps=warmup)
    print(
        f"  model: GPT d={setup.d_model}, {setup.n_heads} heads, {setup.n_layers} layers, "
        f"{model.num_parameters():,} parameters; AdamW + warm-up/cosine, clip 1.0, "
        f"{setup.epochs} epochs of {steps_per_epoch} steps"
    )
    history: dict[str, list[float]] = {"train": [], "validation": [], "val_exact": []}
    bar = progress(total=setup.epochs * steps_per_epoch, desc="GPT")
    for epoch in range(1, setup.epochs + 1):
        model.train()
        loss_sum = 0.0
        for step, batch in enumerate(bucketed_batches(lengths, setup.batch_size, rng), 1):
            x, rows, targets = make_batch([examples[i] for i in batch], tokenizer.pad_id)
            optimizer.zero_grad()
            loss = answer_loss(model, x, rows, targets)
            loss.backward()
            clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            loss_sum += loss.item()
            bar.update()
            bar.set_postfix_str(f"epoch {epoch}/{setup.epochs}, loss {loss_sum / step:.4f}",
                                refresh=False)  # fmt: skip
        model.eval()
        with no_grad():
            history["validation"].append(answer_loss(model, *val_batch).item())
        history["train"].append(loss_sum / step)
        if epoch % 10 == 0 or epoch == setup.epochs:
            val_answers = answer_all(
                model, qa, [q for _, _, q, _ in validation], setup.max_answer_tokens
            )
            history["val_exact"].append(exact_match(val_answers, [a for *_, a in validation]))
            bar.write(
                f"    epoch {epoch:>3}: train loss {history['train'][-1]:.3f}, "
                f"validation loss {history['validation'][-1]:.3f}, validation exact-match "
                f"{history['val_exact'][-1]:.1%}  ({time.perf_counter() - start:.0f} s)",
                file=sys.stdout,
            )
    bar.close()
    train_seconds = time.perf_counter() - start

    answers = answer_all(model, qa, [q for _, _, q, _ in test], setup.max_answer_tokens)
    correct = [p == a for p, (*_, a) in zip(answers, test)]
    per_level: dict[str, float] = {}
    per_skill: dict[str, float] = {}
    for key_index, table in ((0, per_level), (1, per_skill)):
        for key in dict.fromkeys(row[key_index] for row in test):
            hits = [c for c, row in zip(correct, test) if row[key_index] == key]
            table[key] = float(np.mean(hits))
    samples = []
    for level in dict.fromkeys(row[0] for row in test):
        members = [i for i, row in enumerate(test) if row[0] == level]
        for i in members[:: max(len(members) // 3, 1)][:3]:
            samples.append({"question": test[i][2], "answer": answers[i], "expected": test[i][3]})
    misses = [
        {"question": row[2], "answer": p, "expected": row[3]}
        for p, row, c in zip(answers, test, correct)
        if not c
    ]
    return {
        "model": model,
        "exact_match": float(np.mean(correct)),
        "per_level": per_level,
        "per_skill": per_skill,
        "samples": samples,
        "misses": misses,
        "history": history,
        "vocab_size": tokenizer.vocab_size,
        "train_seconds": train_seconds,
        "seconds": time.perf_counter() - start,
        "tokens_per_pair": {"bpe": float(mean_bpe), "characters": float(mean_chars)},
    }


# ----------------------------------------------------------------------------- figure


def plot(
    reversal_losses: list[float], history: dict[str, list[float]], setup: ChatSetup, test: float
):
    """Reversal loss per step; TinyTalks losses per epoch; exact-match answers."""
    fig, (rev_ax, loss_ax, acc_ax) = figure(TITLE, 3)
    steps = np.arange(1, len(reversal_losses) + 1)
    rev_ax.plot(steps, reversal_losses, color=PALETTE[0], label="training batch")
    rev_ax.set(xlabel="step", ylabel="cross-entropy (nats, log scale)", yscale="log",
               title="part 1 · reversal: training loss")  # fmt: skip
    rev_ax.legend(loc="upper right")
    epochs = np.arange(1, len(history["train"]) + 1)
    loss_ax.plot(epochs, history["train"], color=PALETTE[0], label="train")
    loss_ax.plot(epochs, history["validation"], color=PALETTE[1], label="validation")
    loss_ax.set(xlabel="epoch", ylabel="answer cross-entropy (nats, log scale)", yscale="log",
                title="part 2 · TinyTalks GPT: loss")  # fmt: skip
    loss_ax.legend(loc="upper right")
    checkpoints = [e for e in epochs if e % 10 == 0 or e == len(epochs)]
    acc_ax.plot(checkpoints, 100 * np.asarray(history["val_exact"]), marker="o",
                color=PALETTE[1], label="validation answers")  # fmt: skip
    acc_ax.plot([len(epochs)], [100 * test], marker="*", markersize=12, linestyle="none",
                color=PALETTE[2], label=f"test answers: {test:.1%}")  # fmt: skip
    acc_ax.axhline(100 * setup.bar, color="k", linestyle="--", label=f"bar {setup.bar:.0%} (test)")
    acc_ax.set(xlabel="epoch", ylabel="exact-match answers (%)", ylim=(0, 105),
               xlim=(0, len(epochs) + 1), title="part 2 · greedy answers")  # fmt: skip
    acc_ax.legend(loc="lower right")
    return fig


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = arguments(TITLE)
    parser.add_argument("--epochs", type=common.epoch_count, default=ChatSetup.epochs)
    args = parser.parse_args(argv)
    result = begin(NAME, TITLE, STORY, seeds=[args.seed])

    reversal = ReversalSetup()
    print(
        f"Part 1 · attention proof: reverse {reversal.seq_len}-digit sequences "
        f"({reversal.n_layers} blocks, d={reversal.d_model}, {reversal.steps} steps of "
        f"{reversal.batch_size} fresh sequences)"
    )
    exact, reversal_losses, reversal_seconds = attention_proof(reversal, args.seed)
    print(
        f"  reversed exactly: {exact:.2%} of {reversal.test_sequences} unseen sequences "
        f"({reversal_seconds:.0f} s)\n"
    )

    setup = ChatSetup(epochs=args.epochs)
    print("Part 2 · a small GPT answers TinyTalks questions it has never seen")
    talk = chat(setup, args.seed)
    print(f"\n  test exact-match {talk['exact_match']:.1%} (greedy decoding)")
    for level, score in talk["per_level"].items():
        print(f"    {level:<10} {score:.1%}")
    print("\n  sample generations (held-out test questions):")
    for s in talk["samples"]:
        mark = "ok " if s["answer"] == s["expected"] else "MISS"
        print(f"    [{mark}] Q: {s['question']:<38} A: {s['answer']}")
    print()
    model = talk["model"]
    model.print_memory_profile(setup.max_len)
    print(
        f"  a KV cache for 1,024 tokens of this model: {model.kv_cache_bytes(1024) / 1024:.0f} "
        f"KiB; GPT-2 small (12 layers, d=768): {2 * 12 * 1024 * 768 * 4 / 2**20:.0f} MiB"
    )
    print_attention_memory((40, 80, 160, 320), num_heads=setup.n_heads, batch=setup.batch_size)

    total = result.cpu_seconds()
    result.check("reversal exact-match (sequences)", exact, reversal.bar)
    result.check("TinyTalks test exact-match", talk["exact_match"], setup.bar)
    result.check("total CPU time (s)", total, TIME_BAR_S, at_least=False)
    result.details.update(
        reversal={"exact_match": exact, "seconds": reversal_seconds, **vars(reversal)},
        tinytalks={
            key: talk[key]
            for key in (
                "exact_match",
                "per_level",
                "per_skill",
                "samples",
                "misses",
                "vocab_size",
                "train_seconds",
                "seconds",
                "tokens_per_pair",
            )
        },
        setup=vars(setup),
        parameters=model.num_parameters(),
        kv_cache_bytes_1024=model.kv_cache_bytes(1024),
    )

    save_figure(plot(reversal_losses, talk["history"], setup, talk["exact_match"]), NAME)
    return result.finish()


if __name__ == "__main__":
    sys.exit(run_main(main))
