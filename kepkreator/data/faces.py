"""Face images for the cooperative net: the Yale faces (shipped default) and KDEF (the user's licensed copy).

Each reader gives (identity, condition, image) triples with a fixed, documented
crop per dataset, resized to a square; `face_styles` turns them into an
attribute set of identity x condition x the 8 dihedral transforms, with some
(identity, condition) pairs held out of training.
"""
from __future__ import annotations

import re
from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError
from torchvision.transforms.functional import InterpolationMode, pil_to_tensor, resized_crop

from kepkreator.data.catalog import KDEF_ANGLES, KDEF_EXPRESSIONS, YALE_CONDITIONS, DataError, default_data_dir
from kepkreator.data.attribute_sets import AttributeSet
from kepkreator.data.transforms import TRANSFORMS, dihedral

# (top, left, height, width) of the 320 x 243 Yale frames that holds every subject's face.
YALE_CROP = (20, 70, 200, 200)

# (top, left, height, width) of the 562 x 762 KDEF frames around the face (straight views).
KDEF_CROP = (170, 61, 440, 440)
KDEF_NAME = re.compile(r"^([AB])([FM])(\d\d)(AF|AN|DI|HA|NE|SA|SU)(FL|FR|HL|HR|S)\.JPE?G$", re.IGNORECASE)

Face = tuple[str, str, torch.Tensor]  # identity, condition, C x size x size uint8


MAX_PIXELS = 4_000_000  # far above any face photograph; refused from the header, before decoding


def _load(path: Path, crop: tuple[int, int, int, int], size: int, mode: str) -> torch.Tensor:
    if not path.is_file():  # a FIFO or a device named like a photograph would block or never end
        raise DataError(f"{path} is not a regular file")
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_PIXELS:
                raise DataError(f"{path} is {image.width}x{image.height}: over {MAX_PIXELS:,} pixels, too large for "
                                "a face photograph")
            picture = image.convert(mode)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as err:
        raise DataError(f"{path} is not a readable image ({err})") from err
    top, left, height, width = crop
    if picture.width < left + width or picture.height < top + height:
        raise DataError(f"{path} is {picture.width}x{picture.height}; the crop needs at least "
                        f"{left + width}x{top + height}")
    return resized_crop(pil_to_tensor(picture), top, left, height, width, [size, size],
                        interpolation=InterpolationMode.BILINEAR, antialias=True)


def read_yale(root: Path | str | None = None, size: int = 64) -> list[Face]:
    """`yalefaces/subjectNN.CONDITION` files, grey."""
    root = Path(root) if root is not None else default_data_dir()
    folder = root / "yalefaces" if (root / "yalefaces").is_dir() else root
    files = sorted(p for p in folder.glob("subject*.*") if p.suffix[1:] in YALE_CONDITIONS)
    if not files:
        raise DataError(f"no Yale faces under {root}: expected yalefaces/subject01.normal and the like, the 165 files "
                        "of the Yale Face Database (Belhumeur, Hespanha & Kriegman 1997; free for non-commercial "
                        "research and education), which torchvision does not fetch: put them in yalefaces/ there, "
                        "or pass --data-dir")
    return [(p.stem, p.suffix[1:], _load(p, YALE_CROP, size, "L")) for p in files]


def read_kdef(root: Path | str, sessions: tuple[str, ...] = ("A", "B"), expressions: tuple[str, ...] | None = None,
              angles: tuple[str, ...] = ("S",), size: int = 64, colour: bool = True) -> list[Face]:
    """A KDEF copy laid out as `AF01/AF01HAS.JPG`. Identity is sex + person (F01), condition the expression;
    the two sessions of a person are two images of the same (identity, expression) unless one is chosen."""
    root = Path(root)
    expressions = tuple(expressions or KDEF_EXPRESSIONS)
    for name, chosen, known in (("session", sessions, ("A", "B")), ("expression", expressions, KDEF_EXPRESSIONS),
                                ("angle", angles, KDEF_ANGLES)):
        unknown = [c for c in chosen if c not in known]
        if unknown or not chosen:
            raise DataError(f"unknown KDEF {name} {unknown or chosen}: choose from {', '.join(known)}")
    if not root.is_dir():
        raise DataError(f"{root} is not a folder")
    faces = []
    for path in sorted(root.glob("*/*")):
        match = KDEF_NAME.match(path.name)
        if not match or path.parent.name.upper() != path.name[:4].upper():
            continue
        session, sex, person, expression, angle = (g.upper() for g in match.groups())
        if session in sessions and expression in expressions and angle in angles:
            image = _load(path, KDEF_CROP, size, "RGB" if colour else "L")
            faces.append((f"{sex}{person}", KDEF_EXPRESSIONS[expression], image))
    if not faces:
        raise DataError(f"{root} holds no KDEF images for sessions {sessions}, angles {angles}: expected subfolders "
                        "like AF01 holding files like AF01HAS.JPG")
    return faces


def held_out_identities(identities: list[str], count: int) -> list[str]:
    """The identities an augmentation study keeps away from the generator and the classifier (seeded)."""
    order = torch.randperm(len(identities), generator=torch.Generator().manual_seed(1234)).tolist()
    return sorted(identities[i] for i in order[:count])


def face_styles(faces: list[Face], holdout: float = 0.1, seed: int = 0) -> AttributeSet:
    """identity x condition x transform; `holdout` of the (identity, condition) pairs (at least one, at most
    one per identity) never train.

    No identity loses more than one condition, and no condition a second identity before every condition has
    lost one, so every identity and every condition keeps examples in training.
    """
    identities = sorted({f[0] for f in faces})
    conditions = sorted({f[1] for f in faces}, key=lambda c: (c not in YALE_CONDITIONS, c))
    pairs = sorted({(identities.index(i), conditions.index(c)) for i, c, _ in faces})
    rng = torch.Generator().manual_seed(seed)
    want = max(1, round(holdout * len(pairs)))
    held, used_ids, used_conditions = set(), set(), set()
    for k in torch.randperm(len(pairs), generator=rng).tolist():
        identity, condition = pairs[k]
        if len(held) < want and identity not in used_ids and condition not in used_conditions:
            held.add(pairs[k])
            used_ids.add(identity)
            used_conditions.add(condition)
            if len(used_conditions) == len(conditions):
                used_conditions.clear()
    images, attributes, split = [], [], []
    for identity, condition, image in faces:
        key = (identities.index(identity), conditions.index(condition))
        for t in range(len(TRANSFORMS)):
            images.append(dihedral(image, t))
            attributes.append(torch.tensor([*key, t]))
            split.append(1 if key in held else 0)
    if len(pairs) - len(held) < 1 or len(identities) < 2 or len(conditions) < 2:
        raise DataError(f"{len(faces)} face image(s) of {len(identities)} identities in {len(conditions)} conditions "
                        "leave nothing to train on beside the held-out pairs: a face set needs at least two "
                        "identities and two conditions")
    schema = {"identity": identities, "condition": conditions, "transform": list(TRANSFORMS)}
    return AttributeSet(torch.stack(images), torch.stack(attributes), schema, torch.tensor(split),
                        ("train", "unseen identity x condition"))
