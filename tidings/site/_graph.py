"""The flow graph of a catalog, as in the talk's slides: contexts as boxes grouped by where they
run, each event or command a labelled node between its producers and its consumers or handler,
orphans marked with the checker's rule ids. Rendered as Graphviz SVG (laid out at build time by
`dot`), as a small SVG laid out here (one message), and as a Mermaid block."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tidings._errors import UserError
from tidings.catalog import Catalog, MessageDef
from tidings.checker import Finding

LOCAL_GROUP = "in-process"
"""The group of the contexts without a transport: they share one process (the monolith)."""


@dataclass(frozen=True)
class Edge:
    """producer -> message (`role` ``emits``/``sends``) or message -> context (``consumes``/``handles``)."""

    source: str
    target: str
    role: str


def _ctx_id(name: str) -> str:
    return f"ctx_{name}"


def _msg_id(name: str) -> str:
    return f"msg_{name}"


def groups(catalog: Catalog) -> dict[str, list[str]]:
    """Context names per group (``in-process``, then each transport), sorted."""
    out: dict[str, list[str]] = {}
    for name, ctx in sorted(catalog.contexts.items()):
        out.setdefault(ctx.transport or LOCAL_GROUP, []).append(name)
    return dict(sorted(out.items(), key=lambda kv: (kv[0] != LOCAL_GROUP, kv[0])))


def edges(message: MessageDef) -> list[Edge]:
    """The edges of one message: its producers into it, it into its consumers or handler."""
    send = "sends" if message.kind == "command" else "emits"
    out = [Edge(_ctx_id(p), _msg_id(message.name), send) for p in message.producers]
    receivers = ([message.handler] if message.kind == "command" and message.handler
                 else list(message.consumers))
    receive = "handles" if message.kind == "command" else "consumes"
    out += [Edge(_msg_id(message.name), _ctx_id(c), receive) for c in receivers]
    return out


def _q(text: str) -> str:
    """A Graphviz quoted string; a newline in `text` becomes a line break of the label."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def rule_ids(findings: Sequence[Finding]) -> str:
    """The distinct rule ids of `findings`, comma-separated, in first-seen order."""
    return ", ".join(dict.fromkeys(f.rule.id for f in findings))


