"""Real training steps on a few hundred real digits, run as a user runs them: as commands. Refused flags are
checked in-process (the same `train(argv)` the command runs), one real command per script stays a subprocess."""
import json
import subprocess
import sys

import pytest
import torch

from kepkreator.data.attribute_sets import one_hot_parts
from kepkreator.hub import load_model
from kepkreator.models.gcn import AttributeGenerator
from tests.conftest import ROOT, TINY, assert_same, refusal, run, tensors, train_here


def test_a_run_leaves_weights_card_samples_and_checkpoint(uninterrupted):
    names = {p.name for p in uninterrupted.iterdir()}
    assert {"config.json", "model.safetensors", "README.md", "checkpoint.safetensors", "training.json"} <= names
    assert (uninterrupted / "samples" / "step-0000003.png").exists()
    assert (uninterrupted / "samples" / "final.png").exists()
    config = json.loads((uninterrupted / "config.json").read_text())
    assert config == {"classes": "0123456789", "latent_dim": 16, "width": 16}
    card = (uninterrupted / "README.md").read_text()
    assert "python -m train.cgan" in card and "256 training images" in card and "samples/final.png" in card


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(uninterrupted, tmp_path):
    run("train.cgan", *TINY, "--steps", "3", "--checkpoint-every", "3", "--output-dir", str(tmp_path))
    resumed = run("train.cgan", *TINY, "--steps", "6", "--checkpoint-every", "3", "--output-dir", str(tmp_path),
                  "--resume")
    assert "resumed from step 3" in resumed.stdout + resumed.stderr
    assert_same(tensors(uninterrupted), tensors(tmp_path))
    assert_same(tensors(uninterrupted, "checkpoint.safetensors"), tensors(tmp_path, "checkpoint.safetensors"))


def test_an_existing_checkpoint_is_never_overwritten_or_resumed_with_other_settings(uninterrupted, capsys):
    again = refusal("train.cgan", [*TINY, "--steps", "6", "--output-dir", str(uninterrupted)], capsys)
    assert "already holds a checkpoint at step 6: pass --resume" in again
    assert not (uninterrupted / ".run.lock").exists()  # a refused run leaves the folder free
    other = refusal("train.cgan", [*TINY, "--steps", "9", "--lr-g", "0.001", "--output-dir", str(uninterrupted),
                                   "--resume"], capsys)
    assert "made with other settings (lr_g: 0.0002 -> 0.001)" in other


def test_letters_train_on_the_same_code_path(emnist_letters_dir, tmp_path):
    train_here("train.cgan", "--dataset", "emnist-letters", "--data-dir", str(emnist_letters_dir), *TINY,
               "--steps", "2", "--output-dir", str(tmp_path))
    assert json.loads((tmp_path / "config.json").read_text())["classes"] == "abcdefghijklmnopqrstuvwxyz"


def test_two_processes_through_torchrun(tmp_path):
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                             str(_free_port()), "-m", "train.cgan", *TINY, "--steps", "4",
                             "--output-dir", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((tmp_path / "training.json").read_text())["processes"] == 2


def test_judge_trains_on_the_same_loop(tmp_path):
    train_here("train.judge", "--limit", "256", "--steps", "3", "--batch-size", "32", "--width", "8",
        "--output-dir", str(tmp_path))
    assert json.loads((tmp_path / "config.json").read_text())["classes"] == "0123456789"


def test_the_judge_refuses_a_learning_rate_it_cannot_train_with(tmp_path):
    result = run("train.judge", "--lr", "-1", "--output-dir", str(tmp_path / "out"), check=False)  # the real command
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "argument --lr: must be a number above 0 and at most 1, got -1" in result.stderr


