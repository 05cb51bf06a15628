"""The refusal every staff action and the router can give, with a reason a person can read."""


class ActionRefused(ValueError):
    """The action cannot be done; the message says why (Chinese / English)."""
