"""VBA source read the way the VBA compiler reads it, for the add-in's tests.

- `declared(source)`: every name a module declares (procedures and their parameters,
  variables, constants, Type/Enum names and members, Declare and Event names), found in
  logical lines with comments and the contents of strings removed;
- `reserved_uses(source)`: those that are VBA reserved identifiers (MS-VBAL 3.3.5.2), which
  Excel refuses: `Function F(currency)` does not compile, Currency being a type keyword;
- `syntax_errors(source, target)`: what the MS-VBAL grammar of the antlr4-vba package (MIT,
  test-only) says of the module as compiled on one target (Windows or Mac).
"""

from __future__ import annotations

import functools
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

# MS-VBAL (VBA Language Specification) section 3.3.5.2 "Reserved Identifiers and IDENTIFIER":
# reserved-identifier = statement-keyword / marker-keyword / operator-identifier / special-form /
# reserved-type-identifier / reserved-name / literal-identifier / rem-keyword /
# reserved-for-implementation-use / future-reserved. Some names are in several categories.
RESERVED: dict[str, tuple[str, ...]] = {
    "statement-keyword": (
        "Call", "Case", "Close", "Const", "Declare", "DefBool", "DefByte", "DefCur", "DefDate",
        "DefDbl", "DefInt", "DefLng", "DefLngLng", "DefLngPtr", "DefObj", "DefSng", "DefStr",
        "DefVar", "Dim", "Do", "Else", "ElseIf", "End", "EndIf", "Enum", "Erase", "Event", "Exit",
        "For", "Friend", "Function", "Get", "Global", "GoSub", "GoTo", "If", "Implements", "Input",
        "Let", "Lock", "Loop", "LSet", "Next", "On", "Open", "Option", "Print", "Private", "Public",
        "Put", "RaiseEvent", "ReDim", "Resume", "Return", "RSet", "Seek", "Select", "Set", "Static",
        "Stop", "Sub", "Type", "Unlock", "Wend", "While", "With", "Write"),
    "rem-keyword": ("Rem",),
    "marker-keyword": (
        "Any", "As", "ByRef", "ByVal", "Case", "Each", "Else", "In", "New", "Shared", "Until",
        "WithEvents", "Write", "Optional", "ParamArray", "Preserve", "Spc", "Tab", "Then", "To"),
    "operator-identifier": (
        "AddressOf", "And", "Eqv", "Imp", "Is", "Like", "New", "Mod", "Not", "Or", "TypeOf", "Xor"),
    "reserved-name": (
        "Abs", "CBool", "CByte", "CCur", "CDate", "CDbl", "CDec", "CInt", "CLng", "CLngLng",
        "CLngPtr", "CSng", "CStr", "CVar", "CVErr", "Date", "Debug", "DoEvents", "Fix", "Int", "Len",
        "LenB", "Me", "PSet", "Scale", "Sgn", "String"),
    "special-form": ("Array", "Circle", "Input", "InputB", "LBound", "Scale", "UBound"),
    "reserved-type-identifier": (
        "Boolean", "Byte", "Currency", "Date", "Double", "Integer", "Long", "LongLong", "LongPtr",
        "Single", "String", "Variant"),
    "literal-identifier": ("True", "False", "Nothing", "Empty", "Null"),
    "reserved-for-implementation-use": (
        "Attribute", "LINEINPUT", "VB_Base", "VB_Control", "VB_Creatable", "VB_Customizable",
        "VB_Description", "VB_Exposed", "VB_Ext_KEY", "VB_GlobalNameSpace", "VB_HelpID",
        "VB_Invoke_Func", "VB_Invoke_Property", "VB_Invoke_PropertyPut", "VB_Invoke_PropertyPutRef",
        "VB_MemberFlags", "VB_Name", "VB_PredeclaredId", "VB_ProcData", "VB_TemplateDerived",
        "VB_UserMemId", "VB_VarDescription", "VB_VarHelpID", "VB_VarMemberFlags", "VB_VarProcData",
        "VB_VarUserMemId"),
    "future-reserved": ("CDecl", "Decimal", "DefDec"),
    # Not a reserved identifier by 3.3.5.3 (BUILTIN-TYPE), but "generally used as if it was a
    # reserved-type-identifier": a declaration named Object reads as a type to anyone, so refused too.
    "builtin-type (3.3.5.3)": ("Object",),
}
CATEGORY: dict[str, str] = {}
for _category, _names in RESERVED.items():
    for _name in _names:
        CATEGORY.setdefault(_name.lower(), _category)


