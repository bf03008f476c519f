"""ScriptedEngine (the fake other layers test with), llama.cpp log parsing, import hygiene."""

from __future__ import annotations

import subprocess
import sys

from models.engine import ChatEngine
from models.fake import ScriptedEngine
from models.llama_log import LEVEL_ERROR, LEVEL_WARN, explain
from models.types import CancelToken, GenerationOptions, Message

OPTS = GenerationOptions(max_tokens=50)


def _run(engine: ChatEngine, cancel_after: int | None = None, **opts: object):
    cancel = CancelToken()
    pieces: list[str] = []
    stats = None
    options = GenerationOptions(**{**OPTS.__dict__, **opts})  # type: ignore[arg-type]
    for event in engine.generate([Message("user", "hi")], options, cancel):
        if event.done:
            stats = event.stats
        else:
            pieces.append(event.text)
            if cancel_after is not None and len(pieces) >= cancel_after:
                cancel.cancel()
    assert stats is not None
    return pieces, stats


def test_scripted_engine_streams_word_by_word() -> None:
    engine: ChatEngine = ScriptedEngine(["The answer is 42.", "Second."])
    pieces, stats = _run(engine)
    assert pieces == ["The", " answer", " is", " 42."]
    assert (stats.finish_reason, stats.completion_tokens) == ("stop", 4)
    assert _run(engine)[0] == ["Second."]
    assert _run(engine)[0] == ["Second."]  # the last reply repeats


def test_scripted_engine_cancel_length_and_stop() -> None:
    engine = ScriptedEngine(["one two three four five six"])
    pieces, stats = _run(engine, cancel_after=2)
    assert pieces == ["one", " two"] and stats.finish_reason == "cancelled"
    pieces, stats = _run(engine, max_tokens=3)
    assert len(pieces) == 3 and stats.finish_reason == "length"
    pieces, stats = _run(engine, stop=(" four",))
    assert "".join(pieces) == "one two three" and stats.finish_reason == "stop"


def test_scripted_engine_reply_function_and_calls() -> None:
    engine = ScriptedEngine(lambda msgs: f"You said {msgs[-1].content}")
    assert "".join(_run(engine)[0]) == "You said hi"
    assert engine.calls == [[Message("user", "hi")]]
    engine.close()
    assert engine.closed


def test_explain_prefers_llama_cpp_reason_over_the_generic_failure() -> None:
    lines = [
        (LEVEL_WARN, "llama_model_loader: some warning\n"),
        (
            LEVEL_ERROR,
            "llama_model_load: error loading model: tensor 'blk.2.ffn_down.weight' data is not "
            "within the file bounds, model is corrupted or incomplete\n",
        ),
        (LEVEL_ERROR, "llama_model_load_from_file_impl: failed to load model\n"),
    ]
    assert explain(lines) == (
        "tensor 'blk.2.ffn_down.weight' data is not within the file bounds, "
        "model is corrupted or incomplete"
    )
    magic = [
        (LEVEL_ERROR, "gguf_init_from_reader: invalid magic characters: 'hell', expected 'GGUF'\n")
    ]
    assert explain(magic) == "invalid magic characters: 'hell', expected 'GGUF'"
    assert explain([]) == ""


def test_importing_the_models_layer_does_no_heavy_work() -> None:
    code = (
        "import sys, models.engine, models.catalog, models.hardware, models.gguf, "
        "models.chat_format, models.llama_log, models.fake, models.embedded\n"
        "heavy = [m for m in ('llama_cpp', 'jinja2', 'psutil', 'numpy') if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
