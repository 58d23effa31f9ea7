"""A version bump as a user lives it, with the CLI as real subprocesses on a real SQLite file and
a real PostgreSQL schema: a v1 message goes dead, the app moves to a breaking v2, `tidings
replay --app` runs the stored v1 message again: dead with the upcaster to add while the app has
none, succeeded through it once it does. The log keeps the message as v1, as written."""

from __future__ import annotations

import json
import textwrap

from tests.cli.conftest import Project

APP_V1 = textwrap.dedent('''
    import os

    import pydantic

    from tidings.runtime import CatalogSpec, EventBus, MessageSpec, RetryPolicy
    from tidings.runtime.stores import open_store


    class Placed(pydantic.BaseModel):
        orderId: str
        total: int


    CATALOG = CatalogSpec("shop", {"orderPlaced": MessageSpec(
        "orderPlaced", "event", Placed, version=1,
        retry=RetryPolicy(max_attempts=1, initial_delay=0.01))})
    bus = EventBus(CATALOG, store=open_store(os.environ["APP_DB"]), poll_interval=0.05)


    def bill(message):
        raise ConnectionError("billing.example.com refused the connection")


    bus.on("orderPlaced", bill, name="billing.bill", mode="async")
''')

APP_V2 = textwrap.dedent('''
    import os

    import pydantic

    from tidings.runtime import CatalogSpec, EventBus, MessageSpec, RetryPolicy
    from tidings.runtime.stores import open_store


    class Money(pydantic.BaseModel):
        amount: int
        currency: str


    class Placed(pydantic.BaseModel):
        orderId: str
        total: Money


    CATALOG = CatalogSpec("shop", {"orderPlaced": MessageSpec(
        "orderPlaced", "event", Placed, version=2,
        retry=RetryPolicy(max_attempts=1, initial_delay=0.01))})
    bus = EventBus(CATALOG, store=open_store(os.environ["APP_DB"]), poll_interval=0.05)


    def bill(message):
        with open(os.environ["BILLED"], "a") as out:
            out.write(f"v{message.version} {message.data.model_dump_json()}\\n")


    bus.on("orderPlaced", bill, name="billing.bill", mode="async")
''')

UPCASTER = textwrap.dedent('''

    @bus.upcaster("orderPlaced", from_version=1)
    def cents_to_money(data):
        return {**data, "total": {"amount": data["total"], "currency": "EUR"}}
''')


def test_a_v1_message_replays_after_a_breaking_bump_only_through_an_upcaster(
        project: Project) -> None:
    app = project.root / "shop_app.py"
    billed = project.root / "billed.txt"
    env = {"BILLED": str(billed)}
    app.write_text(APP_V1)
    emitted = project.tidings("emit", "--app", "shop_app:bus", "orderPlaced",
                              '{"orderId": "o-1", "total": 1250}', "--wait", "30")
    assert emitted.returncode == 1 and "dead" in emitted.stdout, emitted.stdout + emitted.stderr
    message_id = emitted.stdout.split()[1]

    app.write_text(APP_V2)  # the breaking bump, deployed without an upcaster
    stranded = project.tidings("replay", "--app", "shop_app:bus", "--failed", "--wait", "30",
                               env=env)
    assert stranded.returncode == 1, stranded.stdout + stranded.stderr
    assert "replayed 1: 1 dead" in stranded.stdout
    assert ("'orderPlaced' v1 is stored and the catalog is at v2: add an upcaster from v1 "
            "(@bus.upcaster('orderPlaced', from_version=1))") in stranded.stdout
    assert "Traceback" not in stranded.stdout + stranded.stderr and not billed.exists()

    app.write_text(APP_V2 + UPCASTER)
    replayed = project.tidings("replay", "--app", "shop_app:bus", message_id[-12:], "--wait",
                               "30", env=env)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "replayed 1: 1 succeeded" in replayed.stdout
    assert billed.read_text() == 'v2 {"orderId":"o-1","total":{"amount":1250,"currency":"EUR"}}\n'

    log = project.tidings("log", "--app", "shop_app:bus", "--message", message_id)
    assert log.returncode == 0 and f"{message_id} orderPlaced v1" in log.stdout, log.stderr
    entries = json.loads(project.tidings("log", "--message", message_id, "--format",
                                         "json").stdout)
    stored = entries[0] if isinstance(entries, list) else entries
    assert (stored["version"], stored["payload"]) == (1, {"orderId": "o-1", "total": 1250})
