"""`python -m examples.freight` runs the example."""

from examples.freight.app import main

main()
