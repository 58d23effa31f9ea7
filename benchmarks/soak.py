"""Soak: many publishers on one SQLite event log through a SIGKILL and restart, a write lock
held by another process, and a full disk; then every accepted message must have every delivery
`succeeded` or `dead` (none `pending`/`running`/`failed`), and no delivery may have succeeded
more often than the documented bound allows (a second success only in a later process, after
the process of the first died; see "How often a handler runs" in docs/explanation/event-log.md).

    python benchmarks/soak.py                      # 100 publishers, 10,000 messages in total
    python benchmarks/soak.py --messages 100000 --disk-size 512m --phase-timeout 900
    python benchmarks/soak.py --messages 500 --publishers 10 --lock-seconds 1

Needs root (it mounts a small tmpfs to fill). Prints counts, each fault's time and the wall
time; exits 1 when a message was lost, a delivery stuck, a bus process stalled or a delivery ran
more often than the bound allows, 2 when it cannot set up. Bounded: each phase has a time limit.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()


class SoakCrash(BaseException):
    """What a handler raises for the BaseException-class failures (as KeyboardInterrupt would)."""


# -- the child: one bus process ------------------------------------------------------------------


def child(args: argparse.Namespace) -> int:
    import anyio
    import pydantic

    from tidings.runtime import CatalogSpec, EventBus, Message, MessageSpec, RetryPolicy
    from tidings.runtime.stores import SQLiteStore, StoreError

    class Tick(pydantic.BaseModel):
        n: int

    retry = RetryPolicy(max_attempts=3, initial_delay=0.01, max_delay=0.05, jitter=False)
    catalog = CatalogSpec("soak", {"tick": MessageSpec("tick", "event", Tick, retry=retry)})
    rng = random.Random(args.seed)
    work = Path(args.work)
    runs = open(work / "runs.log", "a", buffering=1)  # noqa: SIM115 - open for the whole run
    accepted = open(work / "accepted.log", "a", buffering=1)  # noqa: SIM115
    counts: Counter[str] = Counter()

    def handler(subscriber: str) -> Any:
        async def handle(message: Message[Any]) -> None:
            roll = rng.random()
            if roll < args.base_failures:
                runs.write(f"{message.id} {subscriber} base {args.seed}\n")
                raise SoakCrash(f"soak: BaseException-class failure of {message.id}")
            if roll < args.base_failures + args.failures:
                runs.write(f"{message.id} {subscriber} fail {args.seed}\n")
                raise RuntimeError("soak: random handler failure")
            await anyio.sleep(rng.random() * args.handler_delay)
            runs.write(f"{message.id} {subscriber} ok {args.seed}\n")

        return handle

    db = work / "disk" / "events.db"

    async def main() -> None:
        store = SQLiteStore(db, busy_timeout=args.busy_timeout)
        store.retry_for = args.retry_for
        bus = EventBus(catalog, store=store, poll_interval=0.05, lease=args.lease)
        bus.on("tick", handler("email"), name="email", mode="async")
        bus.on("tick", handler("crm"), name="crm", mode="serial")
        next_n = iter(range(args.first, args.first + args.count))

        async def publisher() -> None:
            for n in next_n:
                if rng.random() < args.cancel_fraction:
                    with anyio.move_on_after(rng.random() * 0.002):
                        counts["cancelled"] += 1
                        await bus.publish("tick", {"n": n})
                    continue
                try:
                    message = await bus.publish("tick", {"n": n})
                except StoreError:
                    counts["refused"] += 1
                    continue
                counts["accepted"] += 1
                accepted.write(f"{message.id}\n")

        async with bus:
            async with anyio.create_task_group() as tg:
                for _ in range(args.publishers):
                    tg.start_soon(publisher)
            print(json.dumps({"published": dict(counts)}), flush=True)
            # Wait while the deliveries settle; give up after `settle_timeout` without progress.
            last, since = _unsettled(db), anyio.current_time()
            while sum(last.values()) and anyio.current_time() - since < args.settle_timeout:
                await anyio.sleep(0.2)
                if (now := _unsettled(db)) != last:
                    last, since = now, anyio.current_time()
            print(json.dumps({"unsettled": dict(last)}), flush=True)

    anyio.run(main, backend=args.backend)
    return 0


def _unsettled(db: Path) -> Counter[str]:
    """The deliveries not yet `succeeded` or `dead`, by status."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return Counter({status: n for status, n in conn.execute(
            "SELECT status, count(*) FROM deliveries WHERE status IN ('pending', 'running', 'failed')"
            " GROUP BY status"
        )})
    finally:
        conn.close()


# -- the parent: faults and the final count --------------------------------------------------------


