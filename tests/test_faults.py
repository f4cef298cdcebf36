"""Faults a user meets: a training run killed outright, and code paths that must never unpickle."""
import ast
import signal
import subprocess
import sys
import time

from train.checkpoint import read_run_config
from tests.conftest import ROOT
from tests.conftest import TINY, assert_same, run, tensors

STEPS, EVERY = "24", "4"


def test_a_killed_run_resumes_from_its_last_checkpoint_and_ends_as_if_never_killed(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    run("train.cgan", *TINY, "--steps", STEPS, "--checkpoint-every", EVERY, "--output-dir", str(whole))

    proc = subprocess.Popen([sys.executable, "-m", "train.cgan", *TINY, "--steps", STEPS, "--checkpoint-every", EVERY,
                             "--output-dir", str(killed)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    checkpoint = killed / "checkpoint.safetensors"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if checkpoint.exists() and read_run_config(checkpoint)[0] >= 8:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    saved_step = read_run_config(checkpoint)[0]  # still a whole, readable checkpoint
    assert 8 <= saved_step < int(STEPS)
    assert not (killed / "model.safetensors").exists()

    resumed = run("train.cgan", *TINY, "--steps", STEPS, "--checkpoint-every", EVERY, "--output-dir", str(killed),
                  "--resume")
    assert f"resumed from step {saved_step}" in resumed.stdout + resumed.stderr
    assert_same(tensors(whole), tensors(killed))


def test_nothing_in_the_code_unpickles():
    """No torch.load, pickle or joblib anywhere a user's file could reach."""
    offenders = []
    for folder in ("kepkreator", "train", "app.py"):
        paths = [ROOT / folder] if folder.endswith(".py") else sorted((ROOT / folder).rglob("*.py"))
        for path in paths:
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                    if any(n.split(".")[0] in ("pickle", "dill", "joblib", "cloudpickle") for n in names):
                        offenders.append(f"{path.name}:{node.lineno} imports a pickler")
                if isinstance(node, ast.Attribute) and node.attr in ("load", "loads") and \
                        isinstance(node.value, ast.Name) and node.value.id in ("torch", "pickle"):
                    offenders.append(f"{path.name}:{node.lineno} calls {node.value.id}.{node.attr}")
    assert not offenders
    assert not [p for p in (ROOT / "weights").rglob("*") if p.suffix in (".pt", ".pth", ".bin", ".pkl", ".ckpt")]


def test_the_app_listens_on_loopback_by_default(monkeypatch):
    from kepkreator.server_settings import parse_args

    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    assert parse_args([]).host == "127.0.0.1"
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")  # as a Space sets it
    assert parse_args([]).host == "0.0.0.0"
