"""Data files of the built-in QKD networks (a package so that setuptools ships the YAML)."""
