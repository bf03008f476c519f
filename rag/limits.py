"""Limits on what one file may cost to parse (size, pages, decompressed bytes, time, memory).

The defaults are chosen so that every real document in the evaluation set passes, including a
2,000-page PDF (about 7.3 million characters, about 3 s and under 100 MB in the worker), while a
hostile file (zip bomb, endless page tree, huge text) is stopped with a reason a person understands.
The app's settings (app/settings.py `LimitSettings`) carry the same names and defaults.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParseLimits:
    """Per-file limits; a file over any of them is rejected and the reason names the limit.

    - max_file_mb: size of the file on disk.
    - max_pages: pages of a PDF.
    - max_decompressed_mb: total uncompressed size of the members of a .docx (zip) file.
    - timeout_s: wall-clock time of the parse worker (it is killed after that).
    - memory_mb: address-space limit of the parse worker (POSIX only).
    - max_chars: characters of extracted text.
    - ocr_timeout_s: wall-clock time that OCR of scanned pages and images may add to timeout_s
      (PDFs and images only). The rest of the parse still has timeout_s: the worker counts the
      time outside OCR and stops itself past it.
    """

    max_file_mb: float = 200
    max_pages: int = 5000
    max_decompressed_mb: float = 500
    timeout_s: float = 120
    memory_mb: int = 2048
    max_chars: int = 20_000_000
    ocr_timeout_s: float = 600

    def __post_init__(self) -> None:
        names = ("max_file_mb", "max_pages", "max_decompressed_mb", "timeout_s", "memory_mb")
        for name in (*names, "ocr_timeout_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"ParseLimits.{name} must be positive")
        if self.max_chars <= 0:
            raise ValueError("ParseLimits.max_chars must be positive")

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def max_decompressed_bytes(self) -> int:
        return int(self.max_decompressed_mb * 1024 * 1024)

    def to_dict(self) -> dict[str, float | int]:
        return {
            "max_file_mb": self.max_file_mb,
            "max_pages": self.max_pages,
            "max_decompressed_mb": self.max_decompressed_mb,
            "timeout_s": self.timeout_s,
            "memory_mb": self.memory_mb,
            "max_chars": self.max_chars,
            "ocr_timeout_s": self.ocr_timeout_s,
        }

    @classmethod
    def from_dict(cls, data: dict[str, float | int]) -> ParseLimits:
        return cls(
            max_file_mb=float(data["max_file_mb"]),
            max_pages=int(data["max_pages"]),
            max_decompressed_mb=float(data["max_decompressed_mb"]),
            timeout_s=float(data["timeout_s"]),
            memory_mb=int(data["memory_mb"]),
            max_chars=int(data["max_chars"]),
            ocr_timeout_s=float(data.get("ocr_timeout_s", cls.ocr_timeout_s)),
        )
