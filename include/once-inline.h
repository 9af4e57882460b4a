/*
 * once-inline.h - the fast paths of libonce, for inlining.
 *
 * Do not include this file: include <once.h>, after defining ONCE_INLINE
 * if the program wants these fast paths compiled into it. Without
 * ONCE_INLINE, every libonce function is an ordinary call into the
 * library, and this file only serves the library itself.
 *
 * What ONCE_INLINE does. once_event_init(), once_event_bind(), once_send(),
 * once_recv(), once_tryrecv(), once_event_destroy() and the same five of the
 * once_local_* twins become static inline functions that do the common
 * case in place (a bind of a caller-storage event with one CAS, a send
 * to a receiver that is not asleep with one CAS and a store, a receive of
 * a value that is already there from a caller-storage event with one load
 * and a store) and call the library for everything else: binding and
 * receiving from heap and pooled events (which frees or recycles them),
 * every call on a process-shared event, a sleeping receiver, a callback,
 * a closed peer, any error. The behaviour is the library's in every
 * case; the fast path only saves the calls (once-bench: create, send,
 * receive and destroy of a caller-storage event cost 2.6 times a raw
 * futex word's through the library, 1.05 times inline).
 *
 * The price. The program's binary then knows the layout of once_event_t,
 * once_local_event_t and once_attr_t, and the state values, flag bits,
 * the shared endpoints' tag and the pool slot's generation offset below.
 * They are part of the ABI of libonce.so.0: a libonce that changes them
 * changes its soname. A program built without ONCE_INLINE depends on the
 * sizes of the types only.
 *
 * Everything here is internal (the double underscore): names and
 * signatures may change with any release, for the program is recompiled
 * against the header it inlines.
 */
#ifndef ONCE_INLINE_H
#define ONCE_INLINE_H

#ifndef ONCE_H
#error "include <once.h> (with ONCE_INLINE defined), not <once-inline.h>"
#endif

#include <errno.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Event states, the values of the 32-bit word. lib/event.c holds the
 * table of transitions, which is the single source of truth. Zero is
 * UNBOUND so that all-zero storage is a valid event.
 */
enum {
	ONCE__UNBOUND = 0,	/* initialised, never bound */
	ONCE__BOUND = 1,	/* both endpoints live, nothing happened */
	ONCE__WAITING = 2,	/* as BOUND, and the receiver may sleep */
	ONCE__SENT = 3,		/* value stored, sender consumed */
	ONCE__TX_CLOSED = 4,	/* sender closed without a value */
	ONCE__RX_CLOSED = 5,	/* receiver closed, sender live */
	ONCE__DONE = 6,		/* both endpoints consumed */
	ONCE__NOTIFY = 7,	/* as BOUND, and a callback is registered */
	ONCE__LOCKED = 8,	/* one side is moving the callback or value */
	ONCE__STATE_MAX = ONCE__LOCKED
};

/*
 * The events' flags_, written by init before the event is shared and
 * read-only afterwards: bits 0-1 the storage kind, bit 2 set when bits
 * 8-31 hold a spin budget (ns) from the attributes; without it the
 * default applies, so that all-zero storage gets the default. Bit 3 marks
 * a process-shared event (always caller storage); only bind and attach
 * read it, to tag the endpoints they make (below).
 */
#define ONCE__KIND_MASK		0x3u
#define ONCE__KIND_CALLER	0x0u	/* caller storage: nothing to free */
#define ONCE__KIND_HEAP		0x1u	/* refcounted heap event */
#define ONCE__KIND_POOL		0x2u	/* a pool's slot: returns to it */
#define ONCE__F_SPIN		0x4u
#define ONCE__F_PSHARED		0x8u
#define ONCE__SPIN_SHIFT	8

/*
 * The tag_ of an endpoint of a process-shared event. Another process may
 * write anything into such an event at any time, so the library trusts
 * none of its fields (not the kind, not the callback or destructor slots)
 * and the fast paths below leave such endpoints to it. The endpoint itself
 * is in private memory: the tag is what can be trusted. Pools skip this
 * value when their generations wrap.
 */
#define ONCE__TAG_PSHARED	(~(uintptr_t)0)

/*
 * A pooled event sits in a slot of its pool that counts its binds at this
 * offset; its endpoints carry the count of their bind in tag_.
 */
#define ONCE__SLOT_GEN_OFFSET	56

