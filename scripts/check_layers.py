#!/usr/bin/env python3
"""The layering check: fails when an include in src/ climbs or crosses a floor, or when a room's CMake links
do not match its includes. The floors are the table in docs/dev/floors.md (the only place they are written).

  scripts/check_layers.py [--root DIR]      exit 0: clean; 1: violations (listed); 2: the table is unreadable

Rules (docs/dev/floors.md):
  1. A file of room R includes "S/..." only when S is R or S stands on a lower floor than R.
  2. The room's library (target_link_libraries of its CMakeLists.txt) links exactly the project rooms its
     library files include: an include without the link, or a link without an include, is a violation.
  3. Its tests (webstream_test LIBS) link nothing their includes do not need, and every room the tests
     include is reachable through those links.
A room is a folder under src/ (src/iam/api and src/iam/remote are rooms of their own). Test files are
*_test.cpp, *_test_support.hpp and anything under a testing/ folder. Python standard library only.
"""
import argparse
import os
import re
import sys

SOURCE_EXTENSIONS = (".cpp", ".hpp", ".h", ".cc")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)
# Rooms inside another room's folder (their own CMake library).
NESTED_ROOMS = {"iam": ("api", "remote")}
# Library names that differ from the room's path with '/' -> '_'.
LIBRARY_NAMES = {"app": "app_wiring"}


def read_floors(path):
    """{room: floor} from the markdown table rows '| <floor> | room, room | what |'."""
    floors = {}
    row = re.compile(r"^\|\s*(\d+)\s*\|([^|]+)\|")
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = row.match(line)
            if not m:
                continue
            for room in m.group(2).split(","):
                room = room.strip().strip("`")
                if room:
                    floors[room] = int(m.group(1))
    return floors


def library_of(room):
    return LIBRARY_NAMES.get(room, room.replace("/", "_"))


def room_of_path(parts):
    """The room of a path below src/ given as components: ['iam', 'api', 'x.hpp'] -> 'iam/api'."""
    if len(parts) > 2 and parts[1] in NESTED_ROOMS.get(parts[0], ()):
        return parts[0] + "/" + parts[1]
    return parts[0]


def is_test_file(relpath):
    name = os.path.basename(relpath)
    return "/testing/" in "/" + relpath or re.search(r"_test(_support)?\.[a-z]+$", name) is not None


def strip_cmake_comments(text):
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def cmake_calls(text, command):
    """The argument lists of every `command(...)` call (no nested parentheses in the calls we read)."""
    calls = []
    for m in re.finditer(r"\b" + command + r"\s*\(([^)]*)\)", text):
        calls.append(m.group(1).split())
    return calls


def read_cmake(room_dir, room, libraries):
    """(library links, {test name: test links}) restricted to project rooms, for one room's CMakeLists."""
    path = os.path.join(room_dir, "CMakeLists.txt")
    with open(path, encoding="utf-8") as f:
        text = strip_cmake_comments(f.read())
    own = library_of(room)
    links = set()
    for args in cmake_calls(text, "target_link_libraries"):
        if args and args[0] == own:
            links |= {libraries[a] for a in args[1:] if a in libraries}
    tests = {}
    for args in cmake_calls(text, "webstream_test"):
        if "LIBS" in args:
            tests[args[0]] = {libraries[a] for a in args[args.index("LIBS") + 1:] if a in libraries}
    return links, tests


def closure(rooms, links_of):
    seen, todo = set(), list(rooms)
    while todo:
        r = todo.pop()
        if r in seen:
            continue
        seen.add(r)
        todo.extend(links_of.get(r, ()))
    return seen


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    src = os.path.join(root, "src")
    table = os.path.join(root, "docs", "dev", "floors.md")
    try:
        floors = read_floors(table)
    except OSError as e:
        print(f"check_layers: cannot read {table}: {e}", file=sys.stderr)
        return 2
    if not floors:
        print(f"check_layers: no floor table in {table}", file=sys.stderr)
        return 2

    problems = []
    # room -> {included room: first file that includes it}, for library files and for test files.
    lib_includes, test_includes = {}, {}
    rooms_on_disk = set()
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(SOURCE_EXTENSIONS):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, src).replace(os.sep, "/")
            room = room_of_path(rel.split("/"))
            rooms_on_disk.add(room)
            if room not in floors:
                continue  # reported once below
            with open(full, encoding="utf-8", errors="replace") as f:
                text = f.read()
            target = test_includes if is_test_file(rel) else lib_includes
            for inc in INCLUDE.findall(text):
                parts = inc.split("/")
                if len(parts) < 2 or not os.path.isdir(os.path.join(src, parts[0])):
                    continue  # a system or third-party header, or a file next to this one
                other = room_of_path(parts)
                if other == room:
                    continue
                if other not in floors:
                    problems.append(f"src/{rel}: includes \"{inc}\" of room {other}, which has no floor")
                    continue
                if floors[other] >= floors[room]:
                    where = "on the same floor" if floors[other] == floors[room] else "a floor above"
                    problems.append(f"src/{rel}: includes \"{inc}\": {other} (floor {floors[other]}) is {where} "
                                    f"{room} (floor {floors[room]})")
                target.setdefault(room, {}).setdefault(other, f"src/{rel}")

    for room in sorted(rooms_on_disk - set(floors)):
        problems.append(f"src/{room}: a room with no floor: add it to docs/dev/floors.md")
    for room in sorted(set(floors) - rooms_on_disk):
        problems.append(f"docs/dev/floors.md: room {room} has no folder src/{room}")

    libraries = {library_of(r): r for r in floors}
    links_of, tests_of = {}, {}
    for room in sorted(set(floors) & rooms_on_disk):
        room_dir = os.path.join(src, room)
        if not os.path.exists(os.path.join(room_dir, "CMakeLists.txt")):
            problems.append(f"src/{room}: no CMakeLists.txt")
            continue
        links_of[room], tests_of[room] = read_cmake(room_dir, room, libraries)

    for room in sorted(links_of):
        included = lib_includes.get(room, {})
        links = links_of[room] - {room}
        for other in sorted(set(included) - links):
            problems.append(f"src/{room}/CMakeLists.txt: {library_of(room)} does not link {library_of(other)}, "
                            f"which {included[other]} includes")
        for other in sorted(links - set(included)):
            problems.append(f"src/{room}/CMakeLists.txt: {library_of(room)} links {library_of(other)}, "
                            f"which none of its files includes")
        test_included = test_includes.get(room, {})
        for test, test_links in sorted(tests_of[room].items()):
            reach = closure(test_links, links_of)
            for other in sorted(set(test_included) - reach):
                problems.append(f"src/{room}/CMakeLists.txt: {test} cannot reach {library_of(other)}, which "
                                f"{test_included[other]} includes")
            for other in sorted(test_links - {room} - set(test_included)):
                problems.append(f"src/{room}/CMakeLists.txt: {test} links {library_of(other)}, which none of "
                                f"its tests includes")

    if problems:
        print(f"check_layers: {len(problems)} problem(s) (floors: docs/dev/floors.md)")
        for p in problems:
            print("  " + p)
        return 1
    print(f"check_layers: {len(rooms_on_disk)} rooms, includes and CMake links follow docs/dev/floors.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
