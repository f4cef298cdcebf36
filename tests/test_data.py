import gzip

import numpy as np
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


def test_an_idx_gzip_that_claims_or_holds_more_than_it_may_is_refused_and_leaves_nothing(tmp_path, monkeypatch):
    """A 1 MB .gz whose header claims 1.3 M images wrote 974 MB into the cache and left it there."""
    import struct

    monkeypatch.setenv("KEPKREATOR_CACHE", str(tmp_path / "cache"))
    from tests.conftest import write_idx

    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(10, dtype=np.uint8))
    with gzip.open(folder / "t10k-images-idx3-ubyte.gz", "wb") as bomb:
        bomb.write(struct.pack(">BBBBIII", 0, 0, 8, 3, 1_300_000, 28, 28) + bytes(10_000_000))
    with pytest.raises(DataError, match=r"claims 1300000 x 28 x 28 items, more than any dataset this project reads"):
        load_qmnist_test(tmp_path / "data")
    with gzip.open(folder / "t10k-images-idx3-ubyte.gz", "wb") as longer:
        longer.write(struct.pack(">BBBBIII", 0, 0, 8, 3, 10, 28, 28) + bytes(20 * 28 * 28))
    with pytest.raises(DataError, match="inflates to more bytes than its header says"):
        load_qmnist_test(tmp_path / "data")
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and "images" in p.name]
