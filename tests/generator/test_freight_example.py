"""The freight example runs end to end (both ways of starting it, asyncio and trio) over the
generated package and a real SQLite event log."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.generator.conftest import ROOT


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "examples.freight"],
        ["examples/freight/app.py", "trio"],
    ],
    ids=["module-asyncio", "script-trio"],
)
def test_the_example_runs_every_mode_and_logs_every_delivery(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, *command], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Traceback" not in result.stderr
    for line in (
        "[     tasks] opened tasks for SH-004211",  # sync: before emit returns
        "[      core] shipmentCreated emitted; the resolver answers now",
        "[     email] mail server timed out; the bus will retry",
        "[     email] sent BL-FRLEH-CNSHA.pdf by email",
        "[     metis] read BL-FRLEH-CNSHA.pdf",
        "[      core] stored metis fields: vessel=CMA CGM MARCO POLO",
        "[salesforce] opportunity for SH-004211 (calls in flight: 1)",
        "[salesforce] quote won: 4250.00 EUR (calls in flight: 1)",
        "[       log] documentUploaded: mark_upload_done=succeeded/1, send_document=succeeded/2, "
        "read-document=succeeded/1",
        "[       log] quoteAccepted: push_to_crm=succeeded/1",
        "[       app] done",
    ):
        assert line in out, (line, out)
    # sync subscribers ran before the publisher went on; the serial CRM kept emit order
    assert out.index("opened tasks") < out.index("shipmentCreated emitted")
    assert out.index("opportunity for SH-004211") < out.index("quote won")
    assert out.index("sent BL-FRLEH-CNSHA.pdf by email  (msg") > out.index("mail server timed out")
    assert out.count("[       log]") == 7
