"""The config file: defaults when absent, one-line errors naming file, line and key when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.cli import main
from feeds.config import Config, PollConfig, default_config_path, default_db_path, load_config
from feeds.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, explicit=True)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_load_config_missing_default_file_gives_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TALKWATCH_CONFIG")
    assert not default_config_path().exists()
    assert str(default_config_path()).startswith(str(tmp_path))  # XDG dir from the fixture

    config = load_config()

    assert config == Config()
    assert config.poll == PollConfig()


def test_load_config_missing_path_not_explicit_gives_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "absent.toml") == Config()


def test_load_config_explicit_missing_file_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "talkwatch.toml"

    message = config_error(missing)

    assert message == f"{missing}: config file not found"


def test_cli_config_option_missing_file_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.toml"

    code = main(["--config", str(missing), "--db", str(tmp_path / "t.db"), "poll", "--once"])

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err == f"talkwatch: error: {missing}: config file not found\n"


def test_load_config_env_missing_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "env-named.toml"
    monkeypatch.setenv("TALKWATCH_CONFIG", str(missing))

    with pytest.raises(ConfigError, match="env-named.toml: config file not found"):
        load_config()


def test_load_config_directory_is_an_error(tmp_path: Path) -> None:
    assert config_error(tmp_path) == f"{tmp_path}: is a directory, expected a TOML file"


def test_load_config_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", 'profile = "london-2025"\n\n[poll]\ninterval = = 5\n')

    message = config_error(path)

    assert message.startswith(f"{path}:4: not valid TOML")
    assert "(at line" not in message  # the position is said once, as file:line


def test_cli_toml_syntax_error_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "c.toml", "[poll\n")

    code = main(["--config", str(path), "--db", str(tmp_path / "t.db"), "poll", "--once"])

    _, err = capsys.readouterr()
    assert code == 1
    assert err.startswith(f"talkwatch: error: {path}:1: not valid TOML")
    assert err.count("\n") == 1
    assert not (tmp_path / "t.db").exists()  # nothing written before the config is checked


def test_load_config_unclosed_value_names_a_line(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[poll]\ninterval = 60\nuser_agent = """talkwatch\n')

    message = config_error(path)

    assert message.startswith(f"{path}:")
    assert message.split(":")[1].isdigit()


def test_load_config_accepts_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(b"\xef\xbb\xbf[poll]\ninterval = 60\n")

    assert load_config(path).poll.interval == 60.0


def test_load_config_unknown_poll_key_names_file_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[poll]\ninterval = 60\nintervall = 5\n")

    message = config_error(path)

    assert message.startswith(f"{path}:3: [poll] intervall: unknown key")
    assert "interval" in message.split("unknown key", 1)[1]  # lists what is allowed


def test_load_config_unknown_top_level_key_names_file_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '# talkwatch\nprofile = "london-2025"\nprofle = "x"\n')

    assert config_error(path).startswith(f"{path}:3: profle: unknown key")


def test_load_config_unknown_key_in_later_table_gets_its_line(tmp_path: Path) -> None:
    # The key name also appears in a comment and at top level: the [poll] line is the one named.
    path = write(
        tmp_path / "c.toml",
        '# colour = "red" would be nice\nprofile = "london-2025"\n\n[poll]\ncolour = "red"\n',
    )

    assert config_error(path).startswith(f"{path}:5: [poll] colour:")


@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        ('interval = "soon"', "interval", "expected a positive number, got 'soon'"),
        ("interval = 0", "interval", "expected a positive number"),
        ("interval = -5", "interval", "expected a positive number"),
        ("interval = true", "interval", "expected a positive number"),
        ("concurrency = 0", "concurrency", "expected at least 1, got 0"),
        ("per_host = 0", "per_host", "expected at least 1"),
        ("concurrency = 1.5", "concurrency", "expected a whole number"),
        ("workers = -1", "workers", "expected a whole number >= 0"),
        ("workers = true", "workers", "expected a whole number"),
        ("nice = 20", "nice", "expected 0 to 19, got 20"),
        ("nice = -5", "nice", "expected a whole number >= 0"),
        ("jitter = 2", "jitter", "expected a share from 0 to below 1, got 2"),
        ("jitter = 1", "jitter", "expected a share from 0 to below 1"),
        ('read_timeout = "10s"', "read_timeout", "expected a positive number"),
        ("max_body_mb = [10]", "max_body_mb", "expected a positive number"),
        ('user_agent = ""', "user_agent", "expected a non-empty string"),
        ("user_agent = 5", "user_agent", "expected a non-empty string"),
    ],
)
def test_load_config_bad_poll_value_names_file_line_and_key(
    tmp_path: Path, line: str, key: str, expected: str
) -> None:
    path = write(tmp_path / "c.toml", f'profile = "london-2025"\n\n[poll]\n{line}\n')

    message = config_error(path)

    assert message.startswith(f"{path}:4: [poll] {key}: ")
    assert expected in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("profile = 3\n", "profile: expected the name or path of a talk profile"),
        ('profile = "  "\n', "profile: expected the name or path of a talk profile"),
        ("poll = 3\n", "poll: expected a table: [poll]"),
    ],
)
def test_load_config_bad_top_level_value_names_file_line_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path / "c.toml", text)

    assert config_error(path) == f"{path}:1: {expected}"


