"""Cash application from a bank statement: who paid a line, and which open invoices it clears.

A `CashIndex` is built once per import from the customers and their open invoices: invoices by
compact number and by customer, customers by bank account, by code and by normalised name, a
bigram index of names and a prefix-filter index of their characters. `suggest` scores one line
by the rules written on it, looking only at what the indexes hand it, and `consume` takes what
a line paid off the open amounts, so two lines never pay the same. The candidates an index hands
over always include every customer or invoice a scan over all of them would accept (each is
then tested as the scan tests it), so the answers are a full scan's: tests/cash_reference.py
keeps that scan, and the tests compare the two on generated statements.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from difflib import SequenceMatcher

from xlar.domain.bank import BankLine, join_parts


@dataclass(frozen=True, slots=True)
class CustomerRef:
    code: str
    name: str
    bank_account: str  # "" when unknown


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    number: str
    customer: str
    currency: str
    open: Decimal
    due_on: date


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Who paid and which invoices the receipt clears; `exception` sends it to a person."""

    customer: str | None
    invoices: tuple[tuple[str, Decimal], ...]
    confidence: int
    reason: str
    exception: str | None


@dataclass(frozen=True, slots=True)
class Payer:
    code: str
    confidence: int
    reasons: tuple[str, ...]


_LEGAL_WORDS = frozenset({
    "bv", "nv", "vof", "bvba", "gmbh", "ag", "kg", "ug", "ohg", "co", "ltd", "limited", "llc",
    "llp", "inc", "corp", "corporation", "plc", "pty", "sa", "sas", "sarl", "srl", "spa", "oy",
    "ab", "as", "aps", "kk", "company",
})
_CJK_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "公司")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_SEGMENT = re.compile(r"[0-9A-Za-z\-/._]+")
_PIECE = re.compile(r"[0-9A-Za-z]+")
_MAX_PIECES = 8  # an invoice number has at most this many dash-separated parts
MIN_CODE = 3  # shorter customer codes turn up in any text by chance
# A similar name: SequenceMatcher's ratio 2M/(la+lb) >= 0.85, M matching characters; M is at
# most the characters the names share (O), so O >= 0.425 (la + O), i.e. O >= 17/23 of each length.
SIMILAR = 0.85


