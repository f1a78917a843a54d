"""Chart words that fit: short unique labels, what tells two labels apart, wrapped subtitles."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from northstar_lab.evidence.labels import (
    LABEL_CHARS,
    short_labels,
    split_shared_words,
    wrapped_lines,
)


def test_short_labels_keep_start_and_end():
    long = "certificate_downloaded: active days"
    assert short_labels([long]) == ["certificate_dow…d: active days"]
    assert short_labels(["login: count"]) == ["login: count"]


def test_short_labels_that_coincide_are_numbered():
    long = "x" * 20 + "middle" + "y" * 20
    other = "x" * 20 + "MIDDLE" + "y" * 20
    assert short_labels([long, other, "a", "a"]) == [
        "xxxxxxxxxxxxxxx…yyyyyyyyyyyyyy",
        "xxxxxxxxxxxxxxx…yyyyyyyyyyyyyy (2)",
        "a",
        "a (2)",
    ]


@given(st.lists(st.text(min_size=0, max_size=80), max_size=40))
def test_short_labels_are_unique_and_short(names):
    out = short_labels(names)
    assert len(out) == len(names) and len(set(out)) == len(out)
    assert all(len(s) <= LABEL_CHARS + 2 + len(str(len(names))) + 1 for s in out)


def test_split_shared_words():
    assert split_shared_words(["lesson_completed ≥ 6×", "lesson_completed < 6×"]) == (
        "lesson_completed",
        ["≥ 6×", "< 6×"],
    )
    assert split_shared_words(["quiz on ≥ 3 days", "quiz on < 3 days"]) == (
        "quiz",
        ["≥ 3 days", "< 3 days"],
    )
    assert split_shared_words(["done it", "not done it"]) == ("", ["done it", "not done it"])
    assert split_shared_words(["a b", "a b c"]) == ("a", ["b", "b c"])
    assert split_shared_words(["lesson", "lesson b"]) == ("", ["lesson", "lesson b"])


def test_wrapped_lines_never_break_words():
    text = "Hazard ratio drifts over follow-up (PH test p 0.004): read ΔRMST at day 90 instead."
    lines = wrapped_lines([text, "short"], 30)
    assert all(len(line) <= 30 for line in lines)
    assert " ".join(lines[:-1]) == text and lines[-1] == "short"
