"""Alert rules, Awaab's Law cases and clocks, and notifications through an outbox.

See alerts/README.md for the rules, the clocks, the webhook payloads and the signature scheme.
"""
