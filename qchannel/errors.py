"""Exceptions raised by qchannel for bad parameters.

Why a hierarchy rooted in `ValueError`: callers (the CLI's `user_errors`, the bridge's scenario
loader) already turn `ValueError` into a one-line message, and tests can still ask for the precise
kind of mistake (`UnknownPresetError` vs. an out-of-range field).
"""

from __future__ import annotations


class QChannelParameterError(ValueError):
    """A physical parameter outside its allowed range; the message names the field and range."""


class UnknownPresetError(QChannelParameterError):
    """A preset name that is not in `qchannel.presets.PRESETS`; the message lists the known ones."""


class UnknownProtocolError(QChannelParameterError):
    """A protocol name that qchannel does not implement; the message lists the known ones."""
