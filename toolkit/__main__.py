"""`python -m vtembed` runs the CLI."""

from vtembed.cli.app import main

main()
