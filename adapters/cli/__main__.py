"""`python -m adapters.cli …` runs the `chatledger` command."""

from adapters.cli import app

app(prog_name="chatledger")