class CashIndex:
    """The customers and open invoices of one import, indexed (see the module doc)."""

    def __init__(self, customers: Sequence[CustomerRef], invoices: Sequence[OpenInvoice]) -> None:
        self.customers = list(customers)
        self.invoices = list(invoices)
        self.open = [inv.open for inv in self.invoices]
        self._by_key: dict[str, list[int]] = defaultdict(list)      # compact number -> invoices
        self._by_number: dict[str, list[int]] = defaultdict(list)   # number -> invoices
        self._of_customer: dict[str, list[int]] = defaultdict(list)
        for i, inv in enumerate(self.invoices):
            if key := compact(inv.number):
                self._by_key[key].append(i)
            self._by_number[inv.number].append(i)
            self._of_customer[inv.customer].append(i)
        self._by_account: dict[str, set[str]] = defaultdict(set)
        self._by_code: dict[str, list[str]] = defaultdict(list)     # a code as upper case -> codes
        for c in self.customers:
            if account := bank_account(c.bank_account):
                self._by_account[account].add(c.code)
            if len(c.code) >= MIN_CODE:
                self._by_code[c.code.upper()].append(c.code)
        self._code_lengths = sorted({len(k) for k in self._by_code})
        self._code_starts = {k[0] for k in self._by_code}
        self._names = _NameIndex([(c.code, c.name) for c in self.customers])
        self._payers: dict[str, Payer | Suggestion] = {}

    def current(self, i: int) -> OpenInvoice:
        inv = self.invoices[i]
        return inv if self.open[i] == inv.open else OpenInvoice(inv.number, inv.customer, inv.currency,
                                                                self.open[i], inv.due_on)

    def suggest(self, line: BankLine, tolerance: Decimal = Decimal(0)) -> Suggestion:
        """Who paid LINE and which open invoices it clears, deterministically.

        Reversals and debits are exceptions. The payer comes from the strongest tier that
        finds anyone: (1) the payer's account equals a customer's, or invoice numbers are
        named in the remittance (90 each, 100 both); (2) a customer code as a whole token
        (75); (3) a similar payer name (60-70). Two customers in that tier: ambiguous.
        Invoices: see `choose`. Confidence +10 when the amount equals what is applied.
        """
        if line.reversal:
            return Suggestion(None, (), 0, "reversed entry", "reversal")
        if line.amount <= 0:
            return Suggestion(None, (), 0, f"money out {line.amount:,} {line.currency}",
                              "not a receipt (debit)" if line.amount else "not a receipt (zero)")
        text = f"{line.reference} {line.end_to_end}"
        named = self.named(text)
        payer = self.payer(line, text, named)
        if isinstance(payer, Suggestion):
            return payer
        mine = [self.current(i) for i in self._of_customer.get(payer.code, ())]
        return scored(line, payer, choose(line, payer.code, named, mine, tolerance))

    def named(self, text: str) -> list[OpenInvoice]:
        """Open invoices whose number is a whole token of TEXT (dashes optional), in text order."""
        first_at = token_keys(text)
        hits = [(at, self.invoices[i].number, i) for key, at in first_at.items() for i in self._by_key.get(key, ())
                if self.open[i] > 0]
        return [self.current(i) for _, _, i in sorted(hits)]

    def payer(self, line: BankLine, text: str, named: list[OpenInvoice]) -> Payer | Suggestion:
        account = bank_account(line.counterparty_account)
        by_account = self._by_account.get(account, set()) if account else set()
        by_invoice = {inv.customer for inv in named}
        strong = sorted(by_account | by_invoice)
        if strong:
            return strong_payer(strong, by_account, by_invoice, account)
        upper = text.upper()   # the codes whose upper case is in the text, then tested as whole tokens
        found = {code for code in self._codes_in(upper) if has_token(text, code)}
        if found:
            return code_payer(sorted(found))
        if line.counterparty not in self._payers:
            self._payers[line.counterparty] = by_name(line.counterparty, self._names.similar(line.counterparty))
        return self._payers[line.counterparty]

    def _codes_in(self, upper: str) -> Iterable[str]:
        n = len(upper)
        for i, ch in enumerate(upper):
            if ch in self._code_starts:
                for length in self._code_lengths:
                    if i + length > n:
                        break
                    yield from self._by_code.get(upper[i:i + length], ())

    def consume(self, found: Suggestion) -> None:
        """What FOUND's line paid is no longer open (an invoice it pays in full is gone)."""
        for number, paid in dict(found.invoices).items():
            for i in self._by_number.get(number, ()):
                if self.open[i] > 0:
                    self.open[i] = self.open[i] - paid if self.open[i] > paid else Decimal(0)


class _NameIndex:
    """Customers' normalised names: equal ones, names sharing a bigram, and a prefix filter of
    their characters (rarest first), so a payer is scored only against names that can pass."""

    def __init__(self, names: Sequence[tuple[str, str]]) -> None:
        self.names = [(code, norm_name(name)) for code, name in names]
        self.equal: dict[str, list[int]] = defaultdict(list)
        self.bigrams: dict[str, list[int]] = defaultdict(list)
        tokens = [_tokens(norm) for _, norm in self.names]
        self.frequency = Counter(t for own in tokens for t in set(own))
        self.prefixes: dict[tuple[str, int], list[int]] = defaultdict(list)
        for i, (_code, norm) in enumerate(self.names):
            if not norm:
                continue
            self.equal[norm].append(i)
            for gram in {norm[k:k + 2] for k in range(len(norm) - 1)}:
                self.bigrams[gram].append(i)
            for token in self._prefix(tokens[i]):
                self.prefixes[token].append(i)
        self.lengths = sorted({len(norm) for _, norm in self.names if norm})

    def _prefix(self, tokens: list[tuple[str, int]]) -> list[tuple[str, int]]:
        needed = (17 * len(tokens) + 22) // 23     # ceil(17/23 of the length)
        ordered = sorted(tokens, key=lambda t: (self.frequency.get(t, 0), t))
        return ordered[: len(tokens) - needed + 1]

    def similar(self, payer: str) -> list[tuple[str, float]]:
        """(code, score) of every customer whose name scores against PAYER (see name_score)."""
        a = norm_name(payer)
        if not a:
            return []
        found: set[int] = set(self.equal.get(a, ()))
        for token in self._prefix(_tokens(a)):                # similar: share a prefix character
            found.update(self.prefixes.get(token, ()))
        if len(a) >= 2:                                       # a name containing the payer's
            rarest = min((a[k:k + 2] for k in range(len(a) - 1)), key=lambda g: (len(self.bigrams.get(g, ())), g))
            found.update(self.bigrams.get(rarest, ()))
        for length in self.lengths:                           # a name the payer's contains
            for k in range(len(a) - length + 1):
                found.update(self.equal.get(a[k:k + length], ()))
        return [(self.names[i][0], s) for i in found if (s := normalised_score(a, self.names[i][1])) is not None]


