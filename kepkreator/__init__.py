"""KepKreator: conditional image generation (handwriting, QMNIST styles, faces) with small, shareable models."""
from kepkreator.handwriting import Handwriter, InputError, Layout, Style, write

__all__ = ["Handwriter", "InputError", "Layout", "Style", "write"]
