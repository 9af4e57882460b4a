/*
 * once.h - one-shot events for Linux.
 *
 * A one-shot event carries at most one value (a void *) from one sender to
 * one receiver. The receiver may poll for it, or block on a futex until the
 * value arrives or the sender goes away. Binding an event yields a sender
 * and a receiver endpoint; every way of obtaining an event (caller storage,
 * reference-counted heap, channel, pool) ends in the same endpoint types.
 * The once_local_* twins do the same for code that keeps an event on one
 * thread, without atomics and without a blocking receive.
 *
 * Conventions, as for pthread_*(3):
 *  - functions return 0 or a positive error number; errno is never set;
 *  - consuming an endpoint (a send, a close, a receive that returned 0 or
 *    EPIPE) clears it, and any later use of the cleared endpoint is EINVAL;
 *    the endpoint is cleared before the peer can go on, so it may live in
 *    memory the peer frees (a request carrying its reply sender);
 *  - endpoints are plain values: they may be copied or moved by assignment
 *    and handed to another thread, but only one copy may be used; a copy
 *    used after another copy consumed the endpoint is refused with EINVAL
 *    (and cleared) while the event's storage is alive, and for a pooled
 *    event also after the pool has bound it again (a generation count);
 *  - a successful receive happens after the send: everything the sender
 *    wrote before once_send() is visible once the receive returns 0.
 *
 * The man pages (once_event_init(3), once_send(3), once_recv(3), ...,
 * libonce(7)) are the full contract; the comments here summarise it.
 *
 * The contents of the types below are private: their size is part of the
 * ABI, their layout is not. All-zero storage is a valid, unbound event with
 * default attributes (ONCE_EVENT_INITIALIZER).
 */
#ifndef ONCE_H
#define ONCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define ONCE_API __attribute__((visibility("default")))
#else
#define ONCE_API
#endif

/* Largest spin budget once_attr_setspin() accepts, in nanoseconds. */
#define ONCE_SPIN_MAX 10000000u
/* once_attr_setspin() argument: the library's default budget. */
#define ONCE_SPIN_DEFAULT (~0u)
/* once_attr_setpshared() arguments, as PTHREAD_PROCESS_* for pthreads. */
#define ONCE_PROCESS_PRIVATE 0
#define ONCE_PROCESS_SHARED 1

typedef void once_destructor_fn(void *value);
typedef void once_notify_fn(void *arg);
typedef void *once_alloc_fn(size_t size, void *ctx);
typedef void once_free_fn(void *ptr, size_t size, void *ctx);

/* Attributes for events: destructor, spin, allocator, process-shared. */
typedef struct once_attr {
	unsigned int flags_;		/* internal */
	unsigned int spin_ns_;		/* internal */
	once_destructor_fn *dtor_;	/* internal */
	once_alloc_fn *alloc_;		/* internal */
	once_free_fn *free_;		/* internal */
	void *ctx_;			/* internal */
	void *reserved_[3];		/* internal: room to grow */
} once_attr_t;

/*
 * A thread-safe one-shot event. 32 bytes, including the value slot.
 * The first member is the 32-bit futex word.
 */
typedef struct once_event {
	uint32_t state_;		/* internal: the futex word */
	uint32_t flags_;		/* internal: read-only after init */
	void *value_;			/* internal */
	once_destructor_fn *dtor_;	/* internal: read-only after init */
	once_notify_fn *notify_;	/* internal */
} once_event_t;

#define ONCE_EVENT_INITIALIZER { 0, 0, NULL, NULL, NULL }

/* Endpoints: small values in caller storage; zero is a cleared endpoint. */
typedef struct once_sender {
	once_event_t *ev_;		/* internal */
	uintptr_t tag_;			/* internal */
} once_sender_t;

typedef struct once_receiver {
	once_event_t *ev_;		/* internal */
	uintptr_t tag_;			/* internal */
} once_receiver_t;

