"""Terminal output never carries control sequences from data (issue 11 #5): the progress lines
and the one-paragraph error say what happened with escapes made inert."""

from northstar_lab import cli
from northstar_lab.cli.args import progress_printer
from northstar_lab.errors import InputError

ESCAPES = "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07 \x1b[2J\x0bname"


def test_progress_lines_strip_terminal_escapes(capsys):
    say = progress_printer(quiet=False)
    say(f"Measuring {ESCAPES}")
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "\x0b" not in err
    assert "Measuring" in err and "click" in err and "name" in err


def test_the_error_paragraph_strips_terminal_escapes(monkeypatch, capsys):
    def broken(_args):
        raise InputError(f"Candidate '{ESCAPES}' is constant.", cli="Remove it.")

    monkeypatch.setitem(cli.COMMANDS, "sample", broken)
    assert cli.main(["sample", "--out", "unused"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "\x0b" not in err
    assert err.startswith("error: Candidate '") and err.rstrip().endswith("Remove it.")
