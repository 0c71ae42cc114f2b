"""Every KPI function by catalogue id: one module per owner department."""

from __future__ import annotations

from pmopulse.kpis import evm, pmo, process, qa, schedule
from pmopulse.kpis.base import Measure

MEASURES: dict[str, Measure] = {**evm.MEASURES, **pmo.MEASURES, **qa.MEASURES, **process.MEASURES,
                               **schedule.MEASURES}