/*
 * Attributes.
 *
 * once_attr_init() - set *attr to the defaults: no destructor, the default
 * spin budget, malloc(3)/free(3). Returns 0.
 * once_attr_destroy() - end the use of *attr. Returns 0. Events and
 * channels made with an attribute object do not refer to it afterwards.
 * once_attr_setdestructor() - dtor (may be NULL) is called exactly once
 * with a value that was sent but never received, on the thread that
 * consumes the receiver. Returns 0.
 * once_attr_setspin() - how long a blocking receive spins on the event
 * before it sleeps on the futex, in nanoseconds; 0 sleeps at once;
 * ONCE_SPIN_DEFAULT restores the library's default (a few microseconds,
 * see once_attr_setspin(3)). Single-threaded events never spin, nor does
 * a process that may run on one CPU only (checked at load). Returns 0,
 * or EINVAL if spin_ns exceeds ONCE_SPIN_MAX and is not ONCE_SPIN_DEFAULT.
 * once_attr_setallocator() - allocator for heap events and pools
 * (once_event_create(), once_channel(), their once_local_* twins,
 * once_pool_*, once_local_pool_*). alloc returns NULL on failure, or
 * memory aligned as malloc(3) aligns it; free receives the size that was
 * asked for and runs on whichever thread drops the last reference. Both
 * NULL restores malloc/free. Returns 0, or EINVAL if exactly one of alloc
 * and free is NULL.
 * once_attr_setpshared() - ONCE_PROCESS_SHARED makes process-shared
 * events: events in caller storage that processes mapping the same memory
 * (mmap(2) MAP_SHARED, shm_open(3)) use together, through shared futexes.
 * Only once_event_init() takes such an attribute (with no destructor);
 * heap events, channels, pools and the once_local_* twins refuse it with
 * EINVAL. ONCE_PROCESS_PRIVATE (the default) undoes it. Returns 0, or
 * EINVAL if pshared is neither.
 * Each returns EINVAL if attr is NULL. Not safe to call concurrently on the
 * same attr.
 */
ONCE_API int once_attr_init(once_attr_t *attr);
ONCE_API int once_attr_destroy(once_attr_t *attr);
ONCE_API int once_attr_setdestructor(once_attr_t *attr,
				     once_destructor_fn *dtor);
ONCE_API int once_attr_setspin(once_attr_t *attr, unsigned int spin_ns);
ONCE_API int once_attr_setallocator(once_attr_t *attr, once_alloc_fn *alloc,
				    once_free_fn *free_fn, void *ctx);
ONCE_API int once_attr_setpshared(once_attr_t *attr, int pshared);

/*
 * Events in caller storage.
 *
 * once_event_init() - make *ev an unbound event with attr (NULL: defaults).
 * Allocates nothing. Returns 0, or EINVAL if ev is NULL, or if attr is
 * process-shared and has a destructor.
 * once_event_bind() - bind an unbound event: *tx and *rx become its only
 * sender and receiver. Works for caller-storage and heap events; an event
 * is bound at most once in its life. Returns 0; EALREADY if it was bound
 * before (of concurrent binds exactly one returns 0); EINVAL for NULL
 * arguments, tx and rx at the same address, or storage that is not an
 * initialised event. bind touches nothing outside *ev, *tx and *rx, so
 * storage that is not an event can make it return a wrong answer but not
 * crash. For a process-shared event it makes endpoints that trust nothing
 * in it (below), but it learns that the event is shared from the event
 * itself: bind before another process can write to the event (before
 * fork(2)), or else with once_event_attach().
 * once_event_destroy() - end the life of a caller-storage event. Returns 0
 * if the event was never bound, or if both endpoints are consumed (this
 * holds as soon as a receive has returned, even if the sending thread has
 * not left once_send() yet); EBUSY while an endpoint is live; EINVAL for a
 * heap event (use once_event_unref()) or NULL. After 0 the storage may be
 * reused or initialised again.
 */