@pytest.mark.parametrize("line", ["interval = nan", "interval = inf", "jitter = nan"])
def test_load_config_rejects_nan_and_inf(tmp_path: Path, line: str) -> None:
    path = write(tmp_path / "c.toml", f"[poll]\n{line}\n")

    assert config_error(path).startswith(f"{path}:2: [poll] ")


def test_load_config_accepts_zero_jitter(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[poll]\njitter = 0\n")

    assert load_config(path).poll.jitter == 0.0


def test_load_config_bad_dotted_key_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", 'profile = "london-2025"\npoll.interval = "soon"\n')

    assert config_error(path).startswith(f"{path}:2: [poll] interval: ")


def test_load_config_valid_file_values_are_used(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        """\
profile = "my-talks"

[poll]
interval = 60
concurrency = 3
per_host = 2
connect_timeout = 1.5
read_timeout = 4
deadline = 9.5
max_body_mb = 2
max_redirects = 0
max_backoff = 600
jitter = 0.25
user_agent = "tester/1.0"
workers = 1
""",
    )

    config = load_config(path)

    assert config == Config(
        path=path,
        profile="my-talks",
        poll=PollConfig(
            interval=60.0,
            concurrency=3,
            per_host=2,
            connect_timeout=1.5,
            read_timeout=4.0,
            deadline=9.5,
            max_body_mb=2.0,
            max_redirects=0,
            max_backoff=600.0,
            jitter=0.25,
            user_agent="tester/1.0",
            workers=1,
        ),
    )
    assert isinstance(config.poll.interval, float)
    assert config.poll.max_body_bytes == 2 * 1024 * 1024


def test_load_config_partial_file_keeps_other_defaults(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[poll]\nconcurrency = 2\n")

    config = load_config(path)

    assert config.poll.concurrency == 2
    assert config.poll.interval == PollConfig().interval
    assert config.profile == Config().profile


def test_load_config_follows_talkwatch_config_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "from-env.toml", "[poll]\ninterval = 42\n")
    monkeypatch.setenv("TALKWATCH_CONFIG", str(path))

    assert default_config_path() == path
    config = load_config()

    assert config.path == path
    assert config.poll.interval == 42.0


def test_cli_reads_config_from_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "from-env.toml", "[poll]\nintervall = 42\n")
    monkeypatch.setenv("TALKWATCH_CONFIG", str(path))

    code = main(["--db", str(tmp_path / "t.db"), "poll", "--once"])

    _, err = capsys.readouterr()
    assert code == 1
    assert err.startswith(f"talkwatch: error: {path}:2: [poll] intervall: unknown key")


def test_default_db_path_follows_talkwatch_db_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALKWATCH_DB", str(tmp_path / "elsewhere" / "news.db"))

    assert default_db_path() == tmp_path / "elsewhere" / "news.db"


def test_default_db_path_without_env_is_in_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TALKWATCH_DB")

    path = default_db_path()

    assert path.name == "talkwatch.db"
    assert path.is_relative_to(tmp_path / "xdg-data")  # XDG_DATA_HOME from the fixture


def test_cli_uses_talkwatch_db_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "env-chosen.db"
    monkeypatch.setenv("TALKWATCH_DB", str(db))

    code = main(["sources", "add", "https://example.org/feed.xml", "--name", "Example"])

    assert code == 0
    assert db.is_file()
    capsys.readouterr()
    assert main(["--db", str(db), "sources", "list", "--json"]) == 0
    assert '"name": "Example"' in capsys.readouterr().out
