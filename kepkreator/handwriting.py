"""Text -> one image of handwriting.

A glyph source draws one 28x28 ink map per character; `compose` lays the
glyphs out like a hand would: each cropped to its ink and kerned, with a
little baseline and size jitter, spaces kept, newlines starting lines.
The conditional GAN is the default source: one style latent is shared by the
whole string, blended with a per-character latent by `variation`, and scaled
by the truncation factor that `neatness` sets. The shared latent is drawn from
the style's seed, or is a visitor's own hand found from one digit they drew
(`Handwriter.hand_from`, kepkreator/hands.py).
"""
from __future__ import annotations

import functools
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from kepkreator import hands, punctuation
from kepkreator.batching import batched, for_serving
from kepkreator.hands import Hand, Inversion
from kepkreator.hub import load_model
from kepkreator.models.cgan import Generator
from kepkreator.models.judge import Judge
from kepkreator.validation import InputError, number, shown, whole_number

MAX_CHARACTERS = 100
MAX_LINES = 8  # typed lines; wrapping may make more
MAX_WRAP = 100
MAX_SCALE = 8
MAX_PIXELS = 6_000_000  # bounds the memory and PNG time of one request
INK_THRESHOLD = 0.12  # a column with less ink than this is background when cropping
INK_FLOOR = 0.06  # generators leave a faint haze around glyphs; below this is paper
STROKE_INK = 0.5  # a stroke's core: ink more than a pixel from one is a speck of haze
PEN_EDGE = (0.3, 0.55)  # enlarged ink below the first is paper, above the second full ink


@dataclass(frozen=True)
class Style:
    """How a hand is drawn: which hand (`seed`, or a found `hand`), how much each character strays from it, how
    tidy it is."""
    seed: int = 0
    variation: float = 0.15  # 0: the same hand throughout, 1: every character independent
    neatness: float = 0.5  # 0: wild, 1: tidy (latent truncation)
    hand: Hand | None = None  # a visitor's hand: replaces the hand the seed draws

    @property
    def truncation(self) -> float:
        return 1.6 - 1.4 * self.neatness


@dataclass(frozen=True)
class Layout:
    """How glyphs are laid on paper: size, stroke, colours, spacing, baseline wobble and wrapping."""
    scale: int = 2  # output pixels per glyph pixel
    stroke: float = 0.0  # -1 thinner .. 0 as drawn .. 2 bolder
    ink: tuple[int, int, int] = (20, 30, 90)
    paper: tuple[int, int, int] | None = (255, 255, 255)  # None: transparent
    spacing: float = 0.12  # gap between characters, in glyph heights
    jitter: float = 1.0  # 0: every glyph on the baseline at full size, 1: a natural wobble
    wrap: int = 0  # wrap lines longer than this many characters (0: never)


class GlyphSource(Protocol):
    classes: str

    def draw(self, labels: torch.Tensor, style: Style) -> torch.Tensor:
        """N x C x 28 x 28 ink maps in [0, 1] (C = 1 for one ink colour, 3 for colour glyphs)."""
        ...


