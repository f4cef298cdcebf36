"""The readers of another kind (HOG + a linear classifier, sharpness, the two-sample test) on the real Yale faces:
they read real held-out people far above chance, and they see blur."""
import pytest
import torch
from threadpoolctl import threadpool_limits

from kepkreator.data.settings import FaceData
from kepkreator.evaluation.readers import HogReader, sharpness, two_sample_accuracy
from kepkreator.handwriting import blur

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def faces(data_dir):
    return FaceData().load(data_dir)


def test_the_hog_reader_reads_real_held_out_people(faces):
    reader = HogReader(faces.train)
    held_out = faces.held_out.upright
    scores = reader(held_out.images.float() / 255)["identity"]
    truth = held_out.attributes[:, list(faces.schema).index("identity")]
    accuracy = (scores.argmax(dim=1) == truth).double().mean().item()
    assert len(held_out) >= 10
    assert accuracy > 0.7, accuracy  # 15 people: chance is 6.7%


def test_the_hog_reader_reads_the_same_on_one_thread_or_two(faces):
    """The solver's path depends on how many threads split its sums; a borderline face read either way would make
    the evaluation's figures depend on the machine."""
    held_out = faces.held_out.upright.images.float() / 255
    readings = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads):
            readings.append(HogReader(faces.train)(held_out))
    for name in readings[0]:
        assert torch.equal(readings[0][name], readings[1][name]), name


def test_blur_lowers_sharpness_and_is_told_from_real_faces(faces):
    real = faces.upright.images.float() / 255
    blurred = blur(real, 1.5)
    assert sharpness(blurred) < 0.6 * sharpness(real)
    assert two_sample_accuracy(real, blurred) > 0.9
    halves = torch.randperm(len(real), generator=torch.Generator().manual_seed(0))
    first, second = real[halves[: len(real) // 2]], real[halves[len(real) // 2:]]
    assert two_sample_accuracy(first, second) < 0.75
