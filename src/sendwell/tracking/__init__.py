"""Read and click tracking, opt-in per campaign: tokens, HTML rewriting, recording and statistics.

Pure (no database, usable by the message builder): `tokens` (signed opaque tokens), `rewrite`
(the campaign template or final HTML with tracking put in), `machine` (the machine-hit rules).
Services: `links` (a click's target from the stored campaign), `record` (hits → events and
statuses), `report` (statistics), `answers` (what the two URLs answer, for the web layer).
"""
