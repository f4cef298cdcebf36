"""Checks for values a user typed or an API client sent: each failure is an InputError saying what to fix."""
from __future__ import annotations

import argparse
import math


class InputError(ValueError):
    """Input a user can fix; the message says how."""


def number(name: str, value, low: float, high: float) -> float:
    """A finite number from low to high (numbers as text are accepted, as a form sends them)."""
    if isinstance(value, bool):
        raise InputError(f"{name} must be a number from {low:g} to {high:g}, got {value!r}")
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name} must be a number from {low:g} to {high:g}, got {value!r}") from None
    if not (math.isfinite(result) and low <= result <= high):
        raise InputError(f"{name} must be from {low:g} to {high:g}, got {value!r}")
    return result


def whole_number(name: str, value, low: int, high: int) -> int:
    result = number(name, value, low, high) if not isinstance(value, int) or isinstance(value, bool) else value
    if isinstance(result, float) and not result.is_integer() or not low <= result <= high:
        raise InputError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(result)


def choice(name: str, value, options: list[str]) -> str:
    text = str(value)
    if text not in options:
        shown = ", ".join(options[:12]) + (" ..." if len(options) > 12 else "")
        raise InputError(f"unknown {name} {text[:40]!r}: choose one of {shown}")
    return text


def positive_int(text: str) -> int:
    """An argparse type for counts: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value
