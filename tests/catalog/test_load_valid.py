"""A valid multi-file catalog loads into the typed model, defaults merged and payloads bundled."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from jsonschema import Draft202012Validator

from tidings.catalog import (
    Catalog,
    CatalogError,
    Compatibility,
    Location,
    RetrySettings,
    fingerprint,
    function_name,
    load_catalog,
    load_catalog_texts,
    model_name,
)

FIXTURES = Path(__file__).parent / "fixtures"
VALID = FIXTURES / "valid"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(VALID)


def test_catalog_metadata(catalog: Catalog) -> None:
    root = VALID.as_posix()
    assert catalog.name == "freight_test"
    assert catalog.description == "A small multi-file catalog for the catalog tests."
    assert catalog.files == (
        f"{root}/catalog.yaml", f"{root}/common.yaml", f"{root}/shipping/shipments.yaml",
    )
    assert list(catalog.contexts) == ["core", "email", "tasks", "tracking"]
    core = catalog.contexts["core"]
    assert (core.description, core.owner) == ("Core server", "team-core")
    assert catalog.contexts["tracking"].owner == "team-tracking"
    assert str(catalog.contexts["tracking"].location) == f"{root}/shipping/shipments.yaml:2:3"
    assert list(catalog.events) == ["documentUploaded", "shipmentCreated", "shipmentDeparted"]
    assert list(catalog.commands) == ["EMAIL_SendBookingRequestAskedEmailCommand", "resyncTracking"]
    assert [m.name for m in catalog.messages()] == sorted([*catalog.events, *catalog.commands])
    assert catalog.defaults_compatibility is Compatibility.FULL
    assert catalog.defaults_retry == RetrySettings(
        max_attempts=3, initial_delay=0.5, max_delay=120.0, jitter=False
    )


def test_defaults_are_merged_per_field(catalog: Catalog) -> None:
    doc = catalog.message("documentUploaded")
    assert doc.retry == RetrySettings(
        max_attempts=10, initial_delay=0.5, max_delay=120, jitter=False
    )
    assert doc.compatibility is Compatibility.BACKWARD_TRANSITIVE
    email = catalog.message("EMAIL_SendBookingRequestAskedEmailCommand")
    assert email.retry == RetrySettings(max_attempts=3, initial_delay=2.0, max_delay=3600.0,
                                        jitter=False)
    assert email.compatibility is Compatibility.FULL
    assert catalog.message("resyncTracking").retry == catalog.defaults_retry


def test_message_fields(catalog: Catalog) -> None:
    root = VALID.as_posix()
    email = catalog.commands["EMAIL_SendBookingRequestAskedEmailCommand"]
    assert email.kind == "command"
    assert email.handler == "email"
    assert email.consumers == ("email",)
    assert email.producers == ("core",)
    assert (email.version, email.deprecated) == (2, True)
    assert email.description == "Send the booking request email."
    assert email.model_name == "EMAILSendBookingRequestAskedEmailCommand"
    assert email.function_name == "email_send_booking_request_asked_email_command"
    assert str(email.location) == f"{root}/catalog.yaml:28:3"
    assert email.file == f"{root}/catalog.yaml"
    created = catalog.events["shipmentCreated"]
    assert (created.kind, created.handler, created.version, created.deprecated) == (
        "event", None, 1, False
    )
    assert created.consumers == ("tasks", "email", "tracking")
    assert created.location == Location(file=f"{root}/shipping/shipments.yaml", line=4, column=3)
    assert catalog.events["shipmentDeparted"].consumers == ()
    with pytest.raises(KeyError):
        catalog.message("nope")


def test_payload_is_kept_as_written(catalog: Catalog) -> None:
    doc = catalog.message("documentUploaded")
    assert doc.payload["properties"]["fee"] == {"$ref": "common.yaml#/$defs/Money"}
    # YAML 1.2 core schema: "NO" quoted stays text; unquoted NO would too.
    assert doc.payload["properties"]["kind"]["enum"] == ["invoice", "bill_of_lading", "NO"]


def test_resolved_payload_is_self_contained(catalog: Catalog) -> None:
    created = catalog.message("shipmentCreated").resolved_payload
    assert created["properties"]["value"] == {"$ref": "#/$defs/Money"}
    assert created["properties"]["legs"]["items"] == {"$ref": "#/$defs/Leg"}
    assert sorted(created["$defs"]) == ["Currency", "Leg", "Money"]
    assert created["$defs"]["Money"]["properties"]["currency"] == {"$ref": "#/$defs/Currency"}
    assert created["$defs"]["Leg"]["properties"]["next"] == {"$ref": "#/$defs/Leg"}
    departed = catalog.message("shipmentDeparted").resolved_payload
    assert departed["$ref"] == "#/$defs/ShipmentCreated"
    assert sorted(departed["$defs"]) == ["Currency", "Leg", "Money", "ShipmentCreated"]
    assert "$defs" not in catalog.message("resyncTracking").resolved_payload
    for message in catalog.messages():
        Draft202012Validator.check_schema(message.resolved_payload)
        assert "common.yaml" not in json.dumps(message.resolved_payload)


def test_resolved_payload_validates_like_the_original(catalog: Catalog) -> None:
    schema = catalog.message("shipmentDeparted").resolved_payload
    good = {"shipmentId": "x", "value": {"amount": "1.5", "currency": "EUR"},
            "legs": [{"from": "DEHAM", "next": {"to": "NLRTM"}}]}
    jsonschema.validate(good, schema)
    bad = {**good, "value": {"amount": "1.5", "currency": "XXX"}}
    with pytest.raises(jsonschema.ValidationError, match="'XXX' is not one of"):
        jsonschema.validate(bad, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good, "legs": [{"next": {"to": 3}}]}, schema)


def test_fingerprint_is_sha256_of_canonical_resolved_payload(catalog: Catalog) -> None:
    import hashlib

    for message in catalog.messages():
        canonical = json.dumps(message.resolved_payload, sort_keys=True, separators=(",", ":"))
        assert message.fingerprint == hashlib.sha256(canonical.encode()).hexdigest()
        assert message.fingerprint == fingerprint(message.resolved_payload)
    assert len({m.fingerprint for m in catalog.messages()}) == len(catalog.messages())


def test_shared_defs_and_bundle(catalog: Catalog) -> None:
    assert sorted(catalog.shared_defs) == ["Currency", "DocumentId", "Leg", "Money", "Unused"]
    bundle = catalog.bundle()
    Draft202012Validator.check_schema(bundle)
    assert bundle["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert sorted(bundle["$defs"]) == sorted([
        "DocumentUploaded", "EMAILSendBookingRequestAskedEmailCommand", "ResyncTracking",
        "ShipmentCreated", "ShipmentDeparted", "Currency", "DocumentId", "Leg", "Money", "Unused",
    ])
    assert all("$defs" not in body for body in bundle["$defs"].values())
    # every $ref of the bundle resolves inside it
    text = json.dumps(bundle)
    for name in bundle["$defs"]:
        text = text.replace(f'"#/$defs/{name}"', '""')
    assert "$ref\": \"#" not in text and ".yaml" not in text
    # a payload validated through the bundle behaves as through its resolved payload
    validator = Draft202012Validator({**bundle, "$ref": "#/$defs/DocumentUploaded"})
    assert validator.is_valid({"documentId": "d", "kind": "NO", "fee": {"amount": "1",
                                                                        "currency": "USD"}})
    assert not validator.is_valid({"documentId": "d", "kind": "no"})
    bundle["$defs"].clear()
    assert catalog.bundle()["$defs"], "bundle() must return a fresh copy"


def test_model_is_frozen(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="frozen"):
        catalog.name = "x"  # type: ignore[misc]
    with pytest.raises(ValueError, match="frozen"):
        catalog.message("resyncTracking").version = 3  # type: ignore[misc]


def test_texts_give_the_same_model_as_disk(catalog: Catalog) -> None:
    files = {
        p.relative_to(VALID).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(VALID.rglob("*.yaml"))
    }
    from_texts = load_catalog_texts(files, root=VALID.as_posix())
    assert from_texts == catalog
    assert from_texts.model_dump() == catalog.model_dump()
    bare = load_catalog_texts(files)
    assert bare.files == ("catalog.yaml", "common.yaml", "shipping/shipments.yaml")
    assert [m.fingerprint for m in bare.messages()] == [m.fingerprint for m in catalog.messages()]


def test_explicit_file_list_and_single_file(tmp_path: Path) -> None:
    one = tmp_path / "one.yaml"
    one.write_text(
        "catalog: solo\ncontexts: {a: {}}\n"
        "events:\n  pinged:\n    producers: [a]\n    consumers: [a]\n    payload: {type: object}\n",
        encoding="utf-8",
    )
    for given in (one, [one], tmp_path):
        loaded = load_catalog(given)
        assert loaded.name == "solo"
        assert list(loaded.events) == ["pinged"]
        assert loaded.events["pinged"].retry == RetrySettings()
        assert loaded.events["pinged"].compatibility is Compatibility.BACKWARD


def test_loading_is_deterministic() -> None:
    first, second = load_catalog(VALID), load_catalog(str(VALID))
    assert first == second
    assert json.dumps(first.bundle()) == json.dumps(second.bundle())


def test_missing_directory_and_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as missing:
        load_catalog(tmp_path / "nope")
    assert str(missing.value) == (
        f"{(tmp_path / 'nope').as_posix()}: no such directory; point tidings at the directory "
        "that holds the catalog's *.yaml files"
    )
    with pytest.raises(CatalogError) as empty:
        load_catalog(tmp_path)
    assert "no *.yaml or *.yml files" in str(empty.value)


@pytest.mark.parametrize(
    ("name", "model", "function"),
    [
        ("shipmentCreated", "ShipmentCreated", "shipment_created"),
        ("resyncTracking", "ResyncTracking", "resync_tracking"),
        ("EMAIL_SendBookingRequestAskedEmailCommand", "EMAILSendBookingRequestAskedEmailCommand",
         "email_send_booking_request_asked_email_command"),
        ("shipment_created", "ShipmentCreated", "shipment_created"),
        ("HTTPRequestSent", "HTTPRequestSent", "http_request_sent"),
        ("documentV2Uploaded", "DocumentV2Uploaded", "document_v2_uploaded"),
        ("ping", "Ping", "ping"),
    ],
)
def test_naming(name: str, model: str, function: str) -> None:
    assert model_name(name) == model
    assert function_name(name) == function


def test_yaml_1_2_core_scalars() -> None:
    """Only true/false are booleans; dates, `NO`, `on` stay text; 1.2 integers."""
    text = (
        "catalog: t\nevents:\n  a:\n    payload:\n      type: string\n"
        "      examples: [NO, yes, on, off, 2024-01-01, 0o17, 0x1F, 010, 1_000, .inf, ~, null,"
        " true, True, FALSE, 1.5e3, '12:30', 12:30, -7, +3]\n"
    )
    examples = load_catalog_texts({"c.yaml": text}).message("a").payload["examples"]
    assert examples == [
        "NO", "yes", "on", "off", "2024-01-01", 15, 31, 10, "1_000", float("inf"), None, None,
        True, True, False, 1500.0, "12:30", "12:30", -7, 3,
    ]


def test_anchors_aliases_and_merge_keys() -> None:
    text = (
        "catalog: t\ncontexts: {core: {}}\n"
        "events:\n"
        "  a: &base\n    producers: [core]\n    retry: {max_attempts: 2}\n"
        "    payload: &p {type: object, properties: {id: {type: string}}}\n"
        "  b:\n    <<: *base\n    retry: {max_attempts: 7}\n    payload: *p\n"
    )
    catalog = load_catalog_texts({"c.yaml": text})
    a, b = catalog.message("a"), catalog.message("b")
    assert (a.retry.max_attempts, b.retry.max_attempts) == (2, 7)
    assert b.producers == ("core",)
    assert a.fingerprint == b.fingerprint


DISTRIBUTED = """\
catalog: shop
contexts:
  orders: {}
  billing: {}
  fraud: {transport: nats}
  ledger: {transport: sns-sqs}
