#!/usr/bin/env python3
"""Compares gyre's backfill output with the SQL engines' output of features.sql, cell by cell.

  compare.py --gyre OUT.csv --logins data/logins.csv (--sqlite DB | --csv SQL_OUT.csv) [--name NAME]

The SQL side (the table `feat` of a SQLite database, or a CSV export of it with a header) has one row per
login in event_id order: event_id, ts, user_id, ip, device_id, then one column per feature. gyre writes its
rows in the order of logins.csv; its columns are matched by name, so every feature column of the SQL side
must be in gyre's header (gyre's key columns may differ; extra gyre columns are ignored). Rows are aligned
through logins.csv's event_id column (gyre's own event_id column if it has one) and streamed, so the check
runs in constant memory at any size. Where gyre's output has user_id / ip / device_id / time, they are
checked against the SQL row too (a misaligned row would otherwise show as a pile of feature mismatches).

Cells agree when both are null, or both are numbers with |a - b| <= 1e-9 * max(|a|, |b|) (counts are
exact at that tolerance; means, stddevs, ratios and sums may differ in the last bits between engines).

Prints the number of cells compared and of mismatches, per feature, with the first examples. Exit status:
0 when everything agrees, 1 on any mismatch (cells, rows, keys), 2 on unusable input.
Standard library only.
"""

import argparse
import calendar
import csv
import sqlite3
import sys
from itertools import zip_longest

KEY_COLUMNS = ("event_id", "ts", "user_id", "ip", "device_id")
REL_TOL = 1e-9
MAX_EXAMPLES = 10

csv.field_size_limit(1 << 24)


def fail(message):
    print(f"compare: {message}", file=sys.stderr)
    sys.exit(2)


def parse_number(text, where):
    if text is None or text == "":
        return None
    if isinstance(text, (int, float)):
        return float(text)
    try:
        return float(text)
    except ValueError:
        if text in ("true", "false"):
            return 1.0 if text == "true" else 0.0
        raise ValueError(f"{where}: not a number: {text!r}")


