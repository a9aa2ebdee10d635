"""Module 09's rows of the op table (see ``tinytorch.testing``): convolution and pooling.

Registered under the entry-point group ``tinytorch.testing``, so ``op_cases()`` lists them
whenever this tier is installed. The NumPy references use a strided window view: short,
and independent of the code they check.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinytorch.testing import DISTINCT, Arg, OpCase
from tinytorch.vision.spatial import as_pair, avg_pool2d, conv2d, max_pool2d


def _windows(x: np.ndarray, kernel: Any, stride: Any, padding: Any = 0) -> np.ndarray:
    """(B, C, H_out, W_out, K_h, K_w): every window of the padded input, as a view."""
    (kh, kw), (sh, sw), (ph, pw) = (
        as_pair("windows", "kernel", kernel, 1),
        as_pair("windows", "stride", stride, 1),
        as_pair("windows", "padding", padding, 0),
    )
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]


def np_conv2d(x, weight, bias=None, *, stride=1, padding=0) -> np.ndarray:
    out = np.einsum("bchwij,ocij->bohw", _windows(x, weight.shape[2:], stride, padding), weight)
    return out if bias is None else out + bias[None, :, None, None]


def np_pool2d(x, kernel, stride, reduce) -> np.ndarray:
    """``reduce`` (np.max, np.mean) over every window of ``x`` (B, C, H, W)."""
    return reduce(_windows(x, kernel, stride), axis=(-2, -1))


# (stride, padding, kernel (h, w)) of the convolutions checked
CONV_SETTINGS = [(1, 0, (3, 3)), (1, 1, (3, 3)), (2, 1, (3, 2)), ((2, 1), (0, 1), (2, 3))]


def _cases() -> list[OpCase]:
    cases = []
    for stride, padding, (kh, kw) in CONV_SETTINGS:
        for bias in (True, False):
            args = (Arg((2, 3, 6, 5)), Arg((4, 3, kh, kw))) + ((Arg((4,)),) if bias else ())
            cases.append(
                OpCase(
                    f"conv2d stride={stride} padding={padding} kernel={kh}x{kw} bias={bias}",
                    9,
                    conv2d,
                    "Conv2dFunction",
                    args,
                    lambda *a, stride=stride, padding=padding: np_conv2d(
                        *a, stride=stride, padding=padding
                    ),
                    lambda *t, stride=stride, padding=padding: conv2d(
                        *t, stride=stride, padding=padding
                    ),
                )
            )
    for kernel, stride in ((2, None), (3, 2), ((2, 3), 1)):
        step = kernel if stride is None else stride
        for op, rule, reduce in (
            (max_pool2d, "MaxPool2dFunction", np.max),
            (avg_pool2d, "AvgPool2dFunction", np.mean),
        ):
            cases.append(
                OpCase(
                    f"{op.__name__} kernel={kernel} stride={stride}",
                    9,
                    op,
                    rule,
                    (Arg((2, 2, 6, 6), DISTINCT),),  # distinct: no ties for the max
                    lambda x, k=kernel, s=step, f=reduce: np_pool2d(x, k, s, f),
                    lambda x, k=kernel, s=stride, op=op: op(x, k, s),
                )
            )
    return cases


CASES = _cases()
