"""`evaluate gcn` and `evaluate faces` score a model with a judge the user names: anything that is not a judge of
that model's attributes is refused by name, before loading, with a one-line message and exit status 2."""
import pytest

from kepkreator.evaluate import main as evaluate_main

CASES = [
    ("gcn", "judge-mnist", "'judge-mnist' is not a judge of this model: it has no attribute schema, "
                           "the model draws digit, writer, colour, transform"),
    ("gcn", "judge-yale", "'judge-yale' is not a judge of this model: it reads identity, condition, transform, "
                          "the model draws digit, writer, colour, transform"),
    ("gcn", "gcn-qmnist", "'gcn-qmnist' is a generator, not a judge: its cooperating classifier learned beside it"),
    ("faces", "judge-qmnist-styles", "'judge-qmnist-styles' is not a judge of this model: it reads digit, writer, "
                                     "colour, transform, the model draws identity, condition, transform; "
                                     "make a judge with python -m train.fisherfaces"),
    ("faces", "cgan-mnist", "'cgan-mnist' is not a judge of this model: it has no attribute schema"),
    ("faces", "gcn-yale", "'gcn-yale' is a generator, not a judge"),
]


@pytest.mark.parametrize("model, judge, message", CASES, ids=[f"{m}-{j}" for m, j, _ in CASES])
def test_weights_that_cannot_judge_the_model_are_refused_by_name(model, judge, message, capsys):
    with pytest.raises(SystemExit) as stop:
        evaluate_main([model, "--judge", judge])
    assert stop.value.code == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error and len(error.strip().splitlines()) == 1


def test_a_judge_folder_with_a_broken_config_is_named(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(SystemExit):
        evaluate_main(["faces", "--judge", str(tmp_path)])
    assert str(tmp_path) in capsys.readouterr().err
