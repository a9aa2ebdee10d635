"""Module 06 · Optimizers — PyTorch's update rules, state memory and checkpoints.

Every update rule is compared with a reference written here in float64 NumPy from
PyTorch's documentation (torch.optim.SGD / Adam / AdamW, dampening 0, no amsgrad).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
import pytest

from tinytorch.core import Tensor, manual_seed
from tinytorch.nn import Linear, MSELoss
from tinytorch.optim import SGD, Adam, AdamW, Optimizer

SHAPES = [(3, 2), (2,)]
STEPS = 3


def initial_values() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [rng.standard_normal(shape).astype(np.float32) for shape in SHAPES]


def fixed_gradients() -> list[list[np.ndarray]]:
    """gradients[step][param]: a different gradient at every step."""
    rng = np.random.default_rng(11)
    return [
        [rng.standard_normal(shape).astype(np.float32) for shape in SHAPES] for _ in range(STEPS)
    ]


def fresh_params() -> list[Tensor]:
    return [Tensor(v.copy(), requires_grad=True) for v in initial_values()]


def run(optimizer: Optimizer, params: list[Tensor], gradients) -> None:
    for step_grads in gradients:
        for p, g in zip(params, step_grads):
            p.grad = Tensor(g.copy())
        optimizer.step()


# ----------------------------------------------------------------------------- references


def sgd_reference(p, grads, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
    """torch.optim.SGD: g += wd*p; buf = g (first) | mu*buf + g; g = g + mu*buf | buf."""
    buf = None
    for g in grads:
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def adam_reference(p, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    """torch.optim.Adam (coupled L2) / AdamW (decoupled: p *= 1 - lr*wd first)."""
    b1, b2 = betas
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1.0 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


CASES: dict[str, tuple[Callable, Callable]] = {
    "sgd": (lambda ps: SGD(ps, lr=0.1), lambda p, gs: sgd_reference(p, gs, lr=0.1)),
    "sgd-momentum": (
        lambda ps: SGD(ps, lr=0.1, momentum=0.9),
        lambda p, gs: sgd_reference(p, gs, lr=0.1, momentum=0.9),
    ),
    "sgd-nesterov": (
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda p, gs: sgd_reference(p, gs, lr=0.1, momentum=0.9, nesterov=True),
    ),
    "sgd-weight-decay": (
        lambda ps: SGD(ps, lr=0.1, momentum=0.5, weight_decay=0.01),
        lambda p, gs: sgd_reference(p, gs, lr=0.1, momentum=0.5, weight_decay=0.01),
    ),
    "adam": (lambda ps: Adam(ps, lr=0.01), lambda p, gs: adam_reference(p, gs, lr=0.01)),
    "adam-betas-eps": (
        lambda ps: Adam(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-3),
        lambda p, gs: adam_reference(p, gs, lr=0.05, betas=(0.8, 0.99), eps=1e-3),
    ),
    "adam-weight-decay": (
        lambda ps: Adam(ps, lr=0.01, weight_decay=0.1),
        lambda p, gs: adam_reference(p, gs, lr=0.01, weight_decay=0.1),
    ),
    "adamw": (
        lambda ps: AdamW(ps, lr=0.01, weight_decay=0.1),
        lambda p, gs: adam_reference(p, gs, lr=0.01, weight_decay=0.1, decoupled=True),
    ),
}


class TestUpdateRules:
    @pytest.mark.parametrize("case", list(CASES))
    def test_three_steps_match_the_documented_update_rule(self, case):
        make, reference = CASES[case]
        params = fresh_params()
        gradients = fixed_gradients()
        run(make(params), params, gradients)
        for i, (p, start) in enumerate(zip(params, initial_values())):
            expected = reference(
                start.astype(np.float64), [g[i].astype(np.float64) for g in gradients]
            )
            np.testing.assert_allclose(p.data, expected, rtol=1e-5, atol=1e-6)
            assert p.dtype == np.float32

    @pytest.mark.parametrize("case", list(CASES))
    def test_steps_update_parameters_in_place(self, case):
        """No new parameter arrays: anything holding p.data sees the update."""
        params = fresh_params()
        arrays = [p.data for p in params]
        run(CASES[case][0](params), params, fixed_gradients())
        assert all(p.data is a for p, a in zip(params, arrays))

    def test_adamw_differs_from_adam_with_the_same_weight_decay(self):
        adam_params, adamw_params = fresh_params(), fresh_params()
        run(Adam(adam_params, lr=0.01, weight_decay=0.1), adam_params, fixed_gradients())
        run(AdamW(adamw_params, lr=0.01, weight_decay=0.1), adamw_params, fixed_gradients())
        assert not np.allclose(adam_params[0].data, adamw_params[0].data, rtol=0, atol=1e-7)

    def test_defaults_follow_pytorch(self):
        adam = Adam(fresh_params())
        assert adam.param_groups[0]["lr"] == 1e-3
        assert adam.param_groups[0]["betas"] == (0.9, 0.999)
        assert adam.param_groups[0]["eps"] == 1e-8
        assert adam.param_groups[0]["weight_decay"] == 0.0
        assert AdamW(fresh_params()).param_groups[0]["weight_decay"] == 0.01
        sgd = SGD(fresh_params(), lr=0.1)
        assert sgd.param_groups[0]["momentum"] == 0.0
        assert sgd.param_groups[0]["nesterov"] is False


@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch_optim_when_torch_is_installed(case):
    torch = pytest.importorskip("torch")
    make, _ = CASES[case]
    mapping = {
        "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
        "sgd-momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
        "sgd-nesterov": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        "sgd-weight-decay": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.5, weight_decay=0.01),
        "adam": lambda ps: torch.optim.Adam(ps, lr=0.01),
        "adam-betas-eps": lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-3),
        "adam-weight-decay": lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1),
        "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
    }
    ours = fresh_params()
    theirs = [torch.tensor(v.copy(), requires_grad=True) for v in initial_values()]
    gradients = fixed_gradients()
    run(make(ours), ours, gradients)
    optimizer = mapping[case](theirs)
    for step_grads in gradients:
        for p, g in zip(theirs, step_grads):
            p.grad = torch.tensor(g.copy())
        optimizer.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- behaviour


class TestStepAndGradients:
    @pytest.mark.parametrize("case", ["sgd", "sgd-momentum", "adam", "adamw"])
    def test_parameters_without_grad_are_skipped(self, case):
        params = fresh_params()
        optimizer = CASES[case][0](params)
        params[0].grad = Tensor(np.ones(SHAPES[0], dtype=np.float32))
        optimizer.step()
        np.testing.assert_array_equal(params[1].data, initial_values()[1])
        assert not np.array_equal(params[0].data, initial_values()[0])
        assert id(params[1]) not in optimizer.state

    def test_step_with_no_gradients_changes_nothing(self):
        params = fresh_params()
        AdamW(params, lr=0.1, weight_decay=0.5).step()
        for p, v in zip(params, initial_values()):
            np.testing.assert_array_equal(p.data, v)

    def test_zero_grad_sets_gradients_to_none(self):
        params = fresh_params()
        optimizer = SGD(params, lr=0.1)
        for p in params:
            p.grad = Tensor(np.ones(p.shape, dtype=np.float32))
        optimizer.zero_grad()
        assert all(p.grad is None for p in params)

    def test_learning_rate_change_through_param_groups_takes_effect(self):
        params = fresh_params()
        optimizer = SGD(params, lr=0.1)
        optimizer.param_groups[0]["lr"] = 0.5
        assert optimizer.lr == 0.5
        params[0].grad = Tensor(np.ones(SHAPES[0], dtype=np.float32))
        optimizer.step()
        np.testing.assert_allclose(params[0].data, initial_values()[0] - 0.5)

    def test_zero_learning_rate_freezes_adam(self):
        params = fresh_params()
        optimizer = Adam(params, lr=0.1)
        optimizer.param_groups[0]["lr"] = 0.0
        run(optimizer, params, fixed_gradients())
        for p, v in zip(params, initial_values()):
            np.testing.assert_array_equal(p.data, v)

    def test_step_count_counts_steps(self):
        params = fresh_params()
        optimizer = Adam(params)
        run(optimizer, params, fixed_gradients())
        assert optimizer.step_count == STEPS

    def test_gradients_are_not_modified_by_a_step(self):
        params = fresh_params()
        optimizer = SGD(params, lr=0.1, momentum=0.9, weight_decay=0.1)
        grads = fixed_gradients()[0]
        for p, g in zip(params, grads):
            p.grad = Tensor(g.copy())
        optimizer.step()
        optimizer.step()
        for p, g in zip(params, grads):
            np.testing.assert_array_equal(p.grad.data, g)


class TestValidation:
    @pytest.mark.parametrize(
        ("make", "name", "what"),
        [
            (lambda ps: SGD(ps, lr=-0.1), "SGD", "learning rate"),
            (lambda ps: SGD(ps, lr=0.1, weight_decay=-1.0), "SGD", "weight_decay"),
            (lambda ps: SGD(ps, lr=0.1, momentum=-0.5), "SGD", "momentum"),
            (lambda ps: SGD(ps, lr=0.1, nesterov=True), "SGD", "nesterov"),
            (lambda ps: Adam(ps, lr=-1e-3), "Adam", "learning rate"),
            (lambda ps: Adam(ps, weight_decay=-0.1), "Adam", "weight_decay"),
            (lambda ps: Adam(ps, betas=(1.0, 0.999)), "Adam", "betas"),
            (lambda ps: Adam(ps, betas=(0.9, -0.1)), "Adam", "betas"),
            (lambda ps: Adam(ps, eps=-1e-8), "Adam", "eps"),
            (lambda ps: AdamW(ps, lr=-1e-3), "AdamW", "learning rate"),
            (lambda ps: AdamW(ps, betas=(0.9, 1.5)), "AdamW", "betas"),
            (lambda ps: AdamW(ps, weight_decay=-0.01), "AdamW", "weight_decay"),
        ],
    )
    def test_bad_hyper_parameters_raise_naming_the_optimizer(self, make, name, what):
        with pytest.raises(ValueError, match=rf"^{name}: .*{what}"):
            make(fresh_params())

    @pytest.mark.parametrize(
        ("make", "error", "message"),
        [
            (lambda ps: Adam(ps, lr=math.nan), ValueError, r"Adam: learning rate \(lr\) .*got nan"),
            (lambda ps: SGD(ps, lr=math.inf), ValueError, r"SGD: learning rate \(lr\) .*got inf"),
            (lambda ps: SGD(ps, lr=0.1, momentum=math.inf), ValueError, "SGD: momentum .*got inf"),
            (lambda ps: SGD(ps, lr=0.1, weight_decay=math.nan), ValueError, "SGD: weight_decay"),
            (lambda ps: Adam(ps, eps=math.nan), ValueError, "Adam: eps .*got nan"),
            (lambda ps: Adam(ps, betas=(math.nan, 0.9)), ValueError, r"Adam: betas\[0\] .*nan"),
            (lambda ps: AdamW(ps, weight_decay=-math.inf), ValueError, "AdamW: weight_decay"),
            (lambda ps: SGD(ps, lr="0.1"), TypeError, "SGD: learning rate .*got str '0.1'"),
            (lambda ps: Adam(ps, lr=None), TypeError, "Adam: learning rate .*got NoneType"),
            (lambda ps: Adam(ps, betas=0.9), TypeError, r"Adam: betas must be a pair .*got 0\.9"),
            (
                lambda ps: AdamW(ps, betas=(0.9, 0.99, 0.9)),
                TypeError,
                "AdamW: betas must be a pair",
            ),
            (
                lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov="yes"),
                TypeError,
                "SGD: nesterov .*yes",
            ),
        ],
    )
    def test_non_finite_or_mistyped_hyper_parameters_name_the_optimizer_and_value(
        self, make, error, message
    ):
        """PyTorch lets lr=nan through and every weight is NaN after one step; not here."""
        with pytest.raises(error, match=f"^{message}"):
            make(fresh_params())

    @pytest.mark.parametrize(
        ("make", "name"),
        [
            (lambda ps: SGD(ps, lr=0.1), "SGD"),
            (lambda ps: Adam(ps), "Adam"),
            (lambda ps: AdamW(ps), "AdamW"),
        ],
    )
    @pytest.mark.ungraded
    def test_empty_parameter_list_raises_naming_the_optimizer(self, make, name):
        with pytest.raises(ValueError, match=rf"^{name}: .*empty parameter list"):
            make([])

    def test_a_single_tensor_is_not_taken_for_its_rows(self):
        """Iterating a Tensor yields its rows: SGD(w) would train slices of w, silently."""
        weight = Tensor(np.ones((2, 3)), requires_grad=True)
        with pytest.raises(TypeError, match=r"^SGD: .*got a single Tensor of shape \(2, 3\)"):
            SGD(weight, lr=0.1)

    @pytest.mark.ungraded
    def test_empty_generator_is_caught_too(self):
        """The classic mistake: model.parameters() consumed twice."""
        with pytest.raises(ValueError, match="empty"):
            SGD(iter([]), lr=0.1)

    @pytest.mark.ungraded
    def test_non_tensor_parameters_raise_type_error(self):
        with pytest.raises(TypeError, match=r"Adam: parameters must be Tensors, got ndarray"):
            Adam([np.zeros(3)])


# ----------------------------------------------------------------------------- state memory


class TestStateMemory:
    def stepped(self, optimizer_factory) -> tuple[Optimizer, list[Tensor]]:
        params = fresh_params()
        optimizer = optimizer_factory(params)
        run(optimizer, params, fixed_gradients()[:1])
        return optimizer, params

    def test_plain_sgd_keeps_no_state(self):
        optimizer, params = self.stepped(lambda ps: SGD(ps, lr=0.1))
        memory = optimizer.state_memory()
        assert memory.state_bytes == 0
        assert memory.parameter_bytes == sum(p.data.nbytes for p in params)
        assert memory.ratio == 0.0

    def test_momentum_keeps_one_buffer(self):
        optimizer, params = self.stepped(lambda ps: SGD(ps, lr=0.1, momentum=0.9))
        memory = optimizer.state_memory()
        assert memory.state_bytes == sum(p.data.nbytes for p in params)
        assert memory.ratio == 1.0

    @pytest.mark.parametrize("cls", [Adam, AdamW])
    def test_adam_keeps_two_buffers(self, cls):
        optimizer, params = self.stepped(lambda ps: cls(ps))
        memory = optimizer.state_memory()
        assert memory.state_bytes == 2 * sum(p.data.nbytes for p in params)
        assert memory.ratio == 2.0

    def test_state_is_allocated_on_the_first_step(self):
        optimizer = Adam(fresh_params())
        assert optimizer.state_memory().state_bytes == 0

    def test_string_form_reports_bytes_and_ratio(self):
        optimizer, params = self.stepped(lambda ps: Adam(ps))
        total = sum(p.data.nbytes for p in params)
        text = str(optimizer.state_memory())
        assert text.startswith("Adam:")
        assert f"parameters {total:,} B" in text
        assert f"state {2 * total:,} B" in text
        assert "2.0x" in text


# ----------------------------------------------------------------------------- checkpoints

ROUND_TRIP = {
    "sgd-momentum": lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda ps: Adam(ps, lr=0.05, betas=(0.8, 0.99), weight_decay=0.01),
    "adamw": lambda ps: AdamW(ps, lr=0.05),
}


def more_gradients(steps: int = 2) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(99)
    return [
        [rng.standard_normal(shape).astype(np.float32) for shape in SHAPES] for _ in range(steps)
    ]


def restore(case: str, original: Optimizer, params: list[Tensor], state) -> tuple:
    """A fresh model (copies of the parameters) and a fresh optimizer loaded from state."""
    fresh = [Tensor(p.data.copy(), requires_grad=True) for p in params]
    optimizer = ROUND_TRIP[case](fresh)
    optimizer.param_groups[0]["lr"] = 123.0  # must be overwritten by the load
    optimizer.load_state_dict(state)
    return optimizer, fresh


class TestStateDict:
    @pytest.mark.parametrize("case", list(ROUND_TRIP))
    def test_state_dict_through_a_copy_resumes_exactly(self, case):
        """What a checkpoint does: serialize (here: deep-copy) the state, load it fresh."""
        params = fresh_params()
        optimizer = ROUND_TRIP[case](params)
        run(optimizer, params, fixed_gradients())
        restored, fresh = restore(case, optimizer, params, copy.deepcopy(optimizer.state_dict()))
        assert restored.step_count == optimizer.step_count
        assert restored.lr == optimizer.lr
        run(optimizer, params, more_gradients())
        run(restored, fresh, more_gradients())
        for p, q in zip(params, fresh):
            np.testing.assert_array_equal(p.data, q.data)

    @pytest.mark.parametrize("case", list(ROUND_TRIP))
    def test_restored_optimizer_continues_exactly_as_the_original(self, case):
        params = fresh_params()
        optimizer = ROUND_TRIP[case](params)
        run(optimizer, params, fixed_gradients())
        restored, fresh = restore(case, optimizer, params, optimizer.state_dict())
        for step_grads in more_gradients():
            run(optimizer, params, [step_grads])
            run(restored, fresh, [step_grads])
        for p, q in zip(params, fresh):
            np.testing.assert_array_equal(p.data, q.data)

    def test_state_dict_is_a_snapshot(self):
        params = fresh_params()
        optimizer = Adam(params, lr=0.1)
        run(optimizer, params, fixed_gradients()[:1])
        state = optimizer.state_dict()
        saved = copy.deepcopy(state)
        run(optimizer, params, more_gradients(1))
        np.testing.assert_array_equal(state["state"][0]["exp_avg"], saved["state"][0]["exp_avg"])

    def test_state_is_keyed_by_parameter_position(self):
        params = fresh_params()
        optimizer = Adam(params)
        run(optimizer, params, fixed_gradients()[:1])
        state = optimizer.state_dict()
        assert sorted(state["state"]) == [0, 1]
        assert state["state"][0]["exp_avg"].shape == SHAPES[0]
        assert state["groups"][0]["lr"] == 1e-3 and "params" not in state["groups"][0]

    def test_loading_state_of_the_wrong_shape_raises(self):
        params = fresh_params()
        optimizer = Adam(params)
        run(optimizer, params, fixed_gradients()[:1])
        state = copy.deepcopy(optimizer.state_dict())
        state["state"][0]["exp_avg"] = np.zeros((5, 5), dtype=np.float32)
        with pytest.raises(ValueError, match=r"Adam.load_state_dict: .*exp_avg.*\(5, 5\)"):
            Adam(fresh_params()).load_state_dict(state)

    @pytest.mark.parametrize(
        ("damage", "problem"),
        [
            (lambda s: s.update(step_count="many"), "step_count must be an int, got str 'many'"),
            (lambda s: s.update(step_count=-1), "step_count must be >= 0, got -1"),
            (lambda s: s["groups"][0].update(lr=math.nan), r"group 0: Adam: learning rate"),
            (lambda s: s["groups"][0].update(betas=[0.9]), "group 0: Adam: betas must be a pair"),
            (lambda s: s["groups"][0].pop("eps"), r"group 0 should hold \['betas', 'eps'"),
            (lambda s: s["groups"].append({}), "saved 2 parameter groups, optimizer has 1"),
            (lambda s: s["state"][1].update(step="3"), "step of parameter 1 must be an int"),
            (lambda s: s["state"][1].pop("exp_avg_sq"), "parameter 1 should hold"),
            (
                lambda s: s["state"][1].update(exp_avg=np.array(["a", "b"])),
                "buffer 'exp_avg' of parameter 1 should be a number array",
            ),
            (lambda s: s["state"].update({"0": s["state"][0]}), "state for parameter '0'"),
            (lambda s: s.pop("groups"), "expected a dict of step_count, groups and state"),
        ],
    )
    def test_a_bad_state_is_refused_before_anything_changes(self, damage, problem):
        params = fresh_params()
        source = Adam(params, lr=0.1)
        run(source, params, fixed_gradients()[:1])
        state = copy.deepcopy(source.state_dict())
        damage(state)
        target = Adam(fresh_params(), lr=0.2)
        run(target, target.params, fixed_gradients())
        before = copy.deepcopy(target.state_dict())
        with pytest.raises((TypeError, ValueError), match=rf"^Adam\.load_state_dict: {problem}"):
            target.load_state_dict(state)
        after = target.state_dict()
        assert after["step_count"] == before["step_count"] and after["groups"] == before["groups"]
        for i, buffers in before["state"].items():
            for key, value in buffers.items():
                np.testing.assert_array_equal(after["state"][i][key], value)

    def test_loading_state_for_too_many_parameters_raises(self):
        params = fresh_params()
        optimizer = Adam(params)
        run(optimizer, params, fixed_gradients()[:1])
        state = copy.deepcopy(optimizer.state_dict())
        with pytest.raises(ValueError, match=r"Adam\.load_state_dict: state for parameter 1"):
            Adam(fresh_params()[:1]).load_state_dict(state)


# ----------------------------------------------------------------------------- convergence


def least_squares() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    w = np.array([[1.5], [-2.0], [0.5]], dtype=np.float32)
    return x, x @ w + 0.3


@pytest.mark.parametrize(
    ("make", "steps"),
    [
        (lambda ps: SGD(ps, lr=0.1), 200),
        (lambda ps: SGD(ps, lr=0.05, momentum=0.9), 200),
        (lambda ps: Adam(ps, lr=0.05), 400),
    ],
    ids=["sgd", "sgd-momentum", "adam"],
)
def test_fits_a_least_squares_problem_through_autograd(make, steps):
    manual_seed(0)
    x, y = least_squares()
    model = Linear(3, 1)
    optimizer = make(model.parameters())
    loss_fn = MSELoss()
    first = None
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(Tensor(x)), y)
        loss.backward()
        optimizer.step()
        first = loss.item() if first is None else first
    final = loss_fn(model(Tensor(x)), y).item()
    assert first > 1.0
    assert final < 1e-4
    np.testing.assert_allclose(model.weight.data.ravel(), [1.5, -2.0, 0.5], atol=1e-2)
    np.testing.assert_allclose(model.bias.data, [0.3], atol=1e-2)
