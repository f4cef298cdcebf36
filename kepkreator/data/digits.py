"""Character images (MNIST, QMNIST writer ids, EMNIST) read from a local root.

The IDX files are read with torchvision's own readers. A local root needs no
network; `download=True` hands over to torchvision's dataset classes, which
fetch the full sets into the same root.
"""
from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import string
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision.datasets import EMNIST, MNIST, QMNIST
from torchvision.datasets.mnist import read_image_file, read_label_file, read_sn3_pascalvincent_tensor

from kepkreator.data.catalog import DATASETS, DataError, default_data_dir  # noqa: F401 (read from here too)

QMNIST_WRITER_COLUMN = 2


@dataclass
class CharacterSet:
    """Grey 28x28 character images, upright, ink bright on black (MNIST's convention)."""

    images: torch.Tensor  # uint8, N x 28 x 28
    labels: torch.Tensor  # int64, N, index into `classes`
    classes: str  # one character per class, e.g. "0123456789"
    writers: torch.Tensor | None = None  # int64, N, NIST writer id where known

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, mask_or_index: torch.Tensor) -> "CharacterSet":
        writers = None if self.writers is None else self.writers[mask_or_index]
        return CharacterSet(self.images[mask_or_index], self.labels[mask_or_index], self.classes, writers)

    def head(self, count: int | None) -> "CharacterSet":
        return self if count is None else self.subset(torch.arange(min(count, len(self))))

    def as_float(self) -> torch.Tensor:
        """Images as N x 1 x 28 x 28 floats in [-1, 1], the range the models use."""
        return self.images.unsqueeze(1).float().div(127.5).sub(1.0)


def cache_dir() -> Path:
    return Path(os.environ.get("KEPKREATOR_CACHE", Path.home() / ".cache" / "kepkreator"))


def _find_idx(root: Path, folders: list[str], stem: str) -> Path | None:
    for folder in folders:
        for name in (stem, stem + ".gz"):
            path = root / folder / name
            if path.is_file():
                return path
    return None


# What an IDX file of these datasets can be: EMNIST's largest split has 814,255 images of 28x28; QMNIST's labels
# are 8 columns. A header beyond these is a damaged file, or a small .gz made to inflate without end.
MAX_ITEMS = 1_000_000
MAX_SIDE = 64
IDX_ITEM_BYTES = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}


def idx_size(header: bytes, path: Path) -> int:
    """The bytes an IDX file must hold, from its header (magic: 0, 0, type, dimensions; then each dimension)."""
    if len(header) < 4 or header[:2] != b"\0\0" or header[2] not in IDX_ITEM_BYTES or not 1 <= header[3] <= 3:
        raise DataError(f"{path} is not an IDX file (its header is {header[:4].hex()})")
    dims = struct.unpack(f">{header[3]}I", header[4:4 + 4 * header[3]])
    if dims[0] > MAX_ITEMS or any(d > MAX_SIDE for d in dims[1:]):
        raise DataError(f"{path} claims {' x '.join(map(str, dims))} items, more than any dataset this project "
                        f"reads (at most {MAX_ITEMS:,} of side {MAX_SIDE}); replace it with a fresh copy")
    return 4 + 4 * len(dims) + math.prod(dims) * IDX_ITEM_BYTES[header[2]]


def _uncompressed(path: Path) -> Path:
    """torchvision's IDX readers take plain files: inflate a .gz once into the cache, no further than its header
    says it holds, leaving nothing behind when it is not what it says."""
    if path.suffix != ".gz":
        return path
    stat = path.stat()
    key = hashlib.sha1(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    target = cache_dir() / "idx" / f"{path.stem}.{key}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.partial")
        try:
            with gzip.open(path, "rb") as src, open(partial, "wb") as dst:
                header = src.read(16)
                size = idx_size(header, path)
                dst.write(header)
                written = len(header)
                while written <= size:
                    chunk = src.read(1 << 20)
                    if not chunk:
                        break
                    dst.write(chunk)
                    written += len(chunk)
            if written != size:
                raise DataError(f"{path} inflates to {'more' if written > size else 'fewer'} bytes than its header "
                                f"says ({size:,}); replace it with a fresh copy")
        except (OSError, EOFError, DataError) as err:
            partial.unlink(missing_ok=True)
            if isinstance(err, DataError):
                raise
            raise DataError(f"{path} is not a readable gzip file ({err}); replace it with a fresh copy") from err
        os.replace(partial, target)
    return target


def _read_pair(root: Path, folders: list[str], prefix: str) -> tuple[torch.Tensor, torch.Tensor] | None:
    image_path = _find_idx(root, folders, f"{prefix}-images-idx3-ubyte")
    label_path = _find_idx(root, folders, f"{prefix}-labels-idx1-ubyte")
    if image_path is None or label_path is None:
        return None
    try:
        images = read_image_file(str(_uncompressed(image_path)))
        labels = read_label_file(str(_uncompressed(label_path))).long()
    except (AssertionError, TypeError, ValueError, RuntimeError) as err:
        if isinstance(err, DataError):
            raise
        raise DataError(f"{image_path} or {label_path} is not a valid IDX file ({err})") from err
    if len(images) != len(labels):
        raise DataError(f"{image_path} holds {len(images)} images but {label_path} holds {len(labels)} labels")
    return images, labels


