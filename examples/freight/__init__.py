"""The freight example: contexts of a modular monolith talking through the generated `FreightBus`.

Run it with `python -m examples.freight` (or `python examples/freight/app.py`).
"""