ONCE_API int once_event_init(once_event_t *ev, const once_attr_t *attr);
ONCE_API int once_event_bind(once_event_t *ev, once_sender_t *tx,
			     once_receiver_t *rx);
ONCE_API int once_event_destroy(once_event_t *ev);

/*
 * Process-shared events.
 *
 * An event initialised with a process-shared attribute lives in memory that
 * several processes map, at any address in each. Its endpoints hold the
 * event's address in the process that made them: they may be used by a
 * process that maps the event at the same address (a child after fork(2)),
 * and any other process makes its own with once_event_attach(). The value
 * is copied bit for bit: a pointer means something in its own process only
 * (send an offset into the shared memory, or an integer cast to void *).
 * Every call on such an event works as described above, with these
 * differences. Another process may write anything into the event at any
 * time, or die in the middle of a call; the library trusts nothing in the
 * event, calls no function pointer found there, and every call on its
 * endpoints returns an error, or times out when asked to, rather than
 * crash or spin without end:
 *  - once_receiver_notify() returns ENOTSUP (no callbacks across
 *    processes); a callback state found in the event is garbage: EINVAL;
 *  - a call that finds the event held in mid-transition (by a process
 *    that died there, or by garbage) for a second, or the state changing
 *    under it as no peer would change it, returns ENOTRECOVERABLE and
 *    consumes its endpoint, as for a robust mutex whose owner died
 *    (pthread_mutexattr_setrobust(3)); a timed receive whose deadline
 *    comes first returns ETIMEDOUT;
 *  - a peer process that exits without consuming its endpoint is not
 *    noticed: a receive waits for it for ever, so give receives a
 *    deadline; destroy stays EBUSY.
 * once_event_attach() - endpoints for the process-shared event ev as this
 * process maps it, in *tx, in *rx, or both (either may be NULL). Binds ev
 * if it is unbound; otherwise the endpoints are copies of those of its
 * bind, and as with copies made by assignment only one copy of each
 * endpoint may be used, in whichever process. Trusts nothing in ev.
 * Returns 0, or EINVAL if ev is NULL, tx and rx are both NULL or at the
 * same address, or ev is not an event initialised as process-shared.
 */
ONCE_API int once_event_attach(once_event_t *ev, once_sender_t *tx,
			       once_receiver_t *rx);

/*
 * Events on the heap.
 *
 * once_event_create() - allocate an unbound event with reference count 1,
 * owned by the caller, with the allocator of attr. Returns 0, ENOMEM, or
 * EINVAL if evp is NULL. Bind it with once_event_bind(); the bound endpoint
 * pair holds a reference of its own until both endpoints are consumed.
 * once_event_ref() - take another reference. Returns 0, or EINVAL if ev is
 * not a heap event.
 * once_event_unref() - drop a reference; the last one frees the event.
 * Returns 0, or EINVAL if ev is not a heap event.
 * once_channel() - allocate a bound event owned by its endpoints alone: it
 * is freed when both are consumed. Returns 0, ENOMEM, or EINVAL for NULL
 * arguments or tx and rx at the same address.
 * All four are safe to call from any thread.
 */
ONCE_API int once_event_create(once_event_t **evp, const once_attr_t *attr);
ONCE_API int once_event_ref(once_event_t *ev);
ONCE_API int once_event_unref(once_event_t *ev);
ONCE_API int once_channel(once_sender_t *tx, once_receiver_t *rx,
			  const once_attr_t *attr);

/*
 * Sending.
 *
 * once_send() - deliver value (NULL included) and consume the sender.
 * Returns 0; EPIPE if the receiver was closed first: the value stays with
 * the caller, the destructor is not called, and the sender is consumed all
 * the same; EINVAL if tx is cleared or was already used.
 * Everything written before the call is visible to the receiver.
 * once_sender_close() - consume the sender without a value; the receiver
 * then sees EPIPE. Returns 0, or EINVAL if tx is cleared or already used.
 * once_sender_closed() - 1 if a send could no longer be delivered (the
 * receiver was closed, or tx is cleared or NULL), 0 if the receiver may
 * still take a value. Does not consume tx: a worker that skips the work
 * still calls once_sender_close() (which then releases the event and
 * returns 0) or once_send() (EPIPE).
 * On a process-shared event, once_send() and once_sender_close() may also
 * return ENOTRECOVERABLE or EINVAL for an event written over (see
 * "Process-shared events" above); tx is consumed all the same.
 * One thread at a time may use a given sender.
 */