/* once_attr_t.flags_: spin_ns_ holds a budget; process-shared. */
#define ONCE__ATTR_SPIN		0x1u
#define ONCE__ATTR_PSHARED	0x2u

/*
 * The library compiles these same functions with its test hooks and its
 * ThreadSanitizer annotations; a program that inlines them has neither
 * (its own TSan build sees the atomics below directly).
 */
#ifndef ONCE__INLINE_HOOK
#define ONCE__INLINE_HOOK(point, ev)	((void)0)
#endif
#ifndef ONCE__INLINE_TSAN_RELEASE
#define ONCE__INLINE_TSAN_RELEASE(ev)	((void)0)
#define ONCE__INLINE_TSAN_ACQUIRE(ev)	((void)0)
#endif
/* The library's test copy for valgrind's drd: before the fields are read. */
#ifndef ONCE__INLINE_VG_ACQUIRE
#define ONCE__INLINE_VG_ACQUIRE(ev)	((void)0)
#endif

/* Returned by a fast path that leaves the call to the library. */
#define ONCE__SLOW	(-1)

/*
 * The fast paths. The GCC __atomic builtins act on the plain uint32_t
 * state_, so this file also compiles as C++ and as pre-C11 C.
 */
/*
 * A process-shared event refuses a destructor: no process may make
 * another call a function through a pointer in shared memory.
 */
static inline int
once__event_init_fast(once_event_t *ev, const once_attr_t *attr)
{
	uint32_t flags = ONCE__KIND_CALLER;

	if (!ev || (attr && (attr->flags_ & ONCE__ATTR_PSHARED) &&
		    attr->dtor_))
		return EINVAL;
	ev->value_ = NULL;
	ev->dtor_ = NULL;
	ev->notify_ = NULL;
	if (attr) {
		ev->dtor_ = attr->dtor_;
		if (attr->flags_ & ONCE__ATTR_SPIN)
			flags |= ONCE__F_SPIN |
				 (uint32_t)attr->spin_ns_ << ONCE__SPIN_SHIFT;
		if (attr->flags_ & ONCE__ATTR_PSHARED)
			flags |= ONCE__F_PSHARED;
	}
	ev->flags_ = flags;
	__atomic_store_n(&ev->state_, ONCE__UNBOUND, __ATOMIC_RELEASE);
	return 0;
}

