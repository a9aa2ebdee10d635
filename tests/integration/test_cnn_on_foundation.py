"""The architecture tier's CNN pieces working through the foundation tier's machinery.

Runs in the environment of ``nox -s integration``: both tiers installed from their
wheels, so ``tinytorch.nn`` finds Conv2d through the entry points of arch's metadata.
"""

from __future__ import annotations

import json
from importlib import metadata

import numpy as np
import pytest

pytest.importorskip(
    "tinytorch.vision", reason="tinytorch-arch is not installed here: run `nox -s integration`"
)

import tinytorch.nn as nn
from tinytorch.core import Tensor, gradcheck, manual_seed
from tinytorch.data import DataLoader, TensorDataset, TinyDigitsDataset
from tinytorch.optim import Adam, CosineAnnealingLR
from tinytorch.training import (
    CheckpointError,
    Trainer,
    accuracy,
    load_checkpoint,
    save_checkpoint,
)
from tinytorch.vision import Flatten


def small_cnn(classes: int = 10) -> nn.Sequential:
    from tinytorch.nn import Conv2d, MaxPool2d

    return nn.Sequential(
        Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        MaxPool2d(2),
        Flatten(),
        nn.Linear(4 * 4 * 4, classes),
    )


def test_the_tiers_under_test_come_from_wheels_not_editable_checkouts():
    for name in ("tinytorch-foundation", "tinytorch-arch"):
        direct_url = metadata.distribution(name).read_text("direct_url.json")
        editable = direct_url and json.loads(direct_url).get("dir_info", {}).get("editable")
        assert not editable, f"{name} is an editable install; run `nox -s integration`"


def test_tinytorch_nn_resolves_the_arch_layers_through_entry_points():
    import tinytorch.vision as vision
    from tinytorch.nn import AvgPool2d, Conv2d, MaxPool2d

    assert (Conv2d, MaxPool2d, AvgPool2d) == (vision.Conv2d, vision.MaxPool2d, vision.AvgPool2d)
    assert nn.Flatten is vision.Flatten
    assert {"Conv2d", "MaxPool2d", "AvgPool2d", "Flatten"} <= set(dir(nn))


def test_conv2d_gradients_flow_through_foundation_autograd():
    """A CNN made of both tiers' layers and foundation's loss passes gradcheck."""
    rng = np.random.default_rng(0)
    manual_seed(0)
    model = small_cnn(classes=3)
    for p in model.parameters():
        p.data = rng.standard_normal(p.shape)
    x = Tensor(rng.standard_normal((2, 1, 8, 8)), dtype=np.float64)
    targets = np.array([2, 0])
    loss = nn.CrossEntropyLoss()
    assert gradcheck(lambda *params: loss(model(x), targets), model.parameters())


def test_adam_trains_a_cnn_on_tinydigits():
    manual_seed(0)
    model = small_cnn()
    optimizer = Adam(model.parameters(), lr=1e-2)
    trainer = Trainer(
        model,
        optimizer,
        nn.CrossEntropyLoss(),
        scheduler=CosineAnnealingLR(optimizer, T_max=3),
        metrics={"accuracy": accuracy},
        progress=False,
    )
    train = TinyDigitsDataset("train")
    loader = DataLoader(train, batch_size=64, shuffle=True, seed=0, num_workers=2)
    epoch_losses = []
    for _ in range(3):
        model.train()
        epoch_losses.append(np.mean([trainer.train_step(x, y) for x, y in loader]))
        trainer.scheduler.step()
    assert epoch_losses[-1] < 0.5 * epoch_losses[0]
    x_test, y_test = TinyDigitsDataset("test").arrays
    assert trainer.evaluate(x_test, y_test)["accuracy"] > 0.8


def test_a_cnn_checkpoint_round_trips_with_its_optimizer(tmp_path):
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((16, 1, 8, 8)).astype(np.float32))
    y = rng.integers(0, 10, size=16)
    loss_fn = nn.CrossEntropyLoss()

    def step(model, optimizer) -> None:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    manual_seed(0)
    model = small_cnn()
    optimizer = Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        step(model, optimizer)
    path = save_checkpoint(tmp_path / "cnn.npz", model, optimizer, epoch=3)

    manual_seed(99)  # a different initialisation, overwritten by the checkpoint
    restored = small_cnn()
    restored_optimizer = Adam(restored.parameters(), lr=1e-2)
    assert load_checkpoint(path, restored, restored_optimizer)["epoch"] == 3
    for (name, a), (_, b) in zip(model.state_dict().items(), restored.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    # Adam's moments came back too: one more step on each stays identical.
    step(model, optimizer)
    step(restored, restored_optimizer)
    np.testing.assert_array_equal(model(x).data, restored(x).data)
    assert "0.weight" in model.state_dict() and model.state_dict()["0.weight"].shape == (4, 1, 3, 3)


def test_a_checkpoint_refuses_a_cnn_of_another_shape(tmp_path):
    from tinytorch.nn import Conv2d

    manual_seed(0)
    path = save_checkpoint(tmp_path / "cnn.npz", small_cnn())
    wider = nn.Sequential(
        Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), Flatten(), nn.Linear(128, 10)
    )
    with pytest.raises((CheckpointError, ValueError), match=r"0\.weight"):
        load_checkpoint(path, wider)


def test_prefetching_loader_gives_the_trainer_the_same_batches():
    data = TensorDataset(np.arange(40, dtype=np.float32).reshape(20, 2), np.arange(20) % 3)
    plain = [y.data.tolist() for _, y in DataLoader(data, 4, shuffle=True, seed=5)]
    threaded = [
        y.data.tolist() for _, y in DataLoader(data, 4, shuffle=True, seed=5, num_workers=2)
    ]
    assert plain == threaded
