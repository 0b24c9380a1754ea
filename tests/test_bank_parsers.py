"""Bank statement parsers on the real sample files, and the cash-application scorer."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from xlar.domain.bank import BankLine
from xlar.domain.cash import CustomerRef, OpenInvoice, suggest
from xlar.imports.bank import CsvMapping, InvalidImport, detect_format, parse_statement

D = Decimal
BANK = Path(__file__).resolve().parents[2] / "shared" / "data" / "bank"
FILES = {
    "mt940_abnamro.sta": "mt940",
    "mt940_sepa_de_structured86.sta": "mt940",
    "camt053_v02_abnamro_oca.xml": "camt053",
    "camt053_v08_scor_ref_genkgo.xml": "camt053",
}

needs_samples = pytest.mark.skipif(
    not BANK.is_dir(), reason=f"bank samples folder {BANK} is absent (it lives in shared/data)"
)


def sample(name: str) -> bytes:
    return (BANK / name).read_bytes()


# ---------------------------------------------------------------- real files

@needs_samples
def test_abnamro_mt940_ten_debits_across_two_statements():
    lines = parse_statement(sample("mt940_abnamro.sta"), "mt940")
    assert len(lines) == 10
    assert sum(line.amount for line in lines) == D("-345.93")
    assert all(line.amount < 0 and line.currency == "EUR" for line in lines)
    assert {line.account for line in lines} == {"517852257"}
    assert [line.statement for line in lines].count("19321/1") == 8
    assert [line.statement for line in lines].count("19322/1") == 2
    assert [line.seq for line in lines] == list(range(1, 11))
    first = lines[0]
    assert (first.amount, first.booked_on) == (D("-9.00"), date(2011, 5, 24))
    assert "BETREFT FACTUUR D.D. 20-05-2011 INCL. 1,44 BTW" in first.reference
    # value date 21 May, booked 23 May
    assert (lines[1].value_on, lines[1].booked_on) == (date(2011, 5, 21), date(2011, 5, 23))


@needs_samples
def test_german_structured_86_gives_payer_iban_and_end_to_end():
    lines = parse_statement(sample("mt940_sepa_de_structured86.sta"), "mt940")
    assert len(lines) == 11
    first = lines[0]
    assert first.amount == D("50990.05") and first.currency == "EUR"
    assert first.end_to_end == "EndToEndId TFNR 22 004 00001"
    assert first.counterparty == "KARL KAUFMANN"
    assert first.counterparty_account == "DE14508800500194785000"
    assert first.reference == "Verw CTSc-01 BC-PPP TFNr 22 004"
    assert first.bank_ref == "0724710333343453"
    assert (first.value_on, first.booked_on) == (date(2007, 9, 7), date(2007, 9, 4))
    assert first.account == "50880050/0194787400888" and first.statement == "00004/00001"
    quast = lines[1]
    assert (quast.counterparty, quast.counterparty_account) == ("Quentin Quast", "DE03508800500194791600")
    assert quast.reference == "Strukturierter Verwendungszweck 30030004 DE"
    # statement 1 reconciles: 766,656.49 + 358,593.91 = 1,125,250.40
    assert sum(line.amount for line in lines[:4]) == D("358593.91")
    # a return: the bank's note is the reference, the EREF stops where it begins
    assert lines[4].amount == D("-0.08") and lines[4].end_to_end == "TFNR 40001 00005"
    assert lines[4].reference.startswith("MTLG:Grund nicht spezifiziert")
    assert lines[-1].amount == D("-3572569.03")


@needs_samples
def test_camt053_v02_reversed_batch_and_the_customer_payment():
    lines = parse_statement(sample("camt053_v02_abnamro_oca.xml"), "camt053")
    assert [line.amount for line in lines] == [D("-754.25"), D("-564.05"), D("-100.00"), D("1405.31")]
    assert {(line.account, line.statement) for line in lines} == {("NL77ABNA0574908765", "1234Test/1")}
    batch = [line for line in lines if line.reversal]
    assert len(batch) == 2 and sum(line.amount for line in batch) == D("-664.05")
    assert [line.end_to_end for line in batch] == ["TESTBANK/NL/20141229/01206408",
                                                   "TESTBANK/NL/20141229/01206407"]
    receipt = lines[-1]
    assert receipt.amount == D("1405.31") and not receipt.reversal
    assert "CUSNO 90782 4210773" in receipt.reference
    assert (receipt.counterparty, receipt.counterparty_account) == ("3rd party Media", "NL69ABNA0522123643")
    assert receipt.end_to_end == "115" and receipt.booked_on == date(2014, 1, 5)
    assert lines[0].counterparty == "INSURANCE COMPANY TESTX"  # the creditor of a debit
    assert lines[0].reference.startswith("Insurance policy 857239PERIOD")


@needs_samples
def test_camt053_v08_structured_creditor_reference():
    (line,) = parse_statement(sample("camt053_v08_scor_ref_genkgo.xml"), "camt053")
    assert (line.amount, line.currency) == (D("8.85"), "EUR")
    assert line.reference == "4654654654654654"
    assert (line.counterparty, line.counterparty_account) == ("NAME NAME", "NL56AGDH9619008421")
    assert (line.booked_on, line.value_on) == (date(2014, 12, 31), date(2015, 1, 2))
    assert line.bank_ref == "AAAASESS-FP-CN_98765/01"
    assert line.end_to_end == "MUELL/FINP/RA12345"
    assert (line.account, line.statement) == ("NL26VAYB8060476890", "253EURNL26VAYB8060476890")


@needs_samples
@pytest.mark.parametrize("name", FILES)
def test_keys_are_stable_and_distinct_and_format_is_detected(name):
    data = sample(name)
    assert detect_format(data) == FILES[name]
    once, twice = parse_statement(data), parse_statement(data, FILES[name])
    assert once == twice
    keys = [line.key for line in once]
    assert keys == [line.key for line in twice]
    assert len(set(keys)) == len(keys)
    assert all(len(key) == 64 for key in keys)


@needs_samples
@pytest.mark.parametrize("name", ["mt940_abnamro.sta", "mt940_sepa_de_structured86.sta"])
def test_crlf_mt940_parses_to_the_same_lines(name):
    data = sample(name)
    assert b"\r" not in data
    assert parse_statement(data.replace(b"\n", b"\r\n")) == parse_statement(data)


@needs_samples
@pytest.mark.parametrize("name", FILES)
def test_a_file_cut_anywhere_is_read_or_refused_never_crashes(name):
    data = sample(name)
    for cut in range(0, len(data), 37):
        try:
            parse_statement(data[:cut], FILES[name])
        except InvalidImport:
            pass


@needs_samples
def test_truncated_mt940_is_refused():
    data = sample("mt940_sepa_de_structured86.sta")
    inside_61 = data.index(b":61:0709070904CR154551") + 8
    with pytest.raises(InvalidImport, match=r"MT940 line 10: cannot read ':61:' '0709'"):
        parse_statement(data[:inside_61], "mt940")
    before_closing = data.index(b":62F:")
    with pytest.raises(InvalidImport, match="no closing balance.*truncated"):
        parse_statement(data[:before_closing], "mt940")


# ---------------------------------------------------------------- hostile and bad input

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<Stmt><Id>&lol9;</Id></Stmt></BkToCstmrStmt></Document>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<Stmt><Id>&xxe;</Id></Stmt></BkToCstmrStmt></Document>"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "xxe"])
def test_xml_with_entities_is_refused_quickly(xml):
    started = time.perf_counter()
    for fmt in ("camt053", None):
        with pytest.raises(InvalidImport, match="DTD or entity"):
            parse_statement(xml, fmt)
    assert time.perf_counter() - started < 1.0


def test_other_xml_and_bad_camt_values_are_named():
    with pytest.raises(InvalidImport, match="not a bank-to-customer statement"):
        parse_statement(b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.054.001.02'>"
                        b"<BkToCstmrDbtCdtNtfctn/></Document>")
    entry = (b"<Document><BkToCstmrStmt><Stmt><Id>S1</Id><Ntry><Amt Ccy='EUR'>12,50</Amt>"
             b"<CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-03-05</Dt></BookgDt></Ntry>"
             b"</Stmt></BkToCstmrStmt></Document>")
    with pytest.raises(InvalidImport, match=r"camt.053 entry 1 <Amt>: '12,50' is not an amount"):
        parse_statement(entry)
    with pytest.raises(InvalidImport, match="not well-formed XML at line 1"):
        parse_statement(b"<Document><BkToCstmrStmt>")


def test_unknown_format_and_empty_file_are_refused():
    with pytest.raises(InvalidImport, match="empty"):
        parse_statement(b" \r\n")
    with pytest.raises(InvalidImport, match="unknown statement format 'ofx'"):
        parse_statement(b"x", "ofx")


# ---------------------------------------------------------------- CSV

ENGLISH = """Date,Amount,Currency,Payer,Account,Reference,Memo,Bank reference
2026-03-05,"1,405.31",EUR,3rd Party Media BV,NL69 ABNA 0522 1236 43,INV-2026-00012,thanks,BR-1
2026-03-06,-25.00,EUR,Bank,,fees,,BR-2

