/*
 * event.c - the thread-safe one-shot event: its state machine.
 *
 * One 32-bit futex word per event holds the state (once-inline.h names
 * the values). This table is the single source of truth; the code below, the
 * comments, the man pages and lib/local.c (the single-threaded twin, the
 * same table without WAITING and LOCKED) follow it. "rx" is the receiver,
 * "tx" the sender; "release" means the endpoint that moved the event to
 * DONE drops the reference the bound pair holds (heap: may free; pool:
 * returns the event; caller storage: nothing). EINVAL entries are a
 * cleared, stale or foreign endpoint and change nothing. "cb" is the
 * callback registered by notify: it runs after the state is published.
 *
 *  state     | send          | sender_close  | rx receive        | receiver_close | notify
 *  ----------+---------------+---------------+-------------------+----------------+----------
 *  UNBOUND   | EINVAL        | EINVAL        | EINVAL            | EINVAL         | EINVAL
 *  BOUND     | SENT*         | TX_CLOSED*    | try: EAGAIN;      | RX_CLOSED      | NOTIFY*
 *            |               |               | wait: WAITING,    |                |
 *            |               |               |  sleep            |                |
 *  WAITING   | SENT*, wake   | TX_CLOSED*,   | sleep; timeout:   | RX_CLOSED      | NOTIFY*
 *            |               |  wake         |  BOUND, ETIMEDOUT |                |
 *  NOTIFY    | SENT*, cb     | TX_CLOSED*,cb | try: EAGAIN;      | RX_CLOSED*, cb | EBUSY
 *            |               |               | wait: EBUSY       |                |
 *  LOCKED    | wait it out   | wait it out   | try: EAGAIN;      | wait it out    | wait it
 *            |               |               | wait: wait it out |                |  out
 *  SENT      | EINVAL        | EINVAL        | DONE, 0, release  | DONE, release, | cb now
 *            |               |               |                   |  dtor(value)   |
 *  TX_CLOSED | EINVAL        | EINVAL        | DONE, EPIPE,      | DONE, release  | cb now
 *            |               |               |  release          |                |
 *  RX_CLOSED | DONE, EPIPE,  | DONE, release | EINVAL            | EINVAL         | EINVAL
 *            |  release      |               |                   |                |
 *  DONE      | EINVAL        | EINVAL        | EINVAL            | EINVAL         | EINVAL
 *
 *  A timed receive that finds BOUND with its deadline passed, before its
 *  spin or after, returns ETIMEDOUT without announcing (the model's
 *  POLLED).
 *  X* = through LOCKED: one CAS takes the event to LOCKED, the caller
 *  moves the callback (notify_, with its argument in value_) or the value,
 *  and one release store publishes X. LOCKED lasts a few instructions; the
 *  other side spins, then yields, until it ends.
 *  bind: UNBOUND -> BOUND (one CAS: of concurrent binds one wins); any
 *  other state is EALREADY; a POOL kind is EINVAL (pools bind their own),
 *  and so is kind 3 (none).
 *  destroy: 0 in UNBOUND and DONE, else EBUSY. Values above LOCKED are
 *  garbage: EINVAL everywhere.
 *
 * Process-shared events (once_attr_setpshared(); their endpoints carry
 * ONCE__TAG_PSHARED, which bind and attach give them) follow the same
 * table with shared futexes, no destructor and no callback, and trust
 * nothing in the event: another process may die in the middle of a
 * transition, or write anything over any field at any time. For them:
 *  - NOTIFY is garbage, as the values above LOCKED: EINVAL in every
 *    column (receives clear rx); notify itself is ENOTSUP in every state;
 *  - "wait it out" is bounded: LOCKED that lasts ONCE__PSHARED_LOCKED_
 *    LIMIT_NS in one call is ENOTRECOVERABLE (a timed receive whose
 *    deadline comes first: ETIMEDOUT, rx usable);
 *  - a call that sees the word move ONCE__PSHARED_MOVES_MAX times (CASes
 *    that fail, sleeps the word refuses, announcements that vanish),
 *    which no live peer causes, returns ENOTRECOVERABLE;
 *  - a timed receive whose take-back CAS failed and that finds BOUND or
 *    WAITING again returns ETIMEDOUT: the sender cannot have put either
 *    back, so the word was written from outside;
 *  - the kind is not read (caller storage), the destructor slot neither
 *    (no dtor), and the spin budget is clamped to ONCE_SPIN_MAX.
 *  ENOTRECOVERABLE consumes the endpoint, as EPIPE does. A peer process
 *  that dies with its endpoint live leaves the event pending for ever:
 *  timed receives time out, destroy stays EBUSY.
 *  attach: for shared events only: UNBOUND -> BOUND if unbound; in any
 *  state up to LOCKED it then gives the caller endpoints (copies, in the
 *  sense of once.h: one copy of each may be used, in any process).
 *
 * once_recv_any() (any.c) is the blocking receive, on several events at
 * once: on each it announces and sleeps as above, and on its way out takes
 * WAITING back to BOUND by CAS as a timeout does, also when it returns
 * with another entry. A take-back that fails finds SENT or TX_CLOSED,
 * which it receives, or leaves with rx live for a later call: rows that
 * exist already. It refuses process-shared entries (ENOTSUP).
 *
 * Rules the code keeps:
 *  - Only rx moves BOUND <-> WAITING, and only by CAS, so a sender's CAS
 *    out of WAITING knows it owes a FUTEX_WAKE and one out of BOUND knows
 *    nobody sleeps. Both sides use read-modify-writes on the one word, so
 *    "I will sleep" and "I sent" are ordered without further fences; the
 *    kernel re-compares the word before sleeping.
 *  - value_ and notify_ are written only by the side that holds LOCKED
 *    (or by init/bind before the event is shared), and read by the other
 *    side only after an acquire of the state that the writer published.
 *    Sharing value_ between the value and the callback's argument keeps
 *    the event at 32 bytes; LOCKED is what that sharing costs: the sender
 *    may no longer write the value before its CAS.
 *  - Cleanup ownership is granted by the transition performed: the side
 *    that moves the event to DONE releases it. After the transition that
 *    lets the other side release (SENT, TX_CLOSED, RX_CLOSED), an endpoint
 *    touches the event no more except for the FUTEX_WAKE, which may land on
 *    reused memory. Anything needed after it (the callback) is read before.
 *  - A consuming call clears its endpoint before that transition too: the
 *    endpoint may sit in memory the peer frees (a request that carries its
 *    reply sender, freed by the client once the reply is in).
 *  - Callbacks and the destructor run after the state is published and
 *    with nothing held, so they may call back into libonce, on this event
 *    too. A callback runs exactly once: on completion, at once if notify
 *    finds the event complete, or from the close that got there first.
 *
 * Model: the transitions above are what a model of this file must encode;
 * change both together. lib/event.pml is that model, checked by spin
 * under make check (tests/model.sh); with -DPSHARED, for a shared event
 * whose sender's process may die at any step; it includes once_recv_any()
 * as seen from one of its events.
 *
 * ABI: include/once-inline.h compiles the commonest rows into programs
 * built with ONCE_INLINE (bind from UNBOUND, send from BOUND through
 * LOCKED, receive from SENT or TX_CLOSED to DONE, destroy in UNBOUND or
 * DONE), and this file starts its functions with the same code. Those
 * rows, the state values, the flag bits and the pool slot's generation
 * offset may change only with the soname.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>

#include "futex.h"
#include "internal.h"

#ifdef ONCE_TEST_HOOKS
void (*once__test_hook)(enum once__hook_point point, once_event_t *ev);
#endif

#ifdef ONCE_TEST_BROKEN
int once__test_broken;

int
once__broken_now(void)
{
	static atomic_uint count;

	return atomic_fetch_add_explicit(&count, 1, memory_order_relaxed) %
	       ONCE__BROKEN_EVERY == 0;
}
#endif

/*
 * Spinning only pays when the sender can run meanwhile. With one CPU
 * allowed (a 1-CPU machine, or taskset), a receiver that spins only delays
 * it: once-bench measured ping-pong 2.5-3.3 times slower with the default
 * spin than with none. Read once, at load; a later affinity change is not
 * seen.
 */
