"""Module 01 · Tensor — the idioms a PyTorch user brings, with PyTorch's documented meaning.

Comparisons are element-wise and give bool tensors (``torch.eq``); a one-element tensor
converts to a Python bool, int, float or list index (``Tensor.__bool__``, ``__index__``);
``to``, ``type`` and ``float()``/``long()``/... convert dtypes and accept the CPU as the
only device (``Tensor.to``); ``view``, ``view_as`` and ``flatten`` reshape
(``torch.flatten``); reductions take ``dim``/``keepdim`` as well as ``axis``/``keepdims``;
and the creation functions (``rand``, ``zeros_like``, ``from_numpy``) behave as their
namesakes. Written from PyTorch's documentation, never by importing PyTorch. Like every
Module 01 test, each runs with gradients dormant and active.
"""

from __future__ import annotations

import operator

import numpy as np
import pytest

import tinytorch.core as core
from tinytorch.core import (
    Tensor,
    device,
    flatten,
    float32,
    float64,
    from_numpy,
    int64,
    manual_seed,
    matmul,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    tensor,
    zeros,
    zeros_like,
)

pytestmark = pytest.mark.usefixtures("autograd_mode")

COMPARISONS = {
    "==": (operator.eq, np.equal, "eq"),
    "!=": (operator.ne, np.not_equal, "ne"),
    "<": (operator.lt, np.less, "lt"),
    "<=": (operator.le, np.less_equal, "le"),
    ">": (operator.gt, np.greater, "gt"),
    ">=": (operator.ge, np.greater_equal, "ge"),
}


# ----------------------------------------------------------------------------- comparisons


@pytest.mark.parametrize("symbol", COMPARISONS)
def test_comparisons_are_element_wise_broadcasting_and_boolean(symbol) -> None:
    op, reference, _ = COMPARISONS[symbol]
    a = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
    b = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    out = op(Tensor(a), Tensor(b))
    assert isinstance(out, Tensor) and out.dtype == np.bool_ and out.shape == (3, 4)
    np.testing.assert_array_equal(out.data, reference(a, b))


@pytest.mark.parametrize("symbol", COMPARISONS)
def test_numbers_and_arrays_compare_from_either_side(symbol) -> None:
    op, reference, _ = COMPARISONS[symbol]
    x = np.array([1, 2, 3], dtype=np.int64)
    for left, right in ((Tensor(x, dtype=np.int64), 2), (2, Tensor(x, dtype=np.int64))):
        out = op(left, right)
        assert isinstance(out, Tensor)
        np.testing.assert_array_equal(out.data, reference(np.asarray(left), np.asarray(right)))
    out = op(np.array([3, 2, 1]), Tensor(x, dtype=np.int64))  # NumPy on the left defers
    assert isinstance(out, Tensor)
    np.testing.assert_array_equal(out.data, reference([3, 2, 1], x))


@pytest.mark.parametrize("symbol", COMPARISONS)
def test_method_forms_match_the_operators(symbol) -> None:
    op, _, name = COMPARISONS[symbol]
    a, b = Tensor([1.0, 5.0, 3.0]), Tensor([2.0, 5.0, 1.0])
    np.testing.assert_array_equal(getattr(a, name)(b).data, op(a, b).data)


def test_counting_correct_predictions_the_tutorial_way() -> None:
    scores = Tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    labels = Tensor([1, 0, 0, 0], dtype=np.int64)
    correct = (scores.argmax(1) == labels).type(float32).sum().item()
    assert correct == 3.0 and isinstance(correct, float)
    assert (scores.argmax(1) == labels).sum().item() == 3


def test_a_comparison_never_requires_a_gradient() -> None:
    x = Tensor([1.0, -2.0], requires_grad=True)
    for out in (x > 0, x == x, x.le(0.5)):
        assert out.requires_grad is False and out.grad_fn is None


def test_comparing_with_none_or_a_string_is_not_element_wise() -> None:
    x = Tensor([1.0, 2.0])
    assert (x == None) is False and (x != None) is True  # noqa: E711 (the point of the test)
    assert (x == "text") is False
    with pytest.raises(TypeError):
        x < None  # noqa: B015
    with pytest.raises(TypeError, match=r"Tensor\.eq"):
        x.eq(None)


