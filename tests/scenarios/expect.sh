#!/bin/sh
# expect.sh VM SCENARIO EXPECT: run `VM run SCENARIO` (from the scenario's
# directory, by its file name) and compare with EXPECT, whose first line is
# `exit N` (the status `vm run` must end with) and whose other lines are
# exactly what it must print on stdout.
vm=$1 scn=$2 expect=$3
cd "$(dirname "$scn")" || exit 2
want_status=$(head -n 1 "$expect" | sed -n 's/^exit \([0-9]*\)$/\1/p')
[ -n "$want_status" ] || { echo "$expect: first line must be 'exit N'"; exit 2; }
out=$("$vm" run "$(basename "$scn")" 2>/dev/null)
status=$?
want=$(tail -n +2 "$expect")
ok=1
[ "$status" = "$want_status" ] || { echo "exit status $status, expected $want_status"; ok=0; }
if [ "$out" != "$want" ]; then
	echo "output differs from $expect:"
	printf '%s\n' "$want" >/tmp/expect.$$.want
	printf '%s\n' "$out" >/tmp/expect.$$.got
	diff -u /tmp/expect.$$.want /tmp/expect.$$.got
	rm -f /tmp/expect.$$.want /tmp/expect.$$.got
	ok=0
fi
[ $ok = 1 ] && exit 0 || exit 1
