"""LlamaEngine: one loaded GGUF model, owned by one long-lived inference thread.

llama.cpp contexts are not thread-safe, so the `llama_cpp.Llama` is created, used and freed on the
engine's own thread; `generate()` queues a request there and the caller's thread iterates the
events that come back. Cancelling takes effect between two tokens, and also in the middle of a
long prompt evaluation: ggml's abort callback reads a flag that the waiting caller sets.
KV prefix reuse: the Llama instance lives as long as the engine, and `Llama.generate` keeps the
longest common token prefix of consecutive prompts, so a follow-up turn only evaluates what is new.
"""

from __future__ import annotations

import ctypes
import queue
import random
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from models import llama_log, quiet
from models.chat_format import TextAssembler, get_chat_format
from models.errors import (
    ContextOverflowError,
    EngineClosedError,
    ModelFileError,
    ModelLoadError,
)
from models.gguf import check_gguf_file
from models.hardware import physical_core_count
from models.types import (
    CancelToken,
    FinishReason,
    GenerationOptions,
    GenerationStats,
    Message,
    StreamEvent,
)

if TYPE_CHECKING:
    from models.chat_format import ChatFormat

_POLL_S = 0.02  # how often a waiting caller looks at its cancel token


class ChatEngine(Protocol):
    """What the app needs from a chat model (LlamaEngine, ScriptedEngine, a remote client)."""

    @property
    def device(self) -> str: ...

    @property
    def n_ctx(self) -> int: ...

    def generate(
        self,
        messages: Sequence[Message],
        options: GenerationOptions,
        cancel: CancelToken | None = None,
    ) -> Iterator[StreamEvent]: ...

    def count_tokens(self, text: str) -> int: ...

    def close(self) -> None: ...


@dataclass
class _Job:
    kind: Literal["chat", "prompt", "reset"]
    payload: Sequence[Message] | str
    options: GenerationOptions
    cancel: CancelToken | None
    submitted: float = field(default_factory=time.perf_counter)
    out: queue.SimpleQueue[StreamEvent | BaseException] = field(default_factory=queue.SimpleQueue)
    abandoned: threading.Event = field(default_factory=threading.Event)

    def stopped(self) -> bool:
        return self.abandoned.is_set() or (self.cancel is not None and self.cancel.cancelled)


