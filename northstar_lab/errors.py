"""The one exception type for problems in a user's input.

Anything a person can fix (a missing column, dates that do not parse, an empty file) raises
`InputError` with a message that names the file, the column, example rows and what to do. The
app shows it with `st.error`, the CLI prints it and exits 2. Programming errors stay ordinary
exceptions so that they are not mistaken for the user's fault.
"""

from __future__ import annotations

from collections.abc import Sequence


class InputError(ValueError):
    """A problem in the user's data or settings, with a message a person can act on."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        self.problems = list(problems) or [message]
        super().__init__(message)

    @classmethod
    def collect(cls, problems: Sequence[str]) -> InputError:
        """One error for several problems, so the user fixes a file once, not once per rerun."""
        if len(problems) == 1:
            return cls(problems[0], problems)
        body = "\n".join(f"- {p}" for p in problems)
        return cls(f"{len(problems)} problems found:\n{body}", problems)


def example_rows(mask_index: Sequence[int], limit: int = 5) -> str:
    """'rows 4, 17, 90, …' using 1-based data-row numbers (the header is not a row)."""
    rows = [str(int(i) + 1) for i in list(mask_index)[:limit]]
    more = ", …" if len(mask_index) > limit else ""
    return ("row " if len(rows) == 1 else "rows ") + ", ".join(rows) + more