static int once__one_cpu;

__attribute__((constructor)) static void
once__event_ctor(void)
{
	cpu_set_t set;

	once__one_cpu = sched_getaffinity(0, sizeof(set), &set) == 0 &&
			CPU_COUNT(&set) == 1;
}

/*
 * Every event starts as once_event_init() makes it (once-inline.h), then
 * takes its kind and, for channels and pools, a first state.
 */
void
once__event_setup(once_event_t *ev, const once_attr_t *attr,
		  unsigned int kind, uint32_t state)
{
	once__event_init_fast(ev, attr);
	ONCE__VG_ATOMIC(&ev->state_);
	ev->flags_ |= kind;
	atomic_store_explicit(once__state(ev), state, memory_order_release);
}

int
once_event_init(once_event_t *ev, const once_attr_t *attr)
{
	return once__event_init_fast(ev, attr);
}

/* Point the endpoints that are asked for (not NULL) at ev. */
static void
once__endpoints(once_event_t *ev, uintptr_t tag, once_sender_t *tx,
		once_receiver_t *rx)
{
	if (tx) {
		tx->ev_ = ev;
		tx->tag_ = tag;
	}
	if (rx) {
		rx->ev_ = ev;
		rx->tag_ = tag;
	}
}

/*
 * Bind touches the event's 32 bytes and the endpoints, nothing else (a
 * heap event's pair holds its reference from create on), so that no
 * garbage in the event can make it crash. It reads flags_ once: the
 * shared bit decides the endpoints' tag, and that is where the trust
 * lies, so an event that another process may already write to is bound
 * with once_event_attach(), which does not ask the event.
 */
