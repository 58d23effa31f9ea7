"""docs/guides/transports.md, its shell blocks run as one script from the repository (the
install line aside): metis and core as two processes over the real NATS server, both logs read
by correlation, and metis's handler replayed from the CLI. A namespace of its own on the wire."""

from __future__ import annotations

import subprocess
import uuid

from tests.conftest import require_service
from tests.docs._pages import DOCS, ROOT, blocks, shell_env
from tests.transports.conftest import NATS_URL, delete_stream

PAGE = DOCS / "guides" / "transports.md"


def test_the_transports_guide_runs_as_written() -> None:
    require_service("NATS", "127.0.0.1", 4222)
    shell = [b.text for b in blocks(PAGE) if b.lang == "sh"]
    lines = [line for text in shell for line in text.splitlines()]
    assert sum("pip install" in line for line in lines) == 1
    script = "set -euo pipefail\n" + "\n".join(line for line in lines if "pip install" not in line)
    script += '\necho "INVOICE=$INVOICE"\n'
    namespace = f"t{uuid.uuid4().hex[:12]}"
    env = {**shell_env(), "FREIGHT_NATS": NATS_URL, "FREIGHT_NAMESPACE": namespace}
    try:
        done = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300, check=False)
    finally:
        delete_stream(f"TIDINGS_{namespace.upper()}")
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    invoice = done.stdout.rsplit("INVOICE=", 1)[1].strip()
    assert len(invoice) == 36, done.stdout
    thread = [line for line in done.stdout.splitlines() if f"corr {invoice[-12:]}" in line]
    names = [line.split()[3] for line in thread]
    assert names.count("documentUploaded") == 2, thread  # in core.db and in metis.db
    assert "documentAnalyzed" in names, thread
    assert "replayed 1: 1 succeeded" in done.stdout
