"""Typed errors, one family per kind of failure; each message says what to fix."""

from __future__ import annotations


class PmoPulseError(Exception):
    """Base class: an error a user can act on. The CLI prints it without a traceback."""


class ConfigError(PmoPulseError):
    """The configuration (pmopulse.yaml, a model, a catalogue) is missing a key or has a bad value."""


class SourceError(PmoPulseError):
    """A source could not be read: a file, folder, server or query is missing or unreachable."""


class ContractViolation(PmoPulseError):
    """Input data breaks its table contract in a way that stops the run (e.g. a missing column)."""


class QualityGateError(PmoPulseError):
    """Validation found blocking problems, so reports must not be mailed."""


class DeliveryError(PmoPulseError):
    """A report could not be delivered (refused recipient, SMTP failure)."""
