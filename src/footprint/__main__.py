"""``python -m footprint`` runs the command line."""

from footprint.cli import app

app(prog_name="footprint")
