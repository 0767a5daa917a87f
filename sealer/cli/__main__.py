"""`python -m sealer.cli` runs `seal`."""

from __future__ import annotations

from sealer.cli import app

if __name__ == "__main__":
    app.main(prog_name="seal")
