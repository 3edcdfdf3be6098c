"""Key-rate formulas: decoy BB84 (infinite decoys, vacuum + weak) and decoy MDI-QKD."""

PROTOCOLS = ("bb84-decoy", "bb84-vacuum-weak", "mdi")
"""Protocol names accepted everywhere (CLI, presets, link_operating_point, scenario files)."""
