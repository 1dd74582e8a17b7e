"""The README's main job: the demo story runs end to end and shows zero repeated errors."""

from rich.console import Console

from sendwell.demo.data import sample
from sendwell.demo.story import run


def test_demo_story_never_mails_a_dead_address_twice(tmp_path):
    console = Console(record=True, width=120)
    figures = run(tmp_path / "demo-out", console=console)
    _, dead = sample()
    bad = len(dead["unknown"]) + len(dead["late_bounce"])
    # every dead address is an error, and nothing else is: the outage and full mailboxes are not
    assert figures["campaign1"]["error"] == bad
    assert figures["campaign1"]["failed"] == 0
    assert figures["campaign2"]["error"] == 0
    assert figures["repeated_errors"] == 0 and figures["dead_sent_again"] == 0
    text = console.export_text()
    assert "Repeated errors: 0" in text and "relay problem (not counted against any address)" in text
    assert (tmp_path / "demo-out" / "autumn-sale-errors.csv").read_text().count("\n") == bad + 1
