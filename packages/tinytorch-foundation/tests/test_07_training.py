"""Module 07 · Training — schedules, clipping, the Trainer, checkpoints, memory, recompute.

Every check here is on values, never on time: activation checkpointing is tested by
what the graph holds (``graph_stats``) and by identical gradients.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tinytorch.nn.functional as F
from tinytorch import training
from tinytorch.core import Tensor, get_rng, graph_stats, manual_seed, no_grad
from tinytorch.nn import (
    CrossEntropyLoss,
    Dropout,
    Linear,
    Module,
    MSELoss,
    ReLU,
    Sequential,
    Tanh,
)
from tinytorch.optim import SGD, Adam, CosineAnnealingLR


def blobs(n_per_class: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well separated 2-D clusters: linearly separable, classes 0, 1, 2."""
    rng = np.random.default_rng(seed)
    centers = np.array([[4.0, 0.0], [-4.0, 4.0], [-4.0, -4.0]])
    x = np.concatenate([c + 0.5 * rng.standard_normal((n_per_class, 2)) for c in centers])
    y = np.repeat(np.arange(3), n_per_class)
    return x.astype(np.float32), y.astype(np.int64)


def classifier(dropout: float = 0.0) -> Sequential:
    stages = [Linear(2, 16), ReLU()]
    if dropout:
        stages.append(Dropout(dropout))
    return Sequential(*stages, Linear(16, 3))


def cosine(t: int, base: float, eta_min: float, t_max: int) -> float:
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / t_max)) / 2


def params_equal_state(model: Module, state: dict[str, np.ndarray]) -> bool:
    now = model.state_dict()
    return now.keys() == state.keys() and all(np.array_equal(now[k], state[k]) for k in now)


def params_equal(a: Module, b: Module) -> bool:
    return params_equal_state(a, b.state_dict())


def to_float64(model: Module) -> Module:
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    return model


# ----------------------------------------------------------------------------- schedule


def sgd_at(lr: float) -> SGD:
    return SGD([Tensor(np.zeros(2), requires_grad=True)], lr=lr)


class TestCosineAnnealingLR:
    def test_matches_the_closed_form_at_every_step(self):
        optimizer = sgd_at(0.1)
        scheduler = CosineAnnealingLR(optimizer, T_max=10, eta_min=0.001)
        seen = [optimizer.lr]
        for _ in range(10):
            scheduler.step()
            seen.append(optimizer.lr)
        expected = [cosine(t, 0.1, 0.001, 10) for t in range(11)]
        np.testing.assert_allclose(seen, expected, rtol=1e-12)

    def test_starts_at_base_passes_the_midpoint_and_ends_at_eta_min(self):
        optimizer = sgd_at(0.1)
        scheduler = CosineAnnealingLR(optimizer, T_max=10, eta_min=0.001)
        assert optimizer.lr == pytest.approx(0.1)
        for _ in range(5):
            scheduler.step()
        assert optimizer.lr == pytest.approx((0.1 + 0.001) / 2)
        for _ in range(5):
            scheduler.step()
        assert optimizer.lr == pytest.approx(0.001)

    def test_stays_at_eta_min_after_t_max(self):
        optimizer = sgd_at(0.1)
        scheduler = CosineAnnealingLR(optimizer, T_max=10, eta_min=0.001)
        for _ in range(10):
            scheduler.step()
        for _ in range(7):
            scheduler.step()
            assert optimizer.lr == pytest.approx(0.001)

    def test_decreases_monotonically(self):
        optimizer = sgd_at(1.0)
        scheduler = CosineAnnealingLR(optimizer, T_max=10)
        lrs = [optimizer.lr]
        for _ in range(10):
            scheduler.step()
            lrs.append(optimizer.lr)
        assert all(a > b for a, b in itertools.pairwise(lrs))
        assert lrs[-1] == pytest.approx(0.0, abs=1e-15)

    def test_get_last_lr_reports_the_current_rate(self):
        optimizer = sgd_at(0.1)
        scheduler = CosineAnnealingLR(optimizer, T_max=4)
        scheduler.step()
        assert scheduler.get_last_lr() == [optimizer.lr]

    def test_warm_up_ramps_linearly_then_follows_the_cosine(self):
        optimizer = sgd_at(0.1)
        scheduler = CosineAnnealingLR(optimizer, T_max=10, eta_min=0.0, warmup_steps=4)
        lrs = [optimizer.lr]
        for _ in range(12):
            scheduler.step()
            lrs.append(optimizer.lr)
        np.testing.assert_allclose(lrs[:4], [0.025, 0.05, 0.075, 0.1], rtol=1e-12)
        np.testing.assert_allclose(np.diff(lrs[:4]), 0.025, rtol=1e-9)
        expected = [cosine(t - 4, 0.1, 0.0, 6) for t in range(4, 11)]
        np.testing.assert_allclose(lrs[4:11], expected, rtol=1e-12, atol=1e-15)
        assert lrs[11] == lrs[12] == pytest.approx(0.0, abs=1e-15)

    @pytest.mark.parametrize(
        ("kwargs", "what"),
        [
            (dict(T_max=0), "T_max"),
            (dict(T_max=-3), "T_max"),
            (dict(T_max=10, eta_min=-0.1), "eta_min"),
            (dict(T_max=10, warmup_steps=-1), "warmup_steps"),
            (dict(T_max=10, warmup_steps=10), "warmup_steps"),
            (dict(T_max=10, eta_min=math.nan), "eta_min must be a finite number >= 0, got nan"),
        ],
    )
    def test_invalid_arguments_raise(self, kwargs, what):
        with pytest.raises(ValueError, match=rf"CosineAnnealingLR: {what}"):
            CosineAnnealingLR(sgd_at(0.1), **kwargs)

    @pytest.mark.parametrize(
        ("make", "what"),
        [
            (
                lambda: CosineAnnealingLR(sgd_at(0.1), T_max=2.5),
                "T_max must be an int, got float 2.5",
            ),
            (lambda: CosineAnnealingLR(sgd_at(0.1), T_max=True), "T_max must be an int"),
            (lambda: CosineAnnealingLR(sgd_at(0.1), T_max=5, warmup_steps=None), "warmup_steps"),
            (lambda: CosineAnnealingLR(sgd_at(0.1), T_max=5, eta_min="0"), "eta_min"),
            (lambda: CosineAnnealingLR([0.1], T_max=5), "optimizer must be an Optimizer"),
        ],
    )
    @pytest.mark.ungraded
    def test_mistyped_arguments_raise_type_errors(self, make, what):
        with pytest.raises(TypeError, match=rf"^CosineAnnealingLR: {what}"):
            make()

    @pytest.mark.parametrize(
        "state", [{"last_step": "soon"}, {"last_step": -1}, {"last_step": 1.5}, {}, [3]]
    )
    def test_a_bad_state_is_refused_and_changes_nothing(self, state):
        optimizer = sgd_at(0.1)
        scheduler = CosineAnnealingLR(optimizer, T_max=10)
        scheduler.step()
        lr = optimizer.lr
        with pytest.raises((TypeError, ValueError), match=r"^CosineAnnealingLR\.load_state_dict: "):
            scheduler.load_state_dict(state)
        assert scheduler.last_step == 1 and optimizer.lr == lr

    def test_state_dict_round_trip(self):
        optimizer = sgd_at(0.1)
        scheduler = CosineAnnealingLR(optimizer, T_max=10, eta_min=0.01, warmup_steps=2)
        for _ in range(5):
            scheduler.step()
        fresh_optimizer = sgd_at(0.1)
        fresh = CosineAnnealingLR(fresh_optimizer, T_max=10, eta_min=0.01, warmup_steps=2)
        fresh.load_state_dict(scheduler.state_dict())
        assert fresh_optimizer.lr == optimizer.lr
        for _ in range(6):
            scheduler.step()
            fresh.step()
            assert fresh_optimizer.lr == optimizer.lr


