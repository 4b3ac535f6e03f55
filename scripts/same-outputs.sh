#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# same-outputs.sh OLD_BXSIM NEW_BXSIM [SCENARIO.yaml...] - a refactor changes no output.
#
# Runs each scenario (default: every file in scenarios/ but national.yaml, which takes minutes)
# with both programs (--reproducible, 1 replication unless BX_SAME_REPS says otherwise) and
# compares what they wrote: summary.json as JSON, report.html and every plot's data and gnuplot
# script byte for byte, results.h5 dataset by dataset and attribute by attribute (h5py). Only
# the program's own version string (bxsim_version, git_revision) may differ, and results.h5's
# checksum block with it. Exit 0 when everything is the same, 1 otherwise (each difference
# printed). Needs Debian's python3-h5py (scripts/deps.sh).
set -euo pipefail
old=$1 new=$2
shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -eq 0 ]; then
    set -- $(ls "$here"/scenarios/*.yaml | grep -v '/national.yaml$')
fi
reps=${BX_SAME_REPS:-1}
work=$(mktemp -d "${TMPDIR:-/tmp}/bx-same-XXXXXX")
trap 'rm -rf "$work"' EXIT
bad=0
for scn in "$@"; do
    name=$(basename "$scn" .yaml)
    for side in old new; do
        exe=$old
        [ "$side" = new ] && exe=$new
        "$exe" run "$scn" --out "$work/$side/$name" --replications "$reps" --reproducible \
            --quiet >/dev/null 2>"$work/$side-$name.err" || {
            echo "same-outputs: $side failed on $scn:"
            cat "$work/$side-$name.err"
            bad=1
        }
    done
    /usr/bin/python3 - "$work/old/$name" "$work/new/$name" "$("$old" --version | head -1)" \
        "$("$new" --version | head -1)" <<'PY' || bad=1
import json, os, sys
a, b, va, vb = sys.argv[1:5]
diff = []
def norm_version(s, v):
    # the program's own version line is the only text allowed to differ
    return s.replace(v.split(' ', 1)[-1], 'VERSION') if v else s
sa, sb = json.load(open(os.path.join(a, 'summary.json'))), json.load(open(os.path.join(b, 'summary.json')))
for d in (sa, sb):
    d.pop('bxsim_version', None)
if sa != sb:
    diff.append('summary.json')
def read(p):
    return open(p, 'rb').read()
for root, _, files in os.walk(a):
    for f in files:
        rel = os.path.relpath(os.path.join(root, f), a)
        if rel == 'results.h5' or rel == 'summary.json' or rel.endswith(('.png', '.svg', '.log')):
            continue
        pb = os.path.join(b, rel)
        if not os.path.exists(pb):
            diff.append(rel + ' (missing)')
            continue
        ta, tb = read(os.path.join(root, f)), read(pb)
        if rel.endswith('.html'):
            ta = norm_version(ta.decode(), va).encode()
            tb = norm_version(tb.decode(), vb).encode()
        if ta != tb:
            diff.append(rel)
ha = os.path.join(a, 'results.h5')
if os.path.exists(ha):
    import h5py, numpy as np
    skip = {'bxsim_version', 'git_revision', 'summary_json'}
    fa, fb = h5py.File(ha, 'r'), h5py.File(os.path.join(b, 'results.h5'), 'r')
    def attrs(o, p):
        for k in set(o.attrs) | set(fb[p].attrs if p in fb else []):
            if k in skip:
                continue
            x, y = o.attrs.get(k), fb[p].attrs.get(k) if p in fb else None
            if x is None or y is None or not np.array_equal(np.asarray(x), np.asarray(y)):
                diff.append('results.h5 %s@%s' % (p, k))
    attrs(fa, '/')
    def visit(p, o):
        p = '/' + p
        if p not in fb:
            diff.append('results.h5 ' + p + ' (missing)')
            return
        attrs(o, p)
        if isinstance(o, h5py.Dataset):
            x, y = o[()], fb[p][()]
            same = np.array_equal(x, y, equal_nan=True) if np.issubdtype(np.asarray(x).dtype, np.floating) else np.array_equal(x, y)
            if not same:
                diff.append('results.h5 ' + p)
    fa.visititems(visit)
    ja = json.loads(fa.attrs['summary_json']); jb = json.loads(fb.attrs['summary_json'])
    ja.pop('bxsim_version', None); jb.pop('bxsim_version', None)
    if ja != jb:
        diff.append('results.h5 /@summary_json')
name = os.path.basename(a)
if diff:
    print('same-outputs: %s differs: %s' % (name, ', '.join(sorted(diff)[:20])))
    sys.exit(1)
print('same-outputs: %s: identical' % name)
PY
done
exit $bad
