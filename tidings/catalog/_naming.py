"""How catalog names become Python names, deterministically and without mangling."""

from __future__ import annotations

import keyword
import re
import sys
import unicodedata

RESERVED_MODEL_NAMES = frozenset({
    "Annotated", "Any", "AnyUrl", "AwareDatetime", "BaseModel", "ConfigDict", "Decimal",
    "EmailStr", "Enum", "Field", "IPv4Address", "IPv6Address", "IntEnum", "Literal",
    "NaiveDatetime", "Optional", "RootModel", "StrEnum", "UUID", "Union",
})
"""Class names that generated models modules import (pydantic, typing, the standard library):
a message or definition whose model name is one of them would be renamed by the code generator,
so the catalog rejects it."""

_WORD = re.compile(r"[A-Z]+(?![a-z])\d*|[A-Z]?[a-z]+\d*|\d+")
_MESSAGE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_MODULE_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


def _words(name: str) -> list[str]:
    return [word for part in name.split("_") for word in _WORD.findall(part)]


def model_name(name: str) -> str:
    """The pydantic model (class) name of a message: `shipmentCreated` -> `ShipmentCreated`,
    `EMAIL_SendBookingRequestAskedEmailCommand` -> `EMAILSendBookingRequestAskedEmailCommand`."""
    return "".join(word[:1].upper() + word[1:] for word in _words(name))


def function_name(name: str) -> str:
    """The snake_case name used in functions: `shipmentCreated` -> `shipment_created`
    (so `emit_shipment_created`, `on_shipment_created`)."""
    return "_".join(word.lower() for word in _words(name))


def _describe_bad_characters(name: str) -> str:
    for char in name:
        if not char.isascii():
            uname = unicodedata.name(char, "unnamed character")
            return f"contains the non-ASCII character {char!r} (U+{ord(char):04X} {uname})"
    for char in name:
        if not (char.isalnum() or char == "_"):
            return f"contains {char!r}"
    if name[:1].isdigit():
        return "starts with a digit"
    if name[:1] == "_":
        return "starts with an underscore"
    return "has uppercase letters"


def message_name_problem(name: str) -> str | None:
    """Why `name` cannot be an event, command or definition name, or None when it can."""
    if not name:
        return "the name is empty"
    if not _MESSAGE_NAME.match(name):
        return (
            f"{_describe_bad_characters(name)}; names use ASCII letters, digits and underscores "
            "and start with a letter (e.g. shipmentCreated)"
        )
    if keyword.iskeyword(name):
        return "is a Python keyword; choose another name"
    for python in (function_name(name), model_name(name)):
        if keyword.iskeyword(python):
            return f"becomes the Python name {python!r}, a keyword; choose another name"
    if model_name(name) in RESERVED_MODEL_NAMES:
        return (
            f"becomes the model name {model_name(name)!r}, which generated code imports from "
            "pydantic, typing or the standard library; choose another name"
        )
    if not _words(name):
        return "has no letters; names use ASCII letters, digits and underscores"
    return None


def module_name_problem(name: str, what: str) -> str | None:
    """Why `name` cannot be a context or catalog name (a Python module name), or None."""
    if not name:
        return "the name is empty"
    if not _MODULE_NAME.match(name):
        return (
            f"{_describe_bad_characters(name)}; {what} names are Python module names: "
            "lowercase ASCII letters, digits and underscores, starting with a letter "
            "(e.g. tracking)"
        )
    if keyword.iskeyword(name):
        return f"is a Python keyword; choose another {what} name"
    return None


_TAKEN_PACKAGES = frozenset({"tidings", "pydantic", "pydantic_core", "typing_extensions", "anyio"})


def package_name_problem(name: str) -> str | None:
    """Why the generated package may not be called `name` (it would shadow a module that
    generated code or its users import), or None."""
    if name in sys.stdlib_module_names:
        return (
            "is a standard-library module; the generated package would shadow it, choose "
            "another catalog name"
        )
    if name in _TAKEN_PACKAGES:
        return (
            "is a package generated code imports; the generated package would shadow it, choose "
            "another catalog name"
        )
    return None


# Scripts that one word may mix: Japanese writes kanji with kana, Korean hangul with hanja.
_SCRIPT_FAMILIES = ({"CJK", "HIRAGANA", "KATAKANA"}, {"CJK", "HANGUL"})


def _script(char: str) -> str:
    """The script of a letter, as the first word of its Unicode name (LATIN, CYRILLIC, GREEK...)."""
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


def _mixed_scripts(name: str) -> tuple[str, str] | None:
    """Two scripts `name`'s letters mix (a homoglyph such as a Cyrillic letter a in 'amount'), or None."""
    if name.isascii() or not name.isidentifier():
        return None  # only a name that reads as a Python name can pass for another one
    scripts = {_script(char): char for char in name if char.isalpha()}
    if len(scripts) < 2 or any(set(scripts) <= family for family in _SCRIPT_FAMILIES):
        return None
    first, second = sorted(scripts, key=lambda s: (s != "LATIN", s))[:2]
    return first, second


def property_name_problems(names: list[str]) -> list[tuple[str, str]]:
    """(name, why) for each property name of one `properties` mapping that generated code
    cannot keep apart from the others: names that become one Python attribute under Unicode
    NFKC normalization (Python normalizes identifiers so: `ﬁeld` is `field`), and names that
    read as Python names and mix scripts (Cyrillic U+0430 among Latin letters looks like
    'amount' and is not)."""
    problems: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for name in names:
        mixed = _mixed_scripts(name)
        if mixed is not None:
            odd = next(c for c in name if c.isalpha() and _script(c) == mixed[1])
            problems.append((name, (
                f"property {name!r} mixes {mixed[0].title()} and {mixed[1].title()} letters"
                f" ({odd!r} is U+{ord(odd):04X} {unicodedata.name(odd, 'unnamed')}), which reads"
                " like another name; write it in one script"
            )))
        folded = unicodedata.normalize("NFKC", name)
        other = seen.setdefault(folded, name)
        if other != name:
            problems.append((name, (
                f"property {name!r} is the same name as {other!r} once Unicode-normalized (NFKC,"
                " as Python reads identifiers): both would be one field; rename one of them"
            )))
    return problems
