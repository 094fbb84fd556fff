"""The history store: runs, outage imports, transactions, locking and migrations."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import coverage
from coverage import _history_store
from coverage._errors import InputSchemaError
from coverage.config import Project
from coverage.history import (
    SCHEMA_VERSION,
    HistoryStoreError,
    StoreBusyError,
    current_outages,
    default_store_path,
    file_sha256,
    import_outages,
    input_checksums,
    list_runs,
    record_run,
    run_villages,
)

UTC = dt.UTC
SUM = "a" * 64
NAMES = ("Nguyễn Ngọc Tâm", "Trần Thu Hà")
PHONES = ("0912 345 678", "0987 654 321")
PHONE_DIGITS = ("912345678", "0912345678", "987654321")


def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "project.toml", "Thái Nguyên", None, {})


def table(n: int = 3, cls4: str = "none") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "village_id": [f"v{i:06d}" for i in range(n)],
            "name": [f"Thôn {i}" for i in range(n)],
            "commune_code": ["00001"] * n,
            "class_4g_any": [cls4] * n,
            "class_5g_any": ["none"] * n,
            "class_4g_viettel": [cls4] * n,
            "class_4g_vnpt": ["weak"] * n,
            "score": [0.5] * n,
            "rank": list(range(1, n + 1)),
            "recommended_action": ["new_site"] * n,
            "status": ["predicted_gap"] * n,
        }
    )


def record(store: Path, tmp_path: Path, when: str = "2026-09-15T03:00:00+00:00", **kw) -> int:
    return record_run(
        store,
        project=project(tmp_path),
        villages_table=kw.pop("villages_table", table()),
        inputs_checksums=kw.pop("inputs_checksums", {"project": SUM}),
        run_at=dt.datetime.fromisoformat(when),
        **kw,
    )


def _db(path: Path) -> contextlib.closing[sqlite3.Connection]:
    """A plain connection, closed (and its changes committed) at the end of the block."""
    return contextlib.closing(sqlite3.connect(path, isolation_level=None))


def counts(store: Path) -> dict[str, int]:
    with _db(store) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in (
                "runs",
                "run_inputs",
                "village_results",
                "village_classes",
                "outage_reports",
                "reporters",
            )
        }


def test_default_store_path_is_beside_the_project(tmp_path):
    assert default_store_path(tmp_path / "thai.toml") == tmp_path / "thai.history.sqlite"


def test_record_run_round_trip(tmp_path):
    store = tmp_path / "h.sqlite"
    rid = record(store, tmp_path, version="9.9")
    assert rid == 1
    runs = list_runs(store)
    assert runs[["run_id", "tool_version", "project_name", "villages"]].values.tolist() == [
        [1, "9.9", "Thái Nguyên", 3]
    ]
    assert runs["villages_no_good_4g"].tolist() == [3]
    assert str(runs["run_at"].dt.tz) == "UTC"
    back = run_villages(store)
    assert back["village_id"].tolist() == ["v000000", "v000001", "v000002"]
    assert set(back["class_4g_vnpt"]) == {"weak"}
    assert back["rank"].tolist() == [1, 2, 3]
    assert back["status"].tolist() == ["predicted_gap"] * 3
    with _db(store) as conn:
        ops = {r[0] for r in conn.execute("SELECT DISTINCT operator FROM village_classes")}
        params = conn.execute("SELECT parameters_json FROM runs").fetchone()[0]
    assert ops == {"any", "Viettel", "VNPT"}
    assert '"radio"' in params and '"thresholds"' in params


def test_default_version_is_the_package_version(tmp_path):
    store = tmp_path / "h.sqlite"
    record(store, tmp_path)
    assert list_runs(store)["tool_version"].tolist() == [coverage.__version__]


def test_changed_inputs_are_listed(tmp_path):
    store = tmp_path / "h.sqlite"
    record(store, tmp_path, inputs_checksums={"project": SUM, "towers": SUM})
    record(store, tmp_path, inputs_checksums={"project": SUM, "towers": "b" * 64})
    assert list_runs(store)["changed_inputs"].tolist() == ["*", "towers"]


def test_input_checksums_of_a_project(tmp_path):
    (tmp_path / "project.toml").write_text("[project]\n", encoding="utf-8")
    (tmp_path / "dem").mkdir()
    (tmp_path / "dem" / "a.hgt").write_bytes(b"123")
    from coverage.config import LayerSource

    p = Project(tmp_path / "project.toml", "x", None, {"dem": LayerSource(tmp_path / "dem")})
    sums = input_checksums(p)
    assert set(sums) == {"project", "dem"}
    assert sums["project"] == file_sha256(tmp_path / "project.toml")
    assert len(sums["dem"]) == 64


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (table().drop(columns="village_id"), "village_id"),
        (pd.concat([table(), table()]), "repeats village_id"),
        (table()[["village_id", "name"]], "no class_"),
        (table().assign(class_4g_any="excellent"), "excellent"),
        (table().assign(class_4g_VNPT="good"), "same technology and operator"),
    ],
    ids=["no-id", "duplicate", "no-class", "bad-class", "duplicate-column"],
)
def test_bad_tables_write_nothing(tmp_path, bad, message):
    store = tmp_path / "h.sqlite"
    with pytest.raises(ValueError, match=message):
        record(store, tmp_path, villages_table=bad)
    assert not store.exists()


def test_naive_run_at_and_bad_checksum_are_refused(tmp_path):
    store = tmp_path / "h.sqlite"
    with pytest.raises(ValueError, match="no time zone"):
        record(store, tmp_path, when="2026-09-15T10:00:00")
    with pytest.raises(ValueError, match="SHA-256"):
        record(store, tmp_path, inputs_checksums={"project": "abc"})


class _FailingConnection:
    """Delegates to a real connection but fails while writing the class rows."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def executemany(self, sql, rows):
        if "village_classes" in sql:
            raise RuntimeError("disk full (simulated)")
        return self._conn.executemany(sql, rows)


