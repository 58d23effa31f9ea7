"""Catalog names and values the generated code cannot keep exact: property names that are one
name under Unicode NFKC or mix scripts, and floats in an enum, are catalog errors (file:line:col)."""

from __future__ import annotations

import pytest

from tidings.catalog import CatalogError, load_catalog_texts

HEAD = "catalog: t\ncontexts: {core: {}, email: {}}\n"


def catalog(*names: str) -> dict[str, str]:
    properties = "".join(f"        {name}: {{type: string}}\n" for name in names)
    return {"c.yaml": HEAD + "events:\n  paid:\n    producers: [core]\n    payload:\n"
            "      type: object\n      properties:\n" + properties}


@pytest.mark.parametrize(("names", "expected"), [
    (("field", "\ufb01eld"),
     "c.yaml:10:9: events.paid.payload /properties/\ufb01eld: property '\ufb01eld' is the same"
     " name as 'field' once Unicode-normalized (NFKC, as Python reads identifiers): both would"
     " be one field; rename one of them"),
    (("amount", "\u0430mount"),
     "c.yaml:10:9: events.paid.payload /properties/\u0430mount: property '\u0430mount' mixes"
     " Latin and Cyrillic letters ('\u0430' is U+0430 CYRILLIC SMALL LETTER A), which reads like"
     " another name; write it in one script"),
    (("pay\u03bfut",),  # a Greek omicron
     "c.yaml:9:9: events.paid.payload /properties/pay\u03bfut: property 'pay\u03bfut' mixes"
     " Latin and Greek letters ('\u03bf' is U+03BF GREEK SMALL LETTER OMICRON), which reads like"
     " another name; write it in one script"),
])
def test_names_python_cannot_keep_apart_are_catalog_errors(names: tuple[str, ...], expected: str) -> None:
    with pytest.raises(CatalogError) as caught:
        load_catalog_texts(catalog(*names))
    assert str(caught.value) == expected


@pytest.mark.parametrize("names", [
    ("field", "fields"), ("naïve", "café"), ("日本語", "ひらがなカタカナ漢字"), ("δέλτα", "ωμέγα"),
    ("сумма", "amount"), ("x_1", "x1"),
])
def test_names_in_one_script_and_distinct_pass(names: tuple[str, ...]) -> None:
    load_catalog_texts(catalog(*names))


@pytest.mark.parametrize(("values", "index"), [("[1, 2.5]", 1), ("[2.0, 'x']", 0), ("[1.5]", 0)])
def test_a_float_in_an_enum_is_a_catalog_error(values: str, index: int) -> None:
    # Literal holds no floats: the generated model had `Literal[1] | float`, taking any number.
    texts = {"c.yaml": HEAD + "events:\n  paid:\n    producers: [core]\n    payload:\n"
             f"      type: object\n      properties:\n        a: {{enum: {values}}}\n"}
    with pytest.raises(CatalogError, match=rf"/properties/a/enum/{index}: .* in `enum` is a float:"):
        load_catalog_texts(texts)


def test_integer_and_text_enums_pass() -> None:
    load_catalog_texts({"c.yaml": HEAD + "events:\n  paid:\n    producers: [core]\n    payload:\n"
                        "      type: object\n      properties:\n        a: {enum: [1, 2, 'x', null]}\n"})
