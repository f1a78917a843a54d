"""Secrets never leave the process: one function that redacts credentials from any text.

A source string or a table path can carry credentials: `s3a://KEY:SECRET@bucket/events/`,
`spark://admin:pw@host:7077`, `postgresql://u:pw@host/db`, a presigned URL's
`?AWSAccessKeyId=…&Signature=…`, Spark Connect's `sc://host/;token=…`, a libpq string's
`password=…`. Everything that becomes a fingerprint, a label, a record, an export, a log line
or an error message passes through `redact_secrets` first, so the rule lives here only.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

#: `scheme://` (or `scheme:/`, as a URL looks after passing through a path join) then the
#: longest run of non-blank characters up to the last '@' before a blank: the user-info part.
#: The run may contain '/', ':' and '@' (AWS secret keys contain '/', passwords '@'), so a path
#: with an '@' in it is over-redacted; that loses a bucket name, never a secret.
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*:/+)(?P<info>[^\s'\"<>]+)@")

#: `name=value` where the name looks like a credential (password, token, AWS and GCS and Azure
#: signatures, API keys, session tokens), in a query string, a Spark Connect URL (`;token=`)
#: or a libpq key=value string.
_SECRET_PARAM = re.compile(
    r"(?P<name>[\w.\-]*(?:pass|pwd|secret|token|key|sig|credential|auth|session)[\w.\-]*)"
    r"(?P<eq>\s*=\s*)(?P<value>'[^']*'|\"[^\"]*\"|[^&;\s'\"]+)",
    re.IGNORECASE,
)


def redact_secrets(text: object) -> str:
    """`text` with every URL user-info and credential-like parameter value replaced by ***.

    `s3a://KEY:SECRET@bucket/x` → `s3a://***@bucket/x`; `?password=hunter2` → `?password=***`;
    text without credentials comes back unchanged. A user name alone is redacted too (it is
    half of a credential and never needed to describe where data came from).
    """
    s = "" if text is None else str(text)
    if "@" in s:
        s = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", s)
    if "=" in s:
        s = _SECRET_PARAM.sub(lambda m: f"{m['name']}{m['eq']}{MASK}", s)
    return s


def redact_url(url: str) -> str:
    """One URL (a connection string) with its user-info and secret parameters masked.

    Unlike free text, a whole URL is parsed, so a password with blanks in it
    (`postgresql://ns:p w@host/db`) is still found; the rest is `redact_secrets`.
    """
    try:
        parts = urlsplit(str(url))
    except ValueError:
        scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", str(url))
        return f"{scheme.group(1) if scheme else 'a'}://{MASK} (a URL that does not parse)"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    return redact_secrets(urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")))


def has_secret(text: object) -> bool:
    """True when `redact_secrets` would change `text` (for tests and for refusing to store)."""
    return redact_secrets(text) != ("" if text is None else str(text))
