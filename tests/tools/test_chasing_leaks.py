"""The `vm run` examples of docs/chasing-leaks.md print what the doc shows,
numbers aside (frame addresses and line numbers move as the code does):
each shown line, with every number replaced by #, must come out in order
("..." in the doc skips lines). Run in the VM_SANITY build, whose output
the doc shows.

    python3 test_chasing_leaks.py --vm PATH
"""

import os
import re
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
DOC = os.path.join(TOP, "docs", "chasing-leaks.md")


def norm(line):
    return re.sub(r"0x[0-9a-f]+|\d+", "#", line.rstrip())


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "--vm":
        sys.exit("usage: test_chasing_leaks.py --vm PATH")
    vm = os.path.abspath(sys.argv[2])
    lines = open(DOC).read().splitlines()
    checked = 0
    for i, line in enumerate(lines):
        if not line.startswith("    $ build-sanity/vm run "):
            continue
        want = []
        for l in lines[i + 1:]:
            if not l.startswith("    ") or l.startswith("    $ "):
                break
            want.append(l[4:])
        args = shlex.split(line[len("    $ build-sanity/vm "):])
        r = subprocess.run([vm] + args, cwd=TOP, capture_output=True, text=True, timeout=60)
        got = [norm(l) for l in (r.stdout + r.stderr).splitlines()]
        k = 0
        skipping = False
        for w in want:
            if w == "...":
                skipping = True
                continue
            n = norm(w)
            while k < len(got) and got[k] != n and skipping:
                k += 1
            if k >= len(got) or got[k] != n:
                sys.exit("docs/chasing-leaks.md line %d: `%s` does not print\n  %s\n"
                         "it printed:\n%s" % (i + 1, line.strip(), w, r.stdout + r.stderr))
            k += 1
            skipping = False
        checked += 1
    if checked < 3:
        sys.exit("only %d examples found in %s" % (checked, DOC))
    print("%d examples of docs/chasing-leaks.md checked" % checked)


if __name__ == "__main__":
    main()