# ----------------------------------------------------------------------------- clipping


def with_grads(*grads: np.ndarray) -> list[Tensor]:
    params = []
    for g in grads:
        p = Tensor(np.zeros_like(g), requires_grad=True)
        p.grad = Tensor(g.copy())
        params.append(p)
    return params


class TestClipGradNorm:
    def grads(self) -> list[np.ndarray]:
        rng = np.random.default_rng(5)
        return [
            rng.standard_normal((4, 3)).astype(np.float32),
            rng.standard_normal(3).astype(np.float32),
        ]

    def test_returns_the_total_norm_before_clipping(self):
        grads = self.grads()
        expected = np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads))
        total = training.clip_grad_norm_(with_grads(*grads), max_norm=0.1)
        assert total == pytest.approx(expected, rel=1e-6)

    def test_clips_the_joint_norm_to_max_norm_keeping_direction(self):
        grads = self.grads()
        params = with_grads(*grads)
        total = training.clip_grad_norm_(params, max_norm=0.5)
        clipped = [p.grad.data.astype(np.float64) for p in params]
        assert np.sqrt(sum((c**2).sum() for c in clipped)) == pytest.approx(0.5, rel=1e-5)
        for c, g in zip(clipped, grads):
            np.testing.assert_allclose(c, g * 0.5 / total, rtol=1e-5)

    def test_small_gradients_are_left_untouched(self):
        grads = self.grads()
        params = with_grads(*grads)
        training.clip_grad_norm_(params, max_norm=100.0)
        for p, g in zip(params, grads):
            np.testing.assert_array_equal(p.grad.data, g)

    def test_inf_norm_uses_the_largest_magnitude(self):
        grads = self.grads()
        params = with_grads(*grads)
        largest = max(np.abs(g).max() for g in grads)
        total = training.clip_grad_norm_(params, max_norm=0.25, norm_type=float("inf"))
        assert total == pytest.approx(largest)
        assert max(np.abs(p.grad.data).max() for p in params) == pytest.approx(0.25, rel=1e-5)

    def test_parameters_without_gradients_are_ignored(self):
        params = with_grads(np.array([3.0, 4.0], dtype=np.float32))
        params.append(Tensor(np.zeros(2), requires_grad=True))
        assert training.clip_grad_norm_(params, max_norm=1.0) == pytest.approx(5.0)
        assert params[1].grad is None
        assert training.clip_grad_norm_([Tensor(np.zeros(2), requires_grad=True)], 1.0) == 0.0

    def test_negative_max_norm_raises(self):
        with pytest.raises(ValueError, match="clip_grad_norm_: max_norm"):
            training.clip_grad_norm_(with_grads(*self.grads()), max_norm=-1.0)


# ----------------------------------------------------------------------------- accuracy


