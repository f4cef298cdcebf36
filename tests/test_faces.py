import csv
import io
import zipfile

import pytest
import torch
from PIL import Image

from kepkreator.attributes import AttributeModel
from kepkreator.synthesis import export_zip, synthesize
from kepkreator.data.digits import DataError
from kepkreator.data.faces import YALE_CONDITIONS, face_styles, read_kdef, read_yale
from kepkreator.evaluation.face_metrics import blend_faces, photograph_pairs
from kepkreator.handwriting import InputError


def test_yale_faces_are_read_and_cropped(data_dir):
    faces = read_yale(data_dir, size=64)
    assert len(faces) == 164
    assert {c for _, c, _ in faces} == set(YALE_CONDITIONS)
    assert len({i for i, _, _ in faces}) == 15
    assert faces[0][2].shape == (1, 64, 64) and faces[0][2].dtype == torch.uint8


def test_face_styles_hold_out_pairs_but_keep_every_identity_and_condition(data_dir):
    styles = face_styles(read_yale(data_dir, size=32), holdout=0.1, seed=0)
    assert len(styles) == 164 * 8
    held, train = styles.held_out, styles.train
    held_pairs = {tuple(a) for a in held.attributes[:, :2].tolist()}
    train_pairs = {tuple(a) for a in train.attributes[:, :2].tolist()}
    assert len(held_pairs) == 15 and not held_pairs & train_pairs  # 10% of 164 pairs, at most one per identity
    assert set(train.attributes[:, 0].tolist()) == set(range(15))
    assert set(train.attributes[:, 1].tolist()) == set(range(11))


def test_kdef_reader_chooses_sessions_expressions_and_angles(kdef_dir):
    straight = read_kdef(kdef_dir, size=32)
    assert len(straight) == 2 * 3 * 3  # sessions x people x expressions, straight only
    assert {i for i, _, _ in straight} == {"F01", "M02", "F03"}
    assert {c for _, c, _ in straight} == {"happy", "sad", "neutral"}
    assert straight[0][2].shape == (3, 32, 32)
    one = read_kdef(kdef_dir, sessions=("A",), expressions=("HA",), angles=("S", "HL"), size=16, colour=False)
    assert len(one) == 6 and one[0][2].shape == (1, 16, 16)


def test_kdef_reader_explains_what_it_expected(tmp_path, kdef_dir):
    with pytest.raises(DataError, match="holds no KDEF images.*AF01HAS.JPG"):
        read_kdef(tmp_path)
    with pytest.raises(DataError, match="unknown KDEF expression"):
        read_kdef(kdef_dir, expressions=("XX",))
    with pytest.raises(DataError, match="is not a folder"):
        read_kdef(tmp_path / "missing")
    with pytest.raises(DataError, match="no Yale faces"):
        read_yale(tmp_path)


@pytest.fixture(scope="module")
def faces_model():
    return AttributeModel.from_pretrained("gcn-yale")


def test_synthesized_faces_export_as_pngs_with_labels_and_the_weights_terms(faces_model, tmp_path):
    faces = synthesize(faces_model, 7, seed=3, blend=0.5, conditions=["happy", "sad"])
    path = export_zip(faces, tmp_path / "out" / "faces.zip", faces_model.licence)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        rows = list(csv.DictReader(io.StringIO(archive.read("labels.csv").decode())))
        first = Image.open(io.BytesIO(archive.read(rows[0]["file"])))
        terms = archive.read("LICENSE.md").decode()
    assert "Yale Face Database" in terms and "non-commercial" in terms
    assert len(names) == 9 and len(rows) == 7
    assert first.size == (64, 64)
    assert all(r["identity_a"] != r["identity_b"] and r["weight_b"] == "0.5" for r in rows)
    assert {r["condition"] for r in rows} <= {"happy", "sad"}
    assert [p.name for p in path.parent.iterdir()] == ["faces.zip"]  # no partial file left


