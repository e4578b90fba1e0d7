"""The map as CSV: its columns, one row per digit, and a round trip through pandas that gives back the very numbers
the map drew."""
import io

import numpy as np
import pandas as pd
import pytest

from vae_core.map_table import FIXED_COLUMNS, map_table

N = 50


@pytest.fixture
def test_set():
    """What the latent map holds for N test digits: labels, float32 means, log-variances and PCA codes, float64
    scores."""
    rng = np.random.default_rng(0)
    return dict(labels=rng.integers(0, 10, N), mu=rng.normal(size=(N, 2)).astype(np.float32),
                logvar=rng.normal(-4.0, 1.0, (N, 2)).astype(np.float32),
                pca_codes=(rng.normal(size=(N, 2)) * 3).astype(np.float32))


@pytest.fixture
def scores():
    rng = np.random.default_rng(1)
    return {"neg_elbo": rng.normal(100, 20, N), "kl": rng.gamma(2.0, 3.0, N)}


def read(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text))


# ----------------------------------------------------------------------------------------------------------- shape


def test_the_header_names_the_columns_and_then_the_scores_in_their_order(test_set, scores):
    table = read(map_table(None, **test_set, scores=scores))
    assert list(table.columns) == ["test_index", "label", "z1", "z2", "sigma1", "sigma2", "pc1", "pc2", "neg_elbo", "kl"]


def test_without_scores_there_are_no_score_columns(test_set):
    for scores in (None, {}):
        assert list(read(map_table(None, **test_set, scores=scores)).columns) == list(FIXED_COLUMNS)


def test_the_whole_map_is_one_row_per_digit_in_test_index_order(test_set):
    table = read(map_table(None, **test_set))
    assert len(table) == N and table["test_index"].tolist() == list(range(N))


def test_a_selection_gives_its_rows_only_in_its_order(test_set, scores):
    chosen = [41, 3, 17]
    table = read(map_table(chosen, **test_set, scores=scores))
    assert table["test_index"].tolist() == chosen
    assert table["label"].tolist() == test_set["labels"][chosen].tolist()
    assert np.array_equal(table["kl"].to_numpy(), scores["kl"][chosen])


def test_an_empty_selection_is_the_header_alone(test_set):
    text = map_table([], **test_set)
    assert text == ",".join(FIXED_COLUMNS) + "\n" and read(text).empty


# ------------------------------------------------------------------------------------------------------ round trip


def test_pandas_reads_back_the_exact_numbers_the_map_drew(test_set, scores):
    table = read(map_table(None, **test_set, scores=scores))
    mu, sigma, pca = test_set["mu"], np.exp(0.5 * test_set["logvar"]), test_set["pca_codes"]
    for columns, expected in ((["z1", "z2"], mu), (["sigma1", "sigma2"], sigma), (["pc1", "pc2"], pca)):
        read_back = table[columns].to_numpy()
        assert np.allclose(read_back, expected, rtol=0, atol=1e-6)
        assert np.array_equal(read_back.astype(np.float32), expected)  # float32 in, the same float32 back
    for name, values in scores.items():
        assert np.array_equal(table[name].to_numpy(), values)  # float64 scores: bit for bit
    assert np.array_equal(table["label"].to_numpy(), test_set["labels"])


def test_sigma_is_the_square_root_of_the_variance(test_set):
    table = read(map_table(None, **test_set))
    assert np.allclose(np.log(table[["sigma1", "sigma2"]].to_numpy() ** 2), test_set["logvar"], atol=1e-5)


# ------------------------------------------------------------------------------------------------------ refusals


def test_arrays_of_different_lengths_are_refused(test_set, scores):
    with pytest.raises(ValueError, match="pca_codes"):
        map_table(None, **{**test_set, "pca_codes": test_set["pca_codes"][:-1]})
    with pytest.raises(ValueError, match="kl"):
        map_table(None, **test_set, scores={**scores, "kl": scores["kl"][:3]})


def test_a_score_cannot_take_the_name_of_a_fixed_column(test_set):
    with pytest.raises(ValueError, match="label"):
        map_table(None, **test_set, scores={"label": np.zeros(N)})


def test_an_index_outside_the_test_set_is_refused(test_set):
    for bad in ([0, N], [-1]):
        with pytest.raises(IndexError, match=r"indices must lie in \[0, 50\)"):
            map_table(bad, **test_set)
