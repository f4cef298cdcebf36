"""Data settings travel as frozen dataclasses: built from the flags, recorded in training.json, read back strictly."""
import argparse
import json

import pytest

from kepkreator.data.digits import DataError
from kepkreator.data.settings import FaceData, QmnistData, from_flags, from_record, record, recorded
from tests.conftest import train_here


def test_flags_record_and_read_back_give_the_same_settings():
    flags = argparse.Namespace(dataset="kdef", holdout=0.2, split_seed=3, image_size=32, grey=True,
                               exclude_identities=1, kdef_sessions=["A"], kdef_expressions=["HA", "SA"],
                               kdef_angles=["S"], width=99)  # a model flag: not a data setting
    settings = from_flags(flags)
    assert settings == FaceData("kdef", 0.2, 3, 32, True, 1, ("A",), ("HA", "SA"), ("S",))
    assert from_record(json.loads(json.dumps(record(settings))), "x") == settings
    assert from_record(record(QmnistData(split_seed=2)), "x") == QmnistData(split_seed=2)


@pytest.mark.parametrize("change, message", [
    (lambda r: {**r, "split_sed": 1}, "unknown split_sed"),
    (lambda r: {k: v for k, v in r.items() if k != "holdout"}, "missing holdout"),
    (lambda r: {**r, "dataset": "celeba"}, "name no dataset this project reads"),
])
def test_a_misspelt_or_missing_key_is_an_error_that_names_it(change, message):
    with pytest.raises(DataError, match=message):
        from_record(change(record(FaceData())), "training.json")


def test_a_trained_model_records_its_data_and_an_old_record_is_refused(tmp_path):
    train_here("train.gcn", "--dataset", "yale", "--image-size", "32", "--limit", "16", "--steps", "1",
               "--batch-size", "8", "--width", "8", "--classifier-width", "8", "--split-seed", "4",
               "--output-dir", str(tmp_path))
    assert recorded(tmp_path) == FaceData(image_size=32, split_seed=4)
    training = json.loads((tmp_path / "training.json").read_text())
    del training["data"]
    (tmp_path / "training.json").write_text(json.dumps(training))
    with pytest.raises(DataError, match="records no data settings .* train or fit it again"):
        recorded(tmp_path)
