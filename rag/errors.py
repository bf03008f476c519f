"""The documents layer's one user-facing error base. Every message is a sentence for a person."""

from __future__ import annotations


class DocumentError(Exception):
    """A document, an index or the search model cannot be used; str() says why, in words."""
