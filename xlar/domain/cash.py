"""Cash application from a bank statement: who paid a line, and which open invoices it clears.

A `CashIndex` is built once per import from the customers and their open invoices: invoices by
compact number and by customer, customers by bank account, by code and by normalised name, a
the runs of words of names, Chinese names by bigram, and which names hold each character. `suggest` scores one line
by the rules written on it, looking only at what the indexes hand it, and `consume` takes what
a line paid off the open amounts, so two lines never pay the same. The candidates an index hands
over always include every customer or invoice a scan over all of them would accept (each is
then tested as the scan tests it), so the answers are a full scan's: tests/cash_reference.py
keeps that scan, and the tests compare the two on generated statements.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from difflib import SequenceMatcher

import numpy as np

from xlar.domain.bank import BankLine, join_parts
from xlar.domain.money import from_minor
from xlar.domain.names import (
    CJK,
    SIMILAR,
    alone,
    bank_account,
    compact,
    has_token,
    norm_name,
    normalised_score,
    token_keys,
)


@dataclass(frozen=True, slots=True)
class CustomerRef:
    code: str
    name: str
    bank_account: str  # "" when unknown


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    """An open invoice as a payer quotes it (`quoted_invoices`): what the scorer matches a line to."""

    number: str
    customer: str
    currency: str
    open: Decimal
    due_on: date


# An open debit item as the bank scorer reads it: its document's number, the document's fapiao
# number (发票号码) or None, the customer's code, the currency, what is open in minor units, the due date.
QuotedItem = tuple[str, str | None, str, str, int, date]


def quoted_invoices(items: Iterable[QuotedItem]) -> list[OpenInvoice]:
    """The open invoices a bank line can name, from the open debit ITEMS: an invoice's
    installments are one invoice, open by their sum and due on the earliest of them, in the
    order of its first item; it is named by its fapiao number when it has one, which a customer
    quotes as often as ours (a receipt naming it is matched to the invoice by it)."""
    totals: dict[tuple[str, str, str], tuple[int, date]] = {}   # in minor units of the key's currency
    for number, fapiao, customer, currency, open_minor, due_on in items:
        key = (fapiao or number, customer, currency)
        before = totals.get(key)
        totals[key] = (open_minor, due_on) if before is None else (before[0] + open_minor, min(before[1], due_on))
    return [OpenInvoice(name, code, cur, from_minor(total, cur), due) for (name, code, cur), (total, due) in totals.items()]


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


MIN_CODE = 3  # shorter customer codes turn up in any text by chance

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
        refused = not_a_receipt(line)
        if refused is not None:
            return refused
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
        plain = text.isascii()  # (ASCII: right where they stand; else by has_token's pattern)
        found = {code for at, code in self._codes_in(upper)
                 if (alone(upper, at, len(code)) if plain and code.isascii() else has_token(text, code))}
        if found:
            return code_payer(sorted(found))
        if line.counterparty not in self._payers:
            self._payers[line.counterparty] = by_name(line.counterparty, self._names.similar(line.counterparty))
        return self._payers[line.counterparty]

    def _codes_in(self, upper: str) -> Iterable[tuple[int, str]]:
        """(where, code) of every code whose upper case stands in UPPER there."""
        n = len(upper)
        for i, ch in enumerate(upper):
            if ch in self._code_starts:
                for length in self._code_lengths:
                    if i + length > n:
                        break
                    for code in self._by_code.get(upper[i:i + length], ()):
                        yield i, code

    def consume(self, found: Suggestion) -> None:
        """What FOUND's line paid is no longer open (an invoice it pays in full is gone)."""
        for number, paid in dict(found.invoices).items():
            for i in self._by_number.get(number, ()):
                if self.open[i] > 0:
                    self.open[i] = self.open[i] - paid if self.open[i] > paid else Decimal(0)


