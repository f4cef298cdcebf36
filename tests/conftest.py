"""Shared fixtures: the real data folder, tiny weights folders, a free loopback port, the app as a server."""
from __future__ import annotations

import gzip
import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

# Before anything imports huggingface_hub, which reads these once: tests never reach the network.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT.parent / "shared" / "data"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "mnist").is_dir():
        pytest.fail(f"the shared data folder is missing: expected {DATA_DIR} (see ../shared/data/README.md)")
    return DATA_DIR


@pytest.fixture(autouse=True, scope="session")
def isolated_cache(tmp_path_factory):
    """Decompressed IDX files go to a throwaway cache, never the user's."""
    os.environ["KEPKREATOR_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file (the MNIST format): magic with dtype code 0x08 (ubyte), dimensions, big-endian data."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture(scope="session")
def emnist_letters_dir(tmp_path_factory) -> Path:
    """A tiny EMNIST-letters folder: 52 images, each a bar at a known position, stored transposed as EMNIST does."""
    root = tmp_path_factory.mktemp("emnist")
    folder = root / "emnist"
    folder.mkdir()
    for part, count in (("train", 40), ("test", 12)):
        images = np.zeros((count, 28, 28), dtype=np.uint8)
        labels = (np.arange(count) % 26) + 1  # EMNIST letters labels run 1..26
        for i in range(count):
            images[i, :, 4 + i % 20] = 255  # upright: a horizontal bar at row 4 + i % 20
        write_idx(folder / f"emnist-letters-{part}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"emnist-letters-{part}-labels-idx1-ubyte.gz", labels)
    return root


@pytest.fixture(scope="session")
def kdef_dir(tmp_path_factory):
    """A tiny KDEF-shaped folder: 3 people x 2 sessions x 3 expressions x 2 angles, plus files to ignore."""
    root = tmp_path_factory.mktemp("kdef")
    rng = np.random.default_rng(0)
    for session in "AB":
        for person in ("F01", "M02", "F03"):
            folder = root / f"{session}{person}"
            folder.mkdir()
            for expression in ("HA", "SA", "NE"):
                for angle in ("S", "HL"):
                    pixels = rng.integers(0, 255, (762, 562, 3), dtype=np.uint8)
                    Image.fromarray(pixels).save(folder / f"{session}{person}{expression}{angle}.JPG")
            (folder / "notes.txt").write_text("not an image")
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(*extra: str, timeout: float = 120) -> tuple[subprocess.Popen, str]:
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    # The log goes to a file: an unread pipe fills up and blocks the server mid-request.
    log = open(ARTIFACTS / f"app-{port}.log", "w")
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), *extra], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited with {proc.returncode}:\n{(ARTIFACTS / f'app-{port}.log').read_text()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, url
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"app did not listen on {url} within {timeout} s")


@pytest.fixture(scope="session")
def app_url():
    proc, url = start_app()
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


# Training as a user runs it: a command, on a few hundred real digits with tiny networks. A constant learning rate,
# so a run can be stopped with --steps N and resumed with more; the recipe's decaying one is tested on its own.
TINY = ["--limit", "256", "--batch-size", "32", "--g-width", "16", "--d-width", "16", "--latent-dim", "16",
        "--cooldown", "0"]


def run(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result


def refusal(command: str, argv: list[str], capsys) -> str:
    """What a command (a module with `train(argv)`) says when it refuses `argv`: its one line on stderr, checked to
    come with exit code 2 and no traceback. In-process: a parse takes milliseconds, an interpreter seconds."""
    import importlib

    from train.loop import command_line

    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        command_line(importlib.import_module(command).train)(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "Traceback" not in err, err
    return err


def train_here(command: str, *argv: str) -> None:
    """A training command's `train(argv)`, run in this process: the same code the command runs, without the
    seconds an interpreter takes to import torch. Each script keeps one test that starts it as a command."""
    import importlib

    importlib.import_module(command).train(list(argv))


def tensors(folder: Path, name: str = "model.safetensors") -> dict:
    return load_file(str(folder / name))


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not (a[k] == b[k]).all()]
    assert not different, f"tensors differ: {different[:5]}"


@pytest.fixture(scope="session")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole")
    run("train.cgan", *TINY, "--steps", "6", "--checkpoint-every", "3", "--sample-every", "3", "--output-dir", str(out))
    return out
