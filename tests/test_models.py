import json

import pytest
import torch

from kepkreator.hub import WeightsError, load_model
from kepkreator.models.cgan import Discriminator, Generator
from kepkreator.models.judge import Judge


def test_generator_and_discriminator_shapes():
    g, d = Generator(classes="0123456789", latent_dim=16, width=16), Discriminator(num_classes=10, width=16)
    labels = torch.arange(10)
    images = g(torch.randn(10, 16), labels)
    assert images.shape == (10, 1, 28, 28)
    assert images.min() >= -1 and images.max() <= 1
    assert d(images, labels).shape == (10,)


def test_the_label_changes_the_image():
    torch.manual_seed(0)
    g = Generator(latent_dim=16, width=16).eval()
    z = torch.randn(1, 16).repeat(2, 1)
    a, b = g(z, torch.tensor([3, 8]))
    assert not torch.allclose(a, b)


def test_weights_round_trip_through_safetensors_and_config(tmp_path):
    g = Generator(classes="abc", latent_dim=8, width=16).eval()
    g.save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    assert json.loads((tmp_path / "config.json").read_text()) == {"classes": "abc", "latent_dim": 8, "width": 16}
    loaded = load_model(Generator, tmp_path)
    z, labels = torch.randn(3, 8), torch.tensor([0, 1, 2])
    assert torch.equal(g(z, labels), loaded(z, labels))


@pytest.fixture
def saved(tmp_path):
    Generator(latent_dim=8, width=16).save_pretrained(tmp_path)
    return tmp_path


def test_missing_weights_file_is_named(saved):
    (saved / "model.safetensors").unlink()
    with pytest.raises(WeightsError, match=r"model\.safetensors is missing"):
        load_model(Generator, saved)


def test_truncated_weights_file_is_named(saved):
    path = saved / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-500])
    with pytest.raises(WeightsError, match=r"model\.safetensors is unreadable or truncated"):
        load_model(Generator, saved)


def test_weights_of_another_model_are_refused(saved):
    with pytest.raises(WeightsError, match=r"config.json does not describe a Judge: unknown settings latent_dim"):
        load_model(Judge, saved)


def test_broken_config_and_unknown_names_are_refused(saved, tmp_path):
    (saved / "config.json").write_text("{not json")
    with pytest.raises(WeightsError, match=r"config\.json is not valid JSON"):
        load_model(Generator, saved)
    with pytest.raises(WeightsError, match="no weights folder 'no-such-model'.*cgan-mnist"):
        load_model(Generator, "no-such-model")


def test_attribute_models_keep_the_schema_order_through_config_json(tmp_path):
    from kepkreator.models.gcn import AttributeClassifier, AttributeGenerator

    pairs = [("zeta", ["a", "b"]), ("alpha", ["x", "y", "z"])]
    generator = AttributeGenerator(pairs, image_size=28, channels=1, width=16).eval()
    generator.save_pretrained(tmp_path / "g")
    loaded = load_model(AttributeGenerator, tmp_path / "g")
    assert list(loaded.schema) == ["zeta", "alpha"]
    vector = torch.tensor([[1.0, 0, 0, 0, 1]])
    assert torch.equal(generator(vector), loaded(vector))
    AttributeClassifier(pairs, image_size=64, channels=1, width=8).save_pretrained(tmp_path / "c")
    logits = load_model(AttributeClassifier, tmp_path / "c")(torch.rand(2, 1, 64, 64))
    assert list(logits) == ["zeta", "alpha"] and logits["alpha"].shape == (2, 3)


def test_blend_norm_draws_people_as_before_and_gives_a_blend_a_persons_strength(tmp_path):
    from kepkreator.models.gcn import AttributeGenerator

    pairs = [("identity", ["a", "b", "c"]), ("condition", ["x", "y"])]
    settings = dict(image_size=28, channels=1, width=16, modulated=True, content=["identity"])
    plain = AttributeGenerator(pairs, **settings).eval()
    normed = AttributeGenerator(pairs, **settings, blend_norm=True).eval()
    normed.load_state_dict(plain.state_dict())
    person, blend = torch.tensor([[0.0, 1, 0, 1, 0]]), torch.tensor([[0.5, 0.5, 0, 1, 0]])
    assert torch.allclose(normed(person), plain(person), atol=1e-6)
    codes = plain.project[0].weight
    strength = codes[:, :2].norm(dim=0).mean()
    code = lambda generator, vector: generator.content_code(vector[:, :3]) @ codes.T
    assert code(plain, blend).norm() < 0.9 * strength
    assert torch.isclose(code(normed, blend).norm(), strength)
    assert not torch.equal(normed(blend), plain(blend))
    normed.save_pretrained(tmp_path / "g")
    assert load_model(AttributeGenerator, tmp_path / "g").blend_norm
    with pytest.raises(ValueError, match="needs content"):
        AttributeGenerator(pairs, **{**settings, "content": None}, blend_norm=True)
    two_parts = [("digit", ["0", "1"]), ("writer", ["p", "q", "r"]), ("colour", ["red", "blue"])]
    both = dict(settings, content=["digit", "writer"])
    plain, normed = (AttributeGenerator(two_parts, **both, blend_norm=on).eval() for on in (False, True))
    normed.load_state_dict(plain.state_dict())
    one_of_each = torch.tensor([[0.0, 1, 0, 0, 1, 1, 0]])  # each content attribute's code kept as it is
    assert torch.allclose(normed.content_code(one_of_each[:, :5]), one_of_each[:, :5])
    assert torch.allclose(normed(one_of_each), plain(one_of_each), atol=1e-6)
