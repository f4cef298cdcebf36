"""A visitor's own hand: one drawn digit -> the cGAN style latent that draws that digit alike.

The drawing is prepared as MNIST's digits were (the ink's bounding box scaled into 20x20, placed in 28x28 with its
centre of mass in the middle), then the generator is inverted by optimisation (Creswell & Bharath 2018; Bau et
al. 2019): a few latents started at random are moved by Adam to make the generator's drawing of that digit match
the drawing, pixel for pixel and blurred, with a pull towards the latent prior so the found hand stays one the
generator draws every digit well in. The best of them is the hand. `python -m kepkreator.evaluate cgan` measures
how much of a writer's hand it carries to the other digits, and docs/own-hand.md why these settings.
"""
from __future__ import annotations

import base64
import binascii
import io
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.transforms.v2.functional import gaussian_blur

from kepkreator.models.cgan import Generator
from kepkreator.validation import InputError

MAX_DRAWING_BYTES = 500_000  # a drawing pad's PNG is 2-20 kB
MAX_DRAWING_PIXELS = 4_000_000
MIN_CONFIDENCE = 0.5  # the reader's probability below which a drawing is not read as a digit
# The found hand's drawing may differ from the drawing by this much at most (mean squared difference of blurred
# ink): above it, the drawing is nothing the generator draws as that character. Most held-out writers' real digits
# fit within it (the cgan-mnist card counts those refused: 4 of 63) and pad drawings of digits far within it, while
# an X, a square, a hash or a letter A, which the judge reads as a digit, do not (docs/own-hand.md).
MAX_FIT_ERROR = 0.012
INK_SEEN = 0.1  # ink below this does not count towards the drawing's bounding box
LEARNING_RATE = 0.08
MAX_LATENT = 8.0  # a hand code's largest coordinate; found hands stay within +-4
CODE_PREFIX = "hand1:"


@dataclass(frozen=True)
class Inversion:
    """How a hand is searched for: `restarts` random latents, each moved `steps` Adam steps, pulled towards the
    prior with weight `prior`; stopped after `time_bound` seconds (a busy machine) with the best so far. More
    restarts and steps fit the drawing more closely but carry the hand no better (docs/own-hand.md)."""
    restarts: int = 4
    steps: int = 30
    prior: float = 0.2
    time_bound: float = 3.0


@dataclass(frozen=True)
class Hand:
    """A found hand: the generator's style latent, and the character it was found from."""
    latent: tuple[float, ...]
    character: str

    def code(self) -> str:
        """A short text that carries the hand (float16 latent, base64): the page keeps it, an API client sends it."""
        data = np.asarray(self.latent, dtype=np.float16).tobytes() + self.character.encode()
        return CODE_PREFIX + base64.urlsafe_b64encode(data).decode()

    @classmethod
    def from_code(cls, code: str, latent_dim: int) -> "Hand":
        """The hand a `code()` names; an InputError for any other text."""
        problem = InputError("hand is not a hand code: use the one the page or find_hand gave, or leave it empty")
        if not isinstance(code, str) or not code.startswith(CODE_PREFIX) or len(code) > 4 * latent_dim + 64:
            raise problem
        try:
            data = base64.urlsafe_b64decode(code[len(CODE_PREFIX):].encode())
        except (binascii.Error, ValueError):
            raise problem from None
        size = 2 * latent_dim
        if len(data) <= size:
            raise problem
        latent = np.frombuffer(data[:size], dtype=np.float16).astype(np.float64)
        try:
            character = data[size:].decode()
        except UnicodeDecodeError:
            raise problem from None
        if len(latent) != latent_dim or len(character) != 1 or not np.all(np.abs(latent) <= MAX_LATENT):
            raise problem
        return cls(tuple(latent.tolist()), character)


def decode_drawing(data_url: str) -> Image.Image:
    """A drawing sent as a data URL (data:image/png;base64,...), as the page's pad sends it, bounded in bytes and
    pixels before it is decoded."""
    if not isinstance(data_url, str) or not data_url.strip():
        raise InputError("Draw a digit on the pad first.")
    if len(data_url) > MAX_DRAWING_BYTES * 4 // 3 + 100:
        raise InputError(f"That drawing is over {MAX_DRAWING_BYTES // 1000} kB; send a smaller image.")
    header, _, body = data_url.partition(",")
    if not (header.startswith("data:image/") and header.endswith(";base64")):
        raise InputError("drawing must be a data URL of an image (data:image/png;base64,...)")
    try:
        raw = base64.b64decode(body, validate=True)
        image = Image.open(io.BytesIO(raw))
    except (binascii.Error, ValueError, OSError):
        raise InputError("That drawing is not a readable image: send a PNG or JPEG data URL.") from None
    return bounded(image)


def bounded(image: Image.Image) -> Image.Image:
    """The image, loaded, if its size is within bounds (read from its header, before the pixels are inflated)."""
    width, height = image.size
    if width * height > MAX_DRAWING_PIXELS or min(width, height) < 1:
        raise InputError(f"That drawing is {width}x{height} pixels; the most is {MAX_DRAWING_PIXELS // 10**6} "
                         "million pixels.")
    try:
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError):
        raise InputError("That drawing is not a readable image: send a PNG or JPEG data URL.") from None
    return image


