/*
 * internal.h - internal: event layout, states and accessors shared by the
 * files of lib/. Never installed.
 */
#ifndef ONCE_INTERNAL_H
#define ONCE_INTERNAL_H

#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include <errno.h>

#include "once.h"

#define ONCE__HIDDEN __attribute__((visibility("hidden")))

/*
 * ThreadSanitizer cannot see libonce's atomics when libonce is built
 * without it (always, for a user's TSan program linked to the installed
 * library), nor liburcu's inline asm in any build: these calls tell it
 * about the hand-offs programs rely on. The references are weak: null,
 * and skipped, unless the TSan runtime is in the process.
 */
extern void __tsan_acquire(void *addr) __attribute__((weak));
extern void __tsan_release(void *addr) __attribute__((weak));

/*
 * Valgrind's thread checker drd cannot see atomics either, and it sees the
 * library's own plain accesses. A test-only copy built with
 * ONCE_TEST_VALGRIND (for make check-drd; never installed) tells it about
 * the same hand-offs with client requests; elsewhere these are nothing.
 * ONCE__VG_RELEASE/ACQUIRE: a happens-before edge from a release to the
 * acquire that observes it, keyed by address (drd orders an ACQUIRE after
 * every thread's latest RELEASE on that address). ONCE__VG_ACQUIRE goes
 * before the reads it orders. ONCE__VG_ATOMIC: a word only ever accessed
 * atomically, which drd cannot tell from a plain one: no race to report
 * on it (concurrent atomics are not a data race).
 */
#if defined(ONCE_TEST_VALGRIND) && defined(__has_include)
#if __has_include(<valgrind/drd.h>)
#include <valgrind/drd.h>
#define ONCE__VG_RELEASE(addr)	ANNOTATE_HAPPENS_BEFORE(addr)
#define ONCE__VG_ACQUIRE(addr)	ANNOTATE_HAPPENS_AFTER(addr)
#define ONCE__VG_ATOMIC(word) \
	ANNOTATE_BENIGN_RACE_SIZED(word, sizeof(*(word)), "atomic word")
#endif
#endif
#ifndef ONCE__VG_RELEASE
#define ONCE__VG_RELEASE(addr)	((void)0)
#define ONCE__VG_ACQUIRE(addr)	((void)0)
#define ONCE__VG_ATOMIC(word)	((void)0)
#endif

static inline void
once__tsan_release(void *addr)
{
	ONCE__VG_RELEASE(addr);
	if (__tsan_release)
		__tsan_release(addr);
}

static inline void
once__tsan_acquire(void *addr)
{
	ONCE__VG_ACQUIRE(addr);
	if (__tsan_acquire)
		__tsan_acquire(addr);
}

/*
 * Test hooks: a copy of the library built with ONCE_TEST_HOOKS (for the
 * tests only, never installed) calls once__test_hook at these points, so
 * that a test can act as the peer at exactly that instant. LOADED: the
 * state was read, the CAS that acts on it has not run. PUBLISHED: the
 * transition that lets the peer go on has happened.
 */
enum once__hook_point {
	ONCE__HOOK_SEND_LOADED,
	ONCE__HOOK_SEND_PUBLISHED,
	ONCE__HOOK_TX_LOCKED,		/* tx holds LOCKED, value stored */
	ONCE__HOOK_TX_CLOSE_LOADED,
	ONCE__HOOK_TX_CLOSE_PUBLISHED,
	ONCE__HOOK_RX_CLOSE_LOADED,
	ONCE__HOOK_RX_CLOSE_PUBLISHED,
	ONCE__HOOK_WAIT_ANNOUNCED,	/* WAITING set, FUTEX_WAIT not called */
	ONCE__HOOK_WAIT_TIMED_OUT,	/* ETIMEDOUT, WAITING not taken back */
	/* once_recv_any() (any.c); ev is the event of the lowest entry. */
	ONCE__HOOK_ANY_WAITV,		/* all WAITING, futex_waitv next */
	ONCE__HOOK_ANY_SLICE,		/* all WAITING, a slice next */
	ONCE__HOOK_ANY_TIMED_OUT,	/* ETIMEDOUT, nothing taken back */
	/* pool.c; ev is NULL. */
	ONCE__HOOK_POOL_LOCKED,		/* inside the fork gate, lock held */
};