def test_gcn_trains_generator_and_cooperating_classifier(tmp_path):
    train_here("train.gcn", "--limit", "128", "--steps", "3", "--batch-size", "16", "--width", "16",
               "--classifier-width", "8",
        "--output-dir", str(tmp_path / "gcn"))
    config = json.loads((tmp_path / "gcn" / "config.json").read_text())
    assert [name for name, _ in config["schema"]] == ["digit", "writer", "colour", "transform"]
    assert len(config["schema"][1][1]) == 124
    assert (tmp_path / "gcn" / "classifier" / "model.safetensors").exists()
    train_here("train.gcn", "--classifier-only", "--limit", "128", "--steps", "2", "--batch-size", "16",
        "--classifier-width", "8", "--output-dir", str(tmp_path / "judge"))
    assert not (tmp_path / "judge" / "classifier").exists() and (tmp_path / "judge" / "model.safetensors").exists()


def test_the_mix_term_teaches_the_generator_only(tmp_path, capsys):
    """--mix-weight adds a term for the generator; the cooperating classifier still learns from real faces alone,
    so its weights match a run without the term bit for bit."""
    command = ["train.gcn", "--dataset", "yale", "--image-size", "32", "--limit", "64", "--steps", "2",
               "--batch-size", "16", "--width", "8", "--classifier-width", "8", "--d-width", "8",
               "--adversarial-blend-weight", "0"]
    train_here(*command, "--mix-weight", "0", "--output-dir", str(tmp_path / "plain"))
    capsys.readouterr()
    train_here(*command, "--mix-weight", "0.5", "--output-dir", str(tmp_path / "blend"))
    assert "mix=" in capsys.readouterr().err
    assert_same(tensors(tmp_path / "plain" / "classifier"), tensors(tmp_path / "blend" / "classifier"))
    plain, blend = tensors(tmp_path / "plain"), tensors(tmp_path / "blend")
    assert any(not torch.equal(plain[k], blend[k]) for k in plain)
    card = json.loads((tmp_path / "blend" / "training.json").read_text())["card"]
    assert card["hyperparameters"]["mix_weight"] == 0.5


def test_a_mix_partner_differs_in_the_blended_attribute_only(data_dir):
    from kepkreator.data.faces import face_styles, read_yale
    from kepkreator.data.attribute_sets import Partners

    faces = face_styles(read_yale(data_dir, size=32), holdout=0.1, seed=0).train
    partners = Partners(faces, column=0)  # identity
    rows = faces.attributes[torch.randperm(len(faces), generator=torch.Generator().manual_seed(0))[:64]]
    images, identities, found = partners.draw(rows)
    assert found.all() and (identities != rows[:, 0]).all()  # every Yale combination has another person in it
    for image, identity, row in zip(images, identities, rows):
        same = (faces.attributes[:, 1:] == row[1:]).all(dim=1) & (faces.attributes[:, 0] == identity)
        assert any(torch.equal(image, real.float() / 255) for real in faces.images[same])
    lonely = Partners(faces.subset(torch.tensor([0])), column=0)  # one image: nobody to mix with
    _, values, found = lonely.draw(faces.attributes[:1])
    assert not found.any() and values.tolist() == [faces.attributes[0, 0].item()]


@pytest.mark.parametrize("command", [
    ["train.gcn", "--limit", "128", "--batch-size", "16", "--width", "16", "--classifier-width", "8"],
    ["train.cgan", *TINY],
])
def test_a_decaying_schedule_resumes_only_with_the_same_steps(command, tmp_path, capsys):
    command = [*command, "--cooldown", "2", "--checkpoint-every", "2", "--output-dir", str(tmp_path)]
    train_here(*command, "--steps", "2")
    assert "schedule_steps: 2 -> 4" in refusal(command[0], [*command[1:], "--steps", "4", "--resume"], capsys)


