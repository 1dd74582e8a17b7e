"""sendwell: a self-hosted email campaign sender that never keeps mailing addresses that do not exist."""

__version__ = "0.1.0"
