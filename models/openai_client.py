"""The one module that speaks HTTP to a model server: OpenAI-compatible chat completions.

It covers OpenAI, Azure OpenAI (``api="azure"``: an ``api-key`` header and ``?api-version=``) and
organisations' own gateways. Import-linter forbids every other module in models/, app/, rag/ and
ui/ from importing an HTTP library, so this file is the whole of Enclave's HTTP surface.

What it does not do, on purpose: decide whether a call may happen (app.frontier.gateway and
the policy do), open a hole in the egress guard (app.frontier.gateway wraps `send()` in
`app.privacy.egress.allow()`), redact, or log anything about the content. It never logs the
key, the request or the reply.

Every failure is one of the `FrontierError` subclasses below, never a raw httpx exception, and no
call can hang: there is a connect timeout, a read timeout and an overall deadline.

A fresh HTTP connection is made for each call and closed before `send()` returns, so no pooled
socket outlives the egress allowance. Proxy environment variables and .netrc are ignored
(``trust_env=False``) and redirects are not followed: the bytes go to the approved URL or nowhere.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from models.types import CancelToken, GenerationOptions, Message

ApiFlavour = Literal["openai", "azure"]
TextCallback = Callable[[str], None]


class FrontierError(Exception):
    """A remote call did not produce an answer. `kind` names the outcome for the caller."""

    kind = "error"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Unauthorized(FrontierError):
    """HTTP 401/403: the key is wrong, revoked or lacks access to this model."""

    kind = "unauthorized"


class RateLimited(FrontierError):
    """HTTP 429. `retry_after_s` is the server's Retry-After, when it sent a number."""

    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message, status=429)
        self.retry_after_s = retry_after_s


class TimedOut(FrontierError):
    """No connection, no data or no end of the answer within the time allowed."""

    kind = "timed_out"


class Unreachable(FrontierError):
    """No connection could be made (no network, DNS failure, refused, blocked by the guard)."""

    kind = "unreachable"


class ServerError(FrontierError):
    """Any other non-2xx status (5xx, 400 for a bad request, 404 for a wrong URL...)."""

    kind = "server_error"


class BadResponse(FrontierError):
    """The server answered 2xx with something that is not an OpenAI-compatible completion."""

    kind = "bad_response"


class Cancelled(FrontierError):
    """The caller's cancel token was set while the answer streamed."""

    kind = "cancelled"


@dataclass(frozen=True)
class BaseUrl:
    scheme: str
    host: str
    port: int
    path: str