#ifdef ONCE_TEST_HOOKS
extern void (*once__test_hook)(enum once__hook_point point, once_event_t *ev);
/* Set: once_recv_any() acts as on a kernel without futex_waitv. */
extern int once__test_no_waitv;
#define ONCE__HOOK(point, ev) \
	(once__test_hook ? once__test_hook(point, ev) : (void)0)
#else
#define ONCE__HOOK(point, ev) ((void)0)
#endif

/*
 * Broken controls: a copy of the library built with ONCE_TEST_BROKEN (for
 * tests/once-torture-broken only, never installed) misbehaves on purpose,
 * one time in ONCE__BROKEN_EVERY at each point marked ONCE__BROKEN, when
 * once__test_broken names that point's kind. The torture must catch each
 * kind, or it proves nothing when it passes. Elsewhere ONCE__BROKEN() is
 * 0 and the code it guards is not compiled.
 */
enum once__broken_kind {
	ONCE__BROKEN_NONE,
	ONCE__BROKEN_SKIP_WAKE,		/* a send owes a FUTEX_WAKE, skips it */
	ONCE__BROKEN_DELIVER_TWICE,	/* a send meets EPIPE and also calls
					   the destructor with its value */
	ONCE__BROKEN_LOSE_VALUE,	/* receiver_close drops a sent value
					   without the destructor */
	ONCE__BROKEN_RECYCLE_EARLY,	/* receiver_close gives a pooled event
					   back while its sender is live */
};

#define ONCE__BROKEN_EVERY	8

#ifdef ONCE_TEST_BROKEN
extern int once__test_broken;
ONCE__HIDDEN int once__broken_now(void);
#define ONCE__BROKEN(kind) \
	(once__test_broken == (kind) && once__broken_now())
#else
#define ONCE__BROKEN(kind) 0
#endif

/*
 * The fast paths of once-inline.h, compiled into the library with its
 * hooks and annotations: once_send() and friends start with them, so the
 * library and a program built with ONCE_INLINE run one implementation.
 */
#define ONCE__INLINE_HOOK(point, ev)	ONCE__HOOK(point, ev)
#define ONCE__INLINE_TSAN_RELEASE(ev)	once__tsan_release(ev)
#define ONCE__INLINE_TSAN_ACQUIRE(ev)	once__tsan_acquire(ev)
#define ONCE__INLINE_VG_ACQUIRE(ev)	ONCE__VG_ACQUIRE(ev)
#include "once-inline.h"

/* States in which both endpoints are live and nothing has arrived. */
static inline int
once__pending(uint32_t s)
{
	return s == ONCE__BOUND || s == ONCE__WAITING || s == ONCE__NOTIFY ||
	       s == ONCE__LOCKED;
}

/* Default spin budget of a blocking receive, in nanoseconds. */
#define ONCE__SPIN_DEFAULT	5000u

/*
 * Process-shared events (event.c). Another process may die while it holds
 * LOCKED, or write anything over the word, so the waits that a private
 * event may make without limit are bounded for a shared one:
 * LOCKED_LIMIT_NS is how long one call waits for LOCKED to end, in all
 * (far above any scheduling delay of a live process, the 100 ms period
 * of a throttled cgroup included); MOVES_MAX is how many times the word
 * may change under one call (failed CASes, a sleep it would not let us
 * take) when a live peer changes it once or twice at most. Either limit
 * is ENOTRECOVERABLE.
 */
#define ONCE__PSHARED_LOCKED_LIMIT_NS	1000000000L
#define ONCE__PSHARED_MOVES_MAX		1000u

