"""`python -m vtembed` runs the CLI."""

from vtembed.cli.main import main

main()
