"""KepKreator: conditional image generation (handwriting, QMNIST styles, faces) with small, shareable models."""
from kepkreator.handwriting import Handwriter, Layout, Style, write
from kepkreator.validation import InputError

__all__ = ["Handwriter", "InputError", "Layout", "Style", "write"]
