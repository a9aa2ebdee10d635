"""Module 05 · the graph, visible: ``graph_dot`` and ``draw_graph``.

The picture is the graph ``graph_stats`` counts: one box per op (name, output shape and
dtype, bytes held for backward), one oval per leaf, an edge from each input to the op that
used it. DOT text needs nothing; an image needs Graphviz, and says so when it is missing.
"""

from __future__ import annotations

import re
import shutil
import sys
import types

import numpy as np
import pytest

from tinytorch.core import Tensor, draw_graph, graph_dot, graph_stats, manual_seed
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential


@pytest.fixture
def graph():
    """A two-layer MLP's loss on 5 examples, and the model's named parameters."""
    manual_seed(0)
    model = Sequential(Linear(4, 3), ReLU(), Linear(3, 2))
    x = Tensor(np.ones((5, 4), dtype=np.float32))
    loss = CrossEntropyLoss()(model(x), np.array([0, 1, 0, 1, 1]))
    return loss, dict(model.named_parameters())


def nodes(dot: str) -> dict[str, str]:
    """node id -> its attribute text."""
    return dict(re.findall(r"^\s+(n\d+) \[(.*)\];$", dot, flags=re.MULTILINE))


def edges(dot: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s+(n\d+) -> (n\d+);$", dot, flags=re.MULTILINE)


def label(attributes: str) -> list[str]:
    return re.search(r'label="([^"]*)"', attributes).group(1).split("\\n")


def test_one_box_per_op_and_one_oval_per_leaf(graph) -> None:
    loss, names = graph
    dot = graph_dot(loss, names)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    found = nodes(dot)
    boxes = [a for a in found.values() if "shape=box" in a]
    ovals = [a for a in found.values() if "shape=ellipse" in a]
    assert len(boxes) == graph_stats(loss).nodes == 6
    # four parameters, the input batch and the targets
    assert sorted(label(a)[0] for a in ovals) == ["0.bias", "0.weight", "2.bias", "2.weight",
                                                  "data", "data"]  # fmt: skip


def test_edges_run_from_inputs_to_the_op_that_used_them(graph) -> None:
    loss, names = graph
    dot = graph_dot(loss, names)
    found, links = nodes(dot), edges(dot)
    weight = next(n for n, a in found.items() if label(a)[0] == "0.weight")
    (used_by,) = [b for a, b in links if a == weight]
    assert label(found[used_by])[:2] == ["MatMulBackward", "(5, 3) float32"]
    assert len(links) == 11  # 2 + 2 + 1 + 2 + 2 + 2 inputs of the six ops
    assert all(a in found and b in found for a, b in links)
    targets = {b for _, b in links}
    assert all("shape=box" in found[b] for b in targets)  # only ops have inputs
    root = [n for n, a in found.items() if "peripheries=2" in a]
    assert [label(found[n])[0] for n in root] == ["CrossEntropyBackward"]
    assert root[0] not in {a for a, _ in links}  # nothing uses the loss


def test_each_box_shows_shape_dtype_and_the_bytes_it_holds(graph) -> None:
    loss, _ = graph
    found = nodes(graph_dot(loss))
    first_matmul = loss.grad_fn.inputs[0]
    while type(first_matmul.grad_fn).__name__ != "MatMulBackward" or any(
        isinstance(x, Tensor) and x.grad_fn is not None for x in first_matmul.grad_fn.inputs
    ):
        first_matmul = next(x for x in first_matmul.grad_fn.inputs if isinstance(x, Tensor))
    held = sum({id(a): a.nbytes for a in first_matmul.grad_fn.saved_arrays()}.values())
    labels = [label(a) for a in found.values() if "shape=box" in a]
    assert ["MatMulBackward", "(5, 3) float32", f"holds {held} B"] in labels
    assert ["CrossEntropyBackward", "scalar float32"] in [lines[:2] for lines in labels]


def test_unnamed_parameters_are_called_parameters_and_the_text_is_stable(graph) -> None:
    loss, _ = graph
    dot = graph_dot(loss)
    assert dot == graph_dot(loss)  # n0, n1, ...: the same text every time
    assert sum(label(a)[0] == "parameter" for a in nodes(dot).values()) == 4


def test_a_tensor_without_a_graph_is_one_leaf() -> None:
    dot = graph_dot(Tensor([1.0, 2.0]))
    assert len(nodes(dot)) == 1 and edges(dot) == []


def test_without_the_graphviz_package_draw_graph_says_what_to_install(
    graph, monkeypatch, tmp_path
) -> None:
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz -> ImportError
    with pytest.raises(ImportError, match=r"draw_graph needs the graphviz package.*pip install"):
        draw_graph(graph[0], tmp_path / "g.svg")
    assert not list(tmp_path.iterdir())


def test_without_the_dot_program_draw_graph_says_what_to_install(
    graph, monkeypatch, tmp_path
) -> None:
    class ExecutableNotFound(RuntimeError):
        pass

    class Source:
        def __init__(self, text: str) -> None:
            self.text = text

        def pipe(self, format: str) -> bytes:
            raise ExecutableNotFound("failed to execute PosixPath('dot')")

    fake = types.SimpleNamespace(Source=Source, ExecutableNotFound=ExecutableNotFound)
    monkeypatch.setitem(sys.modules, "graphviz", fake)
    with pytest.raises(FileNotFoundError, match=r"dot program.*install Graphviz.*graph_dot"):
        draw_graph(graph[0], tmp_path / "g.svg")
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program not installed")
def test_with_graphviz_draw_graph_writes_the_picture(graph, tmp_path) -> None:
    pytest.importorskip("graphviz")
    loss, names = graph
    path = draw_graph(loss, tmp_path / "graph.svg", names)
    svg = path.read_text()
    assert "<svg" in svg and "CrossEntropyBackward" in svg and "0.weight" in svg
