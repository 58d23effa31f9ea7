"""Inputs the fuzz tests once found crashing the loader; each must give a CatalogError, never a traceback."""

from __future__ import annotations

import pytest

from tidings.catalog import CatalogError, load_catalog_texts

CATALOG = """\
catalog: t
contexts: {core: {}}
events:
  x:
    producers: [core]
    consumers: [core]
    payload: {$ref: '..#/common.yaml#/$defs/Money'}
"""


def test_a_ref_to_a_folder_is_an_error_not_a_crash() -> None:
    with pytest.raises(CatalogError) as caught:
        load_catalog_texts({"shipping/a.yaml": CATALOG})
    assert str(caught.value) == (
        "shipping/a.yaml:7:21: events.x.payload /$ref: cannot resolve $ref "
        "'..#/common.yaml#/$defs/Money': it names a folder, not a catalog file; write "
        "'FILE.yaml#/$defs/NAME' relative to this file"
    )
