"""The gettext catalogues compiled at build time: the wheel carries a messages.mo for every messages.po, an
installed sendwell loads it (and not the .po), and a .mo older than its .po is never used."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from sendwell import translations as catalogues
from sendwell.config import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
OFFLINE = ("Could not find a version", "NewConnectionError", "Failed to establish", "Temporary failure in name")


def _write(locale: Path, language: str, text: str, *, mo: bool) -> Path:
    """A one-entry catalogue whose "Black list" reads `text`, as a .po or a compiled .mo."""
    catalog = Catalog(locale=language)
    catalog.add("Black list", text)
    path = locale / language / "LC_MESSAGES" / ("messages.mo" if mo else "messages.po")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        (write_mo if mo else write_po)(f, catalog)
    return path


def test_a_mo_older_than_its_po_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalogues, "LOCALE_DIR", tmp_path)
    load = catalogues.translations.__wrapped__  # uncached: each call reads the files again
    po = _write(tmp_path, "vi", "from the po", mo=False)
    assert catalogues.compiled("vi") is None and load("vi").gettext("Black list") == "from the po"
    mo = _write(tmp_path, "vi", "from the mo", mo=True)
    os.utime(po, (mo.stat().st_mtime - 0.001,) * 2)  # an install writes both, in any order, within an instant
    assert catalogues.compiled("vi") == mo and load("vi").gettext("Black list") == "from the mo"
    os.utime(po, (mo.stat().st_mtime + 60,) * 2)  # the .po edited after the build: the .mo is stale
    assert catalogues.compiled("vi") is None and load("vi").gettext("Black list") == "from the po"


def test_source_tree_holds_no_compiled_catalogue() -> None:
    tracked = subprocess.run(["git", "ls-files", "*.mo"], cwd=ROOT, capture_output=True, text=True).stdout
    assert tracked == ""


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_wheel_carries_compiled_catalogues_that_load(tmp_path: Path) -> None:
    # build from a copy of the working tree: the build writes build/ and *.egg-info where it runs
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    src = tmp_path / "src-copy"
    for name in files:
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    built = subprocess.run([*pip, "wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(src)], capture_output=True)
    if built.returncode and any(w in built.stderr.decode() for w in OFFLINE) and os.environ.get("CI") != "true":
        pytest.skip("building the wheel needs its build requirements from the package index, which is unreachable")
    assert built.returncode == 0, built.stderr.decode()
    [wheel] = (tmp_path / "dist").glob("sendwell-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for language in LANGUAGES:
        assert f"sendwell/locale/{language}/LC_MESSAGES/messages.po" in names
        assert f"sendwell/locale/{language}/LC_MESSAGES/messages.mo" in names, sorted(n for n in names if "locale" in n)

    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True)
    probe = (
        "import sendwell.translations as t;"
        "print(t.__file__); print(t.compiled('vi')); print(t.translations('vi').gettext('Black list'))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    module, mo, text = out.stdout.splitlines()
    assert module.startswith(str(site)), module  # the installed copy, not the source tree
    assert mo == str(site / "sendwell/locale/vi/LC_MESSAGES/messages.mo")
    assert text == "Danh sách đen"
