"""A campaign's language puts the built-in layouts' own words (greeting, unsubscribe footer) in Vietnamese or
English, in the preview and in what a real SMTP server (aiosmtpd) receives, HTML and plain-text parts alike, on
SQLite and PostgreSQL; a user's own layout is sent as written; the CLI's default is the installation's language."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jinja2
import pytest

from sendwell import campaigns, layoutwords, preview, templates
from sendwell.errors import UserError
from sendwell.sending.engine import send
from sendwell.translations import translations

from factories import add_contacts
from sending.conftest import sender_settings
from sending.smtpd import Script, ScriptedServer

PEOPLE = {"ann@example.org": {"first_name": "Ann"}}
VI_FOOTER = "Bạn nhận được email này qua địa chỉ ann@example.org."
EN_FOOTER = "You receive this email as ann@example.org."


@pytest.mark.parametrize("name", templates.BUILT_IN)
def test_every_word_of_a_built_in_layout_is_in_the_catalogue_and_leaves_a_plain_template(name):
    source = templates.shipped(name)
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    env.newstyle_gettext = True  # type: ignore[attr-defined]  # as babel.cfg extracts them
    extracted = [m if isinstance(m, str) else m[0] for _, _, m in env.extract_translations(source)]
    assert len(extracted) >= 2
    vi = translations("vi")
    for msgid in extracted:
        assert vi.gettext(msgid) != msgid, f"{msgid!r} has no Vietnamese translation"
    computed = [layoutwords.msgid(b) for b in layoutwords._TRANS.findall(source)]
    assert set(computed) <= set(extracted)  # the keys localize looks up are the ones `make messages` extracts
    for language in ("en", "vi"):
        out = layoutwords.localize(source, language)
        assert "trans" not in out and "_(" not in out
        jinja2.Environment().parse(out)  # the per-recipient renderer has no i18n extension
        assert "{{ email }}" in out and "{{ unsubscribe_url }}" in out and "{{ content }}" in out


def test_a_layout_without_marked_words_is_left_as_written():
    own = '<p>{{ content }}</p><a href="{{ unsubscribe_url }}">Unsubscribe</a> 100% {{ _x }}'
    assert layoutwords.localize(own, "vi") == own


def _campaign(engine, name: str, template: str, language: str | None) -> int:
    extra = {"language": language} if language else {}
    return campaigns.create_campaign(
        engine, name=name, subject="Hi", from_addr="news@shop.example", html="<p>Body</p>", template=template, **extra
    )


def test_the_preview_shows_the_footer_in_the_campaign_language(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("SENDWELL_DKIM_DIR", str(tmp_path))
    add_contacts(engine, list(PEOPLE), PEOPLE)
    vi, en = _campaign(engine, "vi", "simple", "vi"), _campaign(engine, "en", "simple", None)
    assert campaigns.get_campaign(engine, en).language == "en"  # the service's default; front ends pass [web]
    settings = sender_settings("smtp://127.0.0.1:1")
    shown = preview.preview(engine, settings, vi, "ann@example.org")
    assert shown.html and VI_FOOTER in shown.html and ">Hủy đăng ký</a>" in shown.html
    assert shown.text and VI_FOOTER in shown.text and "[Hủy đăng ký](" in shown.text
    assert "Unsubscribe" not in shown.html + shown.text
    shown = preview.preview(engine, settings, en, "ann@example.org")
    assert shown.html and EN_FOOTER in shown.html and ">Unsubscribe</a>" in shown.html
    assert shown.text and "Hủy" not in shown.text and "[Unsubscribe](" in shown.text


def test_a_vietnamese_campaign_is_delivered_with_the_vietnamese_footer(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("SENDWELL_DKIM_DIR", str(tmp_path))
    add_contacts(engine, list(PEOPLE), PEOPLE)
    templates.create_template(engine, "own", '<div>{{ content }}</div><a href="{{ unsubscribe_url }}">Leave</a>')
    ids = {
        "vi": _campaign(engine, "news-vi", "newsletter", "vi"),
        "en": _campaign(engine, "news-en", "newsletter", "en"),
        "own": _campaign(engine, "own-vi", "own", "vi"),
    }
    got = {}
    with ScriptedServer(Script()) as server:
        for kind, cid in ids.items():
            campaigns.start_campaign(engine, cid)
            send(engine, sender_settings(server.url))
            got[kind] = server.accepted[-1].message
    parts = {k: (m.get_body(("html",)).get_content(), m.get_body(("plain",)).get_content()) for k, m in got.items()}
    html, text = parts["vi"]
    for part in (html, text):
        assert "Bản tin" in part and "Xin chào Ann," in part and "Hủy đăng ký" in part
        assert "Bạn nhận được bản tin này qua địa chỉ ann@example.org." in part
        assert "Unsubscribe" not in part and "Newsletter" not in part
    html, text = parts["en"]
    for part in (html, text):
        assert "Hello Ann," in part and "Unsubscribe" in part
        assert "You receive this newsletter as ann@example.org." in part
        assert "Hủy" not in part
    assert ">Leave</a>" in parts["own"][0] and "Hủy" not in parts["own"][0]  # a user's own words, as written


def test_a_language_sendwell_has_no_catalogue_for_is_refused_naming_the_field(engine):
    with pytest.raises(UserError, match="'fr' is not one of en, vi") as err:
        _campaign(engine, "c", "simple", "fr")
    assert err.value.field == "language"
    cid = _campaign(engine, "c", "simple", "vi")
    campaigns.edit_campaign(engine, cid, language="en")
    assert campaigns.get_campaign(engine, cid).language == "en"
    with pytest.raises(UserError, match="'xx' is not one of"):
        campaigns.edit_campaign(engine, cid, language="xx")


def test_an_edited_built_in_layout_keeps_its_marked_words_translatable(engine):
    edited = templates.shipped("simple").replace("{{ content }}", "<p>Ours</p>{{ content }}")
    templates.edit_template(engine, "simple", html=edited)  # the {% trans %} blocks are accepted
    shown = templates.preview(engine, "simple", language="vi")
    assert "<p>Ours</p>" in shown.html and "Hủy đăng ký" in shown.html


def test_the_cli_sets_the_language_and_defaults_to_the_installation_one(tmp_path):
    env = {**os.environ, "SENDWELL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "SENDWELL_WEB_LANGUAGE": "vi"}
    (tmp_path / "b.html").write_text("<p>Hi</p>")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "sendwell.cli", "campaigns", *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)

    base = ("--subject", "s", "--from", "a@example.com", "--html", "b.html", "--template", "simple")
    assert run("create", "a", *base).returncode == 0
    assert run("create", "b", *base, "--language", "en").returncode == 0
    assert run("edit", "a", "--language", "en").returncode == 0
    r = run("edit", "b", "--language", "fr")
    assert r.returncode != 0 and "--language: 'fr' is not one of en, vi" in r.stderr
    shown = {n: json.loads(run("show", n, "--json").stdout)["language"] for n in ("a", "b")}
    assert shown == {"a": "en", "b": "en"}
    assert run("create", "c", *base).returncode == 0
    assert json.loads(run("show", "c", "--json").stdout)["language"] == "vi"
