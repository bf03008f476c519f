"""The API's request/response mapping (app.serve): model names, request validation, the content
a person reads, and OpenAI's object shapes (validated with the official client's own types).
Fast: no model, no index; the real server is tests/integration/test_serve_openai.py."""

from __future__ import annotations

from typing import Any

import pytest

from app.chat.answer import EvidenceQuote
from app.chat.types import ChatAnswer
from app.frontier.keys import ApiKey
from app.routing.router import Route
from app.serve.api_key import KeyCheck, make_key
from app.serve.errors import ServeError
from app.serve.mapping import (
    Completion,
    ask_options,
    evidence_text,
    full_content,
    parse_request,
    question_of,
    rest_of_answer,
)
from app.serve.names import Target, model_names, parse_model_name
from models.types import GenerationStats
from rag.types import Citation

QUOTE = "Governing Law. This Agreement is governed by the laws of the State of Delaware."


def _quote(n: int = 1, quote: str = QUOTE, document: str = "msa.txt") -> EvidenceQuote:
    return EvidenceQuote(n, document, f"/docs/{document}", 1, 11, quote, 434, 434 + len(quote),
                         "c1", 0.8)  # fmt: skip


def _answer(text: str, evidence: list[EvidenceQuote], **kw: Any) -> ChatAnswer:
    stats = GenerationStats(275, 17, 0, 0.1, 0.5, "length")
    cites = [
        Citation(q.n, q.document, q.path, q.page, q.quote, q.start, q.end, q.chunk_id, True)
        for q in evidence
    ]
    not_found, cancelled = kw.pop("not_found", False), kw.pop("cancelled", False)
    route = Route("smollm2")
    return ChatAnswer(
        "conv1", "msg1", "Which law?", text, cites, [], route, "CPU", stats, not_found,
        cancelled, 1.0, evidence=evidence, **kw,
    )  # fmt: skip


# -- model names ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        ("enclave:acme", None, Target("acme", None)),
        ("enclave:acme:smollm2-135m-instruct", None, Target("acme", "smollm2-135m-instruct")),
        ("Enclave", "acme", Target("acme", None)),
        ("enclave", None, Target(None, None)),
        ("enclave::m1", "acme", Target("acme", "m1")),
        ("enclave:ACME", "acme", Target("ACME", None)),
        ("enclave:acme:org/model:q4", None, Target("acme", "org/model:q4")),
    ],
)
def test_model_names_name_a_workspace_and_a_model(
    name: str, body: str | None, expected: Target
) -> None:
    assert parse_model_name(name, body) == expected


def test_other_model_names_and_two_workspaces_are_refused() -> None:
    with pytest.raises(ServeError) as unknown:
        parse_model_name("gpt-4o")
    assert unknown.value.status == 404 and unknown.value.code == "model_not_found"
    with pytest.raises(ServeError, match="name one"):
        parse_model_name("enclave:acme", "other")


def test_models_listed_are_workspaces_times_local_models() -> None:
    assert model_names(["acme", "ward-7"], ["m1", "m2"]) == [
        "enclave:acme", "enclave:acme:m1", "enclave:acme:m2",
        "enclave:ward-7", "enclave:ward-7:m1", "enclave:ward-7:m2",
    ]  # fmt: skip


# -- requests ---------------------------------------------------------------------------------
def _body(**kw: Any) -> dict[str, Any]:
    return {"model": "enclave:acme", "messages": [{"role": "user", "content": "Which law?"}], **kw}


def test_the_last_user_message_is_the_question() -> None:
    body = _body(messages=[
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi."},
        {"role": "user", "content": [
            {"type": "text", "text": "Which law"}, {"type": "text", "text": "governs?"},
        ]},
    ])  # fmt: skip
    assert question_of(parse_request(body)) == "Which law\ngoverns?"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([], "JSON object"),
        ({"model": "enclave:acme"}, "'messages'"),
        (_body(messages=[]), "'messages'"),
        (_body(messages=[{"role": "wizard", "content": "x"}]), "'messages.0.role'"),
        (_body(n=2), "one answer per request"),
        (_body(tools=[{"type": "function"}]), "does not call tools"),
    ],
)
def test_bad_requests_are_one_sentence_naming_the_field(body: Any, words: str) -> None:
    with pytest.raises(ServeError) as refused:
        parse_request(body)
    assert words in str(refused.value)
    assert refused.value.status == 400
    assert "pirate" not in str(refused.value)


