"""Settings: file < environment < flag, unknown keys refused, every key documented."""

import re
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from sendwell.config import ConfigError, Settings, load_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "config.md"


def test_precedence(tmp_path):
    cfg = tmp_path / "sendwell.toml"
    cfg.write_text('[limit]\nstart = 500\n[smtp]\nurls = ["smtp://a:25"]\n')
    s = load_settings(cfg, env={})
    assert s.limit.start == 500 and s.smtp.urls == ("smtp://a:25",)
    s = load_settings(cfg, env={"SENDWELL_LIMIT_START": "700", "SENDWELL_SMTP_URL": "smtp://b:25,smtp://c:25"})
    assert s.limit.start == 700 and s.smtp.urls == ("smtp://b:25", "smtp://c:25")
    s = load_settings(cfg, env={"SENDWELL_DATABASE_URL": "sqlite:///env.db"}, database_url="sqlite:///flag.db")
    assert s.database.url == "sqlite:///flag.db"


def test_bad_values_name_the_key(tmp_path):
    cfg = tmp_path / "sendwell.toml"
    cfg.write_text("[limit]\nstrat = 5\n")
    with pytest.raises(ConfigError, match=r"\[limit\] unknown key\(s\): strat"):
        load_settings(cfg, env={})
    with pytest.raises(ConfigError, match=r"\[limit\] start: cannot use 'lots'"):
        load_settings(None, env={"SENDWELL_LIMIT_START": "lots"})
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_settings(tmp_path / "missing.toml", env={})


def test_every_key_is_documented_with_its_default():
    block = re.search(r"```toml\n(.*?)```", DOC.read_text(), re.S).group(1)
    documented = tomllib.loads(block)
    defaults = Settings()
    for section in fields(Settings):
        current = getattr(defaults, section.name)
        names = {f.name for f in fields(current)}
        assert set(documented[section.name]) == names, section.name
        for name in names - {"urls"}:
            value = documented[section.name][name]
            expected = getattr(current, name)
            assert (tuple(value) if isinstance(value, list) else value) == expected, f"[{section.name}] {name}"


def test_settings_travel_to_a_child_process_whole(tmp_path):
    """as_env + load_settings: what `send --processes` and `send --background` hand their workers."""
    from dataclasses import replace

    from sendwell.config import as_env

    cfg = tmp_path / "sendwell.toml"
    cfg.write_text(
        '[limit]\nstart = 500\ntimezone = "Europe/Berlin"\n[sending]\nretry_schedule = [1, 2.5]\n'
        "auto_blacklist_hard_errors = false\n[verify]\nskip = []\n"
    )
    s = load_settings(cfg, env={}, database_url="sqlite:///flag.db")
    s = replace(s, smtp=replace(s.smtp, urls=("smtp://a:25?daily_limit=9", "smtps://b:465"), connections=3))
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    assert load_settings(empty, env=as_env(s)) == s
