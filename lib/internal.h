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
};

#ifdef ONCE_TEST_HOOKS
extern void (*once__test_hook)(enum once__hook_point point, once_event_t *ev);
#define ONCE__HOOK(point, ev) \
	(once__test_hook ? once__test_hook(point, ev) : (void)0)
#else
#define ONCE__HOOK(point, ev) ((void)0)
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

/*
 * The end of a receive that found state s (SENT or TX_CLOSED) after the
 * receiver released the event: EPIPE, or the value to *value, or with no
 * place for it to the destructor.
 */
static inline int
once__deliver(uint32_t s, void *v, once_destructor_fn *dtor, void **value)
{
	if (s == ONCE__TX_CLOSED)
		return EPIPE;
	if (value)
		*value = v;
	else if (dtor)
		dtor(v);
	return 0;
}

/* Heap event (once_event_create, once_channel) with its header. */
struct once__heap {
	_Atomic uint32_t refs;	/* owner refs + 1 while the pair is bound */
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
	uint32_t refs;		/* as once__heap.refs */
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

ONCE__HIDDEN void once__event_setup(once_event_t *ev, const once_attr_t *attr,
				    unsigned int kind, uint32_t state);
ONCE__HIDDEN void once__heap_put(once_event_t *ev);

#endif /* ONCE_INTERNAL_H */
