# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 05 · Autograd — reverse-mode differentiation over a dynamic graph
#
# The `requires_grad`, `grad` and `backward()` that Module 01 gave every Tensor wake up
# here. When an input requires a gradient, every op records a node: which function ran,
# on which inputs, and how to push a gradient back through it. `backward()` then walks
# that computational graph once, from the output to the leaves, applying the chain rule
# at every node.
#
# ## Connection map
#
# - **Prerequisites**: 01 Tensor, 02 Activations, 03 Layers and 04 Losses: the ops whose
#   derivatives you now write.
# - **This module**: one `Function` abstraction with a `backward` per op, gradients
#   un-broadcast in one place, an iterative topological sort, `gradcheck` against
#   finite differences, `graph_stats` for what a graph costs, `graph_dot` to see it, and
#   `no_grad`.
# - **Unlocks**: 06 Optimizers and 07 Training: every later module that learns.

# %%
import tempfile
import time
from pathlib import Path

import numpy as np

import tinytorch.nn.functional as F
from tinytorch.core import (
    Function,
    Tensor,
    draw_graph,
    gradcheck,
    graph_dot,
    graph_stats,
    manual_seed,
    no_grad,
)
from tinytorch.nn import Linear, ReLU, Sequential
from tinytorch_learn.lesson import run_tests


def f64(values, requires_grad: bool = True) -> Tensor:
    return Tensor(values, requires_grad=requires_grad, dtype=np.float64)


# %% [markdown]
# ## Build
#
# Everything you write lives in **`tinytorch/core/autograd.py`**. The local derivative
# of each op is one `backward(grad)` method returning one gradient per input:
#
# - Module 01 ops: `AddBackward.backward`, `SubBackward.backward`,
#   `MulBackward.backward`, `DivBackward.backward`, `PowBackward.backward`,
#   `NegBackward.backward`, `MatMulBackward.backward`, `SumBackward.backward`,
#   `MeanBackward.backward`, `MaxBackward.backward`, `ReshapeBackward.backward`,
#   `PermuteBackward.backward`, `GetItemBackward.backward`, `ExpBackward.backward`,
#   `LogBackward.backward`, `SqrtBackward.backward`, `ToCopyBackward.backward` (a cast
#   such as `x.double()`: the gradient goes back in the input's dtype).
# - Module 02 ops: `ReLUBackward.backward`, `SigmoidBackward.backward`,
#   `TanhBackward.backward`, `GELUBackward.backward`, `SoftmaxBackward.backward` (a
#   vector-Jacobian product, never the Jacobian itself), `LogSoftmaxBackward.backward`.
# - Module 04 ops: `MSELossBackward.backward`, `CrossEntropyBackward.backward`
#   (`softmax - one_hot`), `BCELossBackward.backward`, `BCEWithLogitsBackward.backward`.
#
# And the engine around them:
#
# - `unbroadcast`: sum a gradient back down to the shape of the input that was
#   broadcast (the only place this happens).
# - `_topological_order`: every node after all of its inputs, with an explicit stack
#   (no recursion, so a chain 10,000 ops deep works).
# - `run_backward`: seed the output's gradient, walk the order in reverse, call each
#   node's `backward`, un-broadcast, accumulate into leaves' `.grad`. Then the graph is
#   spent, as in PyTorch: refuse a walk through a node already `released`
#   (`_refuse_released`), and mark each node released unless `retain_graph=True`, so a
#   second `backward()` cannot silently add the same gradients again.
# - `Engine.record`: what Module 01's `record` hook calls once autograd is active. When
#   an input requires a gradient (and `no_grad` is off), build the node of the rule the
#   op named and attach it to the result; otherwise return the result untouched.
# - `enable_autograd`: install the engine behind the hooks (`set_gradient_engine`).
#
# Once they work, importing `tinytorch` switches gradients on by itself: nothing to call.
#
# **How an op finds its derivative.** Every op of Modules 01–04 ends with one line you
# have already seen, e.g. in `Tensor.__mul__`:
# `return record(out, "MulBackward", self, other)`. It names the class in this module
# that knows the op's derivative, the operands a gradient flows back to, and, by name,
# the settings the rule needs (`record(out, "SumBackward", self, axis=axis,
# keepdims=keepdims)`; the rule reads `self.axis`). Until this module is active the
# hook returns `out` and records nothing; `enable_autograd` puts this module's engine
# behind it. Ops written after this module skip the hook: they are `Function`s with a
# `forward` too, called as `Op.apply(...)` (the `Cube` below is one).

