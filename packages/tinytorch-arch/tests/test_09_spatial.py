"""Module 09 · Spatial — the specification of convolution, pooling and flattening.

Every vectorized op is compared with an explicit-loop reference (the paper's seven-loop
convolution, and the pooling loops written below) and gradchecked in float64 with
stride, padding, non-square sizes and batches larger than one.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch.core import Tensor, gradcheck, graph_stats, manual_seed
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
from tinytorch.optim import Adam
from tinytorch.testing import case_ids, check_op, op_cases
from tinytorch.vision import (
    AvgPool2d,
    Conv2d,
    Flatten,
    MaxPool2d,
    avg_pool2d,
    col2im,
    conv2d,
    conv2d_loops,
    conv_output_size,
    im2col,
    kaiming_uniform,
    max_pool2d,
    parameter_comparison,
    spatial,
)


def f64(array: np.ndarray, requires_grad: bool = True) -> Tensor:
    return Tensor(array, requires_grad=requires_grad, dtype=np.float64)


def pool_loops(
    x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], reduce
) -> np.ndarray:
    """Reference pooling: four loops over (b, c, h, w), ``reduce`` over each window."""
    (kh, kw), (sh, sw) = kernel, stride
    batch, channels, height, width = x.shape
    h_out, w_out = (height - kh) // sh + 1, (width - kw) // sw + 1
    out = np.zeros((batch, channels, h_out, w_out))
    for b in range(batch):
        for c in range(channels):
            for h in range(h_out):
                for w in range(w_out):
                    out[b, c, h, w] = reduce(x[b, c, h * sh : h * sh + kh, w * sw : w * sw + kw])
    return out


# (kernel, stride, padding) on a non-square (2, 3, 7, 6) input: square and non-square
# kernels, strides and paddings, including a stride that skips the last column.
CONFIGS = [
    ((3, 3), 1, 0),
    ((3, 3), 2, 1),
    ((2, 3), (2, 1), (1, 0)),
    ((1, 1), 1, 0),
    ((3, 2), 3, 2),
]


# ----------------------------------------------------------------------------- geometry


class TestOutputSize:
    @pytest.mark.parametrize(
        ("size", "kernel", "stride", "padding", "expected"),
        [
            (32, 5, 1, 0, 28),  # the paper's CIFAR example
            (32, 5, 1, 2, 32),  # "same" padding
            (32, 3, 2, 1, 16),  # stride 2 halves
            (7, 3, 2, 0, 3),  # the last position that would hang over is dropped
            (3, 3, 1, 0, 1),
        ],
    )
    def test_is_size_plus_padding_minus_kernel_over_stride_plus_one(
        self, size, kernel, stride, padding, expected
    ):
        assert conv_output_size(size, kernel, stride, padding) == expected


# ----------------------------------------------------------------------------- the reference


class TestSevenLoopReference:
    def test_a_ones_kernel_sums_each_window(self):
        x = np.arange(16.0).reshape(1, 1, 4, 4)
        out = conv2d_loops(x, np.ones((1, 1, 2, 2)))
        assert isinstance(out, Tensor) and out.shape == (1, 1, 3, 3)
        np.testing.assert_allclose(out.data[0, 0], [[10, 14, 18], [26, 30, 34], [42, 46, 50]])

    def test_bias_stride_and_padding(self):
        x = np.arange(9.0).reshape(1, 1, 3, 3)
        out = conv2d_loops(
            x, np.ones((2, 1, 2, 2)), bias=np.array([0.0, 100.0]), stride=2, padding=1
        )
        # windows of the zero-padded 5x5 image at rows/cols 0 and 2
        expected = np.array([[0.0, 1 + 2], [3 + 6, 4 + 5 + 7 + 8]])
        np.testing.assert_allclose(out.data[0, 0], expected)
        np.testing.assert_allclose(out.data[0, 1], expected + 100)

    def test_is_cross_correlation_over_every_input_channel(self, rng):
        x = rng.standard_normal((1, 3, 3, 3))
        w = rng.standard_normal((1, 3, 3, 3))
        assert conv2d_loops(x, w).data.item() == pytest.approx(float((x * w).sum()))


# ----------------------------------------------------------------------------- im2col / col2im


class TestIm2col:
    def test_each_column_is_one_receptive_field(self, rng):
        x = rng.standard_normal((2, 3, 5, 4))
        cols = im2col(x, (2, 3), stride=1, padding=0)
        h_out, w_out = 4, 2
        assert cols.shape == (3 * 2 * 3, 2 * h_out * w_out)
        b, h, w = 1, 2, 1  # column index runs over (b, h, w)
        column = cols[:, (b * h_out + h) * w_out + w]
        np.testing.assert_array_equal(column, x[b, :, h : h + 2, w : w + 3].reshape(-1))

    def test_padding_adds_zeros_and_stride_skips_windows(self):
        x = np.ones((1, 1, 3, 3))
        cols = im2col(x, 3, stride=2, padding=1)
        assert cols.shape == (9, 4)
        # the top-left window of the padded image sees 4 real pixels and 5 zeros
        assert cols[:, 0].sum() == 4

    def test_col2im_is_the_adjoint_of_im2col(self, rng):
        """<im2col(x), c> == <x, col2im(c)>: the identity that makes it the input gradient."""
        x = rng.standard_normal((2, 3, 7, 6))
        for kernel, stride, padding in CONFIGS:
            cols = im2col(x, kernel, stride, padding)
            c = rng.standard_normal(cols.shape)
            back = col2im(c, x.shape, kernel, stride, padding)
            assert back.shape == x.shape
            assert np.vdot(cols, c) == pytest.approx(np.vdot(x, back))

    @pytest.mark.parametrize(("kernel", "stride", "padding"), CONFIGS)
    def test_per_image_columns_are_im2col_of_each_image(self, rng, kernel, stride, padding):
        x = rng.standard_normal((3, 2, 7, 6))
        cols = im2col(x, kernel, stride, padding, per_image=True)
        for b in range(3):
            np.testing.assert_array_equal(cols[b], im2col(x[b : b + 1], kernel, stride, padding))
        c = rng.standard_normal(cols.shape)  # and col2im reads that layout as its adjoint
        back = col2im(c, x.shape, kernel, stride, padding)
        assert np.vdot(cols, c) == pytest.approx(np.vdot(x, back))
        textbook = c.transpose(1, 0, 2).reshape(cols.shape[1], -1)
        np.testing.assert_allclose(back, col2im(textbook, x.shape, kernel, stride, padding))

    @pytest.mark.parametrize("per_image", [False, True])
    def test_out_receives_the_columns(self, rng, per_image):
        x = rng.standard_normal((3, 2, 7, 6))
        expected = im2col(x, (3, 2), (2, 1), (1, 0), per_image=per_image)
        buffer = np.zeros((2, *expected.shape))
        target = buffer[1]
        assert im2col(x, (3, 2), (2, 1), (1, 0), per_image=per_image, out=target) is target
        np.testing.assert_array_equal(buffer[1], expected)
        assert not buffer[0].any()

    def test_out_of_the_wrong_shape_or_layout_is_refused(self, rng):
        x = rng.standard_normal((2, 2, 5, 5))
        with pytest.raises(ValueError, match=r"im2col: out must be .* shape \(2, 18, 9\)"):
            im2col(x, 3, per_image=True, out=np.empty((2, 18, 8)))
        with pytest.raises(ValueError, match="contiguous: False"):
            im2col(x, 3, per_image=True, out=np.empty((2, 18, 18))[:, :, ::2])

    def test_col2im_adds_overlapping_windows(self):
        cols = np.ones((4, 4))  # 2x2 kernel on a 3x3 image: 4 windows
        counts = col2im(cols, (1, 1, 3, 3), 2)
        np.testing.assert_array_equal(counts[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


# ----------------------------------------------------------------------------- conv2d


class TestConv2dMatchesTheLoops:
    @pytest.mark.parametrize(("kernel", "stride", "padding"), CONFIGS)
    def test_conv2d_equals_conv2d_loops(self, rng, kernel, stride, padding):
        x = rng.standard_normal((2, 3, 7, 6))
        w = rng.standard_normal((4, 3, *kernel))
        b = rng.standard_normal(4)
        expected = conv2d_loops(x, w, b, stride, padding).data
        out = conv2d(f64(x, False), f64(w, False), f64(b, False), stride, padding)
        np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)

    def test_without_bias(self, rng):
        x, w = rng.standard_normal((3, 2, 5, 5)), rng.standard_normal((2, 2, 3, 3))
        np.testing.assert_allclose(
            conv2d(f64(x, False), f64(w, False)).data, conv2d_loops(x, w).data, atol=1e-12
        )

    @pytest.mark.parametrize(("kernel", "stride", "padding"), CONFIGS)
    @pytest.mark.parametrize("block_bytes", [1, 1000, spatial.BLOCK_BYTES])
    @pytest.mark.parametrize("keep_bytes", [0, spatial.KEEP_BYTES])
    def test_gradients_equal_the_textbook_im2col_composition(
        self, rng, monkeypatch, kernel, stride, padding, block_bytes, keep_bytes
    ):
        """The per-image GEMMs, in blocks of one image, of a few or of the whole batch,
        with the columns kept or unfolded again in backward, give what one
        (C_out, B·H_out·W_out) product gives: out = W cols + b, dW = G colsᵀ,
        db = G summed per channel, dx = col2im(Wᵀ G), on the textbook matrix."""
        monkeypatch.setattr(spatial, "BLOCK_BYTES", block_bytes)
        monkeypatch.setattr(spatial, "KEEP_BYTES", keep_bytes)
        x, w, b = (
            rng.standard_normal((3, 2, 7, 6)),
            rng.standard_normal((4, 2, *kernel)),
            rng.standard_normal(4),
        )
        tx, tw, tb = f64(x), f64(w), f64(b)
        out = conv2d(tx, tw, tb, stride, padding)
        g = rng.standard_normal(out.shape)
        out.backward(g)
        cols = im2col(x, kernel, stride, padding)
        textbook = (w.reshape(4, -1) @ cols + b[:, None]).reshape(4, 3, *out.shape[2:])
        np.testing.assert_allclose(out.data, textbook.transpose(1, 0, 2, 3), rtol=1e-10)
        g2 = g.transpose(1, 0, 2, 3).reshape(4, -1)
        np.testing.assert_allclose(tw.grad.data, (g2 @ cols.T).reshape(w.shape), rtol=1e-10)
        np.testing.assert_allclose(tb.grad.data, g2.sum(axis=1), rtol=1e-10)
        dx = col2im(w.reshape(4, -1).T @ g2, x.shape, kernel, stride, padding)
        np.testing.assert_allclose(tx.grad.data, dx, rtol=1e-10, atol=1e-12)

    def test_output_is_contiguous_nchw(self, rng):
        out = Conv2d(3, 5, 3, padding=1)(
            Tensor(rng.standard_normal((2, 3, 7, 6)).astype(np.float32))
        )
        assert out.data.flags.c_contiguous and out.dtype == np.float32

    def test_float32_layer_matches_the_reference(self, rng):
        layer = Conv2d(3, 5, 3, stride=2, padding=1)
        x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
        out = layer(Tensor(x))
        assert out.dtype == np.float32 and out.shape == (2, 5, 5, 4)
        reference = conv2d_loops(x, layer.weight, layer.bias, 2, 1)
        np.testing.assert_allclose(out.data, reference.data, rtol=1e-5, atol=1e-5)


class TestGradients:
    @pytest.mark.parametrize(("kernel", "stride", "padding"), CONFIGS[:3])
    def test_conv2d_gradcheck_input_weight_and_bias(self, rng, kernel, stride, padding):
        x = f64(rng.standard_normal((2, 2, 5, 4)))
        w = f64(rng.standard_normal((3, 2, *kernel)))
        b = f64(rng.standard_normal(3))
        assert gradcheck(lambda x, w, b: conv2d(x, w, b, stride, padding), [x, w, b])

    @pytest.mark.parametrize("keep_bytes", [0, spatial.KEEP_BYTES])
    def test_conv2d_gradchecks_one_image_per_block(self, rng, monkeypatch, keep_bytes):
        monkeypatch.setattr(spatial, "BLOCK_BYTES", 1)  # every image its own GEMM block
        monkeypatch.setattr(spatial, "KEEP_BYTES", keep_bytes)  # columns unfolded again, or kept
        x = f64(rng.standard_normal((3, 2, 5, 4)))
        w, b = f64(rng.standard_normal((3, 2, 2, 3))), f64(rng.standard_normal(3))
        assert gradcheck(lambda x, w, b: conv2d(x, w, b, (2, 1), (1, 0)), [x, w, b])

    def test_conv2d_gradcheck_without_bias(self, rng):
        x, w = f64(rng.standard_normal((2, 2, 4, 5))), f64(rng.standard_normal((2, 2, 2, 3)))
        assert gradcheck(lambda x, w: conv2d(x, w, stride=(1, 2), padding=(1, 0)), [x, w])

    def test_the_layer_gradchecks_through_its_parameters(self, rng):
        layer = Conv2d(2, 3, (3, 2), stride=2, padding=1)
        for p in layer.parameters():
            p.data = rng.standard_normal(p.shape)  # float64 for the finite differences
        x = f64(rng.standard_normal((2, 2, 5, 6)))
        assert gradcheck(lambda x, w, b: layer(x), [x, layer.weight, layer.bias])

    def test_an_input_without_requires_grad_gets_no_gradient_but_weights_do(self, rng):
        layer = Conv2d(1, 2, 3)
        x = Tensor(rng.standard_normal((2, 1, 5, 5)).astype(np.float32))
        layer(x).sum().backward()
        assert x.grad is None
        assert layer.weight.grad.shape == (2, 1, 3, 3) and layer.bias.grad.shape == (2,)
        # d(sum)/d(bias) counts the output pixels of each channel: 2 images x 3 x 3
        np.testing.assert_allclose(layer.bias.grad.data, [18.0, 18.0])

    def test_a_small_cnn_gradchecks_end_to_end(self, rng):
        model = Sequential(
            Conv2d(1, 2, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(), Linear(2 * 3 * 2, 3)
        )
        for p in model.parameters():
            p.data = rng.standard_normal(p.shape)
        x = f64(rng.standard_normal((3, 1, 6, 4)), requires_grad=False)
        targets = np.array([0, 2, 1])
        loss = CrossEntropyLoss()
        assert gradcheck(lambda *params: loss(model(x), targets), model.parameters())

    @pytest.mark.parametrize("block_bytes", [1, spatial.BLOCK_BYTES])
    def test_the_graph_keeps_small_im2col_matrices_only(self, rng, monkeypatch, block_bytes):
        monkeypatch.setattr(spatial, "BLOCK_BYTES", block_bytes)  # in 4 blocks, or in one
        layer = Conv2d(3, 8, 5)
        x = Tensor(rng.standard_normal((4, 3, 16, 16)).astype(np.float32))
        cols_bytes = (3 * 5 * 5) * (4 * 12 * 12) * 4
        exclude = [p.data for p in layer.parameters()]
        monkeypatch.setattr(spatial, "KEEP_BYTES", cols_bytes)
        assert graph_stats(layer(x).sum(), exclude).saved_bytes >= cols_bytes
        monkeypatch.setattr(spatial, "KEEP_BYTES", cols_bytes - 1)  # backward unfolds x again
        assert x.data.nbytes <= graph_stats(layer(x).sum(), exclude).saved_bytes < cols_bytes


# ----------------------------------------------------------------------------- the layer


class TestConv2dLayer:
    def test_parameters_have_pytorch_shapes_and_count(self):
        layer = Conv2d(3, 32, 3)
        assert layer.weight.shape == (32, 3, 3, 3) and layer.bias.shape == (32,)
        assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
        assert layer.num_parameters() == 896

    def test_bias_false_has_no_bias(self):
        layer = Conv2d(2, 4, 3, bias=False)
        assert layer.bias is None and layer.num_parameters() == 4 * 2 * 9

    def test_he_uniform_init_has_variance_two_over_fan_in(self):
        w = kaiming_uniform(64 * 9, (256, 64, 3, 3))
        assert w.dtype == np.float32 and w.shape == (256, 64, 3, 3)
        limit = np.sqrt(6 / (64 * 9))
        assert np.abs(w).max() <= limit
        assert w.var() == pytest.approx(2 / (64 * 9), rel=0.02)

    def test_init_is_reproducible_with_manual_seed(self):
        manual_seed(7)
        a = Conv2d(3, 4, 3).weight.data
        manual_seed(7)
        np.testing.assert_array_equal(a, Conv2d(3, 4, 3).weight.data)

    def test_macs_counts_the_papers_cifar_example(self):
        assert Conv2d(3, 32, 5).macs((128, 3, 32, 32)) == 128 * 32 * 28 * 28 * 3 * 5 * 5
        assert Conv2d(3, 32, 5).macs((128, 3, 32, 32)) == 240_844_800
        assert Conv2d(1, 1, 3, stride=2, padding=1).macs((1, 1, 8, 8)) == 16 * 9

    def test_repr_names_the_hyper_parameters(self):
        text = repr(Conv2d(3, 8, 5, stride=2, padding=1))
        assert "3, 8, kernel_size=(5, 5), stride=(2, 2), padding=(1, 1)" in text


class TestBadInput:
    def test_wrong_channel_count_names_the_layer_and_the_shapes(self):
        with pytest.raises(ValueError, match=r"\(2, 4, 8, 8\) has 4 channels.*in_channels=3"):
            Conv2d(3, 8, 3)(Tensor(np.zeros((2, 4, 8, 8))))

    def test_kernel_larger_than_the_input(self):
        with pytest.raises(ValueError, match=r"kernel 5x5 is larger than the padded input 3x3"):
            Conv2d(1, 1, 5)(Tensor(np.zeros((1, 1, 3, 3))))
        with pytest.raises(ValueError, match="kernel 5x5 is larger"):
            conv2d_loops(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 5, 5)))

    def test_padding_can_make_a_large_kernel_fit(self):
        assert Conv2d(1, 1, 5, padding=1)(Tensor(np.zeros((1, 1, 3, 3)))).shape == (1, 1, 1, 1)

    @pytest.mark.parametrize("shape", [(3, 8, 8), (8, 8), (1, 1, 3, 8, 8)])
    def test_input_must_be_4d(self, shape):
        with pytest.raises(ValueError, match=r"4-D input \(batch, channels, height, width\)"):
            Conv2d(3, 2, 3)(Tensor(np.zeros(shape)))
        with pytest.raises(ValueError, match="4-D input"):
            MaxPool2d(2)(Tensor(np.zeros(shape)))

    def test_functional_conv_checks_weight_and_bias(self):
        x = Tensor(np.zeros((1, 2, 5, 5)))
        with pytest.raises(ValueError, match=r"2 channels but weight \(1, 3, 3, 3\) expects 3"):
            conv2d(x, Tensor(np.zeros((1, 3, 3, 3))))
        with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
            conv2d(x, Tensor(np.zeros((4, 2, 3, 3))), Tensor(np.zeros(3)))
        with pytest.raises(ValueError, match="weight must be 4-D"):
            conv2d(x, Tensor(np.zeros((2, 3, 3))))

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"kernel_size": 0},
            {"kernel_size": 3, "stride": 0},
            {"kernel_size": 3, "padding": -1},
            {"kernel_size": (3, 3, 3)},
            {"kernel_size": 2.5},
        ],
    )
    @pytest.mark.ungraded
    def test_bad_hyper_parameters_are_rejected_at_construction(self, kwargs):
        with pytest.raises(ValueError, match=r"Conv2d: (kernel_size|stride|padding) must be"):
            Conv2d(1, 1, **kwargs)

    @pytest.mark.ungraded
    def test_non_positive_channel_counts_are_rejected(self):
        with pytest.raises(ValueError, match="Conv2d: in_channels must be >= 1, got 0"):
            Conv2d(0, 4, 3)
        with pytest.raises(TypeError, match="Conv2d: out_channels must be an int"):
            Conv2d(1, 4.0, 3)

    @pytest.mark.ungraded
    def test_pool_kernel_larger_than_the_input(self):
        with pytest.raises(ValueError, match=r"max_pool2d: kernel 4x4 is larger than .* 3x5"):
            MaxPool2d(4)(Tensor(np.zeros((1, 1, 3, 5))))
        with pytest.raises(ValueError, match="avg_pool2d: kernel"):
            AvgPool2d(6)(Tensor(np.zeros((1, 1, 3, 5))))


# ----------------------------------------------------------------------------- pooling

POOL_CONFIGS = [
    ((2, 2), None),
    ((3, 3), (2, 2)),
    ((2, 3), (1, 2)),
    ((3, 2), (3, 1)),
    ((1, 3), (2, 3)),
]


class TestPooling:
    @pytest.mark.parametrize(("kernel", "stride"), POOL_CONFIGS)
    def test_max_pool_equals_the_loops(self, rng, kernel, stride):
        x = rng.standard_normal((2, 3, 7, 6))
        out = MaxPool2d(kernel, stride)(f64(x, False))
        np.testing.assert_array_equal(out.data, pool_loops(x, kernel, stride or kernel, np.max))

    @pytest.mark.parametrize(("kernel", "stride"), POOL_CONFIGS)
    def test_avg_pool_equals_the_loops(self, rng, kernel, stride):
        x = rng.standard_normal((2, 3, 7, 6))
        out = AvgPool2d(kernel, stride)(f64(x, False))
        np.testing.assert_allclose(out.data, pool_loops(x, kernel, stride or kernel, np.mean))

    def test_stride_defaults_to_the_kernel_size(self):
        pool = MaxPool2d(2)
        assert pool.stride == (2, 2)
        assert pool(Tensor(np.zeros((1, 1, 8, 6)))).shape == (1, 1, 4, 3)
        assert AvgPool2d(3).stride == (3, 3)

    @pytest.mark.parametrize(("kernel", "stride"), POOL_CONFIGS)
    def test_pool_gradchecks(self, rng, kernel, stride):
        x = f64(rng.standard_normal((2, 2, 5, 6)))
        assert gradcheck(lambda x: max_pool2d(x, kernel, stride), [x])
        assert gradcheck(lambda x: avg_pool2d(x, kernel, stride), [x])

    def test_max_pool_sends_the_gradient_to_the_maximum_only(self):
        x = f64(np.array([[[[1.0, 5.0], [3.0, 2.0]]]]))
        max_pool2d(x, 2).sum().backward()
        np.testing.assert_array_equal(x.grad.data[0, 0], [[0, 1], [0, 0]])

    def test_overlapping_windows_add_up_their_gradients(self):
        x = f64(np.array([[[[0.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]]))
        max_pool2d(x, 2, stride=1).sum().backward()  # the 9 is the max of all 4 windows
        assert x.grad.data[0, 0, 1, 1] == 4 and x.grad.data.sum() == 4

    def test_a_tie_goes_to_the_first_maximum(self):
        x = f64(np.ones((1, 1, 2, 2)))
        max_pool2d(x, 2).backward(np.ones((1, 1, 1, 1)))
        np.testing.assert_array_equal(x.grad.data[0, 0], [[1, 0], [0, 0]])

    @pytest.mark.parametrize(
        ("kernel", "stride"), [*POOL_CONFIGS, ((2, 2), (3, 3)), ((2, 3), (2, 4))]
    )
    def test_max_pool_gradient_equals_the_loops_even_with_ties(self, rng, kernel, stride):
        """After a ReLU many windows tie at 0: each window's gradient goes to its first
        maximum, whether windows overlap, tile the input or leave gaps between them."""
        x = np.maximum(np.round(rng.standard_normal((2, 3, 7, 6))), 0)
        out = max_pool2d(f64(x), kernel, stride)
        g = rng.standard_normal(out.shape)
        (kh, kw), (sh, sw) = kernel, stride or kernel
        expected = np.zeros_like(x)
        for b, c, h, w in np.ndindex(*out.shape):
            window = x[b, c, h * sh : h * sh + kh, w * sw : w * sw + kw]
            i, j = np.unravel_index(np.argmax(window), window.shape)  # the first maximum
            expected[b, c, h * sh + i, w * sw + j] += g[b, c, h, w]
        x_t = f64(x)
        max_pool2d(x_t, kernel, stride).backward(g)
        np.testing.assert_array_equal(x_t.grad.data, expected)

    @pytest.mark.parametrize(("kernel", "stride"), POOL_CONFIGS)
    def test_max_pool_gradient_is_the_same_whatever_the_memory_layouts(self, rng, kernel, stride):
        # The input may be a transposed view (stored channel-first) and the gradient may
        # arrive in another layout (here: strided, from a larger array). Same numbers.
        data = rng.standard_normal((3, 2, 7, 6))  # (C, B, H, W) in memory
        grad_shape = max_pool2d(Tensor(data.transpose(1, 0, 2, 3)), kernel, stride).shape
        wide = rng.standard_normal((*grad_shape[:3], 2 * grad_shape[3]))
        grads = []
        for x in (np.ascontiguousarray(data.transpose(1, 0, 2, 3)), data.transpose(1, 0, 2, 3)):
            t = f64(x)
            max_pool2d(t, kernel, stride).backward(wide[..., ::2])
            grads.append(t.grad.data)
        np.testing.assert_array_equal(grads[0], grads[1])
        x = f64(np.ascontiguousarray(data.transpose(1, 0, 2, 3)))
        max_pool2d(x, kernel, stride).backward(np.ascontiguousarray(wide[..., ::2]))
        np.testing.assert_array_equal(x.grad.data, grads[0])

    def test_avg_pool_spreads_the_gradient_evenly(self):
        x = f64(np.zeros((1, 1, 4, 4)))
        avg_pool2d(x, 2).sum().backward()
        np.testing.assert_allclose(x.grad.data, np.full((1, 1, 4, 4), 0.25))

    @pytest.mark.ungraded
    def test_pools_have_no_parameters(self):
        assert MaxPool2d(2).parameters() == [] and AvgPool2d(2).parameters() == []


# ----------------------------------------------------------------------------- flatten


class TestFlatten:
    @pytest.mark.ungraded
    def test_keeps_the_batch_axis_and_merges_the_rest(self, rng):
        x = rng.standard_normal((2, 3, 4, 5))
        out = Flatten()(f64(x, False))
        assert out.shape == (2, 60)
        np.testing.assert_array_equal(out.data, x.reshape(2, 60))

    @pytest.mark.ungraded
    def test_start_dim_and_end_dim_as_in_pytorch(self):
        x = Tensor(np.zeros((2, 3, 4, 5)))
        assert Flatten(start_dim=2)(x).shape == (2, 3, 20)
        assert Flatten(1, 2)(x).shape == (2, 12, 5)
        assert Flatten(0, -2)(x).shape == (24, 5)
        assert repr(Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
        with pytest.raises(ValueError, match="start_dim=4 is out of range"):
            Flatten(start_dim=4)(x)

    @pytest.mark.ungraded
    def test_gradient_is_reshaped_back(self, rng):
        x = f64(rng.standard_normal((2, 3, 2, 2)))
        assert gradcheck(lambda x: Flatten()(x) * 2.0, [x])


# ----------------------------------------------------------------------------- weight sharing


class TestWeightSharing:
    def test_the_papers_896_vs_98336(self):
        comparison = parameter_comparison(3, 32, 3, 32, 32)
        assert comparison.conv == 896 == Conv2d(3, 32, 3).num_parameters()
        assert comparison.dense == 98_336 == Linear(3 * 32 * 32, 32).num_parameters()
        assert comparison.ratio == pytest.approx(109.75)
        assert int(comparison.ratio) == 109  # the paper's "109x"

    def test_defaults_are_the_papers_example_and_it_prints(self):
        text = str(parameter_comparison())
        assert "896" in text and "98,336" in text and "109.75x" in text

    def test_the_conv_count_does_not_grow_with_the_image(self):
        small, large = (
            parameter_comparison(height=8, width=8),
            parameter_comparison(height=64, width=64),
        )
        assert small.conv == large.conv and large.dense > small.dense


# ----------------------------------------------------------------------------- it learns


def test_a_cnn_learns_to_tell_vertical_from_horizontal_bars(rng):
    """Through Module 05's autograd and Module 06's Adam, the loss falls and it separates."""
    images = np.zeros((32, 1, 6, 6), dtype=np.float32)
    labels = np.arange(32) % 2
    for i, (label, position) in enumerate(zip(labels, rng.integers(0, 6, size=32))):
        if label:
            images[i, 0, :, position] = 1.0
        else:
            images[i, 0, position, :] = 1.0
    model = Sequential(Conv2d(1, 4, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(), Linear(36, 2))
    optimizer = Adam(model.parameters(), lr=0.05)
    loss_fn = CrossEntropyLoss()
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = loss_fn(model(Tensor(images)), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]
    assert (model(Tensor(images)).data.argmax(axis=1) == labels).all()


# ----------------------------------------------------------------------------- the op table

MODULE_09 = op_cases([9])


@pytest.mark.parametrize("case", MODULE_09, ids=case_ids(MODULE_09))
def test_every_op_of_this_module_keeps_its_row_of_the_op_table(case, rng) -> None:
    """From ``tinytorch.testing``: the NumPy forward, the gradient rule the op's own code
    names (and records), and that rule's gradient against finite differences."""
    check_op(case, rng)


def test_an_empty_batch_convolves_to_an_empty_output_with_zero_weight_gradients():
    x = Tensor(np.zeros((0, 3, 8, 8), dtype=np.float32), requires_grad=True)
    layer = Conv2d(3, 4, 3, padding=1)
    out = layer(x)
    out.sum().backward()
    assert out.shape == (0, 4, 8, 8)
    assert x.grad.shape == (0, 3, 8, 8)
    assert not layer.weight.grad.data.any() and not layer.bias.grad.data.any()
