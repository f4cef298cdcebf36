"""What the datasets are called and where they are read from, without loading torch: the commands' flags need it
before anything heavy is imported."""
from __future__ import annotations

import os
from pathlib import Path

DATASETS = ("mnist", "emnist-letters", "emnist-digits")  # the character sets the handwriting models train on
YALE_CONDITIONS = ("centerlight", "glasses", "happy", "leftlight", "noglasses", "normal", "rightlight", "sad",
                   "sleepy", "surprised", "wink")
KDEF_EXPRESSIONS = {"AF": "afraid", "AN": "angry", "DI": "disgusted", "HA": "happy", "NE": "neutral", "SA": "sad",
                    "SU": "surprised"}
KDEF_ANGLES = {"FL": "full left", "HL": "half left", "S": "straight", "HR": "half right", "FR": "full right"}


class DataError(RuntimeError):
    """A data folder that lacks, or holds broken, files: the message says which and what to do."""


def default_data_dir() -> Path:
    """`../shared/data` beside the project when it exists, else `./data`."""
    env = os.environ.get("KEPKREATOR_DATA")
    if env:
        return Path(env)
    shared = Path(__file__).resolve().parents[3] / "shared" / "data"
    return shared if shared.is_dir() else Path("data")
