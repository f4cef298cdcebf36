"""A guard in front of Gradio's routes: only the ways in this app needs are open, each bounded, each answering a
mistake with one line where Gradio answers `{"error": null}`.

Gradio opens many routes that take a body; the app needs four, and every drawing goes through the queue, which
bounds how many requests wait (64) and run (`--concurrency` per endpoint):
- `POST /gradio_api/queue/join`: the page and gradio_client; its `fn_index` must name a handler, with its values;
- `POST /gradio_api/run/predict`: the page's handlers that run outside the queue (an example filling the text box),
  those only;
- `POST /gradio_api/call/<name>` (and `call/v2/<name>`): the named endpoints, as curl calls them; its values checked;
- `POST /gradio_api/cancel` and `/gradio_api/reset`: the page's own bookkeeping.
Every other route that takes a body is closed, whatever its spelling (trailing slashes, doubled slashes):
`/gradio_api/run/<name>` and `/gradio_api/api/<name>` skip the queue and its bounds; uploads and recordings store
files the app never reads; the editor, login and history routes serve nothing this app offers. Monitoring is closed.
A body is bounded in bytes, in the pieces it arrives in (a body sent a byte at a time costs the server CPU for each
piece) and in time, before it reaches Gradio. The page's configuration names the drawings' folder by an alias, so it
shows no server path or process id; a file asked for by the alias is served from that folder.
"""
from __future__ import annotations

import json
import re
import time

MAX_BODY = 2_000_000  # bytes: a call's values are short texts and numbers
MAX_PIECES = 2_000  # pieces a body may arrive in: a 2 MB body in 1-byte pieces is two million wake-ups
BODY_SECONDS = 15.0  # a body that takes longer to arrive is refused
CALL = re.compile(r"^/gradio_api/call/(?:v2/)?([\w-]+)$")
JOIN, UNQUEUED = "/gradio_api/queue/join", "/gradio_api/run/predict"
OPEN = {JOIN, UNQUEUED, "/gradio_api/cancel", "/gradio_api/reset"}
QUEUE_ONLY = re.compile(r"^/gradio_api/(?:run|api)/")
NO_FILES = re.compile(r"^/gradio_api/(?:upload|process_recording)$")
MONITORING = re.compile(r"^/(?:gradio_api/)?monitoring(?:/|$)")
FILES = "/gradio_api/file="
ALIAS = "drawings"  # what /config calls the drawings' folder


class BodyError(Exception):
    """A body the guard refuses before reading it whole: (status, message)."""


def route(path: str) -> str:
    """The route a path reaches, however it is spelled: doubled and trailing slashes removed."""
    return re.sub(r"/{2,}", "/", path).rstrip("/") or "/"


class ApiGuard:
    """ASGI middleware. `arity`: each named endpoint's input names; `handlers`: each fn_index's entry of
    `handler_arity`; `drawings`: the drawings' folder, which /config names by an alias."""

    def __init__(self, app, arity: dict[str, list[str]], handlers: dict[int, tuple[str, list[str], dict, bool]],
                 drawings: str | None = None):
        self.app, self.arity, self.handlers, self.drawings = app, arity, handlers, drawings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = route(scope["path"])
        if MONITORING.match(path):
            return await reply(send, 404, "Monitoring is not served by this app.")
        if scope["method"] != "POST":
            if self.drawings and scope["path"].startswith(f"{FILES}{ALIAS}/"):
                real = FILES + self.drawings + scope["path"][len(FILES + ALIAS):]
                scope = {**scope, "path": real, "raw_path": real.encode()}
            elif self.drawings and path == "/config":
                send = replacing(send, self.drawings.encode(), ALIAS.encode())
            return await self.app(scope, receive, send)
        if NO_FILES.match(path):
            return await reply(send, 403, "This app takes no uploads.")
        if QUEUE_ONLY.match(path) and path != UNQUEUED:
            return await reply(send, 403, "Drawings go through the queue: POST /gradio_api/call/<name> (then GET its "
                                          "result), or use gradio_client.")
        call = CALL.match(path)
        if not call and path not in OPEN:
            return await reply(send, 404, f"{path} is not served by this app.")
        try:
            body = await read_body(scope, receive)
        except BodyError as err:
            return await reply(send, *err.args)
        problem = (self.call_problem(call.group(1), body) if call else
                   self.join_problem(body, queued=path == JOIN) if path in (JOIN, UNQUEUED) else None)
        if problem:
            return await reply(send, 422, problem)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()
        return await self.app(scope, replay, send)

    def call_problem(self, name: str, body: bytes) -> str | None:
        if name not in self.arity:
            return f"/{name} is not an endpoint of this app: {', '.join(sorted(self.arity))}."
        return values_problem(f"/{name}", self.arity[name], data_of(body))

    def join_problem(self, body: bytes, queued: bool) -> str | None:
        request = parsed(body)
        index = request.get("fn_index") if isinstance(request, dict) else None
        if not isinstance(index, int) or isinstance(index, bool) or index not in self.handlers:
            return f"fn_index must name one of this page's handlers (0 to {max(self.handlers)}), got {str(index)[:20]}."
        name, names, examples, in_queue, on_server = self.handlers[index]
        if not on_server:
            return f"{name} runs in the page only: the server has nothing to run for it."
        if in_queue != queued:
            return f"{name} runs {'in' if in_queue else 'outside'} the queue: call it through " + (
                "/gradio_api/queue/join." if in_queue else "/gradio_api/run/predict.")
        data = request.get("data")
        problem = values_problem(name, names, data)
        for position, count in examples.items():  # Gradio reads an example's index itself, without a message
            if not problem and not (type(data[position]) is int and 0 <= data[position] < count):
                problem = f"{name} takes the index of one of its {count} examples, got {str(data[position])[:20]}."
        return problem