def to_dot(catalog: Catalog, orphans: Mapping[str, Sequence[Finding]], link: str = "") -> str:
    """Graphviz source of the overview; `link` prefixes the page URLs of nodes."""
    lines = ["digraph catalog {", '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, '
             'nodesep=0.25, ranksep=0.9, bgcolor="transparent"];',
             '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=8, color="#64748b", fontcolor="#475569"];']
    for index, (group, names) in enumerate(groups(catalog).items()):
        label = "in-process (one event bus)" if group == LOCAL_GROUP else f"{group} (own services)"
        lines.append(f"  subgraph cluster_{index} {{ label={_q(label)}; style=\"rounded,dashed\"; "
                     'color="#94a3b8";')
        for name in names:
            bad = orphans.get(f"context:{name}", ())
            text = name + (f"\n{rule_ids(bad)}" if bad else "")
            fill = "#fee2e2" if bad else "#dbeafe"
            lines.append(f"    {_ctx_id(name)} [label={_q(text)}, shape=box, style=\"rounded,filled\", "
                         f'fillcolor="{fill}", URL={_q(f"{link}contexts/{name}.html")}, '
                         f"tooltip={_q(catalog.contexts[name].description or name)}, "
                         f'id={_q(_ctx_id(name))}, class="context"];')
        lines.append("  }")
    for m in catalog.messages():
        bad = orphans.get(m.name, ())
        text = m.name + (f"\n{rule_ids(bad)}" if bad else "")
        shape = "cds" if m.kind == "command" else "ellipse"
        fill = "#fee2e2" if bad else ("#fef3c7" if m.kind == "command" else "#dcfce7")
        style = "filled,dashed" if m.deprecated else "filled"
        lines.append(f"  {_msg_id(m.name)} [label={_q(text)}, shape={shape}, style={_q(style)}, "
                     f'fillcolor="{fill}", URL={_q(f"{link}messages/{m.name}.html")}, '
                     f"tooltip={_q(m.description or m.name)}, id={_q(_msg_id(m.name))}, "
                     f'class="{m.kind}"];')
        for e in edges(m):
            lines.append(f"  {e.source} -> {e.target} [label={_q(e.role)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


_XML_HEAD = re.compile(r"^.*?(?=<svg)", re.S)


def render_svg(dot_source: str) -> str:
    """SVG laid out by Graphviz `dot`, ready to inline in HTML (no XML prologue, no doctype).
    `UserError` when Graphviz is not installed."""
    exe = shutil.which("dot")
    if exe is None:
        raise UserError("the flow graph is laid out by Graphviz, which is not installed; install it "
                        "(apt-get install graphviz, brew install graphviz), or pass --format markdown")
    done = subprocess.run([exe, "-Tsvg"], input=dot_source.encode(), capture_output=True, check=False)
    if done.returncode != 0:
        raise UserError(f"Graphviz dot failed: {done.stderr.decode(errors='replace').strip()}")
    return _XML_HEAD.sub("", done.stdout.decode())


DOT_LIMIT = 150
"""Above this many messages the overview is laid out in columns here (`columns_svg`): `dot`
takes seconds at 300 messages and minutes at 1,000."""


def columns_svg(catalog: Catalog, messages: Sequence[MessageDef],
                orphans: Mapping[str, Sequence[Finding]], link: str = "") -> str:
    """An SVG in three columns, laid out here in linear time: producing contexts (grouped by
    where they run), the messages, the receiving contexts; arrows producer -> message -> receiver."""
    order = [n for names in groups(catalog).values() for n in names]
    order += sorted({n for m in messages for n in (*m.producers, *m.consumers, *filter(None, [m.handler]))
                     if n not in catalog.contexts})
    senders = [c for c in order if any(c in m.producers for m in messages)]
    receivers = [c for c in order if any(_ctx_id(c) in {e.target for e in edges(m)} for m in messages)]
    where = {n: g for g, names in groups(catalog).items() for n in names}
    framed = len(set(where.values())) > 1 or any(n not in where for n in (*senders, *receivers))
    longest = max([len(m.name) + 12 * bool(orphans.get(m.name)) for m in messages] or [10])
    row, gap, group_gap = 30, 150, 22 if framed else 0
    box_w = max(150, 7 * max([len(n) for n in (*senders, *receivers)] or [10]) + 40)
    msg_w = max(200, int(7.2 * longest) + 30)
    width = 2 * box_w + msg_w + 2 * gap + 40
    lx, mx, rx = 20, 20 + box_w + gap, 20 + box_w + 2 * gap + msg_w

    def offsets(names: Sequence[str], grouped: bool) -> list[float]:
        out, y, last = [], 0.0, None
        for n in names:
            group = where.get(n, "not declared")
            if grouped and last is not None and group != last:
                y += group_gap
            out.append(y)
            y += row
            last = group
        return out

    columns = [offsets(senders, True), offsets([m.name for m in messages], False), offsets(receivers, True)]
    tallest = max([c[-1] for c in columns if c] or [0.0])
    height = tallest + row + 30

    def place(column: list[float]) -> list[float]:
        shift = 15 + row / 2 + (tallest - (column[-1] if column else 0.0)) / 2
        return [shift + y for y in column]

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="flow columns" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="message flow">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
             'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#94a3b8"/></marker></defs>']
    left = dict(zip(senders, place(columns[0]), strict=True))
    right = dict(zip(receivers, place(columns[2]), strict=True))
    mids = dict(zip([m.name for m in messages], place(columns[1]), strict=True))
    for m in messages:
        y = mids[m.name]
        for p in m.producers:
            if p in left:
                parts.append(f'<path class="edge" d="M{lx + box_w},{left[p]} C{mx - gap / 2},{left[p]} '
                             f'{mx - gap / 2},{y} {mx},{y}" marker-end="url(#arrow)"/>')
        for e in edges(m):
            c = e.target[4:]
            if e.target.startswith("ctx_") and c in right:
                parts.append(f'<path class="edge" d="M{mx + msg_w},{y} C{rx - gap / 2},{y} '
                             f'{rx - gap / 2},{right[c]} {rx},{right[c]}" marker-end="url(#arrow)"/>')

    def context_box(x: float, y: float, name: str, side: str) -> str:
        bad = orphans.get(f"context:{name}", ())
        ctx = catalog.contexts.get(name)
        where = (ctx.transport or LOCAL_GROUP) if ctx else "not declared"
        label = name + (f" ({rule_ids(bad)})" if bad else "")
        return (f'<a href="{link}contexts/{html.escape(name)}.html"><g class="node context'
                f'{" orphan" if bad else ""}" id="{side}_{_ctx_id(name)}"><title>{html.escape(where)}</title>'
                f'<rect x="{x}" y="{y - 11}" width="{box_w}" height="22" rx="6"/>'
                f'<text x="{x + box_w / 2}" y="{y + 4}" text-anchor="middle">{html.escape(label)}'
                f"</text></g></a>")

    for x, side in ((lx, left), (rx, right)):
        for group in dict.fromkeys(where.get(n, "not declared") for n in side):
            ys_ = [y for n, y in side.items() if where.get(n, "not declared") == group]
            if not framed:
                continue  # everything runs in one process: no frame needed
            label = "in-process" if group == LOCAL_GROUP else group
            parts.append(f'<g class="group"><rect x="{x - 8}" y="{min(ys_) - 24}" width="{box_w + 16}" '
                         f'height="{max(ys_) - min(ys_) + 40}" rx="8"/><text x="{x - 4}" '
                         f'y="{min(ys_) - 14}">{html.escape(label)}</text></g>')
    parts += [context_box(lx, y, n, "send") for n, y in left.items()]
    parts += [context_box(rx, y, n, "receive") for n, y in right.items()]
    for m in messages:
        y = mids[m.name]
        bad = orphans.get(m.name, ())
        label = m.name + (f" ({rule_ids(bad)})" if bad else "")
        parts.append(f'<a href="{link}messages/{html.escape(m.name)}.html"><g class="node message {m.kind}'
                     f'{" orphan" if bad else ""}" id="{_msg_id(m.name)}"><title>{html.escape(m.description)}'
                     f'</title><rect x="{mx}" y="{y - 12}" width="{msg_w}" height="24" rx="12"/>'
                     f'<text x="{mx + msg_w / 2}" y="{y + 4}" text-anchor="middle">{html.escape(label)}'
                     "</text></g></a>")
    parts.append("</svg>")
    return "".join(parts)


