"""What chooses and splits a model's images, as frozen settings: one dataclass per kind of data.

Built from a training script's flags, recorded in the model's training.json under "data", and read back strictly
by whatever must see the same images (the evaluation, the judges' split check, the studies): an unknown or
missing key is an error that names it, never a silent default.

    settings = FaceData(dataset="yale", split_seed=1)
    data = settings.load(data_dir)            # identity x condition x transform, held-out pairs marked
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from kepkreator.data.attribute_sets import AttributeSet
from kepkreator.data.digits import DataError
from kepkreator.data.faces import KDEF_EXPRESSIONS, Face, face_styles, held_out_identities, read_kdef, read_yale
from kepkreator.data.styles import qmnist_styles
from kepkreator.hub import setting_problem


@dataclass(frozen=True)
class QmnistData:
    """QMNIST styles (`kepkreator.data.styles`): which (writer, digit) items lose a colour or a transform."""
    dataset: str = "qmnist"
    holdout: float = 0.1  # share of items that lose a colour (and as many a transform)
    split_seed: int = 0  # which items

    def load(self, data_dir: Path | str | None = None) -> AttributeSet:
        return qmnist_styles(data_dir, holdout=self.holdout, seed=self.split_seed)


@dataclass(frozen=True)
class FaceData:
    """Faces (`kepkreator.data.faces`): which photographs, at what size, and which (identity, condition) pairs are
    held out."""
    dataset: str = "yale"  # yale | kdef
    holdout: float = 0.1  # share of (identity, condition) pairs held out
    split_seed: int = 0  # which pairs
    image_size: int = 64  # side of the square crop
    grey: bool = False  # kdef: grey instead of colour
    exclude_identities: int = 0  # people kept out entirely (the augmentation study's test set)
    kdef_sessions: tuple[str, ...] = ("A", "B")
    kdef_expressions: tuple[str, ...] = tuple(KDEF_EXPRESSIONS)
    kdef_angles: tuple[str, ...] = ("S",)

    def faces(self, data_dir: Path | str | None = None, exclude: bool = True) -> list[Face]:
        """The photographs; with `exclude` False, the excluded identities too (the augmentation study tests on
        them)."""
        if self.dataset == "yale":
            faces = read_yale(data_dir, size=self.image_size)
        elif self.dataset == "kdef":
            if data_dir is None:
                raise DataError("KDEF is not redistributable: pass --data-dir with the path of your own copy")
            faces = read_kdef(data_dir, self.kdef_sessions, self.kdef_expressions, self.kdef_angles,
                              size=self.image_size, colour=not self.grey)
        else:
            raise DataError(f"unknown face dataset {self.dataset!r}: choose yale or kdef")
        if exclude and self.exclude_identities:
            identities = sorted({f[0] for f in faces})
            if len(identities) - self.exclude_identities < 2:
                raise DataError(f"excluding {self.exclude_identities} of the {len(identities)} identities leaves "
                                "fewer than two to train on")
            excluded = set(held_out_identities(identities, self.exclude_identities))
            faces = [f for f in faces if f[0] not in excluded]
        return faces

    def load(self, data_dir: Path | str | None = None) -> AttributeSet:
        data = face_styles(self.faces(data_dir), holdout=self.holdout, seed=self.split_seed)
        problem = setting_problem("schema", [[name, values] for name, values in data.schema.items()], None)
        if problem:  # a model of these faces is checked by the same rule when it is loaded: refuse it now
            raise DataError(f"these faces cannot make a model that loads: its schema {problem}; rename the files")
        return data


KINDS = {"qmnist": QmnistData, "yale": FaceData, "kdef": FaceData}
DataSettings = QmnistData | FaceData


def from_flags(args) -> DataSettings:
    """The settings a training script's flags give (argparse names match the fields)."""
    kind = KINDS[args.dataset]
    return kind(**{f.name: tuple(value) if isinstance(value, list) else value
                   for f in fields(kind) if (value := getattr(args, f.name)) is not None})


def record(settings: DataSettings) -> dict:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(settings).items()}


def from_record(saved: dict, source: str) -> DataSettings:
    """Settings read back from a training record: exactly the fields of their kind, or an error naming the keys."""
    if not isinstance(saved, dict) or saved.get("dataset") not in KINDS:
        raise DataError(f"{source}: the data settings name no dataset this project reads ({', '.join(KINDS)})")
    kind = KINDS[saved["dataset"]]
    names = {f.name for f in fields(kind)}
    unknown, missing = sorted(set(saved) - names), sorted(names - set(saved))
    if unknown or missing:
        raise DataError(f"{source}: data settings do not match {kind.__name__}"
                        + (f"; unknown {', '.join(unknown)}" if unknown else "")
                        + (f"; missing {', '.join(missing)}" if missing else ""))
    return kind(**{key: tuple(value) if isinstance(value, list) else value for key, value in saved.items()})


def recorded(folder: Path) -> DataSettings:
    """The data settings a model or judge in `folder` was made with (its training.json's "data")."""
    path = folder / "training.json"
    try:
        saved = json.loads(path.read_text())["data"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataError(f"{path} records no data settings ({type(err).__name__}: {str(err)[:100]}); it was made by "
                        "an older version: train or fit it again") from err
    return from_record(saved, str(path))
