"""Property-based fuzzing of every text and number input of the app's API, in-process on the real handlers.

Whatever arrives, a handler returns an image or raises the app's clear "Check the input" message:
never the generic apology that an unexpected exception produces, never a hang.
"""
import time
from functools import partial

import gradio as gr
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kepkreator.attributes import AttributeModel
from kepkreator.handwriting import Handwriter
from kepkreator.ui import faces_tab, handwriting_tab, styles_tab
from kepkreator.ui.wiring import user_errors
from kepkreator.ui.files import RecentFolders

anything = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40))
numbers = st.one_of(st.floats(-10, 10), st.integers(-5, 20), st.sampled_from([float("nan"), float("inf"), None, "x"]))
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory):
    """Each tab's handler bound to its model, wrapped as the API endpoint wraps it."""
    handwriter = Handwriter.from_pretrained()
    styles, faces = AttributeModel.from_pretrained("gcn-qmnist"), AttributeModel.from_pretrained("gcn-yale")
    exports = RecentFolders("kepkreator-fuzz-exports-", keep=3)
    handlers = {"handwrite": partial(handwriting_tab.handwrite, handwriter),
                **{name: partial(getattr(styles_tab, name), styles)
                   for name in ("style_digit", "style_number", "style_grid", "style_sweep")},
                "face": partial(faces_tab.face, faces), "face_strip": partial(faces_tab.strip, faces),
                "export_faces": partial(faces_tab.export, faces, exports)}
    return {name: user_errors(handler) for name, handler in handlers.items()}


def call(fn, *args):
    start = time.monotonic()
    try:
        fn(*args)
    except gr.Error as err:
        assert err.title == "Check the input", f"unexpected failure for {args!r}: {err.message}"
        assert err.message
    assert time.monotonic() - start < 30


@FUZZ
@given(text=st.text(alphabet=st.sampled_from("0123456789 \n+-=.,:/()%$€£¥₹\u2212\u2013xé?"), max_size=150)
       | st.text(max_size=150), seed=anything, variation=numbers, neatness=numbers, ink=anything, paper=anything,
       transparent=st.booleans(), stroke=numbers, scale=numbers, line_width=numbers)
def test_handwrite(endpoints, text, seed, variation, neatness, ink, paper, transparent, stroke, scale, line_width):
    call(endpoints["handwrite"], text, seed, variation, neatness, ink, paper, transparent, stroke, scale, line_width)


@FUZZ
@given(digit=anything, writer_a=anything, writer_b=anything, blend=numbers, red=numbers, green=numbers, blue=numbers,
       transform=anything, steps=numbers, text=st.text(max_size=120))
def test_styles(endpoints, digit, writer_a, writer_b, blend, red, green, blue, transform, steps, text):
    call(endpoints["style_digit"], digit, writer_a, writer_b, blend, red, green, blue, transform)
    call(endpoints["style_number"], text, writer_a, writer_b, blend, red, green, blue, transform)
    call(endpoints["style_grid"], writer_a, writer_b, blend, red, green, blue)
    call(endpoints["style_sweep"], digit, writer_a, writer_b, red, green, blue, transform, steps)


@FUZZ
@given(identity_a=anything, identity_b=anything, blend=numbers, condition=anything, transform=anything, steps=numbers,
       count=numbers, seed=anything)
def test_faces(endpoints, identity_a, identity_b, blend, condition, transform, steps, count, seed):
    call(endpoints["face"], identity_a, identity_b, blend, condition, transform)
    call(endpoints["face_strip"], identity_a, identity_b, transform, steps)
    call(endpoints["export_faces"], count, blend, seed)
