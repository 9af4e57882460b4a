#!/bin/sh
# Verify that a program built with ThreadSanitizer and linked with this
# (uninstrumented) libonce gets no false data-race reports for payloads
# handed over by libonce: tests/tsan_user.c under TSan must print "ok"
# and nothing else. Skipped when libonce itself is built with a sanitizer
# (two runtimes do not mix) or the compiler cannot build TSan programs.
srcdir=${srcdir:-.}
CC=${CC:-cc}
LIBTOOL=${LIBTOOL:-./libtool}
case "$CFLAGS" in
*-fsanitize=*)
	echo "1..0 # SKIP libonce itself is built with a sanitizer"
	exit 0 ;;
esac
out=tests/tsan-user
if ! $LIBTOOL --mode=link $CC -std=gnu11 -O1 -g -fsanitize=thread \
	-pthread -I"$srcdir/include" -o $out "$srcdir/tests/tsan_user.c" \
	lib/libonce.la -no-install >$out.log 2>&1; then
	echo "1..0 # SKIP cannot build a TSan program here"
	exit 0
fi
echo "1..1"
res=$(TSAN_OPTIONS=exitcode=66 ./$out 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ "$res" = ok ]; then
	echo "ok 1 - a TSan program sees libonce's hand-offs (no reports)"
else
	echo "not ok 1 - a TSan program reports races through libonce (rc $rc)"
	echo "$res" | head -40 | sed 's/^/# /'
fi