def test_an_error_inside_the_transaction_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    store = tmp_path / "h.sqlite"
    record(store, tmp_path)
    before = counts(store)
    real_open = _history_store._open
    monkeypatch.setattr(_history_store, "_open", lambda path: _FailingConnection(real_open(path)))
    with pytest.raises(RuntimeError, match="simulated"):
        record(store, tmp_path, villages_table=table(50))
    assert counts(store) == before
    monkeypatch.undo()
    assert record(store, tmp_path) == 2


# A child process that records a large run and stops (sleeps) at a chosen point inside
# the transaction, after telling the parent; the parent then SIGKILLs it.
_CHILD = textwrap.dedent(
    """
    import datetime as dt, sqlite3, sys, time
    from pathlib import Path
    import pandas as pd
    from coverage import _history_store
    from coverage.config import Project
    from coverage.history import record_run

    store, pause_at, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])

    class Pausing:
        def __init__(self, conn):
            self._conn = conn
        def __getattr__(self, name):
            return getattr(self._conn, name)
        def _pause(self):
            print("WRITING", flush=True)
            time.sleep(600)
        def execute(self, sql, *args):
            if pause_at == "commit" and sql.strip().upper() == "COMMIT":
                self._pause()
            return self._conn.execute(sql, *args)
        def executemany(self, sql, rows):
            out = self._conn.executemany(sql, rows)
            if pause_at == "classes" and "village_classes" in sql:
                self._pause()
            return out

    real_open = _history_store._open
    _history_store._open = lambda path: Pausing(real_open(path))
    ids = [f"v{i:07d}" for i in range(n)]
    table = pd.DataFrame({"village_id": ids, "class_4g_any": "none", "class_5g_any": "weak",
                          "class_4g_viettel": "good", "class_5g_viettel": "none"})
    record_run(store, project=Project(store.with_suffix(".toml"), "big", None, {}), villages_table=table,
               inputs_checksums={}, run_at=dt.datetime(2026, 9, 20, tzinfo=dt.UTC))
    print("COMMITTED", flush=True)
    """
)


