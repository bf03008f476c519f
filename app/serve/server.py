"""The HTTP side of `enclave serve` (Starlette): GET /v1/models, POST /v1/chat/completions
(a JSON answer, or with `"stream": true` server-sent events in OpenAI's chunk format), and
OpenAI-style errors. Every route needs `Authorization: Bearer <key>` (401 otherwise).

Threads: the handlers run on the event loop; answers run on their own threads
(app.serve.dispatch). Nothing here logs a question, a document or an answer; an unexpected
failure is logged as a traceback without its message (app.errors.internal_error).
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.chat.types import ChatAnswer, EvidenceFound
from app.errors import internal_error, is_user_error, user_message
from app.serve.errors import ServeError, error_body
from app.serve.mapping import (
    Completion,
    ask_options,
    evidence_text,
    parse_request,
    question_of,
    rest_of_answer,
)
from app.serve.names import parse_model_name

if TYPE_CHECKING:
    from app.chat.answer import EvidenceQuote
    from app.library.workspaces import Workspace
    from app.serve.api_key import KeyCheck
    from app.serve.dispatch import Answering, AnswerStream
    from app.serve.names import Target

__all__ = ["Backend", "create_app"]

MAX_BODY_BYTES = 1 << 20
Handler = Callable[[Request], Awaitable[Response]]
PING_S = 10  # an SSE comment this often while the model writes (proxies, idle timeouts)


class Backend(Protocol):
    answering: Answering

    def model_names(self) -> list[str]: ...

    def resolve(self, target: Target, conversation_id: str | None) -> Workspace: ...


def create_app(backend: Backend, keys: KeyCheck) -> Starlette:
    """The ASGI app; `keys` checks each request's bearer key."""

    @_answers_errors
    async def models(request: Request) -> Response:
        _authorise(request, keys)
        data = [_model(name) for name in backend.model_names()]
        return JSONResponse({"object": "list", "data": data})

    @_answers_errors
    async def model(request: Request) -> Response:
        _authorise(request, keys)
        name = str(request.path_params["name"])
        if name not in backend.model_names():
            raise ServeError(f"There is no model {name!r} on this server.", status=404,
                             code="model_not_found", param="model")  # fmt: skip
        return JSONResponse(_model(name))

    @_answers_errors
    async def completions(request: Request) -> Response:
        _authorise(request, keys)
        chat = parse_request(await _json_body(request))
        question = question_of(chat)
        target = parse_model_name(chat.model, chat.workspace)
        workspace = backend.resolve(target, chat.conversation_id)
        stream = backend.answering.start(_loop(), workspace, question, ask_options(chat, target))
        reply = Completion(chat.model, workspace.id)
        if chat.stream:
            from sse_starlette import EventSourceResponse

            return EventSourceResponse(_chunks(stream, reply), ping=PING_S, sep="\n")
        return await _whole(request, stream, reply)

    return Starlette(
        routes=[
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/models/{name:path}", model, methods=["GET"]),
            Route("/v1/chat/completions", completions, methods=["POST"]),
        ],
        exception_handlers={HTTPException: _http_error},
    )


def _answers_errors(handler: Handler) -> Handler:
    """Every failure becomes OpenAI's error body here, so none reaches uvicorn (whose log
    would print the exception's message, which may quote content)."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except Exception as exc:
            status, body = _error_of(exc)
            return JSONResponse(body, status_code=status)

    return wrapped


def _loop() -> Any:
    import asyncio

    return asyncio.get_running_loop()


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "enclave"}


def _authorise(request: Request, keys: KeyCheck) -> None:
    if not keys.allows(request.headers.get("authorization")):
        raise ServeError(
            "Incorrect or missing API key: send the key `enclave serve --new-key` showed, as "
            "'Authorization: Bearer <key>'.",
            status=401, code="invalid_api_key",
        )  # fmt: skip


async def _json_body(request: Request) -> Any:
    body = b""
    async for part in request.stream():
        body += part
        if len(body) > MAX_BODY_BYTES:
            raise ServeError(f"The request is larger than {MAX_BODY_BYTES} bytes.", status=413)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ServeError("The request body is not valid JSON.") from None


async def _whole(request: Request, stream: AnswerStream, reply: Completion) -> Response:
    """Wait for the answer (cancelling it if the client goes away) and send it at once."""
    import asyncio

    answer: ChatAnswer | None = None
    try:
        while answer is None:
            waiting = asyncio.ensure_future(stream.next())
            while not waiting.done():
                await asyncio.wait({waiting}, timeout=0.5)
                if not waiting.done() and await request.is_disconnected():
                    stream.cancel.cancel()
            event = waiting.result()
            if event is None:
                raise RuntimeError("the answer ended without its final event")
            if isinstance(event, ChatAnswer):
                answer = event
    except asyncio.CancelledError:
        stream.cancel.cancel()
        raise
    return JSONResponse(reply.whole(answer))


async def _chunks(stream: AnswerStream, reply: Completion) -> AsyncIterator[str]:
    """The SSE data lines: the role, the evidence as soon as it is chosen, the checked answer
    when the model has finished, the last chunk with the `enclave` field, then [DONE]. A client
    that disconnects closes this generator: its answer is cancelled."""
    shown: Sequence[EvidenceQuote] = []
    try:
        yield _data(reply.chunk({"role": "assistant", "content": ""}))
        while (event := await stream.next()) is not None:
            if isinstance(event, EvidenceFound):
                shown = event.evidence
                if shown:
                    yield _data(reply.chunk({"content": evidence_text(shown)}))
            elif isinstance(event, ChatAnswer):
                rest = rest_of_answer(event, shown)
                if rest:
                    yield _data(reply.chunk({"content": rest}))
                yield _data(reply.last_chunk(event))
        yield "[DONE]"
    except Exception as exc:  # after the 200 went out: OpenAI's error event, then the end
        yield _data(_error_of(exc)[1])
        yield "[DONE]"
    finally:
        stream.cancel.cancel()  # a no-op when the answer is complete


def _data(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _error_of(exc: BaseException) -> tuple[int, dict[str, Any]]:
    if isinstance(exc, ServeError):
        return exc.status, exc.body()
    if is_user_error(exc):
        return 400, error_body(user_message(exc), "invalid_request_error")
    return 500, error_body(internal_error(exc), "server_error")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = (
            f"There is no {request.url.path} here: the API is /v1/models and /v1/chat/completions."
        )
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}."
    else:
        message = str(exc.detail)
    return JSONResponse(error_body(message, "invalid_request_error"), status_code=exc.status_code)
