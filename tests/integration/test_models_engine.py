"""LlamaEngine with the real SmolLM2-135M GGUF through llama.cpp (no fakes).

One engine is loaded per session; generations are kept short. Speed and cancel latency are
measured in bench/bench_engine.py, not asserted here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.chat_format import TextAssembler
from models.engine import ChatEngine, LlamaEngine
from models.errors import ContextOverflowError, EngineClosedError, ModelFileError, ModelLoadError
from models.gguf import copy_with_metadata, read_gguf_info
from models.hardware import physical_core_count
from models.types import CancelToken, GenerationOptions, GenerationStats, Message, StreamEvent

pytestmark = pytest.mark.slow

GREEDY = GenerationOptions(max_tokens=24, temperature=0.0)


@pytest.fixture(scope="session")
def engine(smollm2_path: Path) -> Iterator[LlamaEngine]:
    info = read_gguf_info(smollm2_path)
    eng = LlamaEngine(
        smollm2_path, chat_format="gguf-template", chat_template=info.chat_template, n_ctx=4096
    )
    eng.wait_ready()
    yield eng
    eng.close()


def collect(
    events: Iterator[StreamEvent], on_text: object = None
) -> tuple[list[str], GenerationStats, list[float]]:
    pieces: list[str] = []
    times: list[float] = []
    stats = None
    for event in events:
        times.append(time.perf_counter())
        if event.done:
            stats = event.stats
        else:
            pieces.append(event.text)
            if callable(on_text):
                on_text(len(pieces))
    assert stats is not None, "the stream must end with a stats event"
    return pieces, stats, times


def long_document(words: int) -> str:
    return " ".join(f"Clause {i} of the agreement concerns the parties." for i in range(words // 8))


def test_engine_properties(engine: LlamaEngine, smollm2_path: Path) -> None:
    assert engine.device == "CPU"
    assert engine.n_threads == physical_core_count()
    assert engine.n_ctx == 4096
    assert engine.model_path == smollm2_path
    assert engine.chat_format == "gguf-template"
    assert engine.count_tokens("Hello world") >= 2
    checked: ChatEngine = engine  # satisfies the protocol the app codes against
    assert checked.device == "CPU"


def test_streams_tokens_before_the_end(engine: LlamaEngine) -> None:
    msgs = [Message("user", "Name three colours.")]
    pieces, stats, times = collect(engine.generate(msgs, GREEDY))
    assert len(pieces) >= 3 and "".join(pieces).strip()
    assert times[0] < times[-1]  # the first text event came before the final one
    assert stats.finish_reason in ("stop", "length")
    assert 0 < stats.completion_tokens <= GREEDY.max_tokens
    assert stats.prompt_tokens > 5 and 0 < stats.seconds_to_first_token <= stats.seconds_total


def test_second_turn_reuses_the_kv_prefix(engine: LlamaEngine) -> None:
    first = [Message("system", "You answer briefly."), Message("user", "What is a contract?")]
    pieces, stats1, _ = collect(engine.generate(first, GREEDY))
    follow = [*first, Message("assistant", "".join(pieces)), Message("user", "Give an example.")]
    _, stats2, _ = collect(engine.generate(follow, GREEDY))
    assert stats2.prompt_tokens > stats1.prompt_tokens
    # everything of the first prompt is kept; only the answer and the new question are new
    assert stats2.reused_prompt_tokens >= stats1.prompt_tokens - 1
    assert stats2.reused_prompt_tokens < stats2.prompt_tokens


def test_same_seed_same_answer_after_other_requests(engine: LlamaEngine) -> None:
    msgs = [Message("user", "Say something about the sea.")]
    opts = GenerationOptions(max_tokens=16, temperature=0.8, seed=7)
    a = "".join(collect(engine.generate(msgs, opts))[0])
    collect(engine.generate([Message("user", "Unrelated question?")], GREEDY))
    b = "".join(collect(engine.generate(msgs, opts))[0])
    assert a == b


def test_cancel_mid_generation(engine: LlamaEngine) -> None:
    cancel = CancelToken()
    opts = GenerationOptions(max_tokens=400, temperature=0.0)
    msgs = [Message("user", "Write a long story about a lighthouse keeper.")]

    def stop_after_five(n: int) -> None:
        if n == 5:
            cancel.cancel()

    pieces, stats, _ = collect(engine.generate(msgs, opts, cancel), stop_after_five)
    assert stats.finish_reason == "cancelled"
    assert 5 <= stats.completion_tokens < 400 and len(pieces) < 400
    # the engine is still usable afterwards
    assert collect(engine.generate(msgs, GREEDY))[1].finish_reason in ("stop", "length")


def test_cancel_during_a_long_prompt_evaluation(engine: LlamaEngine) -> None:
    cancel = CancelToken()
    msgs = [Message("user", long_document(2400) + "\nSummarise.")]
    started = threading.Event()

    def cancel_soon() -> None:
        started.wait()
        time.sleep(0.3)
        cancel.cancel()

    threading.Thread(target=cancel_soon, daemon=True).start()

    def events() -> Iterator[StreamEvent]:
        started.set()
        yield from engine.generate(msgs, GREEDY, cancel)

    pieces, stats, _ = collect(events())
    assert stats.finish_reason == "cancelled"
    assert stats.prompt_tokens > 1500
    assert stats.completion_tokens == 0 and pieces == []  # stopped before the first token
    assert collect(engine.generate([Message("user", "Hi")], GREEDY))[1].finish_reason != "error"


def test_abandoning_the_iterator_stops_the_work(engine: LlamaEngine) -> None:
    stream = engine.generate([Message("user", "Count to one hundred.")], GREEDY)
    assert next(stream).text is not None
    stream.close()  # e.g. the UI dropped the answer
    _, stats, _ = collect(engine.generate([Message("user", "Hi")], GREEDY))
    assert stats.finish_reason in ("stop", "length")


def test_long_conversation_is_trimmed_and_too_long_message_refused(smollm2_path: Path) -> None:
    small = LlamaEngine(smollm2_path, chat_format="chatml", n_ctx=512)
    try:
        small.wait_ready()
        turn = long_document(80)
        convo = [Message("system", "Be brief.")]
        for i in range(6):
            convo += [Message("user", f"{i}: {turn}"), Message("assistant", "Noted.")]
        convo.append(Message("user", "What was clause 3 about?"))
        _, stats, _ = collect(small.generate(convo, GREEDY))
        assert stats.trimmed_messages >= 2 and stats.prompt_tokens <= 512 - GREEDY.max_tokens
        assert stats.finish_reason in ("stop", "length")
        with pytest.raises(ContextOverflowError, match="context holds 512"):
            collect(small.generate([Message("user", long_document(800))], GREEDY))
        with pytest.raises(ContextOverflowError):
            collect(small.complete_prompt(long_document(800), GREEDY))
    finally:
        small.close()


def test_complete_prompt_raw(engine: LlamaEngine) -> None:
    prompt = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
    pieces, stats, _ = collect(engine.complete_prompt(prompt, GREEDY))
    assert "".join(pieces).strip() and stats.completion_tokens > 0


def test_multibyte_utf8_split_across_tokens_is_joined(engine: LlamaEngine) -> None:
    text = "Café ☕, 日本語, emoji 🧑‍⚕️ ok"
    raw = engine.token_pieces(text)
    assert any(_incomplete_utf8(p) for p in raw), "expected byte-level tokens in this text"
    assembler = TextAssembler()
    out = "".join(assembler.push(p)[0] for p in raw) + assembler.flush()
    assert out == text


def _incomplete_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def test_closed_engine_refuses_work(smollm2_path: Path) -> None:
    eng = LlamaEngine(smollm2_path, chat_format="chatml", n_ctx=512, n_threads=1)
    eng.wait_ready()
    assert eng.n_threads == 1
    eng.close()
    eng.close()  # idempotent
    with pytest.raises(EngineClosedError):
        collect(eng.generate([Message("user", "Hi")], GREEDY))


def test_file_problems_are_reported_in_words(smollm2_path: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(smollm2_path.read_bytes()[:5_000_000])
    with pytest.raises(ModelFileError, match="incomplete"):
        LlamaEngine(cut, chat_format="chatml")
    wrong = tmp_path / "wrong-layers.gguf"
    copy_with_metadata(smollm2_path, wrong, update={"llama.block_count": 31})
    eng = LlamaEngine(wrong, chat_format="chatml", n_ctx=512)
    with pytest.raises(ModelLoadError) as err:
        eng.wait_ready()
    assert "blk.30" in str(err.value) and "not found" in str(err.value)
    assert "Failed to load model" not in str(err.value)
