"""``python -m intercarga`` runs the command line interface."""

from intercarga.cli import main

main()
