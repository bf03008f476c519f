"""Questions being answered for API clients: each on its own thread, its events handed to the
event loop, cancellable, and admitted only while fewer than `max_pending` are under way.

Threads: `ChatService.ask` runs on one `serve-answer` thread per request (retrieval, evidence,
the fact check); its generation is queued to the model's one inference thread (models.engine:
one long-lived thread per loaded model, first come first served), so requests queue per model
and each request's tokens arrive on its own queue: answers never mix. The event loop only
awaits `AnswerStream.next()`. A client that goes away cancels its stream's token; the model
stops between two tokens (or before it starts, while queued) and the stopped answer is stored.

A workspace's index is held while a request of it is under way and let go when none is, so an
idle server never keeps an `enclave ingest` out of a workspace.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from app.chat.types import ChatAnswer, EvidenceFound
from app.serve.errors import ServeError
from models.types import CancelToken

if TYPE_CHECKING:
    from app.chat.types import AskOptions, ChatEvent
    from app.library.workspaces import Workspace

__all__ = ["AnswerStream", "Answering", "AskFn"]

AskFn = Callable[["Workspace", str, "AskOptions", CancelToken], Iterator["ChatEvent"]]
Shown = EvidenceFound | ChatAnswer
_END = object()


class AnswerStream:
    """One question's events (EvidenceFound, then the ChatAnswer) for the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.cancel = CancelToken()
        self._loop = loop
        self._queue: asyncio.Queue[object] = asyncio.Queue()

    def put(self, item: object) -> None:
        """Hand an event (or an exception, or the end) to the loop. Any thread."""
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    async def next(self) -> Shown | None:
        """The next event; None after the last; raises what the answer raised."""
        item = await self._queue.get()
        if item is _END:
            return None
        if isinstance(item, BaseException):
            raise item
        assert isinstance(item, EvidenceFound | ChatAnswer)
        return item


class Answering:
    """Starts answers on their own threads and keeps count of them."""

    def __init__(
        self, ask: AskFn, release: Callable[[str], None], *, max_pending: int = 16
    ) -> None:
        """`ask`: ChatService.ask with a cancel token; `release(workspace_id)`: let the
        workspace's index go (called when its last request ends)."""
        self._ask = ask
        self._release = release
        self._max = max(1, max_pending)
        self._lock = threading.Lock()
        self._running: dict[AnswerStream, threading.Thread] = {}
        self._per_workspace: dict[str, int] = {}

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._running)

    def start(
        self,
        loop: asyncio.AbstractEventLoop,
        workspace: Workspace,
        question: str,
        options: AskOptions,
    ) -> AnswerStream:
        """Begin answering; ServeError (429) when `max_pending` answers are under way."""
        stream = AnswerStream(loop)
        thread = threading.Thread(
            target=self._work, args=(stream, workspace, question, options),
            name="serve-answer", daemon=True,
        )  # fmt: skip
        with self._lock:
            if len(self._running) >= self._max:
                raise ServeError(
                    f"Enclave is already answering {self._max} questions; try again shortly.",
                    status=429, kind="rate_limit_error", code="server_busy",
                )  # fmt: skip
            self._running[stream] = thread
            self._per_workspace[workspace.id] = self._per_workspace.get(workspace.id, 0) + 1
        thread.start()
        return stream

    def _work(
        self, stream: AnswerStream, workspace: Workspace, question: str, options: AskOptions
    ) -> None:
        """On the answer's own thread: run the ask, hand over what the client sees."""
        try:
            for event in self._ask(workspace, question, options, stream.cancel):
                if isinstance(event, EvidenceFound | ChatAnswer):
                    stream.put(event)
        except BaseException as exc:
            stream.put(exc)
        finally:
            self._finish(stream, workspace.id)
            stream.put(_END)

    def _finish(self, stream: AnswerStream, workspace_id: str) -> None:
        with self._lock:
            self._running.pop(stream, None)
            left = self._per_workspace.get(workspace_id, 1) - 1
            if left > 0:
                self._per_workspace[workspace_id] = left
                return
            self._per_workspace.pop(workspace_id, None)
            # Under the lock: a new request of this workspace waits until the index is let go.
            with contextlib.suppress(Exception):  # best effort: the next request reopens it
                self._release(workspace_id)

    def cancel_all(self, timeout: float = 10.0) -> None:
        """Stop every answer under way and wait for their threads (shutting down)."""
        with self._lock:
            running = list(self._running.items())
        for stream, _ in running:
            stream.cancel.cancel()
        for _, thread in running:
            thread.join(timeout)
