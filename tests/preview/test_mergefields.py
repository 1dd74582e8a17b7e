"""The fields a template uses and what covers them blank, from Jinja2's syntax tree (pure: no database)."""

import pytest

from sendwell.mergefields import Cover, fields_used

CASES = [  # (template, {field: cover})
    ("Hi {{ first_name }}", {"first_name": Cover.NONE}),
    ('Hi {{ first_name | default("there") }}', {"first_name": Cover.MISSING}),
    ('Hi {{ first_name | d("there") }}', {"first_name": Cover.MISSING}),
    ('Hi {{ first_name | default("there", true) }}', {"first_name": Cover.ALL}),
    ('Hi {{ first_name | default("there", boolean=true) }}', {"first_name": Cover.ALL}),
    ('Hi {{ first_name | default("there") | upper }}', {"first_name": Cover.MISSING}),
    ("{% if city %}in {{ city }}{% endif %}", {"city": Cover.ALL}),
    ("{% if city is defined %}in {{ city }}{% endif %}", {"city": Cover.MISSING}),
    ("{% if city %}in {{ city }}{% else %}{{ region }}{% endif %}", {"city": Cover.ALL, "region": Cover.NONE}),
    ("{% if a or b %}{{ a }}{% endif %}", {"a": Cover.NONE, "b": Cover.ALL}),
    ("{% if a and b %}{{ a }}{{ b }}{% endif %}", {"a": Cover.ALL, "b": Cover.ALL}),
    ('{{ city if city else "near you" }}', {"city": Cover.ALL}),
    ("{{ address.city }}", {"address": Cover.NONE}),
    # one bare use is enough to show a blank
    ('{{ first_name | default("x") }} and {{ first_name }}', {"first_name": Cover.NONE}),
    # not contact fields: set by the template itself, or filled by the builder for everyone
    (
        "{% set n = 2 %}{{ n }}{% for i in items %}{{ i }}{% endfor %}{{ email }} {{ unsubscribe_url }}",
        {"items": Cover.NONE},
    ),
    ("plain text, no field", {}),
]


@pytest.mark.parametrize("template, expected", CASES, ids=[c[0][:40] for c in CASES])
def test_fields_and_their_cover(template, expected):
    assert {u.name: u.cover for u in fields_used([template])} == expected


def test_a_field_takes_its_least_covered_use_across_subject_text_and_html():
    used = fields_used(['Hi {{ first_name | default("you", true) }}', None, "<p>{{ first_name }}</p>"])
    assert [(u.name, u.cover) for u in used] == [("first_name", Cover.NONE)]