def decoded_modules(xlam: Path) -> dict[str, str]:
    """Every module of a built add-in, as olevba (oletools) decodes it from vbaProject.bin."""
    with warnings.catch_warnings():  # oletools calls a pyparsing API that is deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        from oletools.olevba import VBA_Parser
    parser = VBA_Parser(str(xlam))
    try:
        return {Path(stream).name: code for _f, stream, _name, code in parser.extract_macros()}
    finally:
        parser.close()


@dataclass(frozen=True, slots=True)
class Declared:
    line: int        # physical line (1-based) where the declaring logical line starts
    kind: str        # procedure, parameter, variable, constant, type, member, declare, event
    name: str


# ---- logical lines and statements ---------------------------------------------------------

def logical_lines(source: str) -> list[tuple[int, str]]:
    """(first physical line, text): ` _` continuations joined, comments cut, strings emptied."""
    out: list[tuple[int, str]] = []
    start, parts = 0, []
    for number, physical in enumerate(source.splitlines(), start=1):
        start = start or number
        if re.search(r"(^|\s)_\s*$", physical):
            parts.append(physical.rstrip()[:-1])
            continue
        parts.append(physical)
        out.append((start, _code_only(" ".join(parts))))
        start, parts = 0, []
    if parts:
        out.append((start, _code_only(" ".join(parts))))
    return out


def _code_only(line: str) -> str:
    """The line without its ' comment, every string literal left as "" (a "" inside one too)."""
    kept, quoted = [], False
    for char in line:
        if char == '"':
            quoted = not quoted
            kept.append(char)
        elif not quoted and char == "'":
            break
        elif not quoted:
            kept.append(char)
    return "".join(kept)


def statements(line: str) -> list[str]:
    """A logical line's statements (split at ':' but not ':='); a Rem statement ends the line."""
    found = []
    for part in re.split(r":(?!=)", line):
        part = part.strip()
        if re.match(r"rem\b", part, re.IGNORECASE):
            break
        if part:
            found.append(part)
    return found


