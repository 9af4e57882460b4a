#!/bin/sh
# Verify that libonce exports exactly the functions once.h declares, each
# from the version script, and that each has a man page of its name.
lib=lib/.libs/libonce.so
hdr=${srcdir:-.}/include/once.h
man=${srcdir:-.}/man/man3
echo 1..3
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort)
declared=$(sed -n 's/^ONCE_API [^(]*[ *]\(once_[a-z_]*\)(.*/\1/p' "$hdr" | sort -u)
if [ -n "$exported" ] && [ "$exported" = "$declared" ]; then
	echo "ok 1 - exported symbols match once.h"
else
	echo "not ok 1 - exported symbols differ from once.h"
	diff -u /dev/fd/3 /dev/fd/4 3<<E 4<<D | sed 's/^/# /'
$exported
E
$declared
D
fi
if nm -D --defined-only "$lib" | grep -q ' once__'; then
	echo "not ok 2 - internal once__ symbols leak"
else
	echo "ok 2 - no internal symbols exported"
fi
missing=
for f in $declared; do
	[ -f "$man/$f.3" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then
	echo "ok 3 - every public function has a man page"
else
	echo "not ok 3 - no man page for:$missing"
fi
