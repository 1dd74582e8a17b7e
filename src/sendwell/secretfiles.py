"""Files that hold secrets (the SQLite database and its -wal/-shm, DKIM private keys, the configuration file)
and a check, run when `serve` and `send` start, that none of them is readable by group or others."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sendwell.config import Settings

# why each kind of file matters, for the warning
_HOLDS = {
    "database": "the HMAC secret and password hashes",
    "dkim": "a DKIM private key",
    "config": "relay passwords and webhook keys",
}


def secret_files(settings: Settings, config_path: str | os.PathLike | None = None) -> list[tuple[Path, str]]:
    """(path, kind) of every such file that exists."""
    from sendwell.db.engine import normalize_url
    from sendwell.dkim import keys_dir

    found: list[tuple[Path, str]] = []
    url = normalize_url(settings.database.url)
    if url.startswith("sqlite:///") and not url.endswith(":memory:"):
        db = url.removeprefix("sqlite:///").split("?", 1)[0]
        found += [(Path(db + suffix), "database") for suffix in ("", "-wal", "-shm")]
    folder = keys_dir(settings.dkim.dir)
    if folder.is_dir():
        found += [(p, "dkim") for p in sorted(folder.glob("*.pem"))]
    found.append((Path(config_path or "sendwell.toml"), "config"))
    return [(p, kind) for p, kind in found if p.is_file()]


def exposed(settings: Settings, config_path: str | os.PathLike | None = None) -> list[str]:
    """One warning per secret file that group or others may read, naming the fix."""
    warnings = []
    for path, kind in secret_files(settings, config_path):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            warnings.append(
                f"{path} holds {_HOLDS[kind]} but is readable by others (mode {mode:04o}): chmod 600 {path}"
            )
    return warnings
