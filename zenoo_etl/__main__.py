"""``python -m zenoo_etl`` runs the command-line interface."""

from zenoo_etl.cli import main

if __name__ == "__main__":
    main()
