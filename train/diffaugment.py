"""DiffAugment (Zhao et al. 2020): augmentations applied inside training steps, on batches already on the device."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def translate(images: torch.Tensor, max_shift: int, fill: float | None = -1.0) -> torch.Tensor:
    """Shift each image by up to `max_shift` pixels in x and y, filling with `fill` (the background);
    fill None repeats the edge pixels, for photographs without a plain background."""
    if max_shift == 0:
        return images
    n, c, h, w = images.shape
    device = images.device
    pad = [max_shift] * 4
    padded = F.pad(images, pad, mode="replicate") if fill is None else F.pad(images, pad, value=fill)
    dx, dy = torch.randint(0, 2 * max_shift + 1, (2, n), device=device)
    rows = (torch.arange(h, device=device)[None, :] + dy[:, None])[:, None, :, None]
    cols = (torch.arange(w, device=device)[None, :] + dx[:, None])[:, None, None, :]
    images = torch.arange(n, device=device)[:, None, None, None]
    channels = torch.arange(c, device=device)[None, :, None, None]
    return padded[images, channels, rows, cols]