/* Does attr make process-shared events? Only once_event_init() takes it. */
static inline int
once__attr_pshared(const once_attr_t *attr)
{
	return attr && (attr->flags_ & ONCE__ATTR_PSHARED);
}

_Static_assert(ONCE_SPIN_MAX <= (UINT32_MAX >> ONCE__SPIN_SHIFT),
	       "the spin budget must fit in flags_");
_Static_assert(sizeof(once_event_t) <= 32, "once_event_t grew past 32 bytes");

/*
 * The one place where the public plain integer becomes an atomic: the
 * header stays usable from C++ and pre-C11 code.
 */
static inline _Atomic uint32_t *
once__state(once_event_t *ev)
{
	_Static_assert(sizeof(_Atomic uint32_t) == sizeof(uint32_t) &&
		       alignof(_Atomic uint32_t) == alignof(uint32_t),
		       "the futex word must be a plain 32-bit word");
	return (_Atomic uint32_t *)&ev->state_;
}

static inline unsigned int
once__kind(const once_event_t *ev)
{
	return ev->flags_ & ONCE__KIND_MASK;
}

/* flags_, read once: another process may write a shared event's. */
static inline uint32_t
once__flags(const once_event_t *ev)
{
	return __atomic_load_n(&ev->flags_, __ATOMIC_RELAXED);
}

/* The allocator of once_attr_setallocator(), or malloc/free. */
static inline void *
once__alloc(once_alloc_fn *alloc, void *ctx, size_t size)
{
	return alloc ? alloc(size, ctx) : malloc(size);
}

static inline void
once__free(once_free_fn *free_fn, void *ctx, void *ptr, size_t size)
{
	if (free_fn)
		free_fn(ptr, size, ctx);
	else
		free(ptr);
}

/* Heap event (once_event_create, once_channel) with its header. */
struct once__heap {
	_Atomic uint32_t refs;	/* owner refs + 1 for the pair (heap.c) */
	once_free_fn *free_;	/* r/o after create; NULL: free(3) */
	void *ctx_;		/* r/o after create */
	once_event_t ev;
};

static inline struct once__heap *
once__heap_of(once_event_t *ev)
{
	return (struct once__heap *)((char *)ev -
				     offsetof(struct once__heap, ev));
}

/* Single-threaded heap event and its header (lib/local.c). */
struct once__local_heap {
	uint32_t refs;		/* owner refs + 1 while the pair is bound */
	once_free_fn *free_;
	void *ctx_;
	once_local_event_t ev;
};

static inline unsigned int
once__local_kind(const once_local_event_t *ev)
{
	return ev->flags_ & ONCE__KIND_MASK;
}

static inline struct once__local_heap *
once__local_heap_of(once_local_event_t *ev)
{
	return (struct once__local_heap *)((char *)ev -
		offsetof(struct once__local_heap, ev));
}

/*
 * A slot of a single-threaded pool (local_pool.c). gen counts the slot's
 * binds; its endpoints carry the gen of their bind in tag_, so that a
 * stale copy used after the slot was bound again is refused.
 */
struct once__local_slab;

struct once__local_slot {
	once_local_event_t ev;		/* first: the event is the slot */
	struct once__local_slab *slab;	/* r/o after the slab is made */
	struct once__local_slot *next;	/* free list link, while free */
	uintptr_t gen;
};

/* The endpoint (ev, tag) belongs to ev's current life. */
static inline int
once__local_current(const once_local_event_t *ev, uintptr_t tag)
{
	return once__local_kind(ev) != ONCE__KIND_POOL ||
	       ((const struct once__local_slot *)ev)->gen == tag;
}

ONCE__HIDDEN void once__local_setup(once_local_event_t *ev,
				    const once_attr_t *attr,
				    unsigned int kind, uint32_t state);
ONCE__HIDDEN void once__local_pool_put(once_local_event_t *ev);
ONCE__HIDDEN void once__pool_put(once_event_t *ev);

