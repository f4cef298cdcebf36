"""Checks for values a user typed or an API client sent: each failure is an InputError saying what to fix."""
from __future__ import annotations

import argparse
import math


class InputError(ValueError):
    """Input a user can fix; the message says how."""


def shown(value, limit: int = 40) -> str:
    """A value as a message quotes it: its repr, cut to `limit` characters (a 1 MB string is not echoed back)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def number(name: str, value, low: float, high: float) -> float:
    """A finite number from low to high (numbers as text are accepted, as a form sends them)."""
    if isinstance(value, bool):
        raise InputError(f"{name} must be a number from {low:g} to {high:g}, got {shown(value)}")
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name} must be a number from {low:g} to {high:g}, got {shown(value)}") from None
    if not (math.isfinite(result) and low <= result <= high):
        raise InputError(f"{name} must be from {low:g} to {high:g}, got {shown(value)}")
    return result


def whole_number(name: str, value, low: int, high: int) -> int:
    message = f"{name} must be a whole number from {low} to {high}, got {shown(value)}"
    if isinstance(value, bool):
        raise InputError(message)
    if isinstance(value, int):
        result = value
    else:
        try:
            result = float(value)
        except (TypeError, ValueError, OverflowError):
            raise InputError(message) from None
        if not (math.isfinite(result) and result.is_integer()):
            raise InputError(message)
    if not low <= result <= high:
        raise InputError(message)
    return int(result)


def boolean(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"{name} must be true or false, got {shown(value)}")
    return value


def choice(name: str, value, options: list[str]) -> str:
    text = str(value)
    if text not in options:
        shown_value, options_shown = shown(text), ", ".join(options[:12]) + (" ..." if len(options) > 12 else "")
        raise InputError(f"unknown {name} {shown_value}: choose one of {options_shown}")
    return text


def written(value: float) -> str:
    """A range's end as a person writes it: 512, 0.5, 0.0002."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


SEED_LIMIT = 2 ** 63 - 1  # the largest seed torch.Generator.manual_seed takes


def number_flag(low: float = -math.inf, high: float = math.inf, *, whole: bool = False, above: bool = False,
                below: bool = False):
    """An argparse type for a number flag: a finite number (a whole one with `whole`) from `low` to `high`, the
    ends left out with `above` and `below`. A bad value stops the command with one line that argparse begins
    with the flag's name: "argument --lr: must be a number above 0 and at most 1, got nan"."""
    kind = "a whole number" if whole else "a number"
    lowest, highest = written(low), written(high)
    if math.isinf(low) and math.isinf(high):
        span = ""
    elif math.isinf(high):
        span = f" above {lowest}" if above else f" of at least {lowest}"
    elif math.isinf(low):
        span = f" below {highest}" if below else f" of at most {highest}"
    elif above:
        span = f" above {lowest} and {'below' if below else 'at most'} {highest}"
    else:
        span = f" from {lowest} to {'below ' if below else ''}{highest}"
    message = f"must be {kind}{span}, got {{}}"

    def parse(text: str) -> float | int:
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(message.format(shown(text))) from None
        inside = (low < value if above else low <= value) and (value < high if below else value <= high)
        if not ((whole or math.isfinite(value)) and inside):
            raise argparse.ArgumentTypeError(message.format(text))
        return value
    return parse


positive_int = number_flag(1, whole=True)  # counts: steps, images, requests
seed_flag = number_flag(0, SEED_LIMIT, whole=True)


class HelpWithDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """--help shows each flag's default, unless its help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        return text if "default" in text else super()._get_help_string(action)
