"""The audit chain catches every kind of direct tampering, names the first bad record, and
`xlar audit verify` / `xlar check` say so; a store chained by the migration verifies."""

import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner

from tests.reliability.tamper import CASES, fill, run_tampering
from xlar.cli import main
from xlar.store import audit
from xlar.store.engine import Store, _alembic_config
from xlar.store.tables import audit_log


def test_every_tampering_case_is_detected_and_the_first_bad_record_named(store):
    fill(store)
    figures = run_tampering(store)
    print(figures.line())
    assert figures.failures == [], "\n".join(figures.failures)
    assert figures.tried == figures.detected == len(CASES)
    with store.read() as conn:
        assert audit.verify(conn).holds          # every case was rolled back


def test_verify_on_the_command_line(store):
    fill(store, customers=2)
    with store.read() as conn:
        head = audit.verify(conn)
    run = CliRunner().invoke(main, ["--store", store.url, "audit", "verify", "--anchor",
                                    f"{head.head_seq}:{head.head_hash}"])
    assert run.exit_code == 0 and "audit chain intact" in run.output
    with store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            conn.exec_driver_sql("DROP TRIGGER trg_audit_log_update")
        conn.execute(audit_log.update().where(audit_log.c.seq == 5).values(user_name="mallory"))
    run = CliRunner().invoke(main, ["--store", store.url, "audit", "verify"])
    assert run.exit_code == 1 and "record 5 " in run.output and "mallory" in run.output
    run = CliRunner().invoke(main, ["--store", store.url, "check"])
    assert run.exit_code == 1 and "XLAR-E091" in run.output
    run = CliRunner().invoke(main, ["--store", store.url, "audit", "verify", "--anchor", "12:abc"])
    assert run.exit_code == 2 and "SEQ:HASH" in run.output


def test_the_migration_chains_a_log_written_before_the_chain(backend, tmp_path):
    url = backend.url()
    store = Store.connect(url)
    try:
        with store.write() as conn:
            config = _alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "0007")
            for i in range(25):   # records as 0007 wrote them: no place, no hash
                conn.execute(sa.text("INSERT INTO audit_log (at, user_name, action, entity, entity_id, "
                                     "before, after) VALUES (:at, 'old', 'create', 'customer', :i, NULL, '{}')"),
                             {"at": "2026-01-02 03:04:05.678901", "i": str(i)})
        store.upgrade()
        with store.read() as conn:
            verdict = audit.verify(conn)
            # the 25 old records, then the seals of the rows the store had (store.seals)
            assert verdict.holds and verdict.records == 26, verdict.text()
            assert set(verdict.seals) >= {"customers", "documents", "settings"}
        with store.write() as conn:
            audit.record(conn, "new", "create", "customer", 99, None, {"code": "X"})
        with store.read() as conn:
            verdict = audit.verify(conn)
        assert verdict.holds and verdict.records == 27 and verdict.head_seq == 27
    finally:
        store.dispose()