# %% [markdown]
# ## Use
#
# One scalar first: y = x² + 2x has dy/dx = 2x + 2, which is 8 at x = 3.

# %%
x = f64(3.0)
y = x * x + 2 * x
y.backward()
print("y =", y.item(), " dy/dx =", x.grad.item())
print("y was made by", y.grad_fn)

# %% [markdown]
# **Broadcasting in reverse.** A bias of shape (3,) added to a (4, 3) batch fed four
# outputs per element, so its gradient sums those four contributions.

# %%
batch = f64(np.ones((4, 3)), requires_grad=False)
bias = f64(np.zeros(3))
(batch + bias).sum().backward()
print("bias.grad =", bias.grad.data)

# %% [markdown]
# **A whole model.** The graph of one forward pass through a small MLP and its loss:
# how many nodes, and how many bytes they keep alive until `backward` runs.

# %%
manual_seed(0)
model = Sequential(Linear(784, 128), ReLU(), Linear(128, 10))
images = Tensor(np.random.default_rng(0).standard_normal((64, 784)))
labels = np.random.default_rng(1).integers(0, 10, size=64)
loss = F.cross_entropy(model(images), labels)
params = [p.data for p in model.parameters()]
print("graph:", graph_stats(loss))
print("without the parameters:", graph_stats(loss, exclude=params).saved_bytes, "bytes")
loss.backward()
print({name: p.grad.shape for name, p in model.named_parameters()})

# %% [markdown]
# **Seeing the graph.** `graph_dot` writes a graph as Graphviz DOT text: a box per op with
# its output's shape and dtype and the bytes it holds for backward, an oval per parameter
# or piece of data, an arrow from each input to the op that used it. A smaller MLP, small
# enough to read; `draw_graph` turns the same text into an SVG when Graphviz is installed.

# %%
manual_seed(0)
tiny = Sequential(Linear(4, 3), ReLU(), Linear(3, 2))
tiny_loss = F.cross_entropy(tiny(Tensor(np.ones((5, 4)))), np.array([0, 1, 0, 1, 1]))
print(graph_dot(tiny_loss, dict(tiny.named_parameters())))
picture = Path(tempfile.gettempdir()) / "tiny_graph.svg"
try:  # needs `pip install graphviz` and Graphviz's `dot` program
    print("drawn to", draw_graph(tiny_loss, picture, dict(tiny.named_parameters())))
except (ImportError, FileNotFoundError) as missing:
    print(missing)

# %% [markdown]
# **Checking a derivative.** `gradcheck` compares `backward` with central finite
# differences in float64, element by element.

# %%
a, b = f64(np.random.default_rng(2).standard_normal((3, 4))), f64(np.ones((4, 2)))
print("gradcheck:", gradcheck(lambda a, b: F.softmax(a @ b).sum(axis=0), [a, b]))


class Cube(Function):
    """A new op: forward on arrays, backward returning one gradient per input."""

    def forward(self, x):
        return x**3

    def backward(self, grad):
        return (grad * 3 * self.array(0) ** 2,)


print("custom op:", gradcheck(lambda t: Cube.apply(t), [f64([0.5, -2.0])]))

# %% [markdown]
# **Recording costs memory; `no_grad` turns it off** (for evaluation, or for updates
# that must not become part of a graph).

# %%
with no_grad():
    evaluated = model(images)
print("inside no_grad: grad_fn =", evaluated.grad_fn, ", requires_grad =", evaluated.requires_grad)

# %% [markdown]
# ### Run this module's tests

# %%
run_tests("05")

# %% [markdown]
# ## Reflect
#
# **Q1 · What a graph holds.** For the MLP above at batch 64, compare the bytes its
# graph keeps alive (parameters excluded) with the bytes of the parameters. What
# happens at batch 1024?

# %%
# competency: graphs/measures
### BEGIN SOLUTION
parameter_bytes = model.parameter_bytes()
for size in (64, 1024):
    inputs = Tensor(np.zeros((size, 784)))
    held = graph_stats(F.cross_entropy(model(inputs), np.zeros(size, dtype=np.int64)), params)
    print(f"batch {size:>4}: graph {held.saved_bytes / 1e6:6.2f} MB", end="  ")
    print(f"parameters {parameter_bytes / 1e6:.2f} MB")
### END SOLUTION

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** The graph keeps every input and intermediate each op needs for its
# derivative: the 784-wide input, the 128-wide hidden layer before and after ReLU, the
# logits, and the loss's exp(logits − max), which its backward turns into the softmax.
# That is about 0.3 MB at batch 64 against 0.4 MB of parameters, and it grows
# linearly with the batch: at 1024 the graph holds more than ten times the model. The
# memory lives until `backward` has run and the graph is dropped.
# ### END SOLUTION
#
# **Q2 · Deep graphs.** Build a chain of 10,000 additions and call `backward`. Why
# would a recursive graph walk fail here, and what does the walk cost?

