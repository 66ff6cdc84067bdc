"""The talk profile loader: the bundled London profile, and one-line errors naming file, line, key.

Error cases start from ``MINIMAL`` (a small valid profile) and change one thing. Expected line
numbers are found in the text the test wrote, by the line's own content, never counted by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest

from feeds.cli import main
from feeds.errors import ConfigError
from feeds.profile import load_profile
from feeds.seeds import load_talk_profile, seeds_dir
from feeds.store import Store
from tests.feedgen import E, rss
from tests.feedserver import FeedServer, Route

BUNDLED = seeds_dir() / "london-2025.toml"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

MINIMAL = """\
[talks]
id = "test-talks"
name = "Test talks"
timezones = ["Europe/London"]
sides = { us = "United States", cn = "China" }

[[person]]
id = "bessent"
name = "Scott Bessent"
side = "us"
aliases = ["Scott Bessent", "Bessent"]
weight = 2.0

[[person]]
id = "he-lifeng"
name = "He Lifeng"
side = "cn"
aliases = ["He Lifeng", "Vice Premier He"]
weight = 3.0

[[person]]
id = "greer"
name = "Jamieson Greer"
side = "us"
aliases = ["Jamieson Greer"]
weight = 2.0

[[topic]]
id = "tariffs"
terms = ["tariff"]

[[topic]]
id = "export-controls"
terms = ["export control"]
"""

# The second [[person]] table of MINIMAL, and the second [[topic]]: edits aim at these.
HE_LIFENG = 'name = "He Lifeng"\n'
SECOND_TOPIC = 'id = "export-controls"\n'

CLI_CONFIG = """\
profile = "{profile}"