int
once_event_bind(once_event_t *ev, once_sender_t *tx, once_receiver_t *rx)
{
	uint32_t s = ONCE__UNBOUND, flags;
	int err;

	/* For drd: all-zero caller storage is bound without an init. */
	if (ev)
		ONCE__VG_ATOMIC(&ev->state_);
	err = once__event_bind_fast(ev, tx, rx);
	if (err != ONCE__SLOW)
		return err;
	if (!ev || !tx || !rx || (void *)tx == (void *)rx)
		return EINVAL;
	flags = once__flags(ev);
	if ((flags & ONCE__KIND_MASK) > ONCE__KIND_HEAP ||
	    ((flags & ONCE__F_PSHARED) &&
	     (flags & ONCE__KIND_MASK) != ONCE__KIND_CALLER))
		return EINVAL;
	if (!atomic_compare_exchange_strong_explicit(once__state(ev), &s,
						     ONCE__BOUND,
						     memory_order_acq_rel,
						     memory_order_acquire))
		return s <= ONCE__STATE_MAX ? EALREADY : EINVAL;
	once__endpoints(ev, flags & ONCE__F_PSHARED ? ONCE__TAG_PSHARED : 0,
			tx, rx);
	return 0;
}

/*
 * The process-shared bind: the caller says the event is shared, so the
 * endpoints are tagged whatever the event says; its flags only let a
 * private event be refused. One CAS binds it if it is unbound; any other
 * state up to LOCKED was reached through a bind or an attach, in some
 * process, and the caller gets copies of the endpoints.
 */
int
once_event_attach(once_event_t *ev, once_sender_t *tx, once_receiver_t *rx)
{
	uint32_t s = ONCE__UNBOUND;

	if (!ev || (void *)tx == (void *)rx ||
	    (once__flags(ev) & (ONCE__KIND_MASK | ONCE__F_PSHARED)) !=
	    (ONCE__KIND_CALLER | ONCE__F_PSHARED))
		return EINVAL;
	if (!atomic_compare_exchange_strong_explicit(once__state(ev), &s,
						     ONCE__BOUND,
						     memory_order_acq_rel,
						     memory_order_acquire) &&
	    s > ONCE__STATE_MAX)
		return EINVAL;
	once__endpoints(ev, ONCE__TAG_PSHARED, tx, rx);
	return 0;
}

int
once_event_destroy(once_event_t *ev)
{
	uint32_t s;
	int err = once__event_destroy_fast(ev);

	if (err != ONCE__SLOW)
		return err;
	if (!ev || once__kind(ev) != ONCE__KIND_CALLER)
		return EINVAL;
	s = atomic_load_explicit(once__state(ev), memory_order_acquire);
	if (s == ONCE__UNBOUND || s == ONCE__DONE)
		return 0;
	return s <= ONCE__STATE_MAX ? EBUSY : EINVAL;
}

/*
 * Move ev to DONE and drop the pair's reference. The caller performed the
 * transition that made it the last endpoint, and has read every field it
 * still needs: a caller-storage event may be destroyed and reused as soon
 * as DONE is visible. A shared event's kind is not asked: it is caller
 * storage, and its flags may be anybody's.
 */
static void
once__release(once_event_t *ev, int shared)
{
	unsigned int kind = shared ? ONCE__KIND_CALLER : once__kind(ev);

	if (kind == ONCE__KIND_POOL) {
		once__pool_put(ev);	/* stores DONE itself */
		return;
	}
	atomic_store_explicit(once__state(ev), ONCE__DONE,
			      memory_order_release);
	if (kind == ONCE__KIND_HEAP)
		once__heap_put(ev);
}

/*
 * The event of a live endpoint, or NULL: cleared, or a stale copy of a
 * pooled event's endpoint after the pool bound the event again (its
 * generation moved on). A stale endpoint is cleared. The tag is tested
 * first: a shared event's kind may say "pool", and the generation it would
 * read lies outside the event.
 */
once_event_t *
once__endpoint(once_event_t **evp, uintptr_t tag)
{
	once_event_t *ev = *evp;

	if (ev && tag != ONCE__TAG_PSHARED &&
	    once__kind(ev) == ONCE__KIND_POOL && !once__pool_current(ev, tag))
		ev = *evp = NULL;
	return ev;
}

