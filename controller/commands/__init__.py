"""Command groups of the `sealops` CLI, one module per group, registered in controller/cli.py."""
