"""Datasets · Offline data — everything the milestones train on, with nothing to download.

Connection map
    Prerequisites : NumPy only
    Teaches       : where training data comes from and how to load it safely: toy
                    problems generated on the spot, a small real dataset shipped as
                    ``.npz``, and readers for MNIST and CIFAR-10 files you already have
    Unlocks       : milestones M1–M3 offline (M4 with a local CIFAR-10)

Every loader returns plain NumPy arrays ``(x, y)``: features as float32, class labels
as int64 (toy problems give float32 targets of shape (N, 1) for a single sigmoid
output). Wrap them in Tensors, or in a DataLoader once you have built one.
"""

from tinytorch.datasets.readers import load_cifar10, load_mnist
from tinytorch.datasets.tinydigits import TINYDIGITS_INFO, load_tinydigits
from tinytorch.datasets.tinytalks import TINYTALKS_INFO, load_tinytalks, load_tinytalks_rows
from tinytorch.datasets.toy import linearly_separable, logic_gate, xor_clouds

__all__ = [
    "TINYDIGITS_INFO",
    "TINYTALKS_INFO",
    "linearly_separable",
    "load_cifar10",
    "load_mnist",
    "load_tinydigits",
    "load_tinytalks",
    "load_tinytalks_rows",
    "logic_gate",
    "xor_clouds",
]
