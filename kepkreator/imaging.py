"""Tensor images to PIL."""
from __future__ import annotations

import torch
from PIL import Image


def to_pil(image: torch.Tensor, scale: int = 1) -> Image.Image:
    """C x H x W in [0, 1] (C = 1 or 3) -> PIL, enlarged `scale` times with hard pixel edges."""
    array = (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).squeeze(2).numpy()
    picture = Image.fromarray(array)
    return picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST) if scale > 1 else picture