def ink_of(image: Image.Image | np.ndarray) -> torch.Tensor:
    """H x W ink in [0, 1] of a drawing: transparency means paper; otherwise the paper is the colour of the
    border (dark ink on light paper, or light ink on dark, as MNIST stores it)."""
    if isinstance(image, np.ndarray):
        array = image.astype(np.float32)
        if array.ndim == 3:
            array = array.mean(axis=2)
        if array.ndim != 2:
            raise InputError(f"a drawing array must be H x W or H x W x C, got shape {image.shape}")
        grey = array / 255 if array.max() > 1 else array
    else:
        image = bounded(image)
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(paper, image.convert("RGBA"))
        grey = np.asarray(image.convert("L"), dtype=np.float32) / 255
    if grey.shape[0] * grey.shape[1] > MAX_DRAWING_PIXELS:
        raise InputError(f"That drawing is {grey.shape[1]}x{grey.shape[0]} pixels; the most is "
                         f"{MAX_DRAWING_PIXELS // 10**6} million pixels.")
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    paper = float(np.median(border))
    ink = paper - grey if paper >= 0.5 else grey - paper
    return torch.from_numpy(np.clip(ink / max(abs(paper - (0.0 if paper >= 0.5 else 1.0)), 1e-6), 0, 1))


def as_mnist_digit(image: Image.Image | np.ndarray) -> torch.Tensor:
    """1 x 28 x 28 ink in [0, 1], prepared as MNIST's digits were: the ink's bounding box scaled (keeping its
    shape) so its longer side is 20 pixels, placed so its centre of mass is the image's centre."""
    ink = ink_of(image)
    rows = torch.nonzero(ink.amax(dim=1) > INK_SEEN).flatten()
    columns = torch.nonzero(ink.amax(dim=0) > INK_SEEN).flatten()
    if len(rows) == 0:
        raise InputError("The pad is blank: draw one digit, large, in the middle.")
    box = ink[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    height, width = box.shape
    factor = 20 / max(height, width)
    size = (max(1, round(height * factor)), max(1, round(width * factor)))
    small = F.interpolate(box[None, None], size=size, mode="bilinear", antialias=True, align_corners=False)[0, 0]
    small = small.clamp(0, 1)
    mass = small.sum().clamp(min=1e-6)
    centre_y = (small.sum(dim=1) * torch.arange(size[0])).sum() / mass
    centre_x = (small.sum(dim=0) * torch.arange(size[1])).sum() / mass
    top = int(min(max(round(13.5 - centre_y.item()), 0), 28 - size[0]))
    left = int(min(max(round(13.5 - centre_x.item()), 0), 28 - size[1]))
    digit = torch.zeros(28, 28)
    digit[top:top + size[0], left:left + size[1]] = small
    return digit[None]


def _blurred(images: torch.Tensor) -> torch.Tensor:
    return gaussian_blur(images, kernel_size=[7, 7], sigma=[1.0, 1.0])


def find_latent(generator: Generator, digit: torch.Tensor, label: int, how: Inversion = Inversion(), seed: int = 0
                ) -> tuple[torch.Tensor, float]:
    """The latent whose drawing of class `label` best matches `digit` (1 x 28 x 28 ink in [0, 1]), and how far its
    drawing is from the digit (mean squared difference of ink in [0, 1], blurred as the fit sees it)."""
    restarts = how.restarts
    was_training = generator.training
    generator.eval()
    target = (digit * 2 - 1).expand(restarts, 1, 28, 28)
    target_blurred = _blurred(target)
    labels = torch.full((restarts,), label, dtype=torch.long)
    latents = torch.randn(restarts, generator.latent_dim, generator=torch.Generator().manual_seed(seed))
    latents.requires_grad_(True)
    optimizer = torch.optim.Adam([latents], lr=LEARNING_RATE)
    deadline = time.monotonic() + how.time_bound
    try:
        with torch.enable_grad():
            for _ in range(how.steps):
                drawn = generator(latents, labels)
                loss = ((drawn - target) ** 2).mean(dim=(1, 2, 3)) \
                    + 2 * ((_blurred(drawn) - target_blurred) ** 2).mean(dim=(1, 2, 3)) \
                    + how.prior * (latents ** 2).mean(dim=1)
                optimizer.zero_grad(set_to_none=True)
                loss.sum().backward(inputs=[latents])  # the generator is shared: its weights get no gradient
                optimizer.step()
                if time.monotonic() > deadline:
                    break
        with torch.inference_mode():
            error = ((_blurred(generator(latents.detach(), labels)) - target_blurred) ** 2).mean(dim=(1, 2, 3)) / 4
    finally:
        generator.train(was_training)
    best = int(error.argmin())
    return latents.detach()[best].clamp(-MAX_LATENT / 2, MAX_LATENT / 2), float(error[best])


def read_character(reader, digit: torch.Tensor) -> tuple[int, float]:
    """The reader's (judge's) class index for a prepared drawing and its probability."""
    probabilities, _ = reader.read(digit[None] * 2 - 1)
    confidence, index = probabilities[0].max(dim=0)
    return int(index), float(confidence)

