"""The one exception type for problems in a user's input.

Anything a person can fix (a missing column, dates that do not parse, an empty file) raises
`InputError` with a message that names the file, the column, example rows and what to do. The
app shows it with `st.error`, the CLI prints it and exits 2. Programming errors stay ordinary
exceptions so that they are not mistaken for the user's fault.
"""

from __future__ import annotations

from collections.abc import Sequence


class InputError(ValueError):
    """A problem in the user's data or settings, with a message a person can act on.

    The message is written for any place it can appear. What to do can differ by place, so
    `cli` and `app` carry the hint in each place's own words ("name it with --user-col NAME"
    vs "pick it in the column mapping"): the CLI prints `for_cli()`, the app shows `for_app()`,
    and `str(exc)` is the message with no hint.
    """

    def __init__(
        self, message: str, problems: Sequence[str] = (), *, cli: str = "", app: str = ""
    ) -> None:
        self.problems = list(problems) or [message]
        self.cli_hint, self.app_hint = cli, app
        super().__init__(message)

    def for_cli(self) -> str:
        """The message with the command line's hint (flags)."""
        return _with_hint(str(self), self.cli_hint)

    def for_app(self) -> str:
        """The message with the app's hint (widgets and pages, never flags)."""
        return _with_hint(str(self), self.app_hint)

    @classmethod
    def collect(cls, problems: Sequence[str]) -> InputError:
        """One error for several problems, so the user fixes a file once, not once per rerun."""
        if len(problems) == 1:
            return cls(problems[0], problems)
        body = "\n".join(f"- {p}" for p in problems)
        return cls(f"{len(problems)} problems found:\n{body}", problems)


def _with_hint(message: str, hint: str) -> str:
    return f"{message} {hint}".strip() if hint else message


def example_rows(mask_index: Sequence[int], limit: int = 5) -> str:
    """'rows 4, 17, 90, …' using 1-based data-row numbers (the header is not a row)."""
    rows = [str(int(i) + 1) for i in list(mask_index)[:limit]]
    more = ", …" if len(mask_index) > limit else ""
    return ("row " if len(rows) == 1 else "rows ") + ", ".join(rows) + more
