"""Deterministic demo organisation: one CSV per canonical table plus a manifest."""

from __future__ import annotations

from pmopulse.demo.generator import DEFAULT_AS_OF_MONTH, TABLES, DemoManifest, generate_demo

__all__ = ["DEFAULT_AS_OF_MONTH", "TABLES", "DemoManifest", "generate_demo"]