ONCE_API int once_send(once_sender_t *tx, void *value);
ONCE_API int once_sender_close(once_sender_t *tx);
ONCE_API int once_sender_closed(const once_sender_t *tx);

/*
 * Receiving.
 *
 * once_recv() - wait until the value arrives or the sender is closed.
 * Returns 0 and stores the value in *value (if value is NULL, the value is
 * passed to the destructor instead); EPIPE if the sender was closed without
 * sending; EINVAL if rx is cleared or already used. Never EINTR. Like
 * sem_wait(3), a cancellation point while it sleeps; a cancelled receiver
 * stays valid (a cleanup handler may close it).
 * once_tryrecv() - the same without waiting: EAGAIN while nothing has
 * arrived (rx stays usable).
 * once_timedrecv() - the same as once_recv(), but gives up at abstime on
 * CLOCK_REALTIME (as sem_timedwait(3)): ETIMEDOUT, and rx stays usable, by
 * this thread or another. once_clockrecv() takes the clock: CLOCK_REALTIME
 * or CLOCK_MONOTONIC (as sem_clockwait(3)). Their arguments are checked
 * first: an unsupported clock, a NULL abstime or a tv_nsec outside
 * [0, 1e9) is EINVAL even when the value is already there. A deadline in the
 * past is ETIMEDOUT if nothing has arrived.
 * 0 and EPIPE consume rx; on 0, everything the sender wrote before
 * once_send() is visible.
 * once_receiver_ready() - 1 if a receive would return at once with a value
 * or EPIPE (or EINVAL, for a cleared or NULL rx), 0 while nothing has
 * arrived. Does not consume rx.
 * once_receiver_close() - consume the receiver without waiting. A value
 * already sent is passed to the destructor; a later once_send() returns
 * EPIPE. Returns 0, or EINVAL if rx is cleared or already used.
 * On a process-shared event, the receives other than once_tryrecv() and
 * once_receiver_close() may also return ENOTRECOVERABLE, which consumes
 * rx, and each of them EINVAL for an event written over (see
 * "Process-shared events" above).
 * One thread at a time may use a given receiver.
 */
ONCE_API int once_recv(once_receiver_t *rx, void **value);
ONCE_API int once_tryrecv(once_receiver_t *rx, void **value);
ONCE_API int once_timedrecv(once_receiver_t *rx, void **value,
			    const struct timespec *abstime);
ONCE_API int once_clockrecv(once_receiver_t *rx, void **value,
			    clockid_t clock, const struct timespec *abstime);
ONCE_API int once_receiver_ready(const once_receiver_t *rx);
ONCE_API int once_receiver_close(once_receiver_t *rx);

