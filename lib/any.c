/*
 * any.c - once_recv_any(): receive from the first of several receivers.
 *
 * A thread that has asked several workers for something and takes the
 * replies as they come would otherwise poll them, or give each receiver a
 * callback that wakes it. once_recv_any() is several blocking receives in
 * parallel: it runs the receiving half of event.c's table on each event of
 * the array and sleeps on all of their words with one futex_waitv(2). It
 * adds no state and no row to the table. To each of its events it is a
 * blocking receive (event.c's once__wait()) that may also end because
 * another entry completed, and that takes its announcement back on the
 * way out, as a timed-out receive does.
 *
 * The call, on the live entries (cleared ones are skipped):
 *  1. Scan every word (waiting LOCKED out). A stale entry is EINVAL and
 *     one with a callback pending (NOTIFY) is EBUSY, before anything is
 *     taken; otherwise note the lowest complete entry (SENT, TX_CLOSED).
 *     If there is one, go to 6.
 *  2. Spin on every word, for the largest spin budget among the events.
 *  3. Announce, in index order: BOUND -> WAITING by CAS, as once__wait()
 *     does, so that each event's sender owes a FUTEX_WAKE. A word found
 *     complete ends the announcing: go to 6.
 *  4. Sleep on every word at once (futex_waitv, each expecting WAITING),
 *     or as the fallback below does, until abstime.
 *  5. Back to 3: the words still WAITING need no CAS this time. If the
 *     deadline passed, go to 6 with no entry chosen.
 *  6. Take back every announcement (WAITING -> BOUND by CAS). A CAS that
 *     fails means that event completed meanwhile (LOCKED is waited out).
 *     Take the lowest of the chosen entry and those found complete, as
 *     once_recv() would; with none, return ETIMEDOUT.
 *
 * Interleavings, for one event of the array and its sender S (the other
 * events are independent; the call sees them only through their words):
 *  - S sends or closes before the scan, or during the spin: the scan or
 *    the spin sees SENT or TX_CLOSED; this word was not announced.
 *  - S between the spin's last load and the announcing CAS: the CAS fails
 *    on LOCKED, SENT or TX_CLOSED; the reload waits LOCKED out and finds
 *    the event complete.
 *  - S between the announcing CAS and the sleep: S's CAS finds WAITING,
 *    so S makes a FUTEX_WAKE, which finds nobody asleep; futex_waitv then
 *    compares the word under the kernel's lock, finds it moved, and
 *    returns at once (EAGAIN). The announcement and S's transition are
 *    read-modify-writes of the one word, so one sees the other: either S
 *    owes a wake or the sleep does not happen (anchors.md, 1.8: no fence
 *    is assumed of the system call).
 *  - S while the call sleeps: S owes the wake and makes it; a FUTEX_WAKE
 *    on any word of the vector ends futex_waitv.
 *  - S after the call chose another entry but before the take-back: the
 *    CAS WAITING -> BOUND fails, and this event is complete: taken, if it
 *    has the lower index, or left for the next call (or for any receive
 *    or close: SENT and TX_CLOSED with a live receiver are ordinary rows).
 *    S's wake finds nobody asleep on the word, or lands on reused memory
 *    later, which futex.h allows.
 *  - S after the take-back: S finds BOUND and skips the wake.
 *  - The deadline passes (futex_waitv says ETIMEDOUT, or the deadline was
 *    past already): the take-back's CAS tells whether S got in first (the
 *    CAS fails: its value is taken rather than ETIMEDOUT reported, as
 *    once__wait() does) or not (BOUND again: ETIMEDOUT, with every
 *    receiver as it was before the call).
 *  - A wake-up meant for an earlier life of the memory, a signal handler
 *    (EINTR), another word that moved (EAGAIN): step 3 finds nothing
 *    complete and every word WAITING, and the call sleeps again until the
 *    same absolute deadline. Never EINTR.
 *  - Cancellation in the sleep (asynchronous, for the system call only):
 *    the announced words stay WAITING. Every row of the table handles a
 *    WAITING that nobody sleeps on (event.c's rules): a send wakes nobody,
 *    receiver_close and notify replace it, and the next receive, or the
 *    next once_recv_any(), takes it for its own announcement.
 *  - S's peer is this thread: only the receiver's owner closes it or
 *    registers a callback, so no word becomes RX_CLOSED or NOTIFY during
 *    the call, and no event but the taken one is released (the others
 *    keep a live receiver): their memory stays valid for the take-back.
 *    The taken event is released last, and not touched afterwards.
 *
 * The fallback. A kernel without futex_waitv (before Linux 5.16, or one
 * whose seccomp filter refuses it, or valgrind: ENOSYS or EPERM) is found
 * out by the first call that tries, and remembered for the process. The
 * call then announces on every word as above, but sleeps with FUTEX_WAIT
 * on the word of its lowest live entry only, for a slice of 125 us that
 * doubles with each slice up to 2 ms, and looks at every word after each
 * slice. A value on the lowest entry wakes it at once; one on another
 * entry is seen when the slice ends: up to 2 ms late, and a long idle
 * wait wakes 500 times a second. ENOMEM from futex_waitv (the kernel
 * allocates the vector) takes the fallback for one slice.
 */
