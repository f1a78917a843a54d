"""Words on charts that fit: short unique axis labels, labels told apart by what differs, and
subtitles wrapped into lines, so that 40 candidates and a projector still read.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence

#: Axis labels longer than this keep their start and end ('certificate_dow…d: active days').
LABEL_CHARS = 30


def short_labels(names: Sequence[str], limit: int = LABEL_CHARS) -> list[str]:
    """Short, unique axis labels in the order given (the full name goes in the tooltip).

    A name longer than `limit` keeps its start and its end, where names of one event differ
    ('certificate_dow…d: active days'); labels that still coincide get ' (2)', ' (3)'.
    """
    out: list[str] = []
    taken: set[str] = set()
    for name in names:
        label = str(name)
        if len(label) > limit:
            tail = (limit - 1) // 2
            label = label[: limit - 1 - tail].rstrip() + "…" + label[-tail:].lstrip()
        unique, n = label, 1
        while unique in taken:
            n += 1
            unique = f"{label} ({n})"
        taken.add(unique)
        out.append(unique)
    return out


def split_shared_words(labels: Sequence[str]) -> tuple[str, list[str]]:
    """('lesson_completed', ['≥ 6×', '< 6×']) from ['lesson_completed ≥ 6×',
    'lesson_completed < 6×']: the words every label starts with, and what tells them apart
    (so two bars never read alike once a long name is cut). ('', labels) when none are shared.
    """
    labels = [str(x) for x in labels]
    if len(labels) < 2:
        return "", labels
    shared = os.path.commonprefix(labels)
    shared = shared[: shared.rfind(" ") + 1] if " " in shared else ""
    if not shared or any(len(x) == len(shared) for x in labels):
        return "", labels
    words = shared.strip()
    words = words[: -len(" on")] if words.endswith(" on") else words
    return words, [x[len(shared) :] for x in labels]


def wrapped_lines(text: str | Sequence[str], width: int) -> list[str]:
    """Sentences (one string or several) as lines of at most `width` characters; words are
    never broken, so the lines joined with spaces give the sentences back."""
    sentences = [text] if isinstance(text, str) else list(text)
    return [
        line
        for sentence in sentences
        for line in textwrap.wrap(sentence, width, break_long_words=False, break_on_hyphens=False)
    ]
