"""Datasets · Toy problems — tiny, deterministic 2-D datasets for the first two milestones.

Connection map
    Prerequisites : NumPy only
    Teaches       : linear separability — why one neuron learns AND/OR but never XOR,
                    and why XOR needs a hidden layer
    Unlocks       : milestones M1 (1958 perceptron) and M2 (1969 XOR)

Every function returns a pair ``(x, y)`` of NumPy arrays: ``x`` has one row per
example and two feature columns, ``y`` has shape ``(N, 1)`` so it lines up with the
``(N, 1)`` output of a ``Linear(2, 1)`` layer. The same arguments always give the
same bytes, so a milestone that fails can be rerun on identical data. Everything
here is a few kilobytes: 100 float32 points of 2 features are 800 bytes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tinytorch.checks import check_int, check_number

_GATE_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])

# The truth table of each gate, one output per row of _GATE_INPUTS.
_GATE_OUTPUTS = {
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "xor": [0, 1, 1, 0],
    "nand": [1, 1, 1, 0],
}

# The boundary of linearly_separable is the line x0 + x1 = 0: _NORMAL points
# across it (towards class 1), _TANGENT runs along it. Both have length 1.
_NORMAL = np.array([1.0, 1.0]) / np.sqrt(2.0)
_TANGENT = np.array([1.0, -1.0]) / np.sqrt(2.0)


def logic_gate(name: str, dtype: npt.DTypeLike = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """The four-row truth table of a two-input logic gate.

    Args:
        name: one of ``"and"``, ``"or"``, ``"xor"``, ``"nand"``.
        dtype: dtype of both arrays (float32 by default, the dtype Tensors use).

    Returns:
        ``x`` of shape (4, 2) holding every input pair in {0, 1}, and ``y`` of shape
        (4, 1) holding the gate's output for each row. AND, OR and NAND are linearly
        separable (milestone M1); XOR is not (milestone M2).

    Raises:
        ValueError: ``name`` is not one of the four gates.
    """
    if not isinstance(name, str) or name not in _GATE_OUTPUTS:
        valid = ", ".join(repr(gate) for gate in _GATE_OUTPUTS)
        raise ValueError(f"logic_gate: unknown gate {name!r}; valid names are {valid}")
    x = _GATE_INPUTS.astype(dtype)
    y = np.array(_GATE_OUTPUTS[name], dtype=dtype).reshape(4, 1)
    return x, y


def linearly_separable(
    n_per_class: int = 50, seed: int = 0, margin: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian-ish clouds that a straight line separates with room to spare.

    Each point takes a Gaussian step *along* the line ``x0 + x1 = 0`` and a
    half-Gaussian step *away* from it, starting at distance ``margin / 2``: class 0
    lies below the line, class 1 above. So the band of width ``margin`` around the
    line is empty by construction, the line separates the classes perfectly, and the
    perceptron convergence theorem promises that a single neuron will find a
    separating line in a finite number of updates (milestone M1).

    Args:
        n_per_class: points in each class (at least 1).
        seed: seed of the random generator; equal seeds give identical arrays.
        margin: width of the empty band between the classes (greater than 0).

    Returns:
        ``x`` float32 of shape (2 * n_per_class, 2) and ``y`` float32 of shape
        (2 * n_per_class, 1) with values in {0, 1}, rows shuffled so that every
        mini-batch mixes both classes.

    Raises:
        TypeError: an argument of the wrong type.
        ValueError: ``n_per_class < 1``, ``seed < 0``, or ``margin`` not a finite number > 0.
    """
    check_int("linearly_separable", "n_per_class", n_per_class, minimum=1)
    check_int("linearly_separable", "seed", seed, minimum=0)
    check_number("linearly_separable", "margin", margin, minimum=0, above=True)
    rng = np.random.default_rng(seed)
    n = 2 * n_per_class
    labels = np.repeat([0.0, 1.0], n_per_class)
    side = 2.0 * labels - 1.0  # -1 below the line (class 0), +1 above it (class 1)
    along = rng.standard_normal(n)
    away = margin / 2 + np.abs(rng.standard_normal(n))
    x = along[:, None] * _TANGENT + (side * away)[:, None] * _NORMAL
    order = rng.permutation(n)
    return x[order].astype(np.float32), labels[order].reshape(n, 1).astype(np.float32)


def xor_clouds(
    n_per_quadrant: int = 25, noise: float = 0.15, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A noisy XOR: a Gaussian cloud around each corner of the unit square.

    The clouds sit at (0, 0), (0, 1), (1, 0) and (1, 1) with label ``x0 XOR x1``:
    1 on one diagonal, 0 on the other. No single line puts both 1-clouds on one side
    and both 0-clouds on the other, so a one-layer network cannot fit it; a network
    with a hidden layer can (milestone M2). With ``noise=0`` every point sits exactly
    on its corner and the data is the XOR truth table repeated.

    Args:
        n_per_quadrant: points around each corner (at least 1).
        noise: standard deviation of the Gaussian jitter (0 or more); above about
            0.3 the clouds start to overlap and no model can reach 100% accuracy.
        seed: seed of the random generator; equal seeds give identical arrays.

    Returns:
        ``x`` float32 of shape (4 * n_per_quadrant, 2) and ``y`` float32 of shape
        (4 * n_per_quadrant, 1) with values in {0, 1}, rows shuffled.

    Raises:
        TypeError: an argument of the wrong type.
        ValueError: ``n_per_quadrant < 1``, ``seed < 0``, or ``noise`` not a finite number >= 0.
    """
    check_int("xor_clouds", "n_per_quadrant", n_per_quadrant, minimum=1)
    check_int("xor_clouds", "seed", seed, minimum=0)
    check_number("xor_clouds", "noise", noise, minimum=0)
    rng = np.random.default_rng(seed)
    corners = np.repeat(_GATE_INPUTS, n_per_quadrant, axis=0).astype(np.float64)
    labels = np.repeat(_GATE_OUTPUTS["xor"], n_per_quadrant).astype(np.float64)
    x = corners + noise * rng.standard_normal(corners.shape)
    order = rng.permutation(len(x))
    return x[order].astype(np.float32), labels[order].reshape(-1, 1).astype(np.float32)
