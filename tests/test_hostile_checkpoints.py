"""Checkpoints damaged on disk, or a run that goes numerically wrong: one line naming the fault, exit 2, no traceback,
and nothing saved from a broken state."""
import json
import pickle

import pytest
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from tests.conftest import TINY, refusal, train_here

COMMAND = ["train.cgan", *TINY, "--steps", "6", "--checkpoint-every", "3"]


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory):
    """A run stopped at its step-3 checkpoint, to be resumed to step 6."""
    folder = tmp_path_factory.mktemp("stopped")
    train_here(*COMMAND[:-4], "--steps", "3", "--checkpoint-every", "3", "--output-dir", str(folder))
    return folder / "checkpoint.safetensors"


@pytest.fixture
def checkpointed(stopped_run, tmp_path):
    """A copy of the stopped run's checkpoint, for one test to damage."""
    copy = tmp_path / "checkpoint.safetensors"
    copy.write_bytes(stopped_run.read_bytes())
    return copy


@pytest.fixture
def resume(capsys):
    """Resume the run in-process (the same `train(argv)` the command runs), which must refuse the checkpoint."""
    def refused(checkpoint):
        said = refusal(COMMAND[0], [*COMMAND[1:], "--output-dir", str(checkpoint.parent), "--resume"], capsys)
        assert not (checkpoint.parent / "model.safetensors").exists()
        return said
    return refused


def rewrite(checkpoint, tensors=None, metadata=None):
    with safe_open(str(checkpoint), "pt") as f:
        old_metadata = f.metadata()
    contents = load_file(str(checkpoint))
    save_file(tensors(contents) if tensors else contents, str(checkpoint), metadata=metadata(old_metadata)
              if metadata else old_metadata)


def test_a_nan_in_a_checkpoint_stops_resume(checkpointed, resume):
    def poison(tensors):
        tensors["module.generator.to_image.weight"].view(-1)[0] = float("nan")
        return tensors
    rewrite(checkpointed, tensors=poison)
    assert "tensor module.generator.to_image.weight holds NaN or infinite values" in resume(checkpointed)


@pytest.mark.parametrize("damage", ["truncated", "empty", "pickle", "header"])
def test_a_damaged_file_is_named(checkpointed, damage, resume):
    data = checkpointed.read_bytes()
    checkpointed.write_bytes({"truncated": data[:len(data) // 2], "empty": b"",
                              "pickle": pickle.dumps({"step": 3}),
                              "header": data[:8] + bytes(b ^ 0xFF for b in data[8:40]) + data[40:]}[damage])
    said = resume(checkpointed)
    assert f"{checkpointed} is not a KepKreator checkpoint" in said and len(said.strip().splitlines()) == 1


@pytest.mark.parametrize("change, message", [
    (lambda t: {k: v for k, v in t.items() if k != "module.generator.project.bias"}, "does not fit this run's models"),
    (lambda t: {**t, "module.generator.project.bias": t["module.generator.project.bias"][:5]},
     "does not fit this run's models"),
])
def test_missing_or_misshapen_tensors_are_refused(checkpointed, change, message, resume):
    rewrite(checkpointed, tensors=change)
    assert message in resume(checkpointed)


@pytest.mark.parametrize("change, message", [
    (lambda m: {k: v for k, v in m.items() if k != "optimizers"}, "is damaged (KeyError"),
    (lambda m: {**m, "optimizers": "{not json"}, "is damaged (JSONDecodeError"),
    (lambda m: {**m, "optimizers": json.dumps({"generator": {}})}, "does not fit this run's models (KeyError"),
    (lambda m: {**m, "run_config": "[]"}, "is not a KepKreator checkpoint (ValueError"),
    (lambda m: {**m, "step": "-5"}, "says it was saved at step -5, outside 0 to --steps (6)"),
    (lambda m: {**m, "step": "100000"}, "says it was saved at step 100000, outside 0 to --steps (6)"),
])
def test_damaged_records_are_refused(checkpointed, change, message, resume):
    rewrite(checkpointed, metadata=change)
    assert message in resume(checkpointed)


def test_a_loss_that_is_not_finite_stops_the_run_and_saves_nothing_broken(tmp_path, capsys):
    # A weight no float32 loss can hold: learning rates that large are refused as the flags are read.
    said = refusal("train.cgan", [*TINY, "--steps", "40", "--checkpoint-every", "2", "--mode-seeking", "1e300",
                                  "--output-dir", str(tmp_path)], capsys)
    assert "a loss is not finite" in said and not (tmp_path / "model.safetensors").exists()
