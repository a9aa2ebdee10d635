"""Module 16 · Compression — the specification, as tests.

Pruning masks are checked on small layers where every entry can be reasoned about (exact
sparsity, which weights go, whole neurons and filters, masks that survive training);
distillation's loss against its formula and central differences; the module's bars on
the M3 MLP (64 → 256 → 10 on TinyDigits), trained here in a few seconds with fixed seeds.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from tinytorch.core import Tensor, gradcheck, manual_seed, no_grad
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
from tinytorch.optim import SGD, AdamW
from tinytorch.perf.compression import (
    MaskedOptimizer,
    Pruner,
    distill,
    distillation_loss,
    fine_tune,
    magnitude_masks,
    prunable_layers,
    prune_magnitude,
    prune_structured,
    sparse_size_bytes,
    sparsity,
    structured_masks,
    teacher_logits,
)
from tinytorch.testing import case_ids, check_op, op_cases
from tinytorch.training import Trainer, accuracy
from tinytorch.vision.spatial import Conv2d, Flatten

# ============================================================================= models


def accuracy_on(model: Sequential, x: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with no_grad():
        return accuracy(model(Tensor(x)).data, y)


@pytest.fixture(scope="module")
def teacher(m3: Sequential) -> Sequential:
    """The M3 MLP (64 -> 256 -> 10, dropout 0.3), 19,210 parameters, trained briefly."""
    return m3


def mlp() -> Sequential:
    return Sequential(Linear(6, 8), ReLU(), Linear(8, 4))


# ============================================================================= measuring


def test_sparsity_is_the_fraction_of_exact_zeros() -> None:
    assert sparsity(np.array([0.0, 1.0, 0.0, -2.0])) == 0.5
    assert sparsity(Tensor(np.zeros((3, 3)))) == 1.0
    assert sparsity(np.array([1e-30, -1e-30])) == 0.0  # small is not zero


def test_model_sparsity_counts_linear_and_conv_weights_not_biases() -> None:
    model = Sequential(Conv2d(1, 2, 3), Flatten(), Linear(8, 4))
    model[0].weight.data[0] = 0.0  # one filter: 9 of 18 conv weights
    model[2].weight.data[:, :2] = 0.0  # two output neurons: 16 of 32 linear weights
    model[2].bias.data[:] = 0.0  # biases do not count
    assert [name for name, _ in prunable_layers(model)] == ["0", "2"]
    assert sparsity(model) == (9 + 16) / (18 + 32)
    with pytest.raises(ValueError, match="no Linear or Conv2d"):
        sparsity(Sequential(ReLU()))


def test_sparse_storage_pays_an_index_per_kept_weight() -> None:
    layer = Linear(10, 4)  # weight (10, 4): CSR rows are the 4 output neurons
    layer.weight.data[:] = 0.0
    layer.weight.data[:3, :] = 1.0  # 12 non-zeros
    bias = 4 * 4
    assert sparse_size_bytes(layer) == 12 * (4 + 4) + (4 + 1) * 4 + bias
    # Dense storage wins when little is zero: CSR of a full matrix is twice as big.
    full = Linear(10, 4)
    assert sparse_size_bytes(full) > 2 * full.weight.data.nbytes


# ============================================================================= unstructured


@pytest.mark.parametrize("amount", [0.0, 0.25, 0.5, 0.9])
def test_global_masks_drop_exactly_the_smallest_weights(amount) -> None:
    model = mlp()
    masks = magnitude_masks(model, amount)
    assert set(masks) == {"0.weight", "2.weight"}
    kept = np.concatenate([np.abs(model[i].weight.data[masks[f"{i}.weight"]]) for i in (0, 2)])
    dropped = np.concatenate([np.abs(model[i].weight.data[~masks[f"{i}.weight"]]) for i in (0, 2)])
    assert dropped.size == round(amount * (48 + 32))
    if dropped.size:
        assert dropped.max() <= kept.min()  # one threshold for the whole model


def test_layer_scope_prunes_every_layer_by_the_same_fraction() -> None:
    model = mlp()
    model[2].weight.data += np.sign(model[2].weight.data)  # |w| > 1 > every |w| of layer 0
    global_masks = magnitude_masks(model, 0.5, scope="global")
    layer_masks = magnitude_masks(model, 0.5, scope="layer")
    assert global_masks["2.weight"].all()
    assert [(~m).sum() for m in layer_masks.values()] == [24, 16]


def test_prune_magnitude_zeroes_weights_in_place() -> None:
    model = mlp()
    weight = model[0].weight
    pruner = prune_magnitude(model, 0.75)
    assert model[0].weight is weight  # same Parameter, now sparse
    assert sparsity(model) == pruner.sparsity() == 0.75
    assert np.all(weight.data[~pruner.masks["0.weight"]] == 0.0)


def test_only_the_named_layers_are_pruned() -> None:
    model = mlp()
    masks = magnitude_masks(model, 0.5, layers=["2"])
    assert list(masks) == ["2.weight"]
    with pytest.raises(ValueError, match=r"no Linear/Conv2d named \['9'\].*prunable: \['0', '2'\]"):
        magnitude_masks(model, 0.5, layers=["9"])


@pytest.mark.ungraded
def test_bad_pruning_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match=r"amount .* \[0, 1\)"):
        magnitude_masks(mlp(), 1.0)
    with pytest.raises(ValueError, match="scope"):
        magnitude_masks(mlp(), 0.5, scope="row")
    with pytest.raises(ValueError, match="amount"):
        structured_masks(mlp(), -0.1)


# ============================================================================= structured


def test_structured_pruning_removes_whole_output_neurons(rng) -> None:
    model = mlp()
    norms = np.linalg.norm(model[0].weight.data, axis=0)  # one per output neuron (column)
    pruner = prune_structured(model, 0.5, layers=["0"])
    keep = pruner.masks["0.weight"]
    removed = np.flatnonzero(~keep.all(axis=0))
    assert np.all(keep.all(axis=0) | ~keep.any(axis=0))  # each column all kept or all gone
    assert removed.size == 4
    assert set(removed) == set(np.argsort(norms)[:4])  # the weakest neurons
    assert np.all(model[0].bias.data[removed] == 0.0)  # with their biases
    x = Tensor(rng.standard_normal((5, 6)))
    assert np.all(model[0](x).data[:, removed] == 0.0)  # those neurons are silent
    assert "2.weight" not in pruner.masks


def test_structured_pruning_removes_whole_conv_filters() -> None:
    conv = Conv2d(2, 6, 3)
    conv.weight.data[4] *= 0.01
    conv.weight.data[1] *= 0.02
    pruner = prune_structured(conv, 1 / 3)
    filter_zero = np.all(conv.weight.data.reshape(6, -1) == 0.0, axis=1)
    np.testing.assert_array_equal(np.flatnonzero(filter_zero), [1, 4])
    np.testing.assert_array_equal(pruner.masks["bias"], [True, False, True, True, False, True])


# ============================================================================= masks that stay


@pytest.mark.ungraded
def test_pruner_checks_its_masks() -> None:
    model = mlp()
    with pytest.raises(KeyError, match="unknown parameters"):
        Pruner(model, {"5.weight": np.ones((6, 8), dtype=bool)})
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(8, 6\), parameter has \(6, 8\)"):
        Pruner(model, {"0.weight": np.ones((8, 6), dtype=bool)})


def train_steps(model: Sequential, optimizer, rng, steps: int = 5) -> None:
    x = rng.standard_normal((32, 6)).astype(np.float32)
    y = rng.integers(0, 4, size=32)
    trainer = Trainer(model, optimizer, CrossEntropyLoss(), progress=False)
    for _ in range(steps):
        trainer.train_step(x, y)


def test_masks_survive_fine_tuning_steps_even_with_momentum(rng) -> None:
    model = mlp()
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    train_steps(model, optimizer, rng)  # momentum buffers full of pre-pruning gradients
    pruner = prune_magnitude(model, 0.8)
    train_steps(model, pruner.wrap(optimizer), rng)
    assert sparsity(model) == 0.8
    for name, mask in pruner.masks.items():
        assert np.all(pruner.params[name].data[~mask] == 0.0)
    # Without the wrapper the same steps let pruned weights grow back.
    train_steps(model, optimizer, rng, steps=1)
    assert sparsity(model) < 0.8


def test_masked_optimizer_is_the_wrapped_optimizer_for_everything_else() -> None:
    model = mlp()
    optimizer = AdamW(model.parameters(), lr=0.01)
    wrapped = prune_magnitude(model, 0.5).wrap(optimizer)
    assert isinstance(wrapped, MaskedOptimizer)
    assert wrapped.lr == 0.01 and wrapped.params == optimizer.params
    assert wrapped.param_groups is optimizer.param_groups  # schedulers reach the real one


# ============================================================================= the pruning bars


def test_ninety_percent_sparse_m3_within_two_points_after_fine_tuning(teacher, digits) -> None:
    dense_accuracy = accuracy_on(teacher, digits["x_test"], digits["y_test"])
    model = copy.deepcopy(teacher)
    pruner = prune_magnitude(model, 0.9)
    pruned_accuracy = accuracy_on(model, digits["x_test"], digits["y_test"])
    history = fine_tune(pruner, digits["x_train"], digits["y_train"], CrossEntropyLoss())
    tuned_accuracy = accuracy_on(model, digits["x_test"], digits["y_test"])
    assert len(history["loss"]) == 8
    assert sparsity(model) == pytest.approx(0.9, abs=1e-4)
    assert pruned_accuracy < tuned_accuracy  # fine-tuning is what wins the accuracy back
    assert tuned_accuracy >= dense_accuracy - 0.02
    # Stored sparse, the 90%-sparse weights take about 5x less than dense.
    assert sparse_size_bytes(model) < model.parameter_bytes() / 4


def test_half_the_hidden_neurons_removed_within_two_points(teacher, digits) -> None:
    dense_accuracy = accuracy_on(teacher, digits["x_test"], digits["y_test"])
    model = copy.deepcopy(teacher)
    pruner = prune_structured(model, 0.5, layers=["0"])
    fine_tune(pruner, digits["x_train"], digits["y_train"], CrossEntropyLoss(), epochs=3)
    assert np.sum(~pruner.masks["0.weight"].any(axis=0)) == 128
    assert accuracy_on(model, digits["x_test"], digits["y_test"]) >= dense_accuracy - 0.02


# ============================================================================= distillation


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


@pytest.mark.parametrize(("temperature", "alpha"), [(1.0, 0.5), (4.0, 0.7), (2.0, 1.0), (3.0, 0.0)])
def test_distillation_loss_is_kl_times_t_squared_plus_cross_entropy(rng, temperature, alpha):
    student, teacher = rng.standard_normal((2, 8, 5)) * 3
    targets = rng.integers(0, 5, size=8)
    p_t = np.exp(log_softmax(teacher / temperature))
    kl = np.sum(p_t * (np.log(p_t) - log_softmax(student / temperature))) / 8  # batch mean
    ce = -log_softmax(student)[np.arange(8), targets].mean()
    expected = alpha * temperature**2 * kl + (1 - alpha) * ce
    loss = distillation_loss(Tensor(student), Tensor(teacher), targets, temperature, alpha)
    assert loss.shape == () and loss.item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(("temperature", "alpha"), [(3.0, 0.5), (1.0, 1.0), (0.5, 0.2)])
def test_distillation_loss_gradient_matches_central_differences(rng, temperature, alpha) -> None:
    student = Tensor(rng.standard_normal((4, 6)), requires_grad=True, dtype=np.float64)
    teacher = Tensor(rng.standard_normal((4, 6)), dtype=np.float64)
    targets = rng.integers(0, 6, size=4)
    assert gradcheck(
        lambda s: distillation_loss(s, teacher, targets, temperature, alpha), [student]
    )


def test_identical_logits_cost_nothing_and_the_teacher_gets_no_gradient(rng) -> None:
    logits = rng.standard_normal((3, 4))
    student = Tensor(logits, requires_grad=True)
    teacher = Tensor(logits, requires_grad=True)
    loss = distillation_loss(student, teacher, temperature=2.0, alpha=1.0)
    loss.backward()
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(student.grad.data, 0.0, atol=1e-6)
    assert teacher.grad is None  # the teacher is a constant


def test_t_squared_keeps_the_soft_gradient_independent_of_temperature(rng) -> None:
    student, teacher = rng.standard_normal((2, 4, 10))
    grads = []
    for temperature in (50.0, 100.0):
        s = Tensor(student, requires_grad=True, dtype=np.float64)
        distillation_loss(s, teacher, temperature=temperature, alpha=1.0).backward()
        grads.append(s.grad.data)
    # Softening shrinks the gradient by 1/T^2; the T^2 factor gives it back.
    np.testing.assert_allclose(grads[0], grads[1], rtol=0.02, atol=1e-4)


def test_distillation_loss_stays_finite_at_huge_logits() -> None:
    student = Tensor([[1e4, -1e4, 0.0]], requires_grad=True)
    loss = distillation_loss(student, Tensor([[-1e4, 1e4, 0.0]]), np.array([1]), 4.0, 0.5)
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(student.grad.data))


@pytest.mark.ungraded
def test_distillation_loss_names_bad_input() -> None:
    s, t = Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"student logits \(2, 3\) and teacher logits \(2, 4\)"):
        distillation_loss(s, Tensor(np.zeros((2, 4))), np.array([0, 1]))
    with pytest.raises(ValueError, match="targets are needed"):
        distillation_loss(s, t, alpha=0.5)
    with pytest.raises(ValueError, match="temperature"):
        distillation_loss(s, t, np.array([0, 1]), temperature=0.0)
    with pytest.raises(ValueError, match="alpha"):
        distillation_loss(s, t, np.array([0, 1]), alpha=1.5)
    with pytest.raises(TypeError, match="distillation_loss: targets must be integer"):
        distillation_loss(s, t, np.array([0.0, 1.0]))


def test_a_student_an_eighth_the_size_gets_within_two_points(teacher, digits) -> None:
    manual_seed(0)
    student = Sequential(Linear(64, 32), ReLU(), Linear(32, 10))
    assert student.num_parameters() <= teacher.num_parameters() / 2  # 2,410 vs 19,210
    before = teacher.state_dict()
    history = distill(
        teacher,
        student,
        digits["x_train"],
        digits["y_train"],
        temperature=2.0,
        alpha=0.5,
        epochs=30,
    )
    assert history["loss"][-1] < history["loss"][0]
    teacher_accuracy = accuracy_on(teacher, digits["x_test"], digits["y_test"])
    student_accuracy = accuracy_on(student, digits["x_test"], digits["y_test"])
    assert student_accuracy >= teacher_accuracy - 0.02
    for name, value in teacher.state_dict().items():  # the teacher only taught
        np.testing.assert_array_equal(value, before[name])


@pytest.mark.ungraded
def test_teacher_logits_are_the_teachers_eval_outputs(teacher, digits) -> None:
    x = digits["x_test"]
    np.testing.assert_allclose(
        teacher_logits(teacher, x, batch_size=100), teacher(Tensor(x)).data, rtol=1e-5, atol=1e-5
    )


# ----------------------------------------------------------------------------- the op table

MODULE_16 = op_cases([16])


@pytest.mark.parametrize("case", MODULE_16, ids=case_ids(MODULE_16))
def test_every_op_of_this_module_keeps_its_row_of_the_op_table(case, rng) -> None:
    """From ``tinytorch.testing``: the NumPy forward, the gradient rule the op's own code
    names (and records), and that rule's gradient against finite differences."""
    check_op(case, rng)