/*
 * Receiving from the first of several.
 *
 * once_recv_any() - wait until any of the n receivers in rxs (1 <= n <=
 * ONCE_RECV_ANY_MAX) has its value or its sender's close, and receive it
 * as once_recv() would: 0 with the value in *value (or, if value is NULL,
 * to the destructor), or EPIPE; either way that receiver is consumed
 * (cleared) and its index stored in *index. Cleared entries are skipped,
 * so the caller may call again on the same array until all are consumed.
 * Of several complete entries, the lowest index is received. abstime NULL
 * waits without limit; otherwise it is a deadline on clock: ETIMEDOUT,
 * and every receiver stays usable (a deadline already past polls, without
 * sleeping). clock is CLOCK_REALTIME or
 * CLOCK_MONOTONIC even when abstime is NULL (the spin is timed on it).
 * Returns EINVAL for NULL rxs or index, n out of range, a bad clock or a
 * tv_nsec outside [0, 1e9) (all checked first, as once_clockrecv() does),
 * when no entry is live, or for a stale entry (its index in *index; it is
 * cleared, as once_recv() would clear it); EBUSY, with the index in
 * *index, while an entry has a callback registered (once_receiver_notify)
 * and nothing has arrived on it; ENOTSUP, with the index in *index, for
 * an entry of a process-shared event (use once_clockrecv() on those).
 * Entries are checked before anything is received, so a stale, busy or
 * shared entry fails every call until it is removed. Never EINTR; a cancellation point while it sleeps, after which
 * every receiver stays valid. It spins first, for the largest budget
 * among the events, then sleeps on all of them with futex_waitv(2) (Linux
 * 5.16); without it, on the lowest entry's futex in slices of up to 2 ms,
 * so that a value on another entry may be seen up to 2 ms late. The
 * receivers are used as by once_recv(): by this thread alone during the
 * call, and each may appear in rxs once. On 0, everything the sender
 * wrote before once_send() is visible.
 */
#define ONCE_RECV_ANY_MAX 128

ONCE_API int once_recv_any(once_receiver_t *rxs, size_t n, size_t *index,
			   void **value, clockid_t clock,
			   const struct timespec *abstime);

/*
 * Completion callbacks.
 *
 * once_receiver_notify() - have fn(arg) called exactly once: when the value
 * or the sender's close arrives (on the thread that sent or closed, after
 * the new state is published), at once on the calling thread if it has
 * arrived already, or from once_receiver_close() on the closing thread if
 * the receiver is closed first. Does not consume rx: the callback, or code
 * it wakes, collects with once_tryrecv(). fn may call libonce, on this
 * event too; no internal lock is held while it runs. With the thread-safe
 * event fn may run on another thread than the receiver's user, so it
 * touches rx only if that user does not (typically it wakes the user).
 * Returns 0; EBUSY if a callback is registered and nothing has arrived
 * yet; EINVAL if fn is NULL or rx is cleared; ENOTSUP if the event is
 * process-shared (rx stays usable); ENOMEM if the waiter record that
 * inspection reads (see once_event_inspect() below) could not be
 * allocated, in which case nothing changed. While a callback is
 * registered and nothing has arrived, a blocking or timed receive returns
 * EBUSY; once_tryrecv() and once_receiver_ready() work as usual.
 */
ONCE_API int once_receiver_notify(once_receiver_t *rx, once_notify_fn *fn,
				  void *arg);

/*
 * Pools of reusable thread-safe events.
 *
 * A pool hands out events from slabs of 64 it allocates (with the
 * allocator of its attributes) and takes each back when both endpoints
 * are consumed; the endpoints are the ordinary once_sender_t and
 * once_receiver_t, so every send, receive and notify works on them, and
 * each event behaves as one from once_event_bind() with the pool's
 * attributes (destructor, spin). Once warm, binding and releasing
 * allocate nothing. Free events sit in per-thread caches (up to 64 per
 * pool, for up to 4 pools per thread) and on liburcu's RCU-protected
 * lock-free stacks; callers never register threads. Binds and releases
 * take no lock on their common path; growing, trim, stats and destroy
 * take the pool's lock, and a thread's first use of a pool (or its exit)
 * takes a global one. A thread that switches between more than four
 * pools pays that lock, and often a grace period, at each switch.
 * A pooled endpoint carries the generation of its event, so a stale copy
 * used after the event was bound again is refused (EINVAL) as long as the
 * event's slab exists (until trim, destroy or the heap pool's end).
 * once_pool_init() - an empty pool in caller storage; allocates nothing.
 * Returns 0; EINVAL if pool is NULL; ENOMEM if its lock cannot be made.
 * once_pool_destroy() - free a caller-storage pool's memory (after a grace
 * period). Returns 0, after which the storage may be initialised again;
 * EBUSY while events are out; EINVAL for a heap pool or NULL. No thread
 * may use the pool during or after the call.
 * once_pool_create() - a pool on the heap with reference count 1. Returns
 * 0, ENOMEM or EINVAL. once_pool_ref() and once_pool_unref() take and
 * drop references (EINVAL if not a heap pool); the pool's memory is freed
 * when the last reference is gone and the last event is back, whichever
 * comes later.
 * once_pool_bind() - bind a free event, growing the pool by a slab if none
 * is free. Returns 0; ENOMEM if no event was free and the allocator
 * failed (the pool is still usable); EINVAL for NULL arguments or tx and
 * rx at the same address.
 * May wait for a grace period (microseconds) to reuse released events
 * instead of growing.
 * once_pool_stats() - fill *st; live is read off the events' states, so
 * under concurrent use it is a snapshot. Returns 0, or EINVAL.
 * once_pool_trim() - give back each slab whose events are all free, as
 * long as at least keep events stay free, after a grace period. Events
 * cached by other threads (up to 64 per thread) keep their slabs. Returns
 * 0 (also when nothing could be freed), or EINVAL.
 * All are safe to call concurrently, except as noted for destroy; a
 * caller-storage pool must not move while in use.
 */
