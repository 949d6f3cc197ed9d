"""The Celery worker's consumer, surviving the loss of its Redis broker.

Celery 5.7's consumer, on losing the broker, collects the connection (which drops the
transport's reference to its settings) and then closes it; closing the Redis channel
restores the unacknowledged messages (with acks_late there nearly always are some), which
needs a new Redis client built from those settings: AttributeError ("'NoneType' object has no
attribute 'hostname'"), which is no connection error, so the worker stopped with
"Unrecoverable error" instead of reconnecting. Here that error is taken for what it is, a
connection that could not be closed cleanly, and the consumer reconnects as usual. The
messages it could not restore stay in Redis's unacked set and are delivered again after the
visibility timeout (CELERY_VISIBILITY_TIMEOUT); every task is idempotent.
"""

import logging

from celery.worker.consumer import Consumer

logger = logging.getLogger(__name__)


class BrokerLossTolerantConsumer(Consumer):
    def on_connection_error_after_connected(self, exc):
        try:
            super().on_connection_error_after_connected(exc)
        except AttributeError as close_error:
            # Raised while closing the lost connection, after self.connection was cleared.
            self.connection = None
            logger.warning(
                "Broker connection lost (%r) and not closed cleanly (%r); reconnecting. "
                "Unacknowledged tasks are delivered again after the visibility timeout.",
                exc,
                close_error,
            )
