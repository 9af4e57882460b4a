#!/bin/sh
# Verify that once-torture passes on libonce, and that it fails, naming
# the failure, on each broken control of the test copy of the library
# (tests/once-torture-broken): a tester that cannot fail proves nothing.
# Also that the real library and the installed tool carry no broken
# control. About 15 s.
torture=tools/once-torture
broken=tests/once-torture-broken
lib=lib/.libs/libonce.so
n=0

result()
{
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		printf '%s\n' "$3" | tail -n 15 | sed 's/^/# /'
	fi
}

ms()
{
	echo $(($(date +%s%N) / 1000000))
}

echo 1..8

out=$($torture -t 4 -d 3 -i 0 2>&1)
rc=$?
if [ $rc -eq 0 ] && printf '%s\n' "$out" | tail -n 1 | grep -q ': SUCCESS$'
then
	result ok "a 3 s torture of libonce succeeds"
	printf '%s\n' "$out" | tail -n 1 | sed 's/^/# /'
else
	result fail "a 3 s torture of libonce succeeds (exit $rc)" "$out"
fi

out=$($torture --broken=skip-wake -d 1 2>&1)
rc=$?
if [ $rc -eq 2 ] && printf '%s\n' "$out" | grep -q 'no broken controls'
then
	result ok "the installed once-torture refuses --broken"
else
	result fail "the installed once-torture refuses --broken (exit $rc)" \
		"$out"
fi

out=$($broken -t 4 -d 1 -i 0 2>&1)
rc=$?
if [ $rc -eq 0 ]; then
	result ok "the test copy of libonce passes with no broken control"
else
	result fail "the test copy of libonce passes with no broken control" \
		"$out"
fi

# KIND, the exit status and the "!!!" line that must name the failure.
# A broken copy races on purpose (recycle-early binds an event again while
# its sender reads it): in a ThreadSanitizer build TSan may see that race
# and end the run with its own status, but the torture is the tester whose
# failing is proved here, so TSan's reports are turned off for these runs.
broken_tsan="${TSAN_OPTIONS:+$TSAN_OPTIONS:}report_bugs=0"
for control in \
	'skip-wake 3 !!! hang: thread [0-9]* stuck in once_recv' \
	'deliver-twice 1 !!! .*(duplicated)' \
	'lose-value 1 !!! .*lost' \
	'recycle-early 1 !!! .*EINVAL'
do
	set -- $control
	kind=$1 want=$2
	shift 2
	pattern=$*
	start=$(ms)
	out=$(TSAN_OPTIONS=$broken_tsan \
		$broken --broken="$kind" -t 4 -d 20 -w 2 -i 0 2>&1)
	rc=$?
	took=$(($(ms) - start))
	secs=$((took / 1000)).$((took % 1000 / 100))
	if [ $rc -eq "$want" ] &&
	   printf '%s\n' "$out" | grep -q -- "$pattern" &&
	   printf '%s\n' "$out" | tail -n 1 | grep -q ': FAILURE$'; then
		result ok "--broken=$kind is caught in $secs s"
		printf '%s\n' "$out" | grep -m 1 -- '!!!' | sed 's/^/# /'
	else
		result fail "--broken=$kind is caught (exit $rc, $secs s)" "$out"
	fi
done

# The same search finds the controls of the test copy (a control).
controls()
{
	nm "$1" 2>/dev/null | grep 'once__test_broken\|once__broken_now'
}
if ! controls tests/.libs/libonce-broken.a >/dev/null; then
	result fail "libonce.so has no broken controls" \
		"the search misses those of tests/.libs/libonce-broken.a"
elif found=$(controls "$lib"); then
	result fail "libonce.so has no broken controls" "$found"
else
	result ok "libonce.so has no broken controls"
fi
