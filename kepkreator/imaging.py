"""Tensor images to PIL, alone, side by side with captions, or in a captioned grid."""
from __future__ import annotations

import functools

import torch
from PIL import Image, ImageDraw, ImageFont


def to_pil(image: torch.Tensor, scale: int = 1, smooth: bool = False) -> Image.Image:
    """C x H x W in [0, 1] (C = 1 or 3) -> PIL, enlarged `scale` times with hard pixel edges, or resampled
    bicubically with `smooth` (photographs: a face enlarged 4x in blocks looks like a mosaic)."""
    array = (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).squeeze(2).numpy()
    picture = Image.fromarray(array)
    if scale == 1:
        return picture
    return picture.resize((picture.width * scale, picture.height * scale), Image.BICUBIC if smooth else Image.NEAREST)


def side_by_side(pictures: list[Image.Image], captions: list[str], gap: int = 8) -> Image.Image:
    """Pictures of one size in a row on white, each captioned below."""
    width, height = pictures[0].size
    labels = [caption_tile(caption, width, max(12, height // 14)) for caption in captions]
    canvas = Image.new("RGB", (len(pictures) * width + (len(pictures) - 1) * gap, height + labels[0].height), "white")
    for i, (picture, label) in enumerate(zip(pictures, labels)):
        left = i * (width + gap)
        canvas.paste(picture.convert("RGB"), (left, 0))
        canvas.paste(label, (left, height))
    return canvas


@functools.lru_cache(maxsize=512)
def caption_tile(caption: str, width: int, size: int) -> Image.Image:
    """`caption` centred in black on a white strip `width` wide. Cached: rendering text costs a face endpoint as
    much as drawing the face, and a page shows the same few names again and again."""
    font = ImageFont.load_default(size=size)
    tile = Image.new("RGB", (width, size + 10), "white")
    ImageDraw.Draw(tile).text((width // 2, tile.height // 2), caption, fill="black", font=font, anchor="mm")
    return tile


def blend_captions(steps: int) -> list[str]:
    """Captions for `steps` images from A to B: the ends by name, the rest by B's share."""
    return ["A", *(f"{i / (steps - 1):.2f}" for i in range(1, steps - 1)), "B"]


def labelled_grid(images: torch.Tensor, columns: list[str], rows: list[str] | None = None,
                  scale: int = 1) -> Image.Image:
    """N x C x H x W images in [0, 1] laid out len(columns) across, each column captioned above and, with
    `rows`, each row captioned on the left: a grid a visitor can read without counting cells."""
    from torchvision.utils import make_grid  # only when a grid is asked for: torchvision's import is large

    padding = 2
    grid = to_pil(make_grid(images, nrow=len(columns), padding=padding, pad_value=1.0), scale)
    font = ImageFont.load_default(size=max(11, 4 * scale))
    top = font.size + 8
    left = max(int(font.getlength(text)) for text in rows) + 10 if rows else 0
    canvas = Image.new(grid.mode, (grid.width + left, grid.height + top), "white")
    canvas.paste(grid, (left, top))
    draw = ImageDraw.Draw(canvas)
    ink = "black"
    cell_w, cell_h = (images.shape[-1] + padding) * scale, (images.shape[-2] + padding) * scale
    first_x = left + padding * scale + images.shape[-1] * scale // 2  # the centre of the first cell
    first_y = top + padding * scale + images.shape[-2] * scale // 2
    for i, text in enumerate(columns):
        draw.text((first_x + i * cell_w, top // 2), text, fill=ink, font=font, anchor="mm")
    for j, text in enumerate(rows or []):
        draw.text((left - 6, first_y + j * cell_h), text, fill=ink, font=font, anchor="rm")
    return canvas
