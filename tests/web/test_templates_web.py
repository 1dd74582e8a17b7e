"""The template pages over SQLite and PostgreSQL (TestClient): create, edit, the preview frame under its own strict
policy, errors shown on the form, delete refused while used, and the campaign form's template picker."""

from __future__ import annotations

from sendwell import campaigns, templates
from sendwell.web.ui.preview import FRAME_POLICY

LAYOUT = "<div>Brand {{ first_name }}</div>{{ content }}<script>alert(1)</script>"


def test_create_edit_and_preview_a_template(ui, web_engine) -> None:
    page = ui.get("/templates")
    assert page.status_code == 200 and "newsletter" in page.text and "simple" in page.text
    form = ui.get("/templates/new?start=newsletter")
    assert 'data-code-editor="html"' in form.text and "Newsletter" in form.text  # started from the built-in one
    r = ui.post("/templates/new", {"name": "brand", "html": LAYOUT, "text": ""}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/templates/edit?name=brand&notice=saved"
    assert templates.get_template(web_engine, "brand").html == LAYOUT
    frame = ui.get("/templates/preview.html?name=brand")
    assert frame.headers["content-security-policy"] == FRAME_POLICY  # no script runs in the frame
    assert "Brand Ada" in frame.text and "The campaign's body goes here" in frame.text
    typed = ui.post("/templates/preview.html", {"html": "<p>{{ email }}</p>{{ content }}", "text": ""})
    assert typed.headers["content-security-policy"] == FRAME_POLICY and "<p>ada@example.com</p>" in typed.text
    broken = ui.post("/templates/preview.html", {"html": "{{ content }}{% if %}", "text": ""})
    assert broken.status_code == 200 and "template error" in broken.text  # shown in the frame, not a 500
    broken = ui.post("/templates/preview.html", {"html": "{{ content }}{{ first_name + 1 }}", "text": ""})
    assert broken.status_code == 200 and "cannot be rendered: TypeError" in broken.text
    r = ui.post("/templates/edit", {"original": "brand", "name": "brand", "html": "<p>no slot</p>", "text": ""})
    assert r.status_code == 400 and "HTML: has no {{ content }}" in r.text.replace("&#39;", "'")
    assert 'aria-invalid="true"' in r.text


def test_a_campaign_picks_a_template_and_the_template_is_kept_while_used(ui, web_engine) -> None:
    templates.create_template(web_engine, "brand", LAYOUT)
    form = ui.get("/campaigns/new")
    assert '<option value="brand"' in form.text
    data = {
        "name": "c",
        "subject": "s",
        "from_addr": "a@example.com",
        "html": "Hello *you*",
        "body_format": "markdown",
        "template": "brand",
    }
    r = ui.post("/campaigns/new", data, follow_redirects=False)
    assert r.status_code == 303
    camp = campaigns.get_campaign(web_engine, "c")
    assert camp.template == "brand" and camp.body_format == "markdown"
    assert '<option value="brand" selected' in ui.get(f"/campaigns/{camp.id}/edit").text
    r = ui.post("/templates/delete", {"original": "brand"}, follow_redirects=False)
    assert r.status_code == 400 and "used by 1 campaign(s): &#39;c&#39;" in r.text  # on the list, where the button was
    r = ui.post(f"/campaigns/{camp.id}/edit", {**data, "template": ""}, follow_redirects=False)
    assert r.status_code == 303 and campaigns.get_campaign(web_engine, "c").template is None
    r = ui.post("/templates/delete", {"original": "brand"}, follow_redirects=False)
    assert "Template brand deleted." in ui.get(r.headers["location"]).text