[poll]
connect_timeout = 2.0
read_timeout = 2.0
deadline = 5.0
workers = 1
"""


def write(tmp_path: Path, text: str, name: str = "talks.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def after_he_lifeng(extra: str) -> str:
    """MINIMAL with ``extra`` lines added to the second [[person]] table."""
    assert MINIMAL.count(HE_LIFENG) == 1
    return MINIMAL.replace(HE_LIFENG, HE_LIFENG + extra)


def line_number(text: str, line: str, nth: int = 1) -> int:
    """The 1-based number of the ``nth`` line of ``text`` that reads exactly ``line``."""
    numbers = [n for n, got in enumerate(text.splitlines(), start=1) if got.strip() == line]
    assert len(numbers) >= nth, f"{line!r} occurs {len(numbers)} times"
    return numbers[nth - 1]


def load_error(path: Path) -> str:
    """The message of the ConfigError that loading ``path`` raises (checked to be one line)."""
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert "\n" not in message, message
    return message


def assert_error_at(path: Path, line: int, *words: str) -> str:
    """Check the error is at ``path:line`` and its text (after the place) has every word."""
    message = load_error(path)
    where = f"{path}:{line}: "
    assert message.startswith(where), message
    rest = message.removeprefix(where)
    for word in words:
        assert word in rest, message
    return rest


# -- the bundled profile ----------------------------------------------------------------------


def test_load_profile_bundled_london_has_delegations_and_leaders() -> None:
    profile = load_profile(BUNDLED)

    assert profile.id == "london-2025"
    assert profile.path == BUNDLED
    assert len(profile.people) == 8
    assert sorted(p.name for p in profile.people if p.leader) == ["Donald Trump", "Xi Jinping"]
    assert len([p for p in profile.people if not p.leader]) == 6
    assert {p.side for p in profile.people} == {"us", "cn"}
    assert set(profile.sides) == {"us", "cn"}
    assert len({p.id for p in profile.people}) == 8


def test_load_profile_bundled_london_schedule_and_zones() -> None:
    profile = load_profile(BUNDLED)

    assert profile.timezones == ("Europe/London", "America/New_York", "Asia/Shanghai")
    assert [s.name for s in profile.sessions] == ["Day 1", "Day 2"]
    first, second = profile.sessions
    assert first.start < first.end <= second.start < second.end
    assert all(s.start.utcoffset() is not None for s in profile.sessions)
    assert type(profile.start) is date and type(profile.end) is date  # not datetime
    assert (profile.start, profile.end) == (date(2025, 6, 9), date(2025, 6, 10))
    assert profile.threshold > 0


def test_load_profile_bundled_london_aliases() -> None:
    profile = load_profile(BUNDLED)

    for person in profile.people:
        assert any(CJK.search(alias) for alias in person.aliases), person.name
    he_lifeng = next(p for p in profile.people if p.id == "he-lifeng")
    assert he_lifeng.name == "He Lifeng"
    assert "He" not in he_lifeng.aliases + he_lifeng.context_aliases
    assert "何立峰" in he_lifeng.aliases


def test_load_talk_profile_by_name_reads_bundled_file() -> None:
    assert load_talk_profile("london-2025").path == BUNDLED


def test_load_talk_profile_unknown_name_is_not_found() -> None:
    with pytest.raises(ConfigError) as caught:
        load_talk_profile("no-such-talks")

    message = str(caught.value)
    assert "no-such-talks" in message and "not found" in message
    assert "\n" not in message


# -- a minimal profile, and one mistake at a time -----------------------------------------------


def test_load_profile_minimal_is_valid(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, MINIMAL))

    assert [p.id for p in profile.people] == ["bessent", "he-lifeng", "greer"]
    assert [g.tag for g in profile.groups] == ["topic:tariffs", "topic:export-controls"]
    assert profile.sessions == () and profile.exclude == ()
    assert (profile.start, profile.end) == (None, None)


def test_load_profile_unknown_top_level_key(tmp_path: Path) -> None:
    text = MINIMAL.replace("[talks]", "threshhold = 3.0\n\n[talks]")
    path = write(tmp_path, text)

    assert_error_at(path, line_number(text, "threshhold = 3.0"), "threshhold", "unknown key")


def test_load_profile_unknown_key_in_talks(tmp_path: Path) -> None:
    text = MINIMAL.replace('name = "Test talks"\n', 'name = "Test talks"\nvenu = "London"\n')
    path = write(tmp_path, text)

    message = assert_error_at(path, line_number(text, 'venu = "London"'), "venu", "unknown key")
    assert "talks" in message
    assert "venue" in message  # the allowed keys are listed


def test_load_profile_unknown_key_in_second_person_names_its_line(tmp_path: Path) -> None:
    # The same mistake in the 2nd and 3rd tables: the 2nd is reported, at its own line.
    text = MINIMAL.replace(HE_LIFENG, HE_LIFENG + 'nickname = "HLF"\n').replace(
        'name = "Jamieson Greer"\n', 'name = "Jamieson Greer"\nnickname = "JG"\n'
    )
    path = write(tmp_path, text)

    message = assert_error_at(
        path, line_number(text, 'nickname = "HLF"'), "nickname", "unknown key"
    )
    assert "person" in message


def test_load_profile_bad_value_in_second_person_names_its_line_not_the_first(
    tmp_path: Path,
) -> None:
    # Every [[person]] sets weight; only the second one's is wrong.
    text = MINIMAL.replace("weight = 3.0", 'weight = "heavy"')
    path = write(tmp_path, text)

    assert_error_at(path, line_number(text, 'weight = "heavy"'), "weight", "heavy")


@pytest.mark.parametrize("weight", ["-1", "-0.5", '"heavy"', "true"])
def test_load_profile_weight_must_be_a_number_at_least_zero(tmp_path: Path, weight: str) -> None:
    text = MINIMAL.replace("weight = 3.0", f"weight = {weight}")
    path = write(tmp_path, text)

    assert_error_at(path, line_number(text, f"weight = {weight}"), "weight", "number")


@pytest.mark.parametrize("weight", ["nan", "inf"])
def test_load_profile_weight_must_be_finite(tmp_path: Path, weight: str) -> None:
    text = MINIMAL.replace("weight = 3.0", f"weight = {weight}")
    path = write(tmp_path, text)

    assert_error_at(path, line_number(text, f"weight = {weight}"), "weight")


def test_load_profile_bad_regular_expression_in_topic(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        'terms = ["export control"]', 'terms = ["export control", "re:(unclosed"]'
    )
    path = write(tmp_path, text)

    message = assert_error_at(
        path,
        line_number(text, 'terms = ["export control", "re:(unclosed"]'),
        "terms",
        "regular expression",
        "(unclosed",
    )
    assert "topic" in message


def test_load_profile_duplicate_person_id_names_second_table(tmp_path: Path) -> None:
    text = MINIMAL.replace('id = "he-lifeng"', 'id = "bessent"')
    path = write(tmp_path, text)

    assert_error_at(path, line_number(text, 'id = "bessent"', nth=2), "duplicate", "bessent")


def test_load_profile_duplicate_topic_id_names_second_table(tmp_path: Path) -> None:
    text = MINIMAL.replace(SECOND_TOPIC, 'id = "tariffs"\n')
    path = write(tmp_path, text)

    message = assert_error_at(
        path, line_number(text, 'id = "tariffs"', nth=2), "duplicate", "tariffs"
    )
    assert "topic" in message


def test_load_profile_same_id_for_person_and_topic_is_allowed(tmp_path: Path) -> None:
    # Ids are unique per kind: tags are "person:x" and "topic:x".
    text = MINIMAL.replace(SECOND_TOPIC, 'id = "greer"\n')

    profile = load_profile(write(tmp_path, text))

    assert "topic:greer" in [g.tag for g in profile.groups]


@pytest.mark.parametrize("bad_id", ["He Lifeng", "HeLifeng", "he lifeng", "-he", "he_lifeng"])
def test_load_profile_id_must_be_lower_case_with_hyphens(tmp_path: Path, bad_id: str) -> None:
    text = MINIMAL.replace('id = "he-lifeng"', f'id = "{bad_id}"')
    path = write(tmp_path, text)

    assert_error_at(path, line_number(text, f'id = "{bad_id}"'), "id", bad_id)


def test_load_profile_person_side_must_be_a_talks_side(tmp_path: Path) -> None:
    text = MINIMAL.replace('side = "cn"', 'side = "eu"')
    path = write(tmp_path, text)

    assert_error_at(path, line_number(text, 'side = "eu"'), "side", "eu")


def test_load_profile_context_side_must_be_a_talks_side(tmp_path: Path) -> None:
    text = MINIMAL + '\n[[context]]\nid = "europe"\nside = "eu"\nterms = ["Brussels"]\n'
    path = write(tmp_path, text)

    message = assert_error_at(path, line_number(text, 'side = "eu"'), "side", "eu")
    assert "context" in message


def test_load_profile_context_side_all_is_accepted(tmp_path: Path) -> None:
    text = MINIMAL + '\n[[context]]\nid = "us-china"\nside = "all"\nterms = ["US-China"]\n'

    profile = load_profile(write(tmp_path, text))

    context = next(g for g in profile.groups if g.kind == "context")
    assert (context.id, context.side, context.tag) == ("us-china", "all", None)


def test_load_profile_unknown_time_zone(tmp_path: Path) -> None:
    text = MINIMAL.replace('["Europe/London"]', '["Europe/London", "Mars/Olympus_Mons"]')
    path = write(tmp_path, text)

    assert_error_at(
        path,
        line_number(text, 'timezones = ["Europe/London", "Mars/Olympus_Mons"]'),
        "timezones",
        "Mars/Olympus_Mons",
    )


def test_load_profile_time_zone_that_is_a_region_is_reported(tmp_path: Path) -> None:
    text = MINIMAL.replace('["Europe/London"]', '["Europe"]')
    path = write(tmp_path, text)

    assert_error_at(path, line_number(text, 'timezones = ["Europe"]'), "timezones", "Europe")


SESSION = """
[[session]]
name = "Day 1"
start = {start}
end = {end}
"""


def test_load_profile_session_reads_aware_times(tmp_path: Path) -> None:
    text = MINIMAL + SESSION.format(
        start="2025-06-09T13:00:00+01:00", end="2025-06-09T20:00:00+01:00"
    )

    (session,) = load_profile(write(tmp_path, text)).sessions

    assert isinstance(session.start, datetime)
    assert session.start.utcoffset() is not None
    assert (session.end - session.start).total_seconds() == 7 * 3600


def test_load_profile_session_ending_before_start(tmp_path: Path) -> None:
    text = MINIMAL + SESSION.format(
        start="2025-06-09T13:00:00+01:00", end="2025-06-09T12:00:00+01:00"
    )
    path = write(tmp_path, text)

    message = assert_error_at(
        path, line_number(text, "end = 2025-06-09T12:00:00+01:00"), "end", "before"
    )
    assert "session" in message


def test_load_profile_session_time_without_utc_offset(tmp_path: Path) -> None:
    text = MINIMAL + SESSION.format(start="2025-06-09T13:00:00", end="2025-06-09T20:00:00+01:00")
    path = write(tmp_path, text)

    assert_error_at(path, line_number(text, "start = 2025-06-09T13:00:00"), "start", "UTC offset")


def test_load_profile_toml_syntax_error_names_line(tmp_path: Path) -> None:
    text = MINIMAL.replace(HE_LIFENG, 'name = "He Lifeng\n')
    path = write(tmp_path, text)

    assert_error_at(path, line_number(text, 'name = "He Lifeng'), "not valid TOML")


def test_load_profile_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"

    message = load_error(path)

    assert message == f"{path}: talk profile not found"


def test_load_profile_without_talks_table(tmp_path: Path) -> None:
    text = MINIMAL[MINIMAL.index("[[person]]") :]
    path = write(tmp_path, text)

    message = load_error(path)

    assert message.startswith(f"{path}")
    assert "[talks]" in message and "missing" in message


@pytest.mark.parametrize(
    "aliases", ['aliases = "He Lifeng"', "aliases = []", 'aliases = ["He Lifeng", 3]']
)
def test_load_profile_aliases_must_be_a_non_empty_list_of_strings(
    tmp_path: Path, aliases: str
) -> None:
    text = MINIMAL.replace('aliases = ["He Lifeng", "Vice Premier He"]', aliases)
    path = write(tmp_path, text)

    assert_error_at(path, line_number(text, aliases), "aliases", "list")


def test_load_profile_exclude_at_top_is_read(tmp_path: Path) -> None:
    text = 'exclude = ["Trump Jr"]\n\n' + MINIMAL

    assert load_profile(write(tmp_path, text)).exclude == ("Trump Jr",)


def test_load_profile_exclude_after_alert_is_unknown_key_of_that_alert(tmp_path: Path) -> None:
    # TOML puts every key after a table header into that table: here, the [[alert]].
    text = MINIMAL + '\n[[alert]]\nid = "deal"\nterms = ["deal"]\n\nexclude = ["Trump Jr"]\n'
    path = write(tmp_path, text)

    message = assert_error_at(
        path, line_number(text, 'exclude = ["Trump Jr"]'), "alert", "exclude", "unknown key"
    )
    assert message.index("alert") < message.index("exclude")


def test_load_profile_misspelt_table_header_names_its_line(tmp_path: Path) -> None:
    text = MINIMAL.replace("[[person]]", "[[persons]]", 1)
    path = write(tmp_path, text)

    assert_error_at(path, line_number(text, "[[persons]]"), "persons", "unknown key")


def test_load_profile_unknown_quoted_key_names_its_line(tmp_path: Path) -> None:
    text = MINIMAL.replace('name = "Test talks"\n', 'name = "Test talks"\n"venu" = "London"\n')
    path = write(tmp_path, text)

    assert_error_at(path, line_number(text, '"venu" = "London"'), "venu", "unknown key")


def test_load_profile_talks_ending_before_start(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        'name = "Test talks"\n', 'name = "Test talks"\nstart = 2025-06-10\nend = 2025-06-09\n'
    )
    path = write(tmp_path, text)

    assert_error_at(path, line_number(text, "end = 2025-06-09"), "end")


# -- the command line surfaces profile errors ---------------------------------------------------


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def talkwatch(capsys: pytest.CaptureFixture[str], db: Path, config: Path, *args: str) -> Run:
    capsys.readouterr()
    code = main(["--db", str(db), "--config", str(config), *args])
    out, err = capsys.readouterr()
    return Run(code, out, err)


def one_line_error(run: Run) -> str:
    assert run.code == 1, run
    assert run.out == ""
    assert run.err.startswith("talkwatch: error: "), run.err
    assert run.err.count("\n") == 1, run.err
    return run.err.removeprefix("talkwatch: error: ").rstrip("\n")


@pytest.fixture
def broken_profile(tmp_path: Path) -> tuple[Path, int]:
    """A profile with an unknown key in its second [[person]], and that key's line."""
    text = after_he_lifeng('nickname = "HLF"\n')
    return write(tmp_path, text, "broken.toml"), line_number(text, 'nickname = "HLF"')


