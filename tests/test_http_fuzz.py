"""Hypothesis against the real server on loopback, through Gradio's HTTP API as curl would call it: every endpoint,
values of any type and number. Every reply is a result or one short line, never `{"error": null}` or a trace, and
a message quotes at most a short prefix of what was sent."""
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

LONG = "7" * 5000
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30), st.just(LONG),
                    st.sampled_from(["0.5", "abc", "#ff0000", "rgb(1.2.3,0,0)"]))
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=5), scalars, max_size=2))
ARITY = {"handwrite": 10, "style_digit": 8, "style_number": 8, "style_grid": 6, "style_sweep": 8, "face": 5,
         "face_strip": 4, "export_faces": 3}
FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def http(app_url):
    with httpx.Client(base_url=app_url + "gradio_api/call/", timeout=120) as client:
        yield client


def call(http, endpoint: str, data) -> tuple[str, object]:
    """('complete', outputs) or ('error', message) or ('refused', message)."""
    posted = http.post(endpoint, json={"data": data})
    if posted.status_code != 200:
        return "refused", posted.json()["error"]
    stream = http.get(f"{endpoint}/{posted.json()['event_id']}").text
    event = next(line.split(": ", 1)[1] for line in stream.splitlines() if line.startswith("event: "))
    payload = json.loads(next(line.split(": ", 1)[1] for line in stream.splitlines() if line.startswith("data: ")))
    return event, payload["error"] if event == "error" else payload


def check_reply(kind: str, reply) -> None:
    assert kind in ("complete", "error", "refused"), (kind, reply)
    if kind != "complete":
        assert isinstance(reply, str) and reply, f"an error without a message: {reply!r}"
        assert "\n" not in reply and "Traceback" not in reply and len(reply) < 400, reply
        assert LONG[:100] not in reply  # a long value is quoted by a short prefix at most


@pytest.mark.parametrize("endpoint", sorted(ARITY))
def test_any_values_get_a_result_or_one_line(http, endpoint):
    @FUZZ
    @given(data=st.lists(values, min_size=ARITY[endpoint], max_size=ARITY[endpoint]))
    def fuzz(data):
        check_reply(*call(http, endpoint, data))
    fuzz()


@pytest.mark.parametrize("endpoint", sorted(ARITY))
def test_too_few_values_or_no_list_get_one_line(http, endpoint):
    for data in ([], ["2026"], "text", None):
        kind, reply = call(http, endpoint, data)
        assert kind == "refused" and f"/{endpoint} takes" in reply
        check_reply(kind, reply)
