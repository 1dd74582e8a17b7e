"""The demo: the seed's story on a fresh SQLite file against a simulated receiving mail server."""
