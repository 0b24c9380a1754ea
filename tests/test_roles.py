"""Users and roles, enforced in the services: every action a role is needed for, tried by
someone without it, is refused with a message that says who may do it."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.books import customer, invoice, line, receipt
from tests.sheets import add_rows, edit, read
from xlar.cli import main
from xlar.domain.customers import Customer
from xlar.domain.documents import DocKind
from xlar.domain.errors import NotAllowed
from xlar.services import close, receipts, settle
from xlar.services import documents as docs
from xlar.services.credit import CreditLimitExceeded
from xlar.services.customers import save_customer
from xlar.store.settings import DEFAULTS, write_settings
from xlar.store.tables import audit_log, customers
from xlar.sync.engine import sync_workbook
from xlar.workbook.template import build_template

D = Decimal
CLERK, APPROVER, ADMIN, STRANGER = "lin.clerk", "wang.approver", "zhao.admin", "eve.outsider"


@pytest.fixture
def book(store):
    """A book with one user in each role (named by the setup user before there were any)."""
    with store.write() as conn:
        write_settings(conn, {"clerks": f"alice,{CLERK}", "approvers": APPROVER}, "setup")  # tests.books: alice
        write_settings(conn, {"admins": ADMIN}, APPROVER)   # the first admin is named by an approver
    return store


def refused(store, action, match):
    with pytest.raises(NotAllowed, match=match), store.write() as conn:
        action(conn)


def test_someone_outside_the_book_changes_nothing(book, tmp_path):
    with book.write() as conn:   # a clerk may
        assert save_customer(conn, Customer("C1", "Acme", "CNY"), CLERK)
    refused(book, lambda c: save_customer(c, Customer("X1", "X", "CNY"), STRANGER),
            f"{STRANGER} is not a user of this book: its users are the clerks, approvers and admins")
    refused(book, lambda c: docs.create_draft(c, docs.DraftDocument(DocKind.RECEIPT, "C1", date(2026, 3, 1),
                                                                     amount=D(5)), STRANGER), "not a user of this book")
    refused(book, lambda c: write_settings(c, {"company": "Eve Inc."}, STRANGER), "not a user of this book")
    run = CliRunner().invoke(main, ["--store", book.url, "--user", STRANGER, "invoice", "post", "DRAFT-1"])
    assert run.exit_code == 1
    # a stranger's workbook: every row is refused with the reason, nothing reaches the store
    path = build_template(tmp_path / "eve.xlsx", "en")
    add_rows(path, "Customers", [{"code": "E1", "name": "Eve's", "currency": "CNY"}])
    report = sync_workbook(path, book, STRANGER, as_of=date(2026, 3, 31))
    assert [i.message for i in report.issues if i.sheet == "Customers"] == [
        (f"{STRANGER} is not a user of this book: its users are the clerks, approvers and admins its settings "
         f"name (alice, {CLERK}, {APPROVER}, {ADMIN}); an admin adds users")]
    with book.read() as conn:
        assert conn.execute(sa.select(customers.c.code)).scalars().all() == ["C1"]


def test_a_clerk_cannot_approve_override_write_off_reopen_or_change_settings(book):
    with book.write() as conn:
        customer(conn, "C1")
        save_customer(conn, Customer("L1", "Limited", "CNY", credit_limit=D("100.00"), credit_class="B"), CLERK)
        rec = docs.create_draft(conn, docs.DraftDocument(DocKind.RECEIPT, "C1", date(2026, 3, 10), amount=D(50)),
                                CLERK)
        docs.post(conn, rec, CLERK)
        inv = invoice(conn, "C1", date(2026, 3, 1), line("1", "100.10"))
        big = docs.create_draft(conn, docs.DraftDocument(DocKind.INVOICE, "L1", date(2026, 3, 2),
                                                         (line("1", "500"),)), CLERK)
        number = conn.execute(sa.text("SELECT number FROM documents WHERE id = :i"), {"i": inv}).scalar()
    refused(book, lambda c: receipts.approve(c, [rec], CLERK), "approving receipts needs the approver role")
    with pytest.raises(CreditLimitExceeded, match=f"{CLERK} is not an approver"), book.write() as conn:
        docs.post(conn, big, CLERK, override_credit=True)
    refused(book, lambda c: settle.write_off(c, number, D("0.10"), "ROUNDING", date(2026, 3, 20), CLERK),
            "an approver must")
    refused(book, lambda c: write_settings(c, {"write_off_tolerance": "1"}, CLERK),
            "settings and users are changed by an admin")
    refused(book, lambda c: write_settings(c, {"clerks": f"alice,{CLERK},{STRANGER}"}, CLERK),
            f"{CLERK} cannot change clerks: settings and users are changed by an admin \\({ADMIN}\\)")
    refused(book, lambda c: write_settings(c, {"admins": CLERK}, CLERK), "changed by an admin")
    # what the roles may do, they can
    with book.write() as conn:
        receipts.approve(conn, [rec], APPROVER)
        docs.post(conn, big, APPROVER, override_credit=True)
        settle.write_off(conn, number, D("0.10"), "ROUNDING", date(2026, 3, 20), APPROVER)
        write_settings(conn, {"clerks": f"alice,{CLERK},new.clerk"}, ADMIN)
        save_customer(conn, Customer("N1", "New", "CNY"), "new.clerk")


def test_an_approver_is_not_an_admin_and_cannot_approve_their_own_entry(book):
    with book.write() as conn:
        customer(conn, "C1")
        other = receipt(conn, "C1", date(2026, 3, 10), "20", approve=False)
        mine = docs.create_draft(conn, docs.DraftDocument(DocKind.RECEIPT, "C1", date(2026, 3, 11), amount=D(5)),
                                 APPROVER)
        docs.post(conn, mine, APPROVER)
    refused(book, lambda c: receipts.approve(c, [mine], APPROVER), "entered receipt .* cannot also approve it")
    with book.write() as conn:
        receipts.approve(conn, [other], APPROVER)
    refused(book, lambda c: write_settings(c, {"company": "Approved Co."}, APPROVER),
            f"{APPROVER} cannot change company: settings and users are changed by an admin")


def test_only_an_admin_reopens_a_closed_month(book):
    with book.write() as conn:
        write_settings(conn, {"current_period": "2026-02"}, ADMIN)
        customer(conn, "C1")
        invoice(conn, "C1", date(2026, 2, 3), line("1", "10"))
        close.close(conn, "2026-02", CLERK, today=date(2026, 3, 2))
    for who in (CLERK, APPROVER):
        refused(book, lambda c, who=who: close.reopen(c, "2026-02", who, "late invoice"),
                f"{who} cannot reopen 2026-02: reopening a closed month needs the admin role \\({ADMIN}\\)")
    with book.write() as conn:
        close.reopen(conn, "2026-02", ADMIN, "late invoice")
        last = conn.execute(sa.select(audit_log.c.user_name, audit_log.c.action)
                            .order_by(audit_log.c.seq.desc()).limit(1)).one()
    assert last.user_name == ADMIN


def test_a_clerks_settings_row_in_the_workbook_is_refused_and_shown(book, tmp_path):
    path = build_template(tmp_path / "AR.xlsx", "en")
    sync_workbook(path, book, CLERK, as_of=date(2026, 3, 31))
    edit(path, "Settings", {"key": "write_off_tolerance"}, {"value": "1000"})
    report = sync_workbook(path, book, CLERK, as_of=date(2026, 3, 31))
    assert any(i.sheet == "Settings" and "changed by an admin" in i.message for i in report.issues), report.issues
    with book.read() as conn:
        assert conn.execute(sa.text("SELECT value FROM settings WHERE key = 'write_off_tolerance'")).scalar() \
            in (None, "0")


def test_on_postgresql_the_database_login_is_the_user(pg_server):
    """With authentication = database, the acting user is the PostgreSQL login: claiming to be
    the approver while logged in as the clerk is refused, whatever --user says."""
    from sqlalchemy.engine import make_url

    from tests.conftest import _require, seed
    from xlar.store.engine import Store

    _require(pg_server)
    schema = pg_server.create_schema()
    suffix = schema[-8:]
    clerk, approver = f"clerk_{suffix}", f"approver_{suffix}"
    admin_url = pg_server.schema_url(schema)
    with pg_server.admin.begin() as conn:
        for login in (clerk, approver):
            conn.exec_driver_sql(f"CREATE ROLE {login} LOGIN")
    owner = seed(Store.connect(admin_url))
    try:
        with pg_server.admin.begin() as conn:
            for login in (clerk, approver):
                conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {login}")
                conn.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {login}")
                conn.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {login}")
        with owner.write() as conn:
            write_settings(conn, {"clerks": clerk, "approvers": approver, "authentication": "database"},
                           conn.exec_driver_sql("SELECT session_user").scalar())   # the owner, as the login

        def as_login(login):
            return Store.connect(make_url(admin_url).set(username=login).render_as_string(hide_password=False))

        clerks_store = as_login(clerk)
        try:
            with clerks_store.write() as conn:
                save_customer(conn, Customer("C1", "Acme", "CNY"), clerk)
                rec = docs.create_draft(conn, docs.DraftDocument(DocKind.RECEIPT, "C1", date(2026, 3, 10),
                                                                 amount=D(5)), clerk)
                docs.post(conn, rec, clerk)
            refused(clerks_store, lambda c: receipts.approve(c, [rec], approver),
                    f"logged in as {clerk}, and cannot act as {approver}")
            refused(clerks_store, lambda c: save_customer(c, Customer("C2", "B", "CNY"), approver),
                    f"logged in as {clerk}")
            refused(clerks_store, lambda c: write_settings(c, {"authentication": "claimed"}, approver),
                    f"logged in as {clerk}, and cannot act as {approver}")   # settings too
        finally:
            clerks_store.dispose()
        approvers_store = as_login(approver)
        try:
            with approvers_store.write() as conn:
                receipts.approve(conn, [rec], approver)
        finally:
            approvers_store.dispose()
    finally:
        owner.dispose()
        pg_server.drop_schema(schema)
        with pg_server.admin.begin() as conn:
            for login in (clerk, approver):
                conn.exec_driver_sql(f"DROP ROLE {login}")


def test_database_authentication_needs_postgresql(store):
    if store.dialect == "postgresql":   # there the login itself may set it, no one else
        refused(store, lambda c: write_settings(c, {"authentication": "database"}, "setup"),
                "you are logged in as .*, and cannot act as setup")
        with store.write() as conn:
            login = conn.exec_driver_sql("SELECT session_user").scalar()
            write_settings(conn, {"authentication": "database"}, login)
        return
    refused(store, lambda c: write_settings(c, {"authentication": "database"}, "setup"),
            "takes the user from the database login, which only a PostgreSQL store has")


@pytest.mark.parametrize("template_locale", ["zh-CN", "en"])
def test_a_clerks_fresh_template_changes_no_setting(book, tmp_path, template_locale):
    """The template's own Settings rows are offers: a clerk syncing a fresh template of the other
    language changes nothing, and is refused nothing; a value the clerk types is still refused."""
    book_locale = "en" if template_locale == "zh-CN" else "zh-CN"
    with book.write() as conn:
        write_settings(conn, {"locale": book_locale, "aging_buckets": "15,45"}, ADMIN)
    path = build_template(tmp_path / "AR.xlsx", template_locale, {**DEFAULTS, "locale": template_locale})  # as `xlar template`
    report = sync_workbook(path, book, CLERK, as_of=date(2026, 3, 31))
    assert not [i for i in report.issues if i.sheet == "Settings"], report.issues
    with book.read() as conn:
        values = {key: value for key, value in conn.execute(
            sa.text("SELECT key, value FROM settings WHERE key IN ('locale', 'aging_buckets')"))}
    assert values == {"locale": book_locale, "aging_buckets": "15,45"}
    again = sync_workbook(path, book, CLERK, as_of=date(2026, 3, 31))
    assert not [i for i in again.issues if i.sheet == "Settings"], again.issues


@pytest.mark.parametrize("user", [CLERK, ADMIN])
def test_a_fresh_template_leaves_a_book_in_use_as_it_is(book, tmp_path, user):
    """A book set up by `xlar init` or `xlar demo` stores no locale (zh-CN is the default): an
    English template's own rows neither fail a clerk's sync nor turn an admin's book English."""
    with book.write() as conn:
        save_customer(conn, Customer("C1", "Acme", "CNY"), CLERK)
    path = build_template(tmp_path / "AR.xlsx", "en", {**DEFAULTS, "locale": "en"})
    report = sync_workbook(path, book, user, as_of=date(2026, 3, 31))
    assert not [i for i in report.issues if i.sheet == "Settings"], report.issues
    with book.read() as conn:
        assert conn.execute(sa.text("SELECT value FROM settings WHERE key = 'locale'")).scalar() is None
    shown = {r["Setting"]: r["Value"] for r in read(path, "Settings")}
    assert shown["locale"] == "zh-CN"        # the sheet now shows the book's setting


def test_a_fresh_template_sets_up_a_new_book(store, tmp_path):
    path = build_template(tmp_path / "AR.xlsx", "en", {**DEFAULTS, "locale": "en"})
    assert not sync_workbook(path, store, "alice", as_of=date(2026, 3, 31)).issues
    with store.read() as conn:
        assert conn.execute(sa.text("SELECT value FROM settings WHERE key = 'locale'")).scalar() == "en"
