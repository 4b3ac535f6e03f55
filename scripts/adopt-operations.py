#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Give every port of a ports scenario the operational parameter set calibrated in issue 17
(docs/scenarios.md, "Operational defaults"): correlated capture failures everywhere, the
field photo-quality loss at pedestrian mobile units (scenarios/land-pedestrian-exit.yaml),
staff exclusions and boarding unphotographed at air and sea ports (scenarios/air-exit-2019.yaml),
and failing equipment of every kind (the documented defaults). Rewrites the file in place; a
port that already has a `capture:` or `unphotographed:` line is left as it is.

usage: scripts/adopt-operations.py scenarios/national.yaml [...]
"""
import re
import sys

AIR_SEA = ("    capture: {difficulty_sd: 1.0, exclusions: {wheelchair: 0.5, families: 0.33}}\n"
           "    unphotographed: board\n")
PEDESTRIAN = "    capture: {difficulty_sd: 1.0, difficulty_quality: 0.75}\n"
OTHER = "    capture: {difficulty_sd: 1.0}\n"
EQUIPMENT = ("equipment:  # the documented default failure figures (docs/scenarios.md)\n"
             "  gate_camera:\n  egate:\n  mobile:\n  vehicle:\n  kiosk:\n")


def adopt(text):
    out, block = [], []

    def flush():
        if not block:
            return
        body = "".join(block)
        if "capture:" not in body and "unphotographed:" not in body:
            kind = re.search(r"type: (\w+)", body)
            kind = kind.group(1) if kind else ""
            if kind in ("air", "sea"):
                body += AIR_SEA
            elif "kind: pedestrian" in body:
                body += PEDESTRIAN
            else:
                body += OTHER
        out.append(body)
        block.clear()

    in_ports = False
    for line in text.splitlines(keepends=True):
        if line.startswith("ports:"):
            in_ports = True
            if "equipment:" not in text:
                out.append(EQUIPMENT)
            out.append(line)
            continue
        if in_ports and line.startswith("  - "):
            flush()
            block.append(line)
        elif in_ports and block and (line.startswith("    ") or not line.strip()):
            block.append(line)
        elif in_ports and block and line.startswith("  #"):
            flush()
            out.append(line)
        else:
            flush()
            out.append(line)
    flush()
    return "".join(out)


for path in sys.argv[1:]:
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(adopt(text))
