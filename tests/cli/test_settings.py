"""The one settings resolver: flag > [tool.tidings] > TIDINGS_* > default, paths relative to the
pyproject.toml that holds them, unknown sections and keys refused with a did-you-mean; and the
one-line error summaries."""

from __future__ import annotations

import traceback
from pathlib import Path

import pydantic
import pytest

from tidings._errors import UserError
from tidings._settings import load_project, store_url
from tidings._summary import error_summary


def _project(tmp_path: Path, toml: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(toml)
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    return sub


def test_precedence_flag_then_pyproject_then_environment(tmp_path: Path) -> None:
    sub = _project(tmp_path, '[tool.tidings]\napp = "shop:bus"\n')
    env = {"TIDINGS_APP": "env:bus", "TIDINGS_DB": "env.db"}
    project = load_project(sub, env)
    assert project.get("app", "flag:bus").value == "flag:bus"
    app = project.get("app")
    assert app.value == "shop:bus" and app.source == f"app in [tool.tidings] of {tmp_path / 'pyproject.toml'}"
    db = project.get("db")
    assert (db.value, db.source) == ("env.db", "environment variable TIDINGS_DB")  # as typed: cwd
    assert project.get("templates", section="generate").value is None


def test_paths_are_relative_to_the_pyproject_from_any_subfolder(tmp_path: Path) -> None:
    sub = _project(tmp_path, '[tool.tidings]\nschemas = "cat"\ndb = "sqlite:///var/ev.db"\n'
                             '[tool.tidings.check]\ncode = ["app", "lib"]\n')
    project = load_project(sub, {})
    assert project.root == tmp_path
    assert project.get("schemas", section="check").value == tmp_path / "cat"  # falls back to the top
    assert project.get("code", section="check").value == [tmp_path / "app", tmp_path / "lib"]
    assert project.get("db").value == f"sqlite:///{tmp_path / 'var' / 'ev.db'}"
    assert project.get("out", section="generate", default="generated").value == tmp_path / "generated"
    assert project.shown(sub / "x") == "x"


def test_store_urls_resolve_only_relative_file_paths(tmp_path: Path) -> None:
    assert store_url("ev.db", tmp_path) == str(tmp_path / "ev.db")
    assert store_url("sqlite:////abs/ev.db", tmp_path) == "sqlite:////abs/ev.db"
    assert store_url("postgresql://h/db?schema=s", tmp_path) == "postgresql://h/db?schema=s"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[tool.tidings.genrate]\nout = 'x'\n",
         "unknown section [tool.tidings.genrate]; did you mean 'generate'?"),
        ("[tool.tidings]\nap = 'x:bus'\n", "unknown key 'ap' in [tool.tidings]; did you mean 'app'?"),
        ("[tool.tidings.check]\nfail_onn = 'x'\n", "unknown key 'fail_onn' in [tool.tidings.check]; did you"
                                                   " mean 'fail-on'?"),
        ("[tool.tidings.console]\nport = 'high'\n", "port in [tool.tidings.console] must be an integer"),
        ("[tool.tidings]\ncheck = 3\n", "[tool.tidings.check] must be a table"),
        ("[tool.tidings\n", "cannot read it as TOML"),
    ],
)
def test_bad_pyproject_settings_are_one_error(tmp_path: Path, toml: str, message: str) -> None:
    sub = _project(tmp_path, toml)
    with pytest.raises(UserError) as raised:
        load_project(sub, {})
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_choice_outside_the_list_names_its_source(tmp_path: Path) -> None:
    sub = _project(tmp_path, '[tool.tidings.check]\nformat = "jsn"\n')
    with pytest.raises(UserError, match=r"format in \[tool.tidings.check\] of .*: 'jsn' is not one of"
                                        r" text, json; did you mean 'json'\?"):
        load_project(sub, {}).get("format", section="check", choices=("text", "json"))


class _Label(pydantic.BaseModel):
    printer: str
    copies: int


def _traceback_of(exc: BaseException) -> str:
    try:
        raise exc
    except BaseException as raised:
        return "".join(traceback.format_exception(raised))


def test_summaries_name_the_cause() -> None:
    try:
        _Label.model_validate({"printer": 7, "copies": "x"})
    except pydantic.ValidationError as exc:
        text = _traceback_of(exc)
    assert "errors.pydantic.dev" in text
    assert error_summary(text) == "ValidationError: printer: Input should be a valid string (+1 more)"
    try:
        try:
            raise TimeoutError("deadline exceeded")
        except TimeoutError as inner:
            raise ConnectionError("smtp refused\nsecond line") from inner
    except ConnectionError as exc:
        chained = _traceback_of(exc)
    assert error_summary(chained) == "ConnectionError: smtp refused"
    assert error_summary("plain text\nmore") == "plain text"
    assert error_summary(None) == ""
