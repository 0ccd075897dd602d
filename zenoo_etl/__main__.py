"""``python -m zenoo_etl`` runs the command-line interface."""

from zenoo_etl.cli import entry

if __name__ == "__main__":
    entry()
