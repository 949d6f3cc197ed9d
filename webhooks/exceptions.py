class SignatureError(Exception):
    """The delivery's signature is missing, wrong, or too old."""
