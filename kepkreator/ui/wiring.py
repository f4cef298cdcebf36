"""What every tab shares: user mistakes turned into messages, the wiring of handlers to the page and the API,
colours read from pickers, memory given back after heavy requests."""
from __future__ import annotations

import ctypes
import functools
import gc
import html
import logging
import re
import threading

import gradio as gr

from kepkreator.ui.files import DiskFull, image_file
from kepkreator.ui.workers import render_workers
from kepkreator.validation import InputError


log = logging.getLogger("kepkreator.app")

HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
NUMBER = r"\s*(\d{1,3}(?:\.\d+)?)\s*"
RGB = re.compile(rf"^rgba?\({NUMBER},{NUMBER},{NUMBER}(?:,{NUMBER})?\)$")


def parse_colour(name: str, value: str) -> tuple[int, int, int]:
    """'#1e2a5a', '#fff' or 'rgb(30, 42, 90)' (what colour pickers send) -> (r, g, b)."""
    text = str(value or "").strip()
    if match := HEX.match(text):
        digits = match.group(1)
        digits = "".join(d * 2 for d in digits) if len(digits) == 3 else digits
        return tuple(int(digits[i:i + 2], 16) for i in (0, 2, 4))
    if (match := RGB.match(text)) and all(float(v) <= 255 for v in match.groups()[:3]):
        return tuple(round(float(v)) for v in match.groups()[:3])
    shown = text if len(text) <= 40 else text[:40] + "..."
    raise InputError(f"{name} colour {shown!r} is not a colour: use #rrggbb")


APOLOGY = "Something went wrong drawing this; the error was logged."


def plain(output):
    """What an API client gets for an output: the value of a page update (an image's alt text, a label's title
    are for the page)."""
    return output.get("value") if isinstance(output, dict) and output.get("__type__") == "update" else output


def user_errors(fn):
    """For API clients: plain values; InputError becomes its message as a gr.Error; anything else is logged and
    answered with a short apology, never a trace."""
    @functools.wraps(fn)
    def wrapped(*args):
        try:
            result = fn(*args)
            return [plain(output) for output in result] if isinstance(result, (list, tuple)) else plain(result)
        except InputError as err:
            # Gradio renders the message as HTML, and it may quote the user's text.
            raise gr.Error(html.escape(str(err), quote=False), title="Check the input", print_exception=False) from None
        except DiskFull as err:
            log.error("%s", err)
            raise gr.Error(str(err), title="Try again later", print_exception=False) from None
        except Exception:
            log.exception("request failed")
            raise gr.Error(APOLOGY, print_exception=False) from None
    return wrapped


def warning(message: str) -> str:
    return f"**Check the input:** {html.escape(message, quote=False)} The drawing shown is the last one that worked."


def keeps_last_drawing(fn, outputs: int):
    """For the page: a mistake leaves every output as it was and says why in the status line, which the next
    success clears; where an API client gets an error instead (`user_errors`)."""
    @functools.wraps(fn)
    def wrapped(*args):
        try:
            result = fn(*args)
        except InputError as err:
            return (*[gr.skip()] * outputs, warning(str(err)))
        except DiskFull as err:
            log.error("%s", err)
            return (*[gr.skip()] * outputs, f"**Sorry:** {err}")
        except Exception:
            log.exception("request failed")
            return (*[gr.skip()] * outputs, f"**Sorry:** {APOLOGY}")
        return (*(result if isinstance(result, (list, tuple)) else [result]), "")
    return wrapped


def status_line(elem_id: str) -> gr.Markdown:
    """Where the page says what was wrong with the last input; empty after a success."""
    return gr.Markdown("", elem_id=elem_id, elem_classes=["kk-status"])


class Serving:
    """How the tabs' handlers are served. `stored_results` replaces each by one that computes its first answer and
    returns it ever after: the same page and the same Gradio work with no drawing, the ceiling a benchmark
    measures the real app against (`python app.py --stored-results`)."""
    stored_results = False


def stored(fn):
    answers = []
    lock = threading.Lock()

    @functools.wraps(fn)
    def wrapped(*args):
        with lock:
            if not answers:
                answers.append(fn(*args))
        return answers[0]
    return wrapped


def wire(fn, inputs: list, outputs: list, status: gr.Markdown, triggers: list, api_name: str):
    """Run `fn` on the page when any trigger fires (keeping the last drawing on a mistake), and expose it to API
    clients as `api_name` (where a mistake is an error). The API's own trigger is a hidden button, so clients and
    the page never share an event's error handling. Values reach `fn` as sent (no preprocessing), on the page's
    event as through the API, so a wrong type from any client is answered by the handler's own checks with a
    message, never by an error without one. Returns the page's handler, for other events to reuse."""
    fn = render_workers.register(stored(fn) if Serving.stored_results else fn)
    gr.Button(visible=False).click(user_errors(fn), inputs, outputs, api_name=api_name, preprocess=False)
    page = keeps_last_drawing(fn, len(outputs))
    gr.on(triggers, page, inputs, [*outputs, status], api_visibility="private", trigger_mode="always_last",
          scroll_to_output=True, preprocess=False)
    return page


def gives_memory_back(fn):
    """For handlers that build large intermediate results (an export of hundreds of faces): afterwards, collect
    the garbage and ask glibc to return freed heap pages to the system, which it otherwise keeps for reuse, so a
    server's memory does not stay at its largest request's."""
    @functools.wraps(fn)
    def wrapped(*args):
        try:
            return fn(*args)
        finally:
            gc.collect()
            if LIBC is not None:
                LIBC.malloc_trim(0)
    return wrapped


def _libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):  # not glibc: nothing to ask
        return None


LIBC = _libc()


def drawing(path: str, alt_text: str) -> dict:
    """An image output with the alt text a screen reader reads for it."""
    return gr.update(value=path, alt_text=alt_text)


def first_drawing(draw, inputs: list):
    """What `draw` makes of the controls' starting values: shown before any click, so the page never opens on
    an empty image. Its file is kept for the server's life (Gradio's hourly sweep spares a component's value)."""
    with image_file.folders.kept():
        return draw(*(control.value for control in inputs))