class GANGlyphs:
    """Glyphs from the conditional GAN generator."""

    def __init__(self, generator: Generator, batch_requests: bool = False, freeze: bool = False,
                 precision: str = "float32"):
        """`freeze` runs the network as frozen TorchScript, in `precision` (`kepkreator.batching.for_serving`), as a
        server does."""
        # channels_last runs this generator's convolutions about a third faster on the CPU.
        self.generator = generator.eval().to(memory_format=torch.channels_last)
        self.classes = generator.classes
        network = for_serving(self.generator, torch.zeros(2, generator.latent_dim), torch.zeros(2, dtype=torch.long),
                              freeze=freeze, precision=precision)
        # A server shares one pass among concurrent requests; see kepkreator/batching.py.
        self.forward = batched(network, batch_requests, "cgan")
        self.inversion = Inversion()  # how `find_hand` searches

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path = "cgan-mnist", repo_id: str | None = None,
                        batch_requests: bool = False, freeze: bool = False, precision: str = "float32") -> "GANGlyphs":
        return cls(load_model(Generator, name_or_path, repo_id), batch_requests, freeze, precision)

    def latents(self, count: int, style: Style) -> torch.Tensor:
        rng = torch.Generator().manual_seed(style.seed)
        shared = torch.randn(1, self.generator.latent_dim, generator=rng)
        own = torch.randn(count, self.generator.latent_dim, generator=rng)
        if style.hand is not None:
            shared = torch.tensor(style.hand.latent, dtype=torch.float32)[None]
        v = style.variation
        # Keeps unit variance for any blend, so `variation` changes only how alike the characters are.
        return (math.sqrt(1 - v) * shared + math.sqrt(v) * own) * style.truncation

    @torch.inference_mode()
    def draw(self, labels: torch.Tensor, style: Style) -> torch.Tensor:
        return self.forward(self.latents(len(labels), style), labels).add(1).div(2).clamp(0, 1)

    def find_hand(self, digit: torch.Tensor, label: int) -> Hand:
        """The hand that draws class `label` like `digit` (1 x 28 x 28 ink, prepared as MNIST's digits); an
        InputError if no hand draws it closely (a sign, a letter, a scribble)."""
        latent, error = hands.find_latent(self.generator, digit, label, self.inversion)
        if error > hands.MAX_FIT_ERROR:
            raise InputError(f"That does not look like a {self.classes[label]} this model can draw: draw one "
                             "character alone, large.")
        return Hand(tuple(latent.tolist()), self.classes[label])


def check_style(style: Style) -> Style:
    if style.hand is not None and not isinstance(style.hand, Hand):
        raise InputError("hand must be a Hand found by Handwriter.hand_from, or None")
    return Style(whole_number("seed", style.seed, 0, 2**63 - 1), number("variation", style.variation, 0, 1),
                 number("neatness", style.neatness, 0, 1), style.hand)


def check_layout(layout: Layout) -> Layout:
    scale = whole_number("scale", layout.scale, 1, MAX_SCALE)
    colours = {}
    for name, colour in (("ink", layout.ink), ("paper", layout.paper)):
        if colour is not None:
            if not isinstance(colour, (tuple, list)) or len(colour) != 3:
                raise InputError(f"{name} colour must be three numbers from 0 to 255, got {colour!r}")
            colours[name] = tuple(whole_number(f"{name} colour", c, 0, 255) for c in colour)
    return Layout(scale, number("stroke", layout.stroke, -1, 2), colours["ink"], colours.get("paper"),
                  number("spacing", layout.spacing, -0.2, 1), number("jitter", layout.jitter, 0, 2),
                  whole_number("line width", layout.wrap, 0, MAX_WRAP))


Item = int | str | None  # a model class index, a punctuation sign, or None for a space


