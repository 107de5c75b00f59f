"""``python -m lsforensics`` runs the CLI (used by batch workers)."""

from ._cli.main import main

main()