class TestAccuracy:
    @pytest.mark.ungraded
    def test_multi_class_uses_argmax(self):
        outputs = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.1, 0.2, 0.9], [5.0, 0.0, 6.0]])
        assert training.accuracy(outputs, np.array([0, 1, 2, 0])) == 0.75

    @pytest.mark.ungraded
    def test_single_output_uses_a_threshold(self):
        probs = np.array([[0.9], [0.2], [0.6], [0.4]])
        assert training.accuracy(probs, np.array([[1.0], [0.0], [0.0], [0.0]])) == 0.75
        assert training.accuracy(probs, np.array([1, 0, 1, 0])) == 1.0

    @pytest.mark.ungraded
    def test_threshold_zero_for_logits(self):
        logits = np.array([2.0, -1.0, 0.5, -3.0])
        assert training.accuracy(logits, np.array([1, 0, 1, 0]), threshold=0.0) == 1.0
        assert training.accuracy(logits, np.array([1, 0, 1, 0])) == 0.75


# ----------------------------------------------------------------------------- Trainer


def make_trainer(
    dropout: float = 0.0, epochs_for_schedule: int | None = None, **kwargs
) -> training.Trainer:
    model = classifier(dropout)
    optimizer = Adam(model.parameters(), lr=0.05)
    scheduler = (
        CosineAnnealingLR(optimizer, T_max=epochs_for_schedule) if epochs_for_schedule else None
    )
    return training.Trainer(
        model,
        optimizer,
        CrossEntropyLoss(),
        scheduler=scheduler,
        metrics={"accuracy": training.accuracy},
        progress=False,
        **kwargs,
    )


class TestTrainer:
    def test_fits_a_separable_problem_to_full_training_accuracy(self):
        x, y = blobs()
        trainer = make_trainer()
        history = trainer.fit(x, y, epochs=15, batch_size=16)
        assert trainer.evaluate(x, y)["accuracy"] == 1.0
        assert history["loss"][-1] < history["loss"][0]

    def test_history_has_one_entry_per_epoch(self):
        x, y = blobs()
        history = make_trainer().fit(x, y, epochs=4, batch_size=16)
        assert isinstance(history, training.History)
        assert set(history.curves) == {"loss", "lr"}
        assert all(len(curve) == 4 for curve in history.curves.values())
        assert history.last("loss") == history["loss"][-1]

    def test_validation_metrics_are_logged_with_a_val_prefix(self):
        x, y = blobs()
        xv, yv = blobs(n_per_class=5, seed=1)
        trainer = make_trainer()
        history = trainer.fit(x, y, epochs=3, batch_size=16, validation=(xv, yv))
        assert set(history.curves) == {"loss", "lr", "val_loss", "val_accuracy"}
        assert len(history["val_accuracy"]) == 3
        final = trainer.evaluate(xv, yv)
        assert history.last("val_loss") == pytest.approx(final["loss"])
        assert history.last("val_accuracy") == final["accuracy"]

    def test_scheduler_steps_once_per_epoch(self):
        x, y = blobs()
        trainer = make_trainer(epochs_for_schedule=6)
        history = trainer.fit(x, y, epochs=6, batch_size=16)
        expected = [cosine(t, 0.05, 0.0, 6) for t in range(6)]
        np.testing.assert_allclose(history["lr"], expected, rtol=1e-12)
        assert trainer.scheduler.last_step == 6

    def test_max_grad_norm_clips_every_step(self):
        seen: list[float] = []

        class SpySGD(SGD):
            def step(self):
                seen.append(
                    float(
                        np.sqrt(
                            sum((p.grad.data.astype(np.float64) ** 2).sum() for p in self.params)
                        )
                    )
                )
                super().step()

        x, y = blobs()
        model = classifier()
        trainer = training.Trainer(
            model,
            SpySGD(model.parameters(), lr=0.5),
            CrossEntropyLoss(),
            max_grad_norm=0.01,
            progress=False,
        )
        trainer.fit(x, y, epochs=2, batch_size=20)
        assert len(seen) == 6
        assert max(seen) <= 0.01 * (1 + 1e-5)

    def test_same_seed_gives_bit_identical_runs(self):
        """Initialisation, dropout masks and shuffling all follow the seeds."""
        x, y = blobs()

        def run(fit_seed: int):
            manual_seed(42)
            trainer = make_trainer(dropout=0.3, epochs_for_schedule=5)
            history = trainer.fit(x, y, epochs=5, batch_size=8, seed=fit_seed)
            return history.curves, trainer.model.state_dict()

        (curves_a, weights_a), (curves_b, weights_b) = run(7), run(7)
        assert curves_a == curves_b
        assert weights_a.keys() == weights_b.keys()
        assert all(np.array_equal(weights_a[k], weights_b[k]) for k in weights_a)
        curves_c, _ = run(8)
        assert curves_c["loss"] != curves_a["loss"]  # the seed does drive the shuffle

    def test_progress_false_prints_nothing(self, capsys):
        x, y = blobs()
        make_trainer().fit(x, y, epochs=2, batch_size=16, validation=(x, y))
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err == ""

    def test_mismatched_lengths_raise_clearly(self):
        x, y = blobs()
        trainer = make_trainer()
        with pytest.raises(ValueError, match=r"Trainer.fit: 60 inputs but 59 targets"):
            trainer.fit(x, y[:-1])
        with pytest.raises(ValueError, match=r"Trainer.evaluate: 60 inputs but 59 targets"):
            trainer.evaluate(x, y[:-1])

    @pytest.mark.parametrize(
        ("kwargs", "what"),
        [
            (dict(epochs=0), "epochs"),
            (dict(epochs=-1), "epochs"),
            (dict(epochs=1, batch_size=0), "batch_size"),
        ],
    )
    def test_bad_epochs_or_batch_size_raise(self, kwargs, what):
        x, y = blobs()
        trainer = make_trainer()
        before = trainer.model.state_dict()
        with pytest.raises(ValueError, match=rf"Trainer.fit: .*{what}"):
            trainer.fit(x, y, **kwargs)
        assert params_equal_state(trainer.model, before)

    def test_empty_data_raises(self):
        with pytest.raises(ValueError, match="no examples"):
            make_trainer().fit(np.zeros((0, 2), np.float32), np.zeros(0, np.int64))

    def test_evaluate_changes_no_weights_and_records_no_graph(self):
        x, y = blobs()
        trainer = make_trainer(dropout=0.5)
        trainer.fit(x, y, epochs=1, batch_size=16)
        outputs: list[Tensor] = []
        forward = trainer.model.forward

        def spy(batch: Tensor) -> Tensor:
            out = forward(batch)
            outputs.append(out)
            return out

        trainer.model.forward = spy
        before = trainer.model.state_dict()
        first = trainer.evaluate(x, y)
        second = trainer.evaluate(x, y)
        assert first == second  # eval mode: dropout is off, nothing random
        assert params_equal_state(trainer.model, before)
        assert outputs and all(o.grad_fn is None and not o.requires_grad for o in outputs)

    def test_predict_returns_one_row_per_example_in_batches(self):
        x, _ = blobs()
        trainer = make_trainer(dropout=0.5)
        outputs = trainer.predict(x, batch_size=7)
        assert outputs.shape == (60, 3)
        trainer.model.eval()
        with no_grad():
            whole = trainer.model(Tensor(x)).data
        np.testing.assert_allclose(outputs, whole, rtol=1e-6)

    def test_train_step_returns_the_batch_loss(self):
        x, y = blobs()
        trainer = make_trainer()
        with no_grad():
            expected = CrossEntropyLoss()(trainer.model(Tensor(x)), y).item()
        assert trainer.train_step(x, y) == pytest.approx(expected)


