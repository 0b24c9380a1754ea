"""Names, numbers and accounts as a bank line writes them: normalised, split into tokens, compared.

What the cash-application scorer (xlar.domain.cash) asks of a text: the compact form of an
invoice number and the tokens a line holds, whether a token stands alone in a text, a bank
account without its spaces, and how alike a payer's name is to a customer's (legal-form words
and suffixes aside, Chinese names by their characters).
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache

_LEGAL_WORDS = frozenset({
    "bv", "nv", "vof", "bvba", "gmbh", "ag", "kg", "ug", "ohg", "co", "ltd", "limited", "llc",
    "llp", "inc", "corp", "corporation", "plc", "pty", "sa", "sas", "sarl", "srl", "spa", "oy",
    "ab", "as", "aps", "kk", "company",
})
_CJK_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "公司")
CJK = re.compile(r"[\u4e00-\u9fff]")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")
_SEGMENT = re.compile(r"[0-9A-Za-z\-/._]+")
_PIECE = re.compile(r"[0-9A-Za-z]+")
_MAX_PIECES = 8  # an invoice number has at most this many dash-separated parts
# A similar name: SequenceMatcher's ratio 2M/(la+lb) >= 0.85, M matching characters; M is at most
# the characters the names share, whose 2 x /(la+lb) is difflib's quick_ratio: an upper bound.
SIMILAR = 0.85


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
    """NUMBER without its dashes and spaces (anything but ASCII letters and digits), upper case."""
    plain = number.replace("-", "").replace(" ", "")
    return (plain if plain.isascii() and plain.isalnum() else _NOT_ALNUM.sub("", number)).upper()


def has_token(text: str, token: str) -> bool:
    return _token_pattern(token).search(text) is not None


def alone(text: str, at: int, length: int) -> bool:
    """TEXT[at:at+length] has no ASCII letter or digit either side (has_token's boundaries)."""
    end = at + length
    return ((at == 0 or not _ascii_alnum(text[at - 1])) and (end == len(text) or not _ascii_alnum(text[end])))


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@lru_cache(maxsize=1 << 16)
def _token_pattern(token: str) -> re.Pattern[str]:
    """TOKEN as a whole token, any case (compiled once: a statement asks for the same codes again)."""
    return re.compile(rf"(?<![0-9A-Za-z]){re.escape(token)}(?![0-9A-Za-z])", re.IGNORECASE)


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


def normalised_score(a: str, b: str, matcher: SequenceMatcher[str] | None = None) -> float | None:
    """name_score of two names already normalised (MATCHER: one whose second sequence is B)."""
    if not a or not b:
        return None
    if a == b:
        return 1.0
    la, lb = len(a), len(b)
    if 2.0 * min(la, lb) / (la + lb) >= SIMILAR:     # difflib's upper bounds first: length, then characters
        if matcher is None:
            matcher = SequenceMatcher(None, a, b)
        else:
            matcher.set_seq1(a)
        if matcher.quick_ratio() >= SIMILAR:
            ratio = matcher.ratio()
            if ratio >= SIMILAR:
                return ratio
    short, long = (a, b) if la <= lb else (b, a)
    if CJK.search(short):
        return 0.85 if len(short) >= 2 and short in long else None
    return 0.85 if len(short) >= 4 and _whole_words_in(short, long) else None


def _whole_words_in(short: str, long: str) -> bool:
    """SHORT in LONG with no word character (regex \\w: alphanumeric or _) either side."""
    start = long.find(short)
    while start >= 0:
        end = start + len(short)
        if (start == 0 or not _word_char(long[start - 1])) and (end == len(long) or not _word_char(long[end])):
            return True
        start = long.find(short, start + 1)
    return False


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"