@pytest.mark.parametrize("flags, message", [
    (["--holdout", "0.7"], "argument --holdout: must be a number above 0 and below 0.5, got 0.7"),
    (["--cooldown", "6000"], "--cooldown must be from 0 to --steps (5000), got 6000"),
    (["--mix-weight", "-0.5"], "argument --mix-weight: must be a number of at least 0, got -0.5"),
    (["--classifier-only", "--mix-weight", "1"], "--mix-weight trains the generator; --classifier-only trains no"),
    (["--image-size", "50"], "--image-size: image_size 50 is not 4, 5, 6, 7 or 8 times a power of two"),
    (["--image-size", "0"], "argument --image-size: must be a whole number from 4 to 256, got 0"),
    (["--coop-weight", "-1"], "argument --coop-weight: must be a number of at least 0, got -1"),
    (["--unseen-weight", "nan"], "argument --unseen-weight: must be a number of at least 0, got nan"),
    (["--adversarial-weight", "inf"], "argument --adversarial-weight: must be a number of at least 0, got inf"),
    (["--exclude-identities", "-2"], "argument --exclude-identities: must be a whole number of at least 0, got -2"),
    (["--dataset", "yale", "--exclude-identities", "14"], "excluding 14 of the 15 identities leaves fewer than two"),
])
def test_bad_gcn_flags_get_clear_messages(flags, message, tmp_path, capsys):
    assert message in refusal("train.gcn", ["--output-dir", str(tmp_path / "out"), *flags], capsys)
    assert not (tmp_path / "out").exists()


def test_push_to_hub_offline_fails_clearly_and_keeps_the_model(tmp_path, capsys):
    # the tests run with HF_HUB_OFFLINE=1 (conftest)
    said = refusal("train.cgan", [*TINY, "--steps", "2", "--output-dir", str(tmp_path), "--push-to-hub",
                                  "someone/digits"], capsys)
    assert "push to someone/digits failed" in said and f"The model is saved in {tmp_path}" in said
    assert (tmp_path / "model.safetensors").exists()


def test_a_cgan_cooldown_decays_both_players_learning_rates(tmp_path):
    train_here("train.cgan", *TINY, "--steps", "4", "--cooldown", "4", "--output-dir", str(tmp_path / "decayed"))
    train_here("train.cgan", *TINY, "--steps", "4", "--output-dir", str(tmp_path / "constant"))
    decayed, constant = (tensors(tmp_path / name, "checkpoint.safetensors") for name in ("decayed", "constant"))
    for player in ("generator", "discriminator"):
        changed = [name for name in decayed
                   if name.startswith(f"module.{player}.") and not torch.equal(decayed[name], constant[name])]
        assert changed, f"the {player}'s weights ignored --cooldown"


@pytest.mark.parametrize("flags, message", [
    (["--steps", "0"], "argument --steps: must be a whole number of at least 1, got 0"),
    (["--batch-size", "many"], "argument --batch-size: must be a whole number of at least 1, got 'many'"),
    (["--push-to-hub", "no-owner"], "--push-to-hub takes OWNER/NAME, got 'no-owner'"),
    (["--dataset", "kdef"], "invalid choice: 'kdef'"),
    (["--lr-g", "nan"], "argument --lr-g: must be a number above 0 and at most 1, got nan"),
    (["--g-width", "100000"], "argument --g-width: must be a whole number from 4 to 512, got 100000"),
    (["--mode-seeking", "-1"], "argument --mode-seeking: must be a number of at least 0, got -1"),
    (["--seed", "-1"], "argument --seed: must be a whole number from 0 to 9223372036854775807, got -1"),
    (["--shift", "20"], "argument --shift: must be a whole number from 0 to 8, got 20"),
    (["--ema-decay", "1"], "argument --ema-decay: must be a number from 0 to below 1, got 1"),
    (["--steps", "10", "--cooldown", "11"], "--cooldown must be from 0 to --steps (10), got 11"),
])
def test_bad_flags_get_clear_messages(flags, message, tmp_path, capsys):
    assert message in refusal("train.cgan", [*TINY, "--output-dir", str(tmp_path / "out"), *flags], capsys)


