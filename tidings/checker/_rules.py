"""The checker's rules: stable ids, names and the documented rule each one follows.

Ids never change meaning once published; new rules get new ids. `TID-Cnnn` are payload
compatibility rules (after Confluent Schema Registry's JSON Schema `Difference.Type`s), `TID-Lnnn`
lineage rules (events removed, kinds changed, versions), `TID-Onnn` orphans found in the catalog,
`TID-Snnn` orphans found in the source code, `TID-Dnnn` messages that cross the wire (distributed:
declared, or touched by a context with a `transport`), `TID-Innn` the ignore file, `TID-Knnn`
the payload schemas' keywords.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One check: `id` (e.g. ``TID-C012``), `name` (``property-removed``), a one-line `summary`
    and `follows`, the documented rule it implements (a Confluent difference type or a tidings
    rule)."""

    id: str
    name: str
    summary: str
    follows: str

    def __str__(self) -> str:
        return f"{self.id} {self.name}"


RULES: dict[str, Rule] = {}


def _rule(id_: str, name: str, summary: str, follows: str) -> Rule:
    rule = Rule(id_, name, summary, follows)
    assert id_ not in RULES and all(r.name != name for r in RULES.values()), id_
    RULES[id_] = rule
    return rule


# --- objects: properties, required, content models -------------------------------------------
PROPERTY_ADDED = _rule(
    "TID-C001", "property-added",
    "an optional property was added to an open object (lenient: old producers never sent it)",
    "Confluent PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL, relaxed by the lenient policy")
PROPERTY_ADDED_TO_OPEN_MODEL = _rule(
    "TID-C002", "property-added-to-open-model",
    "a property was added to an open object: old data may hold any value under that name",
    "Confluent PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL")
PROPERTY_ADDED_TO_CLOSED_MODEL = _rule(
    "TID-C003", "property-added-to-closed-model",
    "a property was added to a closed object (additionalProperties: false): old readers reject it",
    "Confluent OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL")
