"""No silent skips in CI: with CI=true a skip fails unless the allow-list names it.

The allow-list (`tests/skips-allowed.txt`, or the `skips_allowed_file` ini option) holds one
entry a line: a test's node id, or a test file's path for every test in it, then `#` and the
reason the skip is acceptable. An entry without a reason is refused. Outside CI skips stay
skips. Either way the run's last line counts the skipped tests.
"""

import os
from pathlib import Path

import pytest

DEFAULT_ALLOW_LIST = "tests/skips-allowed.txt"


def pytest_addoption(parser):
    parser.addini(
        "skips_allowed_file",
        "the file listing, with a reason each, the skips CI accepts",
        default=DEFAULT_ALLOW_LIST,
    )


def allow_list_read(path: Path) -> dict[str, str]:
    """Entries of the allow-list: node id (or file path) -> reason. Raise on a bare entry."""
    entries = {}
    if not path.exists():
        return entries
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        node_id, _, reason = line.partition("#")
        if not reason.strip():
            raise pytest.UsageError(f"{path}:{number}: {node_id.strip()!r} gives no reason")
        entries[node_id.strip()] = reason.strip()
    return entries


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def pytest_configure(config):
    path = Path(config.rootpath, config.getini("skips_allowed_file"))
    config.pluginmanager.register(SkipPolicy(path, allow_list_read(path), _in_ci()), "skip_policy")


class SkipPolicy:
    def __init__(self, path: Path, allowed: dict[str, str], enforced: bool):
        self.path = path
        self.allowed = allowed
        self.enforced = enforced
        self.skipped = 0
        self.refused = 0

    def _permitted(self, node_id: str) -> bool:
        return node_id in self.allowed or node_id.split("::")[0] in self.allowed

    def _police(self, report) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        if not self.enforced or self._permitted(report.nodeid):
            return
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = (
            f"skipped in CI but not listed in {self.path.name}: {reason}\n"
            "Make the test able to run here, or list its node id there with the reason."
        )
        self.refused += 1

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        self._police(report)
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(self, collector):
        report = yield
        self._police(report)
        return report

    def pytest_runtest_logreport(self, report):
        if report.skipped and not hasattr(report, "wasxfail"):
            self.skipped += 1

    def pytest_collectreport(self, report):
        if report.skipped:
            self.skipped += 1

    def pytest_unconfigure(self, config):
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        policy = (
            f"in CI a skip not listed in {self.path.name} fails ({self.refused} did)"
            if self.enforced
            else "outside CI skips are allowed"
        )
        reporter.write_line(f"skipped tests: {self.skipped}; {policy}")