@pytest.mark.parametrize(
    ("messages", "words"),
    [
        ([{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}],
         "last message"),
        ([{"role": "user", "content": "   "}], "is empty"),
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}], "text questions"),
    ],
)  # fmt: skip
def test_questions_that_cannot_be_asked(messages: list[dict[str, Any]], words: str) -> None:
    with pytest.raises(ServeError, match=words):
        question_of(parse_request(_body(messages=messages)))


def test_enclave_fields_become_ask_options() -> None:
    request = parse_request(_body(
        conversation_id="c1", documents=["msa.txt", " "], reasoning_effort="low",
        temperature=1.5, max_tokens=10, stream_options={"include_usage": True},
    ))  # fmt: skip
    options = ask_options(request, Target("acme", "m1"))
    assert options.conversation_id == "c1"
    assert options.documents == ("msa.txt",)
    assert options.choice == "quick"
    assert options.model_id == "m1"
    assert ask_options(parse_request(_body(reasoning_effort="high")), Target()).choice == (
        "think_harder"
    )
    assert ask_options(parse_request(_body()), Target()).choice == "auto"


# -- the content a person reads ---------------------------------------------------------------
def test_an_evidence_only_answer_is_its_evidence_block() -> None:
    ev = [_quote()]
    answer = _answer(f"\u201c{QUOTE}\u201d [1]", ev, evidence_only=True)
    block = evidence_text(ev)
    assert block == f'From your documents:\n[1] "{QUOTE}"\n    msa.txt, line 11'
    assert rest_of_answer(answer, ev) == ""
    assert full_content(answer) == block


def test_checked_sentences_follow_the_evidence() -> None:
    ev = [_quote()]
    answer = _answer("The agreement is governed by Delaware law [1].", ev)
    assert rest_of_answer(answer, ev) == "\n\nThe agreement is governed by Delaware law [1]."
    assert full_content(answer) == evidence_text(ev) + rest_of_answer(answer, ev)


def test_not_found_and_several_answers_say_their_own_words() -> None:
    nothing = _answer("Not found in your documents.", [], not_found=True)
    assert full_content(nothing) == "Not found in your documents."
    assert rest_of_answer(nothing, []) == "Not found in your documents."
    several = [_quote(1, "Delaware law governs.", "a.txt"), _quote(2, "Ohio law governs.", "b.txt")]
    text = "Your documents answer this differently:\n- a.txt: \u201cDelaware law governs.\u201d [1]"
    answer = _answer(text, several, evidence_only=True)
    shown_first = [_quote()]  # the stream showed the best evidence before the answer came
    assert rest_of_answer(answer, shown_first) == "\n\n" + text
    assert full_content(answer).endswith(text)


def test_the_disguised_characters_of_a_file_name_are_shown_escaped() -> None:
    block = evidence_text([_quote(document="contract\u202etxt.exe")])
    assert "\u202e" not in block


# -- OpenAI's objects -------------------------------------------------------------------------
def test_objects_validate_as_the_official_clients_types() -> None:
    openai_types = pytest.importorskip("openai.types.chat")
    ev = [_quote()]
    answer = _answer(f"\u201c{QUOTE}\u201d [1]", ev, evidence_only=True)
    reply = Completion("enclave:acme", "acme")
    whole = openai_types.ChatCompletion.model_validate(reply.whole(answer))
    assert whole.choices[0].message.content == full_content(answer)
    assert whole.choices[0].finish_reason == "stop"  # the checked answer is complete
    assert whole.usage is not None and whole.usage.completion_tokens == 17
    ext = whole.model_extra["enclave"]
    assert ext["evidence"][0]["quote"] == QUOTE and ext["workspace"] == "acme"
    assert ext["citations"][0]["n"] == 1 and ext["not_found"] is False
    first = openai_types.ChatCompletionChunk.model_validate(reply.chunk({"role": "assistant"}))
    last = openai_types.ChatCompletionChunk.model_validate(reply.last_chunk(answer))
    assert first.id == last.id == whole.id
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["enclave"] == ext


# -- the key ----------------------------------------------------------------------------------
def test_the_key_check() -> None:
    key = make_key()
    assert key.startswith("enclave-") and len(key) > 40 and make_key() != key
    check = KeyCheck(ApiKey(key))
    assert check.allows(f"Bearer {key}")
    assert check.allows(f"bearer  {key} ")
    assert not check.allows(None)
    assert not check.allows("")
    assert not check.allows(key)
    assert not check.allows(f"Basic {key}")
    assert not check.allows(f"Bearer {key}x")
    assert not check.allows("Bearer ")
