"""Module 05 · Autograd — checking a graph, measuring it and seeing it.

Connection map
    Prerequisites : 01 Tensor · 02–04 (the ops whose graphs are checked) · this module's
                    engine (``autograd``: Function, the topological order, ``no_grad``)
    This module   : gradcheck (backward against central differences), graph statistics
                    (nodes and the bytes they keep alive) and a picture of the graph
                    (Graphviz DOT text; SVG/PNG when Graphviz is installed)
    Unlocks       : 06 Optimizers · 07 Training (memory reports, activation checkpointing,
                    gradient flow) · every later module's gradient checks

Systems insight: a gradient check costs two forward passes per input element, so checks
use tiny shapes in float64; a graph's saved arrays usually outweigh the parameters, which
``graph_stats`` shows and ``graph_dot`` draws op by op.
"""

from __future__ import annotations

import importlib
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinytorch.core.autograd import _topological_order, no_grad
from tinytorch.core.tensor import Tensor, _data
from tinytorch.files import atomic_write

# ----------------------------------------------------------------------------- checking


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree."""


# competency: graphs/debugs
def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Compare backward() with central differences (f(x+eps) - f(x-eps)) / 2eps.

    Inputs that require a gradient must be float64 (float32 rounding swamps eps). The
    output is contracted with a random vector v, so one backward checks the full
    vector-Jacobian product. Costs 2 forward passes per input element. Returns True or
    raises GradcheckError naming the input, the element and both values.
    """
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; use dtype=np.float64")
        inputs[i].data = np.array(inputs[i].data)  # own, writable, contiguous
        inputs[i].grad = None
    out = fn(*inputs)
    v = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(v)

    def objective() -> float:
        with no_grad():
            return float((fn(*inputs).data * v).sum())

    for i in checked:
        x = inputs[i]
        analytic = np.zeros_like(x.data) if x.grad is None else x.grad.data
        numeric = np.zeros_like(x.data)
        flat = x.data.reshape(-1)
        for k in range(flat.size):
            original = flat[k]
            flat[k] = original + eps
            plus = objective()
            flat[k] = original - eps
            minus = objective()
            flat[k] = original
            numeric.reshape(-1)[k] = (plus - minus) / (2 * eps)
        if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
            k = int(np.argmax(np.abs(analytic - numeric)))
            element = tuple(int(i) for i in np.unravel_index(k, x.shape))
            raise GradcheckError(
                f"gradcheck: input {i} (shape {x.shape}) element {element}: "
                f"analytic {analytic.reshape(-1)[k]:.6g} vs numerical {numeric.reshape(-1)[k]:.6g}"
            )
    return True


@dataclass
class GraphStats:
    """What a graph costs: how many op nodes, and the bytes they keep alive."""

    nodes: int
    leaves: int
    saved_bytes: int
    ops: Counter = field(default_factory=Counter)

    def __str__(self) -> str:
        top = ", ".join(f"{name}×{n}" for name, n in self.ops.most_common(6))
        return (
            f"{self.nodes} nodes, {self.leaves} leaves, "
            f"{self.saved_bytes / 1024:.1f} KiB saved for backward ({top})"
        )


# competency: graphs/measures, tensors/debugs
def graph_stats(root: Tensor, exclude: Sequence[np.ndarray] = ()) -> GraphStats:
    """Count the nodes below ``root`` and the distinct arrays they hold for backward.

    ``exclude`` leaves out arrays that live anyway (e.g. parameters), so what remains is
    the activation memory the graph alone keeps alive.
    """
    if root.grad_fn is None:
        return GraphStats(nodes=0, leaves=int(root.requires_grad), saved_bytes=0)
    nodes = _topological_order(root)
    leaves = {
        id(x)
        for n in nodes
        for x in n.grad_fn.inputs
        if isinstance(x, Tensor) and x.requires_grad and x.grad_fn is None
    }
    skip = {id(a) for a in exclude}
    arrays = {id(a): a.nbytes for n in nodes for a in n.grad_fn.saved_arrays() if id(a) not in skip}
    ops = Counter(type(n.grad_fn).__name__ for n in nodes)
    return GraphStats(
        nodes=len(nodes), leaves=len(leaves), saved_bytes=sum(arrays.values()), ops=ops
    )


# ----------------------------------------------------------------------------- graph view