2026-03-07 09:15:00,0.10,EUR,,,,,BR-3
"""

CHINESE = """账号:6222 0000 1111 2222
交易日期,借方金额,贷方金额,币种,对方户名,对方账号,摘要,附言
2026/03/05,,"12,000.00",人民币,深圳市华为技术有限公司,6222000011113333,货款,INV-2026-00031
2026/03/06,150.00,,人民币,中国电信,,话费,
"""


def test_english_csv_with_the_default_mapping():
    lines = parse_statement(ENGLISH.encode(), "csv", CsvMapping(account="NL77ABNA0574908765"))
    assert lines == parse_statement(ENGLISH.encode(), mapping=CsvMapping(account="NL77ABNA0574908765"))
    first = lines[0]
    assert (first.booked_on, first.amount, first.currency) == (date(2026, 3, 5), D("1405.31"), "EUR")
    assert (first.counterparty, first.counterparty_account) == ("3rd Party Media BV", "NL69 ABNA 0522 1236 43")
    assert first.reference == "INV-2026-00012 thanks"  # Reference and Memo joined
    assert (first.bank_ref, first.account, first.seq) == ("BR-1", "NL77ABNA0574908765", 1)
    assert [line.amount for line in lines] == [D("1405.31"), D("-25.00"), D("0.10")]
    assert lines[2].booked_on == date(2026, 3, 7) and lines[2].seq == 3


def test_csv_default_mapping_needs_columns_it_knows():
    lines = parse_statement(ENGLISH.encode())  # the default mapping finds the same columns
    assert [line.amount for line in lines] == [D("1405.31"), D("-25.00"), D("0.10")]
    assert lines[0].account == ""


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_chinese_csv_with_title_line_credit_debit_columns_and_gbk(encoding):
    lines = parse_statement(CHINESE.encode(encoding), "csv")
    assert [(line.booked_on, line.amount, line.currency) for line in lines] == [
        (date(2026, 3, 5), D("12000.00"), "CNY"), (date(2026, 3, 6), D("-150.00"), "CNY")]
    assert lines[0].counterparty == "深圳市华为技术有限公司"
    assert lines[0].counterparty_account == "6222000011113333"
    assert lines[0].reference == "货款 INV-2026-00031"


def test_semicolon_csv_with_decimal_comma_and_own_mapping():
    german = "Buchungstag;Betrag;Waehrung;Auftraggeber;Verwendungszweck\n05.03.2026;1.405,31;EUR;Karl Kaufmann;RE 2026-17\n06.03.2026;-0,08;EUR;;Gebuehr\n"
    mapping = CsvMapping(date="Buchungstag", amount="betrag", currency="Waehrung",
                         counterparty="Auftraggeber", reference="Verwendungszweck",
                         date_format="%d.%m.%Y")
    lines = parse_statement(german.encode("utf-8"), "csv", mapping)
    assert [(line.booked_on, line.amount) for line in lines] == [
        (date(2026, 3, 5), D("1405.31")), (date(2026, 3, 6), D("-0.08"))]
    english = "Date;Amount;Reference\n05/03/2026;1 405,31;INV-1\n"
    lines = parse_statement(english.encode(), "csv", CsvMapping(
        date="date", amount="amount", reference="reference", fixed_currency="EUR",
        date_format="%d/%m/%Y", decimal=","))
    assert (lines[0].booked_on, lines[0].amount, lines[0].currency) == (date(2026, 3, 5), D("1405.31"), "EUR")


def test_csv_bad_values_name_the_row_column_and_value():
    bad = ENGLISH.replace("-25.00", "-25.0x")
    with pytest.raises(InvalidImport, match=r"CSV row 3 \[amount\]: '-25.0x' is not an amount"):
        parse_statement(bad.encode(), "csv")
    european = ENGLISH.replace('"1,405.31"', '"1.405,31"')
    with pytest.raises(InvalidImport, match=r"row 2 \[amount\]: '1.405,31' is not an amount \(decimal separator '.'\)"):
        parse_statement(european.encode(), "csv")
    with pytest.raises(InvalidImport, match=r"row 2 \[date\]: '05/03/2026' is not a date"):
        parse_statement(ENGLISH.replace("2026-03-05", "05/03/2026").encode(), "csv")
    with pytest.raises(InvalidImport, match="row 2: 1405.313 has more decimals than EUR"):
        parse_statement(ENGLISH.replace("1,405.31", "1,405.313").encode(), "csv")
    with pytest.raises(InvalidImport, match=r"row 2 \[currency\]: no currency"):
        parse_statement(b"Date,Amount\n2026-03-05,1.00\n", "csv")
    with pytest.raises(InvalidImport, match="no header row with a date and an amount"):
        parse_statement(b"when,how much\n2026-03-05,1.00\n", "csv")


# ---------------------------------------------------------------- cash application

CUSTOMERS = [
    CustomerRef("C001", "3rd Party Media B.V.", "NL69 ABNA 0522 1236 43"),
    CustomerRef("C002", "Kaufmann Handels GmbH", ""),
    CustomerRef("90782", "Media Holding Ltd", ""),
    CustomerRef("C004", "深圳市华为技术有限公司", ""),
    CustomerRef("C005", "Kaufmann Handel AG", ""),
]
INVOICES = [
    OpenInvoice("INV-2026-00012", "C001", "EUR", D("1405.31"), date(2026, 3, 31)),
    OpenInvoice("INV-2026-00013", "C001", "EUR", D("200.00"), date(2026, 2, 28)),
    OpenInvoice("INV-2026-00020", "C002", "EUR", D("300.00"), date(2026, 3, 15)),
    OpenInvoice("INV-2026-00021", "C002", "EUR", D("450.00"), date(2026, 3, 1)),
    OpenInvoice("4210773", "90782", "EUR", D("1405.31"), date(2026, 1, 31)),
    OpenInvoice("INV-2026-00031", "C004", "CNY", D("12000.00"), date(2026, 3, 20)),
]


def receipt(amount: str, reference: str = "", payer: str = "", account: str = "",
            currency: str = "EUR", end_to_end: str = "") -> BankLine:
    return BankLine("NL77ABNA0574908765", "S1", 1, date(2026, 3, 5), None, D(amount), currency,
                    payer, account, reference, end_to_end, "")


def test_account_and_named_invoice_give_full_confidence():
    s = suggest(receipt("1405.31", "payment INV-2026-00012", account="nl69abna0522123643"),
                CUSTOMERS, INVOICES)
    assert (s.customer, s.invoices, s.confidence, s.exception) == (
        "C001", (("INV-2026-00012", D("1405.31")),), 100, None)
    assert s.reason == ("account NL69ABNA0522123643 is C001's; INV-2026-00012 named in the "
                        "remittance, amount equal to its open 1,405.31")


def test_account_alone_with_an_exact_single_invoice():
    s = suggest(receipt("200.00", "thanks", account="NL69ABNA0522123643"), CUSTOMERS, INVOICES)
    assert (s.customer, s.invoices, s.confidence, s.exception) == (
        "C001", (("INV-2026-00013", D("200.00")),), 100, None)
    assert "only invoice open for exactly 200.00" in s.reason


def test_account_alone_without_an_invoice_is_an_unapplied_receipt():
    s = suggest(receipt("99.00", "thanks", account="NL69ABNA0522123643"), CUSTOMERS, INVOICES)
    assert (s.customer, s.invoices, s.exception) == ("C001", (), None)
    assert s.confidence <= 60 and "no invoice identified: unapplied 99.00 EUR" in s.reason


def test_invoice_number_without_dashes_and_in_end_to_end():
    s = suggest(receipt("300.00", "RE INV202600020 DANKE"), CUSTOMERS, INVOICES)
    assert (s.customer, s.invoices, s.confidence) == ("C002", (("INV-2026-00020", D("300.00")),), 100)
    s = suggest(receipt("300.00", end_to_end="inv-2026-00020"), CUSTOMERS, INVOICES)
    assert s.customer == "C002" and s.exception is None
    # a longer token is not the invoice number
    s = suggest(receipt("300.00", "INV-2026-000201"), CUSTOMERS, INVOICES)
    assert s.customer is None and s.exception == "no customer found"


def test_several_named_invoices_are_applied_in_the_order_named():
    s = suggest(receipt("750.00", "INV-2026-00021, INV-2026-00020"), CUSTOMERS, INVOICES)
    assert s.invoices == (("INV-2026-00021", D("450.00")), ("INV-2026-00020", D("300.00")))
    assert (s.confidence, s.exception) == (100, None)


def test_customer_code_as_a_token_in_the_real_camt_reference():
    s = suggest(receipt("1405.31", "#RD PARTY MEDIA CUSNO 90782 4210773"), CUSTOMERS, INVOICES[:4])
    assert (s.customer, s.invoices, s.exception) == ("90782", (), None)
    assert s.confidence == 60 and "customer code 90782 in the remittance" in s.reason
    s = suggest(receipt("1405.31", "#RD PARTY MEDIA CUSNO 90782"), CUSTOMERS,
                [*INVOICES[:4], INVOICES[4]])
    assert (s.customer, s.invoices, s.confidence) == ("90782", (("4210773", D("1405.31")),), 85)
    assert suggest(receipt("1405.31", "CUSNO 907821"), CUSTOMERS, INVOICES[:4]).customer is None


@needs_samples
def test_the_real_camt_receipt_is_applied_by_its_invoice_number():
    line = parse_statement(sample("camt053_v02_abnamro_oca.xml"))[-1]
    media = CustomerRef("90782", "3rd Party Media", "NL69 ABNA 0522 1236 43")
    s = suggest(line, [media, *CUSTOMERS[1:]], INVOICES)
    assert (s.customer, s.invoices, s.confidence, s.exception) == (
        "90782", (("4210773", D("1405.31")),), 100, None)
    assert s.reason == ("account NL69ABNA0522123643 is 90782's; 4210773 named in the remittance, "
                        "amount equal to its open 1,405.31")
    # with C001 holding that account, the account and the invoice disagree
    s = suggest(line, CUSTOMERS, INVOICES)
    assert (s.customer, s.exception) == (None, "ambiguous: 90782 or C001")


def test_name_similarity_ignores_legal_suffixes():
    s = suggest(receipt("99.00", payer="3RD PARTY MEDIA"), CUSTOMERS, INVOICES)
    assert (s.customer, s.confidence, s.exception) == ("C001", 60, None)  # capped: nothing applied
    assert "resembles C001's" in s.reason
    s = suggest(receipt("1405.31", payer="3rd party Media bv"), CUSTOMERS, INVOICES)
    assert (s.customer, s.invoices, s.confidence) == ("C001", (("INV-2026-00012", D("1405.31")),), 80)
    s = suggest(receipt("12000.00", payer="深圳市华为技术", currency="CNY"), CUSTOMERS, INVOICES)
    assert (s.customer, s.invoices) == ("C004", (("INV-2026-00031", D("12000.00")),))


def test_all_open_invoices_oldest_first_when_the_amount_is_their_sum():
    s = suggest(receipt("1605.31", account="NL69ABNA0522123643"), CUSTOMERS, INVOICES)
    assert s.invoices == (("INV-2026-00013", D("200.00")), ("INV-2026-00012", D("1405.31")))
    assert (s.confidence, s.exception) == (100, None)


def test_conflicting_candidates_are_ambiguous():
    s = suggest(receipt("300.00", "INV-2026-00020", account="NL69ABNA0522123643"), CUSTOMERS, INVOICES)
    assert (s.customer, s.invoices, s.exception) == (None, (), "ambiguous: C001 or C002")
    s = suggest(receipt("10.00", payer="Kaufmann Handelz"), CUSTOMERS, INVOICES)
    assert s.exception == "ambiguous: C002 or C005" and s.confidence == 0
    s = suggest(receipt("10.00", payer="KAUFMANN HANDEL"), CUSTOMERS, INVOICES)
    assert (s.customer, s.confidence) == ("C005", 60)  # the one equal name wins over a similar one
    duplicated = [*CUSTOMERS, CustomerRef("C009", "Other", "NL69ABNA0522123643")]
    s = suggest(receipt("10.00", account="NL69ABNA0522123643"), duplicated, INVOICES)
    assert s.exception == "ambiguous: C001 or C009"


def test_short_and_over_payment_beyond_tolerance_are_exceptions():
    s = suggest(receipt("1400.00", "INV-2026-00012"), CUSTOMERS, INVOICES, tolerance=D("1.00"))
    assert s.customer == "C001" and s.invoices == (("INV-2026-00012", D("1400.00")),)
    assert s.exception == "short payment: 1,400.00 of 1,405.31 named" and s.confidence == 90
    s = suggest(receipt("1500.00", "INV-2026-00012"), CUSTOMERS, INVOICES)
    assert s.invoices == (("INV-2026-00012", D("1405.31")),)
    assert s.exception == "over payment: 1,500.00 for 1,405.31 named"


def test_a_gap_within_tolerance_is_applied():
    s = suggest(receipt("1405.00", "INV-2026-00012"), CUSTOMERS, INVOICES, tolerance=D("0.50"))
    assert (s.customer, s.invoices, s.exception) == ("C001", (("INV-2026-00012", D("1405.00")),), None)
    assert s.confidence == 90 and "0.31 short of its open 1,405.31, within tolerance" in s.reason


def test_debits_reversals_and_strangers_go_to_the_exception_queue():
    debit = suggest(receipt("-25.00", "INV-2026-00012"), CUSTOMERS, INVOICES)
    assert (debit.customer, debit.confidence, debit.exception) == (None, 0, "not a receipt (debit)")
    reversed_line = BankLine("A", "S", 1, date(2026, 3, 5), None, D("100.00"), "EUR", "", "",
                             "INV-2026-00012", "", "", reversal=True)
    assert suggest(reversed_line, CUSTOMERS, INVOICES).exception == "reversal"
    stranger = suggest(receipt("10.00", "hello", payer="Nobody Known"), CUSTOMERS, INVOICES)
    assert (stranger.customer, stranger.confidence, stranger.exception) == (None, 0, "no customer found")


def test_named_invoice_in_another_currency_is_not_applied():
    s = suggest(receipt("12000.00", "INV-2026-00031"), CUSTOMERS, INVOICES)
    assert (s.customer, s.invoices, s.exception) == ("C004", (), None)
    assert "INV-2026-00031 named but in CNY" in s.reason and s.confidence <= 60


def test_invoice_number_inside_slash_structured_remittance():
    s = suggest(receipt("300.00", "/EREF/E1//REMI/USTD//INV-2026-00020/"), CUSTOMERS, INVOICES)
    assert (s.customer, s.invoices) == ("C002", (("INV-2026-00020", D("300.00")),))
    assert suggest(receipt("300.00", "XINV-2026-00020"), CUSTOMERS, INVOICES).customer is None


def test_reversal_marks_in_mt940_are_flagged_and_signed():
    data = b"""{1:F01INGBNL2ABXXX0000000000}{2:I940INGBNL2AXXXN}{4:
:20:P140220000000001
:25:NL69INGB0123456789EUR
:28C:00000
:60F:C140219EUR662,23
:61:1402200220RC1,56NTRFEREF//00000000001005
:86:reversal of a credit
:61:1402200220RD2,00NTRFNONREF
:86:reversal of a debit
:61:1402200220C3,00NTRFNONREF
:86:plain credit
:62F:C140220EUR665,67
-}"""
    lines = parse_statement(data)
    assert [(line.amount, line.reversal) for line in lines] == [
        (D("-1.56"), True), (D("2.00"), True), (D("3.00"), False)]
    assert lines[0].bank_ref == "00000000001005" and lines[0].account == "NL69INGB0123456789EUR"
