"""The sentences services write (set-up findings, form errors) reach a Vietnamese page in Vietnamese: each finding
the set-up check can make, produced by the real checks, is in web/ui/messages.py's table, with its names and
numbers carried over; the CLI and the API keep the English."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sendwell.config import SendingSettings, Settings, SmtpSettings
from sendwell.errors import UserError
from sendwell.setupcheck import check_bounce_domain, check_dkim, check_public_url, check_relays, check_worker
from sendwell.web.i18n import translations
from sendwell.web.ui.forms import form_error
from sendwell.web.ui.messages import translate
from sendwell.web.ui.render import environment

from sending.smtpd import free_port

VI = translations("vi")


class _Dns:
    """Answers for the bounce domain's MX check: `mx` records, else `addresses`."""

    def __init__(self, mx: list[tuple[int, str]], addresses: list[str]) -> None:
        self._mx, self._addresses = mx, addresses

    def mx(self, name: str) -> list[tuple[int, str]]:
        return self._mx

    def addresses(self, name: str) -> list[str]:
        return self._addresses


def _findings(engine) -> list:
    bare = Settings()
    bounce = replace(bare, sending=replace(bare.sending, bounce_domain="bounces.shop.example"))
    unreachable = replace(bare, smtp=SmtpSettings(urls=[f"smtp://127.0.0.1:{free_port()}"]))
    found = [
        check_public_url(bare),
        check_bounce_domain(replace(bare, sending=SendingSettings(bounce_domain="")), _Dns([], [])),
        check_bounce_domain(bounce, _Dns([(0, ".")], [])),  # type: ignore[arg-type]
        check_bounce_domain(bounce, _Dns([], ["192.0.2.1"])),  # type: ignore[arg-type]
        check_bounce_domain(bounce, _Dns([], [])),  # type: ignore[arg-type]
        *check_dkim(bare, ["nokey.example"]),
        *check_relays(replace(bare, smtp=SmtpSettings(urls=[]))),
        *check_relays(unreachable, timeout=2.0),
        check_worker(engine),
    ]
    return [f for f in found if f.level.value != "ok"]


def test_every_set_up_problem_is_written_in_vietnamese(engine) -> None:
    findings = _findings(engine)
    assert len(findings) == 9
    for f in findings:
        for text in (f.message, f.fix):
            shown = translate(VI, text)
            assert shown != text, f"not in web/ui/messages.py: {text!r}"
        assert "nokey.example" not in f.message or "nokey.example" in translate(VI, f.message)
    html = environment("vi").get_template("_setup_warnings.html").render(setup_problems=findings)
    assert "Các vấn đề cấu hình:" in html and "chạy tiến trình gửi" in html
    assert "chưa có khóa DKIM cho nokey.example" in html and "bounces.shop.example" in html
    assert "no sending worker" not in html and "public_url is not set" not in html
    # the same findings in English are the service's own sentences
    english = environment("en").get_template("_setup_warnings.html").render(setup_problems=findings)
    assert all(f.message.replace("'", "&#39;").replace('"', "&#34;") in english for f in findings)


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (UserError("must not be empty", field="name"), "Tên: không được để trống"),
        (UserError("'x@': missing domain after '@'", field="from_addr"), "Người gửi: 'x@': thiếu tên miền sau '@'"),
        (UserError("campaign 'spring' already exists", field="name", named=True), "chiến dịch 'spring' đã tồn tại"),
        (UserError("something new a service says", field="name"), "Tên: something new a service says"),
    ],
)
def test_form_errors_name_the_field_and_say_it_in_the_readers_language(error, shown) -> None:
    labels = {"name": "Name", "from_addr": "From"}
    assert form_error(error, labels, VI) == (shown, error.field)
    assert form_error(error, labels)[0] == str(error) if error.named else f"{labels[error.field]}: {error.message}"
