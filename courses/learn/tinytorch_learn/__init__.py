"""The TinyTorch curriculum as data (:mod:`tinytorch_learn.curriculum`) for learners' tools."""
