"""PMO Pulse: honest, automatic governance reporting for project management offices."""

from __future__ import annotations

__version__ = "0.1.0"
