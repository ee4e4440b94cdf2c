"""Hostile-input campaigns: bounded in `make test`, full size in `make campaign`."""
