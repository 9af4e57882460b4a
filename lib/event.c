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
 *  X* = through LOCKED: one CAS takes the event to LOCKED, the caller
 *  moves the callback (notify_, with its argument in value_) or the value,
 *  and one release store publishes X. LOCKED lasts a few instructions; the
 *  other side spins, then yields, until it ends.
 *  bind: UNBOUND -> BOUND (one CAS: of concurrent binds one wins); any
 *  other state is EALREADY. destroy: 0 in UNBOUND and DONE, else EBUSY.
 *  Values above LOCKED are garbage: EINVAL everywhere.
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
 * change both together.
 *
 * ABI: include/once-inline.h compiles the commonest rows into programs
 * built with ONCE_INLINE (bind from UNBOUND, send from BOUND through
 * LOCKED, receive from SENT or TX_CLOSED to DONE, destroy in UNBOUND or
 * DONE), and this file starts its functions with the same code. Those
 * rows, the state values, the flag bits and the pool slot's generation
 * offset may change only with the soname.
 */
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <time.h>

#include "futex.h"
#include "internal.h"

#ifdef ONCE_TEST_HOOKS
void (*once__test_hook)(enum once__hook_point point, once_event_t *ev);
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

int
once_event_bind(once_event_t *ev, once_sender_t *tx, once_receiver_t *rx)
{
	uint32_t s = ONCE__UNBOUND;
	int err;

	/* For drd: all-zero caller storage is bound without an init. */
	if (ev)
		ONCE__VG_ATOMIC(&ev->state_);
	err = once__event_bind_fast(ev, tx, rx);
	if (err != ONCE__SLOW)
		return err;
	if (!ev || !tx || !rx || (void *)tx == (void *)rx)
		return EINVAL;
	if (!atomic_compare_exchange_strong_explicit(once__state(ev), &s,
						     ONCE__BOUND,
						     memory_order_acq_rel,
						     memory_order_acquire))
		return s <= ONCE__STATE_MAX ? EALREADY : EINVAL;
	/* The pair's reference; the caller's own keeps ev alive till here. */
	if (once__kind(ev) == ONCE__KIND_HEAP)
		atomic_fetch_add_explicit(&once__heap_of(ev)->refs, 1,
					  memory_order_relaxed);
	tx->ev_ = ev;
	tx->tag_ = 0;
	rx->ev_ = ev;
	rx->tag_ = 0;
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
 * as DONE is visible.
 */
static void
once__release(once_event_t *ev)
{
	unsigned int kind = once__kind(ev);

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
 * generation moved on). A stale endpoint is cleared.
 */
static once_event_t *
once__endpoint(once_event_t **evp, uintptr_t tag)
{
	once_event_t *ev = *evp;

	if (ev && once__kind(ev) == ONCE__KIND_POOL &&
	    !once__pool_current(ev, tag))
		ev = *evp = NULL;
	return ev;
}

/*
 * For the queries: is (ev, tag) a live endpoint whose event is still
 * pending? Cleared and stale endpoints are not (and are left as they are).
 */
static int
once__live_pending(const once_event_t *ev, uintptr_t tag)
{
	if (!ev || (once__kind(ev) == ONCE__KIND_POOL &&
		    !once__pool_current(ev, tag)))
		return 0;
	return once__pending(atomic_load_explicit(
		once__state((once_event_t *)ev), memory_order_acquire));
}

static inline void
once__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

/*
 * Wait until the other side leaves LOCKED (it holds the event for a few
 * stores, but may be preempted there). Returns the state it left for.
 */
static uint32_t
once__unlocked(_Atomic uint32_t *st)
{
	uint32_t s;
	int spins = 0;

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
 * for a stale tx.
 */
static int
once__tx_finish(once_sender_t *tx, uint32_t target, void *value)
{
	once_notify_fn *fn = NULL;
	void *arg = NULL;
	once_event_t *ev;
	_Atomic uint32_t *st;
	uint32_t s;

	if (!tx || !(ev = once__endpoint(&tx->ev_, tx->tag_)))
		return EINVAL;
	/*
	 * Consume tx before the event moves on: *tx may live in memory that
	 * the receiver frees as soon as it sees the new state.
	 */
	tx->ev_ = NULL;
	st = once__state(ev);
	s = atomic_load_explicit(st, memory_order_acquire);
	for (;;) {
		if (s == ONCE__LOCKED) {
			s = once__unlocked(st);
			continue;
		}
		if (s == ONCE__RX_CLOSED) {
			/* The receiver's last writes, *rx's clearing too. */
			once__tsan_acquire(ev);
			once__release(ev);
			return EPIPE;
		}
		if (s != ONCE__BOUND && s != ONCE__WAITING &&
		    s != ONCE__NOTIFY)
			return EINVAL;
		ONCE__HOOK(target == ONCE__SENT ? ONCE__HOOK_SEND_LOADED :
			   ONCE__HOOK_TX_CLOSE_LOADED, ev);
		/* acquire: the callback stored before NOTIFY was published. */
		if (atomic_compare_exchange_weak_explicit(st, &s, ONCE__LOCKED,
				memory_order_acquire, memory_order_acquire))
			break;
	}
	if (s == ONCE__NOTIFY) {
		once__tsan_acquire(ev);
		fn = ev->notify_;
		arg = ev->value_;
	}
	ev->value_ = value;
	ONCE__HOOK(ONCE__HOOK_TX_LOCKED, ev);
	once__tsan_release(ev);
	atomic_store_explicit(st, target, memory_order_release);
	ONCE__HOOK(target == ONCE__SENT ? ONCE__HOOK_SEND_PUBLISHED :
		   ONCE__HOOK_TX_CLOSE_PUBLISHED, ev);
	if (s == ONCE__WAITING)
		once__futex_wake(st);
	else if (fn)
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
 * rx is the last endpoint and releases the event.
 */
static int
once__take(once_receiver_t *rx, once_event_t *ev, uint32_t s, void **value)
{
	void *v;
	once_destructor_fn *dtor;

	ONCE__VG_ACQUIRE(ev);
	v = ev->value_;
	dtor = ev->dtor_;
	once__tsan_acquire(ev);
	rx->ev_ = NULL;
	once__release(ev);
	return once__deliver(s, v, dtor, value);
}

int
once_tryrecv(once_receiver_t *rx, void **value)
{
	once_event_t *ev;
	uint32_t s;
	int err = once__take_fast(rx, value);

	if (err != ONCE__SLOW)
		return err;
	if (!rx || !(ev = once__endpoint(&rx->ev_, rx->tag_)))
		return EINVAL;
	s = atomic_load_explicit(once__state(ev), memory_order_acquire);
	if (s == ONCE__SENT || s == ONCE__TX_CLOSED)
		return once__take(rx, ev, s, value);
	if (once__pending(s))
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
	once_event_t *ev;
	_Atomic uint32_t *st;
	once_notify_fn *fn;
	void *arg;
	uint32_t s;

	if (!rx || !(ev = once__endpoint(&rx->ev_, rx->tag_)))
		return EINVAL;
	/* *rx may live in memory the sender frees once it sees RX_CLOSED. */
	rx->ev_ = NULL;
	st = once__state(ev);
	s = atomic_load_explicit(st, memory_order_acquire);
	for (;;) {
		switch (s) {
		case ONCE__BOUND:
		case ONCE__WAITING:
			/*
			 * acq_rel: on success the sender will release the
			 * event and must see our last writes; on failure we
			 * may read value_.
			 */
			ONCE__HOOK(ONCE__HOOK_RX_CLOSE_LOADED, ev);
			once__tsan_release(ev);
			if (!atomic_compare_exchange_weak_explicit(st, &s,
					ONCE__RX_CLOSED, memory_order_acq_rel,
					memory_order_acquire))
				continue;
			ONCE__HOOK(ONCE__HOOK_RX_CLOSE_PUBLISHED, ev);
			return 0;
		case ONCE__NOTIFY:
			/* The callback is ours to run: take it out first. */
			if (!atomic_compare_exchange_weak_explicit(st, &s,
					ONCE__LOCKED, memory_order_acquire,
					memory_order_acquire))
				continue;
			fn = ev->notify_;
			arg = ev->value_;
			once__tsan_release(ev);
			atomic_store_explicit(st, ONCE__RX_CLOSED,
					      memory_order_release);
			ONCE__HOOK(ONCE__HOOK_RX_CLOSE_PUBLISHED, ev);
			fn(arg);
			return 0;
		case ONCE__LOCKED:
			s = once__unlocked(st);
			continue;
		case ONCE__SENT:
		case ONCE__TX_CLOSED:
			once__take(rx, ev, s, NULL);
			return 0;
		default:
			return EINVAL;
		}
	}
}

/*
 * Register fn(arg): BOUND/WAITING -> LOCKED -> NOTIFY. WAITING is here only
 * if a waiter left it behind (nobody else uses rx meanwhile), so nobody
 * sleeps on it; NOTIFY replaces it.
 */
int
once_receiver_notify(once_receiver_t *rx, once_notify_fn *fn, void *arg)
{
	once_event_t *ev;
	_Atomic uint32_t *st;
	uint32_t s;

	if (!fn || !rx || !(ev = once__endpoint(&rx->ev_, rx->tag_)))
		return EINVAL;
	st = once__state(ev);
	s = atomic_load_explicit(st, memory_order_acquire);
	for (;;) {
		switch (s) {
		case ONCE__BOUND:
		case ONCE__WAITING:
			if (!atomic_compare_exchange_weak_explicit(st, &s,
					ONCE__LOCKED, memory_order_acquire,
					memory_order_acquire))
				continue;
			ev->notify_ = fn;
			ev->value_ = arg;
			once__tsan_release(ev);
			atomic_store_explicit(st, ONCE__NOTIFY,
					      memory_order_release);
			return 0;
		case ONCE__LOCKED:
			s = once__unlocked(st);
			continue;
		case ONCE__NOTIFY:
			return EBUSY;
		case ONCE__SENT:
		case ONCE__TX_CLOSED:
			fn(arg);
			return 0;
		default:
			rx->ev_ = NULL;
			return EINVAL;
		}
	}
}

static inline int
once__ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/*
 * Spin while the word says BOUND (or LOCKED: a send is under way), for the
 * event's spin budget but not past
 * abstime. The clock is read every few rounds (a vDSO call), so the budget
 * holds on any CPU without calibration. Returns the last state seen.
 */
static uint32_t
once__spin(once_event_t *ev, uint32_t s, clockid_t clock,
	   const struct timespec *abstime)
{
	_Atomic uint32_t *st = once__state(ev);
	unsigned int ns = ev->flags_ & ONCE__F_SPIN ?
			  ev->flags_ >> ONCE__SPIN_SHIFT : ONCE__SPIN_DEFAULT;
	struct timespec end, now;
	int i;

	if (ns == 0 || once__one_cpu)
		return s;
	clock_gettime(clock, &end);
	end.tv_nsec += ns;
	while (end.tv_nsec >= 1000000000L) {
		end.tv_nsec -= 1000000000L;
		end.tv_sec++;
	}
	if (abstime && once__ts_before(abstime, &end))
		end = *abstime;
	for (;;) {
		for (i = 0; i < 16; i++) {
			once__cpu_relax();
			s = atomic_load_explicit(st, memory_order_acquire);
			if (s != ONCE__BOUND && s != ONCE__LOCKED)
				return s;
		}
		clock_gettime(clock, &now);
		if (!once__ts_before(&now, &end))
			return s;
	}
}

/*
 * The blocking receive (longer than a screen: it is the receiving half of
 * the state machine). abstime NULL waits without limit.
 */
static int
once__wait(once_receiver_t *rx, void **value, clockid_t clock,
	   const struct timespec *abstime)
{
	once_event_t *ev;
	_Atomic uint32_t *st;
	uint32_t s;

	if (!rx || !(ev = once__endpoint(&rx->ev_, rx->tag_)))
		return EINVAL;
	st = once__state(ev);
	s = atomic_load_explicit(st, memory_order_acquire);
	if (s == ONCE__BOUND)
		s = once__spin(ev, s, clock, abstime);
	for (;;) {
		switch (s) {
		case ONCE__NOTIFY:
			return EBUSY;
		case ONCE__LOCKED:
			s = once__unlocked(st);
			continue;
		case ONCE__SENT:
		case ONCE__TX_CLOSED:
			return once__take(rx, ev, s, value);
		case ONCE__BOUND:
			/* Announce the sleep: the sender then owes a wake. */
			if (!atomic_compare_exchange_weak_explicit(st, &s,
					ONCE__WAITING, memory_order_acquire,
					memory_order_acquire))
				continue;
			s = ONCE__WAITING;
			ONCE__HOOK(ONCE__HOOK_WAIT_ANNOUNCED, ev);
			/* fall through */
		case ONCE__WAITING:
			if (once__futex_wait(st, ONCE__WAITING, clock,
					     abstime) == ETIMEDOUT) {
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
				continue;
			}
			s = atomic_load_explicit(st, memory_order_acquire);
			continue;
		default:
			rx->ev_ = NULL;
			return EINVAL;
		}
	}
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
			return once__take(rx, ev, s, value);
	}
	return once__wait(rx, value, CLOCK_MONOTONIC, NULL);
}

int
once_clockrecv(once_receiver_t *rx, void **value, clockid_t clock,
	       const struct timespec *abstime)
{
	if ((clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) ||
	    !abstime || abstime->tv_nsec < 0 ||
	    abstime->tv_nsec >= 1000000000L)
		return EINVAL;
	return once__wait(rx, value, clock, abstime);
}

int
once_timedrecv(once_receiver_t *rx, void **value,
	       const struct timespec *abstime)
{
	return once_clockrecv(rx, value, CLOCK_REALTIME, abstime);
}