# ----------------------------------------------------------------------------- checkpoints


def trained_run(epochs: int = 2):
    x, y = blobs()
    manual_seed(0)
    model = classifier()
    optimizer = Adam(model.parameters(), lr=0.05, weight_decay=0.01)
    scheduler = CosineAnnealingLR(optimizer, T_max=5, eta_min=0.001)
    trainer = training.Trainer(
        model, optimizer, CrossEntropyLoss(), scheduler=scheduler, progress=False
    )
    trainer.fit(x, y, epochs=epochs, batch_size=16, seed=1)
    return trainer, x, y


def fresh_objects(seed: int = 123):
    manual_seed(seed)
    model = classifier()
    optimizer = Adam(model.parameters(), lr=0.05, weight_decay=0.01)
    scheduler = CosineAnnealingLR(optimizer, T_max=5, eta_min=0.001)
    return model, optimizer, scheduler


def rewrite_meta(source: Path, target: Path, **changes) -> Path:
    with np.load(source, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    meta = json.loads(arrays["meta"].tobytes().decode())
    meta.update(changes)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(target, **arrays)
    return target


class TestCheckpoint:
    def test_resume_is_bit_identical(self, tmp_path):
        trainer, x, y = trained_run()
        path = training.save_checkpoint(
            tmp_path / "run.npz",
            trainer.model,
            trainer.optimizer,
            trainer.scheduler,
            epoch=2,
            note="resume test",
        )
        model, optimizer, scheduler = fresh_objects()
        assert not params_equal(model, trainer.model)
        metadata = training.load_checkpoint(path, model, optimizer, scheduler)
        assert metadata == {"epoch": 2, "note": "resume test"}
        assert params_equal(model, trainer.model)
        assert optimizer.lr == trainer.optimizer.lr
        assert optimizer.step_count == trainer.optimizer.step_count

        resumed = training.Trainer(
            model, optimizer, CrossEntropyLoss(), scheduler=scheduler, progress=False
        )
        trainer.fit(x, y, epochs=1, batch_size=16, seed=9)
        resumed.fit(x, y, epochs=1, batch_size=16, seed=9)
        assert params_equal(model, trainer.model)
        assert resumed.history["loss"] == trainer.history["loss"][-1:]
        assert optimizer.lr == trainer.optimizer.lr

    def test_file_is_plain_npz_readable_without_pickle(self, tmp_path):
        trainer, _, _ = trained_run(epochs=1)
        path = training.save_checkpoint(
            tmp_path / "run.npz", trainer.model, trainer.optimizer, trainer.scheduler
        )
        with np.load(path, allow_pickle=False) as archive:
            files = set(archive.files)
            meta = json.loads(archive["meta"].tobytes().decode())
            np.testing.assert_array_equal(
                archive["model/0.weight"], trainer.model.state_dict()["0.weight"]
            )
        assert {
            "meta",
            "model/0.weight",
            "model/0.bias",
            "model/2.weight",
            "model/2.bias",
            "optimizer/0/exp_avg",
            "optimizer/0/exp_avg_sq",
        } <= files
        assert meta["format"] == "tinytorch-checkpoint" and meta["version"] == 1
        assert meta["optimizer"]["class"] == "Adam"
        assert meta["scheduler"] == {"last_step": 1}

    def test_model_only_checkpoint_round_trips(self, tmp_path):
        trainer, _, _ = trained_run(epochs=1)
        path = training.save_checkpoint(tmp_path / "sub" / "model.npz", trainer.model)
        model, _, _ = fresh_objects()
        assert training.load_checkpoint(path, model) == {}
        assert params_equal(model, trainer.model)

    def test_write_leaves_no_temporary_files(self, tmp_path):
        trainer, _, _ = trained_run(epochs=1)
        for _ in range(2):  # the second save replaces the first
            training.save_checkpoint(tmp_path / "run.npz", trainer.model, trainer.optimizer)
        assert sorted(os.listdir(tmp_path)) == ["run.npz"]

    def test_failed_write_keeps_the_previous_checkpoint(self, tmp_path, monkeypatch):
        trainer, _, _ = trained_run(epochs=1)
        path = training.save_checkpoint(tmp_path / "run.npz", trainer.model, trainer.optimizer)
        saved = trainer.model.state_dict()
        original = path.read_bytes()

        def broken_savez(file, **arrays):
            file.write(b"half a checkpoint")
            raise OSError("disk full")

        monkeypatch.setattr(np, "savez", broken_savez)
        for p in trainer.model.parameters():
            p.data += 1.0
        with pytest.raises(OSError, match="disk full"):
            training.save_checkpoint(path, trainer.model, trainer.optimizer)
        monkeypatch.undo()
        assert sorted(os.listdir(tmp_path)) == ["run.npz"]
        assert path.read_bytes() == original
        model, _, _ = fresh_objects()
        training.load_checkpoint(path, model)
        assert params_equal_state(model, saved)

    @pytest.mark.parametrize(
        ("metadata", "error", "problem"),
        [
            (dict(weights=np.ones(3)), TypeError, "metadata must be JSON data"),
            (dict(history="x" * (1 << 20)), ValueError, "more than the 1,048,576"),
        ],
    )
    def test_metadata_a_checkpoint_cannot_hold_is_refused_before_writing(
        self, tmp_path, metadata, error, problem
    ):
        model, _, _ = fresh_objects()
        with pytest.raises(error, match=f"^save_checkpoint: .*{problem}"):
            training.save_checkpoint(tmp_path / "run.npz", model, **metadata)
        assert os.listdir(tmp_path) == []

    def test_missing_file_raises_file_not_found(self, tmp_path):
        model, _, _ = fresh_objects()
        with pytest.raises(FileNotFoundError, match=r"nothing-here\.npz"):
            training.load_checkpoint(tmp_path / "nothing-here.npz", model)


def stepped_objects(seed: int = 123):
    """Model, optimizer and scheduler after one training step: every kind of state is set."""
    model, optimizer, scheduler = fresh_objects(seed)
    x, y = blobs()
    training.Trainer(model, optimizer, CrossEntropyLoss(), scheduler=scheduler, progress=False).fit(
        x[:16], y[:16], epochs=1, batch_size=16
    )
    return model, optimizer, scheduler


def snapshot(model: Module, optimizer, scheduler) -> dict:
    """Every array and number the three objects hold, copied."""
    return copy.deepcopy(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict() if optimizer is not None else None,
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
        }
    )