def test_incompatible_shapes_name_the_comparison_and_both_shapes() -> None:
    with pytest.raises(ValueError) as info:
        Tensor(np.zeros(3)) == Tensor(np.zeros(4))  # noqa: B015
    assert "eq" in str(info.value) and "(3,)" in str(info.value) and "(4,)" in str(info.value)


def test_tensors_hash_by_identity_for_sets_and_dict_keys() -> None:
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])  # equal values, different tensors
    names = {a: "a", b: "b"}
    assert len(names) == 2 and names[a] == "a" and names[b] == "b"
    assert {a, b, a} == {a, b} and len({a, b, a}) == 2
    assert hash(a) == object.__hash__(a)


def test_in_on_a_list_compares_with_eq_as_in_pytorch() -> None:
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])
    assert a in [a]  # found by identity before == is tried
    with pytest.raises(RuntimeError, match="ambiguous"):
        a in [b]  # noqa: B015 (== gives two booleans: ambiguous)
    assert any(t is a for t in [b, a])  # look tensors up by identity


def test_in_on_a_tensor_looks_for_an_equal_element() -> None:
    x = Tensor([[1, 2], [3, 4]], dtype=np.int64)
    assert 3 in x and 7 not in x


def test_all_any_and_equal() -> None:
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 3.0])
    assert bool((a == a).all()) and not bool((a == b).all()) and bool((a == b).any())
    np.testing.assert_array_equal((Tensor([[1, 0], [1, 1]]) > 0).all(dim=1).data, [False, True])
    assert a.equal(Tensor([1.0, 2.0])) is True
    assert a.equal(b) is False and a.equal(Tensor([[1.0, 2.0]])) is False


# ----------------------------------------------------------------------------- Python numbers


def test_bool_of_one_element_is_its_truth_value() -> None:
    assert bool(Tensor([0.0])) is False and bool(Tensor(3.0)) is True
    assert bool(Tensor([[True]], dtype=bool))
    assert Tensor(2.0) > 1 and not Tensor([-1.0]) > 0  # as the condition of an if or while


@pytest.mark.parametrize(
    ("shape", "words"), [((2,), "more than one value"), ((0,), "no values")], ids=str
)
def test_bool_of_several_or_no_elements_is_ambiguous(shape, words) -> None:
    with pytest.raises(RuntimeError, match=f"Boolean value of Tensor with {words} is ambiguous"):
        bool(Tensor(np.zeros(shape)))


def test_float_and_int_of_one_element() -> None:
    assert float(Tensor([[2.5]])) == 2.5 and isinstance(float(Tensor(2)), float)
    assert int(Tensor(2.7)) == 2 and int(Tensor(-2.7)) == -2  # truncation, as int(2.7)
    with pytest.raises(ValueError, match="one-element"):
        float(Tensor([1.0, 2.0]))


def test_an_integer_tensor_indexes_a_list() -> None:
    classes = ["zero", "one", "two"]
    scores = Tensor([[0.1, 0.2, 0.7]])
    assert classes[scores[0].argmax(0)] == "two"
    assert classes[Tensor([1], dtype=np.int64)] == "one"
    assert classes[Tensor(True, dtype=bool)] == "one"  # bool counts as an integer
    assert list(range(Tensor(3, dtype=np.int32))) == [0, 1, 2]
    assert operator.index(Tensor(4, dtype=np.uint8)) == 4


@pytest.mark.parametrize("value", [np.array(1.0), np.array([1, 2])], ids=["float", "two elements"])
def test_only_one_element_integer_tensors_are_indices(value) -> None:
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        ["a", "b", "c"][Tensor(value, dtype=value.dtype)]


def test_a_0d_tensor_formats_as_its_number() -> None:
    assert f"{Tensor(0.123456):.3f}" == "0.123" and f"{Tensor(7, dtype=np.int64):>3d}" == "  7"
    x = Tensor([1.0, 2.0])
    assert f"{x}" == str(x)
    with pytest.raises(TypeError):
        f"{x:.2f}"