events:
  orderPlaced: {producers: [orders], consumers: [billing, fraud], payload: {type: object}}
  orderFlagged: {producers: [fraud], consumers: [orders], payload: {type: object}}
  orderPaid: {producers: [billing], consumers: [orders], distributed: true, payload: {type: object}}
  orderNoted: {producers: [orders], consumers: [billing], distributed: false, payload: {type: object}}
  orderSeen: {producers: [orders], consumers: [billing], payload: {type: object}}
commands:
  postEntry: {producers: [billing], handler: ledger, payload: {type: object}}
  refund: {producers: [orders], handler: billing, distributed: true, payload: {type: object}}
  recount: {producers: [orders], handler: billing, payload: {type: object}}
"""


def test_distributed_is_declared_or_follows_a_transport() -> None:
    catalog = load_catalog_texts({"shop.yaml": DISTRIBUTED})
    assert catalog.contexts["fraud"].transport == "nats" and catalog.contexts["fraud"].remote
    assert catalog.contexts["ledger"].transport == "sns-sqs"
    assert catalog.contexts["orders"].transport is None and not catalog.contexts["orders"].remote
    distributed = {m.name: m.distributed for m in catalog.messages()}
    assert distributed == {
        "orderPlaced": True,    # consumed by fraud (nats)
        "orderFlagged": True,   # produced by fraud
        "orderPaid": True,      # declared
        "orderNoted": False,    # declared false, no context with a transport
        "orderSeen": False,
        "postEntry": True,      # handled by ledger (sns-sqs)
        "refund": True,         # a command may be declared distributed too
        "recount": False,
    }
    assert catalog.transports(catalog.message("orderPlaced")) == {"fraud": "nats"}
    assert catalog.transports(catalog.message("postEntry")) == {"ledger": "sns-sqs"}
    assert catalog.transports(catalog.message("orderPaid")) == {}
    assert catalog.subject("orderPlaced") == "tidings.shop.orderPlaced"
    with pytest.raises(KeyError):
        catalog.subject("nope")


def test_example_catalog_distributes_what_metis_touches() -> None:
    catalog = load_catalog(Path(__file__).resolve().parents[2] / "schemas")
    assert catalog.contexts["metis"].transport == "nats"
    assert sorted(m.name for m in catalog.messages() if m.distributed) == [
        "METIS_AnalyzeDocumentCommand", "documentAnalyzed", "documentUploaded",
    ]
