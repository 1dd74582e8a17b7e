"""Settings come from one object built by config.py: each environment variable still works, through it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from sendwell.cli.app import app
from sendwell.config import Settings, VerifySettings, load_settings
from sendwell.db.engine import DEFAULT_URL, normalize_url
from sendwell.verify.run import VerifyOptions

SRC = Path(__file__).resolve().parents[2] / "src" / "sendwell"
# The only reads of the environment outside config.py, and why they are not settings.
ENV_READERS = {
    "cli/watch.py": "--password-env names the variable that holds the IMAP password",
    "cli/sending.py": "hands the whole environment on to the worker processes it starts",
}


def test_no_module_but_config_reads_the_environment():
    readers = {
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if re.search(r"os\.environ|getenv\(", p.read_text(encoding="utf-8"))
    }
    assert readers - {"config.py"} == set(ENV_READERS)


def test_database_url_from_the_environment_goes_through_settings(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SENDWELL_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    assert load_settings().database.url == f"sqlite:///{tmp_path / 'env.db'}"
    assert normalize_url(None) == DEFAULT_URL  # the engine takes the URL it is given, nothing else
    r = CliRunner().invoke(app, ["contacts", "count", "--json"], catch_exceptions=False)
    assert r.exit_code == 0 and (tmp_path / "env.db").exists()


def _generate(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    r = CliRunner().invoke(
        app,
        [
            "--database",
            str(tmp_path / "x.db"),
            *args,
            "dkim",
            "generate",
            "--domain",
            "shop.example",
            "--selector",
            "s1",
            "--algorithm",
            "ed25519",
            "--json",
        ],
        env=env,
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_dkim_dir_from_the_environment_and_from_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    by_env = _generate(tmp_path, env={"SENDWELL_DKIM_DIR": str(tmp_path / "from-env")})
    assert Path(by_env["file"]).parent == tmp_path / "from-env" and Path(by_env["file"]).is_file()
    config = tmp_path / "sendwell.toml"
    config.write_text(f'[dkim]\ndir = "{tmp_path / "from-file"}"\n')
    by_file = _generate(tmp_path, "--config", str(config))
    assert Path(by_file["file"]).parent == tmp_path / "from-file"
    assert load_settings(config, env={"SENDWELL_DKIM_DIR": "/elsewhere"}).dkim.dir == "/elsewhere"


def test_disposable_file_from_the_environment_goes_through_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    extra = tmp_path / "mine.txt"
    extra.write_text("throwaway.example\n")
    settings = load_settings(None, env={"SENDWELL_DISPOSABLE_FILE": str(extra)})
    assert settings.verify.disposable_file == str(extra)
    # the long name beats the short one, as for SENDWELL_SMTP_URL
    assert (
        load_settings(
            None, env={"SENDWELL_DISPOSABLE_FILE": "a", "SENDWELL_VERIFY_DISPOSABLE_FILE": "b"}
        ).verify.disposable_file
        == "b"
    )
    r = CliRunner().invoke(
        app,
        ["--database", str(tmp_path / "x.db"), "verify", "--offline", "--jsonl", "-"],
        input="ann@throwaway.example\n",
        env={"SENDWELL_DISPOSABLE_FILE": str(extra)},
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    assert "disposable" in json.loads(r.output)["reasons"]
    r = CliRunner().invoke(
        app,
        ["--database", str(tmp_path / "x.db"), "verify", "--offline", "--jsonl", "-"],
        input="ann@throwaway.example\n",
        catch_exceptions=False,
    )
    assert "disposable" not in json.loads(r.output)["reasons"]


def test_the_disposable_file_setting_reaches_online_verification_unless_the_flag_is_given():
    settings = Settings(verify=VerifySettings(disposable_file="/from/settings"))
    assert VerifyOptions.from_settings(settings, disposable_overrides=None).disposable_overrides == "/from/settings"
    assert VerifyOptions.from_settings(settings, disposable_overrides="/flag").disposable_overrides == "/flag"
