"""Payload property names that Python cannot keep apart (one name under Unicode NFKC) or that
pass for another (mixed scripts) are catalog errors with file:line:col, not silent merges."""

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