class _NameIndex:
    """Customers' normalised names: equal ones, the runs of whole words in each, Chinese ones by
    bigram, and per character which names hold it how often (in order of length), so that
    difflib's bound on the similarity (the characters two names share: its quick_ratio) is had
    at once for every name of a length that can be similar, and the full ratio computed above it."""

    def __init__(self, names: Sequence[tuple[str, str]]) -> None:
        self.names = [(code, norm_name(name)) for code, name in names]
        self.equal: dict[str, list[int]] = defaultdict(list)
        self.words: dict[str, list[int]] = defaultdict(list)     # every run of whole words of a name
        self.bigrams: dict[str, list[int]] = defaultdict(list)   # names with Chinese in them
        for i, (_code, norm) in enumerate(self.names):
            if not norm:
                continue
            self.equal[norm].append(i)
            words = norm.split(" ")
            for run in {" ".join(words[j:k]) for j in range(len(words)) for k in range(j + 1, len(words) + 1)}:
                self.words[run].append(i)
            if CJK.search(norm):
                for gram in {norm[k:k + 2] for k in range(len(norm) - 1)}:
                    self.bigrams[gram].append(i)
        self.order = np.array(sorted(range(len(self.names)), key=lambda i: len(self.names[i][1])), dtype=np.int64)
        self.length = np.array([len(self.names[i][1]) for i in self.order], dtype=np.int64)
        held: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for rank, i in enumerate(self.order.tolist()):
            for ch, count in Counter(self.names[i][1]).items():
                at, times = held[ch]
                at.append(rank)
                times.append(count)
        self.chars = {ch: (np.array(at, dtype=np.int64), np.array(times, dtype=np.int64))
                      for ch, (at, times) in held.items()}
        self.cjk_lengths = sorted({len(norm) for _, norm in self.names if CJK.search(norm)})
        self.longest = max((len(norm) for _, norm in self.names), default=0)
        self.matchers: dict[int, SequenceMatcher[str]] = {}

    def similar(self, payer: str) -> list[tuple[str, float]]:
        """(code, score) of every customer whose name scores against PAYER (see name_score); when
        exactly one name equals it, that one alone (by_name takes it whatever else resembles)."""
        a = norm_name(payer)
        if not a:
            return []
        equal: list[int] = self.equal.get(a, [])
        if len(equal) == 1:
            return [(self.names[equal[0]][0], 1.0)]
        la = len(a)
        found: set[int] = set(self.equal.get(a, ()))
        found.update(self._similar(a))
        cjk = CJK.search(a) is not None
        if cjk and la >= 2:          # a Chinese payer's name inside a longer one: it holds all its bigrams
            grams = sorted({a[k:k + 2] for k in range(la - 1)}, key=lambda g: (len(self.bigrams.get(g, ())), g))
            holding = set(self.bigrams.get(grams[0], ()))
            for gram in grams[1:3]:
                holding &= set(self.bigrams.get(gram, ()))
            found |= holding
        elif la >= 4:                # ... else as whole words of it
            found.update(self.words.get(a, ()))
        words = a.split(" ")         # a name inside the payer's: whole words of it, or a Chinese part of it
        for j in range(len(words)):  # (runs no longer than the longest name: a bank may send any length)
            run = words[j]
            for k in range(j + 1, len(words) + 1):
                if k > j + 1:
                    run = f"{run} {words[k - 1]}"
                if len(run) > self.longest:
                    break
                found.update(self.equal.get(run, ()))
        if cjk:
            for length in self.cjk_lengths:
                if length > la:
                    break
                for k in range(la - length + 1):
                    found.update(self.equal.get(a[k:k + length], ()))
        return [(self.names[i][0], s) for i in found
                if (s := normalised_score(a, self.names[i][1], self._matcher(i))) is not None]

    def _matcher(self, i: int) -> SequenceMatcher[str]:
        """A SequenceMatcher with name I as its second sequence, made once (difflib indexes the
        second sequence; the payer is set as the first, so the ratio is the same as a new one's)."""
        if i not in self.matchers:
            self.matchers[i] = SequenceMatcher(None, "", self.names[i][1])
        return self.matchers[i]

    def _similar(self, a: str) -> list[int]:
        """The names whose quick_ratio with A reaches SIMILAR: of a length within 17/23 and 23/17 of
        A's (two similar names share 17/23 of either length), sharing enough characters."""
        la = len(a)
        low, high = (int(np.searchsorted(self.length, (17 * la + 22) // 23, "left")),
                     int(np.searchsorted(self.length, 23 * la // 17, "right")))
        if low >= high:
            return []
        shared = np.zeros(high - low, dtype=np.int64)
        for ch, count in Counter(a).items():
            if ch in self.chars:
                at, times = self.chars[ch]
                first, last = np.searchsorted(at, low, "left"), np.searchsorted(at, high, "left")
                shared[at[first:last] - low] += np.minimum(times[first:last], count)
        bound = 2.0 * shared / (self.length[low:high] + la)
        found: list[int] = self.order[low + np.nonzero(bound >= SIMILAR)[0]].tolist()
        return found


def not_a_receipt(line: BankLine) -> Suggestion | None:
    """The exception of a reversal or of money going out; None for a receipt."""
    if line.reversal:
        return Suggestion(None, (), 0, "reversed entry", "reversal")
    if line.amount <= 0:
        return Suggestion(None, (), 0, f"money out {line.amount:,} {line.currency}",
                          "not a receipt (debit)" if line.amount else "not a receipt (zero)")
    return None


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


def suggest(line: BankLine, customers: Sequence[CustomerRef], invoices: Sequence[OpenInvoice],
            tolerance: Decimal = Decimal(0)) -> Suggestion:
    """One line scored against CUSTOMERS and INVOICES (an index built for it alone)."""
    return CashIndex(customers, invoices).suggest(line, tolerance)