def parse_text(text: str, classes: str, wrap: int = 0) -> list[list[Item]]:
    """Lines of items (a class index, a punctuation sign drawn by strokes, None for a space), typed lines longer
    than `wrap` characters wrapped at spaces, then anywhere (0: no wrapping). Raises InputError naming what cannot
    be drawn."""
    if not isinstance(text, str):
        raise InputError("text must be a string")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    case_free = classes == classes.lower() and any(c.isalpha() for c in classes)
    if case_free:
        text = text.lower()
    if not text.strip():
        raise InputError(f"Type something to write: {describe(classes)}, spaces and new lines.")
    drawn = sum(1 for c in text if c != "\n")
    if drawn > MAX_CHARACTERS:
        raise InputError(f"That is {drawn} characters; the most is {MAX_CHARACTERS}.")
    typed = text.strip("\n").split("\n")
    if len(typed) > MAX_LINES:
        raise InputError(f"That is {len(typed)} lines; the most is {MAX_LINES}.")
    unknown = sorted({c for c in text if c not in classes and c not in punctuation.CHARACTERS
                      and c not in punctuation.ALIASES and c not in " \n"})
    if unknown:
        shown = ", ".join(repr(c) for c in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        raise InputError(f"Cannot draw {shown}: this model writes {describe(classes)}, spaces and new lines.")
    lines = [part for line in typed for part in (wrap_line(line, wrap) if wrap else [line])]
    index = {c: i for i, c in enumerate(classes)}
    return [[None if c == " " else index.get(c, punctuation.ALIASES.get(c, c)) for c in line] for line in lines]


def wrap_line(line: str, width: int) -> list[str]:
    """One typed line as lines of at most `width` characters: broken at spaces, and inside a longer word."""
    return textwrap.wrap(line, width, break_on_hyphens=False, drop_whitespace=True) or [""]


def describe_classes(classes: str) -> str:
    """The characters a model draws, briefly: "digits 0-9"."""
    if classes == "0123456789":
        return "digits 0-9"
    if classes == "abcdefghijklmnopqrstuvwxyz":
        return "letters a-z"
    return "characters " + "".join(classes)


def describe(classes: str) -> str:
    """The characters a model draws and the signs drawn beside them."""
    return f"{describe_classes(classes)} and the signs " + " ".join(punctuation.CHARACTERS)


def _restroke(ink: torch.Tensor, stroke: float, scale: int) -> torch.Tensor:
    radius = round(abs(stroke) * scale / 2)
    if radius == 0:
        return ink
    pooled = F.max_pool2d(ink if stroke > 0 else 1 - ink, 2 * radius + 1, stride=1, padding=radius)
    return pooled if stroke > 0 else 1 - pooled


@functools.lru_cache(maxsize=4 * MAX_SCALE)
def blur_matrix(size: int, sigma: float, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A Gaussian blur of `size` samples along one axis, edges repeated, as a size x size matrix (row i: the taps
    that make sample i)."""
    radius = max(1, math.ceil(2.5 * sigma))
    offsets = torch.arange(-radius, radius + 1)
    taps = torch.exp(-0.5 * (offsets.to(dtype) / sigma) ** 2)
    sources = (torch.arange(size)[:, None] + offsets).clamp(0, size - 1)
    return torch.zeros(size, size, dtype=dtype).scatter_add_(1, sources, (taps / taps.sum()).expand(size, -1))


@functools.lru_cache(maxsize=MAX_SCALE)
def enlarging_matrix(size: int, scale: int) -> torch.Tensor:
    """Bicubic enlargement of `size` samples `scale` times along one axis, as F.interpolate makes it, as a
    (size * scale) x size matrix."""
    identity = torch.eye(size)[None, None]
    return F.interpolate(identity, size=(size * scale, size), mode="bicubic", align_corners=False)[0, 0]


def blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """A separable Gaussian blur of N x C x H x W images, edges repeated. (Written here rather than taken from
    torchvision, whose import alone adds 150 MiB and two seconds to the app's start.)"""
    rows, columns = (blur_matrix(images.shape[axis], sigma, images.dtype) for axis in (-2, -1))
    return rows @ images @ columns.T


def pen_edges(glyphs: torch.Tensor, scale: int) -> torch.Tensor:
    """Glyph ink maps (N x C x 28 x 28) enlarged `scale` times: resampled smoothly (bicubic), then their soft edges
    made crisp the way a pen's are (a smooth step over the strokes' rims), so a large image shows strokes, not
    pixel blocks or the generator's faint haze. Coloured glyphs keep their colour; only their ink is stepped.
    Enlarging and blurring are each one matrix per axis: a few small products, where resampling and convolving
    cost the handwriting request a third of its CPU."""
    if scale == 1:
        return glyphs
    enlarge = enlarging_matrix(glyphs.shape[-1], scale)
    big = (enlarge @ glyphs @ enlarge.T).clamp(0, 1)
    big = blur(big, 0.4 * scale)  # smooths the bicubic ripples of the 28-pixel grid along the strokes' rims
    alpha = big.amax(dim=1, keepdim=True)
    t = ((alpha - PEN_EDGE[0]) / (PEN_EDGE[1] - PEN_EDGE[0])).clamp(0, 1)
    return big / alpha.clamp(min=1e-6) * (t * t * (3 - 2 * t))


def above_floor(glyphs: torch.Tensor) -> torch.Tensor:
    """Glyph ink maps (in [0, 1]) with the faint haze below INK_FLOOR as paper, the rest stretched back to full ink:
    a tanh generator never reaches exact paper."""
    return ((glyphs - INK_FLOOR) / (1 - INK_FLOOR)).clamp(0, 1)


def specks(ink: torch.Tensor) -> torch.Tensor:
    """Where ink (... x C x H x W, in [0, 1]) lies more than a pixel away from every stroke's core, where a pen
    leaves none: True for such pixels of any channel's ink. The cGAN leaves several times as many as real digits
    hold (the cgan-mnist card's ink table, `python -m kepkreator.evaluate cgan`)."""
    strokes = (ink.amax(dim=-3, keepdim=True) > STROKE_INK).to(ink.dtype)
    return (ink > 0) & (F.max_pool2d(strokes, 3, stride=1, padding=1) == 0)


def on_paper(glyphs: torch.Tensor) -> torch.Tensor:
    """Glyph ink maps (in [0, 1], ... x C x H x W) as the page shows them: the haze below the ink floor and the
    specks away from any stroke are paper, the rest stretched back to full ink."""
    ink = above_floor(glyphs)
    return ink.masked_fill(specks(ink), 0)


def compose(glyphs: torch.Tensor, lines: list[list[Item]], layout: Layout, seed: int) -> np.ndarray:
    """Lay out glyph ink maps (one per non-space character, in reading order) as an H x W x C float array."""
    rng = np.random.default_rng(seed + 1)
    glyphs = on_paper(glyphs)
    size = 28 * layout.scale
    glyphs = _restroke(pen_edges(glyphs, layout.scale), layout.stroke, layout.scale)
    channels = glyphs.shape[1]
    line_height, space, gap = round(1.05 * size), round(0.4 * size), round(layout.spacing * size)
    placed = []  # (top, left, array)
    k = 0
    for row, line in enumerate(lines):
        x = 0
        for item in line:
            if item is None:
                x += space
                continue
            glyph = glyphs[k]
            k += 1
            factor = 1 + layout.jitter * rng.uniform(-0.06, 0.06)
            glyph_size = max(4, round(size * factor))
            glyph = F.interpolate(glyph[None], size=(glyph_size, glyph_size), mode="bilinear", align_corners=False)[0]
            columns = torch.nonzero(glyph.amax(dim=(0, 1)) > INK_THRESHOLD).flatten()
            if len(columns) == 0:
                x += space // 2
                continue
            glyph = glyph[:, :, columns[0]:columns[-1] + 1]
            top = row * line_height + (size - glyph_size) + round(layout.jitter * rng.uniform(-0.04, 0.04) * size)
            placed.append((top, x, glyph.permute(1, 2, 0).numpy()))
            x += glyph.shape[2] + gap
    if not placed:
        return np.zeros((size, size, channels), dtype=np.float32)
    margin = size // 4
    min_top = min(p[0] for p in placed)
    height = max(p[0] + p[2].shape[0] for p in placed) - min_top + 2 * margin
    width = max(p[1] + p[2].shape[1] for p in placed) + 2 * margin
    canvas = np.zeros((height, width, channels), dtype=np.float32)
    for top, left, array in placed:
        y, x = top - min_top + margin, left + margin
        region = canvas[y:y + array.shape[0], x:x + array.shape[1]]
        np.maximum(region, array, out=region)  # overlapping strokes merge like ink
    return canvas


def ink_on_paper(ink: np.ndarray, layout: Layout) -> Image.Image:
    """Ink map (H x W x 1 intensities, or H x W x 3 coloured glyphs) onto paper, or onto transparency."""
    if ink.shape[2] == 1:
        return one_ink_on_paper(ink[:, :, 0], layout)
    alpha = ink.max(axis=2)
    colour = ink / np.maximum(alpha[:, :, None], 1e-6)
    if layout.paper is None:
        rgba = np.concatenate([colour, alpha[:, :, None]], axis=2)
        return Image.fromarray((rgba * 255).round().astype(np.uint8), "RGBA")
    paper = np.array(layout.paper, dtype=np.float32) / 255
    rgb = paper * (1 - alpha[:, :, None]) + colour * alpha[:, :, None]
    return Image.fromarray((rgb * 255).round().astype(np.uint8), "RGB")


def one_ink_on_paper(ink: np.ndarray, layout: Layout) -> Image.Image:
    """H x W ink intensities in one ink colour: each of the 256 levels of ink is mixed with the paper once, in a
    palette, instead of once per pixel (the mix was the handwriting request's costliest step after the network).
    On paper the image stays a palette image (mode P)."""
    levels = (ink * 255 + 0.5).astype(np.uint8)
    if layout.paper is None:
        image = Image.new("RGB", levels.shape[::-1], layout.ink)
        image.putalpha(Image.fromarray(levels, "L"))
        return image
    share = np.linspace(0, 1, 256, dtype=np.float32)[:, None]
    palette = np.array(layout.paper, dtype=np.float32) * (1 - share) + np.array(layout.ink, dtype=np.float32) * share
    image = Image.fromarray(levels, "P")
    image.putpalette(np.rint(palette).astype(np.uint8).tobytes())
    return image


def draw_items(lines: list[list[Item]], source: GlyphSource, style: Style) -> torch.Tensor:
    """One ink map per drawn item, in reading order: the model's glyphs, and punctuation in their hand."""
    items = [item for line in lines for item in line if item is not None]
    labels = torch.tensor([item for item in items if isinstance(item, int)], dtype=torch.long)
    drawn = source.draw(labels, style) if len(labels) else None
    if drawn is not None and len(labels) == len(items):  # digits only: nothing to draw in their hand
        return drawn
    look = punctuation.HandLook.of(drawn if drawn is not None else torch.zeros(0, 1, 28, 28))
    if drawn is not None and drawn.shape[1] == 1:
        look.colour = None
    wobble = 0.2 + 0.6 * (1 - style.neatness)
    rng = np.random.default_rng(style.seed)
    models = iter(drawn if drawn is not None else [])
    channels = drawn.shape[1] if drawn is not None else 1
    glyphs = [next(models) if isinstance(item, int) else
              punctuation.draw_sign(item, look, wobble, rng).expand(channels, -1, -1) for item in items]
    return torch.stack(glyphs)


def write(text: str, source: GlyphSource, style: Style = Style(), layout: Layout = Layout(),
          palette: bool = False) -> Image.Image:
    """The text handwritten by `source`, as a PIL image: RGB on paper, RGBA on transparency. With `palette`, one ink
    on paper comes as a palette image (mode P) of the same pixels, which PNG stores in half the bytes and writes
    several times faster (*Benchmark*, "writing a 12-character drawing")."""
    style, layout = check_style(style), check_layout(layout)
    lines = parse_text(text, source.classes, layout.wrap)
    size = 28 * layout.scale
    estimate = (max(len(line) for line in lines) + 1) * size * (len(lines) + 1) * size
    if estimate > MAX_PIXELS:
        raise InputError(f"That image would be too large (about {estimate / 1e6:.0f} megapixels); "
                         "lower the scale, narrow the lines or write less.")
    image = ink_on_paper(compose(draw_items(lines, source, style), lines, layout, style.seed), layout)
    return image if palette or image.mode != "P" else image.convert("RGB")


class Handwriter:
    """`Handwriter.from_pretrained()("2026")` -> a PIL image of 2026, handwritten."""

    def __init__(self, source: GlyphSource, reader: Judge | None = None):
        """`reader`: a classifier of the source's characters, which reads what a drawing passed to `hand_from`
        shows (without one, `hand_from` needs to be told)."""
        if reader is not None and reader.classes != source.classes:
            raise ValueError(f"the reader reads {reader.classes!r}, the source draws {source.classes!r}")
        self.source, self.reader = source, reader

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path = "cgan-mnist", repo_id: str | None = None,
                        batch_requests: bool = False, freeze: bool = False, precision: str = "float32",
                        reader: str | Path | None = "judge-mnist", reader_repo_id: str | None = None
                        ) -> "Handwriter":
        """A Handwriter on saved cGAN weights; the arguments are `AttributeModel.from_pretrained`'s, and `reader`
        the digit judge that reads drawings for `hand_from` (None: none)."""
        source = GANGlyphs.from_pretrained(name_or_path, repo_id, batch_requests, freeze, precision)
        judge = load_model(Judge, reader, reader_repo_id).eval() if reader is not None else None
        return cls(source, judge if judge is None or judge.classes == source.classes else None)

    @property
    def classes(self) -> str:
        return self.source.classes

    def read(self, image: Image.Image | np.ndarray) -> tuple[str, float]:
        """The character a drawing shows, as the reader reads it, and the reader's probability for it."""
        index, confidence = self._read(hands.as_mnist_digit(image))
        return self.classes[index], confidence

    def _read(self, digit: torch.Tensor) -> tuple[int, float]:
        if self.reader is None:
            raise InputError("this handwriter has no reader of drawings: say which character it is")
        return hands.read_character(self.reader, digit)

    def hand_from(self, image: Image.Image | np.ndarray, character: str | None = None) -> Hand:
        """The hand of one drawn character: pass it as `hand=` to draw any text in it.

        Args:
            image: a PIL image or an H x W (x C) array of one character, dark on light or light on dark (or on
                transparency), at most 4 million pixels; it is prepared as MNIST's digits were.
            character: which character it shows (for the shipped model a digit "0"-"9"); None lets the reader
                read it, and refuses a drawing it cannot read (probability below 0.5).

        Returns:
            A Hand (its `code()` is a short text the app and its API take back). Raises InputError for a blank or
            unreadable drawing and a character the model does not draw.

        Example:
            >>> hw = Handwriter.from_pretrained()
            >>> hw("2026", hand=hw.hand_from(Image.open("my-seven.png"))).save("2026-in-my-hand.png")
        """
        if not isinstance(self.source, GANGlyphs):
            raise InputError("only a GAN's glyphs can be drawn in a found hand")
        digit = hands.as_mnist_digit(image)
        if character is None:
            index, confidence = self._read(digit)
            if confidence < hands.MIN_CONFIDENCE:
                raise InputError(f"That does not read as one of the {describe_classes(self.classes)} (at best a "
                                 f"{self.classes[index]}, {100 * confidence:.0f}% sure): draw it again, or say "
                                 "which it is.")
        else:
            if not isinstance(character, str) or len(character) != 1 or character not in self.classes:
                raise InputError(f"character must be one of the {describe_classes(self.classes)}, got "
                                 f"{shown(character)}")
            index = self.classes.index(character)
        return self.source.find_hand(digit, index)

    def hand_of(self, code: str) -> Hand:
        """The Hand a `Hand.code()` names (as the app's API sends it); an InputError for any other text."""
        if not isinstance(self.source, GANGlyphs):
            raise InputError("only a GAN's glyphs can be drawn in a found hand")
        return Hand.from_code(code, self.source.generator.latent_dim)

    def __call__(self, text: str, seed: int = 0, variation: float = 0.15, neatness: float = 0.5,
                 palette: bool = False, hand: Hand | None = None, **layout) -> Image.Image:
        """Write `text` in one hand.

        Args:
            text: up to 100 characters the model draws (digits 0-9 for the shipped model) and the signs
                + - = . , : / ( ) % $ € £ ¥ ₹, with spaces and up to 8 typed lines.
            seed: whole number from 0 to 2**63 - 1; the same seed gives the same image.
            variation: 0 to 1; 0 draws every character from one shared style, 1 each from its own.
            neatness: 0 to 1; 0 wild, 1 tidy (the latent's truncation, 1.6 down to 0.2).
            palette: True returns one ink on paper as a palette image (mode P), quicker to save as PNG.
            hand: a Hand from `hand_from` (a visitor's own): drawn instead of the seed's hand; the seed still
                varies the characters and their layout.
            **layout: `Layout` fields: scale (1-8 pixels per glyph pixel), stroke (-1 to 2), ink and paper
                ((r, g, b) 0-255; paper None for transparency), spacing, jitter, wrap (characters per line, 0: none).

        Returns:
            A PIL image, mode RGB (RGBA with paper None; P with `palette`), glyphs 28 x scale pixels tall.
            Raises InputError with a message for anything it cannot draw.

        Example:
            >>> Handwriter.from_pretrained()("+1 (555) 123-4567", seed=7, wrap=12).save("phone.png")
        """
        return write(text, self.source, Style(seed, variation, neatness, hand), Layout(**layout), palette)