LAYOUTS = ("columns", "dot")
"""How the overview is laid out: ``columns`` here (producers, messages, receivers), ``dot`` by
Graphviz (for catalogs up to `DOT_LIMIT` messages; larger ones fall back to columns)."""


def overview_svg(catalog: Catalog, orphans: Mapping[str, Sequence[Finding]], layout: str = "columns") -> str:
    """The overview graph as inline SVG, laid out as `layout` says."""
    if layout == "dot" and len(catalog.messages()) <= DOT_LIMIT:
        return render_svg(to_dot(catalog, orphans))
    return columns_svg(catalog, catalog.messages(), orphans)


def _mermaid_text(text: str) -> str:
    return html.escape(text).replace("\n", " ")


def to_mermaid(catalog: Catalog, orphans: Mapping[str, Sequence[Finding]]) -> str:
    """The overview as a Mermaid flowchart (GitHub renders it in Markdown)."""
    lines = ["flowchart LR"]
    for index, (group, names) in enumerate(groups(catalog).items()):
        label = "in-process (one event bus)" if group == LOCAL_GROUP else f"{group} (own services)"
        lines.append(f'  subgraph g{index}["{label}"]')
        lines += [f'    {_ctx_id(n)}["{_mermaid_text(n)}"]' for n in names]
        lines.append("  end")
    for m in catalog.messages():
        bad = orphans.get(m.name, ())
        text = _mermaid_text(m.name + (f" ({rule_ids(bad)})" if bad else ""))
        lines.append(f'  {_msg_id(m.name)}{{{{"{text}"}}}}' if m.kind == "command"
                     else f'  {_msg_id(m.name)}(["{text}"])')
        lines += [f"  {e.source} -->|{e.role}| {e.target}" for e in edges(m)]
        if bad:
            lines.append(f"  class {_msg_id(m.name)} orphan")
    lines += [f"  class {_ctx_id(n)} orphan" for n in catalog.contexts if orphans.get(f"context:{n}")]
    lines.append("  classDef orphan fill:#fee2e2,stroke:#dc2626")
    return "\n".join(lines) + "\n"
