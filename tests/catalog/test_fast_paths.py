"""The compiled fast paths of loading agree with the `jsonschema` checks that word the errors.

`surely_valid` (jsonschema-rs) lets a payload skip the meta-schema check, and the structure check
skips `jsonschema` on a file jsonschema-rs accepts: a wrong "valid" there would hide an error, so
these properties compare both verdicts on random and on mutated schemas and files.
"""

from __future__ import annotations

import copy
import gc
import math
import weakref
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from yaml.nodes import ScalarNode

from tidings.catalog import CatalogError, _structure, load_catalog, load_catalog_texts
from tidings.catalog._keywords import KNOWN, subschemas
from tidings.catalog._loader import _Loader
from tidings.catalog._metaschema import meta_validator, surely_valid
from tidings.catalog._yaml import ParsedFile, _convert, _FastLoader
from tidings.catalog._yaml import _Loader as PyYamlLoader

FIXTURES = Path(__file__).parent / "fixtures"
VALID = FIXTURES / "valid"
FILES = {p.relative_to(VALID).as_posix(): p.read_text("utf-8") for p in VALID.rglob("*.yaml")}

KEYS = sorted(KNOWN | {"definitions", "dependencies", "$recursiveRef", "$recursiveAnchor",
                       "$dynamicRef", "$dynamicAnchor", "$vocabulary", "a", "x-y", "nullable"})
TEXTS = ["string", "object", "integer", "null", "strin", "(", "[a-", "(?P<n>x)", r"\p{L}",
         r"^\d+$", "a\n", "#/a", "a", "http://x/y#z", "::bad uri", "", "uuid", "ü", "\u0663",
         "common.yaml#/$defs/Money"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 3), st.sampled_from([10**20, -(10**20), 2**63]),
    st.floats(width=32), st.sampled_from([0.0, 1.0, -1.0, 2.5, math.inf, math.nan]),
    st.sampled_from(TEXTS), st.text(max_size=4),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.sampled_from(TEXTS)), inner,
                        max_size=4),
    ),
    max_leaves=25,
)


def _has_nan(value: Any) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, dict):
        return any(_has_nan(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nan(v) for v in value)
    return False


def _slow_valid(schema: Any) -> bool:
    return not any(True for _ in meta_validator().iter_errors(schema))


def _same_verdict(schema: Any) -> None:
    fast, slow = surely_valid(schema), _slow_valid(schema)
    if fast:
        assert slow, f"the fast path accepts a payload jsonschema rejects: {schema!r}"
    elif not _has_nan(schema):  # Rust rejects NaN outright; jsonschema lets it through
        assert not slow, f"the fast path rejects a valid payload (only slower): {schema!r}"


@settings(max_examples=600, deadline=None)
@given(schema=st.dictionaries(st.sampled_from(KEYS), values, max_size=6))
def test_fast_meta_check_agrees_on_random_schemas(schema: dict[str, Any]) -> None:
    _same_verdict(schema)


def _fixture_payloads() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for text in FILES.values():
        data = yaml.safe_load(text) or {}
        for section in ("events", "commands"):
            for body in (data.get(section) or {}).values():
                if isinstance(body, dict) and isinstance(body.get("payload"), dict):
                    found.append(body["payload"])
        found += [d for d in (data.get("$defs") or {}).values() if isinstance(d, dict)]
    return found


PAYLOADS = _fixture_payloads()


@settings(max_examples=600, deadline=None)
@given(data=st.data())
def test_fast_meta_check_agrees_on_mutated_payloads(data: st.DataObject) -> None:
    schema = copy.deepcopy(data.draw(st.sampled_from(PAYLOADS)))
    for _ in range(data.draw(st.integers(1, 3))):
        places = [sub for sub, _ in subschemas(schema)]
        sub = data.draw(st.sampled_from(places))
        key = data.draw(st.one_of(st.sampled_from(KEYS), st.sampled_from(sorted(sub) or ["a"])))
        sub[key] = data.draw(values)
    _same_verdict(schema)


def test_fast_meta_check_known_examples() -> None:
    valid = [{"type": "string", "pattern": r"^\d+$"}, {"minLength": 1.0}, {"pattern": "(?P<n>x)"},
             {"maxLength": 10**30}, {"$ref": "::bad uri"}, *PAYLOADS]
    invalid = [{"type": "strin"}, {"pattern": "("}, {"pattern": r"\p{L}"},
               {"patternProperties": {"(": {}}}, {"definitions": {"a": {"pattern": "("}}},
               {"minLength": True}, {"minimum": "5"}, {"required": ["a", "a"]}]
    for schema in valid:
        assert surely_valid(schema) and _slow_valid(schema), schema
    for schema in invalid:
        assert not surely_valid(schema) and not _slow_valid(schema), schema


# -- the structure check ----------------------------------------------------------------------

FILE_KEYS = ["catalog", "description", "contexts", "defaults", "events", "commands", "$defs",
             "retry", "compatibility", "payload", "producers", "consumers", "handler", "version",
             "deprecated", "max_attempts", "initial_delay", "max_delay", "jitter", "owner", "a"]
FILE_TEXTS = ["core", "email", "1s", "5m", "500ms", "1s\n", "1.5h", "\u0661s", "BACKWARD", "FULL",
              "backward", "x", ""]
file_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2, 3), st.sampled_from([10**20, math.inf]),
              st.floats(width=32), st.sampled_from(FILE_TEXTS)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(FILE_KEYS + FILE_TEXTS), inner, max_size=4),
    ),
    max_leaves=25,
)