def test_bad_folders_get_clear_messages(tmp_path, capsys):
    empty = refusal("train.cgan", ["--data-dir", str(tmp_path), "--output-dir", str(tmp_path / "out")], capsys)
    assert "no MNIST test files under" in empty and "--download" in empty  # where the data comes from
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    unwritable = refusal("train.cgan", [*TINY, "--steps", "1", "--output-dir", str(blocker / "out")], capsys)
    assert "cannot write to --output-dir" in unwritable


def _free_port() -> int:
    from tests.conftest import free_port

    return free_port()


ADVERSARIAL = ["train.gcn", "--dataset", "yale", "--image-size", "32", "--limit", "64", "--batch-size", "8",
               "--width", "8", "--classifier-width", "8", "--d-width", "8", "--generator", "modulated",
               "--content", "identity", "--exact-transform", "--adversarial-weight", "0.1", "--mix-weight", "0",
               "--adversarial-blend-weight", "0", "--unseen-weight", "0", "--no-blend-norm", "--cooldown", "0",
               "--checkpoint-every", "2"]


def test_an_adversarial_run_keeps_its_discriminator_in_the_checkpoint_and_resumes_exactly(tmp_path, capsys):
    train_here(*ADVERSARIAL, "--steps", "4", "--output-dir", str(tmp_path / "whole"))
    train_here(*ADVERSARIAL, "--steps", "2", "--output-dir", str(tmp_path / "split"))
    capsys.readouterr()
    # --blend-norm only chooses how the saved model draws blends, so it may be added on resuming
    train_here(*ADVERSARIAL, "--steps", "4", "--output-dir", str(tmp_path / "split"), "--resume", "--blend-norm")
    resumed = capsys.readouterr()
    assert "resumed from step 2" in resumed.out + resumed.err and "d=" in resumed.err
    checkpoint = tensors(tmp_path / "whole", "checkpoint.safetensors")
    assert any(k.startswith("module.discriminator.") for k in checkpoint)
    assert any(k.startswith("optim.discriminator.") for k in checkpoint)
    assert_same(tensors(tmp_path / "whole"), tensors(tmp_path / "split"))
    assert_same(checkpoint, tensors(tmp_path / "split", "checkpoint.safetensors"))
    config = json.loads((tmp_path / "whole" / "config.json").read_text())
    assert config["content"] == ["identity"] and config["exact_transform"] and config["modulated"]
    assert not config["blend_norm"]
    assert load_model(AttributeGenerator, tmp_path / "split").blend_norm


FACE_TASK = dict(classifier_only=False, classifier_width=8, colour_mixes=0, lr=1e-3, beta1=0.5, lr_d=2e-4,
                 mix_weight=0, dataset="yale", width=8, generator="modulated", content=["identity"],
                 exact_transform=True, d_width=8, adversarial_weight=0.1, adversarial_blend_weight=0, d_shift=0,
                 steps=10, cooldown=0, coop_weight=0.01, unseen_weight=0, blend_norm=False)


def face_batch(data_dir):
    """The Yale training faces at 32x32 and a batch of 16 of them."""
    from kepkreator.data.faces import face_styles, read_yale

    faces = face_styles(read_yale(data_dir, size=32), holdout=0.1, seed=0).train
    rows = torch.randperm(len(faces), generator=torch.Generator().manual_seed(0))[:16]
    return faces, (faces.images[rows], faces.attributes[rows])


def face_task(faces, **changes):
    """A small face task with FACE_TASK's settings, changed as asked."""
    import argparse

    from accelerate import Accelerator

    from train.gcn_task import GCNTask

    return GCNTask(argparse.Namespace(**{**FACE_TASK, **changes}), faces, Accelerator(cpu=True))


