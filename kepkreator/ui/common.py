"""What every tab shares: turning user mistakes into messages, and reading colours from pickers."""
from __future__ import annotations

import atexit
import functools
import html
import logging
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

import gradio as gr
from PIL import Image

from kepkreator.validation import InputError


log = logging.getLogger("kepkreator.app")

HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
RGB = re.compile(r"^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*[\d.]+\s*)?\)$")


def parse_colour(name: str, value: str) -> tuple[int, int, int]:
    """'#1e2a5a', '#fff' or 'rgb(30, 42, 90)' (what colour pickers send) -> (r, g, b)."""
    text = str(value or "").strip()
    if match := HEX.match(text):
        digits = match.group(1)
        digits = "".join(d * 2 for d in digits) if len(digits) == 3 else digits
        return tuple(int(digits[i:i + 2], 16) for i in (0, 2, 4))
    if (match := RGB.match(text)) and all(float(v) <= 255 for v in match.groups()):
        return tuple(round(float(v)) for v in match.groups())
    raise InputError(f"{name} colour {text!r} is not a colour: use #rrggbb")


def user_errors(fn):
    """Show InputError as its message; log anything else and show a short apology, never a trace."""
    @functools.wraps(fn)
    def wrapped(*args):
        try:
            return fn(*args)
        except InputError as err:
            # Gradio renders the message as HTML, and it may quote the user's text.
            raise gr.Error(html.escape(str(err), quote=False), title="Check the input", print_exception=False) from None
        except Exception:
            log.exception("request failed")
            raise gr.Error("Something went wrong drawing this; the error was logged.", print_exception=False) from None
    return wrapped


def first_drawing(draw, inputs: list):
    """What `draw` makes of the controls' starting values: shown before any click, so the page never opens on
    an empty image (Gradio keeps the file in its cache)."""
    return draw(*(control.value for control in inputs))


class PngFiles:
    """Images handed to Gradio as PNG files under unique names.

    Gradio copies a returned file into its cache atomically, but re-encodes a returned PIL image onto one
    path per content, rewriting it in place: two identical requests at once can then truncate each other's
    download. The newest `keep` files stay; older ones are removed.
    """

    def __init__(self, keep: int = 512):
        self.folder = Path(tempfile.mkdtemp(prefix="kepkreator-images-"))
        self.keep = keep
        self.lock = threading.Lock()
        atexit.register(shutil.rmtree, self.folder, True)

    def __call__(self, image: Image.Image) -> str:
        fd, path = tempfile.mkstemp(prefix="kepkreator-", suffix=".png", dir=self.folder)
        with os.fdopen(fd, "wb") as f:
            image.save(f, format="PNG")
        with self.lock:
            files = sorted(self.folder.iterdir(), key=lambda p: p.stat().st_mtime_ns)
            for old in files[:-self.keep]:
                old.unlink(missing_ok=True)
        return path


png_file = PngFiles()
