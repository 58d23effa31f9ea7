"""Emit speed of tidings' Emittery against Emittery on Node, measured in the same run.

    python benchmarks/emit.py [N]

Every figure is the best of 5 rounds (the machine is shared); the per-emit rounds alternate
between Emittery and ours, so a change of load hits both. Prints, per case, our
microseconds per awaited emit, Emittery-on-Node's, and the ratio (goal <= 1.0);
then async- and serial-mode deliveries per second (goal >= 250,000 on asyncio), and reference rows:
pyee's AsyncIOEventEmitter and a bare `await listener(event)` loop. Needs node and npm for the
baseline (it runs `npm install` in benchmarks/ when emittery is missing).
"""

from __future__ import annotations

import asyncio
import gc
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

from tidings.runtime import Emittery, Event, Mode

HERE = Path(__file__).resolve().parent
N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
ROUNDS = 5  # every figure, ours and Emittery's, is the best of ROUNDS runs: the machine is shared


def best(fn: Callable[..., Awaitable[float]], *args: Any, backend: str = "asyncio",
         higher_is_better: bool = False) -> float:
    results = [anyio.run(fn, *args, backend=backend) for _ in range(ROUNDS)]
    return max(results) if higher_is_better else min(results)


def emittery_on_node(rounds: int = ROUNDS) -> dict[str, float] | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        print("node/npm not found: no Emittery baseline", file=sys.stderr)
        return None
    if not (HERE / "node_modules" / "emittery").is_dir():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(HERE)], check=True,
                       capture_output=True)
    out = subprocess.run(["node", str(HERE / "emittery_baseline.mjs"), str(N), str(rounds)], check=True,
                         capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out)
    return result


async def _listener(event: Event[Any]) -> None:
    pass


def _listeners(count: int) -> list[Callable[[Event[Any]], Awaitable[None]]]:
    # distinct functions: the same listener twice on one name is one subscription
    made: list[Callable[[Event[Any]], Awaitable[None]]] = []
    for _ in range(count):
        async def listener(event: Event[Any]) -> None:
            pass
        made.append(listener)
    return made


async def per_emit(count: int, serial: bool) -> float:
    bus = Emittery()
    for listener in _listeners(count):
        bus.on("e", listener)
    emit = bus.emit_serial if serial else bus.emit
    for i in range(N // 10):
        await emit("e", i)
    gc.collect()
    start = time.perf_counter()
    for i in range(N):
        await emit("e", i)
    return (time.perf_counter() - start) / N * 1e6


async def bare_await() -> float:
    listener = _listener
    start = time.perf_counter()
    for i in range(N):
        await listener(Event("e", i))
    return (time.perf_counter() - start) / N * 1e6


async def deliveries_per_second(count: int, mode: Mode) -> float:
    emits = N // count
    async with Emittery() as bus:
        for listener in _listeners(count):
            bus.on("e", listener, mode=mode)
        gc.collect()
        start = time.perf_counter()
        for i in range(emits):
            await bus.emit("e", i)
    return emits * count / (time.perf_counter() - start)  # the block drained every delivery


def pyee_per_emit(count: int) -> float | None:
    try:
        from pyee.asyncio import AsyncIOEventEmitter
    except ImportError:
        return None

    async def run() -> float:
        emitter = AsyncIOEventEmitter()
        done = 0

        def make() -> Callable[[int], Awaitable[None]]:
            async def listener(data: int) -> None:
                nonlocal done
                done += 1
            return listener

        for _ in range(count):
            emitter.on("e", make())
        start = time.perf_counter()
        for i in range(N):
            emitter.emit("e", i)
        while done < N * count:  # pyee schedules a task per listener; wait for all of them
            await asyncio.sleep(0)
        return (time.perf_counter() - start) / N * 1e6

    return asyncio.run(run())


CASES = [("await emit, 1 async listener", 1, False, "emit_1"),
         ("await emit, 10 async listeners", 10, False, "emit_10"),
         ("await emit_serial, 10 listeners", 10, True, "emit_serial_10")]


def interleaved() -> tuple[dict[tuple[str, str], float], dict[str, float] | None]:
    # Each of the ROUNDS rounds runs Emittery once, then every case of ours once, so a change of
    # load on the shared machine hits both sides alike; every figure is the best of its rounds.
    ours: dict[tuple[str, str], list[float]] = {}
    theirs: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        for key, value in (emittery_on_node(rounds=1) or {}).items():
            theirs.setdefault(key, []).append(value)
        for _, count, serial, key in CASES:
            for backend in ("asyncio", "trio"):
                ours.setdefault((key, backend), []).append(
                    anyio.run(per_emit, count, serial, backend=backend))
    node = {key: min(values) for key, values in theirs.items()} if theirs else None
    return {case: min(values) for case, values in ours.items()}, node


def main() -> None:
    ours, node = interleaved()
    print(f"N = {N:,} emits per case; microseconds per awaited emit (lower is better); best of "
          f"{ROUNDS} rounds, each round running Emittery and then every case of ours\n")
    print(f"{'case':<34}{'backend':<9}{'tidings':>10}{'Emittery':>10}{'ratio':>8}  goal")
    for label, _, _, key in CASES:
        for backend in ("asyncio", "trio"):
            figure = ours[key, backend]
            theirs = node[key] if node else float("nan")
            print(f"{label:<34}{backend:<9}{figure:>10.2f}{theirs:>10.2f}{figure / theirs:>8.2f}  <= 1.0")
    print(f"\n{'background deliveries per second':<34}{'backend':<9}{'tidings':>10}{'':>18}  goal")
    for mode in ("async", "serial"):
        for count in (1, 10):
            for backend in ("asyncio", "trio"):
                rate = best(deliveries_per_second, count, mode, backend=backend, higher_is_better=True)
                goal = ">= 250,000" if backend == "asyncio" else "(report)"
                label = f"{mode} mode, {count} subscriber{'s' if count > 1 else ''}"
                print(f"{label:<34}{backend:<9}{rate:>10,.0f}{'':>18}  {goal}")
    print("\nreference rows (microseconds per emit)")
    print(f"{'bare `await listener(event)` loop':<34}{'asyncio':<9}{best(bare_await):>10.2f}"
          f"{node['bare_await'] if node else float('nan'):>10.2f}  (Node: bare await)")
    for count in (1, 10):
        pyee = pyee_per_emit(count)  # one round: it is a reference row
        shown = f"{pyee:>10.2f}" if pyee is not None else f"{'n/a':>10}"
        print(f"{f'pyee AsyncIOEventEmitter, {count} listener(s)':<34}{'asyncio':<9}{shown}")


if __name__ == "__main__":
    main()
