"""Course tooling for the TinyTorch tiers.

The tier packages in ``packages/`` are the solution branch. These modules turn them
into what a course hands out and checks:

``markers``   read ``### BEGIN SOLUTION`` / ``### BEGIN HIDDEN TESTS`` blocks and strip them
``student``   generate a learner's tree (``build/student/<tier>``), git-initialised
``leaks``     prove that no solution line reached a student artefact
``coverage``  prove that every solution block is noticed by its module's tests
``grading``   run each module's tests against a learner's code and award points
``tiers``     what a tier directory holds (shared by all of the above)

Each has a command line: ``python -m coursetools.student``, ``python -m coursetools.leaks``,
``python -m coursetools.coverage`` and ``python -m coursetools.grade``.
"""
