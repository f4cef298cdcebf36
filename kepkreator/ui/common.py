"""What every tab shares: turning user mistakes into messages, and reading colours from pickers."""
from __future__ import annotations

import atexit
import collections
import ctypes
import functools
import gc
import html
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, TypeVar

import gradio as gr
from PIL import Image

from kepkreator.validation import InputError
from kepkreator.processes import process_alive


log = logging.getLogger("kepkreator.app")
T = TypeVar("T")

HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
NUMBER = r"\s*(\d{1,3}(?:\.\d+)?)\s*"
RGB = re.compile(rf"^rgba?\({NUMBER},{NUMBER},{NUMBER}(?:,{NUMBER})?\)$")


def parse_colour(name: str, value: str) -> tuple[int, int, int]:
    """'#1e2a5a', '#fff' or 'rgb(30, 42, 90)' (what colour pickers send) -> (r, g, b)."""
    text = str(value or "").strip()
    if match := HEX.match(text):
        digits = match.group(1)
        digits = "".join(d * 2 for d in digits) if len(digits) == 3 else digits
        return tuple(int(digits[i:i + 2], 16) for i in (0, 2, 4))
    if (match := RGB.match(text)) and all(float(v) <= 255 for v in match.groups()[:3]):
        return tuple(round(float(v)) for v in match.groups()[:3])
    shown = text if len(text) <= 40 else text[:40] + "..."
    raise InputError(f"{name} colour {shown!r} is not a colour: use #rrggbb")


APOLOGY = "Something went wrong drawing this; the error was logged."


def plain(output):
    """What an API client gets for an output: the value of a page update (an image's alt text, a label's title
    are for the page)."""
    return output.get("value") if isinstance(output, dict) and output.get("__type__") == "update" else output


def user_errors(fn):
    """For API clients: plain values; InputError becomes its message as a gr.Error; anything else is logged and
    answered with a short apology, never a trace."""
    @functools.wraps(fn)
    def wrapped(*args):
        try:
            result = fn(*args)
            return [plain(output) for output in result] if isinstance(result, (list, tuple)) else plain(result)
        except InputError as err:
            # Gradio renders the message as HTML, and it may quote the user's text.
            raise gr.Error(html.escape(str(err), quote=False), title="Check the input", print_exception=False) from None
        except Exception:
            log.exception("request failed")
            raise gr.Error(APOLOGY, print_exception=False) from None
    return wrapped


def warning(message: str) -> str:
    return f"**Check the input:** {html.escape(message, quote=False)} The drawing shown is the last one that worked."


def keeps_last_drawing(fn, outputs: int):
    """For the page: a mistake leaves every output as it was and says why in the status line, which the next
    success clears; where an API client gets an error instead (`user_errors`)."""
    @functools.wraps(fn)
    def wrapped(*args):
        try:
            result = fn(*args)
        except InputError as err:
            return (*[gr.skip()] * outputs, warning(str(err)))
        except Exception:
            log.exception("request failed")
            return (*[gr.skip()] * outputs, f"**Sorry:** {APOLOGY}")
        return (*(result if isinstance(result, (list, tuple)) else [result]), "")
    return wrapped


def status_line(elem_id: str) -> gr.Markdown:
    """Where the page says what was wrong with the last input; empty after a success."""
    return gr.Markdown("", elem_id=elem_id, elem_classes=["kk-status"])


class Serving:
    """How the tabs' handlers are served. `stored_results` replaces each by one that computes its first answer and
    returns it ever after: the same page and the same Gradio work with no drawing, the ceiling a benchmark
    measures the real app against (`python app.py --stored-results`)."""
    stored_results = False


def stored(fn):
    answers = []
    lock = threading.Lock()

    @functools.wraps(fn)
    def wrapped(*args):
        with lock:
            if not answers:
                answers.append(fn(*args))
        return answers[0]
    return wrapped


def wire(fn, inputs: list, outputs: list, status: gr.Markdown, triggers: list, api_name: str):
    """Run `fn` on the page when any trigger fires (keeping the last drawing on a mistake), and expose it to API
    clients as `api_name` (where a mistake is an error). The API's own trigger is a hidden button, so clients and
    the page never share an event's error handling. The API's values reach `fn` as sent (no preprocessing), so a
    wrong type is answered by the handler's own checks with a message, never by an error without one. Returns the
    page's handler, for other events to reuse."""
    fn = stored(fn) if Serving.stored_results else fn
    gr.Button(visible=False).click(user_errors(fn), inputs, outputs, api_name=api_name, preprocess=False)
    page = keeps_last_drawing(fn, len(outputs))
    gr.on(triggers, page, inputs, [*outputs, status], api_visibility="private", trigger_mode="always_last",
          scroll_to_output=True)
    return page