def test_export_mistakes_get_messages(faces_model, tmp_path):
    with pytest.raises(InputError, match="count must be 1 or more, got 0"):
        synthesize(faces_model, 0)
    with pytest.raises(InputError, match="unknown condition angry"):
        synthesize(faces_model, 2, conditions=["angry"])
    faces = synthesize(faces_model, 1)
    with pytest.raises(InputError, match="must be a .zip file"):
        export_zip(faces, tmp_path / "faces.tar")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(OSError):  # raised as it is: the app and the command each say it in their words
        export_zip(faces, blocker / "faces.zip")
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]  # nothing partial left


@pytest.fixture
def yale_copy(data_dir, tmp_path):
    """A few real Yale files in a folder of the test's own, to add hostile files beside."""
    folder = tmp_path / "yalefaces"
    folder.mkdir()
    for path in sorted((data_dir / "yalefaces").glob("subject0[12].*")):
        (folder / path.name).write_bytes(path.read_bytes())
    return tmp_path


def test_an_outsized_image_is_refused_from_its_header(yale_copy):
    Image.new("L", (3000, 2000)).save(yale_copy / "yalefaces" / "subject03.happy", format="GIF")
    with pytest.raises(DataError, match=r"subject03.happy is 3000x2000: over 4,000,000 pixels"):
        read_yale(yale_copy)


def test_a_fifo_named_like_a_face_is_refused_not_waited_on(yale_copy):
    import os

    os.mkfifo(yale_copy / "yalefaces" / "subject03.happy")
    with pytest.raises(DataError, match="subject03.happy is not a regular file"):
        read_yale(yale_copy)


def test_a_face_set_with_nothing_to_train_on_is_refused(kdef_dir):
    one = read_kdef(kdef_dir, sessions=("A",), expressions=("HA",), angles=("S",))[:1]
    with pytest.raises(DataError, match="leave nothing to train on"):
        face_styles(one)


def test_blends_are_measured_on_every_pair_of_people_in_every_condition(faces_model, data_dir):
    """The blend share is read over the whole population the target names, so it carries no sampling noise."""
    faces, a, b = blend_faces(faces_model)
    people, conditions = (len(faces_model.schema[name]) for name in ("identity", "condition"))
    assert len(faces) == people * (people - 1) // 2 * conditions and (a < b).all()
    assert len(set(zip(a.tolist(), b.tolist()))) == people * (people - 1) // 2
    train = face_styles(read_yale(data_dir, size=32), holdout=0.1, seed=0).train
    faces_a, faces_b, first, second = photograph_pairs(train)
    mixes = (faces_a + faces_b) / 2
    per_condition = torch.bincount(train.upright.attributes[:, 1]).tolist()  # one photograph a person a condition
    assert len(mixes) == sum(k * (k - 1) // 2 for k in per_condition) and (first != second).all()
    assert mixes.min() >= 0 and mixes.max() <= 1


def test_a_person_photographed_twice_in_a_condition_is_mixed_once(kdef_dir):
    train = face_styles(read_kdef(kdef_dir, size=32), holdout=0.1, seed=0).train.upright
    assert len(train) > len({tuple(key) for key in train.attributes.tolist()})  # KDEF's two sessions
    mixes, _, first, second = photograph_pairs(train)
    people = {}
    for identity, condition, _ in train.attributes.tolist():
        people.setdefault(condition, set()).add(identity)
    assert len(mixes) == sum(len(p) * (len(p) - 1) // 2 for p in people.values())


def test_the_blend_target_figure_shows_eight_pairs_of_real_writers_beside_the_models_blend(data_dir):
    """`evaluate gcn --figure`: rows of real A, pixel mix, flow morph, the model's 0.5 writer blend, real B."""
    from kepkreator.data.settings import recorded
    from kepkreator.evaluation.figures import TARGET_PAIRS, blend_target_figure
    from kepkreator.hub import weights_path

    folder = weights_path("gcn-qmnist")
    model = AttributeModel.from_pretrained(folder)
    figure = blend_target_figure({"gcn-qmnist": model}, recorded(folder).load(data_dir), 28, "writer")
    cell = (28 + 2) * 4  # 28-pixel digits, 2 pixels apart, shown 4 times as large
    assert figure.width > 5 * cell and TARGET_PAIRS * cell < figure.height < (TARGET_PAIRS + 1) * cell