#include <errno.h>
#include <stddef.h>
#include <time.h>

#include "futex.h"
#include "internal.h"

_Static_assert(ONCE_RECV_ANY_MAX == ONCE__WAITV_MAX &&
	       ONCE_RECV_ANY_MAX <= UINT8_MAX + 1,
	       "one futex_waitv call covers the array; live[] holds indices");

#ifdef ONCE_TEST_HOOKS
int once__test_no_waitv;
#endif

/* The fallback's slices, in nanoseconds. */
#define ONCE__SLICE_FIRST	125000u
#define ONCE__SLICE_MAX		2000000u

/* Set when futex_waitv said ENOSYS: it will not work in this process. */
static atomic_int once__no_waitv;

/* A call's live entries, by their index in rxs, ascending. */
struct once__any {
	once_receiver_t *rxs;
	unsigned int n;
	unsigned int slice;		/* the fallback's next slice, ns */
	uint8_t live[ONCE_RECV_ANY_MAX];
};

static inline _Atomic uint32_t *
once__any_word(const struct once__any *a, int k)
{
	return once__state(a->rxs[a->live[k]].ev_);
}

/* Wait out LOCKED: a private event's, which ends (event.c). */
static inline uint32_t
once__any_unlocked(_Atomic uint32_t *st)
{
	int err = 0;

	return once__unlocked(st, NULL, CLOCK_MONOTONIC, NULL, &err);
}

static inline int
once__complete(uint32_t s)
{
	return s == ONCE__SENT || s == ONCE__TX_CLOSED;
}

/*
 * Step 1. Fills a->live; *done is the position in live of the lowest
 * complete entry, or -1. Returns 0; EINVAL for a stale entry, which is
 * cleared, EBUSY for one with a callback pending, or ENOTSUP for a
 * process-shared one, with its index in *index.
 */
static int
once__any_scan(struct once__any *a, size_t n, int *done, size_t *index)
{
	once_receiver_t *rx;
	once_event_t *ev;
	uint32_t s;
	size_t i;

	*done = -1;
	a->n = 0;
	for (i = 0; i < n; i++) {
		rx = &a->rxs[i];
		if (!rx->ev_)
			continue;
		/* Its words are not to be trusted: see event.c's table. */
		if (rx->tag_ == ONCE__TAG_PSHARED) {
			*index = i;
			return ENOTSUP;
		}
		if (!(ev = once__endpoint(&rx->ev_, rx->tag_))) {
			*index = i;
			return EINVAL;
		}
		s = atomic_load_explicit(once__state(ev), memory_order_acquire);
		if (s == ONCE__LOCKED)
			s = once__any_unlocked(once__state(ev));
		if (s == ONCE__NOTIFY) {
			*index = i;
			return EBUSY;
		}
		if (!once__complete(s) && s != ONCE__BOUND &&
		    s != ONCE__WAITING) {
			rx->ev_ = NULL;
			*index = i;
			return EINVAL;
		}
		if (*done < 0 && once__complete(s))
			*done = (int)a->n;
		a->live[a->n++] = (uint8_t)i;
	}
	return 0;
}

