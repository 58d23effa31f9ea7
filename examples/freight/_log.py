"""One printer for the example, so every line says which context did what."""

from __future__ import annotations

from typing import Any

from tidings.runtime import Message


def say(context: str, text: str, message: Message[Any] | None = None) -> None:
    """Print `text` for `context`, with the message's short id and its cause when given."""
    where = f"[{context:>10}]"
    if message is None:
        print(f"{where} {text}")
        return
    cause = f" <- {str(message.causation_id)[:8]}" if message.causation_id else ""
    print(f"{where} {text}  (msg {str(message.id)[:8]}{cause}, attempt {message.attempt})")
