"""Hypothesis against the real server on loopback, through Gradio's HTTP API as curl would call it: every endpoint,
values of any type and number. Every reply is a result or one short line, never `{"error": null}` or a trace, and
a message quotes at most a short prefix of what was sent."""
import base64
import io
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from PIL import Image, ImageDraw

from tests.conftest import ROOT


def png_data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


SEVEN = Image.new("L", (224, 224), 255)
ImageDraw.Draw(SEVEN).line([(50, 40), (170, 40), (100, 190)], fill=0, width=16)
LONG = "7" * 5000
# what a drawing pad could be sent: a digit, a blank pad, an image too large in pixels (a few kB of PNG), not an
# image, not base64, not a data URL
DRAWINGS = [png_data_url(SEVEN), png_data_url(Image.new("L", (224, 224), 255)),
            png_data_url(Image.new("L", (5000, 5000), 255)), "data:image/png;base64," + base64.b64encode(
                b"GIF89a not really").decode(), "data:image/png;base64,@@@", "/etc/passwd"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30), st.just(LONG),
                    st.sampled_from(["0.5", "abc", "#ff0000", "rgb(1.2.3,0,0)", "hand1:AAAA", *DRAWINGS]))
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=5), scalars, max_size=2))
ARITY = {"handwrite": 11, "read_drawing": 1, "find_hand": 2,
         "style_digit": 8, "style_number": 8, "style_grid": 6, "style_sweep": 8, "face": 5,
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
    for data in ([], ["2026"] * (ARITY[endpoint] - 1), "text", None):
        kind, reply = call(http, endpoint, data)
        assert kind == "refused" and f"/{endpoint} takes" in reply
        check_reply(kind, reply)


def join(app_url: str, fn_index, data, session: str = "fuzz") -> tuple[int, object]:
    """POST queue/join as the page does, then read the event stream up to its end: (status, outcome), the outcome
    being the join's refusal, or the completed event's output."""
    with httpx.Client(base_url=app_url, timeout=120) as client:
        joined = client.post("gradio_api/queue/join", json={"data": data, "fn_index": fn_index, "event_data": None,
                                                            "trigger_id": None, "session_hash": session})
        if joined.status_code != 200:
            return joined.status_code, joined.json()
        event_id = joined.json()["event_id"]
        with client.stream("GET", "gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                        return 200, message
                    if message.get("msg") == "close_stream":
                        break
    return 200, None


def test_every_handler_reachable_by_fn_index_answers_a_result_or_one_line(app_url):
    """The page's private handlers too (a colour picker's, an example's), with any values; and indexes that name
    no handler."""
    config = httpx.get(app_url + "config", timeout=60).json()
    indexes = [dependency["id"] for dependency in config["dependencies"]]
    for index in indexes:
        for data in ([], ["notacolour"] * 12, [LONG] * 12, [None] * 12, [{"a": 1}] * 12, [-1e300] * 12):
            status, outcome = join(app_url, index, data)
            if status != 200:
                check_reply("refused", outcome["error"])
            else:
                assert outcome is not None, (index, data)
                if not outcome["success"]:
                    check_reply("error", outcome["output"].get("error"))
    for index in (max(indexes) + 1, 99, -1, "7", None, True):
        status, outcome = join(app_url, index, [1])
        assert status == 422 and "fn_index must name one of this page's handlers" in outcome["error"]
    port = app_url.rstrip("/").rsplit(":", 1)[1]
    log = (ROOT / "test-artifacts" / f"app-{port}.log").read_text()
    assert "Traceback" not in log and "ComponentProcessingError" not in log  # every answer was a handler's own


@pytest.mark.parametrize("path, status", [
    ("gradio_api/run/handwrite", 403), ("gradio_api/run/handwrite/", 403), ("gradio_api/api/handwrite", 403),
    ("gradio_api//run/export_faces", 403), ("gradio_api/upload", 403), ("gradio_api/upload/", 403),
    ("gradio_api/process_recording", 403), ("gradio_api/component_server", 404), ("gradio_api/vibe-code", 404),
    ("login", 404), ("gradio_api/run-history/connect", 404),
])
def test_routes_that_skip_the_queue_or_store_files_are_closed_however_spelled(app_url, path, status):
    replied = httpx.post(app_url + path, json={"data": ["2026"]}, timeout=60)
    assert replied.status_code == status
    check_reply("refused", replied.json()["error"])


@pytest.mark.parametrize("path", ["gradio_api/call/handwrite/", "gradio_api/call/v2/handwrite",
                                  "gradio_api//call/handwrite"])
def test_every_spelling_of_a_call_is_checked(app_url, path):
    replied = httpx.post(app_url + path, json={"data": [1]}, timeout=60)
    assert replied.status_code == 422 and "/handwrite takes 11 values" in replied.json()["error"]
    big = httpx.post(app_url + path, content=b'{"data": ["' + b"7" * 3_000_000 + b'"]}', timeout=60)
    assert big.status_code == 413 and "over 2,000,000 bytes" in big.json()["error"]


def test_a_body_sent_a_byte_at_a_time_is_refused_before_it_costs_the_server(app_url):
    """Chunked, one byte a chunk, each on its own: the guard stops reading after 2,000 pieces and answers."""
    import socket
    import threading
    import time

    host, port = app_url.split("//")[1].rstrip("/").split(":")
    body = b'{"data": ["' + b"7" * 5000 + b'"]}'
    with socket.create_connection((host, int(port)), timeout=60) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.sendall(b"POST /gradio_api/call/handwrite HTTP/1.1\r\nHost: app\r\nContent-Type: application/json"
                           b"\r\nTransfer-Encoding: chunked\r\n\r\n")

        def trickle():
            try:
                for byte in body:
                    connection.sendall(b"1\r\n" + bytes([byte]) + b"\r\n")
                    time.sleep(0.0005)
                connection.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the server answered and closed: nothing more to send

        sender = threading.Thread(target=trickle)
        sender.start()
        answer = b""
        while b"}" not in answer:
            piece = connection.recv(4096)
            if not piece:
                break
            answer += piece
        sender.join()
    assert answer.startswith(b"HTTP/1.1 408") and b"send it whole" in answer, answer[:300]


def test_monitoring_is_closed(app_url):
    for path in ("monitoring", "monitoring/summary", "gradio_api/monitoring/summary"):
        replied = httpx.get(app_url + path, timeout=60)
        assert replied.status_code == 404 and "Monitoring is not served" in replied.json()["error"]


def test_run_predict_serves_only_the_handlers_that_run_outside_the_queue(app_url):
    """The page fills the text box from an example through /run/predict; no drawing may skip the queue there."""
    config = httpx.get(app_url + "config", timeout=60).json()
    unqueued = [d["id"] for d in config["dependencies"] if d.get("queue") is False and d["backend_fn"]]
    in_page = [d["id"] for d in config["dependencies"] if not d["backend_fn"]]  # the page's own JavaScript
    drawing = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "handwrite")
    assert unqueued and in_page
    handwriting = ["2026", 0, 0.15, 0.5, "#141e5a", "#ffffff", False, 0, 3, 24, ""]
    for index, data in ((unqueued[0], [0]), (drawing, handwriting), (in_page[0], [""])):
        replied = httpx.post(app_url + "gradio_api/run/predict", timeout=60,
                             json={"data": data, "fn_index": index, "session_hash": "fuzz"})
        if index == drawing:
            assert replied.status_code == 422 and "runs in the queue" in replied.json()["error"]
        elif index in in_page:
            assert replied.status_code == 422 and "runs in the page only" in replied.json()["error"]
        else:
            assert replied.status_code == 200, replied.text


def test_the_page_config_shows_no_server_path_and_its_drawings_are_served(app_url):
    """The opening drawings are named by an alias of their folder: no absolute path, no process id."""
    text = httpx.get(app_url + "config", timeout=60).text
    config = json.loads(text)
    opening = [c["props"]["value"] for c in config["components"]
               if c.get("type") == "image" and c["props"].get("value")]
    assert len(opening) == 4 and all(value["path"].startswith("drawings/") for value in opening)
    assert "/tmp/" not in text and "kepkreator-images-" not in text
    for value in opening:
        assert httpx.get(value["url"], timeout=60).status_code == 200
    climbed = opening[0]["url"].split("file=")[0] + "file=drawings/../../../etc/passwd"
    assert httpx.get(climbed, timeout=60).status_code in (400, 403, 404)
