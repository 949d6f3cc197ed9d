"""kombu's Redis transport, whose channels keep their connection settings after the loss of
the broker.

When the worker loses Redis, Celery collects the lost connection, which drops the transport's
reference to its settings (`transport.client = None`), while the channels of that connection
still have work to do: closing one restores its unacknowledged messages, and a task that was
running during the outage acknowledges its message on the channel it came from once it ends.
Each needs a Redis client built from those settings, and failed with AttributeError ("'NoneType'
object has no attribute 'hostname'"), which is no connection error, so the worker stopped with
"Unrecoverable error" instead of reconnecting (kombu 5.7, celery 5.7). These channels keep the
settings they were opened with: a restore while Redis is still down is a connection error,
which Celery ignores, and an acknowledgement once it is back reaches it.
"""

from kombu.transport import redis


class Channel(redis.Channel):
    def __init__(self, connection, **kwargs):
        self._opened_with = connection.client  # before the parent may connect
        super().__init__(connection, **kwargs)

    def _connparams(self, asynchronous=False):
        transport = self.connection
        if transport.client is not None or self._opened_with is None:
            return super()._connparams(asynchronous=asynchronous)
        # The transport was collected: build the client from the settings the channel was
        # opened with (the worker's consumer runs in one thread).
        transport.client = self._opened_with
        try:
            return super()._connparams(asynchronous=asynchronous)
        finally:
            transport.client = None


class Transport(redis.Transport):
    Channel = Channel
