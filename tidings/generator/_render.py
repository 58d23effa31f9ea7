"""The generated package as a mapping of relative path -> file text (templates + models)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from tidings._errors import UserError
from tidings.catalog._model import JSON_SCHEMA_DIALECT
from tidings.generator._codegen_schema import FormatPolicy
from tidings.generator._literals import (
    Code,
    doc_text,
    doc_wrap,
    docstring_block,
    identifier,
    py_str,
    py_str_wrapped,
    py_value,
)
from tidings.generator._models import render_models
from tidings.generator._templates import TEMPLATES, bus_class_name

if TYPE_CHECKING:
    from tidings.catalog import Catalog, MessageDef

_BUS_MODULE_NAMES = frozenset(
    {
        "Any", "Awaitable", "CATALOG", "Callable", "CommandName", "DebugOptions", "EventBus",
        "EventIterator", "EventName", "Literal", "Message", "MessageName", "Mode", "Never", "Once",
        "RetryPolicy", "Sequence", "Store", "Transport", "TypeAlias", "TypeVar", "models",
        "overload",
    }
)


def _finalize(value: object) -> object:
    """Let only escaped source (`Code`), ints and bools into generated code."""
    if isinstance(value, Code | jinja2.Undefined):
        return value  # an Undefined raises its own "is undefined" error when printed
    if isinstance(value, bool | int):
        return repr(value)
    raise TypeError(
        f"a template interpolated raw {type(value).__name__} {value!r}; pass catalog text "
        "through a filter (str, py, ident, doctext)"
    )


def _str_filter(value: str, indent: int | None = None) -> Code:
    return py_str(value) if indent is None else py_str_wrapped(value, indent)


def environment(templates: Path | None = None) -> jinja2.Environment:
    """The jinja2 environment: `templates` (if given) overrides files of the built-in set.

    Filters: `str` (a string literal; `str(indent)` wraps long ones), `py` (any JSON-like
    literal), `ident` (a checked identifier), `doctext` (text escaped for a docstring) and the
    block filters `doc(indent)` (re-flows a docstring body) and `docstring(indent)` (the same,
    with the quotes). Anything else interpolated raw is
    an error.
    """
    loaders: list[jinja2.BaseLoader] = []
    if templates is not None:
        loaders.append(jinja2.FileSystemLoader(str(templates)))
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATES)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
    )
    env.filters.update(
        str=_str_filter,
        py=py_value,
        ident=identifier,
        doctext=doc_text,
        doc=doc_wrap,
        docstring=docstring_block,
    )
    return env


def _upcasts(message: MessageDef) -> list[dict[str, Any]]:
    """The typed `upcaster` overloads of one message: one per kept older version (`arg` is that
    version: its model is what the upcaster gets; `ret` the next version, 0 for the current
    model, None for a dict), and one for the other steps (`arg` None: they get a dict)."""
    kept = {p.version for p in message.previous}
    out: list[dict[str, Any]] = []
    for version in sorted(kept):
        after = version + 1
        ret = 0 if after == message.version else (after if after in kept else None)
        out.append({"versions": [version], "arg": version, "ret": ret})
    others = [v for v in range(1, message.version) if v not in kept]
    if others:
        out.append({"versions": others, "arg": None, "ret": None})
    return out


def _message_context(message: MessageDef) -> dict[str, Any]:
    return {
        "name": message.name,
        "kind": message.kind,
        "model": message.model_name,
        "function": message.function_name,
        "description": message.description,
        "version": message.version,
        "deprecated": message.deprecated,
        "producers": tuple(sorted(message.producers)),
        "consumers": tuple(sorted(message.consumers)),
        "handler": message.handler,
        "retry": {
            "max_attempts": message.retry.max_attempts,
            "initial_delay": float(message.retry.initial_delay),
            "max_delay": float(message.retry.max_delay),
            "jitter": message.retry.jitter,
        },
        "compatibility": str(message.compatibility.value),
        "fingerprint": message.fingerprint,
        "distributed": message.distributed,
        "previous": [p.version for p in message.previous],
        "upcasts": _upcasts(message),
    }


def template_context(catalog: Catalog) -> dict[str, Any]:
    """What every template sees: `catalog`, `messages`, `events`, `commands`, `contexts`
    (plain dicts and lists, sorted by name; see the README for the fields)."""
    bus_class = bus_class_name(catalog.name)
    if bus_class in _BUS_MODULE_NAMES:
        raise UserError(
            f"catalog name {catalog.name!r} makes the bus class {bus_class!r}, which clashes with "
            "a name the generated bus module imports; choose another catalog name"
        )
    messages = [_message_context(m) for m in catalog.messages()]
    contexts = []
    for name in sorted(catalog.contexts):
        ctx = catalog.contexts[name]
        contexts.append({"name": name, "description": ctx.description, "owner": ctx.owner,
                         "transport": ctx.transport})
    return {
        "kept_versions": sorted({v for m in messages for v in m["previous"]}),
        "catalog": {
            "name": catalog.name,
            "description": catalog.description,
            "bus_class": bus_class,
        },
        "messages": messages,
        "events": [m for m in messages if m["kind"] == "event"],
        "commands": [m for m in messages if m["kind"] == "command"],
        "contexts": contexts,
    }


def _version_bundle(messages: list[MessageDef], version: int) -> dict[str, Any]:
    """A bundle (as `Catalog.bundle()` makes) of the kept payloads of `version`, each under its
    message's model name, with the shared definitions they use."""
    defs: dict[str, Any] = {}
    for message in messages:
        kept = message.previous_version(version)
        assert kept is not None
        body = copy.deepcopy(kept.resolved_payload)
        defs.update(body.pop("$defs", {}))
        if kept.description:
            body.setdefault("description", kept.description)
        defs[message.model_name] = body
    return {"$schema": JSON_SCHEMA_DIALECT, "$defs": dict(sorted(defs.items()))}