def one_face_step(faces, batch, spy: list | None = None, **changes):
    """A small face task after one training step from a fixed seed; `spy` collects what its discriminator judged."""
    torch.manual_seed(0)
    task = face_task(faces, **changes)
    if spy is not None:
        judge = task.d
        task.d = lambda images, condition: spy.append((images.detach(), condition)) or judge(images, condition)
    torch.manual_seed(1)
    task.training_step(batch, 0)
    return task


def test_the_moving_average_follows_the_network_and_copies_its_statistics():
    """The cGAN ships its generator's moving average (train/ema.py): after an update each weight is decay x the
    average's + (1 - decay) x the network's, and the normalisation statistics are the network's own."""
    from train.ema import MovingAverage

    network = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    average = MovingAverage(network, decay=0.25)
    before = {name: p.detach().clone() for name, p in network.named_parameters()}
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.add_(1.0)
    network(torch.randn(8, 3))  # moves the batch norm's running statistics
    average.update()
    for name, averaged in average.average.named_parameters():
        assert torch.allclose(averaged, 0.25 * before[name] + 0.75 * (before[name] + 1)), name
    for (name, averaged), current in zip(average.average.named_buffers(), network.buffers()):
        assert torch.equal(averaged, current), name


def test_the_discriminator_sees_real_and_generated_faces_under_the_same_conditions(data_dir):
    """A condition only one side showed (a held-out pair, a blend) would give the generated images away."""
    faces, (images, attributes) = face_batch(data_dir)
    task = face_task(faces, d_shift=2)
    seen = []
    judge = task.d
    task.d = lambda images, condition: seen.append(condition) or judge(images, condition)
    task.adversarial_terms(images.float() / 255, attributes, one_hot_parts(attributes, faces.schema))
    upright = attributes.clone()
    upright[:, list(faces.schema).index("transform")] = 0
    expected, _ = task.generator.split(torch.cat(one_hot_parts(upright, faces.schema), 1))
    assert len(seen) == 3 and all(torch.equal(condition, expected) for condition in seen)


def assert_only_the_generator_learned(changed, unchanged) -> None:
    # Parameters, not buffers: spectral norm's power iteration steps at every forward, whatever the input.
    learned = dict(changed.modules["discriminator"].named_parameters())
    for name, value in unchanged.modules["discriminator"].named_parameters():
        assert torch.equal(learned[name], value), name
    assert any(not torch.equal(value, unchanged.generator.state_dict()[name])
               for name, value in changed.generator.state_dict().items())


def test_unseen_combinations_are_judged_upright_by_the_discriminator_but_never_teach_it(data_dir):
    """The unseen-combination term draws each row's identity in another row's condition, upright, and moves the
    generator only."""
    faces, batch = face_batch(data_dir)
    judged = []
    with_unseen, without = one_face_step(faces, batch, judged, unseen_weight=1.0), one_face_step(faces, batch)
    assert_only_the_generator_learned(with_unseen, without)
    _, condition = judged[-1]  # after the discriminator's step and the adversarial loss: the unseen term's
    names = list(faces.schema)
    identity, chosen = (condition[:, with_unseen.generator.content_columns].argmax(1),
                        condition[:, with_unseen.generator.style_columns].argmax(1))
    assert torch.equal(identity, batch[1][:, names.index("identity")])
    assert sorted(chosen.tolist()) == sorted(batch[1][:, names.index("condition")].tolist())  # the batch's, moved
    assert not torch.equal(chosen, batch[1][:, names.index("condition")])

    judged.clear()
    assert batch[1][:, names.index("transform")].unique().numel() > 1  # turned rows among them
    generator = with_unseen.generator.eval()
    with torch.no_grad():
        with_unseen.unseen_combinations(one_hot_parts(batch[1], faces.schema))
        images, condition = judged[-1]
        upright = torch.zeros(len(condition), len(faces.schema["transform"]))
        upright[:, 0] = 1
        assert torch.equal(images, generator(torch.cat([condition, upright], 1)))


