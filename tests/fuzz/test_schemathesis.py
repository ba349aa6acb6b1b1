"""Schemathesis sends generated requests to every operation of /schema/openapi.json of a running server, then chains
operations through the links it infers (the stateful phase). It signs each operation in as the role meant to call it
(tests/fuzz/roles.py); the full run then goes through every operation as each demo role in turn.

What must hold for every generated request: no server error, every response as documented in the schema (body and
headers), malformed input refused, no operation that silently ignores a missing required header, and in the
stateful phase, nothing deleted that is still served and nothing created that cannot be read back.
The short slice is derandomized and skips the coverage phase (thousands of cases per role); the full run spends
FUZZ_SCHEMATHESIS_SECONDS (40 unless set) on each account.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import ROOT
from tests.fuzz import mode
from tests.fuzz.conftest import FuzzServer
from tests.fuzz.figures import record
from tests.fuzz.roles import ROLE_EMAILS

pytestmark = pytest.mark.fuzz

CHECKS = [
    "not_a_server_error",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "use_after_free",
    "ensure_resource_availability",
]
SLICE_EXAMPLES = 4
SLICE_PHASES = "examples,fuzzing,stateful"
FULL_EXAMPLES = 200  # per operation and phase; the time budget usually ends the run first
EACH_AS_ITS_ROLE = "each operation as its role"
ACCOUNTS = [EACH_AS_ITS_ROLE, *ROLE_EMAILS] if mode.FULL else [EACH_AS_ITS_ROLE]


def schemathesis_command() -> str:
    beside = Path(sys.executable).with_name("schemathesis")
    found = str(beside) if beside.exists() else shutil.which("schemathesis")
    if found is None:
        pytest.fail("schemathesis is not installed: pip install -e '.[dev]'")
    return found


def run_arguments(report: Path) -> list[str]:
    arguments = [
        "--checks",
        ",".join(CHECKS),
        "--seed",
        str(mode.SEED),
        "--workers",
        "1",  # one worker: the seed then fixes the requests
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--no-color",
    ]
    if mode.FULL:
        seconds = mode.seconds("FUZZ_SCHEMATHESIS_SECONDS", 40)
        # No example database: nothing is replayed from earlier runs, so the seed alone decides.
        full = ["--max-examples", str(FULL_EXAMPLES), "--max-time", str(int(seconds)), "--generation-database", "none"]
        return [*arguments, *full]
    return [*arguments, "--max-examples", str(SLICE_EXAMPLES), "--phases", SLICE_PHASES, "--generation-deterministic"]


@pytest.mark.parametrize("account", ACCOUNTS)
def test_no_generated_request_gets_a_server_error_or_breaks_the_schema(
    fuzz_server: FuzzServer, account: str, tmp_path: Path
) -> None:
    report = tmp_path / "schemathesis.json"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.fuzz.schemathesis_auth",
        "FUZZ_BASE_URL": fuzz_server.base_url,
        "FUZZ_EMAIL": ROLE_EMAILS.get(account, ""),  # empty: each operation as its role
    }
    command = [schemathesis_command(), "run", f"{fuzz_server.base_url}/schema/openapi.json", *run_arguments(report)]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=3600, check=False)
    assert report.exists(), result.stdout[-4000:] + result.stderr[-4000:]
    summary = json.loads(report.read_text())
    operations, cases = summary["operations"], summary["test_cases"]
    record(
        f"schemathesis, {account if account == EACH_AS_ITS_ROLE else 'as ' + account}",
        f"{cases['generated']:,} test cases, {operations['tested']}/{operations['total']} operations, "
        f"{len(summary['failures'])} kinds of failure, {summary['running_time']:.0f} s",
    )
    # Every operation of the document was exercised, and the stateful phase ran.
    assert operations["tested"] == operations["total"], summary["operations"]
    assert summary["phases"]["stateful"]["status"] != "skipped", summary["phases"]
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
