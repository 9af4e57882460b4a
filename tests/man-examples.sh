#!/bin/sh
#
# man-examples.sh - compile and run the program in the EXAMPLES section of
# every man page, so that the pages cannot drift from the library.
#
# Run by "make check" as a TAP test, from the build directory, with srcdir,
# CC, CFLAGS, LDFLAGS and LIBTOOL in the environment. A program lies
# between the lines '.\" SRC BEGIN (name.c)' and '.\" SRC END'; it is
# written to tests/man-examples/name.c, linked against lib/libonce.la and
# run. Failures are reported through TAP; the script itself exits 0.

srcdir=${srcdir:-.}
CC=${CC:-cc}
LIBTOOL=${LIBTOOL:-./libtool}
outdir=tests/man-examples

# Programs run for well under a second; a hang must not stall the suite.
if command -v timeout >/dev/null 2>&1; then
	run_limit='timeout 60'
else
	run_limit=
fi

mkdir -p "$outdir" || {
	echo "1..0 # SKIP cannot create $outdir"
	exit 0
}

# Write every program in page $1 to $outdir; print the names written.
# Roff escapes in the code become C again: \e is a backslash, \- a
# hyphen, \(aq an apostrophe, \(dq a quote; \& disappears.
extract()
{
	awk -v dir="$outdir" '
	function unroff(s,    out, c, i) {
		out = ""
		while ((i = index(s, "\\")) > 0) {
			out = out substr(s, 1, i - 1)
			s = substr(s, i + 1)
			c = substr(s, 1, 1)
			if (c == "e") {
				out = out "\\"; s = substr(s, 2)
			} else if (c == "-") {
				out = out "-"; s = substr(s, 2)
			} else if (c == "&") {
				s = substr(s, 2)
			} else if (substr(s, 1, 3) == "(aq") {
				out = out "\047"; s = substr(s, 4)
			} else if (substr(s, 1, 3) == "(dq") {
				out = out "\""; s = substr(s, 4)
			} else {
				out = out "\\"
			}
		}
		return out s
	}
	/^\.\\" SRC BEGIN \(/ {
		name = $0
		sub(/^[^(]*\(/, "", name)
		sub(/\).*$/, "", name)
		file = dir "/" name
		printf "" > file
		print name
		next
	}
	/^\.\\" SRC END/ {
		if (file != "")
			close(file)
		file = ""
		next
	}
	file == "" { next }
	/^\.(EX|EE)[ \t]*$/ { next }
	/^[.\047][ \t]*\\"/ { next }
	{ print unroff($0) > file }
	' "$1"
}

# Count the programs first: TAP wants the plan before the results.
# Alias pages are symlinks (copies, in a dist tarball) of their family's
# page: each program is counted and run once, by name.
n=0
seen=" "
for page in "$srcdir"/man/man3/*.3 "$srcdir"/man/man7/*.7; do
	test -f "$page" || continue
	grep -q 'SRC BEGIN' "$page" || continue
	names=$(extract "$page") || continue
	for name in $names; do
		case "$seen" in *" $name "*) continue ;; esac
		seen="$seen$name "
		n=$((n + 1))
	done
done
if test "$n" -eq 0; then
	echo "1..0 # SKIP no example programs found under $srcdir/man"
	exit 0
fi
echo "1..$n"

k=0
seen=" "
for page in "$srcdir"/man/man3/*.3 "$srcdir"/man/man7/*.7; do
	test -f "$page" || continue
	grep -q 'SRC BEGIN' "$page" || continue
	for name in $(extract "$page"); do
		case "$seen" in *" $name "*) continue ;; esac
		seen="$seen$name "
		k=$((k + 1))
		prog=$outdir/${name%.c}
		# shellcheck disable=SC2086 # CC, CFLAGS and LDFLAGS are lists.
		if ! out=$($LIBTOOL --mode=link $CC -std=gnu11 -Wall -Wextra \
			-Werror $CFLAGS -I"$srcdir/include" -pthread \
			-o "$prog" "$outdir/$name" lib/libonce.la $LDFLAGS \
			-no-install 2>&1); then
			echo "not ok $k - $name (compile failed)"
			printf '%s\n' "$out" | sed 's/^/# /'
			continue
		fi
		if out=$($run_limit "./$prog" 2>&1); then
			echo "ok $k - $name"
		else
			echo "not ok $k - $name (run failed)"
			printf '%s\n' "$out" | sed 's/^/# /'
		fi
	done
done
# libtool leaves an empty .libs behind; distcleancheck needs no more.
rmdir "$outdir/.libs" 2>/dev/null
exit 0
