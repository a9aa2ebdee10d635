"""Course tooling for the TinyTorch tiers.

The tier packages in ``packages/`` are the solution branch. These modules turn them
into what a course hands out and checks:

``markers``   read ``### BEGIN SOLUTION`` / ``### BEGIN HIDDEN TESTS`` blocks and strip them
``student``   generate a learner's tree (``build/student/<tier>``), git-initialised
``leaks``     prove that no solution line reached a student artefact
``coverage``  prove that every solution block is noticed by its module's tests and checks
``grading``   the instructor's grade: graded checks on a learner's code vs an answer key
``answers``   record answer keys from the solution (they stay with the instructor)
``sandbox``   run untrusted code in a worker and get back plain, size-limited data
``gradebook`` grade a folder of submissions, checked as data first
``classroom`` the learner's own estimate in CI, from their tests
``tiers``     what a tier directory holds (shared by all of the above)
``files``     the one way they write a file: whole or not at all (atomic rename)

Each has a command line: ``python -m coursetools.student``, ``python -m coursetools.leaks``,
``python -m coursetools.coverage``, ``python -m coursetools.grade`` and
``python -m coursetools.gradebook``.
"""
