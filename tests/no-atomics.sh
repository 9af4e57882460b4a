#!/bin/sh
# Verify that the single-threaded twins compile to no atomic instruction
# and no system call: disassemble lib/local.c and lib/local_pool.c as built
# into libonce and look for lock-prefixed instructions, xchg with a memory
# operand (locked implicitly; "xchg %ax,%ax" is a NOP), the calls TSan
# builds make for atomics, and calls to syscall or futex. A control checks
# that the same search finds the atomics of the thread-safe lib/event.c.
# x86 only; skipped elsewhere.
case $(uname -m) in
x86_64|i?86) ;;
*) echo "1..0 # SKIP not x86"; exit 0 ;;
esac
if ! command -v objdump >/dev/null 2>&1; then
	echo "1..0 # SKIP no objdump"
	exit 0
fi

atomics()
{
	objdump -dr "$1" |
	grep -E '[[:space:]]lock([[:space:]]|$)|xchg[^(]*\(|__tsan_atomic|syscall|futex'
}

echo "1..3"
n=1
for o in lib/.libs/libonce_la-local.o lib/.libs/libonce_la-local_pool.o; do
	if [ ! -f "$o" ]; then
		echo "not ok $n - $o not found"
	elif bad=$(atomics "$o"); then
		echo "not ok $n - atomics or syscalls in $o"
		echo "$bad" | sed 's/^/# /'
	else
		echo "ok $n - no atomics or syscalls in $o"
	fi
	n=$((n + 1))
done
if atomics lib/.libs/libonce_la-event.o >/dev/null; then
	echo "ok 3 - the search finds the atomics of event.c (control)"
else
	echo "not ok 3 - the search misses the atomics of event.c"
fi