def test_numpy_sees_the_data_through_asarray() -> None:
    x = Tensor([1.0, 2.0])
    assert np.asarray(x) is x.data
    copy = np.array(x)
    copy[0] = 5.0
    assert x.data[0] == 1.0
    assert np.asarray(x, dtype=np.float64).dtype == np.float64


# ----------------------------------------------------------------------------- dtypes and devices


def test_dtype_names_are_the_numpy_dtypes_a_tensor_reports() -> None:
    expected = {
        "float16": np.float16, "half": np.float16, "float32": np.float32,
        "float": np.float32, "float64": np.float64, "double": np.float64,
        "int8": np.int8, "uint8": np.uint8, "int16": np.int16, "short": np.int16,
        "int32": np.int32, "int": np.int32, "int64": np.int64, "long": np.int64,
        "bool": np.bool_,
    }  # fmt: skip
    for name, dtype in expected.items():
        assert getattr(core, name) == np.dtype(dtype), name
    assert Tensor([1.0]).dtype == float32 and Tensor([1], dtype=int64).dtype == core.long
    # a star-import must never hide Python's own float, int and bool
    assert not {"float", "int", "bool"} & set(core.__all__)
    assert {"float32", "int64", "long", "double", "device"} <= set(core.__all__)


@pytest.mark.parametrize("where", ["cpu", device("cpu"), device()], ids=["str", "device", "()"])
def test_to_the_cpu_returns_the_same_tensor(where) -> None:
    x = Tensor([1.0, 2.0])
    assert x.to(where) is x and x.to(device=where) is x


def test_the_device_is_the_cpu() -> None:
    x = Tensor([1.0])
    assert x.device == device("cpu") and str(x.device) == "cpu" and x.device.type == "cpu"
    assert repr(x.device) == "device(type='cpu')" and x.device.index is None
    assert len({device("cpu"), x.device}) == 1


@pytest.mark.parametrize("where", ["cuda", "cuda:0", "mps", 0, "gpu"], ids=str)
def test_any_other_device_is_refused_clearly(where) -> None:
    with pytest.raises(ValueError, match="CPU only"):
        device(where)
    with pytest.raises(ValueError, match="CPU only"):
        Tensor([1.0]).to(where)
    with pytest.raises(ValueError, match="CPU only"):
        zeros(2, device=where)


def test_to_a_dtype_returns_a_converted_copy() -> None:
    x = Tensor([1.5, -2.5])
    y = x.to(float64)
    assert y is not x and y.dtype == np.float64 and x.dtype == np.float32
    np.testing.assert_array_equal(y.data, [1.5, -2.5])
    assert x.to(np.float32) is x  # already that dtype: self, as PyTorch documents
    copied = x.to(np.float32, copy=True)
    assert copied is not x and not np.shares_memory(copied.data, x.data)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.to("cpu", np.float64),
        lambda x: x.to(device("cpu"), np.float64),
        lambda x: x.to(device="cpu", dtype=np.float64),
        lambda x: x.to(dtype=np.float64),
        lambda x: x.to(Tensor([0.0], dtype=np.float64)),  # the other tensor's dtype
        lambda x: x.to(float),  # Python's float is float64, as in PyTorch
        lambda x: x.to(np.float64, non_blocking=True),
    ],
    ids=["device, dtype", "device object", "keywords", "dtype=", "other", "float", "non_blocking"],
)
def test_every_spelling_of_to(call) -> None:
    assert call(Tensor([1.0, 2.0])).dtype == np.float64


def test_to_refuses_what_it_cannot_read() -> None:
    with pytest.raises(TypeError, match=r"Tensor\.to"):
        Tensor([1.0]).to(np.float64, memory_format="contiguous")
    with pytest.raises(TypeError, match="dtype"):
        Tensor([1.0]).to(dtype="not a dtype")
    with pytest.raises(TypeError, match=r"Tensor\.to"):
        Tensor([1.0]).to("cpu", np.float64, "extra")


