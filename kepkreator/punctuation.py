"""Punctuation and currency signs drawn as pen strokes in the hand of the digits around them.

No dataset here has handwritten punctuation, so each sign is a few strokes (lines, arcs, dots) laid out in the
28 x 28 frame MNIST digits use (ink between rows 4 and 24, baseline near row 24). A sign takes its look from the
generated digits of the same text: their stroke thickness, their slant (the shear of their ink), their colour,
and a wobble of the stroke points that grows as neatness falls. The strokes are drawn four times larger and
reduced, which gives them the soft edges of the generated digits.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image, ImageDraw

Stroke = list[tuple[float, float]]
SIDE = 28
SUPERSAMPLE = 4
TOP, BASELINE, MIDDLE = 5.0, 23.5, 14.5  # where MNIST digits put their ink


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, points: int = 14) -> Stroke:
    """Points on an ellipse from angle `start` to `end` (degrees, 0 = right, 90 = down, as image rows run)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(start, end, points)]


def dot(x: float, y: float) -> Stroke:
    return [(x - 0.5, y - 0.3), (x + 0.5, y + 0.3)]


SIGNS: dict[str, list[Stroke]] = {
    "+": [[(8, MIDDLE), (20, MIDDLE)], [(14, MIDDLE - 6), (14, MIDDLE + 6)]],
    "-": [[(8, MIDDLE), (20, MIDDLE)]],
    "=": [[(8, MIDDLE - 2.5), (20, MIDDLE - 2.5)], [(8, MIDDLE + 2.5), (20, MIDDLE + 2.5)]],
    ".": [dot(14, BASELINE - 1)],
    ",": [[(14.5, BASELINE - 1.5), (14.5, BASELINE), (13, BASELINE + 2.5)]],
    ":": [dot(14, MIDDLE - 3.5), dot(14, BASELINE - 1)],
    "/": [[(19, TOP), (9, BASELINE)]],
    "(": [arc(20, MIDDLE, 6, 11, 120, 240)],
    ")": [arc(8, MIDDLE, 6, 11, -60, 60)],
    "%": [arc(9.5, TOP + 3.5, 2.5, 3.5, 0, 360), [(19, TOP), (9, BASELINE)],
          arc(18.5, BASELINE - 3.5, 2.5, 3.5, 0, 360)],
    "$": [arc(14, TOP + 4.75, 5, 4.75, -30, -270) + arc(14, BASELINE - 4.75, 5, 4.75, -90, 150),
          [(14, TOP - 2), (14, BASELINE + 2)]],
    "€": [arc(16, MIDDLE, 7, 9.5, 300, 60, 16), [(6, MIDDLE - 2), (16, MIDDLE - 2)],
          [(6, MIDDLE + 2), (15, MIDDLE + 2)]],
    "£": [arc(14.5, TOP + 4, 3.5, 4, -30, -180) + [(11, MIDDLE), (11, BASELINE - 3), (8.5, BASELINE)],
          [(8.5, BASELINE), (20, BASELINE)], [(8, MIDDLE + 1), (15, MIDDLE + 1)]],
    "¥": [[(8, TOP), (14, MIDDLE)], [(20, TOP), (14, MIDDLE)], [(14, MIDDLE), (14, BASELINE)],
          [(9, MIDDLE + 1), (19, MIDDLE + 1)], [(9, MIDDLE + 4.5), (19, MIDDLE + 4.5)]],
    "₹": [[(8, TOP), (20, TOP)], [(8, TOP + 4), (20, TOP + 4)],
          arc(11, TOP + 4.25, 5, 4.25, -90, 90) + [(9, TOP + 8.5), (19, BASELINE)]],
}
ALIASES = {"\u2212": "-", "\u2013": "-", "\u2014": "-"}  # minus sign, en and em dashes
CHARACTERS = "".join(SIGNS)


class HandLook:
    """What the punctuation copies from the digits drawn beside it."""

    def __init__(self, thickness: float = 2.4, slant: float = 0.0, colour: tuple[float, float, float] | None = None):
        self.thickness, self.slant, self.colour = thickness, slant, colour

    @classmethod
    def of(cls, glyphs: torch.Tensor) -> "HandLook":
        """Measured on N x C x 28 x 28 ink maps in [0, 1] (C = 1, or 3 for coloured glyphs); defaults if N = 0."""
        if len(glyphs) == 0:
            return cls()
        alpha = glyphs.amax(dim=1)
        slant, thickness = slant_and_thickness(alpha)
        colour = None
        if glyphs.shape[1] == 3:
            mass = alpha.sum().clamp(min=1e-6)
            colour = tuple((glyphs.sum(dim=(0, 2, 3)) / mass).clamp(0, 1).tolist())
        return cls(thickness.clamp(1.5, 5).median().item(), slant.clamp(-0.6, 0.6).median().item(), colour)


def slant_and_thickness(ink: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per N x H x W ink map in [0, 1]: the slant (the shear of the ink's second moments, columns per row, as
    deskewing measures it) and the stroke thickness in pixels (the inked area over half its outline)."""
    inked = ink > 0.5
    area = inked.sum(dim=(1, 2)).float()
    inner = (inked[:, 1:-1, 1:-1] & inked[:, :-2, 1:-1] & inked[:, 2:, 1:-1] & inked[:, 1:-1, :-2]
             & inked[:, 1:-1, 2:])
    edge = (area - inner.sum(dim=(1, 2)).float()).clamp(min=1)
    rows, cols = torch.meshgrid(torch.arange(ink.shape[1], dtype=torch.float32),
                                torch.arange(ink.shape[2], dtype=torch.float32), indexing="ij")
    weight = ink / ink.sum(dim=(1, 2), keepdim=True).clamp(min=1e-6)
    dy = rows - (weight * rows).sum(dim=(1, 2), keepdim=True)
    dx = cols - (weight * cols).sum(dim=(1, 2), keepdim=True)
    shear = (weight * dx * dy).sum(dim=(1, 2)) / (weight * dy * dy).sum(dim=(1, 2)).clamp(min=1e-6)
    return shear, 2 * area / edge


def draw_sign(sign: str, look: HandLook, wobble: float, rng: np.random.Generator) -> torch.Tensor:
    """One sign as a C x 28 x 28 ink map in [0, 1] (C = 3 when the look has a colour)."""
    big = SIDE * SUPERSAMPLE
    canvas = Image.new("L", (big, big), 0)
    pen = ImageDraw.Draw(canvas)
    width = max(1, round(look.thickness * SUPERSAMPLE))
    for stroke in SIGNS[ALIASES.get(sign, sign)]:
        points = np.array(stroke, dtype=np.float64)
        points += rng.normal(0, wobble, size=points.shape) if wobble else 0
        points[:, 0] += look.slant * (points[:, 1] - MIDDLE)
        scaled = [tuple(p) for p in points * SUPERSAMPLE]
        pen.line(scaled, fill=255, width=width, joint="curve")
        for x, y in (scaled[0], scaled[-1]):  # round pen ends
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    ink = torch.from_numpy(np.asarray(canvas.resize((SIDE, SIDE), Image.LANCZOS), dtype=np.float32) / 255)
    ink = ink.clamp(0, 1)[None]
    return ink if look.colour is None else ink * torch.tensor(look.colour)[:, None, None]
