/*
 * local_pool.c - pools of single-threaded events.
 *
 * Events live in slabs of ONCE__SLAB_EVENTS slots, allocated with the
 * pool's allocator when a bind finds no free slot. A free slot sits on
 * the pool's free list; a bound one is an ordinary single-threaded event
 * whose kind says "pool", so the endpoint that releases it (local.c)
 * hands it back here. Counters: live_ counts events out, nfree_ the free
 * list, nslabs_ the slabs; a slab's nfree counts its own free slots, so
 * trim can tell which slabs are entirely free.
 *
 * A heap pool (create) whose owners have all let go while events are out
 * is freed by the put that brings the last event back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ONCE__SLAB_EVENTS	64

#define ONCE__POOL_HEAP		0x1u	/* made by create: refcounted */

/* slab.nfree of a slab that trim is freeing (0 would be a full slab). */
#define ONCE__SLAB_DYING	((size_t)-1)

struct once__local_slab {
	once_local_pool_t *pool;
	struct once__local_slab *next;
	size_t nfree;
	struct once__local_slot slots[ONCE__SLAB_EVENTS];
};

static void
once__pool_setup(once_local_pool_t *pool, const once_attr_t *attr,
		 uint32_t flags)
{
	memset(pool, 0, sizeof(*pool));
	if (attr) {
		pool->dtor_ = attr->dtor_;
		pool->alloc_ = attr->alloc_;
		pool->free_fn_ = attr->free_;
		pool->ctx_ = attr->ctx_;
	}
	pool->flags_ = flags;
	pool->refs_ = flags & ONCE__POOL_HEAP ? 1 : 0;
}

static void
once__pool_free_slabs(once_local_pool_t *pool)
{
	struct once__local_slab *slab = pool->slabs_, *next;

	for (; slab; slab = next) {
		next = slab->next;
		once__free(pool->free_fn_, pool->ctx_, slab, sizeof(*slab));
	}
	pool->slabs_ = NULL;
	pool->free_ = NULL;
	pool->nfree_ = 0;
	pool->nslabs_ = 0;
}

/* The last reference and the last event are gone: free it all. */
static void
once__pool_free_heap(once_local_pool_t *pool)
{
	once_local_pool_t copy = *pool;

	once__pool_free_slabs(pool);
	once__free(copy.free_fn_, copy.ctx_, pool, sizeof(*pool));
}

int
once_local_pool_init(once_local_pool_t *pool, const once_attr_t *attr)
{
	if (!pool || once__attr_pshared(attr))
		return EINVAL;
	once__pool_setup(pool, attr, 0);
	return 0;
}

int
once_local_pool_destroy(once_local_pool_t *pool)
{
	if (!pool || pool->flags_ & ONCE__POOL_HEAP)
		return EINVAL;
	if (pool->live_)
		return EBUSY;
	once__pool_free_slabs(pool);
	return 0;
}

int
once_local_pool_create(once_local_pool_t **poolp, const once_attr_t *attr)
{
	once_local_pool_t *pool;

	if (!poolp || once__attr_pshared(attr))
		return EINVAL;
	if (!(pool = once__alloc(attr ? attr->alloc_ : NULL,
				 attr ? attr->ctx_ : NULL, sizeof(*pool))))
		return ENOMEM;
	once__pool_setup(pool, attr, ONCE__POOL_HEAP);
	*poolp = pool;
	return 0;
}

int
once_local_pool_ref(once_local_pool_t *pool)
{
	if (!pool || !(pool->flags_ & ONCE__POOL_HEAP))
		return EINVAL;
	pool->refs_++;
	return 0;
}

int
once_local_pool_unref(once_local_pool_t *pool)
{
	if (!pool || !(pool->flags_ & ONCE__POOL_HEAP) || !pool->refs_)
		return EINVAL;
	if (--pool->refs_ == 0 && pool->live_ == 0)
		once__pool_free_heap(pool);
	return 0;
}

