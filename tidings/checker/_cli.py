"""`tidings check`: the click command."""

from __future__ import annotations

from pathlib import Path

import click

from tidings.checker._check import run_check
from tidings.checker._report import FORMATS, RENDERERS, render_text
from tidings.checker._rules import RULES
from tidings.checker._schema_diff import POLICIES
from tidings.checker._settings import resolve_settings


@click.command("check")
@click.option("--catalog", "schemas", metavar="DIR", default=None,
              help="The catalog directory (default: `schemas` in [tool.tidings], else schemas/).")
@click.option("--against", metavar="GIT_REF|PATH", default=None,
              help="Baseline to check compatibility against: a git ref (origin/main, a tag, a "
                   "sha) or a directory holding the old catalog.")
@click.option("--code", metavar="DIR", multiple=True,
              help="Source directory to scan for emit/subscribe calls (repeatable; AST only).")
@click.option("--format", "format_", type=click.Choice(FORMATS), default=None,
              help="Output format (default text).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default=None,
              help="Lowest severity that makes the exit code 1 (default error).")
@click.option("--policy", type=click.Choice(POLICIES), default=None,
              help="lenient (default): producers send declared fields only, consumers ignore "
                   "unknown ones; strict: Confluent's open-content-model rules.")
@click.option("--ignore-file", metavar="FILE", default=None,
              help="Accepted findings, each with a reason (default .tidings-ignore.yaml).")
@click.option("-o", "--output", metavar="FILE", default=None,
              help="Write the report to FILE instead of standard output.")
@click.option("-v", "--verbose", is_flag=True, help="Show info findings in text output too.")
@click.option("--list-rules", is_flag=True, help="List every rule id and exit.")
def check(
    schemas: str | None, against: str | None, code: tuple[str, ...], format_: str | None,
    fail_on: str | None, policy: str | None, ignore_file: str | None, output: str | None,
    verbose: bool, list_rules: bool,
) -> None:
    """Check the catalog: orphan messages (in the catalog and, with --code, in the source) and,
    with --against, incompatible payload changes per each message's compatibility mode.

    Settings come from flags, then [tool.tidings] in pyproject.toml, then TIDINGS_* variables.
    Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or input error.
    """
    if list_rules:
        for rule in RULES.values():
            click.echo(f"{rule.id}  {rule.name:42} {rule.summary}")
        return
    settings = resolve_settings({
        "schemas": schemas, "against": against, "code": list(code), "format": format_,
        "fail_on": fail_on, "policy": policy, "ignore_file": ignore_file,
    })
    result = run_check(settings)
    text = (render_text(result, verbose=verbose) if settings.format == "text"
            else RENDERERS[settings.format](result))
    if output:
        Path(output).write_text(text, encoding="utf-8")
        if settings.format != "text":
            click.echo(render_text(result, verbose=verbose), nl=False, err=True)
    else:
        click.echo(text, nl=False)
    raise SystemExit(result.exit_code)
