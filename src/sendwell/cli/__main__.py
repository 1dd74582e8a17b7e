"""`python -m sendwell.cli` runs the command line."""

from sendwell.cli.app import main

main()