def _concat(parts: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def load_mnist(root: Path | str | None = None, download: bool = False) -> CharacterSet:
    """MNIST digits: the training set too when the root has it, always the test set.

    With `download=True` torchvision fetches both sets into `root`.
    """
    root = Path(root) if root is not None else default_data_dir()
    if download:
        parts = [MNIST(root, train=train, download=True) for train in (True, False)]
        return CharacterSet(torch.cat([p.data for p in parts]), torch.cat([p.targets for p in parts]), "0123456789")
    folders = ["mnist", "MNIST/raw", "."]
    parts = [p for p in (_read_pair(root, folders, "train"), _read_pair(root, folders, "t10k")) if p is not None]
    if not parts:
        raise DataError(
            f"no MNIST files under {root}: expected mnist/t10k-images-idx3-ubyte.gz and "
            "mnist/t10k-labels-idx1-ubyte.gz (pass --data-dir, or --download to fetch MNIST)"
        )
    images, labels = _concat(parts)
    return CharacterSet(images, labels, "0123456789")


def read_qmnist_writers(root: Path | str | None = None, count: int = 10_000) -> torch.Tensor:
    """NIST writer ids of the MNIST test digits: the first `count` rows of QMNIST's test labels."""
    root = Path(root) if root is not None else default_data_dir()
    path = _find_idx(root, ["qmnist", "QMNIST/raw"], "qmnist-test-labels-idx2-int")
    if path is None:
        raise DataError(f"no QMNIST labels under {root}: expected qmnist/qmnist-test-labels-idx2-int.gz, the test "
                        "labels of QMNIST (Yadav & Bottou 2019, BSD); pass --data-dir, or --download to fetch QMNIST "
                        "through torchvision")
    try:
        table = read_sn3_pascalvincent_tensor(str(_uncompressed(path)))
    except (AssertionError, ValueError, RuntimeError) as err:
        raise DataError(f"{path} is not a valid QMNIST label file ({err})") from err
    if table.ndim != 2 or table.shape[0] < count or table.shape[1] < 3:
        raise DataError(f"{path} has shape {tuple(table.shape)}; expected at least {count} rows of 8 columns")
    return table[:count].long()


def load_qmnist_test(root: Path | str | None = None, download: bool = False) -> CharacterSet:
    """The 10,000 MNIST test digits with their QMNIST writer ids (the full QMNIST with `download`)."""
    root = Path(root) if root is not None else default_data_dir()
    if download:
        full = QMNIST(root, what="test", compat=False, download=True)
        return CharacterSet(full.data, full.targets[:, 0].long(), "0123456789",
                            full.targets[:, QMNIST_WRITER_COLUMN].long())
    folders = ["mnist", "MNIST/raw", "."]
    pair = _read_pair(root, folders, "t10k")
    if pair is None:
        raise DataError(f"no MNIST test files under {root}: expected mnist/t10k-images-idx3-ubyte.gz and its labels, "
                        "the MNIST test set (LeCun, Cortes & Burges); pass --data-dir, or --download to fetch QMNIST "
                        "(which holds those digits) through torchvision")
    images, labels = pair
    table = read_qmnist_writers(root, len(labels))
    if not torch.equal(table[:, 0], labels):
        raise DataError("QMNIST's class column disagrees with the MNIST test labels: the files do not belong together")
    return CharacterSet(images, labels, "0123456789", table[:, QMNIST_WRITER_COLUMN])


def load_emnist(split: str, root: Path | str | None = None, download: bool = False) -> CharacterSet:
    """EMNIST `letters` (a-z, one class per letter, either case) or `digits`, turned upright."""
    root = Path(root) if root is not None else default_data_dir()
    classes = string.ascii_lowercase if split == "letters" else string.digits
    offset = 1 if split == "letters" else 0  # EMNIST letters labels run 1..26
    if download:
        parts = [EMNIST(root, split=split, train=train, download=True) for train in (True, False)]
        images, labels = torch.cat([p.data for p in parts]), torch.cat([p.targets for p in parts])
    else:
        folders = ["emnist", "EMNIST/raw", "gzip", "."]
        found = [_read_pair(root, folders, f"emnist-{split}-{part}") for part in ("train", "test")]
        found = [f for f in found if f is not None]
        if not found:
            raise DataError(
                f"no EMNIST {split} files under {root}: expected emnist/emnist-{split}-train-images-idx3-ubyte.gz "
                "and its labels file (pass --data-dir, or --download to fetch EMNIST)"
            )
        images, labels = _concat(found)
    labels = labels - offset
    if labels.min() < 0 or labels.max() >= len(classes):
        raise DataError(f"EMNIST {split} labels fall outside 0..{len(classes) - 1 + offset}")
    # EMNIST stores each image transposed relative to MNIST.
    return CharacterSet(images.transpose(1, 2).contiguous(), labels, classes)


def load_characters(dataset: str, root: Path | str | None = None, download: bool = False) -> CharacterSet:
    """One entry point for the training scripts: `mnist`, `emnist-letters` or `emnist-digits`."""
    if dataset == "mnist":
        return load_mnist(root, download)
    if dataset.startswith("emnist-") and dataset in DATASETS:
        return load_emnist(dataset.removeprefix("emnist-"), root, download)
    raise DataError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")


def split_by_writer(writers: torch.Tensor, holdout: float = 0.2, seed: int = 0) -> torch.Tensor:
    """True for items whose writer is in the training share; whole writers are held out."""
    if not 0.0 < holdout < 1.0:
        raise ValueError(f"holdout must lie strictly between 0 and 1, got {holdout}")
    unique = torch.unique(writers)
    order = torch.randperm(len(unique), generator=torch.Generator().manual_seed(seed))
    held = unique[order[: max(1, round(holdout * len(unique)))]]
    return ~torch.isin(writers, held)