/* Step 2: spin on every word, as once__spin() does on one. */
static void
once__any_spin(const struct once__any *a, clockid_t clock,
	       const struct timespec *abstime)
{
	struct timespec end, now;
	unsigned int ns = 0, budget, loads;
	int k;

	for (k = 0; k < (int)a->n; k++) {
		budget = once__spin_budget(a->rxs[a->live[k]].ev_);
		if (budget > ns)
			ns = budget;
	}
	if (ns == 0)
		return;
	once__end_in(&end, clock, ns, abstime);
	for (;;) {
		for (loads = 0; loads < 16; loads += a->n) {
			once__cpu_relax();
			for (k = 0; k < (int)a->n; k++)
				if (once__complete(atomic_load_explicit(
						once__any_word(a, k),
						memory_order_acquire)))
					return;
		}
		clock_gettime(clock, &now);
		if (!once__ts_before(&now, &end))
			return;
	}
}

/*
 * Step 3: announce the sleep on every word, in index order. Returns the
 * position of the first entry found complete, or -1 with every word
 * WAITING.
 */
static int
once__any_announce(const struct once__any *a)
{
	_Atomic uint32_t *st;
	uint32_t s;
	int k;

	for (k = 0; k < (int)a->n; k++) {
		st = once__any_word(a, k);
		s = atomic_load_explicit(st, memory_order_acquire);
		for (;;) {
			if (s == ONCE__LOCKED)
				s = once__any_unlocked(st);
			if (once__complete(s))
				return k;
			/* WAITING: announced already, by this call or one
			 * that was cancelled. */
			if (s != ONCE__BOUND)
				break;
			/* The sender then owes a wake. A failure reloads s. */
			if (atomic_compare_exchange_weak_explicit(st, &s,
					ONCE__WAITING, memory_order_acquire,
					memory_order_acquire))
				break;
		}
	}
	return -1;
}

static int
once__waitv_missing(void)
{
#ifdef ONCE_TEST_HOOKS
	if (once__test_no_waitv)
		return 1;
#endif
	return atomic_load_explicit(&once__no_waitv, memory_order_relaxed);
}

/*
 * The fallback's step 4: sleep on the lowest entry's word for a slice, or
 * until abstime if that comes first. Returns 0, or ETIMEDOUT once abstime
 * has passed.
 */
ONCE__NO_ASAN static int
once__any_slice(struct once__any *a, clockid_t clock,
		const struct timespec *abstime)
{
	struct timespec end;
	int last;

	once__end_in(&end, clock, a->slice, abstime);
	last = abstime && !once__ts_before(&end, abstime);
	if (a->slice < ONCE__SLICE_MAX)
		a->slice *= 2;
	ONCE__HOOK(ONCE__HOOK_ANY_SLICE, a->rxs[a->live[0]].ev_);
	if (once__futex_wait(once__any_word(a, 0), ONCE__WAITING, 0, clock,
			     &end) == ETIMEDOUT && last)
		return ETIMEDOUT;
	return 0;
}

/* Step 4: sleep until a word moves or abstime. Returns 0 or ETIMEDOUT. */
ONCE__NO_ASAN static int
once__any_sleep(struct once__any *a, clockid_t clock,
		const struct timespec *abstime)
{
	struct once__waitv w[ONCE_RECV_ANY_MAX];
	int k, err;

	/*
	 * A deadline that has passed (a poll) costs a clock read, not a
	 * sleep until the kernel's timer fires: 12 us with futex_waitv, and
	 * up to the timer slack (50 us) with FUTEX_WAIT, measured.
	 */
	if (abstime && once__passed(clock, abstime))
		return ETIMEDOUT;
	if (once__waitv_missing())
		return once__any_slice(a, clock, abstime);
	for (k = 0; k < (int)a->n; k++) {
		w[k].val = ONCE__WAITING;
		w[k].uaddr = (uintptr_t)once__any_word(a, k);
		w[k].flags = ONCE__FUTEX_32 | FUTEX_PRIVATE_FLAG;
		w[k].reserved = 0;
	}
	ONCE__HOOK(ONCE__HOOK_ANY_WAITV, a->rxs[a->live[0]].ev_);
	err = once__futex_waitv(w, a->n, clock, abstime);
	if (err == ENOSYS)
		atomic_store_explicit(&once__no_waitv, 1,
				      memory_order_relaxed);
	if (err == ENOSYS || err == ENOMEM)
		return once__any_slice(a, clock, abstime);
	return err;
}

