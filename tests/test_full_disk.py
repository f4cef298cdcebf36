"""A disk that fills up during training or export: a real small tmpfs, so every write meets a real ENOSPC."""
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import TINY, assert_same, run, tensors


class SmallDisk:
    def __init__(self, path: Path):
        self.path = path

    def mount(self, size: int) -> Path:
        self.path.mkdir(exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "kepkreator-test", str(self.path)], check=True)
        return self.path

    def grow(self, size: int) -> None:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(self.path)], check=True)

    def unmount(self) -> None:
        if os.path.ismount(self.path):
            subprocess.run(["umount", str(self.path)], check=True)


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("a full disk is simulated by mounting a small tmpfs, which needs root (as CI has)")
    disk = SmallDisk(tmp_path / "disk")
    yield disk
    disk.unmount()


def sizes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*") if p.is_file()}


def fill_up(small_disk, disk_size: int, checkpoint_every: int) -> tuple[Path, list[str], str]:
    """A tiny training run on a disk of `disk_size` bytes: its folder, its command and what it said on failing."""
    out = small_disk.mount(disk_size) / "run"
    command = ["train.cgan", *TINY, "--steps", "6", "--checkpoint-every", str(checkpoint_every), "--sample-every", "3",
               "--output-dir", str(out)]
    full = run(*command, check=False)
    assert full.returncode == 2 and "Traceback" not in full.stderr, full.stderr[-2000:]
    return out, command, full.stderr


def resume_on_a_larger_disk(small_disk, command: list[str], size: dict[str, int]) -> None:
    small_disk.grow(8 * sum(size.values()))
    run(*command, "--resume")


def test_a_checkpoint_that_does_not_fit_keeps_the_last_one_and_resume_finishes(uninterrupted, small_disk):
    size = sizes(uninterrupted)
    # Room for the step-3 checkpoint and both sample grids, but not for the step-6 copy written beside it.
    out, command, said = fill_up(small_disk, size["samples/step-0000003.png"] + size["samples/step-0000006.png"]
                                 + 3 * size["checkpoint.safetensors"] // 2, checkpoint_every=3)
    assert f"could not write checkpoint {out / 'checkpoint.safetensors'}: No space left on device" in said
    assert "The checkpoint at step 3 is intact" in said
    assert not list(out.glob(".*partial")) and not (out / "model.safetensors").exists()
    resume_on_a_larger_disk(small_disk, command, size)
    assert_same(tensors(out), tensors(uninterrupted))


def test_a_model_that_does_not_fit_is_saved_again_by_resume(uninterrupted, small_disk):
    size = sizes(uninterrupted)
    # Room for the last checkpoint, the grids and training.json, and half of the model's weights.
    room = sum(v for k, v in size.items() if k.startswith("samples/")) + size["checkpoint.safetensors"]
    out, command, said = fill_up(small_disk, room + 16 * 1024 + size["model.safetensors"] // 2, checkpoint_every=6)
    assert f"could not write the trained model in {out}: No space left on device" in said
    assert "The checkpoint at step 6 is intact" in said
    resume_on_a_larger_disk(small_disk, command, size)
    assert_same(tensors(out), tensors(uninterrupted))


def test_an_export_that_does_not_fit_leaves_nothing_behind(small_disk):
    disk = small_disk.mount(64 * 1024)
    result = run("kepkreator.augment", "--count", "200", "--out", str(disk / "faces.zip"), check=False)
    assert result.returncode == 2
    assert f"error: cannot write {disk / 'faces.zip'}: No space left on device" in result.stderr
    assert list(disk.iterdir()) == []


def test_a_full_disk_gives_the_visitor_a_message_and_the_app_leaves_nothing_behind(small_disk, monkeypatch):
    """Exports fill Gradio's cache: each failed one says the disk is full and leaves no folder, the ones made stay
    within the app's bound, and nothing the app wrote outlives it."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from tests.conftest import start_app

    disk = small_disk.mount(3 * 1024 * 1024)
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(disk))
    proc, url = start_app()
    try:
        client = Client(url, download_files=False, verbose=False)
        answers = []
        for seed in range(5):  # 300 faces are some 0.8 MB zipped
            try:
                client.predict(300, 0.5, seed, api_name="/export_faces")
                answers.append("saved")
            except AppError as err:
                answers.append(str(err))
        assert answers[0] == "saved" and "The server's disk is full" in answers[-1], answers
        exports = next(disk.glob("kepkreator-exports-*"))
        assert all(any(folder.iterdir()) for folder in exports.iterdir())  # no empty folder of a failed write
        copies = [p for p in disk.rglob("*")
                  if p.is_file() and not p.relative_to(disk).parts[0].startswith("kepkreator-")]
        assert not copies  # Gradio serves the zips where they are, copying none outside the bound
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert not [p for p in disk.rglob("*") if p.is_file() or p.name.startswith("kepkreator-")]
