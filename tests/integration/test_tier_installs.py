"""Each tier installs alone, from its wheel, with only the tiers below it.

Each test makes its own virtual environment and installs wheels into it, so nothing
in the environment that runs the tests can make it pass.
"""

from __future__ import annotations


def test_arch_alone_pulls_foundation_and_nothing_but_numpy_and_tqdm(venv, wheels):
    venv.install("--find-links", wheels["arch"].parent, wheels["arch"])
    assert venv.distributions() == {"tinytorch-arch", "tinytorch-foundation", "numpy", "tqdm"}
    out = venv.python_c(
        "import numpy as np\n"
        "import tinytorch.vision\n"
        "from tinytorch.core import Tensor\n"
        "from tinytorch.nn import Conv2d, MaxPool2d\n"
        "assert Conv2d is tinytorch.vision.Conv2d\n"
        "y = MaxPool2d(2)(Conv2d(1, 4, 3)(Tensor(np.zeros((2, 1, 8, 8)))))\n"
        "print(y.shape)"
    )
    assert out.strip() == "(2, 4, 3, 3)"


def test_foundation_alone_says_which_tier_conv2d_needs(venv, wheels):
    venv.install(wheels["foundation"])
    assert venv.distributions() == {"tinytorch-foundation", "numpy", "tqdm"}
    out = venv.python_c(
        "import importlib.util\n"
        "import tinytorch.nn as nn\n"
        "assert importlib.util.find_spec('tinytorch.vision') is None\n"
        "for name in ('Conv2d', 'Tokamak'):\n"
        "    try:\n"
        "        getattr(nn, name)\n"
        "    except (AttributeError, ImportError) as error:\n"
        "        print(type(error).__name__, isinstance(error, ImportError), error)\n"
        "try:\n"
        "    from tinytorch.nn import MaxPool2d\n"
        "except ImportError as error:\n"
        "    print('from-import:', error)\n"
        "print('Linear works:', nn.Linear(2, 3).num_parameters())"
    )
    conv, unknown, from_import, linear = out.strip().splitlines()
    # A curriculum layer of a missing tier: an ImportError (so `from ... import` keeps the
    # message) that names the tier to install and the installed ones.
    assert conv.startswith(
        "TierNotInstalledError True tinytorch.nn.Conv2d comes with tinytorch-arch"
    )
    assert "installed tiers: tinytorch-foundation 0." in conv
    # A name no tier provides is an AttributeError naming the installed tiers.
    assert unknown.startswith("AttributeError False tinytorch.nn has no 'Tokamak'")
    assert "installed tiers: tinytorch-foundation 0." in unknown
    assert from_import.startswith("from-import: tinytorch.nn.MaxPool2d comes with tinytorch-arch")
    assert linear == "Linear works: 9"
