import math

import pytest

from kepkreator.validation import InputError, choice, number, whole_number


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
