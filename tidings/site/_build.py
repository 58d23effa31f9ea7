"""Build the catalog site: one page per context and per message, the overview flow graph, a
search index; HTML (works from file://, offline: no CDN) or Markdown (Mermaid graph)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jinja2

from tidings.catalog import Catalog, MessageDef
from tidings.checker import Finding, catalog_orphans, why_distributed
from tidings.site._fields import examples, field_rows
from tidings.site._graph import LOCAL_GROUP, columns_svg, groups, overview_svg, rule_ids, to_mermaid
from tidings.site._history import Changes, History

SiteFormat = Literal["html", "markdown"]
FORMATS: tuple[SiteFormat, ...] = ("html", "markdown")
"""The output formats of `build_site`."""


@dataclass(frozen=True)
class SiteReport:
    """What `build_site` wrote: the pages (paths relative to the output folder) and the
    number of orphan findings shown."""

    pages: tuple[str, ...]
    orphans: int


_CONTEXT_RULES = frozenset({"TID-O004", "TID-O005"})  # findings whose subject is a context


def _orphans(catalog: Catalog) -> dict[str, list[Finding]]:
    """Orphan findings keyed by message name, or ``context:<name>`` for context findings."""
    out: dict[str, list[Finding]] = {}
    for f in catalog_orphans(catalog):
        key = f"context:{f.subject}" if f.rule.id in _CONTEXT_RULES else f.subject
        out.setdefault(key or "", []).append(f)
    return out


def _receivers(m: MessageDef) -> list[str]:
    return [m.handler] if m.kind == "command" and m.handler else list(m.consumers)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _cell(text: Any) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _environment(fmt: SiteFormat) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tidings.site", f"templates/{fmt}"),
        autoescape=fmt == "html", trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )
    env.filters["json"] = _json
    env.filters["cell"] = _cell
    env.filters["rule_ids"] = rule_ids
    return env


def _message_view(catalog: Catalog, m: MessageDef, history: History, changes: Changes | None,
                  orphans: Mapping[str, list[Finding]], fmt: SiteFormat) -> dict[str, Any]:
    wire = None
    if m.distributed:
        transports = sorted(set(catalog.transports(m).values()))
        wire = (f"SNS topic tidings-{catalog.name} (attribute Tidings-Name = {m.name})"
                if transports == ["sns-sqs"] else f"subject {catalog.subject(m.name)}")
    payload = {k: v for k, v in m.resolved_payload.items()}
    return {
        "m": m,
        "receivers": _receivers(m),
        "wire": wire,
        "why": why_distributed(catalog, m) if m.distributed else None,
        "fields": field_rows(payload),
        "examples": examples(m.payload) or examples(payload),
        "flow": columns_svg(catalog, [m], {}, "../") if fmt == "html" else None,
        "msg_orphans": orphans.get(m.name, []),
        "steps": history.steps.get(m.name, []),
        "python": {
            "model": f"{catalog.name}.models.{m.model_name}",
            "emit": [f"{catalog.name}.publishers.{p}.emit_{m.function_name}" for p in m.producers],
            "on": [f"{catalog.name}.subscribers.{c}.on_{m.function_name}" for c in _receivers(m)],
        },
    }


def _search_index(catalog: Catalog, ext: str) -> list[dict[str, str]]:
    entries = [{"name": n, "kind": "context", "text": c.description, "url": f"contexts/{n}{ext}"}
               for n, c in sorted(catalog.contexts.items())]
    entries += [{"name": m.name, "kind": m.kind, "text": m.description, "url": f"messages/{m.name}{ext}"}
                for m in catalog.messages()]
    return entries


def build_site(catalog: Catalog, out: Path, *, fmt: SiteFormat = "html",
               history: History | None = None, changes: Changes | None = None,
               layout: str = "columns") -> SiteReport:
    """Write the site of `catalog` into `out` (created; files of an earlier build replaced).
    `history` adds each message's changelog, `changes` marks what changed since a ref; `layout`
    (``columns`` or ``dot``) lays out the overview graph of the HTML site."""
    history = history or History(available=False)
    env = _environment(fmt)
    ext = ".html" if fmt == "html" else ".md"
    orphans = _orphans(catalog)
    written: list[str] = []
    for sub in ("contexts", "messages"):
        if (out / sub).is_dir():
            shutil.rmtree(out / sub)
        (out / sub).mkdir(parents=True, exist_ok=True)
    common = {"catalog": catalog, "ext": ext, "changes": changes, "history": history,
              "groups": groups(catalog), "local_group": LOCAL_GROUP, "orphans": orphans,
              "receivers_of": _receivers}

    def write(rel: str, template: str, **values: Any) -> None:
        text = env.get_template(template).render(**common, **values)
        (out / rel).write_text(text, encoding="utf-8")
        written.append(rel)

    graph = overview_svg(catalog, orphans, layout) if fmt == "html" else to_mermaid(catalog, orphans)
    findings = sorted((f for fs in orphans.values() for f in fs), key=lambda f: (f.rule.id, f.subject or ""))
    write(f"index{ext}", f"index{ext}.j2", root="", graph=graph, findings=findings)
    for name, ctx in sorted(catalog.contexts.items()):
        msgs = catalog.messages()
        write(f"contexts/{name}{ext}", f"context{ext}.j2", root="../", ctx=ctx,
              produces=[m for m in msgs if name in m.producers],
              consumes=[m for m in msgs if m.kind == "event" and name in m.consumers],
              handles=[m for m in msgs if m.kind == "command" and m.handler == name],
              ctx_orphans=orphans.get(f"context:{name}", []))
    for m in catalog.messages():
        write(f"messages/{m.name}{ext}", f"message{ext}.j2", root="../",
              **_message_view(catalog, m, history, changes, orphans, fmt))
    if changes is not None:
        write(f"changes{ext}", f"changes{ext}.j2", root="")
    if fmt == "html":
        assets = out / "assets"
        assets.mkdir(parents=True, exist_ok=True)
        for name in ("style.css", "search.js"):
            source = resources.files("tidings.site").joinpath("templates", "static", name)
            (assets / name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
            written.append(f"assets/{name}")
        index = json.dumps(_search_index(catalog, ext), ensure_ascii=False, separators=(",", ":"))
        # A script, not a JSON file: pages opened from file:// may not fetch() a neighbour file.
        safe = index.replace("</", "<\\/")
        (assets / "search-index.js").write_text(f"window.TIDINGS_SEARCH = {safe};\n", encoding="utf-8")
        written.append("assets/search-index.js")
    return SiteReport(tuple(written), len(findings))
