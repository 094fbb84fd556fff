"""Writers of the shareable outputs: priority list (CSV/Excel), village and gap layers.

They sit above the analysis core (they know its column names and labels) and below the
pipeline. Every writer writes atomically and refuses to overwrite without ``overwrite``.
No personal data (reporter names, phones or keys) is ever written.
"""

from __future__ import annotations

from coverage.outputs.tables import (
    operator_list_columns,
    priority_columns,
    write_gaps_gpkg,
    write_priority_csv,
    write_priority_xlsx,
    write_unmatched_outages_csv,
    write_villages_gpkg,
)

__all__ = [
    "operator_list_columns",
    "priority_columns",
    "write_gaps_gpkg",
    "write_priority_csv",
    "write_priority_xlsx",
    "write_unmatched_outages_csv",
    "write_villages_gpkg",
]
