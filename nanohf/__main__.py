"""``python -m nanohf demo`` is ``nanohf demo``."""

from nanohf.cli import main

main()