def damaged(saved: Path, target: Path, damage) -> Path:
    """A copy of a good checkpoint after ``damage(arrays, meta)``; a str it returns is
    stored as the JSON text instead of ``meta``."""
    with np.load(saved, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    meta = json.loads(arrays["meta"].tobytes().decode())
    text = damage(arrays, meta)
    text = text if isinstance(text, str) else json.dumps(meta)
    arrays["meta"] = np.frombuffer(text.encode(), dtype=np.uint8)
    np.savez(target, **arrays)
    return target


def set_array(name: str, value: np.ndarray):
    return lambda arrays, meta: arrays.update({name: value})


BAD_CHECKPOINTS = {
    "last parameter a string array": (
        set_array("model/2.bias", np.array(["x", "y", "z"])),
        r"entry 'model/2.bias': does not fit this model: a <U1 array of shape \(3,\)",
    ),
    "last parameter of the wrong shape": (
        set_array("model/2.bias", np.zeros(4, np.float32)),
        r"shape \(4,\) where numbers of shape \(3,\) belong",
    ),
    "a parameter the model lacks": (
        set_array("model/9.weight", np.zeros(3, np.float32)),
        "entry 'model/9.weight': does not fit this model: it has no such parameter",
    ),
    "a model parameter missing": (
        lambda arrays, meta: arrays.pop("model/2.bias"),
        r"does not fit this model: lacks \['2.bias'\]",
    ),
    "last optimizer buffer of the wrong shape": (
        set_array("optimizer/3/exp_avg_sq", np.zeros((3, 3), np.float32)),
        "entry 'optimizer/3/exp_avg_sq': does not fit this Adam",
    ),
    "an optimizer buffer missing": (
        lambda arrays, meta: arrays.pop("optimizer/3/exp_avg_sq"),
        "does not fit this optimizer: .*parameter 3 should hold",
    ),
    "bad scheduler state": (
        lambda arrays, meta: meta.update(scheduler={"last_step": "soon"}),
        "does not fit this scheduler: .*last_step must be an int, got str 'soon'",
    ),
    "no scheduler state": (
        lambda arrays, meta: meta.pop("scheduler"),
        "holds no scheduler state, cannot restore a CosineAnnealingLR",
    ),
    "missing metadata": (
        lambda arrays, meta: meta.pop("metadata"),
        "has no 'metadata' object",
    ),
    'step_count: "many"': (
        lambda arrays, meta: meta["optimizer"].update(step_count="many"),
        "does not fit this optimizer: .*step_count must be an int, got str 'many'",
    ),
    "a NaN learning rate": (
        lambda arrays, meta: meta["optimizer"]["groups"][0].update(lr=math.nan),
        r"does not fit this optimizer: .*group 0: Adam: learning rate \(lr\) .*nan",
    ),
    "a buffer's step not a count": (
        lambda arrays, meta: meta["optimizer"]["scalars"]["3"].update(step="x"),
        "step of parameter 3 must be an int, got str 'x'",
    ),
    "scalars that are not objects": (
        lambda arrays, meta: meta["optimizer"].update(scalars=[1, 2]),
        "'scalars' should map parameter positions to objects",
    ),
    "JSON nested 100,000 deep": (
        lambda arrays, meta: "[" * 100_000 + "]" * 100_000,
        "unreadable metadata",
    ),
    "JSON that is not an object": (lambda arrays, meta: "[1, 2]", "is format"),
}


class TestCheckpointValidation:
    """Every bad file is a CheckpointError naming the path, and nothing changes at all."""

    @pytest.fixture
    def saved(self, tmp_path) -> Path:
        trainer, _, _ = trained_run(epochs=1)
        return training.save_checkpoint(
            tmp_path / "good.npz", trainer.model, trainer.optimizer, trainer.scheduler
        )

    def assert_rejected(
        self,
        path: Path,
        model: Module | None = None,
        optimizer=None,
        scheduler=None,
        match: str | None = None,
    ):
        if model is None:
            model, optimizer, scheduler = stepped_objects()
        before = snapshot(model, optimizer, scheduler)
        with pytest.raises(training.CheckpointError, match=match) as info:
            training.load_checkpoint(path, model, optimizer, scheduler)
        assert str(path) in str(info.value)
        np.testing.assert_equal(snapshot(model, optimizer, scheduler), before)
        return info.value

    @pytest.mark.parametrize("case", list(BAD_CHECKPOINTS))
    def test_a_bad_file_changes_nothing(self, saved, tmp_path, case):
        damage, problem = BAD_CHECKPOINTS[case]
        self.assert_rejected(damaged(saved, tmp_path / "bad.npz", damage), match=problem)

    def test_a_deflate_bomb_is_refused_before_it_is_inflated(
        self, saved, tmp_path, refused_in_bounded_memory
    ):
        """130 KB on disk, 128 MiB of zeros once inflated; refused from the sizes the zip
        directory declares, so the same holds for 2 GiB (which only takes longer to build)."""
        bomb = tmp_path / "bomb.npz"
        deflate = dict(compression=zipfile.ZIP_DEFLATED, compresslevel=9)
        with (
            np.load(saved, allow_pickle=False) as archive,
            zipfile.ZipFile(bomb, "w", **deflate) as out,
        ):
            for key in archive.files:
                if key != "model/0.weight":
                    with out.open(f"{key}.npy", "w") as entry:
                        np.lib.format.write_array(entry, archive[key])
            with out.open("model/0.weight.npy", "w", force_zip64=True) as entry:
                header = {"descr": "<f4", "fortran_order": False, "shape": (1 << 25,)}
                np.lib.format.write_array_header_1_0(entry, header)
                for _ in range(8):
                    entry.write(bytes(16 << 20))
        assert bomb.stat().st_size < 1 << 20
        message = refused_in_bounded_memory(
            "from tinytorch.nn import Linear, ReLU, Sequential\n"
            "from tinytorch.training import load_checkpoint\n"
            "model = Sequential(Linear(2, 16), ReLU(), Linear(16, 3))",
            "load_checkpoint('bomb.npz', model)",
            tmp_path,
        )
        assert "bomb.npz: its entries declare 134," in message

    def test_the_good_file_passes_the_same_check(self, saved):
        model, optimizer, scheduler = stepped_objects()
        before = snapshot(model, optimizer, scheduler)
        training.load_checkpoint(saved, model, optimizer, scheduler)
        assert not params_equal_state(model, before["model"])
        assert optimizer.step_count != before["optimizer"]["step_count"]

    def test_truncated_file(self, saved, tmp_path):
        bad = tmp_path / "truncated.npz"
        bad.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
        self.assert_rejected(bad, match="corrupted")

    def test_random_bytes(self, tmp_path):
        bad = tmp_path / "noise.npz"
        bad.write_bytes(np.random.default_rng(0).bytes(2048))
        self.assert_rejected(bad, match="corrupted")

    def test_empty_file(self, tmp_path):
        bad = tmp_path / "empty.npz"
        bad.write_bytes(b"")
        self.assert_rejected(bad)

    def test_flipped_byte_inside_an_array_fails_the_crc(self, saved, tmp_path):
        model, _, _ = fresh_objects()
        training.load_checkpoint(saved, model)
        payload = model.state_dict()["2.weight"].tobytes()
        data = bytearray(saved.read_bytes())
        offset = bytes(data).find(payload)
        assert offset > 0 and bytes(data).count(payload) == 1
        data[offset + len(payload) // 2] ^= 0xFF
        bad = tmp_path / "flipped.npz"
        bad.write_bytes(bytes(data))
        self.assert_rejected(bad, match="corrupted")

    def test_plain_npz_without_meta(self, saved, tmp_path):
        with np.load(saved, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files if key != "meta"}
        bad = tmp_path / "plain.npz"
        np.savez(bad, **arrays)
        self.assert_rejected(bad, match="no 'meta'")

    def test_an_entry_the_model_does_not_have(self, tmp_path):
        bad = tmp_path / "other.npz"
        np.savez(bad, weights=np.ones(3))
        self.assert_rejected(bad, match="entry 'weights': does not fit this model")

    def test_unreadable_meta(self, saved, tmp_path):
        with np.load(saved, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
        arrays["meta"] = np.frombuffer(b"\xff\xfe not json", dtype=np.uint8)
        bad = tmp_path / "meta.npz"
        np.savez(bad, **arrays)
        self.assert_rejected(bad, match="metadata")

    @pytest.mark.parametrize(
        "changes", [dict(format="someone-else"), dict(version=2), dict(version="1")]
    )
    def test_wrong_format_or_version(self, saved, tmp_path, changes):
        bad = rewrite_meta(saved, tmp_path / "other.npz", **changes)
        self.assert_rejected(bad, match="expected 'tinytorch-checkpoint' v1")

    def test_different_parameter_names(self, saved):
        manual_seed(1)
        model = Sequential(Linear(2, 16), Linear(16, 3))  # 0.* and 1.* instead of 0.* and 2.*
        self.assert_rejected(saved, model, match="does not fit this model")

    def test_different_parameter_shapes(self, saved):
        manual_seed(1)
        model = Sequential(Linear(2, 16), ReLU(), Linear(16, 4))
        error = self.assert_rejected(saved, model, match="does not fit this model")
        assert "2.weight" in str(error)

    def test_optimizer_class_mismatch(self, saved):
        model, _, _ = fresh_objects()
        optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
        self.assert_rejected(saved, model, optimizer, match="holds Adam state.*SGD")

    def test_optimizer_requested_but_not_saved(self, saved, tmp_path):
        trainer, _, _ = trained_run(epochs=1)
        path = training.save_checkpoint(tmp_path / "model-only.npz", trainer.model)
        model, optimizer, _ = fresh_objects()
        self.assert_rejected(path, model, optimizer, match="no optimizer")

    def test_optimizer_state_that_does_not_fit(self, saved):
        model, _, _ = fresh_objects()
        optimizer = Adam(model.parameters()[:2], lr=0.05)  # only the first layer
        self.assert_rejected(saved, model, optimizer)


# ----------------------------------------------------------------------------- memory


class TestMemoryReport:
    def training_state(self, batch: int = 16):
        manual_seed(0)
        model = Sequential(Linear(8, 32), ReLU(), Linear(32, 4))
        optimizer = Adam(model.parameters())
        rng = np.random.default_rng(0)
        x = Tensor(rng.standard_normal((batch, 8)))
        loss = CrossEntropyLoss()(model(x), rng.integers(0, 4, batch))
        return model, optimizer, loss

    def test_parameters_match_the_model(self):
        model, optimizer, _ = self.training_state()
        report = training.memory_report(model, optimizer)
        assert report.parameters == model.parameter_bytes() == 4 * model.num_parameters()

    def test_gradients_appear_after_backward(self):
        model, optimizer, loss = self.training_state()
        assert training.memory_report(model, optimizer).gradients == 0
        loss.backward()
        assert training.memory_report(model, optimizer).gradients == model.parameter_bytes()

    def test_adam_state_is_twice_the_parameters_after_a_step(self):
        model, optimizer, loss = self.training_state()
        assert training.memory_report(model, optimizer).optimizer_state == 0
        loss.backward()
        optimizer.step()
        assert (
            training.memory_report(model, optimizer).optimizer_state == 2 * model.parameter_bytes()
        )
        assert training.memory_report(model).optimizer_state == 0

    def test_activations_are_measured_from_the_loss_and_grow_with_batch(self):
        small_model, _, small_loss = self.training_state(batch=8)
        large_model, _, large_loss = self.training_state(batch=64)
        assert training.memory_report(small_model).activations == 0
        small = training.memory_report(small_model, loss=small_loss).activations
        large = training.memory_report(large_model, loss=large_loss).activations
        assert 0 < small < large
        assert large > 4 * small

    def test_activations_exclude_the_parameters(self):
        model, _, loss = self.training_state()
        report = training.memory_report(model, loss=loss)
        params = model.parameters()
        assert report.activations == graph_stats(loss, exclude=[p.data for p in params]).saved_bytes
        assert report.activations == graph_stats(loss).saved_bytes - model.parameter_bytes()

    def test_total_and_string_form(self):
        model, optimizer, loss = self.training_state()
        loss.backward()
        optimizer.step()
        report = training.memory_report(model, optimizer, loss)
        assert isinstance(report, training.MemoryReport)
        assert report.total == (
            report.parameters + report.gradients + report.optimizer_state + report.activations
        )
        text = str(report)
        for row in ("parameters", "gradients", "optimizer state", "activations (graph)", "total"):
            assert row in text
        assert text.count("KiB") == 5


# ----------------------------------------------------------------------------- recompute


def grads_of(model: Module, x: Tensor) -> list[np.ndarray]:
    return [p.grad.data.copy() for p in model.parameters()] + [x.grad.data.copy()]


class TestActivationCheckpointing:
    def run_both(self, segment: Module, seed: int = 5):
        """Forward + backward directly and through checkpoint(), from the same RNG state."""
        rng = np.random.default_rng(0)
        data = rng.standard_normal((6, 5))
        weights = rng.standard_normal((6, 4))
        results = []
        for use_checkpoint in (False, True):
            segment.zero_grad()
            x = Tensor(data, requires_grad=True, dtype=np.float64)
            manual_seed(seed)
            out = training.checkpoint(segment, x) if use_checkpoint else segment(x)
            (out * weights).sum().backward()
            results.append((out.data.copy(), grads_of(segment, x)))
        return results

    def test_same_output_and_gradients_as_the_plain_segment(self):
        manual_seed(0)
        segment = to_float64(Sequential(Linear(5, 8), Tanh(), Linear(8, 8), ReLU(), Linear(8, 4)))
        (out_a, grads_a), (out_b, grads_b) = self.run_both(segment)
        np.testing.assert_array_equal(out_a, out_b)
        assert len(grads_a) == len(grads_b) == 7
        for a, b in zip(grads_a, grads_b):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)

    def test_dropout_draws_the_same_mask_on_replay(self):
        manual_seed(0)
        segment = to_float64(Sequential(Linear(5, 16), ReLU(), Dropout(0.5), Linear(16, 4)))
        segment.train()
        (out_a, grads_a), (out_b, grads_b) = self.run_both(segment)
        np.testing.assert_array_equal(out_a, out_b)
        for a, b in zip(grads_a, grads_b):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
        segment.eval()
        with no_grad():
            clean = segment(
                Tensor(np.random.default_rng(0).standard_normal((6, 5)), dtype=np.float64)
            ).data
        assert not np.allclose(out_a, clean)  # dropout really was active

    def test_replay_uses_the_forward_mask_even_if_randomness_was_drawn_since(self):
        manual_seed(0)
        segment = to_float64(Sequential(Linear(5, 16), Dropout(0.5), Linear(16, 4)))
        x = Tensor(np.ones((3, 5)), requires_grad=True, dtype=np.float64)
        manual_seed(3)
        direct = segment(x)
        direct.sum().backward()
        expected = grads_of(segment, x)
        segment.zero_grad()
        x.grad = None
        manual_seed(3)
        out = training.checkpoint(segment, x)
        get_rng().random(100)  # something else uses the generator before backward
        state = get_rng().bit_generator.state
        out.sum().backward()
        assert get_rng().bit_generator.state == state  # replay does not disturb the stream
        for a, b in zip(expected, grads_of(segment, x)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)

    def test_function_segment_with_several_inputs(self):
        a = Tensor(np.array([0.5, -1.0]), requires_grad=True, dtype=np.float64)
        b = Tensor(np.array([2.0, 0.25]), requires_grad=True, dtype=np.float64)
        out = training.checkpoint(lambda p, q: F.tanh(p * q) + p, a, b)
        out.sum().backward()
        t = np.tanh(a.data * b.data)
        np.testing.assert_allclose(a.grad.data, (1 - t**2) * b.data + 1.0, rtol=1e-12)
        np.testing.assert_allclose(b.grad.data, (1 - t**2) * a.data, rtol=1e-12)

    def test_under_no_grad_it_records_nothing(self):
        segment = Sequential(Linear(3, 3))
        with no_grad():
            out = training.checkpoint(segment, Tensor(np.ones((2, 3))))
        assert out.grad_fn is None

    def test_checkpointed_graph_holds_fewer_saved_bytes(self):
        manual_seed(0)
        width = 256
        first, last = Linear(16, width), Linear(width, 4)
        middle = Sequential(Linear(width, width), ReLU(), Linear(width, width), ReLU())
        params = first.parameters() + middle.parameters() + last.parameters()
        rng = np.random.default_rng(0)
        x = Tensor(rng.standard_normal((32, 16)))
        targets = rng.integers(0, 4, 32)
        loss_fn = CrossEntropyLoss()

        def loss_of(use_checkpoint: bool) -> Tensor:
            h = F.relu(first(x))
            h = training.checkpoint(middle, h) if use_checkpoint else middle(h)
            return loss_fn(last(h), targets)

        plain, recomputed = loss_of(False), loss_of(True)
        exclude = [p.data for p in params]
        plain_bytes = graph_stats(plain, exclude=exclude).saved_bytes
        recomputed_bytes = graph_stats(recomputed, exclude=exclude).saved_bytes
        # The four (32, 256) float32 activations inside the segment are no longer held.
        assert plain_bytes - recomputed_bytes >= 3 * 32 * width * 4
        assert recomputed.item() == plain.item()

        plain.backward()
        expected = [p.grad.data.copy() for p in params]
        for p in params:
            p.grad = None
        recomputed.backward()
        for p, g in zip(params, expected):
            np.testing.assert_allclose(p.grad.data, g, rtol=1e-5, atol=1e-7)


def test_mse_trainer_on_regression_with_single_output():
    """The Trainer is not tied to classification: any loss_fn(outputs, y) works."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 2)).astype(np.float32)
    y = (x @ np.array([[1.0], [-1.0]]) + 0.5).astype(np.float32)
    manual_seed(0)
    model = Linear(2, 1)
    trainer = training.Trainer(model, SGD(model.parameters(), lr=0.1), MSELoss(), progress=False)
    history = trainer.fit(x, y, epochs=30, batch_size=10)
    assert history.last("loss") < 1e-3
    assert trainer.predict(x).shape == (40, 1)