@pytest.mark.parametrize(
    ("method", "dtype", "expected"),
    [
        ("float", np.float32, [1.7, -1.7, 0.0]),
        ("double", np.float64, [1.7, -1.7, 0.0]),
        ("long", np.int64, [1, -1, 0]),  # towards zero, as C casts
        ("int", np.int32, [1, -1, 0]),
        ("bool", np.bool_, [True, True, False]),
    ],
)
def test_shorthand_casts(method, dtype, expected) -> None:
    out = getattr(Tensor([1.7, -1.7, 0.0], dtype=np.float64), method)()
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, expected)


def test_type_converts_to_the_dtype_given() -> None:
    flags = Tensor([1, 0, 1], dtype=np.int64) == 1
    assert flags.type(float32).dtype == np.float32 and flags.type(float32).sum().item() == 2.0
    with pytest.raises(TypeError, match=r"\.dtype"):
        flags.type()
    with pytest.raises(TypeError, match="dtype"):
        flags.type("torch.FloatTensor")


# ----------------------------------------------------------------------------- views and flatten


def test_view_shares_memory_and_accepts_every_shape_spelling() -> None:
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    for out in (x.view(6, 4), x.view((6, 4)), x.view(-1, 4), x.view_as(Tensor(np.zeros((6, 4))))):
        assert out.shape == (6, 4) and np.shares_memory(out.data, x.data)


def test_view_refuses_a_layout_that_would_need_a_copy() -> None:
    x = Tensor(np.arange(6.0).reshape(2, 3)).T  # strided: no flat view exists
    with pytest.raises(ValueError, match=r"view.*reshape"):
        x.view(6)
    np.testing.assert_array_equal(x.reshape(6).data, [0.0, 3.0, 1.0, 4.0, 2.0, 5.0])


@pytest.mark.parametrize(
    ("args", "shape"),
    [
        ((), (120,)),
        ((1,), (2, 60)),
        ((1, 2), (2, 12, 5)),
        ((-3, -2), (2, 12, 5)),
        ((0, 1), (6, 4, 5)),
    ],
    ids=str,
)
def test_flatten_merges_start_dim_to_end_dim(args, shape) -> None:
    x = np.arange(120.0).reshape(2, 3, 4, 5)
    for out in (Tensor(x).flatten(*args), flatten(Tensor(x), *args)):
        assert out.shape == shape
        np.testing.assert_array_equal(out.data, x.reshape(shape))


def test_flatten_edge_cases_follow_pytorch() -> None:
    assert Tensor(5.0).flatten().shape == (1,)  # a 0-d tensor becomes 1-D
    x = Tensor(np.zeros((2, 3)))
    assert x.flatten(1) is x and x.flatten(0, 0) is x  # nothing merged: the same tensor
    assert Tensor(np.zeros((0, 3, 4))).flatten(1).shape == (0, 12)
    with pytest.raises(ValueError, match="start_dim=1 comes after end_dim=0"):
        x.flatten(1, 0)
    with pytest.raises(ValueError, match="start_dim=2 is out of range"):
        x.flatten(2)


def test_t_transposes_at_most_two_dimensions() -> None:
    m = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(Tensor(m).t().data, m.T)
    v = Tensor([1.0, 2.0])
    assert v.t() is v  # 0-D and 1-D tensors come back as they are
    with pytest.raises(ValueError, match=r"Tensor\.t:"):
        Tensor(np.zeros((2, 2, 2))).t()


# ----------------------------------------------------------------------------- dim and keepdim


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
def test_reductions_take_dim_and_keepdim(name, rng) -> None:
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    reference = getattr(np, name)
    t = Tensor(x)
    cases = [
        (getattr(t, name)(dim=1, keepdim=True), reference(x, axis=1, keepdims=True)),
        (getattr(t, name)(1, True), reference(x, axis=1, keepdims=True)),
        (getattr(t, name)(dim=[0, 2]), reference(x, axis=(0, 2))),
        (getattr(t, name)(axis=-1, keepdims=True), reference(x, axis=-1, keepdims=True)),
    ]
    for out, expected in cases:
        np.testing.assert_allclose(out.data, expected, rtol=1e-6)