def parse_micros(text):
    """ISO 8601 UTC ('2026-01-01T00:02:32.303Z', also with a space, without Z, 0-9 fraction digits) → µs."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1]
    if len(text) < 19 or text[10] not in "T ":
        return None
    try:
        seconds = calendar.timegm((int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]),
                                   int(text[14:16]), int(text[17:19]), 0, 0, 0))
    except ValueError:
        return None
    fraction = text[20:] if len(text) > 19 and text[19] == "." else ""
    if len(text) > 19 and text[19] != ".":
        return None
    if fraction and not fraction.isdigit():
        return None
    return seconds * 1_000_000 + int((fraction + "000000")[:6] or 0)


def agree(a, b):
    if a is None or b is None:
        return a is None and b is None
    if a == b:
        return True
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b))


def sql_rows(args):
    """(header, iterator of rows as tuples) of the SQL output in event_id order."""
    if args.sqlite:
        try:
            db = sqlite3.connect(f"file:{args.sqlite}?mode=ro", uri=True)
            cursor = db.execute("SELECT * FROM feat ORDER BY event_id")
        except sqlite3.Error as e:
            fail(f"{args.sqlite}: {e}")
        header = [d[0] for d in cursor.description]
        return header, cursor
    try:
        stream = open(args.csv, newline="", encoding="utf-8")
    except OSError as e:
        fail(f"cannot read {args.name}'s output: {e}")
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        fail(f"{args.csv} is empty")
    return header, reader


def logins_ids(path):
    try:
        stream = open(path, newline="", encoding="utf-8")
    except OSError as e:
        fail(f"cannot read {path}: {e}")
    with stream:
        reader = csv.reader(stream)
        header = next(reader, None)
        if header is None or "event_id" not in header:
            fail(f"{path}: no event_id column")
        column = header.index("event_id")
        previous = None
        for line, row in enumerate(reader, start=2):
            event_id = int(row[column])
            if previous is not None and event_id <= previous:
                fail(f"{path}:{line}: event_id {event_id} after {previous}: the file is not in event_id order, "
                     "so its rows cannot be aligned with the SQL output")
            previous = event_id
            yield event_id


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gyre", required=True, help="gyre features backfill output (CSV)")
    parser.add_argument("--logins", required=True, help="the logins.csv gyre read (for the event_id of each row)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--sqlite", help="SQLite database holding the table feat")
    source.add_argument("--csv", help="CSV export of the SQL output (header first)")
    parser.add_argument("--name", default="sql", help="name of the SQL engine in messages")
    args = parser.parse_args()

    sql_header, sql_iter = sql_rows(args)
    for key in KEY_COLUMNS:
        if key not in sql_header:
            fail(f"{args.name} output has no column {key}")
    features = [c for c in sql_header if c not in KEY_COLUMNS]
    sql_index = {c: i for i, c in enumerate(sql_header)}

    try:
        gyre_stream = open(args.gyre, newline="", encoding="utf-8")
    except OSError as e:
        fail(f"cannot read gyre's output: {e}")
    gyre_reader = csv.reader(gyre_stream)
    gyre_header = next(gyre_reader, None)
    if gyre_header is None:
        fail(f"{args.gyre} is empty")
    gyre_index = {c: i for i, c in enumerate(gyre_header)}
    missing = [f for f in features if f not in gyre_index]
    if missing:
        fail(f"{args.gyre} lacks feature columns {', '.join(missing)} (header: {', '.join(gyre_header)})")
    checked_keys = [k for k in ("user_id", "ip", "device_id") if k in gyre_index]
    time_column = next((c for c in ("time", "timestamp", "ts") if c in gyre_index), None)
    if "event_id" in gyre_index:
        ids = None
    else:
        ids = logins_ids(args.logins)

    pairs = [(f, gyre_index[f], sql_index[f]) for f in features]
    per_feature = {f: 0 for f in features}
    examples = []
    key_mismatches = 0
    rows = 0
    cells = 0
    id_iter = ids if ids is not None else iter(())
    for gyre_row, sql_row, logins_id in zip_longest(gyre_reader, sql_iter, id_iter):
        if gyre_row is None or sql_row is None or (ids is not None and logins_id is None):
            counts = f"gyre and {args.name} disagree on the number of rows" if gyre_row is None or sql_row is None \
                else "gyre has more rows than logins.csv"
            print(f"compare: MISMATCH: {counts} (stopped after {rows} rows)")
            return 1
        rows += 1
        sql_id = int(sql_row[sql_index["event_id"]])
        gyre_id = int(gyre_row[gyre_index["event_id"]]) if ids is None else logins_id
        problem = None
        if gyre_id != sql_id:
            problem = f"event_id {gyre_id} vs {sql_id}"
        for key in checked_keys:
            if problem is None and (gyre_row[gyre_index[key]] or None) != (sql_row[sql_index[key]] or None):
                problem = f"{key} {gyre_row[gyre_index[key]]!r} vs {sql_row[sql_index[key]]!r}"
        if problem is None and time_column is not None:
            micros = parse_micros(gyre_row[gyre_index[time_column]])
            if micros != int(sql_row[sql_index["ts"]]):
                problem = f"{time_column} {gyre_row[gyre_index[time_column]]!r} vs ts {sql_row[sql_index['ts']]}"
        if problem is not None:
            key_mismatches += 1
            if len(examples) < MAX_EXAMPLES:
                examples.append(f"row {rows} (event_id {sql_id}): keys differ: {problem}")
            continue
        for feature, gi, si in pairs:
            cells += 1
            try:
                a = parse_number(gyre_row[gi], f"{args.gyre} row {rows} {feature}")
                b = parse_number(sql_row[si], f"{args.name} row {rows} {feature}")
            except ValueError as e:
                fail(str(e))
            if not agree(a, b):
                per_feature[feature] += 1
                if len(examples) < MAX_EXAMPLES:
                    examples.append(f"row {rows} (event_id {sql_id}) {feature}: gyre {gyre_row[gi]!r}, "
                                    f"{args.name} {sql_row[si]!r}")

    mismatches = sum(per_feature.values())
    print(f"compare gyre vs {args.name}: {rows} rows x {len(features)} features = {cells} cells; "
          f"mismatches: {mismatches}; rows with different keys: {key_mismatches}")
    for feature in features:
        if per_feature[feature]:
            print(f"  {feature}: {per_feature[feature]} mismatches")
    for example in examples:
        print(f"  e.g. {example}")
    return 0 if mismatches == 0 and key_mismatches == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
