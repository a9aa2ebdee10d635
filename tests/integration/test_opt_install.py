"""The optimization tier installs alone, from its wheel, and brings exactly the tiers below.

A fresh virtual environment gets only the opt wheel (``--find-links`` to the folder that
holds the three tier wheels): arch and foundation must arrive as its declared
dependencies, and nothing else but NumPy, tqdm and jsonschema with what they need.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PACKAGES = Path(__file__).resolve().parents[2] / "packages"

# Every distribution reachable from tinytorch-opt's requirements, as the venv sees it.
DEPENDENCY_CLOSURE = """
import importlib.metadata as m, json, re

def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()

installed = {norm(d.metadata["Name"]): d for d in m.distributions()}
requires = {}
for name, dist in installed.items():
    requires[name] = sorted(
        {norm(re.split(r"[\\s;<>=!~\\[(]", r, maxsplit=1)[0]) for r in dist.requires or []
         if "extra ==" not in r}
    )
reached, todo = set(), ["tinytorch-opt"]
while todo:
    name = todo.pop()
    if name in installed and name not in reached:
        reached.add(name)
        todo += requires[name]
print(json.dumps({"installed": sorted(installed), "reached": sorted(reached),
                  "requires": requires}))
"""
BOOTSTRAP = {"pip", "setuptools", "wheel"}
TIER_NAMES = {"tinytorch-foundation", "tinytorch-arch", "tinytorch-opt"}


@pytest.fixture(scope="session")
def opt_wheel(wheels: dict[str, Path]) -> Path:
    return wheels["opt"]


def test_opt_alone_pulls_arch_foundation_and_only_their_declared_dependencies(venv, opt_wheel):
    venv.install("--find-links", opt_wheel.parent, opt_wheel)
    report = json.loads(venv.python_c(DEPENDENCY_CLOSURE))
    installed = set(report["installed"]) - BOOTSTRAP
    assert {name for name in installed if name.startswith("tinytorch")} == TIER_NAMES
    # Nothing is installed that the opt tier does not (transitively) ask for ...
    assert installed == set(report["reached"])
    # ... and outside the tiers the tiers ask for NumPy, tqdm and jsonschema only.
    direct = {dep for tier in TIER_NAMES for dep in report["requires"][tier]} - TIER_NAMES
    assert direct == {"numpy", "tqdm", "jsonschema"}
    out = venv.python_c(
        "import numpy as np\n"
        "import tinytorch.perf.quantization as q\n"
        "from tinytorch.nn import Conv2d, Linear, QuantizedLinear\n"
        "from tinytorch.perf import generate_cached\n"
        "from tinytorch.text import GPT\n"
        "from tinytorch.capstone import load_schema\n"
        "assert QuantizedLinear is q.QuantizedLinear\n"
        "layer = QuantizedLinear.from_float(Linear(4, 3))\n"
        "gpt = GPT(7, 8, 2, 1, 8)\n"
        "ids = generate_cached(gpt, np.array([1, 2]), 4)\n"
        "assert (ids == gpt.generate(np.array([1, 2]), 4, temperature=0)).all()\n"
        "print(layer(np.ones((2, 4), dtype=np.float32)).shape, ids.shape, load_schema()['type'])"
    )
    assert out.strip() == "(2, 3) (6,) object"
