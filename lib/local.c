/*
 * local.c - the single-threaded one-shot event.
 *
 * The state table of event.c without WAITING and LOCKED: nobody sleeps on
 * a single-threaded event and nobody races with its one thread, so every
 * transition is a plain store. The state values, the release rules, the
 * callback and destructor rules are event.c's. What is left to watch is
 * reentrancy: callbacks and destructors run after the new state is
 * stored and after every field they need was read, so that they may use
 * this event (receive from it, release it, register again) or any other.
 *
 * No atomic instruction and no system call may appear here: make check
 * disassembles this file's object and fails on lock-prefixed or xchg
 * instructions.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

/* As event.c's once__event_setup(). */
void
once__local_setup(once_local_event_t *ev, const once_attr_t *attr,
		  unsigned int kind, uint32_t state)
{
	once__local_event_init_fast(ev, attr);
	ev->flags_ |= kind;
	ev->state_ = state;
}

int
once_local_event_init(once_local_event_t *ev, const once_attr_t *attr)
{
	return once__local_event_init_fast(ev, attr);
}

static void
once__local_endpoints(once_local_event_t *ev, once_local_sender_t *tx,
		      once_local_receiver_t *rx)
{
	tx->ev_ = ev;
	tx->tag_ = 0;
	rx->ev_ = ev;
	rx->tag_ = 0;
}

int
once_local_event_bind(once_local_event_t *ev, once_local_sender_t *tx,
		      once_local_receiver_t *rx)
{
	int err = once__local_event_bind_fast(ev, tx, rx);

	if (err != ONCE__SLOW)
		return err;
	if (!ev || !tx || !rx || (void *)tx == (void *)rx)
		return EINVAL;
	if (ev->state_ != ONCE__UNBOUND)
		return ev->state_ <= ONCE__STATE_MAX ? EALREADY : EINVAL;
	ev->state_ = ONCE__BOUND;
	if (once__local_kind(ev) == ONCE__KIND_HEAP)
		once__local_heap_of(ev)->refs++;
	once__local_endpoints(ev, tx, rx);
	return 0;
}

int
once_local_event_destroy(once_local_event_t *ev)
{
	if (once__local_event_destroy_fast(ev) == 0)
		return 0;
	if (!ev || once__local_kind(ev) != ONCE__KIND_CALLER)
		return EINVAL;
	if (ev->state_ == ONCE__UNBOUND || ev->state_ == ONCE__DONE)
		return 0;
	return ev->state_ <= ONCE__STATE_MAX ? EBUSY : EINVAL;
}

static struct once__local_heap *
once__local_heap_new(const once_attr_t *attr, uint32_t state)
{
	struct once__local_heap *h;

	if (!(h = once__alloc(attr ? attr->alloc_ : NULL,
			      attr ? attr->ctx_ : NULL, sizeof(*h))))
		return NULL;
	h->free_ = attr && attr->alloc_ ? attr->free_ : NULL;
	h->ctx_ = attr ? attr->ctx_ : NULL;
	h->refs = 1;
	once__local_setup(&h->ev, attr, ONCE__KIND_HEAP, state);
	return h;
}

static void
once__local_heap_put(once_local_event_t *ev)
{
	struct once__local_heap *h = once__local_heap_of(ev);

	if (--h->refs == 0)
		once__free(h->free_, h->ctx_, h, sizeof(*h));
}

int
once_local_event_create(once_local_event_t **evp, const once_attr_t *attr)
{
	struct once__local_heap *h;

	if (!evp || once__attr_pshared(attr))
		return EINVAL;
	if (!(h = once__local_heap_new(attr, ONCE__UNBOUND)))
		return ENOMEM;
	*evp = &h->ev;
	return 0;
}

int
once_local_event_ref(once_local_event_t *ev)
{
	if (!ev || once__local_kind(ev) != ONCE__KIND_HEAP)
		return EINVAL;
	once__local_heap_of(ev)->refs++;
	return 0;
}

int
once_local_event_unref(once_local_event_t *ev)
{
	if (!ev || once__local_kind(ev) != ONCE__KIND_HEAP)
		return EINVAL;
	once__local_heap_put(ev);
	return 0;
}

int
once_local_channel(once_local_sender_t *tx, once_local_receiver_t *rx,
		   const once_attr_t *attr)
{
	struct once__local_heap *h;

	if (!tx || !rx || (void *)tx == (void *)rx || once__attr_pshared(attr))
		return EINVAL;
	if (!(h = once__local_heap_new(attr, ONCE__BOUND)))
		return ENOMEM;
	once__local_endpoints(&h->ev, tx, rx);
	return 0;
}

/*
 * The event of a live endpoint, or NULL: cleared, or a stale copy of a
 * pooled event's endpoint after the pool bound the event again, which is
 * cleared (as event.c's once__endpoint()).
 */
static once_local_event_t *
once__local_endpoint(once_local_event_t **evp, uintptr_t tag)
{
	once_local_event_t *ev = *evp;

	if (ev && !once__local_current(ev, tag))
		ev = *evp = NULL;
	return ev;
}

/* For the queries: a live endpoint whose event is still pending? */
static int
once__local_live_pending(const once_local_event_t *ev, uintptr_t tag)
{
	return ev && once__local_current(ev, tag) &&
	       once__pending(ev->state_);
}

