"""The files the app hands to Gradio: drawings and exports in folders of their own, the newest kept, the rest
removed, and what a killed server left swept at the next start."""
from __future__ import annotations

import atexit
import collections
import contextlib
import errno
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, TypeVar

from PIL import Image

from kepkreator.processes import process_alive

T = TypeVar("T")


class DiskFull(Exception):
    """The server could not write a drawing or an export: its disk is full. Nothing of the request is left."""


def file_name(text: str, fallback: str = "kepkreator") -> str:
    """A download name made from what the image shows: '1984-31', 'face-subject01-subject07-0.50-happy'."""
    name = re.sub(r"[^0-9A-Za-z.]+", "-", str(text)).strip("-.")[:60].strip("-.")
    return name or fallback


def share_bounds(parts: int) -> None:
    """In each of `parts` processes that write into the same folders (render workers): keep a `parts`-th of each
    bound, so all of them together keep what one process would."""
    for folders in RecentFolders.made:
        folders.keep = max(1, folders.keep // parts)


class RecentFolders:
    """Fresh folders under one temporary root, each holding what one request wrote; the newest `keep` finished ones
    stay and older ones are removed. The names are remembered, so no request scans the root, and a folder still
    being written is never removed."""
    made: list["RecentFolders"] = []

    def __init__(self, prefix: str, keep: int, parent: Path | None = None):
        # The process id in the name lets a later start remove what a killed server left (`sweep_leftovers`).
        if parent is not None:
            parent.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
        self.keep = keep
        self.lock = threading.Lock()
        self.finished: collections.deque[Path] = collections.deque()
        self.pinning = False
        RecentFolders.made.append(self)
        atexit.register(shutil.rmtree, self.root, True)

    @contextlib.contextmanager
    def kept(self):
        """Folders written inside stay as long as the server: the page's opening drawings, which every new visitor's
        page shows, must outlive any number of requests. For building the page, before it serves: a request written
        meanwhile from another thread would be kept too."""
        self.pinning = True
        try:
            yield
        finally:
            self.pinning = False

    def write(self, fill: Callable[[Path], T]) -> T:
        """`fill(folder)` in a fresh folder, which then counts among the newest."""
        try:
            folder = Path(tempfile.mkdtemp(dir=self.root))
        except FileNotFoundError:  # a cache sweep removed the empty root
            self.root.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(dir=self.root))
        try:
            result = fill(folder)
        except BaseException as err:
            remove(folder)  # a failed write leaves no folder outside the bound
            if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFull("The server's disk is full, so this could not be saved; please try again later.") \
                    from err
            raise
        if self.pinning:
            return result
        with self.lock:
            self.finished.append(folder)
            old = self.finished.popleft() if len(self.finished) > self.keep else None
        if old is not None:
            remove(old)
        return result


def remove(folder: Path) -> None:
    """A request's folder and what it holds: usually one file, removed with fewer system calls than rmtree makes."""
    try:
        for entry in os.scandir(folder):
            os.unlink(entry.path)
        os.rmdir(folder)
    except OSError:  # a subfolder, or already removed by a sweep
        shutil.rmtree(folder, ignore_errors=True)


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


# photo -> (file suffix, how PIL writes it): drawings as PNG at zlib's fastest level (they hardly compress
# further), photographs as JPEG, many times cheaper to write (`python -m bench.bench`, "writing a face").
WRITERS = {False: ("png", {"format": "PNG", "compress_level": 1}), True: ("jpg", {"format": "JPEG", "quality": 95})}


class ImageFiles:
    """Images handed to Gradio as files, each in a folder of its own under the name of what it shows.

    The folders live inside Gradio's own cache, so Gradio serves each file as it is: a file from elsewhere would
    be read whole to hash it and copied in on every request, and the copies would pile up until Gradio's hourly
    sweep. (A returned PIL image would be re-encoded onto one path per content and rewritten in place, so two
    identical requests at once could truncate each other's download.) The newest `keep` files stay.
    """

    def __init__(self, keep: int = 512):
        self.folders = RecentFolders("kepkreator-images-", keep, parent=gradio_cache())

    def __call__(self, image: Image.Image, name: str = "kepkreator", photo: bool = False) -> str:
        suffix, options = WRITERS[photo]

        def save(folder: Path) -> str:
            path = folder / f"{file_name(name)}.{suffix}"
            image.save(path, **options)
            return str(path)
        return self.folders.write(save)


image_file = ImageFiles()
