"""One canonical form of SOP and fragment text, applied before it is stored, hashed or diffed."""

from __future__ import annotations

BOM = "\ufeff"


def sop_text_normalize(text: str) -> str:
    """LF line endings, no trailing whitespace on any line, exactly one final newline, no BOM.

    Browsers submit textareas with CRLF and editors add stray spaces; neither is a change a
    manager meant, so versions, hashes and diffs must not see them. Empty text stays empty.
    """
    text = text.removeprefix(BOM).replace("\r\n", "\n").replace("\r", "\n")
    body = "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n")
    return body + "\n" if body else ""