def test_blends_are_judged_upright_by_the_discriminator_but_never_teach_it(data_dir):
    """The blend term moves the generator only: one step with it and one without, from the same seed, leave the
    same discriminator and different generators; what the discriminator judged of a blend is the upright drawing."""
    faces, batch = face_batch(data_dir)

    def one_step(blend_weight: float, spy: list | None = None):
        return one_face_step(faces, batch, spy, mix_weight=1.0, adversarial_blend_weight=blend_weight)

    judged = []
    with_blends, without = one_step(0.5, judged), one_step(0.0)
    assert_only_the_generator_learned(with_blends, without)
    _, condition = judged[-1]  # after the discriminator's step and its adversarial loss: the blends
    assert ((condition > 0) & (condition < 1)).any()  # fractional identities reached it

    judged.clear()
    generator = with_blends.generator.eval()
    _, _, vectors = with_blends.mix_reconstruction(batch[0].float() / 255, batch[1])
    assert batch[1][:, list(faces.schema).index("transform")].unique().numel() > 1  # turned rows among them
    with torch.no_grad():
        with_blends.blend_realism(generator(vectors), batch[1], vectors)
        assert torch.allclose(judged[0][0], generator.draw(generator.split(vectors)[0]))


def test_colour_mixes_train_on_exact_targets_and_never_on_a_held_out_colour(data_dir):
    """A mixed image is the grey ink spread by the weights; an item that lost a colour never sees it in a mix."""
    import argparse

    from accelerate import Accelerator

    from kepkreator.data.styles import qmnist_styles
    from train.gcn_task import GCNTask

    data = qmnist_styles(data_dir, holdout=0.1, seed=0)
    train = data.train
    args = argparse.Namespace(classifier_only=True, classifier_width=8, colour_mixes=1.0, lr=1e-3, beta1=0.9,
                              lr_d=2e-4, mix_weight=0, dataset="qmnist", width=8, generator="plain", content=None,
                              exact_transform=False, d_width=8, adversarial_weight=0)
    task = GCNTask(args, train, Accelerator(cpu=True))
    lost = data.held_out.subset(data.held_out.split == 1).attributes[:50]  # items, each missing one colour
    rows = torch.stack([train.attributes[(train.attributes[:, :2] == item[:2]).all(dim=1)][0] for item in lost])
    images = torch.stack([train.images[(train.attributes == row).all(dim=1)][0] for row in rows]).float() / 255
    mixed, targets = task.mix_colours(images, rows, [None, None, torch.nn.functional.one_hot(rows[:, 2], 3).float(),
                                                     None])
    weights = targets[2]
    assert torch.allclose(weights.sum(dim=1), torch.ones(len(rows)))
    assert (weights[torch.arange(len(rows)), lost[:, 2]] == 0).all()  # the held-out colour is never mixed in
    ink = images.amax(dim=1, keepdim=True)
    assert torch.allclose(mixed, ink * weights[:, :, None, None])