/*
 * Waiter records (inspect.c). A wait is described once (winfo: thread,
 * kind, start, stack) and listed once per event it waits on (wrec), in a
 * registry keyed by the event's address; pool is the struct once__pool of
 * a pooled event (for once_pool_inspect), else NULL. A blocking receive
 * keeps both on its stack while it sleeps (once_recv_any() one wrec per
 * entry); a thread-safe callback's come in a wnote that notify allocates
 * and the side that takes the callback frees. A single-threaded
 * callback's wnote hangs off its event alone (local.c) and is never
 * listed: the twins take no lock.
 */
struct once__winfo {
	pid_t tid;
	int how;
	struct timespec since;
	int nframes;
	void *frames[ONCE_BACKTRACE_MAX];
};

struct once__wrec {
	const void *ev;
	const void *pool;
	const struct once__winfo *info;
	struct once__wrec *next, *prev;
};

struct once__wnote {
	struct once__wrec rec;		/* first: freed through it */
	struct once__winfo info;
	void *arg;			/* local callbacks: fn's argument */
};

ONCE__HIDDEN void once__winfo_init(struct once__winfo *i, int how);
ONCE__HIDDEN void once__wrec_add(struct once__wrec *r, const void *ev,
				 const void *pool,
				 const struct once__winfo *i);
ONCE__HIDDEN void once__wrec_del(struct once__wrec *r);
ONCE__HIDDEN void once__wrec_drop(const void *ev);

/*
 * The copies an inspection makes before it calls back with no lock held:
 * push may fail (err = ENOMEM); report calls fn for each copy unless a
 * push failed, frees them, and returns 0 or the error.
 */
struct once__wlist {
	struct once_waiter *v;
	size_t n, cap;
	int err;
};

ONCE__HIDDEN void once__wlist_push(struct once__wlist *l, const void *ev,
				   const struct once__winfo *i);
ONCE__HIDDEN int once__wlist_report(struct once__wlist *l,
				    once_inspect_fn *fn, void *arg);
ONCE__HIDDEN const void *once__pool_of(once_event_t *ev);

ONCE__HIDDEN void once__event_setup(once_event_t *ev, const once_attr_t *attr,
				    unsigned int kind, uint32_t state);
ONCE__HIDDEN void once__heap_put(once_event_t *ev);

/*
 * The receiving half of event.c, which once_recv_any() (any.c) runs on
 * each of its events: see the comments at their definitions.
 */
ONCE__HIDDEN once_event_t *once__endpoint(once_event_t **evp, uintptr_t tag);
struct once__budget;
ONCE__HIDDEN uint32_t once__unlocked(_Atomic uint32_t *st,
				     struct once__budget *b, clockid_t clock,
				     const struct timespec *abstime, int *err);
ONCE__HIDDEN int once__take(once_receiver_t *rx, once_event_t *ev,
			    uint32_t s, void **value, int shared);
ONCE__HIDDEN unsigned int once__spin_budget(const once_event_t *ev);
ONCE__HIDDEN int once__end_in(struct timespec *end, clockid_t clock,
			      unsigned int ns,
			      const struct timespec *abstime);

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

static inline int
once__ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Has abstime on clock passed? */
static inline int
once__passed(clockid_t clock, const struct timespec *abstime)
{
	struct timespec now;

	clock_gettime(clock, &now);
	return !once__ts_before(&now, abstime);
}

/*
 * A deadline as the timed receives take it: on CLOCK_REALTIME or
 * CLOCK_MONOTONIC, and a tv_nsec in [0, 1e9) unless abstime is NULL.
 */
static inline int
once__deadline_valid(clockid_t clock, const struct timespec *abstime)
{
	return (clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC) &&
	       (!abstime || (abstime->tv_nsec >= 0 &&
			     abstime->tv_nsec < 1000000000L));
}

#endif /* ONCE_INTERNAL_H */
