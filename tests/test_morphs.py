"""Morphs of two images along their optical flow: a shape moves between its two places instead of showing twice."""
import torch

from kepkreator.morphs import morph, morphs, warp


def blob(column: float) -> torch.Tensor:
    rows, columns = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    return torch.exp(-((columns - column) ** 2 + (rows - 32) ** 2) / (2 * 5.0 ** 2))[None]


def centre(image: torch.Tensor) -> float:
    mass = image[0].sum(dim=0)
    return float((mass * torch.arange(64.0)).sum() / mass.sum())


def test_a_morph_moves_the_shape_part_of_the_way_and_keeps_it_whole():
    a, b = blob(24), blob(36)
    for share in (0.25, 0.5, 0.75):
        moved = morph(a, b, share)
        assert abs(centre(moved) - (24 + 12 * share)) < 0.5
        assert moved.max() > 0.9  # one blob at nearly full strength, where a pixel mix shows two at half
    assert ((a + b) / 2).max() < 0.6
    assert torch.allclose(morph(a, b, 0.0), a, atol=1e-4) and torch.allclose(morph(a, b, 1.0), b, atol=1e-4)


def test_no_displacement_leaves_an_image_as_it_is():
    image = torch.rand(3, 16, 16)
    assert torch.allclose(warp(image, torch.zeros(2, 16, 16)), image, atol=1e-6)


def test_an_image_without_structure_has_no_morph_and_is_counted():
    a, blank = blob(24), torch.full((1, 64, 64), 0.5)
    assert morph(a, blank, 0.5) is None
    made, found = morphs(torch.stack([a, a]), torch.stack([blob(36), blank]), 0.5)
    assert found.tolist() == [True, False] and made.shape == (1, 1, 64, 64)
