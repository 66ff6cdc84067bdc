"""Errors raised by the headless core.

The tree::

    FeedsError                  anything talkwatch reports to a person
    ├── ConfigError             a broken config file or profile (names file, line, key)
    ├── FetchError              a source could not be fetched (recorded, polling goes on)
    │   ├── HTTPStatusError     the server answered with an error status
    │   ├── BodyTooLarge        the decoded body passed the size cap
    │   └── TooManyRedirects    more than the allowed number of redirects
    ├── ParseError              the body is not a feed we can read
    └── StoreError              the database cannot be opened or is not ours

Only :class:`FeedsError` and its children are caught at the command line and shown as a one-line
message; anything else is a bug and is allowed to crash with a traceback.
"""

from __future__ import annotations


class FeedsError(Exception):
    """Base of every error talkwatch reports to a person as one line."""


class ConfigError(FeedsError):
    """A configuration file or talk profile is unreadable or invalid."""


class FetchError(FeedsError):
    """A source could not be fetched.

    Attributes:
        status: the HTTP status, when the server answered.
        retry_after: seconds the server asked us to wait (429/503), if it said.
    """

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class HTTPStatusError(FetchError):
    """The server answered with a 4xx or 5xx status."""


class BodyTooLarge(FetchError):
    """The decompressed body grew past the configured cap."""


class TooManyRedirects(FetchError):
    """The redirect chain was longer than allowed."""


class ParseError(FeedsError):
    """The fetched body is not a feed of the source's kind."""


class StoreError(FeedsError):
    """The database cannot be opened, migrated or written."""
