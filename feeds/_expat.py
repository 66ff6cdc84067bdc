"""An expat SAX driver that delivers character data in whole runs, for feedparser.

Without ``buffer_text``, expat reports text in pieces split at every entity reference and line
break, and feedparser handles each piece in Python: about 60 calls per entry of an RSS feed
whose summaries are escaped HTML, a fifth of its parsing time. With it, expat joins each run
of text first. feedparser picks this driver up through ``PREFERRED_XML_PARSERS`` (the parser
list of :func:`xml.sax.make_parser`); the text it sees is unchanged, only less fragmented.
"""

from __future__ import annotations

from xml.sax.expatreader import ExpatParser

BUFFER_SIZE = 64 * 1024


class BufferedExpatParser(ExpatParser):
    """``xml.sax.expatreader.ExpatParser`` with expat's text buffering switched on."""

    def reset(self) -> None:
        super().reset()
        parser = self._parser  # type: ignore[attr-defined]  # set by reset(), not in typeshed
        parser.buffer_text = True
        parser.buffer_size = BUFFER_SIZE


def create_parser() -> BufferedExpatParser:
    """The factory :func:`xml.sax.make_parser` calls for each module it is given."""
    return BufferedExpatParser()
