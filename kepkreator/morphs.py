"""Morphs of two photographs: each warped part of the way towards the other along their dense optical flow, then
cross-dissolved (the classic image morph, Beier & Neely 1992, with the correspondence found by optical flow instead
of drawn by hand). The flow is TV-L1 (Zach, Pock & Bischof 2007) as scikit-image implements it, already a
dependency for the readers; at 64x64 a flow takes about 35 ms on one core. Its data term is weighted 10 instead of
scikit-image's 15 and the flow is median-filtered between warps: smoother flows, which tear less where two heads sit
apart, and still carry a shape whole (tests/test_morphs.py) (docs/cooperative-nets.md, "Blend targets in the data").

A morph of person A and person B at B's share t: a point x of A corresponds to x + f_AB(x) in B, and sits at
x + t f_AB(x) in the morph; backwards, the morph at y takes A at y - t f_AB(y) and B at y - (1 - t) f_BA(y), and
mixes them (1 - t) : t. Where the flow cannot be found (a blank or constant image) the pair has no morph.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

FLOW_SETTINGS = {"attachment": 10.0, "prefilter": True}


def flow(reference: np.ndarray, moving: np.ndarray) -> np.ndarray | None:
    """2 x H x W displacement (rows, columns) such that moving[x + d(x)] matches reference[x]; None for an image
    without structure to follow (constant)."""
    from skimage.registration import optical_flow_tvl1

    if reference.std() < 1e-3 or moving.std() < 1e-3:
        return None
    found = optical_flow_tvl1(reference, moving, **FLOW_SETTINGS)
    return found if np.isfinite(found).all() else None


def warp(images: torch.Tensor, displacements: torch.Tensor) -> torch.Tensor:
    """`images` (C x H x W, or N x C x H x W) sampled at x + displacement(x) (2 x H x W or N x 2 x H x W, rows then
    columns), bilinear, edges repeated."""
    if images.ndim == 3:
        return warp(images[None], displacements[None])[0]
    height, width = images.shape[-2:]
    rows, columns = torch.meshgrid(torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32),
                                   indexing="ij")
    at_row, at_column = rows + displacements[:, 0], columns + displacements[:, 1]
    grid = torch.stack([2 * at_column / (width - 1) - 1, 2 * at_row / (height - 1) - 1], dim=-1)
    return F.grid_sample(images, grid.to(images.dtype), mode="bilinear", padding_mode="border", align_corners=True)


def cross_dissolve(a: torch.Tensor, b: torch.Tensor, a_to_b: torch.Tensor, b_to_a: torch.Tensor,
                   share: torch.Tensor | float) -> torch.Tensor:
    """Morphs of images `a` and `b` (N x C x H x W in [0, 1]) given their flows both ways (N x 2 x H x W), at B's
    `share` (a number or N values)."""
    share = torch.as_tensor(share, dtype=a.dtype).reshape(-1, 1, 1, 1)
    warped_a = warp(a, -share * a_to_b)
    warped_b = warp(b, -(1 - share) * b_to_a)
    return ((1 - share) * warped_a + share * warped_b).clamp(0, 1)


def morph(a: torch.Tensor, b: torch.Tensor, share: float) -> torch.Tensor | None:
    """The morph of two C x H x W images in [0, 1] at B's `share` (0: A, 1: B); None if no flow joins them."""
    grey_a, grey_b = a.mean(dim=0).numpy(), b.mean(dim=0).numpy()
    a_to_b, b_to_a = flow(grey_a, grey_b), flow(grey_b, grey_a)
    if a_to_b is None or b_to_a is None:
        return None
    flows = torch.from_numpy(np.stack([a_to_b, b_to_a])).float()
    return cross_dissolve(a[None], b[None], flows[:1], flows[1:], share)[0]


def morphs(a: torch.Tensor, b: torch.Tensor, share: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Morphs of N pairs of images (N x C x H x W each, in [0, 1]) at B's `share`, and which pairs have one."""
    made = [morph(x, y, share) for x, y in zip(a, b)]
    found = torch.tensor([m is not None for m in made], dtype=torch.bool)
    kept = [m for m in made if m is not None]
    return (torch.stack(kept) if kept else a[:0]), found
