"""Property: every input row ends up exactly once, either clean or quarantined."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pmopulse.contracts import load_contracts
from pmopulse.contracts.coerce import SOURCE_ROW
from pmopulse.validation.limits import QuarantineLimit
from pmopulse.validation.runner import validate_tables

CONTRACTS = {n: c for n, c in load_contracts().items() if n in ("projects", "evm_snapshots")}
PROJECTS = pd.DataFrame({
    "id": ["P1", "P2"], "name": ["A", "B"], "business_unit": ["BU", "BU"],
    "manager": ["M", "M"], "status": ["active", "active"],
    "start": pd.to_datetime(["2026-01-01"] * 2), SOURCE_ROW: [2, 3],
})
money = st.one_of(st.none(), st.floats(min_value=-1e6, max_value=1e9, allow_nan=False))
rows = st.lists(
    st.fixed_dictionaries({
        "project": st.sampled_from(["P1", "P2", "P404", None]),
        "period": st.sampled_from(["2026-09", "2026-10", None]),
        "planned_value": money, "earned_value": money, "actual_cost": money,
    }),
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_no_row_is_lost_or_duplicated(records: list[dict]) -> None:
    evm = pd.DataFrame(records, columns=["project", "period", "planned_value", "earned_value",
                                         "actual_cost"])
    evm = evm.astype({"project": "str", "period": "str", "planned_value": "float64",
                      "earned_value": "float64", "actual_cost": "float64"})
    evm[SOURCE_ROW] = range(2, len(evm) + 2)
    result = validate_tables({"projects": PROJECTS, "evm_snapshots": evm}, CONTRACTS,
                             quarantine_limit=QuarantineLimit(1.0, share_from_rows=0))
    table = result.tables["evm_snapshots"]
    clean, quarantined = list(table.clean[SOURCE_ROW]), list(table.quarantine[SOURCE_ROW])
    assert sorted(clean + quarantined) == list(evm[SOURCE_ROW])
    # and what is clean really satisfies the error rules
    ok = table.clean
    assert ok["project"].isin(["P1", "P2"]).all()
    assert (ok[["planned_value", "earned_value", "actual_cost"]] >= 0).all().all()
