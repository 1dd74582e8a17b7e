"""/api/v1/contacts over a real database: upload import, paging and search, show, delete, export, bad uploads."""

from __future__ import annotations

import csv
import functools
import io

from .helpers import MAX_UPLOAD


def _csv(n: int, start: int = 0) -> bytes:
    rows = ["email,first name"] + [f"user{i:03d}@example.com,User {i}" for i in range(start, start + n)]
    return ("\n".join(rows) + "\n").encode()


def test_upload_import_reports_each_bad_row(api) -> None:
    data = b"email,first name\nann@example.com,Ann\nnot-an-address,Bob\nann@example.com,Annie\n,\nx@,Y,Z\n"
    r = api.post("/api/v1/contacts/import", files={"file": ("people.csv", data, "text/csv")})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["imported"] == 1 and report["merged"] == 1
    assert {(x["line"], x["text"]) for x in report["rejected"]} >= {(3, "not-an-address")}
    assert len(report["rejected"]) == 2  # the bad address, and x@ (its extra field is only a warning)
    assert [(w["line"], w["reason"]) for w in report["warnings"]] == [
        (6, "3 fields where the header has 2: the last 1 ignored")
    ]
    assert report["duplicates"] == [{"line": 4, "first_line": 2, "text": "ann@example.com"}]
    shown = api.get("/api/v1/contacts/ann@example.com").json()
    assert shown["fields"] == {"first_name": "Ann"}  # merge: the later row only fills empty fields


def test_upload_import_with_a_mapping_and_a_policy(api) -> None:
    data = b"Kontakt;Rufname\nann@example.com;Ann\nann@example.com;Annie\n"
    form = {"map": "Kontakt=email,Rufname=first_name", "on_duplicate": "last"}
    r = api.post("/api/v1/contacts/import", files={"file": ("p.csv", data, "text/csv")}, data=form)
    assert r.status_code == 200, r.text
    assert api.get("/api/v1/contacts/ann@example.com").json()["fields"] == {"first_name": "Annie"}
    r = api.post("/api/v1/contacts/import", files={"file": ("p.csv", data, "text/csv")}, data={"map": "Vorname=x"})
    assert r.status_code == 400 and r.json()["field"] == "map" and "no column 'Vorname'" in r.json()["detail"]


def test_list_pages_and_search(api) -> None:
    api.post("/api/v1/contacts/import", files={"file": ("a.csv", _csv(7))})
    page = api.get("/api/v1/contacts", params={"limit": 3, "offset": 3}).json()
    assert page["total"] == 7 and page["limit"] == 3 and page["offset"] == 3
    assert [c["email"] for c in page["items"]] == ["user003@example.com", "user004@example.com", "user005@example.com"]
    last = api.get("/api/v1/contacts", params={"limit": 3, "offset": 6}).json()
    assert len(last["items"]) == 1
    found = api.get("/api/v1/contacts", params={"search": "USER00"}).json()
    assert found["total"] == 7
    found = api.get("/api/v1/contacts", params={"search": "user005"}).json()
    assert found["total"] == 1 and found["items"][0]["email"] == "user005@example.com"


def test_paging_limits_are_checked(api) -> None:
    for params in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"limit": "many"}):
        r = api.get("/api/v1/contacts", params=params)
        assert r.status_code == 422
        assert r.json()["field"] in ("limit", "offset")


def test_show_and_delete(api) -> None:
    api.post("/api/v1/contacts/import", files={"file": ("a.csv", b"email\nBob@Example.COM\n")})
    assert api.get("/api/v1/contacts/bob@example.com").json()["display"] == "Bob@Example.COM"
    assert api.delete("/api/v1/contacts/bob@example.com").json() == {"deleted": 1}
    r = api.get("/api/v1/contacts/bob@example.com")
    assert r.status_code == 404 and "no such contact" in r.json()["detail"]
    assert api.delete("/api/v1/contacts/bob@example.com").status_code == 404
    r = api.get("/api/v1/contacts/not an address")
    assert r.status_code == 400 and r.json()["field"] == "email"


def test_export_streams_every_contact_as_csv(api) -> None:
    api.post("/api/v1/contacts/import", files={"file": ("a.csv", _csv(1200))})
    r = api.get("/api/v1/contacts/export.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 1200 and rows[0]["email"] == "user000@example.com"
    assert rows[0]["first_name"] == "User 0"  # one column per field, as the CLI writes it


def test_too_large_upload_is_refused_with_413(api) -> None:
    big = _csv(MAX_UPLOAD // 20 + 100)
    assert len(big) > MAX_UPLOAD
    r = api.post("/api/v1/contacts/import", files={"file": ("big.csv", big)})
    assert r.status_code == 413
    assert r.json()["field"] == "file" and "too large" in r.json()["detail"]
    assert api.get("/api/v1/contacts").json()["total"] == 0


def test_too_large_streamed_upload_without_length_is_refused(api) -> None:
    boundary = "xyz"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()

    def chunks():  # no Content-Length: the limit must be enforced while reading
        yield head
        for _ in range(MAX_UPLOAD // 1000 + 10):
            yield b"a@example.com\n" * 70
        yield f"\r\n--{boundary}--\r\n".encode()

    r = api.post(
        "/api/v1/contacts/import",
        content=chunks(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 413
    assert api.get("/api/v1/contacts").json()["total"] == 0


def test_binary_upload_is_a_clear_400(api) -> None:
    r = api.post("/api/v1/contacts/import", files={"file": ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)})
    assert r.status_code == 400
    assert r.json() == {
        "detail": "photo.png: looks like a binary file, not CSV or text",
        "field": "file",
        "pointer": "/file",
    }


def test_missing_file_is_a_422_naming_it(api) -> None:
    r = api.post("/api/v1/contacts/import", data={"x": "y"})
    assert r.status_code == 422 and r.json()["field"] == "file"


@functools.cache
def _bombs() -> dict[str, bytes]:
    """~190 KB archives (under the test's 256 KB upload limit) that expand to 192 MB of zeros."""
    import gzip
    import zipfile

    zeros = b"\0" * (1 << 20)
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9) as gz:
        for _ in range(192):
            gz.write(zeros)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("contacts.csv", "w", force_zip64=True) as f:
        for _ in range(192):
            f.write(zeros)
    return {"contacts.csv.gz": raw.getvalue(), "contacts.zip": packed.getvalue()}


def test_zip_bomb_uploads_are_refused_without_being_expanded(api) -> None:
    import tracemalloc

    tracemalloc.start()
    try:
        for name, bomb in _bombs().items():
            assert len(bomb) < MAX_UPLOAD  # small enough to pass the size check: it is the content that must fail
            tracemalloc.reset_peak()
            r = api.post("/api/v1/contacts/import", files={"file": (name, bomb)})
            assert r.status_code == 400, r.text
            assert r.json() == {
                "detail": f"{name}: looks like a binary file, not CSV or text",
                "field": "file",
                "pointer": "/file",
            }
            # the same bytes as a gzip-encoded request body: not inflated either
            r = api.post(
                "/api/v1/contacts/import",
                content=bomb,
                headers={"Content-Type": "text/csv", "Content-Encoding": "gzip"},
            )
            assert r.status_code in (400, 415, 422), r.text
            assert tracemalloc.get_traced_memory()[1] < 20 * 1024 * 1024  # far below the 192 MB inside
    finally:
        tracemalloc.stop()
    assert api.get("/api/v1/contacts").json()["total"] == 0
