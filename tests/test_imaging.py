"""Captioned grids: the cells are the generator's pixels, untouched, and the captions sit in margins of their own."""
import numpy as np
import torch
from torchvision.utils import make_grid

from kepkreator.imaging import blend_captions, labelled_grid, to_pil


def test_cells_are_kept_and_captions_drawn_in_the_margins():
    images = torch.rand(6, 1, 16, 16)
    plain = np.asarray(to_pil(make_grid(images, nrow=3, padding=2, pad_value=1.0), scale=2))
    labelled = np.asarray(labelled_grid(images, ["A", "0.50", "B"], ["happy", "surprised"], scale=2))
    top = labelled.shape[0] - plain.shape[0]
    left = labelled.shape[1] - plain.shape[1]
    assert top > 0 and left > 0
    np.testing.assert_array_equal(labelled[top:, left:], plain)  # the drawings are not touched
    assert (labelled[:top, left:] < 128).any() and (labelled[top:, :left] < 128).any()  # ink in both margins
    assert (labelled[:top, :left] == 255).all()  # the corner stays blank


def test_a_longer_row_caption_gets_a_wider_margin_and_no_rows_none():
    images = torch.rand(2, 3, 8, 8)
    short = labelled_grid(images, ["A", "B"], ["sad", "wink"])
    long = labelled_grid(images, ["A", "B"], ["sad", "rotate 270 + mirror"])
    assert long.width > short.width
    assert labelled_grid(images, ["A", "B"]).width == to_pil(make_grid(images, nrow=2, padding=2)).width


def test_blend_captions_name_the_ends_and_give_b_s_share_between():
    assert blend_captions(2) == ["A", "B"]
    assert blend_captions(5) == ["A", "0.25", "0.50", "0.75", "B"]


def test_smooth_enlargement_resamples_where_the_default_keeps_blocks():
    checker = torch.tensor([[0.0, 1.0], [1.0, 0.0]])[None]
    blocks = np.asarray(to_pil(checker, scale=4))
    smooth = np.asarray(to_pil(checker, scale=4, smooth=True))
    assert blocks.shape == smooth.shape == (8, 8)
    assert set(np.unique(blocks)) == {0, 255}
    assert len(np.unique(smooth)) > 2  # values between black and white: no hard block edges