def config_for(tmp_path: Path, profile: str) -> Path:
    return write(tmp_path, CLI_CONFIG.format(profile=profile), "config.toml")


def test_cli_retag_with_broken_profile_is_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, broken_profile: tuple[Path, int]
) -> None:
    profile, line = broken_profile
    db = tmp_path / "talkwatch.db"
    Store(db).close()

    message = one_line_error(talkwatch(capsys, db, config_for(tmp_path, str(profile)), "retag"))

    assert message.startswith(f"{profile}:{line}: ")
    assert "nickname" in message


def test_cli_poll_with_broken_profile_fails_before_fetching(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    broken_profile: tuple[Path, int],
    feed_server: FeedServer,
) -> None:
    profile, line = broken_profile
    db = tmp_path / "talkwatch.db"
    config = config_for(tmp_path, str(profile))
    feed_server.routes["/wire.rss"] = Route(body=rss([E("g-1", "Tariff talks resume")]))
    added = talkwatch(capsys, db, config, "sources", "add", feed_server.url("/wire.rss"))
    assert added.code == 0, added

    message = one_line_error(talkwatch(capsys, db, config, "poll", "--once"))

    assert message.startswith(f"{profile}:{line}: ")
    assert feed_server.requests == []
    with Store(db) as store:
        assert store.count_items() == 0
        (source,) = store.get_sources()
        assert source.last_poll_at is None


def test_cli_unknown_profile_name_is_one_line_not_found_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "talkwatch.db"
    Store(db).close()

    message = one_line_error(talkwatch(capsys, db, config_for(tmp_path, "no-such-talks"), "retag"))

    assert "no-such-talks" in message and "not found" in message


def test_profile_relative_path_starts_at_the_config_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "talks"
    folder.mkdir()
    (folder / "mine.toml").write_text(
        (seeds_dir() / "london-2025.toml").read_text("utf-8"), encoding="utf-8"
    )
    config = folder / "config.toml"
    config.write_text('profile = "mine.toml"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the config's folder

    code = main(["--db", str(tmp_path / "t.db"), "--config", str(config), "poll", "--once"])

    assert code == 0, capsys.readouterr().err
