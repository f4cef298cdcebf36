import gzip

import pytest
import torch

from kepkreator.data.digits import DataError, load_characters, load_mnist, load_qmnist_test, split_by_writer


def test_qmnist_test_digits_carry_their_writers(data_dir):
    data = load_qmnist_test(data_dir)
    assert data.images.shape == (10_000, 28, 28) and data.images.dtype == torch.uint8
    assert data.classes == "0123456789"
    assert torch.equal(data.labels, load_mnist(data_dir).labels)
    writers = data.writers.unique()
    assert len(writers) == 297
    complete = [w for w in writers if len(data.labels[data.writers == w].unique()) == 10]
    assert len(complete) == 124


def test_writer_split_keeps_writers_whole_and_is_repeatable(data_dir):
    writers = load_qmnist_test(data_dir).writers
    mask = split_by_writer(writers, holdout=0.2, seed=0)
    assert torch.equal(mask, split_by_writer(writers, holdout=0.2, seed=0))
    assert not set(writers[mask].tolist()) & set(writers[~mask].tolist())
    assert 0.1 < (~mask).double().mean() < 0.3
    assert not torch.equal(mask, split_by_writer(writers, holdout=0.2, seed=1))
    with pytest.raises(ValueError, match="holdout"):
        split_by_writer(writers, holdout=1.5)


def test_missing_folder_names_the_expected_files(tmp_path):
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz.*--download"):
        load_mnist(tmp_path)
    with pytest.raises(DataError, match="no EMNIST letters files"):
        load_characters("emnist-letters", tmp_path)
    with pytest.raises(DataError, match="unknown dataset 'kdef'"):
        load_characters("kdef", tmp_path)


def test_corrupt_files_are_reported_not_crashed_on(tmp_path):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    labels = gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x01\x05")  # IDX header for one label, then the label
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(labels)
    with pytest.raises(DataError, match="not a readable gzip file"):
        load_mnist(tmp_path)


def test_emnist_letters_read_upright_with_zero_based_labels(emnist_letters_dir):
    data = load_characters("emnist-letters", emnist_letters_dir)
    assert data.classes == "abcdefghijklmnopqrstuvwxyz"
    assert len(data) == 52
    assert data.labels.min() == 0 and data.labels.max() == 25
    # The fixture stores a bar in column 4 + i; read upright it is a row.
    assert (data.images[3, 7] == 255).all() and data.images[3, :, 0].sum() == 255