def optional_import(module: str, feature: str, install: str) -> Any:
    """Import ``module`` for ``feature``, or raise an ImportError that says how to get it.

    Pictures are optional: the tiers depend on NumPy and tqdm only, so a package that
    draws (Graphviz, matplotlib) is imported when a picture is asked for, never before.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{feature} needs the {module} package, which tinytorch does not install: {install}"
        ) from error


def _node_label(x: Tensor | np.ndarray, title: str) -> str:
    """``title``, then ``shape dtype``: the first two lines of every node of the picture."""
    shape = "scalar" if x.shape == () else str(tuple(x.shape))
    return f"{title}\\n{shape} {np.dtype(x.dtype).name}"


def _bytes(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KiB" if n < 2**20 else f"{n / 2**20:.1f} MiB"


# competency: graphs/debugs
def graph_dot(root: Tensor, names: Mapping[str, Tensor] | None = None) -> str:
    """The graph below ``root`` as Graphviz DOT text: the forward pass you recorded, drawn.

    One box per op (its name, the output's shape and dtype, and the bytes it holds for
    backward: the arrays ``graph_stats`` counts, so an array two ops share appears under
    both), one oval per leaf: parameters, named from ``names`` (e.g.
    ``dict(model.named_parameters())``), and the data the graph holds. Edges run from
    each input to the op that used it; ``root`` has a double border. Pure Python: paste
    the text into any Graphviz viewer, or call ``draw_graph`` to get an SVG or PNG.
    """
    label_of = {id(t): name for name, t in (names or {}).items()}
    ids: dict[int, str] = {}  # n0, n1, ...: stable names, in the order nodes are drawn

    def key(x: object) -> str:
        return ids.setdefault(id(x), f"n{len(ids)}")

    lines = [
        "digraph graph_of_loss {",
        '  rankdir=LR; node [fontname="Helvetica", fontsize=10]; edge [color="#555555"];',
    ]
    if root.grad_fn is None:  # nothing was recorded: the picture is one leaf
        lines += [f'  {key(root)} [shape=ellipse, label="{_node_label(root, "leaf")}"];', "}"]
        return "\n".join(lines)
    drawn: set[int] = set()
    for node in _topological_order(root):
        fn = node.grad_fn
        held = sum({id(a): a.nbytes for a in fn.saved_arrays()}.values())
        title = type(fn).__name__
        label = f"{_node_label(node, title)}\\nholds {_bytes(held)}"
        border = ", peripheries=2" if node is root else ""
        lines.append(
            f'  {key(node)} [shape=box, style="rounded,filled", fillcolor="#DCEBF7"{border}, '
            f'label="{label}"];'
        )
        for x in fn.inputs:
            if not isinstance(x, (Tensor, np.ndarray)):
                continue  # a Python number: part of the op, not a node
            if id(x) not in drawn and not (isinstance(x, Tensor) and x.grad_fn is not None):
                drawn.add(id(x))
                if isinstance(x, Tensor) and x.requires_grad:
                    leaf = label_of.get(id(x), "parameter")
                    colour = "#FDE9C7"
                else:
                    leaf, colour = "data", "#EEEEEE"
                label = f"{_node_label(x, leaf)}\\n{_bytes(np.asarray(_data(x)).nbytes)}"
                lines.append(
                    f'  {key(x)} [shape=ellipse, style=filled, fillcolor="{colour}", '
                    f'label="{label}"];'
                )
            lines.append(f"  {key(x)} -> {key(node)};")
    lines.append("}")
    return "\n".join(lines)


def draw_graph(
    root: Tensor, path: str | os.PathLike[str], names: Mapping[str, Tensor] | None = None
) -> Path:
    """Render ``graph_dot(root, names)`` to ``path`` (.svg, .png or .pdf); returns the path.

    Needs the ``graphviz`` Python package and Graphviz's ``dot`` program (the system's
    package manager: ``apt install graphviz``, ``brew install graphviz``); without them
    the error says so, and ``graph_dot`` still gives the same picture as text.
    """
    path = Path(path)
    graphviz = optional_import(
        "graphviz", "draw_graph", "pip install graphviz, and install Graphviz's dot program"
    )
    try:
        image = graphviz.Source(graph_dot(root, names)).pipe(format=path.suffix.lstrip("."))
    except graphviz.ExecutableNotFound as error:
        raise FileNotFoundError(
            "draw_graph needs Graphviz's dot program, which is not on PATH: install Graphviz "
            "(apt install graphviz, brew install graphviz, or conda install graphviz); "
            "graph_dot(root) gives the same graph as DOT text without it"
        ) from error
    with atomic_write(path) as file:  # whole or not at all
        file.write(image)
    return path