async def read_body(scope, receive) -> bytes:
    """The whole body, refused past MAX_BODY bytes (by its Content-Length, or as it arrives), MAX_PIECES pieces or
    BODY_SECONDS seconds."""
    length = dict(scope.get("headers") or []).get(b"content-length", b"0")
    if length.isdigit() and int(length) > MAX_BODY:
        raise BodyError(413, f"The request is over {MAX_BODY:,} bytes.")
    pieces, size, started = [], 0, time.monotonic()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BodyError(400, "The request ended before its body.")
        piece = message.get("body", b"")
        pieces.append(piece)
        size += len(piece)
        if size > MAX_BODY:
            raise BodyError(413, f"The request is over {MAX_BODY:,} bytes.")
        if not message.get("more_body"):
            return b"".join(pieces)
        if len(pieces) > MAX_PIECES or time.monotonic() - started > BODY_SECONDS:
            raise BodyError(408, f"The request's body came in over {MAX_PIECES:,} pieces or "
                                 f"{BODY_SECONDS:g} seconds: send it whole.")


def parsed(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def data_of(body: bytes):
    request = parsed(body)
    return request.get("data") if isinstance(request, dict) else None


def values_problem(name: str, names: list[str], data) -> str | None:
    if not isinstance(data, list):
        return f'{name} takes a JSON object {{"data": [...]}} with {len(names)} values: {", ".join(names)}.'
    if len(data) < len(names):
        return (f"{name} takes {len(names)} values ({', '.join(names)}); got {len(data)}. Missing: "
                f"{', '.join(names[len(data):])}.")
    return None


def replacing(send, old: bytes, new: bytes):
    """`send` for a response whose body has `old` replaced by `new`: the body is held until whole (the page's
    configuration, some 100 KB) so its length can be set again."""
    start, pieces = None, []

    async def replaced(message):
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
            return
        pieces.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(pieces).replace(old, new)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
    return replaced


async def reply(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def input_names(fn) -> list[str]:
    return [getattr(block, "label", None) or type(block).__name__.lower() for block in fn.inputs]


def endpoint_arity(demo) -> dict[str, list[str]]:
    """Each named endpoint's input names, as "Use via API" lists them."""
    return {fn.api_name: input_names(fn) for fn in demo.fns.values()
            if fn.api_name and fn.api_visibility != "private"}


def handler_arity(demo) -> dict[int, tuple[str, list[str], dict[int, int], bool, bool]]:
    """Every handler the page can call by fn_index, private ones too: (what to call it in a message, its input
    names, {position: number of examples} for the example lists it reads, whether it runs in the queue, whether
    the server runs anything for it: a handler of the page's own JavaScript does not)."""
    return {index: (f"/{fn.api_name}" if fn.api_name else f"handler {index}", input_names(fn),
                    {position: len(block.samples) for position, block in enumerate(fn.inputs)
                     if type(block).__name__ == "Dataset"}, bool(fn.queue), fn.fn is not None)
            for index, fn in demo.fns.items()}
