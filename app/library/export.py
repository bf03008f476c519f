"""Export a conversation, with its evidence and citations, to Markdown or to a self-contained
HTML file. Each answer opens with its evidence (the documents' own words, with document and
page or line), then the answer (left out when it is the evidence alone), its notices, and its
sources; the file says it is machine-made. An answer regenerated into several versions is
written in the version chosen in the window (history's `messages`), marked "version 2 of 3".

Pure Python (no Qt): the HTML escapes everything the model or a document wrote, loads nothing
from anywhere (no scripts, no remote images, no external style sheets).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime

from app.library.history import StoredMessage, transcript
from rag.types import Citation

_MARKER_RE = re.compile(r"\[(\d{1,2}(?:\s*,\s*\d{1,2})*)\]")
MACHINE_MADE = (
    "Machine-made by Enclave from your documents: check each answer against its quoted "
    "evidence before relying on it."
)


def _evidence(meta: dict[str, object]) -> list[tuple[int, str, str]]:
    """(n, where, quote) of each stored evidence quote: "doc.txt, line 12" or "doc.pdf, page 3"."""
    out = []
    for item in meta.get("evidence") or []:  # type: ignore[attr-defined]
        if not isinstance(item, dict):
            continue
        line = item.get("line")
        where = f"{item.get('document', '')}, " + (
            f"line {line}" if isinstance(line, int) else f"page {item.get('page', '')}"
        )
        out.append((int(item.get("n", 0)), where, " ".join(str(item.get("quote", "")).split())))
    return out


def _notices(meta: dict[str, object]) -> list[str]:
    notices = meta.get("notices")
    return [str(n) for n in notices] if isinstance(notices, list) else []


def _citation_line(c: Citation) -> str:
    where = f"{c.document}, page {c.page}"
    return f'{where}: "{c.quote}"' if c.verified and c.quote else f"{where} (no verified quote)"


def version_note(answer: StoredMessage) -> str:
    """ "version 2 of 3" for an answer with several versions ("" for one with a single)."""
    return f"version {answer.version} of {answer.versions}" if answer.versions > 1 else ""


def _meta_line(meta: dict[str, object]) -> str:
    route = meta.get("route")
    model = route.get("model_id", "") if isinstance(route, dict) else ""
    parts = [str(model), str(meta.get("device", ""))]
    if meta.get("tokens") is not None:
        parts.append(f"{meta['tokens']} tokens")
    if isinstance(meta.get("seconds"), int | float):
        parts.append(f"{float(meta['seconds']):.1f} s")  # type: ignore[arg-type]
    return " · ".join(p for p in parts if p and p != "none")


def conversation_markdown(
    title: str, workspace: str, messages: Sequence[StoredMessage], now: datetime | None = None
) -> str:
    when = (now or datetime.now()).strftime("%Y-%m-%d %H:%M")
    out = [f"# {title}", "", f"*Workspace: {workspace}. Exported from Enclave on {when}.*", ""]
    out += [f"*{MACHINE_MADE}*", ""]
    for question, answer in transcript(messages):
        out += ["## Question", "", question, ""]
        if answer is None:
            out += ["## Answer", "", "*(not answered)*", ""]
            continue
        note = version_note(answer)
        out += [f"## Answer ({note})" if note else "## Answer", ""]
        evidence = _evidence(answer.meta)
        if evidence:
            out += ["**From your documents**", ""]
            out += [f'> [{n}] "{quote}"  \n> — {where}' for n, where, quote in evidence]
            out.append("")
        if not (evidence and answer.meta.get("evidence_only")):
            out += [answer.content or "*(no answer)*", ""]
        out += [f"*{n}*" for n in _notices(answer.meta)]
        if _notices(answer.meta):
            out.append("")
        if answer.meta.get("cancelled"):
            out += ["*(stopped before the end)*", ""]
        if answer.citations:
            out += ["**Sources**", ""]
            out += [f"- [{c.n}] {_citation_line(c)}" for c in answer.citations]
            out.append("")
        meta = _meta_line(answer.meta)
        if meta:
            out += [f"<sub>{meta}</sub>", ""]
    return "\n".join(out).rstrip() + "\n"


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; line-height: 1.5;
       color: #1d1d1f; background: #fff; padding: 0 1rem; }
@media (prefers-color-scheme: dark) { body { color: #e8e8ea; background: #1e1e20; }
  .q { background: #2a2f3a; } .src, .meta { color: #a0a0a8; } }
.q { background: #eef2fb; padding: .75rem 1rem; border-radius: 8px; white-space: pre-wrap; }
.a { white-space: pre-wrap; margin: .75rem 0; }
.src { font-size: .9em; color: #555; } .meta { font-size: .8em; color: #777; }
blockquote { margin: .25rem 0 .5rem 1.5rem; font-style: italic; }
"""


def _answer_html(text: str) -> str:
    escaped = html.escape(text)

    def sup(match: re.Match[str]) -> str:
        nums = re.findall(r"\d+", match.group(1))
        return "".join(f"<sup><a href='#c-{{k}}-{n}'>[{n}]</a></sup>" for n in nums)

    return _MARKER_RE.sub(sup, escaped)


def conversation_html(
    title: str, workspace: str, messages: Sequence[StoredMessage], now: datetime | None = None
) -> str:
    when = (now or datetime.now()).strftime("%Y-%m-%d %H:%M")
    parts = [
        "<!DOCTYPE html>",
        "<html><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='meta'>Workspace: {html.escape(workspace)}. Exported from Enclave on {when}."
        "</p>",
        f"<p class='meta'><strong>{html.escape(MACHINE_MADE)}</strong></p>",
    ]
    for k, (question, answer) in enumerate(transcript(messages), start=1):
        parts.append(f"<div class='q'>{html.escape(question)}</div>")
        if answer is None:
            parts.append("<p class='a'><em>(not answered)</em></p>")
            continue
        if version_note(answer):
            parts.append(f"<p class='meta'>Answer, {version_note(answer)}</p>")
        evidence = _evidence(answer.meta)
        for n, where, quote in evidence:
            parts.append(
                f"<blockquote id='e-{k}-{n}'>[{n}] {html.escape(quote)}<br>"
                f"<span class='src'>{html.escape(where)}</span></blockquote>"
            )
        if not (evidence and answer.meta.get("evidence_only")):
            body = _answer_html(answer.content).replace("{k}", str(k)) or "<em>(no answer)</em>"
            parts.append(f"<div class='a'>{body}</div>")
        parts += [f"<p class='meta'>{html.escape(n)}</p>" for n in _notices(answer.meta)]
        if answer.meta.get("cancelled"):
            parts.append("<p class='meta'>(stopped before the end)</p>")
        if answer.citations:
            parts.append("<div class='src'><strong>Sources</strong><ol>")
            for c in answer.citations:
                where = f"{html.escape(c.document)}, page {c.page}"
                quote = (
                    f"<blockquote>{html.escape(c.quote)}</blockquote>"
                    if c.verified and c.quote
                    else " <em>(no verified quote)</em>"
                )
                parts.append(f"<li value='{c.n}' id='c-{k}-{c.n}'>{where}{quote}</li>")
            parts.append("</ol></div>")
        meta = _meta_line(answer.meta)
        if meta:
            parts.append(f"<p class='meta'>{html.escape(meta)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