def _tokens(norm: str) -> list[tuple[str, int]]:
    """A name as its characters, the k-th occurrence of each its own token (a multiset as a set)."""
    seen: Counter[str] = Counter()
    out = []
    for ch in norm:
        seen[ch] += 1
        out.append((ch, seen[ch]))
    return out


def strong_payer(strong: list[str], by_account: set[str], by_invoice: set[str], account: str) -> Payer | Suggestion:
    if len(strong) == 1:
        reasons = (f"account {account} is {strong[0]}'s",) if by_account else ()
        return Payer(strong[0], 100 if by_account and by_invoice else 90, reasons)
    return ambiguous(strong, "the account and the invoices named point to")


def code_payer(codes: list[str]) -> Payer | Suggestion:
    if len(codes) == 1:
        return Payer(codes[0], 75, (f"customer code {codes[0]} in the remittance",))
    return ambiguous(codes, "the remittance names the codes of")


def by_name(payer: str, similar: Iterable[tuple[str, float]]) -> Payer | Suggestion:
    """A unique similar name; among several, a unique equal one (after normalising)."""
    scored_names = sorted(set(similar))
    equal = [code for code, s in scored_names if s == 1.0]
    if len(scored_names) > 1 and len(equal) != 1:
        return ambiguous([code for code, _ in scored_names], f"the payer name {payer!r} resembles")
    if not scored_names:
        return Suggestion(None, (), 0, "no account, invoice number, customer code or similar "
                          f"name matched (payer {payer!r})", "no customer found")
    code, score = (equal[0], 1.0) if equal else scored_names[0]
    confidence = 60 + round((score - 0.85) / 0.15 * 10)
    return Payer(code, confidence, (f"payer name {payer!r} resembles {code}'s",))


def ambiguous(codes: list[str], why: str) -> Suggestion:
    listed = ", ".join(codes[:-1]) + " or " + codes[-1]
    return Suggestion(None, (), 0, f"{why} {', '.join(codes)}", f"ambiguous: {listed}")


Chosen = tuple[tuple[tuple[str, Decimal], ...], bool, str, str | None]


def scored(line: BankLine, payer: Payer, chosen: Chosen) -> Suggestion:
    applied, exact, note, exception = chosen
    reason = "; ".join([*payer.reasons, note])
    if not applied:
        return Suggestion(payer.code, (), min(payer.confidence, 60), reason, None)
    confidence = min(100, payer.confidence + (10 if exact else 0))
    return Suggestion(payer.code, applied, confidence, reason, exception)


def choose(line: BankLine, code: str, named: list[OpenInvoice], mine: Sequence[OpenInvoice],
           tolerance: Decimal) -> Chosen:
    """(applications, exact, reason, exception) for the payer's invoices (MINE) in the line's currency.

    Named invoices are applied in the order named, up to the amount; off by more than
    TOLERANCE is a short/over payment. Else the one invoice whose open equals the amount
    (the oldest due if several); else all of them, oldest due first, if they add up to
    it exactly; else nothing: an unapplied receipt, not an exception.
    """
    amount, currency = line.amount, line.currency
    of_payer = [inv for inv in named if inv.customer == code]
    usable = [inv for inv in of_payer if inv.currency == currency]
    if usable:
        return _apply_named(amount, usable, tolerance)
    others = [f"{inv.number} named but in {inv.currency}" for inv in of_payer]
    open_items = sorted((inv for inv in mine if inv.customer == code and inv.currency == currency and inv.open > 0),
                        key=lambda inv: (inv.due_on, inv.number))
    equal = [inv for inv in open_items if inv.open == amount]
    if equal:
        note = (f"{equal[0].number} is the only invoice open for exactly {amount:,}"
                if len(equal) == 1 else
                f"{len(equal)} invoices open for exactly {amount:,}; the oldest due, {equal[0].number}")
        return ((equal[0].number, amount),), len(equal) == 1, join_parts([*others, note]), None
    if len(open_items) > 1 and sum(inv.open for inv in open_items) == amount:
        applied = tuple((inv.number, inv.open) for inv in open_items)
        return applied, True, join_parts([*others, f"amount equal to all {len(applied)} open invoices"]), None
    note = f"no invoice identified: unapplied {amount:,} {currency}"
    return (), False, "; ".join([*others, note]), None