@pytest.mark.parametrize("flags, message", [
    (["--adversarial-weight", "-1"], "argument --adversarial-weight: must be a number of at least 0, got -1"),
    (["--adversarial-blend-weight", "-1"],
     "argument --adversarial-blend-weight: must be a number of at least 0, got -1"),
    (["--adversarial-blend-weight", "0.1", "--adversarial-weight", "0.1"], "--adversarial-blend-weight judges the "
                                                                           "--mix-weight term's blends"),
    (["--classifier-only", "--adversarial-weight", "1"], "--adversarial-weight trains the generator"),
    (["--colour-mixes", "1.5"], "argument --colour-mixes: must be a number from 0 to 1, got 1.5"),
    (["--dataset", "yale", "--colour-mixes", "0.5"], "only qmnist has a colour attribute, not yale"),
    (["--content", "--blend-norm"], "--blend-norm rescales blended --content codes: it needs --content"),
    (["--generator", "plain", "--content", "digit"],
     "--content splits what the layers read: it needs --generator modulated"),
    (["--content", "--unseen-weight", "1"], "--unseen-weight draws each --content with other rows' style attributes"),
    (["--generator", "modulated", "--content", "nose"], "content ['nose'] must name some, not all, of the attributes"),
    (["--d-width", "0"], "argument --d-width: must be a whole number from 4 to 512, got 0"),
    (["--lr-d", "0"], "argument --lr-d: must be a number above 0 and at most 1, got 0"),
    (["--beta1", "1"], "argument --beta1: must be a number from 0 to below 1, got 1"),
    (["--ema-decay", "0.9"], "unrecognized arguments: --ema-decay 0.9"),  # the GCN ships its trained generator
    (["--d-shift", "20"], "--d-shift must be from 0 to a quarter of the image side (7 pixels), got 20"),
    (["--recipe", "cgan-mnist"], "argument --recipe: invalid choice: 'cgan-mnist'"),
])
def test_bad_model_flags_get_clear_messages(flags, message, tmp_path, capsys):
    assert message in refusal("train.gcn", ["--limit", "64", "--output-dir", str(tmp_path / "out"), *flags], capsys)


def test_a_recipe_sets_defaults_and_flags_still_win(tmp_path):
    from train.recipes import RECIPES

    train_here("train.gcn", "--recipe", "gcn-yale", "--steps", "1", "--limit", "16", "--batch-size", "8",
               "--cooldown", "0", "--output-dir", str(tmp_path))
    record = json.loads((tmp_path / "training.json").read_text())
    recorded = {**record["run_config"], **record["card"]["hyperparameters"]}
    for name, value in RECIPES["gcn-yale"].defaults().items():
        if name not in ("steps", "batch_size", "cooldown", "output_dir"):
            assert recorded[name] == value, name
    assert record["steps"] == 1 and recorded["batch_size"] == 8
    assert json.loads((tmp_path / "config.json").read_text())["blend_norm"]


def test_a_second_run_on_the_same_folder_stops_at_once_naming_the_first(tmp_path, capsys):
    import time

    command = ["train.cgan", *TINY, "--checkpoint-every", "1000", "--sample-every", "1000", "--output-dir",
               str(tmp_path)]
    first = subprocess.Popen([sys.executable, "-m", *command, "--steps", "1000"], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / ".run.lock").exists() and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.2)
        said = refusal(command[0], [*command[1:], "--steps", "40", "--seed", "2"], capsys)
        assert f"{tmp_path} is being written by another run (process {first.pid})" in said
        assert first.poll() is None  # the first run goes on
    finally:
        first.kill()  # killed: its lock stays behind, naming a process that no longer runs
        first.wait()
    assert (tmp_path / ".run.lock").read_text() == str(first.pid)
    train_here(*command, "--steps", "2")  # a lock of a run that died is taken over
    assert (tmp_path / "model.safetensors").exists() and not (tmp_path / ".run.lock").exists()


def test_faces_named_beyond_what_a_model_may_hold_are_refused_before_training(data_dir, tmp_path, capsys):
    """A person named by 120 characters trained and saved, and the app then could not load the model."""
    long_name = "subject" + "x" * 113
    folder = tmp_path / "yalefaces"
    folder.mkdir()
    for photo in (data_dir / "yalefaces").glob("subject0[12].*"):
        name = photo.name.replace("subject02", long_name)
        (folder / name).write_bytes(photo.read_bytes())
    for command in ("train.gcn", "train.fisherfaces"):
        said = refusal(command, ["--dataset", "yale", "--data-dir", str(tmp_path), "--output-dir",
                                 str(tmp_path / "out")], capsys)
        assert f"has a name of 120 characters for its identity ('{long_name[:40]}'...): names are 1 to 100" in said
    assert not (tmp_path / "out" / "model.safetensors").exists()