/* Pending, for an event that is shared or not: NOTIFY is garbage there. */
static inline int
once__pending_in(uint32_t s, int shared)
{
	return once__pending(s) && !(shared && s == ONCE__NOTIFY);
}

/*
 * For the queries: is (ev, tag) a live endpoint whose event is still
 * pending? Cleared and stale endpoints are not (and are left as they are).
 */
static int
once__live_pending(const once_event_t *ev, uintptr_t tag)
{
	if (!ev || (tag != ONCE__TAG_PSHARED &&
		    once__kind(ev) == ONCE__KIND_POOL &&
		    !once__pool_current(ev, tag)))
		return 0;
	return once__pending_in(atomic_load_explicit(
		once__state((once_event_t *)ev), memory_order_acquire),
		tag == ONCE__TAG_PSHARED);
}

/*
 * What one call on a process-shared event may still spend on it: see the
 * limits in internal.h. Calls on private events pass NULL for it.
 */
struct once__budget {
	unsigned int moves;		/* the word moved under us */
	int locked_started;		/* locked_end is set */
	struct timespec locked_end;	/* CLOCK_MONOTONIC */
};

/* The word moved once more under a shared call: has it moved too often? */
static inline int
once__moved(struct once__budget *b)
{
	return b && ++b->moves > ONCE__PSHARED_MOVES_MAX;
}

static void
once__ts_add(struct timespec *ts, long ns)
{
	ts->tv_sec += ns / 1000000000L;
	ts->tv_nsec += ns % 1000000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_nsec -= 1000000000L;
		ts->tv_sec++;
	}
}

/*
 * once__unlocked() on a shared event: the holder of LOCKED may be a
 * process that died there, or LOCKED may be garbage. After the private
 * spin and a few yields it naps (nobody will wake it), up to the call's
 * LOCKED limit (ENOTRECOVERABLE) or abstime on clock (ETIMEDOUT), either
 * way setting *err and returning LOCKED.
 */
