"""A guard in front of Gradio's routes for what the app never needs and what Gradio answers without a message.

- Uploads: the app has no upload component, so Gradio's upload route is closed (403); otherwise anyone could store
  files of any size on the server and have it serve them.
- A call to a named endpoint (`POST /gradio_api/call/<name>`) with fewer values than the endpoint takes, or a body
  that is not a JSON object with a `data` list, gets one line saying so (422), where Gradio answers
  `{"error": null}`. Values of the wrong type reach the handlers, whose checks name them.
"""
from __future__ import annotations

import json
import re

MAX_BODY = 2_000_000  # bytes: a call's values are short texts and numbers
CALL = re.compile(r"/gradio_api/(?:call|run)/([\w-]+)$")


class ApiGuard:
    """ASGI middleware; `arity` maps each named endpoint to the number of values it takes and their names."""

    def __init__(self, app, arity: dict[str, list[str]]):
        self.app, self.arity = app, arity

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        path = scope["path"]
        if path.endswith("/gradio_api/upload"):
            return await reply(send, 403, "This app takes no uploads.")
        match = CALL.search(path)
        if not match or match.group(1) not in self.arity:
            return await self.app(scope, receive, send)
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_BODY:
                return await reply(send, 413, f"The request is over {MAX_BODY:,} bytes.")
            if not message.get("more_body"):
                break
        problem = self.problem(match.group(1), body)
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

    def problem(self, name: str, body: bytes) -> str | None:
        names = self.arity[name]
        try:
            data = json.loads(body).get("data")
        except (ValueError, AttributeError, RecursionError):
            data = None
        if not isinstance(data, list):
            return f'/{name} takes a JSON object {{"data": [...]}} with {len(names)} values: {", ".join(names)}.'
        if len(data) < len(names):
            return (f"/{name} takes {len(names)} values ({', '.join(names)}); got {len(data)}. Missing: "
                    f"{', '.join(names[len(data):])}.")
        return None


async def reply(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def endpoint_arity(demo) -> dict[str, list[str]]:
    """Each named endpoint's input names, as "Use via API" lists them."""
    return {fn.api_name: [getattr(block, "label", None) or type(block).__name__.lower() for block in fn.inputs]
            for fn in demo.fns.values() if fn.api_name and fn.api_visibility != "private"}