@pytest.mark.parametrize("pause_at", ["classes", "commit"])
def test_a_run_killed_halfway_leaves_no_partial_record(tmp_path, pause_at):
    store = tmp_path / "h.sqlite"
    record(store, tmp_path)
    before = counts(store)
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(store), pause_at, "20000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            line = child.stdout.readline().strip()
            # The transaction has written pages: the rollback journal exists.
            journal = Path(f"{store}-journal").exists()
        finally:
            child.kill()  # SIGKILL: no cleanup, no rollback by the child
            _, err = child.communicate(timeout=30)
    assert line == "WRITING", err
    assert journal
    assert child.returncode == -9
    assert counts(store) == before  # the hot journal is rolled back on the next open
    with _db(store) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert list_runs(store)["run_id"].tolist() == [1]
    assert record(store, tmp_path) == 2


_WRITER = textwrap.dedent(
    """
    import datetime as dt, sys
    from pathlib import Path
    import pandas as pd
    from coverage.config import Project
    from coverage.history import record_run

    store, tag = Path(sys.argv[1]), sys.argv[2]
    print("READY", flush=True)
    sys.stdin.readline()  # start together with the other writer
    for k in range(5):
        ids = [f"{tag}{k}-{i:05d}" for i in range(3000)]
        table = pd.DataFrame({"village_id": ids, "class_4g_any": "none", "class_4g_vnpt": "good"})
        record_run(store, project=Project(store.with_suffix(".toml"), tag, None, {}), villages_table=table,
                   inputs_checksums={}, run_at=dt.datetime(2026, 9, 1 + k, tzinfo=dt.UTC))
    """
)