typedef struct once_pool {
	void *private_[32];		/* internal: lib/pool.c */
} once_pool_t;

struct once_pool_stats;

ONCE_API int once_pool_init(once_pool_t *pool, const once_attr_t *attr);
ONCE_API int once_pool_destroy(once_pool_t *pool);
ONCE_API int once_pool_create(once_pool_t **poolp, const once_attr_t *attr);
ONCE_API int once_pool_ref(once_pool_t *pool);
ONCE_API int once_pool_unref(once_pool_t *pool);
ONCE_API int once_pool_bind(once_pool_t *pool, once_sender_t *tx,
			    once_receiver_t *rx);
ONCE_API int once_pool_stats(once_pool_t *pool, struct once_pool_stats *st);
ONCE_API int once_pool_trim(once_pool_t *pool, size_t keep);

/*
 * Single-threaded twins.
 *
 * The same events, endpoints and rules for code that keeps an event on one
 * thread: no atomic instructions, no futex calls, and therefore no
 * blocking receive (it could only deadlock). A single-threaded event and
 * its endpoints must be used by one thread at a time, with the caller
 * providing any hand-over between threads. Each function behaves as its
 * thread-safe namesake (see above and the man pages), with the same
 * return values; once_local_receiver_notify() runs fn on the thread that
 * completes the event, which is the event's only thread.
 */
typedef struct once_local_event {
	uint32_t state_;		/* internal */
	uint32_t flags_;		/* internal: read-only after init */
	void *value_;			/* internal */
	once_destructor_fn *dtor_;	/* internal: read-only after init */
	once_notify_fn *notify_;	/* internal */
} once_local_event_t;

#define ONCE_LOCAL_EVENT_INITIALIZER { 0, 0, NULL, NULL, NULL }

typedef struct once_local_sender {
	once_local_event_t *ev_;	/* internal */
	uintptr_t tag_;			/* internal */
} once_local_sender_t;

typedef struct once_local_receiver {
	once_local_event_t *ev_;	/* internal */
	uintptr_t tag_;			/* internal */
} once_local_receiver_t;

ONCE_API int once_local_event_init(once_local_event_t *ev,
				   const once_attr_t *attr);
ONCE_API int once_local_event_bind(once_local_event_t *ev,
				   once_local_sender_t *tx,
				   once_local_receiver_t *rx);
ONCE_API int once_local_event_destroy(once_local_event_t *ev);
ONCE_API int once_local_event_create(once_local_event_t **evp,
				     const once_attr_t *attr);
ONCE_API int once_local_event_ref(once_local_event_t *ev);
ONCE_API int once_local_event_unref(once_local_event_t *ev);
ONCE_API int once_local_channel(once_local_sender_t *tx,
				once_local_receiver_t *rx,
				const once_attr_t *attr);
