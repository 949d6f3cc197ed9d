"""Logging filters of the ledger's periodic work (configured in settings.LOGGING)."""

import logging

from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS

# Written out rather than imported: logging is configured before the apps are loaded.
# tests/accounting/test_fold_logging.py checks them against the task and beat's schedule.
FOLD_TASK = "accounting.tasks.account_balances_fold_task"
FOLD_BEAT_ENTRY = "fold-balance-deltas"


class IdleFoldFilter(logging.Filter):
    """Lower Celery's lines about a fold that folded nothing to DEBUG.

    Beat queues the fold every few seconds; at INFO each run wrote beat's "Sending due task",
    the worker's "received" and its "succeeded ...: 0", burying the balance-change log. A fold
    that folded something still logs its "succeeded" line (with the count) at INFO.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._idle_fold(record):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        # The service's LOG_LEVEL is the root's; Celery sets its own loggers' from --loglevel.
        return logging.getLogger().isEnabledFor(logging.DEBUG)

    @staticmethod
    def _idle_fold(record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, dict) and args.get("name") == FOLD_TASK:
            if record.msg == LOG_RECEIVED:
                return True
            return record.msg == LOG_SUCCESS and str(args.get("return_value")) == "0"
        if isinstance(args, tuple) and record.name == "celery.beat":
            return FOLD_TASK in args or FOLD_BEAT_ENTRY in args
        return False
