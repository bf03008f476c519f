"""What the `enclave` command prints when something fails: a user error is its own sentence; a
bug is one line naming the log file, with the traceback in that file and no content anywhere."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app.cli import EXIT_FAILED, main
from app.library.workspaces import WorkspaceRegistry
from app.logfile import LOG_NAME

SECRET = "Mrs Jane Roe, DOB 1950-01-02"  # text that must never reach the screen or the log


@pytest.fixture(autouse=True)
def _fresh_log_handlers() -> object:
    """open_log() adds a file handler per log folder; each test has its own folder."""
    before = {n: list(logging.getLogger(n).handlers) for n in ("app", "models", "rag", "ui")}
    yield None
    for name, handlers in before.items():
        logger = logging.getLogger(name)
        for handler in logger.handlers[:]:
            if handler not in handlers:
                logger.removeHandler(handler)
                handler.close()


def _bug(*_args: object, **_kwargs: object) -> object:
    raise ZeroDivisionError(SECRET)


def test_a_bug_in_a_command_prints_one_line_naming_the_log(
    enclave_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(WorkspaceRegistry, "list", _bug)
    code = main(["workspaces", "list"])
    captured = capsys.readouterr()
    log_file = enclave_home / "logs" / LOG_NAME
    assert code == EXIT_FAILED
    assert captured.err.strip().splitlines() == [
        f"enclave: Enclave hit an internal error; details are in {log_file}."
    ]
    assert SECRET not in captured.err + captured.out and "Traceback" not in captured.err
    logged = log_file.read_text(encoding="utf-8")
    assert "ZeroDivisionError" in logged and "cmd_list" in logged  # where it happened
    assert SECRET not in logged  # never the message: it may quote a document


def test_a_key_error_from_a_bug_is_not_shown_as_a_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def lookup_bug(*_args: object, **_kwargs: object) -> object:
        raise KeyError(SECRET)

    monkeypatch.setattr(WorkspaceRegistry, "list", lookup_bug)
    assert main(["workspaces", "list"]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "internal error" in err and SECRET not in err


def test_a_user_error_is_its_own_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["workspaces", "rename", "No such matter", "Other"]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert err.startswith("enclave: There is no workspace called 'No such matter'")
    assert len(err.strip().splitlines()) == 1 and "internal error" not in err


def test_a_missing_conversation_is_a_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["conversations", "export", "nope", "-o", "x.md"])
    assert code == EXIT_FAILED
    assert capsys.readouterr().err.strip() == "enclave: There is no conversation 'nope'."