def _structure_verdicts(data: Any) -> tuple[bool, bool]:
    try:
        fast = bool(_structure._fast().is_valid(data))
    except Exception:
        fast = False
    slow = not any(True for _ in _structure._VALIDATOR.iter_errors(data))
    return fast, slow


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*at, key))
    return found


FIXTURE_DATA = [yaml.safe_load(text) for text in FILES.values()]


@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_fast_structure_check_agrees_on_mutated_files(data: st.DataObject) -> None:
    document = copy.deepcopy(data.draw(st.sampled_from(FIXTURE_DATA)))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(document)))
        node = document
        for part in path:
            node = node[part]
        if isinstance(node, dict):
            node[data.draw(st.sampled_from(FILE_KEYS + sorted(node)))] = data.draw(file_values)
    fast, slow = _structure_verdicts(document)
    if fast:
        assert slow, f"the fast path accepts a file jsonschema rejects: {document!r}"


def test_fast_structure_check_is_not_more_lenient_on_durations() -> None:
    """Python's `$` also matches before a final newline: there jsonschema is the lenient one."""
    base = next(d for d in FIXTURE_DATA if "catalog" in d)
    for text in ["1s\n", "\u0661s", "1 s", "s"]:
        document = {**base, "defaults": {"retry": {"initial_delay": text}}}
        fast, slow = _structure_verdicts(document)
        assert not fast, text
        assert slow == (text == "1s\n"), text
    assert _structure_verdicts({**base, "defaults": {"retry": {"initial_delay": "1s"}}}) == (
        True, True)


# -- YAML -------------------------------------------------------------------------------------

@settings(max_examples=500, deadline=None)
@given(value=st.one_of(st.text(max_size=6), st.sampled_from(
    ["true", "True", "yes", "NO", "on", "~", "null", "", "0o17", "0x1F", "1e3", ".inf", "-.INF",
     ".nan", "<<", "2024-01-01", "1_000", "+1", "-0.5", "0.", ".5"])))
def test_cached_scalar_resolution_matches_pyyaml(value: str) -> None:
    fast, slow = _FastLoader(""), PyYamlLoader("")
    try:
        for implicit in [(True, False), (False, True), (False, False)]:
            assert fast.resolve(ScalarNode, value, implicit) == slow.resolve(
                ScalarNode, value, implicit
            )
            assert fast.resolve(ScalarNode, value, implicit) == fast.resolve(
                ScalarNode, value, implicit
            )  # the second answer comes from the cache
    finally:
        fast.dispose()
        slow.dispose()


def _parsed_both_ways(text: str) -> tuple[Any, Any]:
    results = []
    for loader in (_FastLoader, PyYamlLoader):
        parsed = ParsedFile(file="f.yaml", data=None)
        issues: list[Any] = []
        _convert(parsed, list(yaml.compose_all(text, Loader=loader)), issues)
        marks = {path: (n.start_mark.line, n.start_mark.column)
                 for path, n in parsed.values.items()}
        results.append((parsed.data, marks, [str(i) for i in issues]))
    return results[0], results[1]


