"""Request bodies of real login events for the serving benches, one JSON body per line on stdout.

    python3 login_bodies.py LOGINS_CSV N DATA_END_MS_FILE FRESH [score|push]

N rows spread evenly over the last day of LOGINS_CSV (distinct users, IPs and devices, and the times they really
happened), typed as the logins source's columns. `score` (the default) writes {"event": {...}} for POST
/v1/score; `push` a one-row Feast push {"push_source_name": "logins", "df": {column: [value]}} for POST /push.
DATA_END_MS_FILE receives the data's last event time + 1 s (ms since the epoch), where fresh event times start.
FRESH=1 sets every event_id to 16 digits that post_bodies.lua overwrites with a new id per request.
"""
import csv
import datetime
import json
import sys

path, n, end_file, fresh = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
kind = sys.argv[5] if len(sys.argv) > 5 else "score"
with open(path, newline="") as f:
    rows = list(csv.DictReader(f))
end = max(datetime.datetime.fromisoformat(r["time"].replace("Z", "+00:00")) for r in rows)
with open(end_file, "w") as f:
    print(int(end.timestamp() * 1000) + 1000, file=f)
last_day = rows[-min(len(rows), max(n * 4, len(rows) // 30)):]
step = max(1, len(last_day) // n)
ints, floats, bools = {"event_id", "asn"}, {"lat", "lon"}, {"success", "mfa"}
for row in last_day[::step][:n]:
    event = {}
    for k, v in row.items():
        if v == "":
            event[k] = None
        elif k in ints:
            event[k] = int(v)
        elif k in floats:
            event[k] = float(v)
        elif k in bools:
            event[k] = v.lower() == "true"
        else:
            event[k] = v
    if fresh:  # 16 digits the load generators overwrite with a new id per request (exactly-once: no replays)
        event["event_id"] = 1000000000000000
        # and 24 characters they overwrite with the time of sending (datagen writes a whole second without ".000")
        t = datetime.datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
        event["time"] = t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)
    if kind == "push":
        body = {"push_source_name": "logins", "df": {k: [v] for k, v in event.items()}, "to": "online"}
    else:
        body = {"event": event}
    print(json.dumps(body, separators=(",", ":")))
