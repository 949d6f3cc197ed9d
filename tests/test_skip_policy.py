"""The CI skip policy (tests/skip_policy.py), run on a small suite in a child pytest."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = """
import pytest

def test_runs():
    pass

def test_listed():
    pytest.skip("no widget here")

@pytest.mark.skipif(True, reason="no gadget here")
def test_unlisted():
    pass

@pytest.mark.xfail(reason="known")
def test_expected_failure():
    assert False
"""


def _run(tmp_path: Path, *, ci: str | None, allow_list: str, suite: str = SUITE):
    (tmp_path / "pytest.ini").write_text("[pytest]\nskips_allowed_file = allowed.txt\n")
    (tmp_path / "allowed.txt").write_text(allow_list)
    (tmp_path / "test_suite.py").write_text(suite)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = str(ROOT)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.skip_policy", "-p", "no:cacheprovider",
         "-q", "-rA", "test_suite.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _last_line(result) -> str:
    return result.stdout.strip().splitlines()[-1]


def test_in_ci_an_unlisted_skip_fails_and_a_listed_one_stays_a_skip(tmp_path):
    result = _run(tmp_path, ci="true", allow_list="test_suite.py::test_listed  # no widget\n")

    assert result.returncode == 1, result.stdout
    # A skip from a marker happens in setup, so pytest reports the refusal as an error.
    assert "ERROR test_suite.py::test_unlisted" in result.stdout
    assert "skipped in CI but not listed in allowed.txt: no gadget here" in result.stdout
    assert re.search(r"^SKIPPED \[1\] test_suite.py:\d+: no widget here$", result.stdout, re.M)
    assert "1 passed, 1 skipped, 1 xfailed, 1 error" in result.stdout
    assert (
        _last_line(result)
        == "skipped tests: 1; in CI a skip not listed in allowed.txt fails (1 did)"
    )


def test_outside_ci_skips_stay_skips_and_are_counted_in_the_last_line(tmp_path):
    result = _run(tmp_path, ci=None, allow_list="")

    assert result.returncode == 0, result.stdout
    assert "1 passed, 2 skipped, 1 xfailed" in result.stdout
    assert _last_line(result) == "skipped tests: 2; outside CI skips are allowed"


def test_a_file_entry_allows_every_skip_in_the_file_including_a_module_skip(tmp_path):
    suite = 'import pytest\npytest.importorskip("no_such_module_here")\n'
    refused = _run(tmp_path, ci="true", allow_list="", suite=suite)
    assert refused.returncode != 0
    assert "skipped in CI but not listed in allowed.txt" in refused.stdout
    assert "could not import 'no_such_module_here'" in refused.stdout

    allowed = _run(
        tmp_path, ci="true", allow_list="test_suite.py  # optional module\n", suite=suite
    )
    assert allowed.returncode == 5, allowed.stdout  # nothing ran, nothing failed
    assert _last_line(allowed).startswith("skipped tests: 1;")


def test_an_entry_without_a_reason_is_refused(tmp_path):
    result = _run(tmp_path, ci="true", allow_list="test_suite.py::test_listed\n")

    assert result.returncode == 4, result.stdout + result.stderr
    assert "allowed.txt:1: 'test_suite.py::test_listed' gives no reason" in result.stderr
