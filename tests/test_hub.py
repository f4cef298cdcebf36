"""Weights by name: weights/ first, then a Hub repo through huggingface_hub's cache, offline."""
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hub_cache(tmp_path):
    """A Hugging Face cache holding `someone/handwriting` as the Hub would have written it."""
    repo = tmp_path / "hub" / "models--someone--handwriting"
    snapshot = repo / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        shutil.copy(ROOT / "weights" / "cgan-mnist" / name, snapshot / name)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    return tmp_path / "hub"


def python(code: str, cache, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache), **env})


def test_a_model_missing_locally_loads_from_the_hub_cache_offline(hub_cache):
    result = python("from kepkreator import Handwriter\n"
                    "image = Handwriter.from_pretrained('not-shipped', 'someone/handwriting')('2026')\n"
                    "print(image.size)", hub_cache)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("(")


def test_local_weights_win_over_the_hub(hub_cache, tmp_path):
    result = python("from kepkreator.hub import resolve\nprint(resolve('cgan-mnist', 'someone/handwriting'))",
                    hub_cache)
    assert result.stdout.strip() == str(ROOT / "weights" / "cgan-mnist")


def test_an_uncached_repo_offline_is_a_clear_start_up_error(tmp_path):
    result = subprocess.run([sys.executable, "app.py", "--cgan", "not-shipped", "--cgan-repo", "someone/elsewhere"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path)})
    assert result.returncode == 2
    assert "error: cannot start: 'not-shipped' is not a folder here, and the Hub repo 'someone/elsewhere' is " \
           "neither cached nor reachable" in result.stderr
