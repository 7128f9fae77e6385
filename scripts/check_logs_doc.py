#!/usr/bin/env python3
"""The log reference check: every message the gateway logs is in docs/logs.md with its level and fields, and
the page lists nothing the code no longer logs.
A log::write whose level is chosen at run time documents every level it names ("info or warn").

  scripts/check_logs_doc.py [--root DIR] [--list]   exit 0: they agree; 1: differences (listed)

It reads the calls log::debug/info/warn/error("message", {{"field", ...}, ...}) and log::write(level, "message",
...) in src/ (tests and testing/
folders left out). A message is the call's string literals: adjacent literals are one message, the two sides
of a `cond ? "a" : "b"` are two. A call whose message is not a literal (a config warning's own text) is listed
under "Messages built at run time" on the page by the file that makes it. The page's rows read
  | level | `message` | field, field | meaning |
and a message logged in several places documents the union of their fields. Python standard library only.
"""
import argparse
import os
import re
import sys

CALL = re.compile(r"\blog::(debug|info|warn|error|write)\(")
LEVEL_NAME = re.compile(r"\bLevel::k(Debug|Info|Warn|Error)\b")
LEVELS = ["debug", "info", "warn", "error"]
LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')
FIELD_KEY = re.compile(r'\{\s*"([A-Za-z0-9_]+)"\s*,')
DOC_ROW = re.compile(r"^\|\s*((?:debug|info|warn|error)(?: or (?:debug|info|warn|error))*)\s*\|\s*`([^`]+)`\s*\|([^|]*)\|")
DOC_DYNAMIC = re.compile(r"^\|\s*(debug|info|warn|error)\s*\|\s*\(built at run time\)\s*\|([^|]*)\|\s*`([^`]+)`")


def argument_end(text, i):
    """Index of the ',' or ')' that ends the argument starting at i (strings and brackets skipped)."""
    depth, in_string = 0, False
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "({[":
            depth += 1
        elif c in ")}]":
            if depth == 0:
                return i
            depth -= 1
        elif c == "," and depth == 0:
            return i
        i += 1
    return i


def call_end(text, i):
    """Index of the ')' closing the call whose arguments start at i."""
    while i < len(text) and text[i] == ",":
        i = argument_end(text, i + 1)
    return i


def messages_of(argument):
    """The messages a first argument can produce: [] when it is not made of literals."""
    outside = LITERAL.sub('""', argument)
    if not LITERAL.search(argument):
        return []
    if "?" in outside:  # cond ? "a" : "b"
        return [m.encode().decode("unicode_escape") for m in LITERAL.findall(argument)]
    return ["".join(m.encode().decode("unicode_escape") for m in LITERAL.findall(argument))]


def code_messages(root):
    """{message: (level, set(fields), [files])} and [(level, fields, file)] for messages built at run time."""
    found, dynamic = {}, []
    for folder, _, files in os.walk(os.path.join(root, "src")):
        rel_folder = os.path.relpath(folder, root)
        if "testing" in rel_folder.split(os.sep):
            continue
        for name in sorted(files):
            if not name.endswith((".cpp", ".hpp")) or "_test" in name:
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for call in CALL.finditer(text):
                level_name = call.group(1)
                start = call.end()
                if level_name == "write":  # log::write(level expression, "message", fields)
                    level_end = argument_end(text, start)
                    levels = sorted({m.lower() for m in LEVEL_NAME.findall(text[start:level_end])}, key=LEVELS.index)
                    level_name = " or ".join(levels) or "(level computed)"
                    start = level_end + 1
                first_end = argument_end(text, start)
                argument = text[start:first_end]
                fields = set(FIELD_KEY.findall(text[first_end:call_end(text, first_end)]))
                messages = messages_of(argument)
                if not messages:
                    dynamic.append((level_name, fields, rel))
                for message in messages:
                    level, known, where = found.setdefault(message, (level_name, set(), []))
                    if level != level_name:
                        where.append(f"{rel} (at level {level_name}, elsewhere {level})")
                    known |= fields
                    where.append(rel)
    return found, dynamic


def doc_messages(path):
    rows, dynamic = {}, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = DOC_ROW.match(line)
            if row:
                fields = {x.strip() for x in row.group(3).split(",") if x.strip() and x.strip() != "—"}
                rows[row.group(2)] = (row.group(1), fields)
                continue
            dyn = DOC_DYNAMIC.match(line)
            if dyn:
                fields = {x.strip() for x in dyn.group(2).split(",") if x.strip() and x.strip() != "—"}
                dynamic.append((dyn.group(1), fields, dyn.group(3)))
    return rows, dynamic


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    parser.add_argument("--list", action="store_true", help="print what the code logs and exit")
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    code, code_dynamic = code_messages(root)
    if args.list:
        for message, (level, fields, where) in sorted(code.items(), key=lambda kv: kv[1][2][0]):
            print(f"| {level} | `{message}` | {', '.join(sorted(fields)) or '—'} | {where[0]} |")
        for level, fields, rel in code_dynamic:
            print(f"| {level} | (built at run time) | {', '.join(sorted(fields)) or '—'} | `{rel}` |")
        return 0
    doc, doc_dynamic = doc_messages(os.path.join(root, "docs", "logs.md"))
    problems = []
    for message, (level, fields, where) in sorted(code.items()):
        mixed = [w for w in where if "(at level" in w]
        if mixed:
            problems.append(f"`{message}` is logged at two levels: {'; '.join(mixed)}")
        if message not in doc:
            problems.append(f"{where[0]} logs `{message}` ({level}; fields {sorted(fields)}): add it to docs/logs.md")
            continue
        doc_level, doc_fields = doc[message]
        if doc_level != level:
            problems.append(f"`{message}`: docs/logs.md says {doc_level}, {where[0]} logs it at {level}")
        if doc_fields != fields:
            problems.append(f"`{message}`: docs/logs.md lists fields {sorted(doc_fields)}, the code writes "
                            f"{sorted(fields)} ({', '.join(sorted(set(where)))})")
    for message in sorted(set(doc) - set(code)):
        problems.append(f"docs/logs.md lists `{message}`, which no file in src/ logs any more: remove it")
    code_dyn = sorted((lv, sorted(fs), rel) for lv, fs, rel in code_dynamic)
    doc_dyn = sorted((lv, sorted(fs), rel) for lv, fs, rel in doc_dynamic)
    if code_dyn != doc_dyn:
        problems.append(f"messages built at run time: the code has {code_dyn}, docs/logs.md lists {doc_dyn}")
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} difference(s) between src/ and docs/logs.md", file=sys.stderr)
        return 1
    print(f"docs/logs.md documents all {len(code)} messages the gateway logs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
