/*
 * heap.c - events on the heap: reference counted (once_event_create) and
 * owned by their endpoints alone (once_channel).
 *
 * The header's count holds one reference per owner reference plus one for
 * the endpoint pair, which the endpoint that moves the event to DONE drops
 * (event.c). The pair's reference is there from the start, not taken by
 * bind: bind then touches nothing outside the event's 32 bytes, so that a
 * process-shared event whose flags another process garbled into "heap"
 * cannot make it write through a header that is not there. An event that
 * is never bound gives its pair's reference back with its last owner's.
 * Whoever drops the last one frees the block with the allocator it was
 * made with.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

static struct once__heap *
once__heap_new(const once_attr_t *attr, uint32_t refs, uint32_t state)
{
	struct once__heap *h;

	if (!(h = once__alloc(attr ? attr->alloc_ : NULL,
			      attr ? attr->ctx_ : NULL, sizeof(*h))))
		return NULL;
	h->free_ = attr && attr->alloc_ ? attr->free_ : NULL;
	h->ctx_ = attr ? attr->ctx_ : NULL;
	atomic_init(&h->refs, refs);
	ONCE__VG_ATOMIC(&h->refs);
	once__event_setup(&h->ev, attr, ONCE__KIND_HEAP, state);
	return h;
}

void
once__heap_put(once_event_t *ev)
{
	struct once__heap *h = once__heap_of(ev);

	/* For drd: each holder's last use happens before the free. */
	ONCE__VG_RELEASE(h);
	if (atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) == 1) {
		ONCE__VG_ACQUIRE(h);
		once__free(h->free_, h->ctx_, h, sizeof(*h));
	}
}

int
once_event_create(once_event_t **evp, const once_attr_t *attr)
{
	struct once__heap *h;

	if (!evp || once__attr_pshared(attr))
		return EINVAL;
	if (!(h = once__heap_new(attr, 2, ONCE__UNBOUND)))
		return ENOMEM;
	*evp = &h->ev;
	return 0;
}

int
once_event_ref(once_event_t *ev)
{
	if (!ev || once__kind(ev) != ONCE__KIND_HEAP)
		return EINVAL;
	atomic_fetch_add_explicit(&once__heap_of(ev)->refs, 1,
				  memory_order_relaxed);
	return 0;
}

int
once_event_unref(once_event_t *ev)
{
	struct once__heap *h;
	uint32_t s = ONCE__UNBOUND;

	if (!ev || once__kind(ev) != ONCE__KIND_HEAP)
		return EINVAL;
	h = once__heap_of(ev);
	/*
	 * Two references on an unbound event are ours and the pair's: no
	 * other owner is left to bind it (binding needs a reference), so the
	 * pair's goes with ours. On a bound event two references are an
	 * owner's and the live pair's, or two owners' after the pair's
	 * release: the CAS fails and the count decides, as ever.
	 */
	if (atomic_load_explicit(&h->refs, memory_order_acquire) == 2 &&
	    atomic_compare_exchange_strong_explicit(once__state(ev), &s,
						    ONCE__DONE,
						    memory_order_acq_rel,
						    memory_order_acquire)) {
		once__free(h->free_, h->ctx_, h, sizeof(*h));
		return 0;
	}
	once__heap_put(ev);
	return 0;
}

int
once_channel(once_sender_t *tx, once_receiver_t *rx, const once_attr_t *attr)
{
	struct once__heap *h;

	if (!tx || !rx || (void *)tx == (void *)rx || once__attr_pshared(attr))
		return EINVAL;
	if (!(h = once__heap_new(attr, 1, ONCE__BOUND)))
		return ENOMEM;
	tx->ev_ = &h->ev;
	tx->tag_ = 0;
	rx->ev_ = &h->ev;
	rx->tag_ = 0;
	return 0;
}