def parse_base_url(url: str) -> BaseUrl:
    """Split an endpoint URL. ValueError for anything but a plain http(s) URL, no credentials."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise ValueError("a base URL must not carry credentials")
    if parts.query or parts.fragment:
        raise ValueError("a base URL must not have a query or a fragment")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ValueError(f"{url!r} has an invalid port") from exc
    return BaseUrl(parts.scheme, parts.hostname.lower(), port, parts.path.rstrip("/"))


@dataclass(frozen=True)
class Completion:
    """The end of one call. Byte counts are HTTP bodies as they crossed the wire."""

    text: str
    finish_reason: str
    bytes_out: int
    bytes_in: int
    status: int


def request_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class OpenAICompatibleClient:
    """Chat completions against one endpoint. Synchronous; runs on the caller's thread.

    `api_key` is held only in this object's memory (and its `repr` never shows it).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        api: ApiFlavour = "openai",
        api_version: str | None = None,
        timeout_s: float = 60.0,
        connect_timeout_s: float = 10.0,
        ca_file: str | None = None,
        verify: bool = True,
        read_timeout_s: float | None = None,
    ) -> None:
        """`ca_file`: a PEM file of the CA to trust for this endpoint (an organisation's own
        gateway); default: the system's trusted CAs. `verify=False` turns certificate checks
        off (an administrator's explicit choice for an on-premises server). `timeout_s` is the
        whole answer's deadline; `read_timeout_s` the longest silence between two pieces of
        it (default: `timeout_s`)."""
        self.base = parse_base_url(base_url)
        self.ca_file = ca_file
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api = api
        self.api_version = api_version
        self.timeout_s = timeout_s
        self.connect_timeout_s = min(connect_timeout_s, timeout_s)
        self.read_timeout_s = min(read_timeout_s or timeout_s, timeout_s)
        self.verify = verify
        self._api_key = api_key

    def __repr__(self) -> str:
        return f"OpenAICompatibleClient({self.base_url!r}, model={self.model!r}, api_key=<hidden>)"

    def _tls(self) -> ssl.SSLContext | bool:
        if not self.verify:
            return False
        if self.ca_file is None:
            return True
        try:
            return ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise Unreachable(
                f"The certificate authority file for {self.base.host} ({self.ca_file}) cannot "
                f"be read: {exc.__class__.__name__}. Ask your administrator."
            ) from exc

    @property
    def url(self) -> str:
        url = self.base_url + "/chat/completions"
        if self.api == "azure" and self.api_version:
            url += f"?api-version={self.api_version}"
        return url

    def build_body(
        self,
        messages: Sequence[Message],
        options: GenerationOptions | None = None,
        *,
        stream: bool = True,
    ) -> bytes:
        """The exact request body `send()` will post (the user reviews and consents to this)."""
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": stream,
        }
        if options is not None:
            payload["max_tokens"] = options.max_tokens
            payload["temperature"] = options.temperature
            payload["top_p"] = options.top_p
            if options.seed is not None:
                payload["seed"] = options.seed
            if options.stop:
                payload["stop"] = list(options.stop)
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def _headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream, application/json",
            "Accept-Encoding": "identity",  # so bytes_in counts what crossed the wire
            "User-Agent": "Enclave",
        }
        if self._api_key:
            if self.api == "azure":
                headers["api-key"] = self._api_key
            else:
                headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def send(
        self,
        body: bytes,
        *,
        on_text: TextCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Completion:
        """POST `body` and return the whole answer. `on_text` gets each streamed piece, on this
        thread, as it arrives. Raises only FrontierError subclasses."""
        import httpx

        deadline = time.monotonic() + self.timeout_s
        timeout = httpx.Timeout(
            self.read_timeout_s, connect=self.connect_timeout_s, pool=self.connect_timeout_s
        )
        try:
            with (
                httpx.Client(
                    timeout=timeout, trust_env=False, follow_redirects=False, verify=self._tls()
                ) as http,
                http.stream("POST", self.url, content=body, headers=self._headers()) as response,
            ):
                if response.status_code >= 300:
                    response.read()
                    raise _status_error(response.status_code, response.headers)
                pieces: list[str] = []
                counter = _ByteCounter()
                finish = _read_answer(response, counter, pieces, on_text, cancel, deadline)
                return Completion(
                    text="".join(pieces),
                    finish_reason=finish,
                    bytes_out=len(body),
                    bytes_in=counter.total,
                    status=response.status_code,
                )
        except FrontierError:
            raise
        except httpx.TimeoutException as exc:
            raise TimedOut(
                f"The frontier model did not answer in time ({exc.__class__.__name__})."
            ) from exc
        except httpx.ConnectError as exc:
            raise Unreachable(f"Could not connect to {self.base.host}:{self.base.port}.") from exc
        except (httpx.HTTPError, OSError) as exc:
            raise Unreachable(
                f"The connection to {self.base.host}:{self.base.port} failed "
                f"({exc.__class__.__name__})."
            ) from exc


class _ByteCounter:
    def __init__(self) -> None:
        self.total = 0

    def wrap(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.total += len(chunk)
            yield chunk


def _status_error(status: int, headers: Any) -> FrontierError:
    if status in (401, 403):
        return Unauthorized(
            f"The frontier model refused the API key (HTTP {status}).", status=status
        )
    if status == 429:
        retry: float | None = None
        try:
            retry = float(headers.get("retry-after", ""))
        except ValueError:
            retry = None
        return RateLimited(
            "The frontier model is rate limiting requests (HTTP 429).", retry_after_s=retry
        )
    if 300 <= status < 400:
        return ServerError(
            f"The endpoint answered with a redirect (HTTP {status}); Enclave does not follow "
            "redirects. Ask your administrator to fix the approved URL.",
            status=status,
        )
    return ServerError(f"The frontier model answered HTTP {status}.", status=status)


def _read_answer(
    response: Any,
    counter: _ByteCounter,
    pieces: list[str],
    on_text: TextCallback | None,
    cancel: CancelToken | None,
    deadline: float,
) -> str:
    """Read an SSE stream (or a plain JSON completion) into `pieces`; return the finish reason."""
    content_type = response.headers.get("content-type", "")
    chunks = counter.wrap(response.iter_bytes())
    if "text/event-stream" not in content_type:
        raw = b"".join(_until(chunks, deadline, cancel))
        data = _json(raw)
        text, finish = _choice_text(data, key="message")
        pieces.append(text)
        if on_text is not None and text:
            on_text(text)
        return finish
    finish = ""
    buffer = b""
    for chunk in _until(chunks, deadline, cancel):
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            line = line.strip()
            if not line.startswith(b"data:"):
                continue  # comments, event names, keep-alives
            data_part = line[5:].strip()
            if data_part == b"[DONE]":
                return finish or "stop"
            event = _json(data_part)
            if isinstance(event, dict) and "error" in event:
                raise ServerError("The frontier model reported an error in the stream.")
            text, reason = _choice_text(event, key="delta")
            if reason:
                finish = reason
            if text:
                pieces.append(text)
                if on_text is not None:
                    on_text(text)
    if not finish:  # neither [DONE] nor a finish reason: the server stopped mid-answer
        raise ServerError("The answer stopped before its end (the connection closed mid-stream).")
    return finish


def _until(chunks: Iterator[bytes], deadline: float, cancel: CancelToken | None) -> Iterator[bytes]:
    for chunk in chunks:
        if cancel is not None and cancel.cancelled:
            raise Cancelled("Cancelled.")
        if time.monotonic() > deadline:
            raise TimedOut("The frontier model did not finish its answer in time.")
        yield chunk


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadResponse("The frontier model's answer is not valid JSON.") from exc


def _choice_text(data: Any, *, key: str) -> tuple[str, str]:
    try:
        choices = data["choices"]
        if not choices:  # usage-only chunks at the end of some streams
            return "", ""
        choice = choices[0]
        part = choice.get(key) or {}
        text = part.get("content") or ""
        finish = choice.get("finish_reason") or ""
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise BadResponse("The frontier model's answer is not an OpenAI-style completion.") from exc
    if not isinstance(text, str):
        raise BadResponse("The frontier model's answer has no text.")
    return text, str(finish)
