"""Repair UTF-8 text that was decoded as Mac Roman ("mojibake").

The shipped bank turned ``🟡`` into ``\uf8ffüü°`` and ``→`` into ``‚Üí``.
ftfy does not undo Mac Roman damage, so the repair is done here: each run of
non-ASCII characters that Mac Roman can encode is turned back into bytes and
decoded as UTF-8, one well-formed sequence at a time.  Characters that do not
form a valid sequence are kept as they are, so correct text (``café``, ``—``,
``λ``, ``🟡``) is never altered.
"""

from __future__ import annotations

import re

_CANDIDATE_RUN = re.compile(r"[^\x00-\x7f]+")


def _utf8_len(lead: int) -> int:
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


def _repair_run(run: str) -> str:
    try:
        raw = run.encode("mac_roman")
    except UnicodeEncodeError:
        # Mixed run: repair the encodable stretches separately.
        parts: list[str] = []
        stretch: list[str] = []
        for ch in run:
            try:
                ch.encode("mac_roman")
                stretch.append(ch)
            except UnicodeEncodeError:
                if stretch:
                    parts.append(_repair_run("".join(stretch)))
                    stretch = []
                parts.append(ch)
        if stretch:
            parts.append(_repair_run("".join(stretch)))
        return "".join(parts)

    out: list[str] = []
    i = 0
    while i < len(raw):
        size = _utf8_len(raw[i])
        if size and i + size <= len(raw):
            try:
                out.append(raw[i : i + size].decode("utf-8"))
                i += size
                continue
            except UnicodeDecodeError:
                pass
        out.append(raw[i : i + 1].decode("mac_roman"))
        i += 1
    return "".join(out)


def repair_mojibake(text: str) -> str:
    """Return ``text`` with Mac-Roman-decoded UTF-8 sequences restored."""
    if text.isascii():
        return text
    return _CANDIDATE_RUN.sub(lambda m: _repair_run(m.group(0)), text)
