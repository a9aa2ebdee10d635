"""tinytorch.capstone — Module 20: MLPerf-style submissions (optimization tier).

Build one with ``make_submission`` from two ``ModelResult`` records (baseline and
optimized), write it with ``write_submission`` (validated, atomic), and check any file
with ``validate_submission``, which lists every problem it finds. The JSON Schema ships
as ``tinytorch/capstone/schema.json`` (``load_schema()``). A submission can carry its two
models (``save_model`` into ``models_folder(path)``) so that a leaderboard can measure
them itself instead of trusting the numbers.
"""

from tinytorch.capstone.models import (
    Generation,
    Inputs,
    ModelFileError,
    SavedModel,
    load_model,
    models_folder,
    save_model,
)
from tinytorch.capstone.submission import (
    SCHEMA_VERSION,
    ModelResult,
    SubmissionError,
    improvement,
    load_schema,
    load_submission,
    make_submission,
    validate_submission,
    write_submission,
)

__all__ = [
    "SCHEMA_VERSION",
    "Generation",
    "Inputs",
    "ModelFileError",
    "ModelResult",
    "SavedModel",
    "SubmissionError",
    "improvement",
    "load_model",
    "load_schema",
    "load_submission",
    "make_submission",
    "models_folder",
    "save_model",
    "validate_submission",
    "write_submission",
]
