"""What a server leaves on disk: nothing after SIGTERM, and whatever a killed one left is swept at the next start."""
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import start_app
from kepkreator.ui.files import UNOWNED_AGE, gradio_cache, sweep_leftovers


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_sweep_removes_only_what_no_running_server_owns(tmp_path):
    dead, alive = tmp_path / f"kepkreator-images-{dead_pid()}-abc", tmp_path / f"kepkreator-exports-{os.getpid()}-x"
    old, fresh, other = tmp_path / "kepkreator-images-old", tmp_path / "kepkreator-exports-new", tmp_path / "else"
    for folder in (dead, alive, old, fresh, other):
        folder.mkdir()
        (folder / "face.png").write_bytes(b"png")
    os.utime(old, (time.time() - UNOWNED_AGE - 60,) * 2)
    assert sorted(sweep_leftovers([tmp_path])) == sorted([dead, old])
    assert alive.exists() and fresh.exists() and other.exists()


def test_sigterm_leaves_no_image_folders_behind():
    proc, _ = start_app()
    places = (Path(tempfile.gettempdir()), gradio_cache())  # its exports and drawings live in Gradio's cache
    owned = lambda: [p for place in places for p in place.glob(f"kepkreator-*-{proc.pid}-*")]
    assert owned(), "the server made no image folder to check"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert owned() == []
