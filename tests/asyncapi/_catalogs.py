"""Random valid catalogs (hypothesis) and a location-free view of a catalog, to compare two."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import strategies as st

from tidings.catalog import Catalog, load_catalog_texts

CONTEXTS = ["core", "billing", "email", "tracking", "ai_reader"]
WORDS = ["order", "shipment", "invoice", "document", "task", "quote", "parcel"]
VERBS = ["Created", "Paid", "Sent", "Uploaded", "Closed", "Resync", "Analyze"]
DEF_NAMES = ["Money", "Address", "PortCode"]

_leaf = st.one_of(
    st.fixed_dictionaries({"type": st.just("string")},
                          optional={"format": st.sampled_from(["uuid", "date-time", "email"]),
                                    "maxLength": st.integers(1, 50),
                                    "description": st.text(max_size=20)}),
    st.fixed_dictionaries({"type": st.sampled_from(["integer", "number"])},
                          optional={"minimum": st.integers(-5, 0), "maximum": st.integers(1, 99)}),
    st.builds(lambda vals: {"type": "string", "enum": sorted(set(vals))},
              st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=3)),
    st.just({"type": "boolean", "default": False}),
    st.sampled_from([{"$ref": f"#/$defs/{n}"} for n in DEF_NAMES]),
)
_field = st.one_of(_leaf, st.builds(lambda items: {"type": "array", "items": items}, _leaf))


@st.composite
def _payload(draw: st.DrawFn) -> dict[str, Any]:
    props = draw(st.dictionaries(st.sampled_from(["id", "amount", "note", "at", "to", "lines"]),
                                 _field, min_size=1, max_size=4))
    required = sorted(draw(st.sets(st.sampled_from(sorted(props)))))
    out: dict[str, Any] = {"type": "object"}
    if required:
        out["required"] = required
    out["properties"] = props
    if draw(st.booleans()):
        out["additionalProperties"] = False
    return out


DEFS: dict[str, Any] = {
    "Money": {"type": "object", "required": ["amount", "currency"],
              "properties": {"amount": {"type": "string"}, "currency": {"$ref": "#/$defs/Currency"}}},
    "Currency": {"type": "string", "enum": ["EUR", "USD"]},
    "Address": {"type": "object", "properties": {"city": {"type": "string"}}},
    "PortCode": {"type": "string", "pattern": "^[A-Z]{5}$"},
}


@st.composite
def catalog_data(draw: st.DrawFn, max_messages: int = 6) -> dict[str, Any]:
    """The YAML data of one valid catalog file."""
    names = draw(st.lists(st.sampled_from(CONTEXTS), min_size=1, max_size=5, unique=True))
    contexts: dict[str, Any] = {}
    for name in names:
        ctx: dict[str, Any] = {}
        if draw(st.booleans()):
            ctx["description"] = draw(st.text(min_size=1, max_size=30))
        if draw(st.booleans()):
            ctx["owner"] = f"team-{name}"
        transport = draw(st.sampled_from([None, None, "nats", "sns-sqs"]))
        if transport:
            ctx["transport"] = transport
        contexts[name] = ctx
    msg_names = draw(st.lists(st.builds(lambda w, v: w + v, st.sampled_from(WORDS),
                                        st.sampled_from(VERBS)),
                              min_size=1, max_size=max_messages, unique=True))
    events: dict[str, Any] = {}
    commands: dict[str, Any] = {}
    for msg in msg_names:
        entry: dict[str, Any] = {}
        if draw(st.booleans()):
            entry["description"] = draw(st.text(min_size=1, max_size=40))
        if draw(st.booleans()):
            entry["version"] = draw(st.integers(2, 4))
        if draw(st.integers(0, 5)) == 0:
            entry["deprecated"] = True
        entry["producers"] = draw(st.lists(st.sampled_from(names), unique=True, max_size=2))
        command = draw(st.booleans())
        if command:
            entry["handler"] = draw(st.sampled_from(names))
        else:
            entry["consumers"] = draw(st.lists(st.sampled_from(names), unique=True, max_size=3))
        if draw(st.booleans()):
            entry["compatibility"] = draw(st.sampled_from(["NONE", "FORWARD", "FULL", "FULL_TRANSITIVE"]))
        if draw(st.booleans()):
            entry["retry"] = {"max_attempts": draw(st.integers(1, 9)), "initial_delay": "500ms"}
        if draw(st.integers(0, 3)) == 0:
            entry["distributed"] = True
        entry["payload"] = draw(_payload())
        (commands if command else events)[msg] = entry
    data: dict[str, Any] = {"catalog": "rand", "contexts": contexts,
                            "defaults": {"compatibility": "BACKWARD", "retry": {"max_attempts": 4}}}
    if events:
        data["events"] = events
    if commands:
        data["commands"] = commands
    data["$defs"] = DEFS
    return data


def load_data(data: dict[str, Any], file: str = "rand.yaml") -> Catalog:
    """The catalog of one file's YAML data."""
    return load_catalog_texts({file: yaml.safe_dump(data, sort_keys=False)}, root="schemas")


def view(catalog: Catalog) -> dict[str, Any]:
    """Everything a catalog says, without where it was written (files, lines, payloads as
    written): two catalogs with equal views are the same catalog."""
    return {
        "name": catalog.name,
        "description": catalog.description,
        "contexts": {n: c.model_dump(exclude={"location"}) for n, c in catalog.contexts.items()},
        "defaults": [catalog.defaults_retry, catalog.defaults_compatibility],
        "messages": {m.name: m.model_dump(exclude={"location", "file", "payload"})
                     for m in catalog.messages()},
    }