/* Inspection's view of a call that sleeps: one record per entry. */
struct once__any_listed {
	const struct once__any *a;
	struct once__wrec *recs;
};

static void
once__any_unlist(void *arg)
{
	struct once__any_listed *l = arg;
	unsigned int k;

	for (k = 0; k < l->a->n; k++)
		once__wrec_del(&l->recs[k]);
}

/*
 * Steps 3 to 5: announce on every word and sleep until one moves or
 * abstime, listed for inspection (once_event_inspect() and friends) on
 * each event while it sleeps, and unlisted however it ends, cancellation
 * included. Returns as once__any_announce() does.
 */
ONCE__NO_ASAN static int
once__any_wait(struct once__any *a, clockid_t clock,
	       const struct timespec *abstime)
{
	struct once__wrec recs[ONCE_RECV_ANY_MAX];
	struct once__any_listed l = { a, recs };
	struct once__winfo info;
	once_event_t *ev;
	unsigned int i;
	int k;

	if ((k = once__any_announce(a)) >= 0)
		return k;
	once__winfo_init(&info, abstime ? ONCE_WAIT_TIMED :
			 ONCE_WAIT_BLOCKING);
	for (i = 0; i < a->n; i++) {
		ev = a->rxs[a->live[i]].ev_;
		once__wrec_add(&recs[i], ev, once__pool_of(ev), &info);
	}
	pthread_cleanup_push(once__any_unlist, &l);
	while (once__any_sleep(a, clock, abstime) != ETIMEDOUT &&
	       (k = once__any_announce(a)) < 0)
		;
	pthread_cleanup_pop(1);
	return k;
}

/*
 * Step 6: take back every announcement, so that the senders skip their
 * wake again. Returns the lower of done and the position of the first
 * entry found complete (its sender got in first), or -1 for none.
 */
static int
once__any_retract(const struct once__any *a, int done)
{
	_Atomic uint32_t *st;
	uint32_t s;
	int k;

	for (k = 0; k < (int)a->n; k++) {
		st = once__any_word(a, k);
		s = atomic_load_explicit(st, memory_order_acquire);
		if (s == ONCE__WAITING &&
		    atomic_compare_exchange_strong_explicit(st, &s,
				ONCE__BOUND, memory_order_acquire,
				memory_order_acquire))
			continue;
		if (s == ONCE__LOCKED)
			s = once__any_unlocked(st);
		if (once__complete(s) && (done < 0 || k < done))
			done = k;
	}
	return done;
}

ONCE__NO_ASAN int
once_recv_any(once_receiver_t *rxs, size_t n, size_t *index, void **value,
	      clockid_t clock, const struct timespec *abstime)
{
	struct once__any a;
	once_receiver_t *rx;
	int k, err;

	if (!rxs || !index || n == 0 || n > ONCE_RECV_ANY_MAX ||
	    !once__deadline_valid(clock, abstime))
		return EINVAL;
	a.rxs = rxs;
	a.slice = ONCE__SLICE_FIRST;
	if ((err = once__any_scan(&a, n, &k, index)))
		return err;
	if (a.n == 0)
		return EINVAL;
	if (k < 0) {
		once__any_spin(&a, clock, abstime);
		if ((k = once__any_wait(&a, clock, abstime)) < 0)
			ONCE__HOOK(ONCE__HOOK_ANY_TIMED_OUT,
				   a.rxs[a.live[0]].ev_);
	}
	if ((k = once__any_retract(&a, k)) < 0)
		return ETIMEDOUT;
	rx = &rxs[a.live[k]];
	*index = a.live[k];
	return once__take(rx, rx->ev_, atomic_load_explicit(
			  once__state(rx->ev_), memory_order_acquire), value, 0);
}