/* Move ev to DONE and drop the pair's reference (see event.c). */
static void
once__local_release(once_local_event_t *ev)
{
	ev->state_ = ONCE__DONE;
	switch (once__local_kind(ev)) {
	case ONCE__KIND_HEAP:
		once__local_heap_put(ev);
		break;
	case ONCE__KIND_POOL:
		once__local_pool_put(ev);
		break;
	}
}

/* Take a registered callback's argument; its record goes. */
static void *
once__local_take_arg(once_local_event_t *ev)
{
	struct once__wnote *rec = ev->value_;
	void *arg = rec->arg;

	free(rec);
	return arg;
}

/* The sender's half: publish target, SENT (with value) or TX_CLOSED. */
static int
once__local_tx_finish(once_local_sender_t *tx, uint32_t target, void *value)
{
	once_local_event_t *ev;
	once_notify_fn *fn = NULL;
	void *arg = NULL;

	if (!tx || !(ev = once__local_endpoint(&tx->ev_, tx->tag_)))
		return EINVAL;
	tx->ev_ = NULL;
	switch (ev->state_) {
	case ONCE__NOTIFY:
		fn = ev->notify_;
		arg = once__local_take_arg(ev);
		/* fall through */
	case ONCE__BOUND:
		ev->value_ = value;
		ev->state_ = target;
		if (fn)
			fn(arg);
		return 0;
	case ONCE__RX_CLOSED:
		once__local_release(ev);
		return EPIPE;
	default:
		return EINVAL;
	}
}

int
once_local_send(once_local_sender_t *tx, void *value)
{
	if (once__local_send_fast(tx, value) == 0)
		return 0;
	return once__local_tx_finish(tx, ONCE__SENT, value);
}

int
once_local_sender_close(once_local_sender_t *tx)
{
	int err = once__local_tx_finish(tx, ONCE__TX_CLOSED, NULL);

	return err == EPIPE ? 0 : err;
}

int
once_local_sender_closed(const once_local_sender_t *tx)
{
	return !tx || !once__local_live_pending(tx->ev_, tx->tag_);
}

/* Finish a receive in SENT or TX_CLOSED: rx is the last endpoint. */
static int
once__local_take(once_local_receiver_t *rx, once_local_event_t *ev,
		 void **value)
{
	uint32_t s = ev->state_;
	void *v = ev->value_;
	once_destructor_fn *dtor = ev->dtor_;

	rx->ev_ = NULL;
	once__local_release(ev);
	return once__deliver(s, v, dtor, value);
}

int
once_local_tryrecv(once_local_receiver_t *rx, void **value)
{
	once_local_event_t *ev;
	int err = once__local_take_fast(rx, value);

	if (err != ONCE__SLOW)
		return err;
	if (!rx || !(ev = once__local_endpoint(&rx->ev_, rx->tag_)))
		return EINVAL;
	if (ev->state_ == ONCE__SENT || ev->state_ == ONCE__TX_CLOSED)
		return once__local_take(rx, ev, value);
	if (once__pending(ev->state_))
		return EAGAIN;
	rx->ev_ = NULL;
	return EINVAL;
}

int
once_local_receiver_ready(const once_local_receiver_t *rx)
{
	return !rx || !once__local_live_pending(rx->ev_, rx->tag_);
}

int
once_local_receiver_close(once_local_receiver_t *rx)
{
	once_local_event_t *ev;
	once_notify_fn *fn;
	void *arg;

	if (!rx || !(ev = once__local_endpoint(&rx->ev_, rx->tag_)))
		return EINVAL;
	switch (ev->state_) {
	case ONCE__BOUND:
		rx->ev_ = NULL;
		ev->state_ = ONCE__RX_CLOSED;
		return 0;
	case ONCE__NOTIFY:
		rx->ev_ = NULL;
		fn = ev->notify_;
		arg = once__local_take_arg(ev);
		ev->state_ = ONCE__RX_CLOSED;
		fn(arg);
		return 0;
	case ONCE__SENT:
	case ONCE__TX_CLOSED:
		once__local_take(rx, ev, NULL);
		return 0;
	default:
		rx->ev_ = NULL;
		return EINVAL;
	}
}

/*
 * A registered callback keeps fn in notify_ and, in value_, its waiter
 * record (with fn's argument), which inspection reads off the event.
 */
int
once_local_receiver_notify(once_local_receiver_t *rx, once_notify_fn *fn,
			   void *arg)
{
	once_local_event_t *ev;
	struct once__wnote *rec;

	if (!fn || !rx || !(ev = once__local_endpoint(&rx->ev_, rx->tag_)))
		return EINVAL;
	switch (ev->state_) {
	case ONCE__BOUND:
		if (!(rec = malloc(sizeof(*rec))))
			return ENOMEM;
		once__winfo_init(&rec->info, ONCE_WAIT_NOTIFY);
		rec->arg = arg;
		ev->notify_ = fn;
		ev->value_ = rec;
		ev->state_ = ONCE__NOTIFY;
		return 0;
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

int
once_local_event_inspect(once_local_event_t *ev, once_inspect_fn *fn,
			 void *arg)
{
	struct once__wlist l = { NULL, 0, 0, 0 };

	if (!ev || !fn)
		return EINVAL;
	if (ev->state_ == ONCE__NOTIFY)
		once__wlist_push(&l, ev,
				 &((struct once__wnote *)ev->value_)->info);
	return once__wlist_report(&l, fn, arg);
}