class LlamaEngine:
    """A local GGUF model on its own inference thread.

    The constructor checks the file (ModelFileError in plain words) and starts loading in the
    background; `wait_ready()` blocks until loaded and raises ModelLoadError with llama.cpp's own
    reason if loading failed.
    """

    def __init__(
        self,
        model_path: Path,
        *,
        chat_format: str,
        chat_template: str | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        seed: int = 0,
    ) -> None:
        self._path = Path(model_path)
        self._info = check_gguf_file(self._path)
        self._format: ChatFormat = get_chat_format(
            chat_format, chat_template, self._info.bos_token, self._info.eos_token
        )
        self._requested_ctx = n_ctx
        self._n_threads = n_threads or physical_core_count()
        self._n_gpu_layers = n_gpu_layers
        self._seed = seed
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._ready = threading.Event()
        self._load_error: BaseException | None = None
        self._lock = threading.Lock()
        self._free_lock = threading.Lock()  # count_tokens vs freeing the model
        self._running: _Job | None = None
        self._closed = False
        self._llama: Any = None
        self._vocab: Any = None
        self._abort = AbortFlag()
        self._device = "CPU"
        self._thread = threading.Thread(
            target=self._main, name=f"llama-engine:{self._path.name}", daemon=True
        )
        self._thread.start()

    # -- public API (any thread) -------------------------------------------------------------
    @property
    def model_path(self) -> Path:
        return self._path

    @property
    def n_threads(self) -> int:
        return self._n_threads

    @property
    def n_ctx(self) -> int:
        return int(self._llama.n_ctx()) if self._llama is not None else self._requested_ctx

    @property
    def device(self) -> str:
        """The device that computes: "CPU", or "CUDA", "Metal", ... when layers are offloaded."""
        return self._device

    @property
    def chat_format(self) -> str:
        return self._format.name

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until the model is loaded; raise ModelLoadError if it could not be."""
        if not self._ready.wait(timeout):
            raise TimeoutError(f"{self._path.name} is still loading after {timeout} s")
        if self._load_error is not None:
            raise self._load_error

    def generate(
        self,
        messages: Sequence[Message],
        options: GenerationOptions,
        cancel: CancelToken | None = None,
    ) -> Iterator[StreamEvent]:
        """Stream the answer to a conversation: text events, then one event with the stats.

        Iterated on the caller's thread. If the conversation is longer than the context, the
        oldest turns are left out (stats.trimmed_messages says how many); if even the last
        message does not fit, ContextOverflowError is raised.
        """
        return self._stream(_Job("chat", list(messages), options, cancel))

    def complete_prompt(
        self, prompt: str, options: GenerationOptions, cancel: CancelToken | None = None
    ) -> Iterator[StreamEvent]:
        """Like generate() for a raw prompt (no chat format; special tokens are parsed)."""
        return self._stream(_Job("prompt", prompt, options, cancel))

    def count_tokens(self, text: str) -> int:
        """Tokens of plain `text` (special tokens not parsed). Safe from any thread: llama.cpp's
        tokenizer only reads the vocabulary, so this does not wait for a running generation."""
        self.wait_ready()
        with self._free_lock:
            self._check_open()
            tokens = self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        return len(tokens)

    def token_pieces(self, text: str) -> list[bytes]:
        """The raw bytes of each token of plain `text` (a token may hold part of a character).
        Safe from any thread, like count_tokens()."""
        self.wait_ready()
        with self._free_lock:
            self._check_open()
            tokens = self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)
            return [token_piece(self._vocab, t) for t in tokens]

    def reset_cache(self) -> None:
        """Forget the KV cache (the next prompt is evaluated from scratch), e.g. when a
        conversation is deleted. Queued behind running requests; returns when done."""
        for _ in self._stream(_Job("reset", "", GenerationOptions(max_tokens=0), None)):
            pass

    def close(self) -> None:
        """Stop any generation, free the model (on its thread) and end the thread. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._running is not None:
                self._abort.set()
        self._jobs.put(None)
        self._thread.join(timeout=30)

    def __enter__(self) -> LlamaEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- caller side -------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise EngineClosedError(f"the engine for {self._path.name} was closed")

    def _stream(self, job: _Job) -> Iterator[StreamEvent]:
        self.wait_ready()
        self._check_open()
        job.submitted = time.perf_counter()
        self._jobs.put(job)
        finished = False
        try:
            while True:
                try:
                    item = job.out.get(timeout=_POLL_S)
                except queue.Empty:
                    if job.stopped():
                        self._abort_if_running(job)
                    continue
                if isinstance(item, BaseException):
                    finished = True
                    raise item
                finished = item.done
                yield item
                if finished:
                    return
        finally:
            if not finished:  # the caller stopped iterating: stop the work too
                job.abandoned.set()
                self._abort_if_running(job)

    def _abort_if_running(self, job: _Job) -> None:
        with self._lock:
            if self._running is job:
                self._abort.set()

    # -- inference thread --------------------------------------------------------------------
    def _main(self) -> None:
        try:
            self._load()
        except Exception as exc:
            if not isinstance(exc, ModelFileError):
                exc = ModelLoadError(f"{self._path.name} could not be loaded: {exc}")
            self._load_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while (job := self._jobs.get()) is not None:
                if self._closed:
                    job.out.put(EngineClosedError(f"the engine for {self._path.name} was closed"))
                    continue
                with self._lock:
                    self._running = job
                    self._abort.clear()
                try:
                    self._run(job)
                except Exception as exc:  # never let one request kill the thread
                    job.out.put(exc)
                finally:
                    with self._lock:
                        self._running = None
                        self._abort.clear()
        finally:
            self._drain()
            with self._free_lock:
                llama, self._llama = self._llama, None
                if llama is not None:
                    llama.close()

    def _drain(self) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                job.out.put(EngineClosedError(f"the engine for {self._path.name} was closed"))

    def _load(self) -> None:
        import llama_cpp

        # verbose=True: with False, llama-cpp-python points fds 1 and 2 at /dev/null for the
        # whole process while it loads, and what other threads print meanwhile is lost
        # (models.quiet); its own prints on this thread are dropped instead
        with llama_log.capture() as lines, quiet.muted_here():
            try:
                self._llama = llama_cpp.Llama(
                    str(self._path),
                    n_ctx=self._requested_ctx,
                    n_threads=self._n_threads,
                    n_threads_batch=self._n_threads,
                    n_gpu_layers=self._n_gpu_layers,
                    seed=self._seed,
                    verbose=True,
                )
                self._llama.verbose = False  # no timing prints after each generation
            except Exception as exc:
                reason = llama_log.explain(lines) or str(exc)
                raise ModelLoadError(
                    f"llama.cpp could not load {self._path.name}: {reason}",
                    tuple(line.rstrip() for _, line in lines),
                ) from None
        self._vocab = llama_cpp.llama_model_get_vocab(self._llama.model)
        self._abort.install(self._llama.ctx)
        if self._n_gpu_layers != 0 and llama_cpp.llama_supports_gpu_offload():
            from models.hardware import detect_hardware

            self._device = detect_hardware().display_backend

    def _tokenize(self, text: str) -> list[int]:
        tokens: list[int] = self._llama.tokenize(text.encode("utf-8"), add_bos=True, special=True)
        bos = self._llama.token_bos()
        if len(tokens) > 1 and tokens[0] == bos and tokens[1] == bos:
            del tokens[0]  # the template wrote BOS and the tokenizer added one too
        return tokens

    def _prepare(self, job: _Job) -> tuple[list[int], int, tuple[str, ...]]:
        """Prompt tokens, how many messages were trimmed, and the stop strings."""
        n_ctx = self.n_ctx
        stops = tuple(job.options.stop)
        if job.kind == "prompt":
            assert isinstance(job.payload, str)
            tokens = self._tokenize(job.payload)
            if len(tokens) >= n_ctx:
                raise _overflow(len(tokens), n_ctx, 1)
            return tokens, 0, stops
        messages = [m for m in job.payload if isinstance(m, Message)]
        reserve = min(max(job.options.max_tokens, 1), max(16, n_ctx // 4))
        trimmed = 0
        while True:
            tokens = self._tokenize(self._format.render(messages))
            if len(tokens) + reserve <= n_ctx:
                return tokens, trimmed, stops + self._format.stop
            dropped = _drop_oldest_turn(messages)
            if not dropped:
                raise _overflow(len(tokens), n_ctx, reserve)
            trimmed += dropped

    def _reusable_prefix(self, tokens: list[int]) -> int:
        """How many prompt tokens Llama.generate will keep from the KV cache (same rule)."""
        llama = self._llama
        cached = llama.input_ids[: llama.n_tokens].tolist()
        prefix = 0
        for a, b in zip(cached, tokens, strict=False):
            if a != b:
                break
            prefix += 1
        if prefix == len(tokens) and prefix > 0:
            exact = len(cached) == len(tokens) and not getattr(llama, "_requires_eval", True)
            return prefix if exact else prefix - 1
        return prefix

    def _run(self, job: _Job) -> None:
        if job.kind == "reset":
            self._llama.reset()
            job.out.put(StreamEvent(stats=_stats(0, 0, 0, 0.0, job, "stop")))
            return
        if job.stopped():
            job.out.put(StreamEvent(stats=_stats(0, 0, 0, 0.0, job, "cancelled")))
            return
        tokens, trimmed, stops = self._prepare(job)
        llama = self._llama
        import llama_cpp

        reused = self._reusable_prefix(tokens)
        opts = job.options
        llama.set_seed(opts.seed if opts.seed is not None else random.randrange(1, 2**31))
        max_new = max(0, min(opts.max_tokens, self.n_ctx - len(tokens)))
        text = TextAssembler(stops)
        finish: FinishReason = "length"
        error = ""
        completion, ttft = 0, 0.0
        self._abort.arm(llama.ctx)
        gen = llama.generate(
            tokens,
            top_k=opts.top_k,
            top_p=opts.top_p,
            temp=opts.temperature,
            repeat_penalty=opts.repeat_penalty,
        )
        try:
            for token in gen if max_new > 0 else ():
                if completion == 0:
                    ttft = time.perf_counter() - job.submitted
                    self._abort.disarm(llama.ctx)
                if job.stopped() or self._closed:
                    finish = "cancelled"
                    break
                if llama_cpp.llama_vocab_is_eog(self._vocab, token):
                    finish = "stop"
                    break
                completion += 1
                piece, hit = text.push(token_piece(self._vocab, token))
                if piece:
                    job.out.put(StreamEvent(text=piece))
                if hit:
                    finish = "stop"
                    break
                if completion >= max_new:
                    break
        except RuntimeError as exc:  # llama_decode failed, or was aborted by cancel or close
            if job.stopped() or self._closed:
                finish = "cancelled"
            else:
                finish, error = "error", f"llama.cpp failed while generating ({exc})"
        finally:
            gen.close()
            self._abort.disarm(llama.ctx)
        if finish != "stop" and (rest := text.flush()):
            job.out.put(StreamEvent(text=rest))
        stats = _stats(len(tokens), completion, reused, ttft, job, finish, trimmed, error)
        job.out.put(StreamEvent(stats=stats))


class AbortFlag:
    """A cancel flag that llama.cpp's compute thread reads between graph nodes.

    ggml calls `abort_callback(data)` after every graph node, hundreds of times per token; a
    Python callback there costs about 4x in generation speed (measured). So the callback is C's
    `strlen` on a 2-byte buffer: b"\\0" -> 0 (go on), b"\\1" -> 1 (abort), read with no Python
    and no GIL. A bool-returning C function and strlen return 0/1 in the same register on the
    x86-64 and arm64 ABIs, and `_native_reader` checks that at run time through ctypes. Where
    that check fails, a Python callback is installed only while a prompt is evaluated (`arm`),
    where its cost is negligible; between tokens the engine checks the cancel token itself.
    """

    def __init__(self) -> None:
        self._buf = ctypes.create_string_buffer(2)
        self._native = _native_reader(self._buf)
        self._py_callback: Any = None
        self.native = self._native is not None

    def set(self) -> None:
        self._buf[0] = b"\x01"

    def clear(self) -> None:
        self._buf[0] = b"\x00"

    def is_set(self) -> bool:
        return self._buf[0] != b"\x00"

    def install(self, ctx: Any) -> None:
        """Install the native reader for good (called once, on the inference thread)."""
        import llama_cpp

        if self._native is not None:
            data = ctypes.cast(self._buf, ctypes.c_void_p)
            llama_cpp.llama_set_abort_callback(ctx, self._native, data)
        else:
            self._py_callback = llama_cpp.ggml_abort_callback(lambda _data: self.is_set())

    def arm(self, ctx: Any) -> None:
        """Before a prompt evaluation (fallback only: the native reader is always on)."""
        if self._py_callback is not None:
            import llama_cpp

            llama_cpp.llama_set_abort_callback(ctx, self._py_callback, None)

    def disarm(self, ctx: Any) -> None:
        if self._py_callback is not None:
            import llama_cpp

            llama_cpp.llama_set_abort_callback(ctx, llama_cpp.ggml_abort_callback(0), None)


def _native_reader(buf: Any) -> Any:
    """libc's strlen as a ggml_abort_callback, if it answers 0/1 correctly here; else None."""
    try:
        import sys

        libc = ctypes.cdll.msvcrt if sys.platform == "win32" else ctypes.CDLL(None)
        address = ctypes.cast(libc.strlen, ctypes.c_void_p).value
        if not address:
            return None
        reader = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p)(address)
        data = ctypes.cast(buf, ctypes.c_void_p)
        buf[0] = b"\x01"
        on = reader(data)
        buf[0] = b"\x00"
        off = reader(data)
        return reader if on is True and off is False else None
    except (OSError, AttributeError, TypeError):
        return None


def token_piece(vocab: Any, token: int) -> bytes:
    """The bytes of one token (special tokens rendered, so stop strings can match them)."""
    import llama_cpp

    size = 64
    while True:
        buf = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_token_to_piece(vocab, token, buf, size, 0, True)
        if n >= 0:
            return buf.raw[:n]
        size = -n


def _drop_oldest_turn(messages: list[Message]) -> int:
    """Remove the oldest user turn (and the answer to it), never a system message nor the last
    message. Returns how many messages were removed."""
    for i, m in enumerate(messages[:-1]):
        if m.role == "system":
            continue
        n = 2 if i + 1 < len(messages) - 1 and messages[i + 1].role == "assistant" else 1
        del messages[i : i + n]
        return n
    return 0


def _overflow(prompt_tokens: int, n_ctx: int, reserve: int) -> ContextOverflowError:
    return ContextOverflowError(
        f"the prompt is {prompt_tokens:,} tokens but this model's context holds {n_ctx:,} "
        f"(with {reserve:,} kept for the answer); shorten the question or use fewer excerpts",
        prompt_tokens,
        n_ctx,
    )


def _stats(
    prompt: int,
    completion: int,
    reused: int,
    ttft: float,
    job: _Job,
    finish: FinishReason,
    trimmed: int = 0,
    error: str = "",
) -> GenerationStats:
    return GenerationStats(
        prompt_tokens=prompt,
        completion_tokens=completion,
        reused_prompt_tokens=reused,
        seconds_to_first_token=ttft,
        seconds_total=time.perf_counter() - job.submitted,
        finish_reason=finish,
        trimmed_messages=trimmed,
        error=error,
    )
