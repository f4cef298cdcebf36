"""Weights folders a user or an attacker can get wrong: each is refused with one line naming the file and the fault,
before anything big is built."""
import json
import shutil
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file, save_file

from kepkreator.hub import WeightsError, load_model
from kepkreator.models.cgan import Generator
from tests.conftest import ROOT


@pytest.fixture
def weights(tmp_path):
    folder = tmp_path / "cgan"
    folder.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(ROOT / "weights" / "cgan-mnist" / name, folder / name)
    return folder


def rewrite_tensor(folder, change):
    tensors = load_file(str(folder / "model.safetensors"))
    change(tensors)
    save_file(tensors, str(folder / "model.safetensors"))


def refusal(folder) -> str:
    with pytest.raises(WeightsError) as err:
        load_model(Generator, folder)
    return str(err.value)


def test_a_nan_in_a_tensor_is_named(weights):
    rewrite_tensor(weights, lambda t: t["to_image.weight"].view(-1).__setitem__(0, float("nan")))
    assert "tensor to_image.weight holds NaN or infinite values" in refusal(weights)


@pytest.mark.parametrize("dtype, name", [(torch.float64, "F64"), (torch.int8, "I8")])
def test_a_tensor_of_the_wrong_dtype_is_named(weights, dtype, name):
    rewrite_tensor(weights, lambda t: t.__setitem__("project.bias", t["project.bias"].to(dtype)))
    assert f"tensor project.bias is {name}, expected F32" in refusal(weights)


def test_a_tensor_of_the_wrong_shape_is_named_with_both_shapes(weights):
    rewrite_tensor(weights, lambda t: t.__setitem__("project.bias", t["project.bias"][:10]))
    assert "tensor project.bias has shape [10], the config implies [6272]" in refusal(weights)


@pytest.mark.parametrize("config, message", [
    ({"classes": "0123456780", "latent_dim": 64, "width": 64}, "classes repeats characters"),
    ({"classes": "0123456789", "latent_dim": 64, "width": 100000}, "width must be a whole number from 1 to 512"),
    ({"classes": "x" * 5000, "latent_dim": 64, "width": 64}, "classes must be a string of 1 to 1000 characters"),
    ({"classes": "0123456789", "latent_dim": "64", "width": 64}, "latent_dim must be a whole number"),
    ({"classes": "0123456789", "width": 64, "colour": "red"}, "unknown settings colour"),
    ([1, 2, 3], "must hold a JSON object of settings, not list"),
    (None, "must hold a JSON object of settings, not NoneType"),
    ("width", "must hold a JSON object of settings, not str"),
])
def test_bad_settings_are_refused_before_anything_is_built(weights, config, message):
    (weights / "config.json").write_text(json.dumps(config))
    start = time.monotonic()
    assert message in refusal(weights)
    assert time.monotonic() - start < 5


def test_deeply_nested_json_is_refused_in_one_line(weights):
    (weights / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    assert "is not valid JSON (RecursionError" in refusal(weights)


def test_the_app_refuses_nan_weights_in_one_line_and_exit_2(weights):
    rewrite_tensor(weights, lambda t: t["to_image.bias"].fill_(float("inf")))
    result = subprocess.run([sys.executable, "app.py", "--cgan", str(weights)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: cannot start: {weights / 'model.safetensors'}: tensor to_image.bias holds NaN or infinite values; "
        "the weights are damaged (retrain, or restore them)"]
