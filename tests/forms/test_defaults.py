"""A form's default words in each language: the translations keep every variable of the template, a default
text saved back through a browser's text area (CRLF) is still the default, an edited one is left alone."""

from __future__ import annotations

import jinja2
import jinja2.meta
import pytest

from sendwell.forms import defaults, store
from sendwell.translations import translations

ENV = jinja2.Environment()


def _variables(source: str) -> set[str]:
    return jinja2.meta.find_undeclared_variables(ENV.parse(source))


@pytest.mark.parametrize("default", [defaults.SUBJECT, defaults.BODY])
def test_vietnamese_keeps_every_variable(default: str) -> None:
    translated = translations("vi").gettext(default)
    assert translated != default
    assert _variables(translated) == _variables(default)


def test_default_saved_through_a_text_area_is_still_the_default() -> None:
    assert defaults.body_in(defaults.BODY.replace("\n", "\r\n").rstrip(), "vi").startswith("Xin chào")
    assert defaults.subject_in(defaults.SUBJECT, "vi").startswith("Vui lòng")
    assert defaults.body_in("Hi, click {{ confirm_url }}\n", "vi") == "Hi, click {{ confirm_url }}\n"
    assert defaults.body_in(defaults.BODY, "en") == defaults.BODY
    assert defaults.body_in(defaults.BODY, "xx") == defaults.BODY  # a language without a catalogue: English


def test_consent_translated_for_the_sender_it_names() -> None:
    text = store.default_consent("Acme News <news@acme.example>")
    assert defaults.consent_in(text, "vi") == (
        "Có, hãy gửi cho tôi email từ Acme News. Tôi có thể hủy đăng ký bất cứ lúc nào bằng liên kết trong mỗi email."
    )
    assert defaults.consent_in(store.default_consent(""), "vi").startswith("Có, hãy gửi email cho tôi.")
    old = "Yes, send me emails from us. I can unsubscribe at any time with the link in every email."
    assert defaults.consent_in(old, "vi").startswith("Có, hãy gửi email cho tôi.")  # forms made before, no sender
    assert defaults.consent_in("I agree to the newsletter.", "vi") == "I agree to the newsletter."
    assert defaults.consent_in(text, "en") == text