PROPERTY_ADDED_COVERED = _rule(
    "TID-C004", "property-added-covered-by-partial-model",
    "a property was added whose name the old additional/pattern properties already described",
    "Confluent PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
REQUIRED_ADDED = _rule(
    "TID-C005", "required-added",
    "a property became required without a default: old messages may lack it",
    "Confluent REQUIRED_ATTRIBUTE_ADDED / REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL")
REQUIRED_ADDED_WITH_DEFAULT = _rule(
    "TID-C006", "required-added-with-default",
    "a property became required with a default: readers fill it in for old messages",
    "Confluent REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED")
REQUIRED_REMOVED = _rule(
    "TID-C007", "required-removed",
    "a property is no longer required: new messages may lack what old readers require",
    "Confluent REQUIRED_ATTRIBUTE_REMOVED")
REQUIRED_REMOVED_WITH_DEFAULT = _rule(
    "TID-C008", "required-removed-with-default",
    "a property is no longer required, and old readers have a default for it",
    "Confluent REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED (reversed)")
ADDITIONAL_PROPERTIES_NARROWED = _rule(
    "TID-C009", "additional-properties-narrowed",
    "additionalProperties became stricter (object closed, or an open model given a schema)",
    "Confluent ADDITIONAL_PROPERTIES_REMOVED / ADDITIONAL_PROPERTIES_NARROWED")
ADDITIONAL_PROPERTIES_EXTENDED = _rule(
    "TID-C010", "additional-properties-extended",
    "additionalProperties became looser (object opened, or its schema dropped)",
    "Confluent ADDITIONAL_PROPERTIES_ADDED / ADDITIONAL_PROPERTIES_EXTENDED")
PROPERTY_REMOVED_FROM_CLOSED_MODEL = _rule(
    "TID-C011", "property-removed-from-closed-model",
    "a property was removed from a closed object: new readers reject old messages carrying it",
    "Confluent PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL")
PROPERTY_REMOVED = _rule(
    "TID-C012", "property-removed",
    "a property was removed from an open object (lenient: new producers no longer send it)",
    "Confluent PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL, relaxed by the lenient policy")
PROPERTY_REMOVED_FROM_OPEN_MODEL = _rule(
    "TID-C013", "property-removed-from-open-model",
    "a property was removed from an open object: new data may hold any value under that name",
    "Confluent PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL")
PROPERTY_REMOVED_COVERED = _rule(
    "TID-C014", "property-removed-covered-by-partial-model",
    "a property was removed whose name the new additional/pattern properties still describe",
    "Confluent PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
PATTERN_PROPERTY_ADDED = _rule(
    "TID-C015", "pattern-property-added",
    "a patternProperties entry was added",
    "Confluent PROPERTY_ADDED_*_CONTENT_MODEL applied to patternProperties")
PATTERN_PROPERTY_REMOVED = _rule(
    "TID-C016", "pattern-property-removed",
    "a patternProperties entry was removed",
    "Confluent PROPERTY_REMOVED_*_CONTENT_MODEL applied to patternProperties")
MAX_PROPERTIES_NARROWED = _rule(
    "TID-C017", "max-properties-narrowed", "maxProperties added or decreased",
    "Confluent MAX_PROPERTIES_ADDED / MAX_PROPERTIES_DECREASED")
MAX_PROPERTIES_EXTENDED = _rule(
    "TID-C018", "max-properties-extended", "maxProperties removed or increased",
    "Confluent MAX_PROPERTIES_REMOVED / MAX_PROPERTIES_INCREASED")
MIN_PROPERTIES_NARROWED = _rule(
    "TID-C019", "min-properties-narrowed", "minProperties added or increased",
    "Confluent MIN_PROPERTIES_ADDED / MIN_PROPERTIES_INCREASED")
MIN_PROPERTIES_EXTENDED = _rule(
    "TID-C020", "min-properties-extended", "minProperties removed or decreased",
    "Confluent MIN_PROPERTIES_REMOVED / MIN_PROPERTIES_DECREASED")

# --- types, nullability, enum, const -----------------------------------------------------------
TYPE_EXTENDED = _rule(
    "TID-C021", "type-extended", "the type accepts more (integer -> number, a type added)",
    "Confluent TYPE_EXTENDED")
TYPE_NARROWED = _rule(
    "TID-C022", "type-narrowed", "the type accepts less (number -> integer, a type removed)",
    "Confluent TYPE_NARROWED")
TYPE_CHANGED = _rule(
    "TID-C023", "type-changed", "the type changed to one that shares no values with the old one",
    "Confluent TYPE_CHANGED")
NULLABLE_ADDED = _rule(
    "TID-C024", "nullable-added", "null is now allowed", "Confluent TYPE_EXTENDED / SUM_TYPE_EXTENDED")
NULLABLE_REMOVED = _rule(
    "TID-C025", "nullable-removed", "null is no longer allowed",
    "Confluent TYPE_NARROWED / SUM_TYPE_NARROWED")
ENUM_EXTENDED = _rule(
    "TID-C026", "enum-extended", "enum values were added (or the enum dropped)",
    "Confluent ENUM_ARRAY_EXTENDED")
ENUM_NARROWED = _rule(
    "TID-C027", "enum-narrowed", "enum values were removed (or an enum added)",
    "Confluent ENUM_ARRAY_NARROWED")
ENUM_CHANGED = _rule(
    "TID-C028", "enum-changed", "enum values were both added and removed",
    "Confluent ENUM_ARRAY_CHANGED")
CONST_ADDED = _rule(
    "TID-C029", "const-added", "a const now pins the value", "Confluent SCHEMA_ADDED for const")
CONST_REMOVED = _rule(
    "TID-C030", "const-removed", "the const was dropped", "Confluent SCHEMA_REMOVED for const")
CONST_CHANGED = _rule(
    "TID-C031", "const-changed", "the const value changed", "Confluent ENUM_ARRAY_CHANGED for const")

# --- strings ------------------------------------------------------------------------------------
MAX_LENGTH_NARROWED = _rule(
    "TID-C032", "max-length-narrowed", "maxLength added or decreased",
    "Confluent MAX_LENGTH_ADDED / MAX_LENGTH_DECREASED")
MAX_LENGTH_EXTENDED = _rule(
    "TID-C033", "max-length-extended", "maxLength removed or increased",
    "Confluent MAX_LENGTH_REMOVED / MAX_LENGTH_INCREASED")
MIN_LENGTH_NARROWED = _rule(
    "TID-C034", "min-length-narrowed", "minLength added or increased",
    "Confluent MIN_LENGTH_ADDED / MIN_LENGTH_INCREASED")
MIN_LENGTH_EXTENDED = _rule(
    "TID-C035", "min-length-extended", "minLength removed or decreased",
    "Confluent MIN_LENGTH_REMOVED / MIN_LENGTH_DECREASED")
PATTERN_ADDED = _rule("TID-C036", "pattern-added", "a pattern was added", "Confluent PATTERN_ADDED")
PATTERN_REMOVED = _rule(
    "TID-C037", "pattern-removed", "the pattern was dropped", "Confluent PATTERN_REMOVED")
PATTERN_CHANGED = _rule(
    "TID-C038", "pattern-changed", "the pattern changed", "Confluent PATTERN_CHANGED")
FORMAT_ADDED = _rule(
    "TID-C039", "format-added", "a format was added (generated models enforce uuid, date-time...)",
    "tidings: format treated like pattern (Confluent PATTERN_ADDED)")
FORMAT_REMOVED = _rule(
    "TID-C040", "format-removed", "the format was dropped",
    "tidings: format treated like pattern (Confluent PATTERN_REMOVED)")
FORMAT_CHANGED = _rule(
    "TID-C041", "format-changed", "the format changed",
    "tidings: format treated like pattern (Confluent PATTERN_CHANGED)")

# --- numbers ------------------------------------------------------------------------------------
MAXIMUM_NARROWED = _rule(
    "TID-C042", "maximum-narrowed", "maximum/exclusiveMaximum added or decreased",
    "Confluent MAXIMUM_ADDED / MAXIMUM_DECREASED / EXCLUSIVE_MAXIMUM_*")
MAXIMUM_EXTENDED = _rule(
    "TID-C043", "maximum-extended", "maximum/exclusiveMaximum removed or increased",
    "Confluent MAXIMUM_REMOVED / MAXIMUM_INCREASED / EXCLUSIVE_MAXIMUM_*")
MINIMUM_NARROWED = _rule(
    "TID-C044", "minimum-narrowed", "minimum/exclusiveMinimum added or increased",
    "Confluent MINIMUM_ADDED / MINIMUM_INCREASED / EXCLUSIVE_MINIMUM_*")
MINIMUM_EXTENDED = _rule(
    "TID-C045", "minimum-extended", "minimum/exclusiveMinimum removed or decreased",
    "Confluent MINIMUM_REMOVED / MINIMUM_DECREASED / EXCLUSIVE_MINIMUM_*")
MULTIPLE_OF_NARROWED = _rule(
    "TID-C046", "multiple-of-narrowed", "multipleOf added, or now a multiple of the old one",
    "Confluent MULTIPLE_OF_ADDED / MULTIPLE_OF_EXPANDED")
MULTIPLE_OF_EXTENDED = _rule(
    "TID-C047", "multiple-of-extended", "multipleOf removed, or now a divisor of the old one",
    "Confluent MULTIPLE_OF_REMOVED / MULTIPLE_OF_REDUCED")
MULTIPLE_OF_CHANGED = _rule(
    "TID-C048", "multiple-of-changed", "multipleOf changed to an unrelated step",
    "Confluent MULTIPLE_OF_CHANGED")

# --- arrays --------------------------------------------------------------------------------------
MAX_ITEMS_NARROWED = _rule(
    "TID-C049", "max-items-narrowed", "maxItems added or decreased",
    "Confluent MAX_ITEMS_ADDED / MAX_ITEMS_DECREASED")
MAX_ITEMS_EXTENDED = _rule(
    "TID-C050", "max-items-extended", "maxItems removed or increased",
    "Confluent MAX_ITEMS_REMOVED / MAX_ITEMS_INCREASED")
MIN_ITEMS_NARROWED = _rule(
    "TID-C051", "min-items-narrowed", "minItems added or increased",
    "Confluent MIN_ITEMS_ADDED / MIN_ITEMS_INCREASED")
MIN_ITEMS_EXTENDED = _rule(
    "TID-C052", "min-items-extended", "minItems removed or decreased",
    "Confluent MIN_ITEMS_REMOVED / MIN_ITEMS_DECREASED")
UNIQUE_ITEMS_ADDED = _rule(
    "TID-C053", "unique-items-added", "uniqueItems now required", "Confluent UNIQUE_ITEMS_ADDED")
UNIQUE_ITEMS_REMOVED = _rule(
    "TID-C054", "unique-items-removed", "uniqueItems dropped", "Confluent UNIQUE_ITEMS_REMOVED")
ITEM_ADDED_TO_OPEN_TUPLE = _rule(
    "TID-C055", "item-added-to-open-tuple",
    "a tuple position was added where old data could hold anything",
    "Confluent ITEM_ADDED_TO_OPEN_CONTENT_MODEL")
ITEM_ADDED_TO_CLOSED_TUPLE = _rule(
    "TID-C056", "item-added-to-closed-tuple",
    "a tuple position was added to a closed tuple: old readers reject the longer arrays",
    "Confluent ITEM_ADDED_TO_CLOSED_CONTENT_MODEL")
ITEM_REMOVED_FROM_OPEN_TUPLE = _rule(
    "TID-C057", "item-removed-from-open-tuple",
    "a tuple position was removed; the tuple stays open",
    "Confluent ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL")
ITEM_REMOVED_FROM_CLOSED_TUPLE = _rule(
    "TID-C058", "item-removed-from-closed-tuple",
    "a tuple position was removed from a closed tuple: new readers reject old, longer arrays",
    "Confluent ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL")
ADDITIONAL_ITEMS_NARROWED = _rule(
    "TID-C059", "additional-items-narrowed",
    "items after the tuple became stricter (tuple closed or given a schema)",
    "Confluent ADDITIONAL_ITEMS_REMOVED / ADDITIONAL_ITEMS_NARROWED")
ADDITIONAL_ITEMS_EXTENDED = _rule(
    "TID-C060", "additional-items-extended",
    "items after the tuple became looser (tuple opened or its schema dropped)",
    "Confluent ADDITIONAL_ITEMS_ADDED / ADDITIONAL_ITEMS_EXTENDED")

# --- combinators ---------------------------------------------------------------------------------
SUM_TYPE_EXTENDED = _rule(
    "TID-C061", "branch-added", "an anyOf/oneOf branch was added", "Confluent SUM_TYPE_EXTENDED")
SUM_TYPE_NARROWED = _rule(
    "TID-C062", "branch-removed", "an anyOf/oneOf branch was removed",
    "Confluent SUM_TYPE_NARROWED")
ONE_OF_BRANCH_OVERLAPS = _rule(
    "TID-C063", "one-of-branch-overlaps",
    "a oneOf whose branches may overlap changed: a value may now match two branches (invalid) "
    "or only one (newly valid)",
    "tidings: stricter than Confluent SUM_TYPE_EXTENDED, which ignores oneOf exclusivity")
PRODUCT_TYPE_EXTENDED = _rule(
    "TID-C064", "all-of-branch-added", "an allOf branch (one more constraint) was added",
    "Confluent PRODUCT_TYPE_EXTENDED")
PRODUCT_TYPE_NARROWED = _rule(
    "TID-C065", "all-of-branch-removed", "an allOf branch (a constraint) was removed",
    "Confluent PRODUCT_TYPE_NARROWED")
COMBINED_TYPE_EXTENDED = _rule(
    "TID-C066", "combinator-extended", "oneOf became anyOf", "Confluent COMBINED_TYPE_EXTENDED")
COMBINED_TYPE_CHANGED = _rule(
    "TID-C067", "combinator-changed", "the combinator changed (anyOf -> oneOf, allOf <-> anyOf)",
    "Confluent COMBINED_TYPE_CHANGED")
NOT_TYPE_NARROWED = _rule(
    "TID-C068", "not-added", "a `not` now excludes values", "Confluent NOT_TYPE_EXTENDED")
NOT_TYPE_EXTENDED = _rule(
    "TID-C069", "not-removed", "the `not` was dropped", "Confluent NOT_TYPE_NARROWED")

# --- whole schemas and the rest ------------------------------------------------------------------
SCHEMA_ADDED = _rule(
    "TID-C070", "schema-closed", "the schema now rejects everything (false)",
    "Confluent SCHEMA_ADDED")
SCHEMA_REMOVED = _rule(
    "TID-C071", "schema-opened", "the schema now accepts everything (true / {})",
    "Confluent SCHEMA_REMOVED")
KEYWORD_ADDED = _rule(
    "TID-C072", "keyword-added",
    "an assertion keyword the checker does not model in detail was added (it can only narrow)",
    "JSON Schema: assertions are conjuncts; Confluent reports unknown changes as incompatible")
KEYWORD_REMOVED = _rule(
    "TID-C073", "keyword-removed",
    "an assertion keyword the checker does not model in detail was dropped (it can only widen)",
    "JSON Schema: assertions are conjuncts; Confluent reports unknown changes as incompatible")
KEYWORD_CHANGED = _rule(
    "TID-C074", "keyword-changed",
    "an assertion keyword the checker does not model in detail changed: assumed breaking both ways",
    "Confluent: unknown changes are incompatible")
DEFAULT_CHANGED = _rule(
    "TID-C075", "default-changed", "the default changed (an annotation: no direction breaks)",
    "Confluent DEFAULT_CHANGED")
DEPENDENCY_ADDED = _rule(
    "TID-C076", "dependency-added",
    "a dependentRequired/dependentSchemas entry (or a name in one) was added: a present property "
    "now demands more", "Confluent DEPENDENCY_ARRAY_ADDED / _EXTENDED / DEPENDENCY_SCHEMA_ADDED")
DEPENDENCY_REMOVED = _rule(
    "TID-C077", "dependency-removed",
    "a dependentRequired/dependentSchemas entry (or a name in one) was removed",
    "Confluent DEPENDENCY_ARRAY_REMOVED / _NARROWED / DEPENDENCY_SCHEMA_REMOVED")
DEPENDENCY_CHANGED = _rule(
    "TID-C078", "dependency-changed",
    "the names a property's presence requires were both added and removed",
    "Confluent DEPENDENCY_ARRAY_CHANGED")
CONTAINS_NARROWED = _rule(
    "TID-C079", "contains-narrowed",
    "an array must now hold more matching items (contains added, minContains raised, "
    "maxContains added or lowered)",
    "Confluent MIN_CONTAINS_ADDED / _INCREASED, MAX_CONTAINS_ADDED / _DECREASED")
CONTAINS_EXTENDED = _rule(
    "TID-C080", "contains-extended",
    "an array may hold fewer or more matching items (contains dropped, minContains lowered, "
    "maxContains raised or dropped)",
    "Confluent MIN_CONTAINS_DECREASED / _REMOVED, MAX_CONTAINS_INCREASED / _REMOVED")

# --- lineage (catalog against baseline) ----------------------------------------------------------
MESSAGE_REMOVED = _rule(
    "TID-L001", "message-removed",
    "an event or command was removed (or renamed): stored messages can no longer be replayed",
    "tidings lineage: removing an event is an error")
KIND_CHANGED = _rule(
    "TID-L002", "kind-changed", "an event became a command or the reverse",
    "tidings lineage: changing its kind is an error")
VERSION_DECREASED = _rule(
    "TID-L003", "version-decreased", "the version went down", "tidings lineage: versions only go up")
VERSION_BUMPED = _rule(
    "TID-L004", "version-bumped",
    "the version went up: a new lineage starts; a payload change stored messages of the old "
    "version do not fit needs upcasters (TID-L008)",
    "tidings lineage: a version bump starts a new lineage")
MESSAGE_ADDED = _rule(
    "TID-L005", "message-added", "a new event or command", "tidings lineage: a new message starts its own")
TRANSITIVE_HISTORY_UNAVAILABLE = _rule(
    "TID-L006", "transitive-history-unavailable",
    "a _TRANSITIVE mode was checked against the baseline only: it has no git history",
    "tidings lineage: _TRANSITIVE compares with every earlier version in git history")
BASELINE_EMPTY = _rule(
    "TID-L007", "baseline-has-no-catalog",
    "the baseline has no catalog files where the catalog is now: nothing was compared",
    "tidings lineage: compatibility against a baseline")
VERSION_BUMPED_WITHOUT_UPCASTER = _rule(
    "TID-L008", "version-bumped-without-upcaster",
    "the version went up with a payload change stored messages of the old version do not fit, and "
    "no upcaster from the old version was found: they go dead when replayed",
    "tidings lineage: stored messages of every version stay readable (upcasters, on read)")

# --- orphans in the catalog ----------------------------------------------------------------------
EVENT_NOT_CONSUMED = _rule(
    "TID-O001", "event-not-consumed", "an event no context consumes: it is emitted into the void",
    "tidings catalog orphans")
MESSAGE_NOT_PRODUCED = _rule(
    "TID-O002", "message-not-produced", "an event or command no context produces",
    "tidings catalog orphans")
COMMAND_HANDLER = _rule(
    "TID-O003", "command-handler-not-unique",
    "a command needs exactly one handling context", "tidings catalog orphans: a command has one handler")
CONTEXT_NOT_DECLARED = _rule(
    "TID-O004", "context-not-declared", "a context is named but not declared under `contexts:`",
    "tidings catalog orphans: every context is declared")
CONTEXT_UNUSED = _rule(
    "TID-O005", "context-unused", "a declared context produces, consumes and handles nothing",
    "tidings catalog orphans: a declared context that touches nothing")
DEPRECATED_PRODUCED = _rule(
    "TID-O006", "deprecated-still-produced", "a deprecated message still has producers",
    "tidings catalog orphans: deprecated messages still produced")

# --- orphans in the code -------------------------------------------------------------------------
CODE_UNKNOWN_NAME = _rule(
    "TID-S001", "unknown-message-in-code",
    "the code emits or subscribes to a name the catalog does not declare",
    "tidings code orphans")
CODE_NEVER_EMITTED = _rule(
    "TID-S002", "never-emitted", "a catalog message the code never emits",
    "tidings code orphans")
CODE_NEVER_SUBSCRIBED = _rule(
    "TID-S003", "never-subscribed", "a catalog message the code never subscribes to",
    "tidings code orphans")
CODE_WRONG_PRODUCER = _rule(
    "TID-S004", "emitted-by-non-producer",
    "a context emits a message the catalog does not list it as producing",
    "tidings code orphans: a context emits what it produces")
CODE_WRONG_CONSUMER = _rule(
    "TID-S005", "subscribed-by-non-consumer",
    "a context subscribes to a message the catalog does not list it as consuming",
    "tidings code orphans: a context subscribes to what it consumes")
CODE_UNPARSABLE = _rule(
    "TID-S006", "unparsable-source", "a Python file could not be parsed; it was skipped",
    "tidings: AST-only scan")

# --- distributed messages (crossing the wire) ----------------------------------------------------
DISTRIBUTED_COMPATIBILITY = _rule(
    "TID-D001", "distributed-compatibility-below-full",
    "a distributed message's compatibility is weaker than FULL: its producers and consumers run "
    "in different services and deploy independently, so both directions matter",
    "tidings distributed messages: the checker knows which events cross the wire")
DISTRIBUTED_SYNC_SUBSCRIBER = _rule(
    "TID-D002", "sync-subscriber-across-the-wire",
    "the code subscribes to a distributed message in sync mode without `remote=False`: sync "
    "cannot be honoured across the wire",
    "tidings distributed messages: sync mode across the wire is refused")
REMOTE_NOT_DISTRIBUTED = _rule(
    "TID-D003", "remote-subscriber-not-distributed",
    "the code subscribes with `remote=True` to a message that is not distributed: it never "
    "crosses the wire, and the bus refuses the subscription",
    "tidings distributed messages: only distributed messages are relayed to the broker")

# --- the ignore file -----------------------------------------------------------------------------
IGNORE_UNUSED = _rule(
    "TID-I001", "ignore-entry-unused", "an ignore entry matched no finding: delete it",
    "tidings: keep .tidings-ignore.yaml honest")
IGNORE_EXPIRED = _rule(
    "TID-I002", "ignore-entry-expired", "an ignore entry is past its `until` date",
    "tidings: keep .tidings-ignore.yaml honest")

# --- payload schema keywords -----------------------------------------------------------------
UNKNOWN_KEYWORD = _rule(
    "TID-K001", "unknown-schema-keyword",
    "a payload schema uses a keyword its JSON Schema draft does not define (or a format it does "
    "not know): an annotation without effect, often a typo (an error with `strict_keywords`)",
    "JSON Schema: unknown keywords are annotations")


def rule_by_key(key: str) -> Rule | None:
    """The rule with this id (``TID-C012``) or name (``property-removed``), or None."""
    if key in RULES:
        return RULES[key]
    return next((r for r in RULES.values() if r.name == key), None)
