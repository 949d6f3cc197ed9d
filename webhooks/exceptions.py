class SignatureError(Exception):
    """The delivery's signature is missing, wrong, or too old."""


class PaymentUnbookable(Exception):
    """The database refuses this payment's data; nothing was booked."""