static int
once__pool_grow(once_local_pool_t *pool)
{
	struct once__local_slab *slab;
	int i;

	if (!(slab = once__alloc(pool->alloc_, pool->ctx_, sizeof(*slab))))
		return ENOMEM;
	slab->pool = pool;
	slab->nfree = ONCE__SLAB_EVENTS;
	slab->next = pool->slabs_;
	pool->slabs_ = slab;
	for (i = ONCE__SLAB_EVENTS - 1; i >= 0; i--) {
		slab->slots[i].slab = slab;
		slab->slots[i].gen = 0;
		/* Free, as inspection reads it: never NOTIFY. */
		slab->slots[i].ev.state_ = ONCE__UNBOUND;
		slab->slots[i].next = pool->free_;
		pool->free_ = &slab->slots[i];
	}
	pool->nfree_ += ONCE__SLAB_EVENTS;
	pool->nslabs_++;
	return 0;
}

int
once_local_pool_bind(once_local_pool_t *pool, once_local_sender_t *tx,
		     once_local_receiver_t *rx)
{
	struct once__local_slot *slot;

	if (!pool || !tx || !rx || (void *)tx == (void *)rx)
		return EINVAL;
	if (!pool->free_ && once__pool_grow(pool))
		return ENOMEM;
	slot = pool->free_;
	pool->free_ = slot->next;
	pool->nfree_--;
	pool->live_++;
	slot->slab->nfree--;
	once__local_setup(&slot->ev, NULL, ONCE__KIND_POOL, ONCE__BOUND);
	slot->ev.dtor_ = pool->dtor_;
	tx->ev_ = rx->ev_ = &slot->ev;
	tx->tag_ = rx->tag_ = ++slot->gen;
	return 0;
}

void
once__local_pool_put(once_local_event_t *ev)
{
	struct once__local_slot *slot = (struct once__local_slot *)ev;
	once_local_pool_t *pool = slot->slab->pool;

	slot->next = pool->free_;
	pool->free_ = slot;
	pool->nfree_++;
	pool->live_--;
	slot->slab->nfree++;
	if (pool->flags_ & ONCE__POOL_HEAP && !pool->refs_ && !pool->live_)
		once__pool_free_heap(pool);
}

int
once_local_pool_stats(const once_local_pool_t *pool,
		      struct once_pool_stats *st)
{
	if (!pool || !st)
		return EINVAL;
	st->live = pool->live_;
	st->free = pool->nfree_;
	st->capacity = pool->live_ + pool->nfree_;
	st->slabs = pool->nslabs_;
	return 0;
}

int
once_local_pool_trim(once_local_pool_t *pool, size_t keep)
{
	struct once__local_slab **sp, *slab;
	struct once__local_slot **pp;

	if (!pool)
		return EINVAL;
	/* Choose: entirely free slabs, while enough free events remain. */
	for (slab = pool->slabs_; slab; slab = slab->next) {
		/* (keep + a slab could wrap: subtract instead.) */
		if (slab->nfree != ONCE__SLAB_EVENTS ||
		    pool->nfree_ - ONCE__SLAB_EVENTS < keep)
			continue;
		slab->nfree = ONCE__SLAB_DYING;
		pool->nfree_ -= ONCE__SLAB_EVENTS;
	}
	/* Unlink their slots from the free list, then free them. */
	for (pp = (struct once__local_slot **)&pool->free_; *pp;)
		if ((*pp)->slab->nfree == ONCE__SLAB_DYING)
			*pp = (*pp)->next;
		else
			pp = &(*pp)->next;
	for (sp = (struct once__local_slab **)&pool->slabs_; (slab = *sp);)
		if (slab->nfree == ONCE__SLAB_DYING) {
			*sp = slab->next;
			pool->nslabs_--;
			once__free(pool->free_fn_, pool->ctx_, slab, sizeof(*slab));
		} else {
			sp = &slab->next;
		}
	return 0;
}

int
once_local_pool_inspect(once_local_pool_t *pool, once_inspect_fn *fn,
			void *arg)
{
	struct once__wlist l = { NULL, 0, 0, 0 };
	struct once__local_slab *slab;
	once_local_event_t *ev;
	int i;

	if (!pool || !fn)
		return EINVAL;
	for (slab = pool->slabs_; slab; slab = slab->next)
		for (i = 0; i < ONCE__SLAB_EVENTS; i++) {
			ev = &slab->slots[i].ev;
			if (ev->state_ == ONCE__NOTIFY)
				once__wlist_push(&l, ev, &((struct once__wnote *)
						       ev->value_)->info);
		}
	return once__wlist_report(&l, fn, arg);
}
