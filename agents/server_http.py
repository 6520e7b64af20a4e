"""HTTP edges of `turnrl serve`: OpenAI-shaped errors, the API key, and the request-body bound.

`GuardMiddleware` is a plain ASGI middleware so that it runs before FastAPI reads the body: an
unauthorised request (any path but /health) is answered from its headers alone, and a body over the limit is refused
(413) after at most `max_body_bytes` are held in memory, never parsed or tokenised. A body
that is too large is still read to its end (discarding it, up to `DRAIN_BYTES`), because a
client that sends its whole body before reading the answer would otherwise see a reset
connection instead of the 413.
"""
from __future__ import annotations

import hmac
import json
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DRAIN_BYTES = 64 << 20  # an over-long body is read and dropped up to this many bytes before answering


class APIError(Exception):
    """An error answered in the OpenAI shape: {"error": {"message", "type", "param", "code"}}."""

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None,
                 type: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.type = type or error_type(status)
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.type, self.param, self.code)

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def error_type(status: int) -> str:
    if status == 429:
        return "rate_limit_error"
    return "server_error" if status >= 500 else "invalid_request_error"


def error_body(message: str, type: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def _validation_error(exc: RequestValidationError) -> APIError:
    """400 naming the first bad field; the offending input is never echoed (it may be NaN or huge)."""
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    loc = [str(part) for part in first.get("loc", ()) if part != "body"]
    param = ".".join(loc) or None
    message = f"{param}: {first.get('msg')}" if param else str(first.get("msg"))
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return APIError(400, message, param=param, code="invalid_value" if param else "invalid_json")


def install_error_handlers(app: FastAPI) -> None:
    """Every error this app answers, including FastAPI's own 404/405/validation ones, in the OpenAI shape."""

    @app.exception_handler(APIError)
    async def _api_error(_: Request, exc: APIError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_error(exc).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return APIError(exc.status_code, str(exc.detail), headers=exc.headers).response()

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        return APIError(500, f"internal error: {type(exc).__name__}").response()


class GuardMiddleware:
    """Checks the API key (every path but /health) and bounds the request body before the app sees the request."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, api_key: str | None = None):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.api_key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        if self.api_key and scope.get("path") != "/health" and not self._authorised(headers):
            error = APIError(401, "missing or incorrect API key: send the header 'Authorization: Bearer <key>'",
                             code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
            await error.response()(scope, receive, send)
            return
        declared = headers.get(b"content-length")
        try:
            length = int(declared) if declared is not None else None
        except ValueError:
            await APIError(400, "Content-Length is not a number").response()(scope, receive, send)
            return
        if length is not None and length > self.max_body_bytes + DRAIN_BYTES:
            await self._too_large(scope, receive, send)  # not worth draining: the client may see a reset
            return
        chunks, outcome = await self._read_body(receive)
        if outcome == "too large":
            await self._too_large(scope, receive, send)
        elif outcome == "read":
            await self.app(scope, _replay(b"".join(chunks), receive), send)
        # "gone": the client left before its body ended; there is no one to answer

    def _authorised(self, headers: dict[bytes, bytes]) -> bool:
        scheme, _, token = headers.get(b"authorization", b"").partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), (self.api_key or "").encode())

    async def _read_body(self, receive: Receive) -> tuple[list[bytes], str]:
        """The body's chunks and "read"; or "too large" (past the limit the rest is dropped), or "gone"."""
        chunks: list[bytes] = []
        size, drained = 0, 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # http.disconnect
                return [], "gone"
            body = message.get("body", b"")
            if size <= self.max_body_bytes:
                size += len(body)
                chunks.append(body)
                if size > self.max_body_bytes:
                    chunks = []
            else:
                drained += len(body)
            if not message.get("more_body", False) or drained > DRAIN_BYTES:
                return chunks, "read" if size <= self.max_body_bytes else "too large"

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = APIError(413, f"request body is larger than this server's limit of {self.max_body_bytes} bytes",
                         code="request_too_large")
        await error.response()(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the app the already-read body once, then the client's later messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def sse(data: dict[str, Any] | str) -> str:
    """One server-sent event as the OpenAI API writes it: `data: <json>` and a blank line."""
    return f"data: {data if isinstance(data, str) else json.dumps(data, separators=(',', ':'))}\n\n"
