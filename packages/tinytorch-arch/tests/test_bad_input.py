"""Bad input at the architecture tier's entry points: each names itself, what it expected
and what arrived. One row per entry point; module test files hold the rest."""

from __future__ import annotations

import pytest

from tinytorch.text import CharTokenizer, LayerNorm, causal_mask

BAD_CALLS = {
    "LayerNorm(eps=-1)": (
        lambda: LayerNorm(4, eps=-1),
        ValueError,
        "LayerNorm: eps must be a finite number > 0.0, got -1",
    ),
    "LayerNorm(eps=nan)": (lambda: LayerNorm(4, eps=float("nan")), ValueError, "got nan"),
    "causal_mask(2.5)": (
        lambda: causal_mask(2.5),
        TypeError,
        "causal_mask: seq_len must be an int, got float 2.5",
    ),
    "causal_mask(2, past_len='3')": (
        lambda: causal_mask(2, "3"),
        TypeError,
        "causal_mask: past_len must be an int, got str '3'",
    ),
    "CharTokenizer(5)": (
        lambda: CharTokenizer(5),
        TypeError,
        "CharTokenizer: chars must be a str or an iterable of characters, got int",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_each_entry_point_names_itself_and_what_arrived(case) -> None:
    call, error, message = BAD_CALLS[case]
    with pytest.raises(error, match=message):
        call()
