"""Property test: random valid catalogs generate a package that compiles, imports, and round-trips a
payload through the generated model and the real `EventBus` validation."""

from __future__ import annotations

import importlib
import itertools
import json
import keyword
import re
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.catalog import function_name, model_name
from tidings.generator import bus_class_name, generate

_counter = itertools.count()

CONTEXTS = ["alpha", "beta", "gamma"]
text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)
message_names = st.from_regex(r"[a-z]{1,6}([A-Z][a-z]{1,5}){0,2}", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n) and not keyword.iskeyword(function_name(n))
)
property_names = st.one_of(
    st.from_regex(r"[a-z][a-zA-Z0-9]{0,10}", fullmatch=True),
    st.text(st.characters(codec="ascii", categories=["L", "N", "P", "Zs"]), min_size=1, max_size=8),
)


def _yaml_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def yaml_text(document: dict[str, Any]) -> str:
    """`document` as YAML that reads back exactly: JSON (a YAML subset) with every character YAML
    does not allow raw, or reads as a line break, escaped (`\\u0085` would fold to a space)."""
    text = json.dumps(document, ensure_ascii=False, indent=1)
    return re.sub(r"[^\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]",
                  _yaml_escape, text)


@st.composite
def field(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    """A property schema and a valid value for it."""
    kind = draw(st.sampled_from(["string", "integer", "number", "boolean", "enum", "array", "object",
                                 "uuid", "datetime"]))
    if kind == "string":
        return {"type": "string", "description": draw(text)}, draw(text)
    if kind == "integer":
        return {"type": "integer", "minimum": 0}, draw(st.integers(0, 10**12))
    if kind == "number":
        return {"type": "number"}, draw(st.floats(allow_nan=False, allow_infinity=False, width=32))
    if kind == "boolean":
        return {"type": "boolean"}, draw(st.booleans())
    if kind == "enum":
        values = draw(st.lists(text, min_size=1, max_size=4, unique=True))
        return {"type": "string", "enum": values}, draw(st.sampled_from(values))
    if kind == "array":
        return {"type": "array", "items": {"type": "string"}}, draw(st.lists(text, max_size=3))
    if kind == "object":
        return (
            {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}},
            {"n": draw(st.integers(-5, 5))},
        )
    if kind == "uuid":
        return {"type": "string", "format": "uuid"}, str(draw(st.uuids()))
    return {"type": "string", "format": "date-time"}, "2024-02-29T23:59:59+00:00"


@st.composite
def catalogs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A valid catalog document and, per message name, a valid payload."""
    names = draw(st.lists(message_names, min_size=1, max_size=4, unique_by=(model_name,)))
    assume_distinct = len({function_name(n) for n in names}) == len(names)
    if not assume_distinct:
        names = names[:1]
    contexts = draw(st.lists(st.sampled_from(CONTEXTS), min_size=1, max_size=3, unique=True))
    events: dict[str, Any] = {}
    commands: dict[str, Any] = {}
    samples: dict[str, dict[str, Any]] = {}
    for name in names:
        props = draw(st.dictionaries(property_names, field(), max_size=5))
        required = [p for p in props if draw(st.booleans())]
        sample = {p: value for p, (_, value) in props.items() if p in required or draw(st.booleans())}
        payload = {
            "type": "object",
            "required": required,
            "properties": {p: schema for p, (schema, _) in props.items()},
        }
        definition: dict[str, Any] = {
            "description": draw(text),
            "producers": [draw(st.sampled_from(contexts))],
            "payload": payload,
        }
        if draw(st.booleans()):
            definition["distributed"] = True
        if draw(st.booleans()):
            definition["consumers"] = draw(st.lists(st.sampled_from(contexts), min_size=1, unique=True))
            events[name] = definition
        else:
            definition["handler"] = draw(st.sampled_from(contexts))
            commands[name] = definition
        samples[name] = sample
    document = {
        "catalog": f"hyp{next(_counter)}",
        "description": draw(text),
        "contexts": {
            c: {"description": draw(text), **draw(st.sampled_from(
                [{}, {}, {"transport": "nats"}, {"transport": "sns-sqs"}]))}
            for c in contexts
        },
        "events": events,
        "commands": commands,
    }
    return document, samples


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogs())
def test_random_catalogs_generate_importable_round_tripping_code(
    tmp_path_factory: Any, example: tuple[dict[str, Any], dict[str, dict[str, Any]]]
) -> None:
    document, samples = example
    root: Path = tmp_path_factory.mktemp("hyp")
    (root / "schemas").mkdir()
    (root / "schemas" / "catalog.yaml").write_text(yaml_text(document), encoding="utf-8")
    result = generate(root / "schemas", root / "out")
    package = result.package
    for source in package.rglob("*.py"):
        compile(source.read_text(encoding="utf-8"), str(source), "exec")

    sys.path.insert(0, str(root / "out"))
    try:
        generated = importlib.import_module(document["catalog"])
        for context in document["contexts"]:
            for kind in ("publishers", "subscribers"):
                if (package / kind / f"{context}.py").exists():
                    importlib.import_module(f"{document['catalog']}.{kind}.{context}")
    finally:
        sys.path.remove(str(root / "out"))

    bus = getattr(generated, bus_class_name(document["catalog"]))
    anyio.run(_through_generated_publishers_and_subscribers, document, samples, bus)
    for name, sample in samples.items():
        spec = generated.CATALOG.get(name)
        defined = {**document["events"], **document["commands"]}[name]
        assert spec.description == defined["description"]
        touched = [*defined["producers"], *defined.get("consumers", []), defined.get("handler")]
        remote = any("transport" in document["contexts"].get(c or "", {}) for c in touched)
        assert spec.distributed == (defined.get("distributed", False) or remote)
        model = spec.model.model_validate(sample)
        dumped = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
        assert set(dumped) == set(sample)
        assert spec.model.model_validate(dumped) == model
        message = bus().message(name, sample)
        assert message.data == model
        for key, value in sample.items():
            if isinstance(value, str) and defined["payload"]["properties"][key].get("format") == "uuid":
                assert dumped[key] == str(UUID(value))


async def _through_generated_publishers_and_subscribers(
    document: dict[str, Any], samples: dict[str, dict[str, Any]], bus_class: Any
) -> None:
    """Emit each sample with its producer's `emit_<name>` and receive it with a consumer's
    `on_<name>` decorator, on a real (in-memory) bus."""
    package = document["catalog"]
    received: list[Any] = []
    async with bus_class() as bus:
        for name, sample in samples.items():
            definition = {**document["events"], **document["commands"]}[name]
            consumer = (definition.get("consumers") or [definition.get("handler")])[0]
            producer = definition["producers"][0]
            subscribers = importlib.import_module(f"{package}.subscribers.{consumer}")
            publishers = importlib.import_module(f"{package}.publishers.{producer}")
            decorate = getattr(subscribers, f"on_{function_name(name)}")
            decorate(bus, mode="sync", name=f"test:{name}")(received.append)
            model = bus.catalog.get(name).model.model_validate(sample)
            await getattr(publishers, f"emit_{function_name(name)}")(bus, model)
            assert received[-1].name == name
            assert received[-1].data == model
            assert received[-1].producer == producer
