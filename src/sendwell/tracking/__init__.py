"""Read and click tracking, opt-in per campaign: tokens, HTML rewriting, recording and statistics.

The pure parts (`tokens`, `rewrite`, `machine`) import nothing of the app, so the message builder can
use them; `record` and `report` are database services; `answers` gives the web layer its responses.
"""