def test_naming_one_setting_twice_is_an_error() -> None:
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match="dim or axis"):
        x.sum(dim=0, axis=0)
    with pytest.raises(TypeError, match="keepdim or keepdims"):
        x.mean(0, keepdim=True, keepdims=True)


def test_argmax_takes_dim_and_keepdim(rng) -> None:
    x = rng.standard_normal((3, 5)).astype(np.float32)
    assert Tensor(x).argmax(1).shape == (3,) and Tensor(x).argmax(dim=1, keepdim=True).shape == (
        3,
        1,
    )
    np.testing.assert_array_equal(Tensor(x).argmax(dim=0).data, np.argmax(x, axis=0))
    assert Tensor(x).argmax().shape == () and Tensor(x).argmax().dtype == np.int64


# ----------------------------------------------------------------------------- creation


def test_rand_draws_float32_uniform_samples_reproducibly() -> None:
    manual_seed(3)
    a = rand(2, 3)
    manual_seed(3)
    b = rand((2, 3))
    assert a.shape == (2, 3) and a.dtype == np.float32
    assert np.all((a.data >= 0) & (a.data < 1))
    np.testing.assert_array_equal(a.data, b.data)


def test_like_functions_copy_shape_and_dtype() -> None:
    x = Tensor(np.zeros((2, 3)), dtype=np.float64)
    for make, fill in ((zeros_like, 0.0), (ones_like, 1.0)):
        out = make(x)
        assert out.shape == (2, 3) and out.dtype == np.float64
        np.testing.assert_array_equal(out.data, np.full((2, 3), fill))
    assert rand_like(x).dtype == np.float64 and rand_like(x, dtype=float32).dtype == np.float32
    assert zeros_like(x, requires_grad=True).requires_grad


def test_from_numpy_shares_memory_and_keeps_the_dtype() -> None:
    array = np.arange(3.0)  # float64
    x = from_numpy(array)
    assert x.dtype == np.float64 and np.shares_memory(x.data, array)
    array[0] = 7.0
    assert x.data[0] == 7.0
    assert tensor(array).dtype == np.float32  # tensor() copies into float32
    with pytest.raises(TypeError, match="from_numpy"):
        from_numpy([1.0, 2.0])


def test_creation_functions_accept_the_cpu_as_device() -> None:
    for make in (zeros, ones, randn, rand):
        assert make(2, 2, device="cpu").shape == (2, 2)
    assert tensor([1.0], device=device("cpu")).shape == (1,)
    assert zeros_like(ones(2), device="cpu").shape == (2,)


def test_method_forms_of_the_arithmetic_operators(rng) -> None:
    a, b = Tensor(rng.uniform(1, 2, (2, 3))), Tensor(rng.uniform(1, 2, (2, 3)))
    pairs = [(a.add(b), a + b), (a.sub(b), a - b), (a.mul(b), a * b), (a.div(b), a / b)]
    pairs += [(a.pow(2), a**2), (matmul(a, b.T), a @ b.T)]
    for method, operator_form in pairs:
        np.testing.assert_array_equal(method.data, operator_form.data)


def test_numel_counts_elements() -> None:
    assert Tensor(np.zeros((2, 3, 4))).numel() == 24 == Tensor(np.zeros((2, 3, 4))).size


# ----------------------------------------------------------------------------- in-place helpers


def test_requires_grad_underscore_sets_the_flag_and_returns_the_tensor() -> None:
    x = Tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    assert x.requires_grad_(False) is x and not x.requires_grad


def test_zero_underscore_fills_in_place() -> None:
    x = Tensor([1.0, 2.0])
    array = x.data
    assert x.zero_() is x and x.data is array
    np.testing.assert_array_equal(array, [0.0, 0.0])
    with pytest.raises(RuntimeError, match="requires a gradient"):
        Tensor([1.0], requires_grad=True).zero_()
