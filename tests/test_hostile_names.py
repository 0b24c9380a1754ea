"""Files named after customers never collide, and letters survive any text a user types:
line feeds, braces and format fields in names, addresses, e-mails and reminder texts."""

from __future__ import annotations

import email
from datetime import date
from email import policy

import sqlalchemy as sa
from click.testing import CliRunner

from tests.books import USER, invoice, line
from xlar.cli import main
from xlar.domain.customers import Customer
from xlar.domain.terms import PaymentTerms, TermsBasis
from xlar.reports.statements import safe_name, unique_names
from xlar.services.customers import save_customer, save_terms
from xlar.store.settings import write_settings

AS_OF = "2026-03-31"
HOSTILE = "Evil\r\nBcc: victim@example.com\n{0} {name} {{ } { =1+1 \t\x0b end"


def run(*args: object) -> tuple[int, str]:
    done = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return done.exit_code, done.output


def test_safe_names_are_unique_and_readable():
    codes = ["A/1", "A_1", "A:1", "C001", "c001", "CON", "客户/1", "..", ""]
    names = unique_names(codes)
    assert len({n.casefold() for n in names.values()}) == len(codes)
    assert names["A_1"] == "A_1" and names["A/1"].startswith("A_1-")
    assert safe_name("C-001_x") == "C-001_x" and safe_name("CON") != "CON"
    assert all(ch.isalnum() or ch in "-_" for n in names.values() for ch in n)


def _book(store) -> None:
    with store.write() as conn:
        write_settings(conn, {"company": "ACME\nLtd {x}", "company_email": "ar@acme.example\r\nX: y"}, "setup")
        save_terms(conn, PaymentTerms("NET30", "30 days", TermsBasis.INVOICE_DATE, 30), USER)
        for code in ("A/1", "A_1", "C001", "c001"):
            save_customer(conn, Customer(code, f"{HOSTILE} {code}", "CNY", "NET30", contact=HOSTILE,
                                         email=f"ap@{code.replace('/', '-').lower()}.example\nBcc: x@y.z",
                                         address=HOSTILE), USER)
            invoice(conn, code, date(2026, 1, 5), line("1", "1000"))
        conn.execute(sa.text("INSERT INTO reminder_levels (credit_class, level, days, channel, letter_zh, letter_en) "
                             "VALUES ('*', 1, 1, 'email', :zh, :en)"),
                     {"zh": "请付款 {amount} { } {0} {{x}} {unknown}", "en": "Pay {amount} {currency} { } {0} {{x}}"})


def test_statements_of_codes_that_share_a_safe_name_are_all_written(store, tmp_path):
    _book(store)
    for fmt in ("xlsx", "pdf"):
        out = tmp_path / fmt
        code, said = run("--store", store.url, "statement", "--all", "--from", "2026-01-01", "--to", AS_OF,
                         "--format", fmt, "--locale", "en", "-o", out)
        assert code == 0, said
        files = sorted(out.iterdir())
        assert len(files) == 4 and f"4 statement(s) written to {out}" in said, (files, said)


def test_letters_with_hostile_text_are_written_and_their_headers_stay_one_line(store, tmp_path):
    _book(store)
    code, said = run("--store", store.url, "collections", "letters", "--as-of", AS_OF, "--locale", "en",
                     "-o", tmp_path)
    assert code == 0, said
    emls = sorted(tmp_path.glob("*.eml"))
    assert len(emls) == 4 and len(list(tmp_path.glob("*.pdf"))) == 4 and "4 letter(s) written" in said
    for path in emls:
        mail = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert set(mail.keys()) == {"From", "To", "Subject", "Date", "MIME-Version", "Content-Type"}
        for header in ("From", "To", "Subject"):
            assert "\n" not in str(mail[header]) and "\r" not in str(mail[header])
        assert "Bcc" not in mail and mail["To"].startswith("ap@")
        body = mail.get_body(("plain",)).get_content()
        assert "{ } {0} {{x}}" in body and "Pay 1,000.00 CNY" in body and "Dear Evil" in body
