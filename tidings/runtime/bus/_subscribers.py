"""The named subscribers of a bus: the stable names recovery and replay find them by, whether
each is local or remote, and the `Runner` of each persisted one."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace

from tidings.runtime._retry import RetryPolicy
from tidings.runtime._spec import CatalogSpec, MessageSpec
from tidings.runtime.bus._lifecycle import Lifecycle
from tidings.runtime.bus._runner import MessageListener, Runner
from tidings.runtime.emitter import Mode
from tidings.runtime.stores._base import Store

NAME_HELP = (
    "a subscriber's default name is `module:qualname` of its listener; "
    "pin one with bus.on(..., name=\"...\")"
)


class UnknownSubscriberError(ValueError):
    """Replay refused, no row changed: stored deliveries belong to subscribers (`missing`) this
    bus does not have (`known`), so reset rows would wait for a runner forever."""

    def __init__(self, missing: Sequence[str], known: Sequence[str]) -> None:
        self.missing = tuple(missing)
        self.known = tuple(known)
        have = ", ".join(self.known) or "none"
        super().__init__(
            f"cannot replay deliveries of subscriber(s) {', '.join(self.missing)}: this app has "
            f"no such subscriber (it has: {have}); nothing was changed. {NAME_HELP}, the same in "
            "every process that stores and replays"
        )


class MainModuleNameWarning(UserWarning):
    """A default subscriber name starts with `__main__:`: it changes with how the program is
    started (`python shop.py` vs `import shop`), and replay or recovery elsewhere cannot find it."""


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A named subscription: recovery and replay find a subscriber by its stable `name`."""

    name: str
    names: tuple[str, ...]
    listener: MessageListener
    mode: Mode
    retry: RetryPolicy | None
    remote: bool = False
    """True when it consumes its events from the bus's transport rather than from local emits."""


class Subscribers:
    """Who subscribed under which name (`by_name`), and the runners of the persisted ones
    (`runners` by name, `runner_of` by listener; with a store only)."""

    def __init__(self, catalog: CatalogSpec, store: Store | None, lifecycle: Lifecycle,
                 has_transport: bool) -> None:
        self.catalog = catalog
        self.store = store
        self.lifecycle = lifecycle
        self.has_transport = has_transport
        self.by_name: dict[str, Subscriber] = {}
        self.runners: dict[str, Runner] = {}
        self.runner_of: dict[MessageListener, Runner] = {}

    def admit(self, listener: MessageListener, selected: tuple[str, ...], specs: Sequence[MessageSpec],
              mode: Mode, name: str | None, retry: RetryPolicy | None, remote: bool | None) -> Subscriber:
        """The subscriber `listener` becomes (its names merged with earlier subscriptions under
        its name); ValueError when the name, the mode or `remote` conflicts."""
        if name is None:
            qualname = getattr(listener, "__qualname__", repr(listener))
            name = f"{getattr(listener, '__module__', '?')}:{qualname}"
            if name.startswith("__main__:") and self.store is not None:
                warnings.warn(
                    f"subscriber {name!r} is named after the __main__ module: the name changes "
                    "with how the program is started, so replay or recovery from another "
                    f"process will not find it; {NAME_HELP}",
                    MainModuleNameWarning, stacklevel=4,
                )
        known = self.by_name.get(name)
        if known is not None and known.listener != listener:
            raise ValueError(
                f"subscriber name {name!r} is already used by {known.listener!r}; pass a unique name="
            )
        is_remote = self._is_remote(name, selected, specs, mode, remote)
        if known is not None and known.remote != is_remote:
            raise ValueError(f"subscriber {name!r} is already {'remote' if known.remote else 'local'}")
        runner = self.runners.get(name)
        if runner is not None and runner.mode != mode:
            raise ValueError(f"subscriber {name!r} is already subscribed in {runner.mode} mode")
        merged = tuple(dict.fromkeys((*(known.names if known else ()), *selected)))
        return Subscriber(name, merged, listener, mode, retry, is_remote)

    def runner(self, subscriber: Subscriber, quiet: bool = False) -> Runner:
        """The runner of `subscriber` (made on its first subscription; needs a store)."""
        runner = self.runners.get(subscriber.name)
        if runner is None:
            assert self.store is not None
            runner = self.runners[subscriber.name] = Runner(
                subscriber.name, subscriber.listener, subscriber.mode, subscriber.retry, self.store,
                self.catalog, self.lifecycle, quiet)
            self.runner_of[subscriber.listener] = runner
        return runner

    def replace_listener(self, name: str, listener: MessageListener) -> MessageListener:
        """Let the persisted subscriber `name` run `listener` from now on (same name, names,
        mode, retry policy and log rows); returns the listener it ran before. KeyError for
        an unknown name."""
        known = self.by_name[name]
        runner = self.runners[name]
        previous = runner.listener
        runner.listener = runner.__wrapped__ = listener
        self.runner_of.pop(previous, None)
        self.runner_of[listener] = runner
        self.by_name[name] = replace(known, listener=listener)
        return previous

    def register(self, subscriber: Subscriber) -> None:
        """Record `subscriber` (replacing the entry under its name)."""
        self.by_name[subscriber.name] = subscriber

    def _is_remote(self, name: str, selected: tuple[str, ...], specs: Sequence[MessageSpec], mode: Mode,
                   remote: bool | None) -> bool:
        distributed = [spec.name for spec in specs if spec.distributed]
        if remote is None:
            remote = self.has_transport and bool(distributed)
        if not remote:
            return False
        if not self.has_transport:
            raise ValueError(f"subscriber {name!r}: remote=True needs an EventBus with a transport")
        local = [n for n in selected if n not in distributed]
        if local:
            raise ValueError(
                f"subscriber {name!r}: {', '.join(map(repr, local))} not distributed, so it never"
                " crosses the wire: subscribe to it under another name, or pass remote=False"
            )
        if mode == "sync":
            raise ValueError(
                f"subscriber {name!r}: sync mode cannot be honoured across the wire (the publisher"
                " does not wait for another process): use mode='async' or 'serial', or pass"
                " remote=False to take only this process's emits"
            )
        return True
