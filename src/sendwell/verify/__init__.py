"""Address verification before sending: syntax, mail domain (DNS), disposable, role, typo, SMTP probe."""
