"""A click's target is written as an ASCII URI (RFC 3986): what a URI cannot hold is percent-encoded as UTF-8,
an international host becomes IDNA, and reserved characters and existing escapes keep their meaning."""

import pytest

from sendwell.tracking.links import as_uri, link_for


@pytest.mark.parametrize(
    "url, uri",
    [
        ("https://shop.example/autumn?id=a1&from=mail", "https://shop.example/autumn?id=a1&from=mail"),
        ("https://shop.example/p/café€", "https://shop.example/p/caf%C3%A9%E2%82%AC"),
        ("https://shop.example/p/a b?q=x y#part two", "https://shop.example/p/a%20b?q=x%20y#part%20two"),
        ("https://shop.example/p/caf%C3%A9", "https://shop.example/p/caf%C3%A9"),  # already encoded: kept
        ("https://shop.example/p/100%", "https://shop.example/p/100%25"),  # a stray % is a literal one
        ('https://shop.example/p/a"<>{}|^`b', "https://shop.example/p/a%22%3C%3E%7B%7D%7C%5E%60b"),
        ("https://café.example/ü", "https://xn--caf-dma.example/%C3%BC"),
        ("https://shop.example/p/\x01", "https://shop.example/p/%01"),
    ],
)
def test_urls_become_ascii_uris(url, uri):
    assert as_uri(url) == uri
    assert as_uri(uri) == uri  # idempotent: a URI is left alone


def test_a_host_that_cannot_be_written_in_ascii_names_no_target():
    assert as_uri("https://shop.example:８０/") is None


def test_merged_values_are_encoded_and_the_scheme_and_host_stay_ours():
    template = '<a href="https://shop.example/p/{{ company }}?c={{ city }}">x</a>'
    fields = {"company": "Ünïcode ☃ & Co", "city": "São Paulo"}
    assert (
        link_for(template, 0, 1, "ann@example.com", fields)
        == "https://shop.example/p/%C3%9Cn%C3%AFcode%20%E2%98%83%20&%20Co?c=S%C3%A3o%20Paulo"
    )
    hostile = {"company": "x/../../@evil.example", "city": "\r\nSet-Cookie: a=b"}
    url = link_for(template, 0, 1, "ann@example.com", hostile)
    assert url is not None and url.startswith("https://shop.example/") and url.isascii() and "\n" not in url
