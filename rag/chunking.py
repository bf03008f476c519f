"""Split a ParsedDocument into Chunks: spans of its text that never cross a page boundary.

Every chunk satisfies `chunk.text == parsed.text[chunk.start:chunk.end]`, starts and ends on a
non-space character, and lies inside one page. Chunks end, by preference, at a paragraph break,
then at the end of a sentence, then at a clause (; or :), a line break, a space, and only when
a page holds a single run of more than `target_chars` characters without any space, mid-word.
A chunk is at least half of `target_chars` long unless its page ends sooner. Consecutive chunks
of a page overlap by up to `overlap_chars`, starting again at a sentence start (or a word start)
inside that overlap. Every non-space character of every page is in at least one chunk.
Ids are deterministic: f"{document_id}:{index}", index counting from 0 across the document.

Size: the default embedder, all-MiniLM-L6-v2, reads at most 256 word pieces and silently
ignores the rest (the words stay searchable by BM25, but not by meaning). Measured with its own
tokenizer on the evaluation documents (bench/bench_extract.py, "chunk sizes"): the four CUAD
contracts run at about 5 characters per word piece, so 1,000-character chunks reach p95 207 /
max 236 word pieces (close to the cut) and 800-character chunks p95 178 / max 201 (none cut);
the OCR'd book behaves alike. Dense text (German maths lecture notes, tables, code) runs at 2-3
characters per word piece and would need chunks under 600 characters, too short for a clause
with its context. 800 characters keeps every chunk of ordinary prose whole for the embedder,
holds a full clause or paragraph for the answering model, and makes citations more precise;
the 120-char (15%) overlap keeps a sentence cut at a boundary whole in one of the two chunks.

Pure Python, no state: safe on any thread.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rag.types import Chunk, ParsedDocument

DEFAULT_TARGET_CHARS = 800
DEFAULT_OVERLAP_CHARS = 120
MIN_TARGET_CHARS = 20

_PARAGRAPH = re.compile(r"\S(?=[ \t\r\f\v]*\n[ \t\r\f\v]*\n)")
_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)")
_CLAUSE = re.compile(r"[;:](?=\s)")
_LINE = re.compile(r"\S(?=[ \t\r\f\v]*\n)")
_SPACE = re.compile(r"\S(?=\s)")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st no nos vs etc inc ltd llc corp co sec secs art arts fig para paras "
    "approx dept est jr sr ch cf al ibid op pp vol e.g i.e u.s u.k".split()
)
_OPENERS = "\"'“‘([¿¡"


def chunk_document(
    document_id: str,
    parsed: ParsedDocument,
    *,
    target_chars: int = DEFAULT_TARGET_CHARS,
    overlap_chars: int = DEFAULT_OVERLAP_CHARS,
) -> list[Chunk]:
    """Chunks of every page of `parsed`, in page order (see the module docstring)."""
    if target_chars < MIN_TARGET_CHARS:
        raise ValueError(f"target_chars must be at least {MIN_TARGET_CHARS}")
    if not 0 <= overlap_chars < target_chars // 2:
        raise ValueError("overlap_chars must be at least 0 and less than half of target_chars")
    text = parsed.text
    chunks: list[Chunk] = []
    for page in parsed.pages:
        lo, hi = max(0, page.start), min(len(text), page.end)
        for start, end in page_spans(text, lo, hi, target_chars, overlap_chars):
            chunks.append(
                Chunk(
                    id=f"{document_id}:{len(chunks)}",
                    document_id=document_id,
                    page=page.number,
                    start=start,
                    end=end,
                    text=text[start:end],
                    ocr=page.ocr,
                )
            )
    return chunks


def page_spans(text: str, lo: int, hi: int, target: int, overlap: int) -> Iterator[tuple[int, int]]:
    """(start, end) spans covering the non-space text of text[lo:hi]."""
    pos = _skip_space(text, lo, hi)
    while pos < hi:
        if hi - pos <= target:
            yield pos, _strip_end(text, pos, hi)
            return
        cut = _best_cut(text, pos, pos + target, pos + target // 2)
        end = _strip_end(text, pos, cut)
        yield pos, end
        if _skip_space(text, end, hi) >= hi:
            return
        restart = end if overlap == 0 else _restart(text, max(pos + 1, end - overlap), end)
        pos = _skip_space(text, restart, hi)


def _skip_space(text: str, i: int, hi: int) -> int:
    while i < hi and text[i].isspace():
        i += 1
    return i


def _strip_end(text: str, lo: int, i: int) -> int:
    while i > lo + 1 and text[i - 1].isspace():
        i -= 1
    return i


def _best_cut(text: str, pos: int, limit: int, floor: int) -> int:
    """Where a chunk starting at `pos` should end: an index in (floor, limit]."""
    search_from = max(pos, floor - 4)
    search_to = min(len(text), limit + 1)  # so that a lookahead can see the char at `limit`
    for pattern in (_PARAGRAPH, _SENTENCE, _CLAUSE, _LINE, _SPACE):
        best = -1
        for match in pattern.finditer(text, search_from, search_to):
            if pattern is _SENTENCE and not _is_sentence_end(text, match.start(), match.end()):
                continue
            best = match.end()
        if floor < best <= limit:
            return best
    return limit


def _is_sentence_end(text: str, dot: int, after: int) -> bool:
    """Whether the punctuation at `dot` ends a sentence: the next word starts with a capital
    letter, a digit or an opening quote, and '.' does not end a known abbreviation or initial."""
    j = _skip_space(text, after, min(len(text), after + 20))
    if j >= len(text):
        return True
    nxt = text[j]
    if not (nxt.isupper() or nxt.isdigit() or nxt in _OPENERS):
        return False
    if text[dot] != ".":
        return True
    k = dot
    while k > 0 and (text[k - 1].isalpha() or text[k - 1] == "."):
        k -= 1
    if k == dot:  # a number: "Section 3. The" ends a sentence, "\n3. The" is a list item
        while k > 0 and text[k - 1].isdigit():
            k -= 1
        while k > 0 and text[k - 1] in " \t":
            k -= 1
        return k > 0 and text[k - 1] != "\n"
    word = text[k:dot].lower()
    return len(word.replace(".", "")) > 1 and word not in _ABBREVIATIONS


def _restart(text: str, lo: int, end: int) -> int:
    """Where the next chunk starts inside the overlap text[lo:end]: the first sentence start,
    else the first word start, else `end`."""
    for match in _SENTENCE.finditer(text, lo, end):
        if _is_sentence_end(text, match.start(), match.end()):
            start = _skip_space(text, match.end(), end)
            if start < end:
                return start
    i = lo
    if not text[i - 1].isspace():  # inside a word: move to the next one
        while i < end and not text[i].isspace():
            i += 1
    start = _skip_space(text, i, end)
    return start if start < end else end