def test_two_writers_at_once_do_not_corrupt_the_store(tmp_path):
    store = tmp_path / "h.sqlite"
    with contextlib.ExitStack() as stack:
        writers = [
            stack.enter_context(
                subprocess.Popen(
                    [sys.executable, "-c", _WRITER, str(store), tag],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
            for tag in ("a", "b")
        ]
        for w in writers:
            assert w.stdout.readline().strip() == "READY"
        for w in writers:
            w.stdin.write("GO\n")
            w.stdin.flush()
        for w in writers:
            _, err = w.communicate(timeout=300)
            assert w.returncode == 0, err
    runs = list_runs(store)
    assert len(runs) == 10
    assert sorted(runs["project_name"]) == ["a"] * 5 + ["b"] * 5
    assert set(runs["villages"]) == {3000}
    assert counts(store)["village_classes"] == 10 * 3000 * 2
    with _db(store) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_busy_store_logs_waits_then_gives_up_clearly(tmp_path, caplog):
    store = tmp_path / "h.sqlite"
    record(store, tmp_path)
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another command is writing
    try:
        with caplog.at_level(logging.WARNING, logger="coverage.history"):
            with pytest.raises(StoreBusyError, match=r"the history store is busy .* try again"):
                record(store, tmp_path, busy_timeout_s=0.2)
        assert "busy" in caplog.text and "waiting up to 0.2 s" in caplog.text
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert record(store, tmp_path, busy_timeout_s=0.2) == 2


def test_a_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(HistoryStoreError, match="no history store"):
        list_runs(tmp_path / "missing.sqlite")


def test_a_foreign_sqlite_file_is_refused(tmp_path):
    other = tmp_path / "other.sqlite"
    with _db(other) as conn:
        conn.execute("CREATE TABLE x (a)")
    with pytest.raises(HistoryStoreError, match="not a coverage-gaps history store"):
        list_runs(other)


def _v1_store(path: Path) -> None:
    """A store as version 1 of coverage-gaps wrote it, with one run."""
    conn = sqlite3.connect(path, isolation_level=None)
    _history_store.MIGRATIONS[0](conn)
    conn.execute("INSERT INTO store_meta VALUES ('schema_version', '1')")
    conn.execute("INSERT INTO runs VALUES (1, '2026-06-30T03:00:00+00:00', '0.0.9', 'old', NULL, '{}', 1)")
    conn.execute(
        "INSERT INTO village_results VALUES (1, 'v1', 'Thôn Cũ', '00001', NULL, NULL, 10, 0.7, 1, 'new_site')"
    )
    conn.execute("INSERT INTO village_classes VALUES (1, 'v1', '4G', 'any', 'none')")
    conn.close()


def test_a_version_1_store_is_migrated(tmp_path, caplog):
    store = tmp_path / "old.sqlite"
    _v1_store(store)
    with caplog.at_level(logging.INFO, logger="coverage.history"):
        runs = list_runs(store)
    assert "migrated from schema version 1 to 2" in caplog.text
    assert runs["run_id"].tolist() == [1]
    with _db(store) as conn:
        version = conn.execute("SELECT value FROM store_meta WHERE key = 'schema_version'").fetchone()[0]
        cols = [r[1] for r in conn.execute("PRAGMA table_info(village_results)")]
    assert int(version) == SCHEMA_VERSION == 2
    assert {"status", "funding_route"} <= set(cols)
    old = run_villages(store, 1)
    assert old[["village_id", "name", "class_4g_any"]].values.tolist() == [["v1", "Thôn Cũ", "none"]]
    assert old["status"].isna().all()
    assert record(store, tmp_path) == 2
    assert run_villages(store)["status"].tolist() == ["predicted_gap"] * 3


def test_migrated_and_new_stores_have_the_same_schema(tmp_path):
    old, new = tmp_path / "old.sqlite", tmp_path / "new.sqlite"
    _v1_store(old)
    list_runs(old)
    record(new, tmp_path)
    query = "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    with _db(old) as a, sqlite3.connect(new) as b:
        assert a.execute(query).fetchall() == b.execute(query).fetchall()


def test_a_newer_store_is_refused(tmp_path):
    store = tmp_path / "h.sqlite"
    record(store, tmp_path)
    with _db(store) as conn:
        conn.execute("UPDATE store_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(HistoryStoreError, match="newer"):
        list_runs(store)


# --- outage reports ---------------------------------------------------------------------

HEADER = "report_id,reported_at,lon,lat,village_id,operator,technology,kind,reporter_name,reporter_phone\n"
ROWS = [
    f"R1,2026-09-01T08:00:00+07:00,105.80,21.60,,Viettel,4G,no_signal,{NAMES[0]},{PHONES[0]}\n",
    f"R2,2026-09-02T09:30:00+07:00,,,00001-02,VinaPhone,4G,weak,{NAMES[1]},{PHONES[1]}\n",
    "R3,2026-09-03T10:00:00+07:00,105.81,21.61,,MobiFone,4G,power_cut,,\n",
]


def outage_file(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def test_import_appends_then_ignores_the_same_file(tmp_path):
    store = tmp_path / "h.sqlite"
    first = outage_file(tmp_path / "a.csv", ROWS)
    result = import_outages(store, first)
    assert (result.rows_read, result.added, result.corrected, result.unchanged) == (3, 3, 0, 0)
    before = counts(store)
    again = import_outages(store, first)
    assert (again.added, again.corrected, again.unchanged, again.import_id) == (0, 0, 3, None)
    assert counts(store) == before
    out = current_outages(store)
    assert out["report_id"].tolist() == ["R1", "R2", "R3"]
    assert out["operator"].tolist() == ["Viettel", "VNPT", "MobiFone"]
    assert out["version"].tolist() == [1, 1, 1]
    assert out["reported_at"].iloc[0] == pd.Timestamp("2026-09-01T01:00:00Z")
    assert out["lon"].iloc[0] == pytest.approx(105.80)
    assert pd.isna(out["lon"].iloc[1]) and out["village_id"].iloc[1] == "00001-02"


def test_new_reports_are_appended_incrementally(tmp_path):
    store = tmp_path / "h.sqlite"
    import_outages(store, outage_file(tmp_path / "a.csv", ROWS[:2]))
    result = import_outages(store, outage_file(tmp_path / "b.csv", ROWS))
    assert (result.added, result.corrected, result.unchanged) == (1, 0, 2)
    assert len(current_outages(store)) == 3


def test_a_corrected_report_becomes_a_new_version(tmp_path):
    store = tmp_path / "h.sqlite"
    original = outage_file(tmp_path / "a.csv", ROWS)
    import_outages(store, original)
    fixed = outage_file(tmp_path / "b.csv", [ROWS[0].replace("no_signal", "weak"), *ROWS[1:]])
    result = import_outages(store, fixed)
    assert (result.added, result.corrected, result.unchanged) == (0, 1, 2)
    out = current_outages(store).set_index("report_id")
    assert out.loc["R1", "version"] == 2 and out.loc["R1", "kind"] == "weak"
    with _db(store) as conn:
        history = conn.execute(
            "SELECT version, kind FROM outage_reports WHERE report_id = 'R1' ORDER BY 1"
        ).fetchall()
    assert history == [(1, "no_signal"), (2, "weak")]
    # Re-importing the older file does not undo the correction, nor add anything.
    assert import_outages(store, original).unchanged == 3
    assert current_outages(store).set_index("report_id").loc["R1", "kind"] == "weak"


def test_reporters_are_kept_apart_and_phones_only_as_salted_hashes(tmp_path):
    store = tmp_path / "h.sqlite"
    import_outages(store, outage_file(tmp_path / "a.csv", ROWS))
    # The same phone written another way, in a later import: same reporter key.
    later = f"R4,2026-09-05T08:00:00+07:00,105.8,21.6,,Viettel,4G,no_signal,{NAMES[0]},+84 912-345-678\n"
    import_outages(store, outage_file(tmp_path / "b.csv", [later]))
    with _db(store) as conn:
        keys = dict(conn.execute("SELECT report_id, reporter_key FROM reporters"))
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        shareable = {
            t: conn.execute(f"SELECT * FROM {t}").fetchall()
            for t in tables
            if t not in ("reporters", "store_meta")
        }
    assert keys["R1"] == keys["R4"] != keys["R2"]
    assert keys["R3"] is None
    text = repr(shareable)
    for secret in (*NAMES, *PHONE_DIGITS):
        assert secret not in text
    raw = store.read_bytes()
    for digits in PHONE_DIGITS:
        assert digits.encode() not in raw  # phone numbers are nowhere in the file
    assert "reporter" not in " ".join(current_outages(store).columns)


def test_reporter_keys_differ_between_stores(tmp_path):
    keys = []
    for name in ("a.sqlite", "b.sqlite"):
        store = tmp_path / name
        import_outages(store, outage_file(tmp_path / "a.csv", ROWS[:1]))
        with _db(store) as conn:
            keys.append(conn.execute("SELECT reporter_key FROM reporters").fetchone()[0])
    assert keys[0] != keys[1]


def test_an_invalid_outage_file_writes_nothing(tmp_path):
    store = tmp_path / "h.sqlite"
    bad = outage_file(tmp_path / "bad.csv", [ROWS[0].replace("no_signal", "gone"), ROWS[0]])
    with pytest.raises(InputSchemaError) as err:
        import_outages(store, bad)
    assert "gone" in str(err.value) and "report_id" in str(err.value)
    assert not store.exists()


def test_outages_from_an_excel_file_with_a_column_mapping(tmp_path):
    store = tmp_path / "h.sqlite"
    frame = pd.read_csv(outage_file(tmp_path / "a.csv", ROWS), dtype=str, keep_default_na=False)
    frame = frame.rename(columns={"reporter_phone": "so_dien_thoai"})
    frame.to_excel(tmp_path / "a.xlsx", index=False)
    result = import_outages(store, tmp_path / "a.xlsx", columns={"reporter_phone": "so_dien_thoai"})
    assert result.added == 3
    with _db(store) as conn:
        assert conn.execute("SELECT count(phone_hmac) FROM reporters").fetchone()[0] == 2
