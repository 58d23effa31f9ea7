"""`tidings docs`: the catalog as a static site (click command)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from tidings._project import load_project_catalog
from tidings.site._build import FORMATS, build_site
from tidings.site._graph import LAYOUTS
from tidings.site._history import History, load_changes, load_history


@click.command("docs")
@click.option("--catalog", metavar="DIR", default=None,
              help="The catalog directory (default: `schemas` in [tool.tidings], else schemas/).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("site"),
              show_default=True, help="Directory to write the site into.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True,
              help="html: a static site (opens from file://, offline); markdown: pages with "
                   "Mermaid graphs (GitHub renders them).")
@click.option("--against", metavar="GIT_REF", default=None,
              help="Mark what changed since this git ref (a pull request's base branch).")
@click.option("--layout", type=click.Choice(LAYOUTS), default="columns", show_default=True,
              help="Overview graph layout: columns (producers, messages, receivers) or dot "
                   "(Graphviz, which must be installed; up to 150 messages).")
@click.option("--no-history", is_flag=True, help="Leave out each message's history from git.")
def docs_command(catalog: str | None, out: Path, fmt: str, against: str | None,
                 layout: str, no_history: bool) -> None:
    """Build a browsable site of the catalog: the flow graph of contexts and messages, a page per
    context and per message (payload fields, wire subject, Python names, history from git), search.
    """
    start = time.perf_counter()
    directory, loaded = load_project_catalog(catalog)
    history = History(available=False) if no_history else load_history(directory, loaded)
    changes = load_changes(directory, loaded, against) if against else None
    report = build_site(loaded, out, fmt="markdown" if fmt == "markdown" else "html",
                        history=history, changes=changes, layout=layout)
    index = out / ("index.html" if fmt == "html" else "index.md")
    click.echo(f"wrote {len(report.pages)} pages to {out} in {time.perf_counter() - start:.1f} s "
               f"({report.orphans} orphan findings); open {index}")