def _lines(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def _start(args: argparse.Namespace, work: Path, first: int, count: int, seed: int) -> subprocess.Popen[str]:
    command = [
        sys.executable, str(HERE), "--child", "--work", str(work), "--first", str(first),
        "--count", str(count), "--seed", str(seed),
        *(f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items()
          if k in {"publishers", "handler_delay", "failures", "base_failures", "cancel_fraction", "lease",
                   "retry_for", "busy_timeout", "settle_timeout", "backend"}),
    ]
    env = {**os.environ, "PYTHONPATH": str(HERE.parent.parent)}
    # The bus's own log (every failed attempt, at warning level) goes to a file per process.
    with open(work / f"bus-{seed}-{first}-{count}.log", "a") as stderr:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)


def _wait_for(condition: Any, proc: subprocess.Popen[str], limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def _hold_lock(db: Path, seconds: float) -> None:
    conn = sqlite3.connect(db, isolation_level=None, timeout=30)
    conn.execute("BEGIN IMMEDIATE")
    time.sleep(seconds)
    conn.execute("ROLLBACK")
    conn.close()


def _fill(directory: Path) -> Path:
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for chunk in (b"\0" * 65536, b"\0"):
            try:
                while True:
                    os.write(fd, chunk)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def parent(args: argparse.Namespace) -> int:
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="tidings-soak-"))
    disk = work / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={args.disk_size}", "tmpfs", str(disk)],
        capture_output=True, text=True,
    )
    if mounted.returncode != 0:
        print(f"soak: cannot mount a tmpfs at {disk} ({mounted.stderr.strip()}); run as root",
              file=sys.stderr)
        return 2
    db = disk / "events.db"
    accepted_log = work / "accepted.log"
    events: list[str] = []
    published: Counter[str] = Counter()
    exits: dict[int, int] = {}  # process (its seed) -> exit code
    code = 2

    def at() -> str:
        return f"{time.monotonic() - started:.1f}s"

    try:
        half = args.messages // 2

        def finish(proc: subprocess.Popen[str], seed: int, limit: float) -> None:
            try:
                out, _ = proc.communicate(timeout=limit)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
                events.append(f"at {at()}: bus process {seed} did not finish in {limit:.0f}s: killed")
            for line in out.splitlines():
                if line.startswith("{"):
                    report = json.loads(line)
                    published.update(report.get("published", {}))
                    if report.get("unsettled"):
                        events.append(f"at {at()}: bus process {seed} stopped waiting (no"
                                      f" progress for {args.settle_timeout:g}s) with deliveries"
                                      f" unsettled: {report['unsettled']}")
            exits[seed] = proc.returncode

        # Phase 1: half the messages, SIGKILL part-way through, then a restart.
        proc = _start(args, work, 0, half, args.seed)
        if _wait_for(lambda: _lines(accepted_log) >= half // 3, proc, args.phase_timeout):
            proc.send_signal(signal.SIGKILL)
            events.append(f"at {at()}: SIGKILL of bus process {args.seed} after"
                          f" {_lines(accepted_log)} accepted messages")
        finish(proc, args.seed, args.phase_timeout)
        # Phase 2 (the restart): the rest of the messages (what phase 1 did not publish too),
        # through a write lock and a full disk.
        base = _lines(accepted_log)
        second = args.messages - base
        proc = _start(args, work, base, second, args.seed + 1)
        if _wait_for(lambda: _lines(accepted_log) >= base + second // 5, proc, args.phase_timeout):
            begun = at()
            _hold_lock(db, args.lock_seconds)
            events.append(f"at {begun}-{at()}: write lock held {args.lock_seconds:g}s by another"
                          f" process (BEGIN IMMEDIATE), {_lines(accepted_log)} accepted when released")
        if _wait_for(lambda: _lines(accepted_log) >= base + second // 2, proc, args.phase_timeout):
            with sqlite3.connect(db, timeout=30) as conn:  # an empty WAL: every write needs space
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            begun = at()
            filler = _fill(disk)
            time.sleep(args.disk_full_seconds)
            filler.unlink()
            events.append(f"at {begun}-{at()}: disk full for {args.disk_full_seconds:g}s (the"
                          f" tmpfs of {args.disk_size} filled), {_lines(accepted_log)} accepted after")
        finish(proc, args.seed + 1, args.phase_timeout + args.settle_timeout)
        # Restarts until everything settled (after a process that stopped waiting with
        # deliveries unsettled: a failure of the soak, reported above), at most `max_restarts`.
        restarts = 0
        while sum(_unsettled(db).values()) and restarts < args.max_restarts:
            restarts += 1
            seed = args.seed + 1 + restarts
            events.append(f"at {at()}: restart {restarts} (bus process {seed}) to settle")
            finish(_start(args, work, 0, 0, seed), seed, args.phase_timeout + args.settle_timeout)
        code = _report(args, work, db, events, published, exits, time.monotonic() - started)
        if code != 0 or args.keep:
            for suffix in ("", "-wal", "-shm"):
                if Path(f"{db}{suffix}").exists():
                    shutil.copy(f"{db}{suffix}", work)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
    if code == 0 and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return code


def _report(args: argparse.Namespace, work: Path, db: Path, events: list[str], published: Counter[str],
            exits: dict[int, int], seconds: float) -> int:
    accepted = set((work / "accepted.log").read_text().split())
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    stored = {r[0] for r in conn.execute("SELECT id FROM messages")}
    statuses = Counter(r[0] for r in conn.execute("SELECT status FROM deliveries"))
    per_message = Counter(r[0] for r in conn.execute("SELECT message_id FROM deliveries"))
    conn.close()
    successes: dict[tuple[str, str], list[int]] = {}
    outcomes: Counter[str] = Counter()
    for line in (work / "runs.log").read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 4:  # a line torn by the SIGKILL has fewer
            outcomes[parts[2]] += 1
            if parts[2] == "ok":
                successes.setdefault((parts[0], parts[1]), []).append(int(parts[3]))
    lost = accepted - stored
    missing_deliveries = sum(1 for m in accepted & stored if per_message[m] != 2)
    stuck = sum(statuses[s] for s in ("pending", "running", "failed"))
    # The documented bound (at-least-once): a delivery that succeeded runs again only when its
    # process died after the handler returned and before the outcome was committed, so at most
    # once per death, in a later process; a live bus never runs it twice.
    duplicates = sum(len(seeds) - 1 for seeds in successes.values())
    over_bound = sum(
        1 for seeds in successes.values()
        if len(seeds) > 1 and (len(set(seeds)) != len(seeds)
                               or any(exits.get(seed) == 0 for seed in seeds[:-1]))
    )
    deaths = sum(1 for code in exits.values() if code != 0)
    stalled = sum(1 for event in events if "stopped waiting" in event or "did not finish" in event)
    print(f"soak: {args.publishers} publishers, {args.messages} messages in total, wall time"
          f" {seconds:.1f}s ({args.failures:.0%} handler failures, {args.base_failures:.0%}"
          f" BaseException-class, {args.cancel_fraction:.0%} cancelled publishes, backend"
          f" {args.backend})")
    for event in events:
        print(f"  fault: {event}")
    print(f"  work directory (accepted ids, handler runs, bus logs; kept on failure or --keep): {work}")
    print(f"  process exits: {exits}")
    print(f"  publishes: accepted {len(accepted)}, refused with StoreError"
          f" {published['refused']}, cancelled {published['cancelled']} (counted by the processes"
          " that lived to report)")
    print(f"  stored messages: {len(stored)}; accepted but lost: {len(lost)}; accepted with"
          f" deliveries missing: {missing_deliveries}")
    print(f"  deliveries: {dict(sorted(statuses.items()))}; stuck (pending/running/failed): {stuck}")
    print(f"  handler runs: {dict(sorted(outcomes.items()))}; duplicates (successes after the first):"
          f" {duplicates} (bound: only in a later process after a death, at most once per death;"
          f" {deaths} death(s)); deliveries over the bound: {over_bound}")
    print(f"  bus processes that stalled (no progress for {args.settle_timeout:g}s, or out of"
          f" time) with deliveries unsettled: {stalled}")
    ok = not lost and not missing_deliveries and not stuck and not over_bound and not stalled
    counts = {
        "accepted": len(accepted), "refused": published["refused"],
        "cancelled": published["cancelled"], "stored": len(stored), "lost": len(lost),
        "missing_deliveries": missing_deliveries, "stuck": stuck, "duplicates": duplicates,
        "over_bound": over_bound, "deaths": deaths, "stalled": stalled, "faults": len(events),
        "runs": dict(outcomes), "deliveries": dict(statuses), "seconds": round(seconds, 1),
    }
    print(f"  counts: {json.dumps(counts, sort_keys=True)}")
    print(f"  result: {'OK' if ok else 'FAILED'}: {len(lost)} lost, {stuck} stuck,"
          f" {over_bound} over the duplicate bound, {stalled} stalled")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--publishers", type=int, default=100)
    parser.add_argument("--messages", type=int, default=10_000, help="in total, over both processes")
    parser.add_argument("--handler-delay", type=float, default=0.001,
                        help="a handler that succeeds sleeps up to this long (uniform)")
    parser.add_argument("--failures", type=float, default=0.10, help="handler Exceptions")
    parser.add_argument("--base-failures", type=float, default=0.01, help="handler BaseExceptions")
    parser.add_argument("--cancel-fraction", type=float, default=0.02, help="publishes cancelled")
    parser.add_argument("--lock-seconds", type=float, default=5.0)
    parser.add_argument("--disk-full-seconds", type=float, default=2.0)
    parser.add_argument("--disk-size", default="64m")
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--retry-for", type=float, default=30.0, help="SQLiteStore.retry_for")
    parser.add_argument("--busy-timeout", type=float, default=5.0)
    parser.add_argument("--settle-timeout", type=float, default=60.0,
                        help="a bus process stops waiting after this long without progress")
    parser.add_argument("--phase-timeout", type=float, default=300.0,
                        help="the limit of each phase (publishing; then settling, with the above)")
    parser.add_argument("--max-restarts", type=int, default=5)
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return child(args) if args.child else parent(args)


if __name__ == "__main__":
    sys.exit(main())
