"""Files that hold secrets are created 0600, and `serve` and `send` warn about any that others can read."""

import os
import stat

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from sendwell.cli.app import app as cli_app
from sendwell.db.engine import open_database


@pytest.fixture
def usual_umask():
    old = os.umask(0o022)  # the common default, under which a plain open() makes files world-readable
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_database_sendwell_creates_is_readable_by_its_owner_only(tmp_path, usual_umask):
    """Finding 8: the SQLite file was 0644, and a local user forged an admin session from its HMAC secret."""
    db = tmp_path / "sendwell.db"
    r = CliRunner().invoke(
        cli_app, ["--database", str(db), "users", "create", "ops", "--password-stdin"], input="a long password\n"
    )
    assert r.exit_code == 0, r.output
    engine = open_database(f"sqlite:///{db}")
    with engine.connect() as conn:  # a reader keeps the -wal and -shm files in place
        conn.execute(text("SELECT 1 FROM users"))
        files = sorted(p.name for p in tmp_path.iterdir())
        assert {"sendwell.db", "sendwell.db-wal", "sendwell.db-shm"} <= set(files)
        assert {name: _mode(tmp_path / name) for name in files} == {name: 0o600 for name in files}
    engine.dispose()


def test_serve_and_send_warn_about_secret_files_others_can_read(tmp_path, usual_umask):
    db = tmp_path / "sendwell.db"
    open_database(f"sqlite:///{db}").dispose()
    keys = tmp_path / "dkim"
    keys.mkdir()
    (keys / "example.com.s1.rsa.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    config = tmp_path / "sendwell.toml"
    config.write_text('[smtp]\nurls = ["smtp+starttls://user:secret@relay.example:587"]\n')
    os.chmod(db, 0o644)
    args = ["--database", str(db), "--config", str(config)]
    env = {"SENDWELL_DKIM_DIR": str(keys)}

    for command in (["serve", "--max-upload-mb", "0"], ["campaigns", "send", "no-such-campaign"]):
        out = CliRunner().invoke(cli_app, [*args, *command], env=env).output
        assert f"{db} holds the HMAC secret and password hashes but is readable by others (mode 0644)" in out
        assert f"chmod 600 {db}" in out
        assert f"{keys / 'example.com.s1.rsa.pem'} holds a DKIM private key" in out
        assert f"{config} holds relay passwords" in out

    for path in [*tmp_path.glob("sendwell.db*"), keys / "example.com.s1.rsa.pem", config]:
        os.chmod(path, 0o600)  # -wal and -shm too: SQLite made them with the database file's mode
    r = CliRunner().invoke(cli_app, [*args, "serve", "--max-upload-mb", "0"], env=env)
    assert "readable by others" not in r.output and "--max-upload-mb" in str(r.exception)
