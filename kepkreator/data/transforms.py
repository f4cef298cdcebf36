"""The 8 dihedral transforms of a square image and colourising grey images into one RGB channel."""
from __future__ import annotations

import torch

# Rotation by k quarter turns (counter-clockwise), then an optional left-right mirror.
TRANSFORMS = ("identity", "rotate 90", "rotate 180", "rotate 270",
              "mirror", "rotate 90 + mirror", "rotate 180 + mirror", "rotate 270 + mirror")
COLOURS = ("red", "green", "blue")


def dihedral(images: torch.Tensor, index: int) -> torch.Tensor:
    """Apply transform `index` (see TRANSFORMS) to the last two dimensions."""
    if not 0 <= index < len(TRANSFORMS):
        raise ValueError(f"transform index must be 0..{len(TRANSFORMS) - 1}, got {index}")
    out = torch.rot90(images, index % 4, dims=(-2, -1))
    return out.flip(-1) if index >= 4 else out


def undo(index: int) -> int:
    """The transform that undoes transform `index`: quarter turns reverse, mirrored ones are their own inverse."""
    return (4 - index) % 4 if index < 4 else index


def upright(images: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """N x C x H x W images, image i in transform indices[i], turned back upright."""
    out = images.clone()
    for index in indices.unique().tolist():
        rows = indices == index
        out[rows] = dihedral(images[rows], undo(index))
    return out


def colourise(grey: torch.Tensor, colour_weights: torch.Tensor) -> torch.Tensor:
    """Grey N x H x W (or H x W) ink in [0, 1] -> N x 3 x H x W, the ink spread over channels by weight."""
    weights = colour_weights.to(grey.dtype)
    if weights.ndim == 1:
        weights = weights.expand(grey.shape[0] if grey.ndim == 3 else 1, 3)
    grey = grey if grey.ndim == 3 else grey.unsqueeze(0)
    return grey.unsqueeze(1) * weights[:, :, None, None]