ONCE_API int once_local_send(once_local_sender_t *tx, void *value);
ONCE_API int once_local_sender_close(once_local_sender_t *tx);
ONCE_API int once_local_sender_closed(const once_local_sender_t *tx);
ONCE_API int once_local_tryrecv(once_local_receiver_t *rx, void **value);
ONCE_API int once_local_receiver_ready(const once_local_receiver_t *rx);
ONCE_API int once_local_receiver_close(once_local_receiver_t *rx);
ONCE_API int once_local_receiver_notify(once_local_receiver_t *rx,
					once_notify_fn *fn, void *arg);

/*
 * Pools of reusable single-threaded events.
 *
 * A pool hands out events from slabs it allocates (with the allocator of
 * its attributes) and takes each event back when both endpoints are
 * consumed; once warm, binding allocates nothing. Each bound event behaves
 * as one from once_local_event_bind() with the pool's attributes.
 * once_local_pool_init() - an empty pool in caller storage; allocates
 * nothing yet. Returns 0, or EINVAL if pool is NULL.
 * once_local_pool_destroy() - free a caller-storage pool's memory. Returns
 * 0, after which the storage may be initialised again; EBUSY while events
 * are out (bound, and not yet released by both endpoints); EINVAL for a
 * pool from once_local_pool_create() or NULL.
 * once_local_pool_create() - a pool on the heap with reference count 1.
 * Returns 0, ENOMEM or EINVAL. once_local_pool_ref() and
 * once_local_pool_unref() take and drop references (EINVAL if not a heap
 * pool); the pool's memory is freed when the last reference is gone and
 * the last event is back, whichever comes later.
 * once_local_pool_bind() - bind a free event, growing the pool by a slab
 * if none is free. Returns 0; ENOMEM if the allocator failed (the pool is
 * unchanged and still usable); EINVAL for NULL arguments or tx and rx at
 * the same address.
 * once_local_pool_stats() - fill *st. Returns 0, or EINVAL.
 * once_local_pool_trim() - give back to the allocator each slab whose
 * events are all free, as long as at least keep events stay free. Returns
 * 0 (also when nothing could be freed), or EINVAL.
 * A caller-storage pool must not move while it is in use.
 */
struct once_pool_stats {
	size_t live;		/* events out */
	size_t free;		/* capacity - live: not out */
	size_t capacity;	/* live + free */
	size_t slabs;		/* blocks of events allocated */
};

typedef struct once_local_pool {
	void *free_;			/* internal */
	void *slabs_;			/* internal */
	size_t live_;			/* internal */
	size_t nfree_;			/* internal */
	size_t nslabs_;			/* internal */
	once_destructor_fn *dtor_;	/* internal */
	once_alloc_fn *alloc_;		/* internal */
	once_free_fn *free_fn_;		/* internal */
	void *ctx_;			/* internal */
	uint32_t refs_;			/* internal */
	uint32_t flags_;		/* internal */
	void *reserved_[4];		/* internal: room to grow */
} once_local_pool_t;

ONCE_API int once_local_pool_init(once_local_pool_t *pool,
				  const once_attr_t *attr);
ONCE_API int once_local_pool_destroy(once_local_pool_t *pool);
ONCE_API int once_local_pool_create(once_local_pool_t **poolp,
				    const once_attr_t *attr);
ONCE_API int once_local_pool_ref(once_local_pool_t *pool);
ONCE_API int once_local_pool_unref(once_local_pool_t *pool);
ONCE_API int once_local_pool_bind(once_local_pool_t *pool,
				  once_local_sender_t *tx,
				  once_local_receiver_t *rx);
ONCE_API int once_local_pool_stats(const once_local_pool_t *pool,
				   struct once_pool_stats *st);
ONCE_API int once_local_pool_trim(once_local_pool_t *pool, size_t keep);

