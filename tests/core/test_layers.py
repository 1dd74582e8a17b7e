"""The import-linter contract "db/ imports no service" forbids every module of sendwell but the ones db/ may use,
so a new service is covered the day it is added."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DB_MAY_IMPORT = {"config", "model", "errors", "db"}


def test_db_contract_forbids_every_other_module() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    [db] = [c for c in contracts if c["source_modules"] == ["sendwell.db"]]
    modules = {
        p.stem for p in (ROOT / "src" / "sendwell").iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()
    }
    assert set(db["forbidden_modules"]) == {f"sendwell.{m}" for m in modules - DB_MAY_IMPORT - {"__init__"}}
