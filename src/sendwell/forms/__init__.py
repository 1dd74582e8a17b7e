"""Subscription forms: the forms themselves (store), their signed tokens, a submission's checks and its
confirmation (subscribe), the confirmation message (mail) and the preference page's lists (preferences)."""
