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


def positive_int(text: str) -> int:
    """An argparse type for counts: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value