static uint32_t
once__unlocked_shared(_Atomic uint32_t *st, struct once__budget *b,
		      clockid_t clock, const struct timespec *abstime,
		      int *err)
{
	struct timespec now;
	long nap = 1000;
	uint32_t s;
	int spins = 0;

	while ((s = atomic_load_explicit(st, memory_order_acquire)) ==
	       ONCE__LOCKED) {
		if (++spins < 128) {
			once__cpu_relax();
			continue;
		}
		if (spins < 160) {
			sched_yield();
			continue;
		}
		if (abstime) {
			clock_gettime(clock, &now);
			if (!once__ts_before(&now, abstime)) {
				*err = ETIMEDOUT;
				return s;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!b->locked_started) {
			b->locked_end = now;
			once__ts_add(&b->locked_end,
				     ONCE__PSHARED_LOCKED_LIMIT_NS);
			b->locked_started = 1;
		} else if (!once__ts_before(&now, &b->locked_end)) {
			*err = ENOTRECOVERABLE;
			return s;
		}
		once__futex_nap(st, ONCE__LOCKED, 1, nap);
		if (nap < 1000000)
			nap *= 2;
	}
	return s;
}

/*
 * Wait until the other side leaves LOCKED (it holds the event for a few
 * stores, but may be preempted there). Returns the state it left for, or
 * for a shared event (b not NULL) perhaps LOCKED with *err set (above).
 */
uint32_t
once__unlocked(_Atomic uint32_t *st, struct once__budget *b,
	       clockid_t clock, const struct timespec *abstime, int *err)
{
	uint32_t s;
	int spins = 0;

	if (b)
		return once__unlocked_shared(st, b, clock, abstime, err);
	while ((s = atomic_load_explicit(st, memory_order_acquire)) ==
	       ONCE__LOCKED) {
		if (++spins < 128)
			once__cpu_relax();
		else
			sched_yield();
	}
	return s;
}

/*
 * The sender's half of the table: publish target, SENT (with value) or
 * TX_CLOSED, through LOCKED. Returns 0; EPIPE if the receiver had closed,
 * in which case tx was the last endpoint and released the event; EINVAL
 * for a stale tx; ENOTRECOVERABLE for a shared event that stays LOCKED
 * or keeps moving (the table's notes).
 */
static int
once__tx_finish(once_sender_t *tx, uint32_t target, void *value)
{
	struct once__budget budget = { 0 }, *b = NULL;
	once_notify_fn *fn = NULL;
	void *arg = NULL;
	once_event_t *ev;
	_Atomic uint32_t *st;
	uint32_t s;
	int err = 0;

	if (!tx || !(ev = once__endpoint(&tx->ev_, tx->tag_)))
		return EINVAL;
	if (tx->tag_ == ONCE__TAG_PSHARED)
		b = &budget;
	/*
	 * Consume tx before the event moves on: *tx may live in memory that
	 * the receiver frees as soon as it sees the new state.
	 */
	tx->ev_ = NULL;
	st = once__state(ev);
	s = atomic_load_explicit(st, memory_order_acquire);
	for (;;) {
		if (s == ONCE__LOCKED) {
			s = once__unlocked(st, b, CLOCK_MONOTONIC, NULL, &err);
			if (err)
				return err;
			continue;
		}
		if (s == ONCE__RX_CLOSED) {
			/* The receiver's last writes, *rx's clearing too. */
			once__tsan_acquire(ev);
			/* Broken control: back to the caller and freed. */
			if (ONCE__BROKEN(ONCE__BROKEN_DELIVER_TWICE) && !b &&
			    target == ONCE__SENT && ev->dtor_)
				ev->dtor_(value);
			once__release(ev, b != NULL);
			return EPIPE;
		}
		/* No callback is ever registered on a shared event. */
		if (s != ONCE__BOUND && s != ONCE__WAITING &&
		    (s != ONCE__NOTIFY || b))
			return EINVAL;
		ONCE__HOOK(target == ONCE__SENT ? ONCE__HOOK_SEND_LOADED :
			   ONCE__HOOK_TX_CLOSE_LOADED, ev);
		/* acquire: the callback stored before NOTIFY was published. */
		if (atomic_compare_exchange_weak_explicit(st, &s, ONCE__LOCKED,
				memory_order_acquire, memory_order_acquire))
			break;
		if (once__moved(b))
			return ENOTRECOVERABLE;
	}
	if (s == ONCE__NOTIFY) {
		once__tsan_acquire(ev);
		fn = ev->notify_;
		arg = ev->value_;
		once__wrec_drop(ev);
	}
	ev->value_ = value;
	ONCE__HOOK(ONCE__HOOK_TX_LOCKED, ev);
	once__tsan_release(ev);
	atomic_store_explicit(st, target, memory_order_release);
	ONCE__HOOK(target == ONCE__SENT ? ONCE__HOOK_SEND_PUBLISHED :
		   ONCE__HOOK_TX_CLOSE_PUBLISHED, ev);
	if (s == ONCE__WAITING) {
		if (!ONCE__BROKEN(ONCE__BROKEN_SKIP_WAKE))
			once__futex_wake(st, b != NULL);
	} else if (fn)
		fn(arg);
	return 0;
}

int
once_send(once_sender_t *tx, void *value)
{
	int err = once__send_fast(tx, value);

	return err != ONCE__SLOW ? err : once__tx_finish(tx, ONCE__SENT, value);
}

int
once_sender_close(once_sender_t *tx)
{
	int err = once__tx_finish(tx, ONCE__TX_CLOSED, NULL);

	return err == EPIPE ? 0 : err;
}

int
once_sender_closed(const once_sender_t *tx)
{
	return !tx || !once__live_pending(tx->ev_, tx->tag_);
}

/*
 * Finish a receive in state s (SENT or TX_CLOSED, observed with acquire):
 * rx is the last endpoint and releases the event. A shared event has no
 * destructor: whatever its slot holds is never called.
 */
int
once__take(once_receiver_t *rx, once_event_t *ev, uint32_t s, void **value,
	   int shared)
{
	void *v;
	once_destructor_fn *dtor;

	ONCE__VG_ACQUIRE(ev);
	v = ev->value_;
	dtor = shared ? NULL : ev->dtor_;
	once__tsan_acquire(ev);
	rx->ev_ = NULL;
	once__release(ev, shared);
	return once__deliver(s, v, dtor, value);
}

int
once_tryrecv(once_receiver_t *rx, void **value)
{
	once_event_t *ev;
	uint32_t s;
	int shared, err = once__take_fast(rx, value);

	if (err != ONCE__SLOW)
		return err;
	if (!rx || !(ev = once__endpoint(&rx->ev_, rx->tag_)))
		return EINVAL;
	shared = rx->tag_ == ONCE__TAG_PSHARED;
	s = atomic_load_explicit(once__state(ev), memory_order_acquire);
	if (s == ONCE__SENT || s == ONCE__TX_CLOSED)
		return once__take(rx, ev, s, value, shared);
	if (once__pending_in(s, shared))
		return EAGAIN;
	rx->ev_ = NULL;
	return EINVAL;
}

int
once_receiver_ready(const once_receiver_t *rx)
{
	return !rx || !once__live_pending(rx->ev_, rx->tag_);
}

int
once_receiver_close(once_receiver_t *rx)
{
	struct once__budget budget = { 0 }, *b = NULL;
	once_event_t *ev;
	_Atomic uint32_t *st;
	once_notify_fn *fn;
	void *arg;
	uint32_t s;
	int err = 0;

	if (!rx || !(ev = once__endpoint(&rx->ev_, rx->tag_)))
		return EINVAL;
	if (rx->tag_ == ONCE__TAG_PSHARED)
		b = &budget;
	/* *rx may live in memory the sender frees once it sees RX_CLOSED. */
	rx->ev_ = NULL;
	st = once__state(ev);
	s = atomic_load_explicit(st, memory_order_acquire);
	for (;;) {
		switch (s) {
		case ONCE__BOUND:
		case ONCE__WAITING:
			if (ONCE__BROKEN(ONCE__BROKEN_RECYCLE_EARLY) && !b &&
			    once__kind(ev) == ONCE__KIND_POOL) {
				/*
				 * Broken control: back to the pool with the
				 * sender live (held in LOCKED, it cannot race
				 * us to the release; it finds DONE).
				 */
				if (!atomic_compare_exchange_weak_explicit(st,
						&s, ONCE__LOCKED,
						memory_order_acquire,
						memory_order_acquire))
					continue;
				once__release(ev, 0);
				return 0;
			}
			/*
			 * acq_rel: on success the sender will release the
			 * event and must see our last writes; on failure we
			 * may read value_.
			 */
			ONCE__HOOK(ONCE__HOOK_RX_CLOSE_LOADED, ev);
			once__tsan_release(ev);
			if (!atomic_compare_exchange_weak_explicit(st, &s,
					ONCE__RX_CLOSED, memory_order_acq_rel,
					memory_order_acquire)) {
				if (once__moved(b))
					return ENOTRECOVERABLE;
				continue;
			}
			ONCE__HOOK(ONCE__HOOK_RX_CLOSE_PUBLISHED, ev);
			return 0;
		case ONCE__NOTIFY:
			/* Garbage on a shared event: it has no callback. */
			if (b)
				return EINVAL;
			/* The callback is ours to run: take it out first. */
			if (!atomic_compare_exchange_weak_explicit(st, &s,
					ONCE__LOCKED, memory_order_acquire,
					memory_order_acquire))
				continue;
			fn = ev->notify_;
			arg = ev->value_;
			once__wrec_drop(ev);
			once__tsan_release(ev);
			atomic_store_explicit(st, ONCE__RX_CLOSED,
					      memory_order_release);
			ONCE__HOOK(ONCE__HOOK_RX_CLOSE_PUBLISHED, ev);
			fn(arg);
			return 0;
		case ONCE__LOCKED:
			s = once__unlocked(st, b, CLOCK_MONOTONIC, NULL, &err);
			if (err)
				return err;
			continue;
		case ONCE__SENT:
		case ONCE__TX_CLOSED:
			once__take(rx, ev, s,
				   ONCE__BROKEN(ONCE__BROKEN_LOSE_VALUE) ?
				   &arg : NULL, b != NULL);
			return 0;
		default:
			return EINVAL;
		}
	}
}

/*
 * Register fn(arg): BOUND/WAITING -> LOCKED -> NOTIFY. WAITING is here only
 * if a waiter left it behind (nobody else uses rx meanwhile), so nobody
 * sleeps on it; NOTIFY replaces it. Not on a shared event: the callback
 * would run in the sender's process, from a pointer in shared memory.
 */
int
once_receiver_notify(once_receiver_t *rx, once_notify_fn *fn, void *arg)
{
	struct once__wnote *note = NULL;
	once_event_t *ev;
	_Atomic uint32_t *st;
	uint32_t s;
	int err = 0;

	if (!fn || !rx || !(ev = once__endpoint(&rx->ev_, rx->tag_)))
		return EINVAL;
	if (rx->tag_ == ONCE__TAG_PSHARED)
		return ENOTSUP;
	st = once__state(ev);
	s = atomic_load_explicit(st, memory_order_acquire);
	for (;;) {
		switch (s) {
		case ONCE__BOUND:
		case ONCE__WAITING:
			/*
			 * Only a callback that will wait needs a record: an
			 * event that has completed runs fn below, and cannot
			 * fail. The state may move while malloc runs.
			 */
			if (!note) {
				if (!(note = malloc(sizeof(*note))))
					return ENOMEM;
				once__winfo_init(&note->info, ONCE_WAIT_NOTIFY);
				s = atomic_load_explicit(st,
						memory_order_acquire);
				continue;
			}
			if (!atomic_compare_exchange_weak_explicit(st, &s,
					ONCE__LOCKED, memory_order_acquire,
					memory_order_acquire))
				continue;
			ev->notify_ = fn;
			ev->value_ = arg;
			/*
			 * Listed while LOCKED: the record is the only one of
			 * this callback when the side that takes it drops it.
			 */
			once__wrec_add(&note->rec, ev, once__pool_of(ev),
				       &note->info);
			once__tsan_release(ev);
			atomic_store_explicit(st, ONCE__NOTIFY,
					      memory_order_release);
			return 0;
		case ONCE__LOCKED:
			s = once__unlocked(st, NULL, CLOCK_MONOTONIC, NULL,
					   &err);
			continue;
		case ONCE__NOTIFY:
			err = EBUSY;
			break;
		case ONCE__SENT:
		case ONCE__TX_CLOSED:
			break;
		default:
			rx->ev_ = NULL;
			err = EINVAL;
			break;
		}
		break;
	}
	free(note);
	if (s == ONCE__SENT || s == ONCE__TX_CLOSED)
		fn(arg);
	return err;
}

/*
 * How long a blocking receive on ev spins, in nanoseconds: its budget,
 * clamped (flags_ is read once: a shared event's may be anybody's), or
 * none where spinning cannot pay.
 */
unsigned int
once__spin_budget(const once_event_t *ev)
{
	uint32_t flags = once__flags((once_event_t *)ev);
	unsigned int ns = flags & ONCE__F_SPIN ?
			  flags >> ONCE__SPIN_SHIFT : ONCE__SPIN_DEFAULT;

	if (once__one_cpu)
		return 0;
	return ns > ONCE_SPIN_MAX ? ONCE_SPIN_MAX : ns;
}

/*
 * In *end, the time ns nanoseconds from now on clock, or abstime if that
 * comes first: when a spin, or a slice of once_recv_any()'s sleep, ends.
 * Returns whether abstime has passed already (from the same clock read).
 */
int
once__end_in(struct timespec *end, clockid_t clock, unsigned int ns,
	     const struct timespec *abstime)
{
	struct timespec now;

	clock_gettime(clock, &now);
	*end = now;
	once__ts_add(end, ns);
	if (abstime && once__ts_before(abstime, end))
		*end = *abstime;
	return abstime && !once__ts_before(&now, abstime);
}

/*
 * Spin while the word says BOUND (or LOCKED: a send is under way), for the
 * event's spin budget but not past abstime. The clock is read every few
 * rounds (a vDSO call, 33 ns here), so the budget holds on any CPU without
 * calibration. Returns the last state seen, and in *passed whether abstime
 * had passed at the last clock read. The first read comes before the first
 * round (with no budget it is the only one), so a deadline that has passed
 * is seen before any spin and at its end, by the reads the spin makes.
 */
static uint32_t
once__spin(once_event_t *ev, uint32_t s, clockid_t clock,
	   const struct timespec *abstime, int *passed)
{
	_Atomic uint32_t *st = once__state(ev);
	unsigned int ns = once__spin_budget(ev);
	struct timespec end, now;
	int i;

	if (ns == 0) {
		*passed = abstime && once__passed(clock, abstime);
		return s;
	}
	if ((*passed = once__end_in(&end, clock, ns, abstime)))
		return s;
	for (;;) {
		for (i = 0; i < 16; i++) {
			once__cpu_relax();
			s = atomic_load_explicit(st, memory_order_acquire);
			if (s != ONCE__BOUND && s != ONCE__LOCKED)
				return s;
		}
		clock_gettime(clock, &now);
		if (!once__ts_before(&now, &end)) {
			*passed = abstime && !once__ts_before(&now, abstime);
			return s;
		}
	}
}

/*
 * The blocking receive from state s (longer than a screen: it is the
 * receiving half of the state machine). abstime NULL waits without limit.
 * On a shared event (b) the word may move in ways no peer would move it:
 * see the table's notes for what bounds the loop then.
 */
ONCE__NO_ASAN static int
once__wait_loop(once_receiver_t *rx, once_event_t *ev, uint32_t s,
		void **value, clockid_t clock, const struct timespec *abstime)
{
	struct once__budget budget = { 0 }, *b = NULL;
	_Atomic uint32_t *st = once__state(ev);
	int err = 0, late = 0;

	if (rx->tag_ == ONCE__TAG_PSHARED)
		b = &budget;
	for (;;) {
		switch (s) {
		case ONCE__NOTIFY:
			if (b)
				goto garbage;
			return EBUSY;
		case ONCE__LOCKED:
			err = 0;
			s = once__unlocked(st, b, clock, abstime, &err);
			if (err == ETIMEDOUT)
				return err;
			if (err)
				goto unrecoverable;
			continue;
		case ONCE__SENT:
		case ONCE__TX_CLOSED:
			return once__take(rx, ev, s, value, b != NULL);
		case ONCE__BOUND:
			if (late)
				return ETIMEDOUT;
			if (once__moved(b))
				goto unrecoverable;
			/* Announce the sleep: the sender then owes a wake. */
			if (!atomic_compare_exchange_weak_explicit(st, &s,
					ONCE__WAITING, memory_order_acquire,
					memory_order_acquire))
				continue;
			s = ONCE__WAITING;
			ONCE__HOOK(ONCE__HOOK_WAIT_ANNOUNCED, ev);
			/* fall through */
		case ONCE__WAITING:
			if (late)
				return ETIMEDOUT;
			err = once__futex_wait(st, ONCE__WAITING, b != NULL,
					       clock, abstime);
			if (err == ETIMEDOUT) {
				ONCE__HOOK(ONCE__HOOK_WAIT_TIMED_OUT, ev);
				/*
				 * Take the announcement back so that a later
				 * send skips the wake. If the CAS fails, the
				 * value or the close arrived: take it rather
				 * than report a timeout.
				 */
				s = ONCE__WAITING;
				if (atomic_compare_exchange_strong_explicit(st,
						&s, ONCE__BOUND,
						memory_order_acquire,
						memory_order_acquire))
					return ETIMEDOUT;
				late = b != NULL;
				continue;
			}
			if (err == EAGAIN && once__moved(b))
				goto unrecoverable;
			err = 0;
			s = atomic_load_explicit(st, memory_order_acquire);
			continue;
		default:
			goto garbage;
		}
	}
garbage:
	rx->ev_ = NULL;
	return EINVAL;
unrecoverable:
	rx->ev_ = NULL;
	return ENOTRECOVERABLE;
}

static void
once__wrec_cleanup(void *rec)
{
	once__wrec_del(rec);
}

/*
 * A receive about to sleep: listed for inspection while it waits, and
 * unlisted however the wait ends, cancellation included.
 */
ONCE__NO_ASAN static int
once__wait_listed(once_receiver_t *rx, once_event_t *ev, uint32_t s,
		  void **value, clockid_t clock,
		  const struct timespec *abstime)
{
	struct once__winfo info;
	struct once__wrec rec;
	int err;

	once__winfo_init(&info, abstime ? ONCE_WAIT_TIMED : ONCE_WAIT_BLOCKING);
	/* A shared event's kind is not to be trusted: never a pool's. */
	once__wrec_add(&rec, ev, rx->tag_ == ONCE__TAG_PSHARED ? NULL :
		       once__pool_of(ev), &info);
	pthread_cleanup_push(once__wrec_cleanup, &rec);
	err = once__wait_loop(rx, ev, s, value, clock, abstime);
	pthread_cleanup_pop(1);
	return err;
}

ONCE__NO_ASAN static int
once__wait(once_receiver_t *rx, void **value, clockid_t clock,
	   const struct timespec *abstime)
{
	once_event_t *ev;
	uint32_t s;
	int passed;

	if (!rx || !(ev = once__endpoint(&rx->ev_, rx->tag_)))
		return EINVAL;
	s = atomic_load_explicit(once__state(ev), memory_order_acquire);
	/*
	 * A deadline that has passed (a poll), before the spin or by its
	 * end, costs a clock read: not a batch of spins (0.5 us), nor an
	 * announcement and a futex that times out at once (9 us, up to the
	 * timer slack of 50 us more for a deadline just passed), nor a wake
	 * that the next send would pay for nobody.
	 */
	if (s == ONCE__BOUND) {
		s = once__spin(ev, s, clock, abstime, &passed);
		if (s == ONCE__BOUND && passed)
			return ETIMEDOUT;
	}
	if (s == ONCE__BOUND || s == ONCE__WAITING)
		return once__wait_listed(rx, ev, s, value, clock, abstime);
	return once__wait_loop(rx, ev, s, value, clock, abstime);
}

int
once_recv(once_receiver_t *rx, void **value)
{
	once_event_t *ev;
	uint32_t s;
	int err = once__take_fast(rx, value);

	/* Already there (the common case in a request/reply daemon)? */
	if (err != ONCE__SLOW)
		return err;
	if (rx && (ev = once__endpoint(&rx->ev_, rx->tag_))) {
		s = atomic_load_explicit(once__state(ev), memory_order_acquire);
		if (s == ONCE__SENT || s == ONCE__TX_CLOSED)
			return once__take(rx, ev, s, value,
					  rx->tag_ == ONCE__TAG_PSHARED);
	}
	return once__wait(rx, value, CLOCK_MONOTONIC, NULL);
}

int
once_clockrecv(once_receiver_t *rx, void **value, clockid_t clock,
	       const struct timespec *abstime)
{
	if (!abstime || !once__deadline_valid(clock, abstime))
		return EINVAL;
	return once__wait(rx, value, clock, abstime);
}

int
once_timedrecv(once_receiver_t *rx, void **value,
	       const struct timespec *abstime)
{
	return once_clockrecv(rx, value, CLOCK_REALTIME, abstime);
}