/*
 * Seeing inside: who waits on what, and since when.
 *
 * A receiver waits when it sleeps in once_recv(), once_timedrecv(),
 * once_clockrecv() or once_recv_any() (after its spin; once_recv_any() is
 * listed on each of its events), or while a callback it registered
 * with once_receiver_notify() (or the once_local_ twin) has not run. The
 * library records such a waiter only on that path (nothing on a receive
 * that finds its value), as a struct once_waiter:
 *  - event: the once_event_t or once_local_event_t waited on;
 *  - tid: the waiting thread (gettid(2)), or the thread that registered
 *    the callback;
 *  - how: ONCE_WAIT_BLOCKING, ONCE_WAIT_TIMED or ONCE_WAIT_NOTIFY;
 *  - since: when it began to sleep or registered, on CLOCK_MONOTONIC;
 *  - frames, nframes: the return addresses of the call stack at that
 *    point (backtrace(3)), when backtraces are on; else nframes is 0.
 * Backtraces are off unless the environment has ONCE_BACKTRACE=1 when the
 * library is loaded, or once_inspect_setbacktrace() turns them on; taking
 * one costs microseconds on each wait that records it.
 *
 * once_event_inspect() - call fn(w, arg) for each waiter on ev.
 * once_pool_inspect() - the same for every event of pool.
 * once_local_event_inspect(), once_local_pool_inspect() - the same for
 * the single-threaded twins (whose only waiters are callbacks).
 * Each copies the waiters first and calls fn with no internal lock held:
 * fn may call libonce, on the same event or pool too, and a waiter it is
 * told about may have stopped waiting meanwhile. Return 0, ENOMEM (the
 * copy could not be made; fn was not called), or EINVAL (NULL ev, pool or
 * fn). The thread-safe ones are safe to call from any thread.
 * once_inspect_setbacktrace() - turn backtraces on (enable != 0) or off
 * for the waits that begin afterwards. Returns 0.
 * once_waiter_print() - write w to file descriptor fd: one line with the
 * thread, the kind of wait and its age, then one line per frame,
 * symbolised as backtrace_symbols_fd(3) does. Returns 0, or EINVAL if w
 * is NULL.
 *
 * Recording a callback allocates a small record: once_receiver_notify()
 * and once_local_receiver_notify() fail with ENOMEM when it cannot be
 * had, before anything changed. An event that has completed needs none:
 * fn runs at once, and the call cannot fail with ENOMEM.
 */
#define ONCE_WAIT_BLOCKING	1	/* once_recv() */
#define ONCE_WAIT_TIMED		2	/* once_timedrecv(), once_clockrecv() */
#define ONCE_WAIT_NOTIFY	3	/* a callback registered */
#define ONCE_BACKTRACE_MAX	32

struct once_waiter {
	const void *event;
	pid_t tid;
	int how;
	struct timespec since;
	int nframes;
	void *frames[ONCE_BACKTRACE_MAX];
};

typedef void once_inspect_fn(const struct once_waiter *w, void *arg);

ONCE_API int once_event_inspect(once_event_t *ev, once_inspect_fn *fn,
				void *arg);
ONCE_API int once_pool_inspect(once_pool_t *pool, once_inspect_fn *fn,
			       void *arg);
ONCE_API int once_local_event_inspect(once_local_event_t *ev,
				      once_inspect_fn *fn, void *arg);
ONCE_API int once_local_pool_inspect(once_local_pool_t *pool,
				     once_inspect_fn *fn, void *arg);
ONCE_API int once_inspect_setbacktrace(int enable);
ONCE_API int once_waiter_print(const struct once_waiter *w, int fd);

#ifdef __cplusplus
}
#endif

/*
 * Defined before this header is included, ONCE_INLINE compiles the fast
 * paths of the commonest calls into the program; see once-inline.h for
 * what that buys and what it ties the program to.
 */
#ifdef ONCE_INLINE
#include "once-inline.h"
#endif

#endif /* ONCE_H */
