"""KepKreator: conditional image generation (handwriting, QMNIST styles, faces) with small, shareable models."""

__all__ = ["Handwriter", "InputError", "Layout", "Style", "write"]


def __getattr__(name: str):
    """The public names, imported when first used: `kepkreator --help` answers before torch loads."""
    if name == "InputError":
        from kepkreator.validation import InputError

        return InputError
    if name in __all__:
        from kepkreator import handwriting

        return getattr(handwriting, name)
    raise AttributeError(f"module 'kepkreator' has no attribute {name!r}")
