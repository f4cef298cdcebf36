"""Shared forward passes: concurrent requests merge, each gets exactly its own rows, and failures stay contained."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from kepkreator.attributes import AttributeModel
from kepkreator.batching import RequestBatcher, for_serving, frozen, in_chunks
from kepkreator.handwriting import GANGlyphs, Handwriter, Style
from kepkreator.hub import load_model
from kepkreator.models.cgan import Generator
from kepkreator.models.judge import Judge


@pytest.fixture(scope="module")
def generator():
    return load_model(Generator, "cgan-mnist").eval()


def wait_until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def merged_run(model, requests: list[tuple[torch.Tensor, ...]]) -> tuple[list, RequestBatcher]:
    """Runs the first request alone and holds its pass until all the others wait, so the next pass must merge them."""
    started, release = threading.Event(), threading.Event()

    def forward(*inputs):
        if not started.is_set():
            started.set()
            release.wait(30)
        return model(*inputs)

    batcher = RequestBatcher(forward)
    with ThreadPoolExecutor(len(requests)) as pool:
        futures = [pool.submit(batcher, *requests[0])]
        started.wait(30)
        futures += [pool.submit(batcher, *request) for request in requests[1:]]
        wait_until(lambda: batcher.pending.qsize() == len(requests) - 1)
        release.set()
        return [f.result(timeout=60) for f in futures], batcher


def test_concurrent_requests_share_a_pass_and_each_gets_its_own_rows(generator):
    requests = [(torch.randn(n, generator.latent_dim), torch.randint(0, 10, (n,))) for n in (3, 1, 12, 5, 7, 2)]
    with torch.inference_mode():
        expected = [generator(z, labels) for z, labels in requests]
    results, batcher = merged_run(generator, requests)
    assert batcher.passes == 2  # the first request alone, then the other five together
    assert batcher.rows == sum(len(z) for z, _ in requests)
    for got, want in zip(results, expected):
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


def test_a_multi_head_output_is_split_per_request():
    model = AttributeModel.from_pretrained("gcn-qmnist")
    images = model.generate(torch.rand(6, model.generator.input_dim))
    with torch.inference_mode():
        expected = model.classifier(images)
    parts, batcher = merged_run(model.classifier, [(part,) for part in images.split([1, 3, 2])])
    assert batcher.passes == 2
    for name, logits in expected.items():
        torch.testing.assert_close(torch.cat([part[name] for part in parts]), logits, atol=1e-5, rtol=1e-4)


def test_a_failing_pass_reaches_its_callers_and_the_batcher_keeps_serving(generator):
    batcher = RequestBatcher(generator)
    with pytest.raises(IndexError):  # label 10 is out of range for the embedding
        batcher(torch.randn(2, generator.latent_dim), torch.tensor([3, 10]))
    z, labels = torch.randn(4, generator.latent_dim), torch.arange(4)
    with torch.inference_mode():
        torch.testing.assert_close(batcher(z, labels), generator(z, labels), atol=1e-5, rtol=1e-4)


def test_inputs_of_different_lengths_are_refused_before_queueing(generator):
    batcher = RequestBatcher(generator)
    with pytest.raises(ValueError, match="same number of rows"):
        batcher(torch.randn(3, generator.latent_dim), torch.arange(2))
    assert batcher.passes == 0


def test_a_batched_handwriter_draws_what_an_unbatched_one_draws():
    texts = ["2026", "31 41", "7", "0123456789", "12\n34"]
    alone = Handwriter.from_pretrained(batch_requests=False)
    shared = Handwriter.from_pretrained(batch_requests=True)
    with ThreadPoolExecutor(len(texts)) as pool:
        batched = list(pool.map(lambda t: shared(t, seed=5), texts))
    for text, image in zip(texts, batched):
        expected = alone(text, seed=5)
        assert image.size == expected.size
        difference = np.asarray(image).astype(int) - np.asarray(expected).astype(int)
        assert np.abs(difference).max() <= 1  # rounding of float sums that differ in the last bits


def vectors_of_every_kind(model: AttributeModel) -> torch.Tensor:
    """One-hot rows, blends of two values in every attribute, and a batch size the trace never saw."""
    rows = []
    for i in range(7):
        choices = {}
        for name, values in model.schema.items():
            a, b = values[i % len(values)], values[(3 * i + 1) % len(values)]
            choices[name] = a if i % 2 else {a: 0.3, b: 0.7}
        rows.append(model.vector(**choices))
    return torch.cat(rows)


@pytest.mark.parametrize("name", ["gcn-qmnist", "gcn-yale"])
def test_frozen_networks_draw_and_read_what_the_python_modules_do(name):
    eager, frozen = AttributeModel.from_pretrained(name), AttributeModel.from_pretrained(name, freeze=True)
    vectors = vectors_of_every_kind(eager)
    for rows in (vectors[:1], vectors):
        drawn = frozen.generate(rows)
        assert torch.allclose(drawn, eager.generate(rows), atol=1e-4)
        read, expected = frozen.read(drawn), eager.read(drawn)
        assert read.keys() == expected.keys()
        assert all(torch.allclose(read[k], expected[k], atol=1e-4) for k in read)


def test_a_frozen_handwriter_writes_what_the_python_one_writes():
    eager, frozen = Handwriter.from_pretrained(), Handwriter.from_pretrained(freeze=True, batch_requests=True)
    for text in ("7", "+1 (555) 123-4567", "0123456789 0123456789"):
        difference = np.asarray(frozen(text, seed=3)).astype(int) - np.asarray(eager(text, seed=3)).astype(int)
        assert np.abs(difference).max() <= 1


@pytest.mark.parametrize("name", ["gcn-qmnist", "gcn-yale"])
def test_bfloat16_networks_draw_within_a_grey_level_and_read_what_float32_ones_read(name):
    exact = AttributeModel.from_pretrained(name, freeze=True)
    rounded = AttributeModel.from_pretrained(name, freeze=True, precision="bfloat16")
    vectors = vectors_of_every_kind(exact)
    drawn = exact.generate(vectors)
    difference = (rounded.generate(vectors) - drawn).abs()
    assert 0 < difference.mean() < 1 / 255 and difference.max() < 12 / 255  # rounded, and only a little
    read, expected = rounded.read(drawn), exact.read(drawn)
    assert all((read[k] - expected[k]).abs().max() < 0.05 for k in expected)


def test_bfloat16_handwriting_is_read_by_the_digit_judge_as_the_float32_handwriting_is():
    exact, rounded = GANGlyphs.from_pretrained(freeze=True), GANGlyphs.from_pretrained(freeze=True,
                                                                                         precision="bfloat16")
    labels = torch.arange(10).repeat(50)
    style = Style(seed=11, variation=1.0)
    drawn, drawn_rounded = exact.draw(labels, style), rounded.draw(labels, style)
    assert 0 < (drawn_rounded - drawn).abs().mean() < 1 / 255
    judge = load_model(Judge, "judge-mnist")
    read = judge.read(2 * drawn - 1)[0].argmax(1)
    assert (judge.read(2 * drawn_rounded - 1)[0].argmax(1) == read).float().mean() >= 0.99


def test_a_precision_other_than_float32_or_bfloat16_is_refused():
    with pytest.raises(ValueError, match="precision must be one of float32, bfloat16, got 'float16'"):
        GANGlyphs.from_pretrained(precision="float16")


class ValueDependent(torch.nn.Module):
    def forward(self, x):
        return x * 2 if x.sum() > 0 else x


def test_a_network_whose_flow_depends_on_its_input_values_is_refused_rather_than_traced_wrongly():
    with pytest.raises(ValueError, match="ValueDependent cannot be frozen: Converting a tensor to a Python boolean"):
        frozen(ValueDependent(), torch.ones(2, 3))


def test_a_value_dependent_network_is_refused_by_its_own_name_in_bfloat16_too():
    with pytest.raises(ValueError, match="^ValueDependent cannot be frozen"):
        for_serving(ValueDependent(), torch.ones(2, 3), freeze=True, precision="bfloat16")


def test_many_rows_are_drawn_and_read_in_chunks_as_one_pass_would():
    model = AttributeModel.from_pretrained("gcn-yale")
    sizes = [len(values) for values in model.schema.values()]
    generator = torch.Generator().manual_seed(0)
    picks = [torch.randint(size, (600,), generator=generator) for size in sizes]  # > 2 chunks, the last one short
    vectors = torch.cat([torch.nn.functional.one_hot(pick, size).float() for pick, size in zip(picks, sizes)], 1)
    with torch.no_grad():
        drawn = model.generate(vectors)
        assert torch.allclose(drawn, model.generator(vectors), atol=1e-6)
        one_pass = model.classifier(drawn)
    read = model.read(drawn)
    assert all(torch.allclose(read[name], one_pass[name].softmax(dim=1), atol=1e-6) for name in one_pass)
    assert in_chunks(lambda rows: rows * 2, vectors, size=7).equal(vectors * 2)