/* A private caller-storage event: one CAS, UNBOUND -> BOUND. */
static inline int
once__event_bind_fast(once_event_t *ev, once_sender_t *tx,
		      once_receiver_t *rx)
{
	uint32_t s = ONCE__UNBOUND;

	if (!ev || !tx || !rx || (void *)tx == (void *)rx ||
	    (ev->flags_ & (ONCE__KIND_MASK | ONCE__F_PSHARED)) !=
	    ONCE__KIND_CALLER)
		return ONCE__SLOW;
	if (!__atomic_compare_exchange_n(&ev->state_, &s, ONCE__BOUND, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return ONCE__SLOW;
	tx->ev_ = ev;
	tx->tag_ = 0;
	rx->ev_ = ev;
	rx->tag_ = 0;
	return 0;
}

/*
 * Is (ev, tag) an endpoint of a pooled ev's current bind? A copy kept
 * from an earlier bind is stale: the library refuses it.
 */
static inline int
once__pool_current(const once_event_t *ev, uintptr_t tag)
{
	const uintptr_t *gen = (const uintptr_t *)
		(const void *)((const char *)ev + ONCE__SLOT_GEN_OFFSET);

	return __atomic_load_n(gen, __ATOMIC_RELAXED) == tag;
}

/*
 * BOUND -> LOCKED -> SENT: nobody sleeps and no callback waits; every
 * other state, a stale pooled endpoint and a process-shared event go to
 * the library. Only a pooled endpoint (its generation) and a shared one
 * (ONCE__TAG_PSHARED) carry a tag: a caller-storage or heap sender pays
 * one test of it, and the event's kind, which a shared event's writer
 * may have garbled, is not read. tx is cleared while the event is
 * LOCKED, before SENT lets the receiver free the memory tx may live in.
 */
static inline int
once__send_fast(once_sender_t *tx, void *value)
{
	once_event_t *ev;
	uint32_t s = ONCE__BOUND;

	if (!tx || !(ev = tx->ev_) ||
	    (tx->tag_ && (tx->tag_ == ONCE__TAG_PSHARED ||
			  !once__pool_current(ev, tx->tag_))))
		return ONCE__SLOW;
	ONCE__INLINE_HOOK(ONCE__HOOK_SEND_LOADED, ev);
	if (!__atomic_compare_exchange_n(&ev->state_, &s, ONCE__LOCKED, 0,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return ONCE__SLOW;
	tx->ev_ = NULL;
	ev->value_ = value;
	ONCE__INLINE_HOOK(ONCE__HOOK_TX_LOCKED, ev);
	ONCE__INLINE_TSAN_RELEASE(ev);
	__atomic_store_n(&ev->state_, ONCE__SENT, __ATOMIC_RELEASE);
	ONCE__INLINE_HOOK(ONCE__HOOK_SEND_PUBLISHED, ev);
	return 0;
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

/*
 * A receive that finds the value or the close already there, on a
 * private caller-storage event: the receiver is the last endpoint, moves
 * the event to DONE, and may not touch it afterwards. A process-shared
 * event goes to the library, which never calls its destructor slot.
 */
static inline int
once__take_fast(once_receiver_t *rx, void **value)
{
	once_event_t *ev;
	once_destructor_fn *dtor;
	uint32_t s;
	void *v;

	/* A tag (pooled, shared) or a kind other than caller storage. */
	if (!rx || !(ev = rx->ev_) ||
	    (rx->tag_ | (ev->flags_ & ONCE__KIND_MASK)) != 0)
		return ONCE__SLOW;
	s = __atomic_load_n(&ev->state_, __ATOMIC_ACQUIRE);
	if (s != ONCE__SENT && s != ONCE__TX_CLOSED)
		return ONCE__SLOW;
	ONCE__INLINE_VG_ACQUIRE(ev);
	v = ev->value_;
	dtor = ev->dtor_;
	ONCE__INLINE_TSAN_ACQUIRE(ev);
	rx->ev_ = NULL;
	__atomic_store_n(&ev->state_, ONCE__DONE, __ATOMIC_RELEASE);
	return once__deliver(s, v, dtor, value);
}

/* Reads the event's 32 bytes only: safe on a garbled shared event too. */
static inline int
once__event_destroy_fast(once_event_t *ev)
{
	uint32_t s;

	if (!ev || (ev->flags_ & ONCE__KIND_MASK) != ONCE__KIND_CALLER)
		return ONCE__SLOW;
	s = __atomic_load_n(&ev->state_, __ATOMIC_ACQUIRE);
	return s == ONCE__UNBOUND || s == ONCE__DONE ? 0 : ONCE__SLOW;
}

/*
 * The single-threaded twins: the same, with plain loads and stores. They
 * cannot be process-shared.
 */
static inline int
once__local_event_init_fast(once_local_event_t *ev, const once_attr_t *attr)
{
	if (!ev || (attr && (attr->flags_ & ONCE__ATTR_PSHARED)))
		return EINVAL;
	ev->value_ = NULL;
	ev->dtor_ = attr ? attr->dtor_ : NULL;
	ev->notify_ = NULL;
	ev->flags_ = ONCE__KIND_CALLER;
	ev->state_ = ONCE__UNBOUND;
	return 0;
}

static inline int
once__local_event_bind_fast(once_local_event_t *ev, once_local_sender_t *tx,
			    once_local_receiver_t *rx)
{
	if (!ev || !tx || !rx || (void *)tx == (void *)rx ||
	    (ev->flags_ & ONCE__KIND_MASK) != ONCE__KIND_CALLER ||
	    ev->state_ != ONCE__UNBOUND)
		return ONCE__SLOW;
	ev->state_ = ONCE__BOUND;
	tx->ev_ = ev;
	tx->tag_ = 0;
	rx->ev_ = ev;
	rx->tag_ = 0;
	return 0;
}

static inline int
once__local_send_fast(once_local_sender_t *tx, void *value)
{
	once_local_event_t *ev;

	if (!tx || !(ev = tx->ev_) ||
	    (ev->flags_ & ONCE__KIND_MASK) == ONCE__KIND_POOL ||
	    ev->state_ != ONCE__BOUND)
		return ONCE__SLOW;
	tx->ev_ = NULL;
	ev->value_ = value;
	ev->state_ = ONCE__SENT;
	return 0;
}

static inline int
once__local_take_fast(once_local_receiver_t *rx, void **value)
{
	once_local_event_t *ev;
	once_destructor_fn *dtor;
	uint32_t s;
	void *v;

	if (!rx || !(ev = rx->ev_) ||
	    (ev->flags_ & ONCE__KIND_MASK) != ONCE__KIND_CALLER)
		return ONCE__SLOW;
	s = ev->state_;
	if (s != ONCE__SENT && s != ONCE__TX_CLOSED)
		return ONCE__SLOW;
	v = ev->value_;
	dtor = ev->dtor_;
	rx->ev_ = NULL;
	ev->state_ = ONCE__DONE;
	return once__deliver(s, v, dtor, value);
}

static inline int
once__local_event_destroy_fast(once_local_event_t *ev)
{
	if (!ev || (ev->flags_ & ONCE__KIND_MASK) != ONCE__KIND_CALLER ||
	    (ev->state_ != ONCE__UNBOUND && ev->state_ != ONCE__DONE))
		return ONCE__SLOW;
	return 0;
}

/*
 * ONCE_INLINE: the public names become these wrappers. A parenthesised
 * name, (once_send), still calls the library, and taking a function's
 * address still yields the library's function.
 */
#ifdef ONCE_INLINE
static inline int
once__inline_event_init(once_event_t *ev, const once_attr_t *attr)
{
	return once__event_init_fast(ev, attr);
}

static inline int
once__inline_event_bind(once_event_t *ev, once_sender_t *tx,
			once_receiver_t *rx)
{
	int err = once__event_bind_fast(ev, tx, rx);

	return err != ONCE__SLOW ? err : (once_event_bind)(ev, tx, rx);
}

static inline int
once__inline_event_destroy(once_event_t *ev)
{
	int err = once__event_destroy_fast(ev);

	return err != ONCE__SLOW ? err : (once_event_destroy)(ev);
}

static inline int
once__inline_send(once_sender_t *tx, void *value)
{
	int err = once__send_fast(tx, value);

	return err != ONCE__SLOW ? err : (once_send)(tx, value);
}

static inline int
once__inline_recv(once_receiver_t *rx, void **value)
{
	int err = once__take_fast(rx, value);

	return err != ONCE__SLOW ? err : (once_recv)(rx, value);
}

static inline int
once__inline_tryrecv(once_receiver_t *rx, void **value)
{
	int err = once__take_fast(rx, value);

	return err != ONCE__SLOW ? err : (once_tryrecv)(rx, value);
}

static inline int
once__inline_local_event_init(once_local_event_t *ev, const once_attr_t *attr)
{
	return once__local_event_init_fast(ev, attr);
}

static inline int
once__inline_local_event_bind(once_local_event_t *ev,
			      once_local_sender_t *tx,
			      once_local_receiver_t *rx)
{
	int err = once__local_event_bind_fast(ev, tx, rx);

	return err != ONCE__SLOW ? err : (once_local_event_bind)(ev, tx, rx);
}

static inline int
once__inline_local_event_destroy(once_local_event_t *ev)
{
	int err = once__local_event_destroy_fast(ev);

	return err != ONCE__SLOW ? err : (once_local_event_destroy)(ev);
}

static inline int
once__inline_local_send(once_local_sender_t *tx, void *value)
{
	int err = once__local_send_fast(tx, value);

	return err != ONCE__SLOW ? err : (once_local_send)(tx, value);
}

static inline int
once__inline_local_tryrecv(once_local_receiver_t *rx, void **value)
{
	int err = once__local_take_fast(rx, value);

	return err != ONCE__SLOW ? err : (once_local_tryrecv)(rx, value);
}

#define once_event_init(ev, attr)	once__inline_event_init(ev, attr)
#define once_event_bind(ev, tx, rx)	once__inline_event_bind(ev, tx, rx)
#define once_event_destroy(ev)		once__inline_event_destroy(ev)
#define once_send(tx, value)		once__inline_send(tx, value)
#define once_recv(rx, value)		once__inline_recv(rx, value)
#define once_tryrecv(rx, value)		once__inline_tryrecv(rx, value)
#define once_local_event_init(ev, attr) \
	once__inline_local_event_init(ev, attr)
#define once_local_event_bind(ev, tx, rx) \
	once__inline_local_event_bind(ev, tx, rx)
#define once_local_event_destroy(ev) \
	once__inline_local_event_destroy(ev)
#define once_local_send(tx, value)	once__inline_local_send(tx, value)
#define once_local_tryrecv(rx, value)	once__inline_local_tryrecv(rx, value)
#endif /* ONCE_INLINE */

#ifdef __cplusplus
}
#endif

#endif /* ONCE_INLINE_H */
