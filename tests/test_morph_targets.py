"""Morph targets for blends, computed once per data and cached: on the Yale faces, on a tiny KDEF-shaped folder, with
a blank image among them, and with a damaged cache."""
import pytest
import torch

from kepkreator.data.attribute_sets import AttributeSet
from kepkreator.data.faces import face_styles, read_yale
from kepkreator.data.morph_targets import MorphPartners
from kepkreator.data.settings import FaceData
from tests.conftest import assert_same, refusal, tensors, train_here

IDENTITY = 0


@pytest.fixture(scope="module")
def yale_small():
    """Three people's training faces at 32x32, all 8 transforms of each photograph."""
    faces = face_styles(read_yale(None, size=32), holdout=0.1, seed=0).train
    return faces.subset(faces.attributes[:, IDENTITY] < 3)


@pytest.fixture(scope="module")
def computed(yale_small, tmp_path_factory):
    """The small set's morph partners, their flows computed into a fresh cache, and what was said meanwhile."""
    cache, messages = tmp_path_factory.mktemp("morph-cache"), []
    return MorphPartners(yale_small, IDENTITY, cache, say=messages.append), cache, messages


def said(messages: list[str], text: str) -> bool:
    return any(text in message for message in messages)


def test_the_ends_of_a_morph_are_the_two_photographs_in_the_asked_transform(yale_small, computed):
    partners, _, _ = computed
    rows = torch.arange(0, len(yale_small), 7)[:24]  # every transform among them
    attributes = yale_small.attributes[rows]
    own, values, found = partners.draw(attributes, torch.zeros(len(rows)))
    assert found.all() and (values != attributes[:, IDENTITY]).all()
    assert (own - yale_small.images[rows].float() / 255).abs().max() < 0.02
    torch.manual_seed(0)
    other, values, _ = partners.draw(attributes, torch.ones(len(rows)))
    for image, value, row in zip(other, values, attributes):
        same = (yale_small.attributes[:, 0] == value) & (yale_small.attributes[:, 1:] == row[1:]).all(dim=1)
        assert (image - yale_small.images[same][0].float() / 255).abs().max() < 0.02  # the partner, turned too
    halfway, _, _ = partners.draw(attributes, torch.full((len(rows),), 0.5))
    assert halfway.shape == own.shape and 0 <= halfway.min() and halfway.max() <= 1


def test_the_flows_are_computed_once_then_read_and_a_damaged_cache_is_rebuilt(yale_small, computed):
    first, tmp_path, messages = computed
    cache, = tmp_path.glob("flows-*.safetensors")
    assert said(messages, "pairs of images with flows both ways, 0 skipped")
    messages = []
    again = MorphPartners(yale_small, IDENTITY, tmp_path, say=messages.append)
    assert said(messages, "read from") and torch.equal(again.flows, first.flows)
    cache.write_bytes(cache.read_bytes()[:1000])
    messages.clear()
    rebuilt = MorphPartners(yale_small, IDENTITY, tmp_path, say=messages.append)
    assert said(messages, f"the cache {cache} is damaged") and torch.equal(rebuilt.flows, first.flows)
    other_people = yale_small.subset(yale_small.attributes[:, IDENTITY] < 2)  # other data: a file of its own
    MorphPartners(other_people, IDENTITY, tmp_path, say=messages.append)
    assert len(list(tmp_path.glob("flows-*.safetensors"))) == 2


def test_a_blank_photograph_has_no_morph_and_is_counted_not_fatal(yale_small, tmp_path):
    images = yale_small.images.clone()
    blank = yale_small.attributes[:, IDENTITY] == 0
    images[blank] = 128
    data = AttributeSet(images, yale_small.attributes, yale_small.schema, yale_small.split)
    messages = []
    partners = MorphPartners(data, IDENTITY, tmp_path, say=messages.append)
    blank_rows = partners.attributes[:, IDENTITY] == 0
    skipped = int(blank_rows[partners.pairs].any(dim=1).sum()) // 2
    assert skipped and said(messages, f"{skipped} skipped (a blank or constant image has no flow)")
    _, values, found = partners.draw(data.attributes, torch.full((len(data),), 0.5))
    assert not found[blank].any() and found[~blank].float().mean() > 0.5  # the others still have partners
    assert torch.equal(values[blank], data.attributes[blank, IDENTITY])  # no partner: its own value


def test_kdef_faces_get_morph_targets_too(kdef_dir, tmp_path):
    data = FaceData(dataset="kdef", image_size=32, holdout=0.0).load(kdef_dir).train
    partners = MorphPartners(data, IDENTITY, tmp_path, say=lambda _: None)
    made, _, found = partners.draw(data.attributes, torch.rand(len(data)))
    assert found.all() and made.shape == (len(data), 3, 32, 32)


MORPH_RUN = ["train.gcn", "--dataset", "yale", "--image-size", "32", "--limit", "200", "--batch-size", "8",
             "--width", "8", "--classifier-width", "8", "--d-width", "8", "--generator", "modulated",
             "--content", "identity", "--exact-transform", "--adversarial-weight", "0.1", "--mix-weight", "1",
             "--blend-target", "morph", "--adversarial-blend-weight", "0.1", "--unseen-weight", "0",
             "--no-blend-norm", "--cooldown", "0", "--checkpoint-every", "2"]


def test_a_run_with_morph_targets_resumes_exactly(tmp_path, capsys):
    cache = ["--morph-cache", str(tmp_path / "cache")]
    train_here(*MORPH_RUN, *cache, "--steps", "4", "--output-dir", str(tmp_path / "whole"))
    train_here(*MORPH_RUN, *cache, "--steps", "2", "--output-dir", str(tmp_path / "split"))
    (cached,) = (tmp_path / "cache").glob("*.safetensors")
    cached.unlink()  # the resumed run computes the flows again and must still match
    capsys.readouterr()
    train_here(*MORPH_RUN, "--morph-cache", str(tmp_path / "elsewhere"), "--steps", "4", "--output-dir",
               str(tmp_path / "split"), "--resume")
    assert "resumed from step 2" in capsys.readouterr().out
    assert_same(tensors(tmp_path / "whole"), tensors(tmp_path / "split"))
    assert_same(tensors(tmp_path / "whole", "checkpoint.safetensors"),
                tensors(tmp_path / "split", "checkpoint.safetensors"))


def test_morph_targets_need_the_mix_term(capsys):
    message = refusal("train.gcn", ["--dataset", "yale", "--blend-target", "morph", "--mix-weight", "0",
                                    "--adversarial-blend-weight", "0"], capsys)
    assert "--blend-target morph" in message and "needs --mix-weight" in message
