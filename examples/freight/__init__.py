"""The freight example: contexts of a modular monolith talking through the generated `FreightBus`.

Run it with `python -m examples.freight` (or `python examples/freight/app.py`): one process, one
SQLite event log. `python -m examples.freight.services core|metis` runs core and metis as two
processes over NATS (see `services.py` and the README).
"""
