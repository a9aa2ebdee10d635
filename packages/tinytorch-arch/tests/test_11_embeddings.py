"""Module 11 · Embeddings — the specification of lookups and positions.

An embedding is a table lookup; its gradient lands only in the rows a batch used, and
adds up where an id repeats. Positions are added to the token vectors: a fixed
sinusoidal table, or one learned row per position.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch.core import Tensor, gradcheck
from tinytorch.testing import case_ids, check_op, op_cases
from tinytorch.text.embeddings import (
    Embedding,
    EmbeddingGradReport,
    LearnedPositionalEmbedding,
    PositionalEncoding,
    sinusoidal_table,
)


def f64(module):
    for p in module.parameters():
        p.data = p.data.astype(np.float64)
    return module


# ----------------------------------------------------------------------------- Embedding


class TestEmbedding:
    def test_lookup_returns_the_rows_of_the_table(self):
        emb = Embedding(10, 4)
        ids = np.array([[1, 2, 3], [9, 0, 1]])
        out = emb(ids)
        assert out.shape == (2, 3, 4) and out.dtype == np.float32
        np.testing.assert_array_equal(out.data, emb.weight.data[ids])

    def test_accepts_lists_and_integer_tensors(self):
        emb = Embedding(5, 3)
        np.testing.assert_array_equal(emb([4, 0]).data, emb(Tensor([4, 0], dtype=np.int64)).data)

    @pytest.mark.ungraded
    def test_table_size_and_pytorch_style_initialisation(self):
        emb = Embedding(1000, 16)
        assert emb.weight.shape == (1000, 16) and emb.weight.requires_grad
        assert emb.num_parameters() == 16_000 and emb.parameter_bytes() == 64_000
        assert abs(emb.weight.data.std() - 1.0) < 0.05  # N(0, 1) like torch.nn.Embedding

    def test_gradient_lands_only_in_the_rows_used(self):
        emb = Embedding(8, 3)
        out = emb(np.array([1, 5]))
        out.backward(np.ones((2, 3), dtype=np.float32))
        grad = emb.weight.grad.data
        assert grad.shape == (8, 3)
        np.testing.assert_array_equal(np.flatnonzero(np.abs(grad).sum(axis=1)), [1, 5])
        np.testing.assert_array_equal(out.grad_fn.rows_touched, [1, 5])

    def test_repeated_indices_accumulate_their_gradients(self):
        emb = Embedding(4, 2)
        ids = np.array([[2, 2], [2, 0]])
        upstream = np.arange(8, dtype=np.float32).reshape(2, 2, 2)
        emb(ids).backward(upstream)
        grad = emb.weight.grad.data
        np.testing.assert_array_equal(grad[2], upstream[0, 0] + upstream[0, 1] + upstream[1, 0])
        np.testing.assert_array_equal(grad[0], upstream[1, 1])
        np.testing.assert_array_equal(grad[[1, 3]], 0.0)

    @pytest.mark.parametrize(
        "num_embeddings, dim, ids_shape", [(7, 3, (3, 5)), (2, 5, (9,)), (11, 1, (2, 2, 3))]
    )
    def test_gradient_matches_a_one_hot_product(self, rng, num_embeddings, dim, ids_shape):
        """The scatter-add against the unfused composition: one_hot(ids) @ weight."""
        emb = f64(Embedding(num_embeddings, dim))
        ids = rng.integers(0, num_embeddings, size=ids_shape)
        upstream = rng.standard_normal((*ids_shape, dim))
        out = emb(ids)
        out.backward(upstream)
        table = Tensor(emb.weight.data.copy(), requires_grad=True, dtype=np.float64)
        (Tensor(np.eye(num_embeddings)[ids], dtype=np.float64) @ table).backward(upstream)
        np.testing.assert_allclose(emb.weight.grad.data, table.grad.data, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(out.grad_fn.rows_touched, np.unique(ids))

    def test_gradcheck(self):
        emb = f64(Embedding(6, 3))
        ids = np.array([[0, 5, 5], [2, 0, 1]])
        assert gradcheck(lambda w: emb(ids), [emb.weight])

    def test_out_of_range_and_non_integer_ids_are_refused_with_shapes(self):
        emb = Embedding(5, 2)
        with pytest.raises(
            IndexError,
            match=r"index 7 is out of range for a table of 5 rows "
            r"\(indices shape \(2, 2\)\)",
        ):
            emb(np.array([[0, 7], [1, 2]]))
        with pytest.raises(IndexError, match="index -1"):
            emb(np.array([-1, 2]))
        with pytest.raises(TypeError, match="indices must be integers, got dtype float"):
            emb(np.array([0.0, 1.0]))
        with pytest.raises(ValueError, match="Embedding: num_embeddings must be >= 1, got 0"):
            Embedding(0, 4)

    def test_gradient_report_counts_rows_and_bytes(self):
        emb = Embedding(1000, 16)
        report = emb.gradient_report(np.array([[3, 3, 7], [7, 9, 3]]))
        assert report == EmbeddingGradReport(3, 1000, 16, 4)
        assert report.dense_bytes == 1000 * 16 * 4
        assert report.sparse_bytes == 3 * (16 * 4 + 8)
        assert report.fraction_used == pytest.approx(0.003)
        assert "3 of 1,000 rows" in str(report)
        with pytest.raises(IndexError, match="gradient_report"):
            emb.gradient_report([1000])


# ----------------------------------------------------------------------------- positions


class TestSinusoidal:
    def test_table_follows_the_formula(self):
        d = 6
        table = sinusoidal_table(5, d)
        assert table.shape == (5, 6) and table.dtype == np.float32
        np.testing.assert_allclose(table[0], [0, 1, 0, 1, 0, 1], atol=1e-7)
        for pos in range(5):
            for i in range(d // 2):
                angle = pos / 10000 ** (2 * i / d)
                assert table[pos, 2 * i] == pytest.approx(np.sin(angle), abs=1e-6)
                assert table[pos, 2 * i + 1] == pytest.approx(np.cos(angle), abs=1e-6)

    def test_odd_dimensions_work(self):
        table = sinusoidal_table(4, 5)
        assert table.shape == (4, 5)
        np.testing.assert_allclose(table[1, 4], np.sin(1 / 10000 ** (4 / 5)), rtol=1e-6)

    def test_positional_encoding_adds_the_table_and_has_no_parameters(self):
        pe = PositionalEncoding(10, 4)
        x = Tensor(np.zeros((2, 3, 4)))
        np.testing.assert_allclose(pe(x).data[1], sinusoidal_table(10, 4)[:3])
        np.testing.assert_allclose(pe(x, start_pos=4).data[0], sinusoidal_table(10, 4)[4:7])
        assert pe.parameters() == [] and pe.state_dict() == {}

    def test_gradient_passes_straight_through(self):
        pe = PositionalEncoding(10, 4)
        x = Tensor(
            np.random.default_rng(0).standard_normal((2, 3, 4)),
            requires_grad=True,
            dtype=np.float64,
        )
        assert gradcheck(pe, [x])

    def test_sequences_longer_than_max_len_are_refused(self):
        pe = PositionalEncoding(4, 2)
        with pytest.raises(ValueError, match=r"positions 3..5 .*exceed max_len 4"):
            pe(Tensor(np.zeros((1, 3, 2))), start_pos=3)
        with pytest.raises(ValueError, match=r"expected input \(..., seq_len, 2\)"):
            pe(Tensor(np.zeros((1, 3, 5))))


class TestLearnedPositions:
    def test_adds_one_learned_row_per_position(self):
        pos = LearnedPositionalEmbedding(6, 3)
        assert pos.num_parameters() == 18
        x = Tensor(np.ones((2, 4, 3), dtype=np.float32))
        np.testing.assert_allclose(pos(x).data[0], 1 + pos.weight.data[:4])
        np.testing.assert_allclose(pos(x, start_pos=2).data[1], 1 + pos.weight.data[2:6])

    def test_only_the_positions_used_get_a_gradient(self):
        pos = LearnedPositionalEmbedding(6, 3)
        x = Tensor(np.ones((2, 4, 3), dtype=np.float32))
        pos(x).sum().backward()
        np.testing.assert_array_equal(pos.weight.grad.data[:4], 2.0)  # summed over the batch
        np.testing.assert_array_equal(pos.weight.grad.data[4:], 0.0)

    def test_gradcheck_against_input_and_table(self):
        pos = f64(LearnedPositionalEmbedding(5, 3))
        x = Tensor(
            np.random.default_rng(1).standard_normal((2, 4, 3)),
            requires_grad=True,
            dtype=np.float64,
        )
        assert gradcheck(lambda x, w: pos(x, start_pos=1), [x, pos.weight])

    def test_too_long_sequences_are_refused(self):
        with pytest.raises(ValueError, match="exceed max_len 2"):
            LearnedPositionalEmbedding(2, 3)(Tensor(np.zeros((1, 3, 3))))


# ----------------------------------------------------------------------------- the op table

MODULE_11 = op_cases([11])


@pytest.mark.parametrize("case", MODULE_11, ids=case_ids(MODULE_11))
def test_every_op_of_this_module_keeps_its_row_of_the_op_table(case, rng) -> None:
    """From ``tinytorch.testing``: the NumPy forward, the gradient rule the op's own code
    names (and records), and that rule's gradient against finite differences."""
    check_op(case, rng)
