"""Signals the webhook intake sends for the apps above it (which it must not import)."""

from django.dispatch import Signal

# Sent after a webhook booking commits, with `payment_id` and `key` (the payment's
# webhooks.services.DocumentKey): the bank-statement app matches it to statement lines.
payment_booked = Signal()
