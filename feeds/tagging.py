"""Tagging: what (and who) an item is about, whether it relates to the talks, and why.

Pure: ``Tagger(profile).tag(title, summary) -> Tagging``. It runs on every item on ingest (in
the parser's worker processes) and on every stored item on ``talkwatch retag``, so it avoids
giant regular expressions: Latin-script text is cut into words and profile terms are looked up
as word sequences (leftmost, longest first); Chinese and Japanese terms, which have no spaces
around them, are found as substrings.

Rules that keep common words from passing for names:

- Matching is by whole words: ``Xi`` is not in ``Xi'an`` (an apostrophe inside a word keeps the
  word whole), though ``Xi's`` is ``Xi``. A plural ``s`` or ``es`` on the last word is allowed.
- A term written in capitals of up to four letters (``US``, ``BIS``, ``EDA``) matches capitals
  only, so ``us`` is not the United States.
- ``exclude`` phrases (``Germaine Greer``, ``Burt Lancaster``) are consumed before any term can
  match inside them.
- A person's ``context_aliases`` (a bare surname such as ``Greer`` or ``Xi``) count only when the
  item also matches something else from the profile.
- Nothing short of the threshold is related: a leader's name alone (``Trump``) weighs too little,
  trade or China context lifts it over.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from feeds.models import Tagging
from feeds.profile import Profile

# One word: letters and digits, with apostrophes inside (Xi'an, don't) but not at the ends.
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
# A possessive ending is dropped before matching: "Xi's" is "Xi" (but "Xi'an" stays whole).
_POSSESSIVE = re.compile(r"(?<=[^\W_])['’]s\b")
MAX_CAPS_TERM = 4


@dataclass(frozen=True, slots=True)
class _Target:
    """What a term stands for: a tag (or a context, or an exclusion), its weight, its term."""

    kind: str  # "person", "person?" (needs context), "group", "context", "alert", "exclude"
    key: str  # tag, or alert id
    weight: float
    term: str  # as written in the profile
    side: str = ""  # the side of the talks it points to ("all": every side)


@dataclass(slots=True)
class _Found:
    side: str = ""
    weight: float = 0.0
    in_title: bool = False
    terms: list[str] = field(default_factory=list)


class Tagger:
    """Tags items with one profile's people, topics, places and alerts."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._words: dict[tuple[str, ...], list[_Target]] = {}
        self._caps: dict[tuple[str, ...], list[_Target]] = {}
        self._cjk: list[tuple[str, list[_Target]]] = []
        self._literals: dict[str, list[_Target]] = {}
        self._regex: list[tuple[re.Pattern[str], _Target]] = []
        self._names: dict[str, str] = {}
        self._order: dict[str, int] = {}
        for index, person in enumerate(profile.people):
            tag = f"person:{person.id}"
            self._names[tag] = person.name
            self._order[tag] = index
            for alias in person.aliases:
                self._add(alias, _Target("person", tag, person.weight, alias, person.side))
            for alias in person.context_aliases:
                self._add(alias, _Target("person?", tag, person.weight, alias, person.side))
        for group in profile.groups:
            kind = "context" if group.tag is None else "group"
            key = group.tag or f"context:{group.id}"
            for term in group.terms:
                self._add(term, _Target(kind, key, group.weight, term, group.side))
        for rule in profile.alerts:
            for term in rule.terms:
                self._add(term, _Target("alert", rule.id, 0.0, term))
            for term in rule.with_terms:
                self._add(term, _Target("alert-with", rule.id, 0.0, term))
        for phrase in profile.exclude:
            self._add(phrase, _Target("exclude", "", 0.0, phrase))
        self._automaton = self._build_automaton()
        self._caps_re = _caps_pattern(self._caps)
        # A plain search for the capitals rules most texts out before the full expression.
        firsts = {".".join(key[:2]) if len(key[0]) == 1 else key[0] for key in self._caps}
        self._caps_hint = re.compile("|".join(sorted(map(re.escape, firsts))) or "(?!)")

    def __reduce__(self) -> tuple[type[Tagger], tuple[Profile]]:
        # Worker processes rebuild the tagger from its profile rather than unpickling tables.
        return (Tagger, (self.profile,))

    def _build_automaton(self) -> Any:
        """One Aho-Corasick automaton over every casefolded surface form of every term.

        Each key maps to (length, targets, whole_words): Latin terms must start and end at word
        boundaries (checked per hit), Chinese and Japanese ones match anywhere.
        """
        import ahocorasick

        forms: dict[str, list[_Target]] = {}
        whole: dict[str, bool] = {}
        for words, targets in self._words.items():
            for surface in {" ".join(words), "-".join(words)}:
                forms.setdefault(surface, []).extend(targets)
                whole[surface] = True
        for literal, targets in self._literals.items():
            forms.setdefault(literal, []).extend(targets)
            whole[literal] = True
        for term, targets in self._cjk:
            forms.setdefault(term.casefold(), []).extend(targets)
            whole[term.casefold()] = False
        automaton = ahocorasick.Automaton()
        for surface, targets in forms.items():
            unique = list(dict.fromkeys(targets))
            automaton.add_word(surface, (len(surface), unique, whole[surface]))
        automaton.make_automaton()
        return automaton

    def _add(self, term: str, target: _Target) -> None:
        if term.startswith("re:"):
            self._regex.append((re.compile(term[3:], re.IGNORECASE), target))
            return
        if _CJK.search(term):
            for known, targets in self._cjk:
                if known == term:
                    targets.append(target)
                    return
            self._cjk.append((term, [target]))
            return
        words = tuple(_WORD.findall(_POSSESSIVE.sub("", term)))
        if not words:
            return
        letters = "".join(words)
        if letters.isupper() and len(letters) <= MAX_CAPS_TERM:
            # Few and short: found by one case-sensitive expression over the original text.
            self._caps.setdefault(words, []).append(target)
            return
        words = tuple(w.casefold() for w in words)
        # Plurals are registered up front, so matching is one lookup per candidate.
        for last in _plurals(words[-1]):
            self._words.setdefault((*words[:-1], last), []).append(target)
        # The term as written too, punctuation and all ("Greer, S.C.", "U.S.-China").
        literal = _POSSESSIVE.sub("", term).casefold()
        if literal not in {" ".join(words), "-".join(words)}:
            self._literals.setdefault(literal, []).append(target)

    def tag(self, title: str, summary: str = "") -> Tagging:
        """Tag one item's title and summary (plain text)."""
        found: dict[str, _Found] = {}
        tentative: dict[str, _Found] = {}
        alert_terms: dict[str, list[str]] = {}
        alert_with: dict[str, list[str]] = {}
        for text, in_title in ((title, True), (summary, False)):
            if not text:
                continue
            for target in self._scan(text):
                if target.kind == "alert":
                    alert_terms.setdefault(target.key, []).append(target.term)
                    continue
                if target.kind == "alert-with":
                    alert_with.setdefault(target.key, []).append(target.term)
                    continue
                bucket = tentative if target.kind == "person?" else found
                entry = bucket.setdefault(target.key, _Found(target.side))
                entry.weight = max(entry.weight, target.weight)
                entry.in_title = entry.in_title or in_title
                if target.term not in entry.terms:
                    entry.terms.append(target.term)
        if found:  # a bare surname counts once something else places the item in the talks
            for key, entry in tentative.items():
                known = found.setdefault(key, _Found(entry.side))
                known.weight = max(known.weight, entry.weight)
                known.in_title = known.in_title or entry.in_title
                known.terms += [t for t in entry.terms if t not in known.terms]
        title_weight = self.profile.title_weight
        score = sum(e.weight * (title_weight if e.in_title else 1.0) for e in found.values())
        related = score >= self.profile.threshold and score > 0
        if related and self.profile.require_all_sides:
            # Talks have sides: an item about one of them alone (China and the EU, the US and
            # Canada) is not about the talks, however many terms it shares with them.
            seen = {e.side for e in found.values()}
            related = "all" in seen or all(side in seen for side in self.profile.sides)
        matches = {k: tuple(e.terms) for k, e in found.items() if not k.startswith("context:")}
        if related:
            for rule in self.profile.alerts:
                terms = alert_terms.get(rule.id)
                if terms and (not rule.with_terms or rule.id in alert_with):
                    matches[f"alert:{rule.id}"] = tuple(terms + alert_with.get(rule.id, []))
        people = sorted((k for k in matches if k in self._names), key=self._order.__getitem__)
        return Tagging(
            tags=tuple(sorted(matches)),
            people=tuple(self._names[k] for k in people),
            related=related,
            score=round(score, 3),
            matches=matches,
        )

    def _scan(self, text: str) -> list[_Target]:
        """Every target whose term occurs in ``text``: whole words, leftmost-longest first.

        Excluded phrases take their span like any term, so nothing inside them matches.
        Chinese and Japanese terms all count, overlapping or not.
        """
        if "'" in text or "’" in text:
            text = _POSSESSIVE.sub("", text)
        low = text.casefold()
        last = len(low) - 1
        hits: list[tuple[int, int, int, list[_Target]]] = []
        found: list[_Target] = []
        for end, (length, targets, whole) in self._automaton.iter(low):
            start = end - length + 1
            if not whole:
                found += targets
            elif (start == 0 or not _is_word(low[start - 1])) and (
                end == last or not _is_word(low[end + 1])
            ):
                hits.append((start, -length, end, targets))
        if hits:
            hits.sort()
            free = 0
            for start, _length, end, targets in hits:
                if start >= free:
                    free = end + 1
                    if targets[0].kind != "exclude":
                        found += targets
        if self._caps_re is not None and self._caps_hint.search(text):
            for match in self._caps_re.finditer(text):
                key = tuple(_WORD.findall(match.group()))
                targets = self._caps.get(key) or self._caps.get((*key[:-1], key[-1][:-1]))
                found += targets or ()
        for pattern, target in self._regex:
            if pattern.search(text):
                found.append(target)
        return found


def _is_word(char: str) -> bool:
    return char.isalnum() or char in "_'’"


def _caps_pattern(table: Mapping[tuple[str, ...], object]) -> re.Pattern[str] | None:
    """One case-sensitive expression for the capitals-only terms (US, U.S., BIS), whole words."""
    if not table:
        return None
    forms = sorted((r"\W+".join(map(re.escape, key)) for key in table), key=len, reverse=True)
    return re.compile(r"(?<![\w'’])(?:" + "|".join(forms) + r")(?:s\b)?(?![\w'’])")


def _plurals(word: str) -> tuple[str, ...]:
    """A term's last word as written, and with the plural endings a headline may add."""
    if word.isupper():
        return (word, word + "s")
    if word[-1:].isalpha() and not _CJK.search(word):
        return (word, word + "s", word + "es")
    return (word,)
