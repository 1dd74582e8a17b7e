"""/api/v1/verify, offline (dns=false): verdicts, reasons and suggestions for an uploaded or pasted list."""

from __future__ import annotations


def test_pasted_list_gets_a_verdict_per_address(api) -> None:
    r = api.post("/api/v1/verify", data={"text": "ann@gmial.com\nx@mailinator.com\nbroken@", "dns": "false"})
    assert r.status_code == 200
    data = r.json()
    by_address = {x["address"]: x for x in data["results"]}
    assert data["total"] == 3 and data["counts"]["invalid"] == 1
    assert by_address["ann@gmial.com"]["suggestion"] == "ann@gmail.com"
    assert "disposable" in by_address["x@mailinator.com"]["reasons"]
    assert by_address["broken@"]["verdict"] == "invalid"


def test_uploaded_csv_and_bad_requests(api) -> None:
    r = api.post("/api/v1/verify", data={"dns": "false"}, files={"file": ("l.csv", b"email,name\nbob@example.org,B\n")})
    assert r.json()["results"][0]["normalized"] == "bob@example.org"
    r = api.post("/api/v1/verify", data={"dns": "false"})
    assert r.status_code == 400 and r.json()["field"] == "file"
    r = api.post("/api/v1/verify", data={"dns": "false"}, files={"file": ("x.bin", b"\x00\x01" * 100)})
    assert r.status_code == 400 and r.json()["field"] == "file" and "binary" in r.json()["detail"]
