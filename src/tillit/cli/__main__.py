"""``python -m tillit.cli``."""

from tillit.cli.main import main

main()