def render_package(
    catalog: Catalog, templates: Path | None = None, *, formats: FormatPolicy = "annotate",
    notes: list[str] | None = None,
) -> dict[str, str]:
    """Every file of the generated package for `catalog`, by path relative to the package root
    (POSIX separators), sorted. `formats` is the format policy of the models; warnings of the
    model generator go to `notes`. Raises `UserError` when a template or the models fail."""
    env = environment(templates)
    context = template_context(catalog)
    files: dict[str, str] = {}

    def render(template: str, target: str, **extra: Any) -> None:
        try:
            text = env.get_template(template).render(**context, **extra)
        except jinja2.TemplateSyntaxError as exc:
            where = f"{exc.filename or template}:{exc.lineno}"
            raise UserError(f"template {where}: {exc.message}; fix the template") from None
        except jinja2.TemplateError as exc:
            raise UserError(f"template {template}: {exc}; fix the template") from None
        except (TypeError, ValueError) as exc:
            raise UserError(f"template {template}: {exc}") from None
        files[target] = text

    render("__init__.py.j2", "__init__.py")
    render("catalog.py.j2", "catalog.py")
    render("bus.py.j2", "bus.py")
    render("publishers/__init__.py.j2", "publishers/__init__.py")
    render("subscribers/__init__.py.j2", "subscribers/__init__.py")
    for ctx in context["contexts"]:
        produces = [m for m in context["messages"] if ctx["name"] in m["producers"]]
        consumes = [m for m in context["messages"] if ctx["name"] in m["consumers"]]
        if produces:
            render(
                "publishers/context.py.j2",
                f"publishers/{identifier(ctx['name'])}.py",
                context=ctx,
                produces=produces,
                exports=sorted(f"emit_{m['function']}" for m in produces),
            )
        if consumes:
            render(
                "subscribers/context.py.j2",
                f"subscribers/{identifier(ctx['name'])}.py",
                context=ctx,
                consumes=consumes,
                exports=sorted(
                    [f"on_{m['function']}" for m in consumes]
                    + [f"{m['model']}Handler" for m in consumes]
                ),
            )
    bundle = catalog.bundle()
    for message in catalog.messages():
        payload = bundle["$defs"][message.model_name]
        if message.description and isinstance(payload, dict):
            # the model's docstring (documentation only; the fingerprint is of the catalog's schema)
            payload.setdefault("description", message.description)
    current = render_models(
        catalog.name, bundle, [m.model_name for m in catalog.messages()], formats=formats,
        notes=notes,
    )
    kept = context["kept_versions"]
    if not kept:
        files["models.py"] = current
    else:  # a package: the current models, and a module per kept older version
        files["models/__init__.py"] = current + "".join(
            f"from . import v{version} as v{version}  # noqa: E402  (the older versions)\n"
            for version in kept)
        for version in kept:
            old = [m for m in catalog.messages() if m.previous_version(version) is not None]
            files[f"models/v{version}.py"] = render_models(
                catalog.name, _version_bundle(old, version), [m.model_name for m in old],
                formats=formats, notes=notes)
    files["py.typed"] = ""
    return dict(sorted(files.items()))
