"""`enclave ask` route overrides and the route in --json, with a fake Enclave (no models)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.chat.prompting import NOT_FOUND_TEXT
from app.chat.service import AskOptions, ChatAnswer, Route, Token
from app.cli import build_parser
from app.cli.chat import cmd_ask, format_route


class FakeChat:
    def __init__(self, answer: ChatAnswer, streamed: list[str]) -> None:
        self.answer = answer
        self.streamed = streamed
        self.options = AskOptions()

    def ask(self, ws: object, question: str, options: AskOptions, **kwargs: Any) -> Any:
        self.options = options
        for piece in self.streamed:
            yield Token(piece)
        yield self.answer


class FakeWorkspaces:
    def get(self, name: str) -> str:
        return name


class FakeEnclave:
    def __init__(self, chat: FakeChat) -> None:
        self.chat = chat
        self.workspaces = FakeWorkspaces()


def answer(text: str, route: Route, not_found: bool = False) -> ChatAnswer:
    return ChatAnswer("c", "m", "q", text, [], [], route, "CPU", None, not_found, False, 1.0)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([], {"choice": "auto", "domain": None, "tier": None, "samples": None}),
        (["--think-harder"], {"choice": "think_harder"}),
        (["--quick"], {"choice": "quick"}),
        (["--domain", "legal", "--tier", "reasoning"], {"domain": "legal", "tier": "reasoning"}),
        (["--think-harder", "--samples", "3"], {"choice": "think_harder", "samples": 3}),
    ],
)
def test_overrides_reach_the_chat_service(flags: list[str], expected: dict[str, Any]) -> None:
    args = build_parser().parse_args(["ask", "Q?", "-w", "ws", "--json", *flags])
    chat = FakeChat(answer("A [1].", Route("m")), [])
    assert cmd_ask(args, FakeEnclave(chat)) == 0  # type: ignore[arg-type]
    for key, value in expected.items():
        assert getattr(chat.options, key) == value


@pytest.mark.parametrize(
    "flags",
    [["--think-harder", "--quick"], ["--tier", "bogus"], ["--domain", "tax"]],
)
def test_bad_overrides_are_refused(flags: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["ask", "Q?", "-w", "ws", *flags])


def test_json_prints_the_route(capsys: pytest.CaptureFixture[str]) -> None:
    route = Route("law", "legal", "verify", 5, reasons=("why",), agreement=0.8, confidence=0.7)
    args = build_parser().parse_args(["ask", "Q?", "-w", "ws", "--json", "--think-harder"])
    cmd_ask(args, FakeEnclave(FakeChat(answer("A.", route), [])))  # type: ignore[arg-type]
    data = json.loads(capsys.readouterr().out)
    assert data["route"]["samples"] == 5 and data["route"]["agreement"] == 0.8
    assert data["route"]["reasons"] == ["why"] and data["model"] == "law"


def test_a_draft_that_is_taken_back_is_never_on_screen(
    capsys: pytest.CaptureFixture[str],
) -> None:
    route = Route("m", abstained=True, confidence=0.1)
    final = answer(NOT_FOUND_TEXT, route, not_found=True)
    final.notices.append("The documents do not clearly support an answer.")
    args = build_parser().parse_args(["ask", "Q?", "-w", "ws"])
    cmd_ask(args, FakeEnclave(FakeChat(final, ["The dose ", "was 40 mg."])))  # type: ignore[arg-type]
    captured = capsys.readouterr()
    assert "40 mg" not in captured.out + captured.err  # the unchecked draft never shows
    assert NOT_FOUND_TEXT in captured.out and "do not clearly support" in captured.out
    assert "route: m" in captured.err


def test_a_streamed_answer_is_not_printed_twice(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["ask", "Q?", "-w", "ws"])
    cmd_ask(args, FakeEnclave(FakeChat(answer("Illinois [1].", Route("m")), ["Illinois [1]."])))  # type: ignore[arg-type]
    assert capsys.readouterr().out.count("Illinois") == 1


def test_format_route() -> None:
    line = format_route(
        answer("A", Route("law", "legal", "verify", 5, agreement=0.6, frontier_offered=True))
    )
    assert line.startswith("route: law, legal, verify, 5 samples, agreement 0.60")
    assert "frontier model" in line