def _top_level(text: str) -> list[str]:
    """TEXT split at the commas outside parentheses."""
    items, depth, current = [], 0, []
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def _parenthesized(text: str, start: int) -> str:
    """What stands between the '(' at START and its matching ')'."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[start + 1:i]
    return text[start + 1:]


# ---- declarations -------------------------------------------------------------------------

NAME = r"([^\W\d]\w*)[%&^!#@$]?"
MODIFIERS = r"(?:(?:Public|Private|Friend|Global)\s+)?"
DECLARE = re.compile(MODIFIERS + r"Declare\s+(?:PtrSafe\s+)?(?:Sub|Function)\s+" + NAME
                     + r'\s+Lib\s+""(?:\s+Alias\s+"")?\s*(?=\()', re.IGNORECASE)
PROCEDURE = re.compile(MODIFIERS + r"(?:Static\s+)?(?:Sub|Function|Property\s+(?:Get|Let|Set))\s+"
                       + NAME + r"\s*(?=\()", re.IGNORECASE)
EVENT = re.compile(MODIFIERS + r"Event\s+" + NAME + r"\s*(?=\()", re.IGNORECASE)
BLOCK = re.compile(MODIFIERS + r"(Type|Enum)\s+" + NAME + r"\s*$", re.IGNORECASE)
CONSTANT = re.compile(MODIFIERS + r"Const\s+(.*)$", re.IGNORECASE)
VARIABLE = re.compile(r"(?:Dim|Private|Public|Static|Global|ReDim(?:\s+Preserve)?)\s+(.*)$", re.IGNORECASE)
PARAMETER_WORDS = re.compile(r"^(?:(?:Optional|ByVal|ByRef|ParamArray)\s+)*", re.IGNORECASE)


def declared(source: str) -> list[Declared]:
    """Every name the module declares, in order. Conditional-compilation (#) lines, attribute
    and option lines declare no VBA name; both sides of an #If are read. (A Type member may be
    some reserved words, MS-VBAL 5.2.3.3; it is reported all the same: nobody needs one.)"""
    found: list[Declared] = []
    block = ""       # inside a Type or an Enum: its members are declared
    for line, text in logical_lines(source):
        if re.match(r"\s*(#|Attribute\s|Option\s)", text, re.IGNORECASE):
            continue
        for statement in statements(text):
            if block:
                if re.match(rf"End\s+{block}\b", statement, re.IGNORECASE):
                    block = ""
                else:
                    found.append(Declared(line, "member", _first_name(statement)))
                continue
            if m := BLOCK.match(statement):
                block = m[1]
                found.append(Declared(line, "type", m[2]))
            else:
                found.extend(Declared(line, kind, name) for kind, name in _declarations(statement))
    return found


def _declarations(statement: str) -> list[tuple[str, str]]:
    for pattern, kind in ((DECLARE, "declare"), (PROCEDURE, "procedure"), (EVENT, "event")):
        if m := pattern.match(statement):
            parameters = _top_level(_parenthesized(statement, m.end()))
            return [(kind, m[1]), *(("parameter", _first_name(PARAMETER_WORDS.sub("", p))) for p in parameters)]
    for pattern, kind in ((CONSTANT, "constant"), (VARIABLE, "variable")):
        if m := pattern.match(statement):
            items = _top_level(m[1])
            return [(kind, _first_name(re.sub(r"^WithEvents\s+", "", item, flags=re.IGNORECASE))) for item in items]
    return []


def _first_name(text: str) -> str:
    m = re.match(NAME, text.strip())
    return m[1] if m else text.strip()


def reserved_uses(source: str) -> list[tuple[Declared, str]]:
    """The declared names that are reserved identifiers, with the category of each."""
    return [(d, CATEGORY[d.name.lower()]) for d in declared(source) if d.name.lower() in CATEGORY]


# ---- conditional compilation and the grammar ----------------------------------------------

# The project-level conditional-compilation constants Office defines on each target. Windows has
# no MAC_OFFICE_VERSION: an undefined constant is Empty there, which compares as 0.
WINDOWS = {"VBA6": True, "VBA7": True, "Win16": False, "Win32": True, "Win64": True, "Mac": False,
           "MAC_OFFICE_VERSION": 0}
MAC = {"VBA6": True, "VBA7": True, "Win16": False, "Win32": False, "Win64": False, "Mac": True,
       "MAC_OFFICE_VERSION": 16}
TARGETS = {"Windows": WINDOWS, "Mac": MAC}

DIRECTIVE = re.compile(r"\s*#\s*(If|ElseIf|Else|End\s*If|Const)\b\s*(.*?)\s*(?:\bThen\s*)?$", re.IGNORECASE)
CC_TOKEN = re.compile(r'\s*(?:("[^"]*")|(\d+)|(<>|<=|>=|=|<|>|\(|\))|([^\W\d]\w*))')


def cc_value(expression: str, constants: dict[str, object]) -> object:
    """The value of a conditional-compilation expression (names, numbers, strings, comparisons,
    Not/And/Or/Xor): enough for the #If lines of our modules; anything else raises."""
    words = {"and": "and", "or": "or", "not": "not", "xor": "!=", "true": "True", "false": "False"}
    python, at = [], 0
    while at < len(expression.rstrip()):
        m = CC_TOKEN.match(expression, at)
        if m is None:
            raise ValueError(f"conditional compilation: cannot read {expression!r}")
        at = m.end()
        text, number, operator, name = m.groups()
        if operator is not None:
            python.append({"=": "==", "<>": "!="}.get(operator, operator))
        elif name is None:
            python.append(text or number)
        elif name.lower() in words:
            python.append(words[name.lower()])
        elif name.lower() in constants:
            python.append(repr(constants[name.lower()]))
        else:
            raise ValueError(f"conditional compilation: {name!r} is not a constant of this target")
    return eval(" ".join(python), {"__builtins__": {}})


