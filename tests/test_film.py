"""The training film: which steps get a frame, what a frame holds, and stored grids that cannot be forged into
something bigger than a frame."""
import zlib

import numpy as np
import pytest
import torch

import vae_core as vc
from vae_core.film import FilmError, decoded_grid_picture
from vae_core.limits import film_bytes, frame_steps

CFG = vc.ModelConfig(hidden=(32,))


# ---------------------------------------------------------------------------------------------- when frames are taken


def test_frames_come_before_training_inside_epoch_one_and_after_every_epoch():
    assert frame_steps(469, 3) == [0, 10, 30, 100, 300, 469, 938, 1407]


def test_early_steps_past_the_end_of_a_short_epoch_are_left_out():
    assert frame_steps(32, 2) == [0, 10, 30, 32, 64]
    assert frame_steps(4, 2) == [0, 4, 8]


def test_a_training_records_a_frame_at_each_of_its_frame_steps(tiny_data):
    result = vc.train(CFG, vc.TrainConfig(epochs=2, batch_size=8, snapshot_size=12), data=tiny_data, show_bar=False)
    film = result.snapshots
    assert film["steps"].tolist() == frame_steps(32, 2) == [0, 10, 30, 32, 64]
    assert torch.allclose(film["epochs"], torch.tensor([0, 10 / 32, 30 / 32, 1.0, 2.0]))
    assert film["means"].shape == (5, 12, 2) and film["means"].dtype == torch.float16
    assert film["grid_offsets"].shape == (6,) and film["grids"].dtype == torch.uint8


def test_the_last_frame_shows_the_trained_model(tiny_data):
    result = vc.train(CFG, vc.TrainConfig(epochs=2, batch_size=64, snapshot_size=12), data=tiny_data, show_bar=False)
    film, model = result.snapshots, result.model
    images = tiny_data[1][film["indices"]]
    assert torch.allclose(film["means"][-1].float(), torch.as_tensor(vc.encode(model, images)[0]), atol=2e-2)
    last = vc.frame_grid(film, len(film["steps"]) - 1)
    assert np.array_equal(last, vc.film.quantised(decoded_grid_picture(model)))
    assert len(np.unique(last)) <= vc.film.FILM_GREY_LEVELS
    assert not np.array_equal(vc.frame_grid(film, 0), vc.frame_grid(film, len(film["steps"]) - 1))


# ---------------------------------------------------------------------------------------------- what a frame holds


def test_a_decoded_grid_puts_high_z2_at_the_top(tiny_model):
    picture = decoded_grid_picture(tiny_model, grid=3)
    assert picture.shape == (84, 84) and picture.dtype == np.uint8
    with torch.no_grad():
        top_left = torch.sigmoid(tiny_model.decode(torch.tensor([[-3.0, 3.0]]))).reshape(28, 28)
    assert np.array_equal(picture[:28, :28], (top_left * 255).round().to(torch.uint8).numpy())


def test_stored_grids_keep_black_white_and_32_even_grey_levels():
    ramp = np.arange(256, dtype=np.uint8)
    levels = np.unique(vc.film.quantised(ramp))
    assert len(levels) == 32 and levels[0] == 0 and levels[-1] == 255
    assert np.abs(vc.film.quantised(ramp).astype(int) - ramp).max() <= 5  # half of 255 / 31


def test_a_film_of_a_one_dimensional_latent_has_means_but_no_grids():
    model = vc.VAE(vc.ModelConfig(latent_dim=1, hidden=(8,)))
    film = vc.FilmRecorder(torch.rand(4, 784), torch.arange(4), torch.arange(4), 3, 1)
    film.record(model, 0)
    film.record(model, 3)
    snaps = film.result()
    assert vc.has_film(snaps) and not vc.has_grids(snaps)
    with pytest.raises(FilmError, match="no decoded grid"):
        vc.frame_grid(snaps, 0)


def test_captions_name_the_moment_of_each_frame():
    snaps = {"steps": torch.tensor([0, 30, 469, 938]), "epochs": torch.tensor([0.0, 30 / 469, 1.0, 2.0])}
    assert [vc.frame_caption(snaps, i) for i in range(4)] == ["untrained", "step 30 of epoch 1", "epoch 1", "epoch 2"]


# ---------------------------------------------------------------------------------------------- stored grids


def _one_frame(grid_bytes: bytes) -> dict:
    return {"grids": torch.frombuffer(bytearray(grid_bytes), dtype=torch.uint8),
            "grid_offsets": torch.tensor([0, len(grid_bytes)])}


def test_a_grid_that_decompresses_to_more_than_a_frame_is_refused_without_inflating_it():
    bomb = zlib.compress(bytes(50_000_000))  # 49 KB that would inflate to 50 MB
    with pytest.raises(FilmError, match="not a 336 x 336 picture"):
        vc.frame_grid(_one_frame(bomb), 0)


def test_corrupt_or_short_grid_bytes_are_a_film_error():
    with pytest.raises(FilmError, match="corrupt"):
        vc.frame_grid(_one_frame(b"not zlib at all"), 0)
    with pytest.raises(FilmError, match="not a 336 x 336 picture"):
        vc.frame_grid(_one_frame(zlib.compress(bytes(100))), 0)


def test_the_default_runs_film_fits_a_shipped_checkpoint():
    """2,000 digits over 160 epochs of 469 steps: well under the 8 MB that 20 MB minus the default's weights leaves."""
    bound = film_bytes(160, 2000, 2, 469)
    assert bound < 25 * 2**20  # the raw bound; stored compressed, the grids take ~1/4 of it
