#!/bin/sh
# Verify the model of the thread-safe event (lib/event.pml) with spin:
# exhaustive safety (assertions, invalid end states), then liveness under
# weak fairness (each LTL formula), then that the searches reach every
# interleaving the model marks for coverage and that spin rejects each
# deliberately broken variant: proof that the checks are not vacuous and
# can fail; then the same for process-shared events, whose sender may die
# at any step (-DPSHARED). Prints each search's size as a diagnostic.
# Skipped without spin, or with ONCE_TEST_SKIP_MODEL=1 (CI's sanitizer
# builds: the searches do not depend on the build, so one run is enough).
spin=${SPIN:-spin}
if ! command -v "$spin" >/dev/null 2>&1; then
	echo "1..0 # SKIP no spin"
	exit 0
fi
if [ "${ONCE_TEST_SKIP_MODEL:-0}" = 1 ]; then
	echo "1..0 # SKIP ONCE_TEST_SKIP_MODEL=1"
	exit 0
fi
# pan.c is large and the searches are small: compile it fast, and without
# the build's CFLAGS (a sanitizer build would only slow it down).
cc=${CC:-cc}
model=${srcdir:-.}/lib/event.pml
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
# spin writes pan.* and any trail beside the model: work on a copy.
cp "$model" "$tmp/event.pml" || exit 1
cd "$tmp" || exit 1

echo "1..14"
echo "# $("$spin" -V)"
n=0

# pan_build NAME SPIN-FLAGS CC-FLAGS: generate and compile pan-NAME.
pan_build()
{
	"$spin" $2 -a event.pml >spin-$1.out 2>&1 &&
	$cc -O0 -w $3 -o pan-$1 pan.c >cc-$1.out 2>&1 ||
	{ sed 's/^/# /' spin-$1.out cc-$1.out; return 1; }
}

# pan_run NAME ARGS: run pan-NAME, keep its output in NAME.out, and print
# the size of the search.
pan_run()
{
	run=$1; shift
	./pan-${run%%:*} -m20000 -w20 "$@" >"$run.out" 2>&1
	awk -v name="$run" '
		/depth reached/ {
			for (i = 1; i < NF; i++)
				if ($i == "reached") depth = $(i + 1) + 0
		}
		/states, stored/ {
			stored = $1
			if ($4 ~ /^\(/) visited = " " $4 " visited)"
		}
		/transitions \(/ { trans = $1 }
		/elapsed time/ { t = $(NF - 1) }
		END { printf "# %s: %s states stored%s, %s transitions, " \
		      "depth %s, %s s\n", name, stored, visited, trans, \
		      depth, t }
	' "$run.out"
}

# A clean search: no error, and complete (pan reports a too small depth
# limit as a warning, not an error).
clean()
{
	grep -q 'errors: 0$' "$1.out" &&
	! grep -q 'max search depth too small\|out of memory' "$1.out"
}

# The first error a search reports, as a diagnostic.
first_error()
{
	grep -m1 '^pan:1:' "$1.out" | sed 's/^/# /'
}

ok()
{
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
	fi
}

pan_build safety "" -DSAFETY
ok $? "spin -a and cc build the safety verifier"
if [ -x pan-safety ]; then
	pan_run safety
	clean safety
	rc=$?
	[ $rc = 0 ] || first_error safety
	ok $rc "safety: no assertion fails, no invalid end state"
else
	ok 1 "safety: not run"
fi

pan_build live -DLIVENESS ""
for f in recv_returns released; do
	if [ -x pan-live ]; then
		pan_run live:$f -a -f -N $f
		clean live:$f
		rc=$?
		[ $rc = 0 ] || first_error live:$f
		ok $rc "liveness under weak fairness: $f"
	else
		ok 1 "liveness: $f not run"
	fi
done

# Coverage: -DCOVER asserts at the end of every run that none of the
# marked events happened; each such assertion must fail in some run.
pan_build cover -DCOVER -DSAFETY
if [ -x pan-cover ]; then
	pan_run cover -c0
	missing=$(awk '/^#define [A-Z_]+\t+[0-9]+\t+\/\*/ && cover { print $2, $3 }
		/^ \* Coverage:/ { cover = 1 }
		/^#define NCOVER/ { cover = 0 }' event.pml |
	while read -r point bit; do
		grep -q "seen&(1<<$bit)))" cover.out || printf ' %s' "$point"
	done)
	if [ -z "$missing" ] && grep -q 'seen&(1<<0)))' cover.out; then
		ok 0 "the searches reach every marked interleaving"
	else
		ok 1 "interleavings never reached:${missing:- all}"
	fi
else
	ok 1 "coverage: not built"
fi

# reject NAME WHY EXPECTED ARGS: the search of pan-NAME must find an
# error, the first one matching EXPECTED, for the reason WHY.
reject()
{
	bad=$1 why=$2 want=$3; shift 3
	if [ ! -x pan-${bad%%:*} ]; then
		ok 1 "$bad: not built"
		return
	fi
	pan_run "$bad" "$@"
	first_error "$bad"
	! grep -q 'errors: 0$' "$bad.out" &&
		grep -m1 '^pan:1:' "$bad.out" | grep -q "$want"
	ok $? "spin rejects $bad: $why"
}

pan_build skip_wake -DBROKEN_SKIP_WAKE -DSAFETY
reject skip_wake "lost wake-up, a receiver sleeps forever" \
	"invalid end state"
pan_build skip_wake_live "-DBROKEN_SKIP_WAKE -DLIVENESS" ""
reject skip_wake_live:recv_returns "lost wake-up, once_recv never returns" \
	"acceptance cycle" -a -f -N recv_returns
pan_build rx_close_store -DBROKEN_RX_CLOSE_STORE -DSAFETY
reject rx_close_store "a plain store overwrites the sender's state" \
	"assertion violated"
pan_build timeout_store -DBROKEN_TIMEOUT_STORE -DSAFETY
reject timeout_store "a plain store overwrites the sender's state" \
	"assertion violated"
pan_build late_cb_read -DBROKEN_LATE_CB_READ -DSAFETY
reject late_cb_read "the callback is read after the event may be freed" \
	"assertion violated *!(freed)"

# Process-shared events: a sender that dies at any step.
pan_build pshared -DPSHARED -DSAFETY
if [ -x pan-pshared ]; then
	pan_run pshared
	clean pshared
	rc=$?
	[ $rc = 0 ] || first_error pshared
	ok $rc "pshared safety: a sender that dies at any step, in LOCKED too, never leaves the receiver blocked"
else
	ok 1 "pshared safety: not built"
fi
pan_build pshared_cover "-DPSHARED -DCOVER_PSHARED" -DSAFETY
if [ -x pan-pshared_cover ]; then
	pan_run pshared_cover
	grep -q 'assertion violated  *!(gave_up)' pshared_cover.out
	ok $? "pshared: some run gives up on the LOCKED of a dead sender"
else
	ok 1 "pshared coverage: not built"
fi
pan_build unbounded "-DPSHARED -DBROKEN_UNBOUNDED_LOCKED" -DSAFETY
reject unbounded "a receiver waits for ever on a dead sender's LOCKED" \
	"invalid end state"

pan_build any_retract_store -DBROKEN_ANY_RETRACT_STORE -DSAFETY
reject any_retract_store "once_recv_any's take-back overwrites the sender's state" \
	"assertion violated"