def preprocess(source: str, target: dict[str, object]) -> str:
    """The module as the compiler of TARGET sees it (MS-VBAL 3.4): lines of excluded blocks and
    the directives themselves become empty lines, so line numbers stay those of the source."""
    constants = {k.lower(): v for k, v in target.items()}
    kept: list[str] = []
    blocks: list[tuple[bool, bool]] = []    # (this branch is taken, a branch was taken)
    for line in source.split("\r\n"):
        m = DIRECTIVE.match(re.sub(r"'.*$", "", line) if line.lstrip().startswith("#") else line)
        included = all(taken for taken, _ in blocks)
        if m is None:
            kept.append(line if included else "")
            continue
        keyword, rest = m[1].lower().replace(" ", ""), m[2]
        if keyword == "const" and included:
            name, value = rest.split("=", 1)
            constants[name.strip().lower()] = cc_value(value, constants)
        elif keyword == "if":
            taken = bool(cc_value(rest, constants))
            blocks.append((taken, taken))
        elif keyword == "elseif":
            _, done = blocks.pop()
            taken = not done and bool(cc_value(rest, constants))
            blocks.append((taken, done or taken))
        elif keyword == "else":
            _, done = blocks.pop()
            blocks.append((not done, True))
        elif keyword == "endif":
            blocks.pop()
        kept.append("")
    if blocks:
        raise ValueError("conditional compilation: an #If has no #End If")
    return "\r\n".join(kept)


# A class or document module is stored in the project without the header of its exported form
# (MS-VBAL 4.2 class-module-header), and with attributes the grammar does not list
# (MS-OVBA's VB_Base, VB_TemplateDerived; a module-level VB_Description).
CLASS_HEADER = "VERSION 1.0 CLASS\r\nBEGIN\r\n  MultiUse = -1  'True\r\nEND\r\n"
STORED_ONLY = re.compile(r"^Attribute VB_(?:Base|TemplateDerived|Description) = .*\r\n", re.MULTILINE)


def exported_form(source: str) -> tuple[str, int]:
    """The module as the grammar reads it, and how many lines were put before the source's."""
    if not re.search(r"^Attribute VB_Base = ", source, re.MULTILINE):
        return source, 0
    moved = len(STORED_ONLY.findall(source))
    body = STORED_ONLY.sub("", source)
    last = [m.end() for m in re.finditer(r"^Attribute VB_\w+ = .*\r\n", body, re.MULTILINE)][-1]
    # the removed lines come back as empty lines after the attributes, so that the code keeps its lines
    return CLASS_HEADER + body[:last] + "\r\n" * moved + body[last:], CLASS_HEADER.count("\r\n")


def syntax_errors(source: str, target: dict[str, object]) -> list[str]:
    """'line:column message' for each syntax error the MS-VBAL grammar finds (empty: it parses)."""
    text, offset = exported_form(preprocess(source, target))
    return [f"{line - offset}:{column} {message}" for line, column, message in _grammar_errors(text)]


@functools.lru_cache(maxsize=64)
def _grammar_errors(text: str) -> tuple[tuple[int, int, str], ...]:
    """The grammar's errors in TEXT (a module as exported): cached, as most modules read the
    same on Windows and on a Mac, and a parse of xlwings' module takes the grammar ~20 s."""
    from antlr4 import CommonTokenStream, InputStream
    from antlr4.error.ErrorListener import ErrorListener
    from antlr4_vba.vbaLexer import vbaLexer
    from antlr4_vba.vbaParser import vbaParser

    errors: list[tuple[int, int, str]] = []

    class Collect(ErrorListener):  # type: ignore[misc]
        def syntaxError(self, recognizer, symbol, line, column, message, exc):
            errors.append((line, column, message))

    lexer = vbaLexer(InputStream(text))
    parser = vbaParser(CommonTokenStream(lexer))
    for recognizer in (lexer, parser):
        recognizer.removeErrorListeners()
        recognizer.addErrorListener(Collect())
    parser.startRule()
    return tuple(errors)
