"""File names are shown safely: nothing in a name can reorder, hide or overwrite what is shown
(issue 12). display_name() is what the CLI uses and what the window is to use."""

from __future__ import annotations

import os

import pytest

from app.library.names import display_name, display_path


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("invoice\u202efdp.exe", "invoice\\u202efdp.exe"),  # RIGHT-TO-LEFT OVERRIDE
        ("a\u202ab\u202bc\u202cd\u202de.pdf", "a\\u202ab\\u202bc\\u202cd\\u202de.pdf"),
        ("x\u2066y\u2067z\u2068w\u2069.txt", "x\\u2066y\\u2067z\\u2068w\\u2069.txt"),  # isolates
        ("mark\u200e\u200f\u061c.txt", "mark\\u200e\\u200f\\u061c.txt"),
        ("bell\x07\x1b[2J\r\n\t.txt", "bell\\x07\\x1b[2J\\x0d\\x0a\\x09.txt"),  # C0 controls
        ("del\x7f c1\x85\x9b.txt", "del\\x7f c1\\x85\\x9b.txt"),  # DEL and C1 controls
        ("zero\u200bwidth\ufeff.txt", "zero\\u200bwidth\\ufeff.txt"),
        ("line\u2028para\u2029.txt", "line\\u2028para\\u2029.txt"),
        ("tag\U000e0041.txt", "tag\\U000e0041.txt"),
        (os.fsdecode(b"caf\xe9.txt"), "caf\\xe9.txt"),  # a byte that is not UTF-8
    ],
)
def test_characters_that_could_mislead_are_escaped(name: str, shown: str) -> None:
    assert display_name(name) == shown
    assert display_name(name).isprintable() and display_name(name).isascii()


@pytest.mark.parametrize(
    "name",
    [
        "Zoë Müller – Vertrag (final).pdf",
        "ADUROBIOTECH,INC_06_02_2020-EX-10.7-CONSULTING AGREEMENT.pdf",
        "matter, #1 & co.txt",
        "договор.docx",
        "שלום.txt",
        "報告書.pdf",
        "notes 😀.md",
        "family\U0001f468\u200d\U0001f469.txt",  # a joiner inside an emoji is kept
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.txt",  # Persian, with a ZWNJ
    ],
)
def test_ordinary_names_in_any_script_are_unchanged(name: str) -> None:
    assert display_name(name) == name


def test_the_extension_a_person_sees_is_the_real_one() -> None:
    spoof = "photo\u202egnp.exe"  # looks like "photoexe.png" where bidi is honoured
    shown = display_name(spoof)
    assert shown.endswith(".exe") and "\u202e" not in shown
    assert display_path(f"/home/ann/{spoof}") == f"/home/ann/{shown}"