def _apply_named(amount: Decimal, named: list[OpenInvoice], tolerance: Decimal) -> Chosen:
    applied: list[tuple[str, Decimal]] = []
    left = amount
    for inv in named:
        take = min(inv.open, left)
        if take <= 0:
            break
        applied.append((inv.number, take))
        left -= take
    total = sum((inv.open for inv in named), Decimal(0))
    numbers = ", ".join(inv.number for inv in named)
    its = "its" if len(named) == 1 else "their"
    said = f"{numbers} named in the remittance"
    if amount == total:
        return tuple(applied), True, f"{said}, amount equal to {its} open {total:,}", None
    gap = amount - total
    if abs(gap) <= tolerance:
        side = "over" if gap > 0 else "short"
        return tuple(applied), False, f"{said}, {abs(gap):,} {side} of {its} open {total:,}, within tolerance", None
    if gap < 0:
        return tuple(applied), False, said, f"short payment: {amount:,} of {total:,} named"
    return tuple(applied), False, said, f"over payment: {amount:,} for {total:,} named"


def token_keys(text: str) -> dict[str, int]:
    """Compact forms of every run of alphanumeric pieces joined by - / . _ -> first position.

    'ref//INV-2026-00012/' yields INV, INV2026, INV202600012, 2026, ... so a number is
    found with or without its dashes, yet never inside a longer run of letters and digits.
    """
    keys: dict[str, int] = {}
    for segment in _SEGMENT.finditer(text):
        pieces = list(_PIECE.finditer(segment.group()))
        for i, start in enumerate(pieces):
            key = ""
            for piece in pieces[i: i + _MAX_PIECES]:
                key += piece.group().upper()
                keys.setdefault(key, segment.start() + start.start())
    return keys


def compact(number: str) -> str:
    """NUMBER without its dashes and spaces, upper case."""
    return re.sub(r"[^0-9A-Za-z]", "", number).upper()


def has_token(text: str, token: str) -> bool:
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(token)}(?![0-9A-Za-z])", text, re.IGNORECASE) is not None


def bank_account(account: str) -> str:
    return "".join(account.split()).upper()


def norm_name(name: str) -> str:
    """Case, punctuation and legal forms (BV, GmbH, Ltd, 有限公司 ...) removed."""
    words = [w for w in re.split(r"[\W_]+", name.casefold().replace(".", "")) if w]
    joined = " ".join([w for w in words if w not in _LEGAL_WORDS] or words)
    for suffix in _CJK_SUFFIXES:
        if joined.endswith(suffix) and len(joined) > len(suffix):
            return joined[: -len(suffix)].strip()
    return joined


def name_score(payer: str, customer: str) -> float | None:
    """1.0 equal; difflib ratio if >= 0.85; 0.85 if one name contains the other; else None."""
    return normalised_score(norm_name(payer), norm_name(customer))


def normalised_score(a: str, b: str) -> float | None:
    """name_score of two names already normalised."""
    if not a or not b:
        return None
    if a == b:
        return 1.0
    matcher = SequenceMatcher(None, a, b)
    if matcher.real_quick_ratio() >= SIMILAR and matcher.quick_ratio() >= SIMILAR:   # upper bounds first
        ratio = matcher.ratio()
        if ratio >= SIMILAR:
            return ratio
    short, long = sorted((a, b), key=len)
    if _CJK.search(short):
        return 0.85 if len(short) >= 2 and short in long else None
    contained = re.search(rf"(?<!\w){re.escape(short)}(?!\w)", long)
    return 0.85 if len(short) >= 4 and contained else None


def suggest(line: BankLine, customers: Sequence[CustomerRef], invoices: Sequence[OpenInvoice],
            tolerance: Decimal = Decimal(0)) -> Suggestion:
    """One line scored against CUSTOMERS and INVOICES (an index built for it alone)."""
    return CashIndex(customers, invoices).suggest(line, tolerance)