def gives_memory_back(fn):
    """For handlers that build large intermediate results (an export of hundreds of faces): afterwards, collect
    the garbage and ask glibc to return freed heap pages to the system, which it otherwise keeps for reuse, so a
    server's memory does not stay at its largest request's."""
    @functools.wraps(fn)
    def wrapped(*args):
        try:
            return fn(*args)
        finally:
            gc.collect()
            if LIBC is not None:
                LIBC.malloc_trim(0)
    return wrapped


def _libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):  # not glibc: nothing to ask
        return None


LIBC = _libc()


def drawing(path: str, alt_text: str) -> dict:
    """An image output with the alt text a screen reader reads for it."""
    return gr.update(value=path, alt_text=alt_text)


def first_drawing(draw, inputs: list):
    """What `draw` makes of the controls' starting values: shown before any click, so the page never opens on
    an empty image (Gradio keeps the file in its cache)."""
    return draw(*(control.value for control in inputs))


def file_name(text: str, fallback: str = "kepkreator") -> str:
    """A download name made from what the image shows: '1984-31', 'face-subject01-subject07-0.50-happy'."""
    name = re.sub(r"[^0-9A-Za-z.]+", "-", str(text)).strip("-.")[:60].strip("-.")
    return name or fallback


class RecentFolders:
    """Fresh folders under one temporary root, each holding what one request wrote; the newest `keep` finished ones
    stay and older ones are removed. The names are remembered, so no request scans the root, and a folder still
    being written is never removed."""

    def __init__(self, prefix: str, keep: int, parent: Path | None = None):
        # The process id in the name lets a later start remove what a killed server left (`sweep_leftovers`).
        if parent is not None:
            parent.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
        self.keep = keep
        self.lock = threading.Lock()
        self.finished: collections.deque[Path] = collections.deque()
        atexit.register(shutil.rmtree, self.root, True)

    def write(self, fill: Callable[[Path], T]) -> T:
        """`fill(folder)` in a fresh folder, which then counts among the newest."""
        self.root.mkdir(parents=True, exist_ok=True)  # a cache sweep may have removed an empty root
        folder = Path(tempfile.mkdtemp(dir=self.root))
        result = fill(folder)
        with self.lock:
            self.finished.append(folder)
            old = self.finished.popleft() if len(self.finished) > self.keep else None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return result


LEFTOVER = re.compile(r"^kepkreator-(?:images|exports)-(?:(\d+)-)?")
UNOWNED_AGE = 24 * 3600  # seconds: folders of older versions name no process; a day unused means abandoned


def sweep_leftovers(folders: list[Path] | None = None) -> list[Path]:
    """Remove the image and export folders of servers that are no longer running (killed before their exit
    handlers ran), and those of older versions left unused for a day, from the temporary folder and Gradio's
    cache (default); returns what was removed."""
    removed = []
    places = folders or [Path(tempfile.gettempdir()), gradio_cache()]
    for path in (p for place in places if place.is_dir() for p in place.iterdir()):
        match = LEFTOVER.match(path.name)
        if not match or not path.is_dir():
            continue
        abandoned = (not process_alive(int(match.group(1))) if match.group(1)
                     else time.time() - path.stat().st_mtime > UNOWNED_AGE)
        if abandoned:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def gradio_cache() -> Path:
    """The folder Gradio serves files from (GRADIO_TEMP_DIR, or its default)."""
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder())


class PngFiles:
    """Images handed to Gradio as PNG files, each in a folder of its own under the name of what it shows.

    The folders live inside Gradio's own cache, so Gradio serves each file as it is: a file from elsewhere would
    be read whole to hash it and copied in on every request, and the copies would pile up until Gradio's hourly
    sweep. (A returned PIL image would be re-encoded onto one path per content and rewritten in place, so two
    identical requests at once could truncate each other's download.) The newest `keep` files stay, written with
    zlib's fastest level: these small drawings hardly compress further.
    """

    def __init__(self, keep: int = 512):
        self.folders = RecentFolders("kepkreator-images-", keep, parent=gradio_cache())

    def __call__(self, image: Image.Image, name: str = "kepkreator") -> str:
        def save(folder: Path) -> str:
            path = folder / f"{file_name(name)}.png"
            image.save(path, format="PNG", compress_level=1)
            return str(path)
        return self.folders.write(save)


png_file = PngFiles()