yaml_documents = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              st.text(max_size=6), st.sampled_from(["yes", "NO", "0o17", "1e3", "~", "<<"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=4), inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(document=yaml_documents, flow=st.booleans())
def test_libyaml_with_cached_tags_reads_like_pure_pyyaml(document: Any, flow: bool) -> None:
    assert _FastLoader.yaml_path_resolvers == {}  # resolve() and friends assume none
    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True)
    fast, slow = _parsed_both_ways(text)
    assert fast == slow


def test_fixtures_read_alike_with_both_loaders() -> None:
    for path in FIXTURES.rglob("*.yaml"):
        text = path.read_text("utf-8")
        try:
            fast, slow = _parsed_both_ways(text)
        except yaml.YAMLError:
            continue  # broken on purpose: parse_yaml words those with PyYAML
        assert fast == slow, path


# -- the garbage collector --------------------------------------------------------------------

def test_loading_pauses_and_restores_the_collector() -> None:
    assert gc.isenabled()
    load_catalog_texts(FILES)
    assert gc.isenabled()
    with pytest.raises(CatalogError):
        load_catalog_texts({"a.yaml": "catalog: [x"})
    assert gc.isenabled()
    gc.disable()
    try:
        load_catalog_texts(FILES)
        assert not gc.isenabled()  # left as the caller set it
    finally:
        gc.enable()


def test_loading_leaves_no_garbage_cycles() -> None:
    """Everything a load parses is freed by reference counting once the catalog is built
    (a cycle would keep every YAML node alive until a full collection, the slow part)."""
    loader = _Loader(dict(FILES), "")
    catalog = loader.load()
    parsed = weakref.ref(next(iter(loader.files.values())))
    gc.disable()
    try:
        del loader
        assert parsed() is None
    finally:
        gc.enable()
    assert catalog.messages()


def test_repeated_loads_give_equal_models() -> None:
    first, second = load_catalog(VALID), load_catalog(VALID)
    assert first == second
    assert first.model_dump_json() == second.model_dump_json()


# -- end to end: with and without the fast paths ----------------------------------------------

class _NeverSure:
    """Stands in for the compiled structure validator: sends every file down the slow path."""

    def is_valid(self, data: Any) -> bool:
        return False


def _outcome(files: dict[str, str]) -> str:
    try:
        catalog = load_catalog_texts(files, root="schemas")
    except CatalogError as exc:
        return "error\n" + "\n".join(
            f"{i.location!r} {i.path!r} {i.pointer!r} {i.message!r}" for i in exc.issues
        )
    return catalog.model_dump_json() + repr(catalog.bundle())


MUTATION_VALUES = st.one_of(
    values,
    st.sampled_from([{"$ref": "#/$defs/Nope"}, {"$ref": "common.yaml#/$defs/Money"},
                     {"$ref": "nofile.yaml#/$defs/X"}, {"type": "strin"}, {"nullable": True},
                     "1s\n", "5m", ["a", "a"], {"required": ["zz"], "properties": {"a": {}}}]),
)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_fast_paths_change_no_output(data: st.DataObject) -> None:
    """The same catalog, loaded with and without the compiled pre-checks, gives the same model
    or the same issues (location, place, pointer and message)."""
    documents = {name: yaml.safe_load(text) for name, text in FILES.items()}
    name = data.draw(st.sampled_from(sorted(documents)))
    for _ in range(data.draw(st.integers(0, 3))):
        path = data.draw(st.sampled_from(_paths(documents[name])))
        node = documents[name]
        for part in path:
            node = node[part]
        if isinstance(node, dict):
            key = data.draw(st.sampled_from(sorted(set(KEYS[:12]) | set(FILE_KEYS) | set(node))))
            node[key] = copy.deepcopy(data.draw(MUTATION_VALUES))  # never the shared constant
    files = {n: yaml.safe_dump(d, sort_keys=False, allow_unicode=True)
             for n, d in documents.items()}
    fast = _outcome(files)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr("tidings.catalog._payloads.surely_valid", lambda schema: False)
        patched.setattr(_structure, "_fast", _NeverSure)
        slow = _outcome(files)
    assert fast == slow