# %%
# competency: graphs/knows
### BEGIN SOLUTION
start_value = f64(1.0)
chain = start_value
for _ in range(10_000):
    chain = chain + 1.0
start = time.perf_counter()
chain.backward()
walk_seconds = time.perf_counter() - start
### END SOLUTION
print(f"d(chain)/d(start) = {start_value.grad.item()}, walked in {walk_seconds * 1e3:.0f} ms")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** Python stops recursion at about 1,000 frames, so a depth-first walk that
# recurses per node raises `RecursionError` long before 10,000. An explicit stack has
# no such limit. The walk itself is linear: each node is pushed, visited and has its
# `backward` called once, so the cost is O(nodes + edges) plus the work of the rules.
# ### END SOLUTION
#
# **Q3 · The price of backward.** For `y = x @ W` with x (B, n) and W (n, m), how many
# FLOPs do the forward and the backward pass take? Why does `MatMulBackward` skip the
# gradient of an input that does not require one?
#
# ### BEGIN SOLUTION
# **Answer.** Forward: 2·B·n·m. Backward needs dW = xᵀ·g (2·B·n·m) and, only if x
# requires a gradient, dx = g·Wᵀ (another 2·B·n·m). A full backward pass therefore
# costs about twice the forward, and a whole step about three times. The data batch
# never requires a gradient, so skipping dx for it saves a third of the first layer's
# work, which is often the widest one.
# ### END SOLUTION
#
# **Q4 · The price of checking.** `gradcheck` evaluates the function twice per input
# element. How many forward passes would checking the weights of `Linear(784, 128)`
# take, and what follows for how gradient checks are written?

# %%
# competency: graphs/debugs
### BEGIN SOLUTION
weights = 784 * 128 + 128
forward_passes = 2 * weights
### END SOLUTION
print(f"{forward_passes:,} forward passes for {weights:,} parameters")

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** About 200,000 forward passes: far too slow to run on real shapes. Checks
# therefore use tiny shapes (a (3, 4) weight exercises the same code as a (784, 128)
# one), float64 (float32 rounding at eps = 1e-6 would swamp the difference), and a
# random vector contracted with the output so that one backward pass checks the whole
# vector-Jacobian product.
# ### END SOLUTION
#
# **Q5 · A memory leak.** This loop sums losses to report an average, and its memory
# grows every iteration. Why, and what is the fix?

# %%
# competency: tensors/debugs
total = Tensor(0.0)
for _ in range(3):
    step_loss = F.cross_entropy(model(images), labels)
    total = total + step_loss
print("graph kept alive by `total`:", graph_stats(total))

# %% [markdown]
# ### BEGIN SOLUTION
# **Answer.** `total` is a Tensor that records `total + step_loss`, so it references
# every iteration's graph, and with it every iteration's saved activations: nothing can
# be freed. Accumulate a Python number instead (`total += step_loss.item()`), or
# compute the report inside `no_grad()`. The same bug in PyTorch is the classic
# "memory grows every step" report.
# ### END SOLUTION
#
# **Q6 · Switching on without monkey-patching.** The paper's Module 05 activates
# gradients by monkey-patching: `enable_autograd()` replaces `Tensor`'s methods at run
# time. Here every op calls one hook and `enable_autograd()` changes only what stands
# behind it. Name one thing each design makes easy and one it makes hard. (Hint: what
# happens to a function someone imported with `from tinytorch.nn.activations import
# gelu` before autograd was switched off again?)
#
# ### BEGIN SOLUTION
# **Answer.** Monkey-patching keeps Modules 01–04 completely free of gradient code —
# the ops are pure forward math and autograd is bolted on later, which mirrors how
# PyTorch 0.4 merged `Variable` into `Tensor`. The price is global state that nothing
# in the patched file points to: reading `Tensor.__mul__` does not tell you that its
# result will carry a `MulBackward`, and every name bound before the patch keeps the
# old function. A module that did `from ... import gelu` keeps whichever version it
# saw at import time, so switching autograd off (or on) silently misses it — a stale
# binding. The hook costs one visible line per op, `record(out, "MulBackward", ...)`,
# which names the rule (grep finds it in one step), and the switch swaps one object
# behind the hook, so every binding anywhere sees the change at once; the learner
# meets that line (dormant) in Module 01, before knowing what a gradient rule is.
# ### END SOLUTION
