import argparse
import ast
import math
import re

import pytest

from kepkreator.validation import InputError, choice, number, number_flag, positive_int, whole_number
from tests.conftest import ROOT


@pytest.mark.parametrize("value", [None, "abc", math.nan, math.inf, -math.inf, True, [1], "1e999", 11, -0.5])
def test_number_refuses_what_is_not_a_number_in_range(value):
    with pytest.raises(InputError, match="blend must be"):
        number("blend", value, 0, 10)


def test_number_accepts_numbers_and_numeric_text():
    assert number("blend", "0.25", 0, 1) == 0.25 and number("blend", 1, 0, 1) == 1.0


@pytest.mark.parametrize("value", [1.5, "2.5", 2**70, -1, None, "seven"])
def test_whole_number_refuses_fractions_and_out_of_range(value):
    with pytest.raises(InputError, match="seed must be"):
        whole_number("seed", value, 0, 2**63 - 1)


def test_whole_number_accepts_integral_values():
    assert whole_number("steps", 4.0, 2, 16) == 4 and whole_number("steps", "8", 2, 16) == 8


def test_choice_names_the_options():
    assert choice("digit", 7, list("0123456789")) == "7"
    with pytest.raises(InputError, match="unknown digit 'x': choose one of 0, 1, 2"):
        choice("digit", "x", list("0123456789"))


@pytest.mark.parametrize("flag, text, message", [
    (number_flag(0, 1, above=True), "0", "must be a number above 0 and at most 1, got 0"),
    (number_flag(0, 1, below=True), "nan", "must be a number from 0 to below 1, got nan"),
    (number_flag(0), "inf", "must be a number of at least 0, got inf"),
    (number_flag(4, 512, whole=True), "8.5", "must be a whole number from 4 to 512, got '8.5'"),
    (positive_int, "many", "must be a whole number of at least 1, got 'many'"),
])
def test_a_number_flag_names_its_range(flag, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(message)):
        flag(text)


def test_a_number_flag_keeps_what_is_in_range():
    assert number_flag(0, 1, above=True)("1") == 1.0 and number_flag(4, 512, whole=True)("512") == 512
    assert number_flag(0, 1)("0") == 0.0 and isinstance(positive_int("3"), int)


def test_every_number_flag_of_every_command_is_checked_as_it_is_read():
    """A flag typed plain int or float takes nan, inf, negatives and sizes no network can hold; each command's
    numbers go through number_flag (or another checked type) instead."""
    sources = [ROOT / "app.py", *(path for folder in ("kepkreator", "train", "studies")
                                  for path in sorted((ROOT / folder).rglob("*.py")))]
    unchecked = [f"{path.relative_to(ROOT)}:{call.lineno}" for path in sources
                 for call in ast.walk(ast.parse(path.read_text()))
                 if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "add_argument"
                 and any(keyword.arg == "type" and isinstance(keyword.value, ast.Name)
                         and keyword.value.id in ("int", "float") for keyword in call.keywords)]
    assert len(sources) > 20 and not unchecked, f"plain int/float flags: {unchecked}"
