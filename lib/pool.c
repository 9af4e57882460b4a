/*
 * pool.c - pools of thread-safe events on liburcu.
 *
 * Longer than one concept per screen because the recycling scheme is one
 * piece; it reads top-down: layout, thread caches, recycling, the public
 * calls.
 *
 * Events live in slabs of ONCE__SLAB_EVENTS slots. A free slot is in one
 * of three places:
 *  - a thread cache: each thread keeps up to ONCE__TC_MAX free slots per
 *    pool (for a few pools), used without atomics. A thread reuses what
 *    it released at once: such a slot never goes back onto a shared
 *    stack, so no concurrent pop can mistake it for the head it read
 *    (ABA), and no grace period is needed. A single-thread bind/release
 *    loop touches nothing shared.
 *  - the free stack (liburcu lfstack): popped with __cds_lfs_pop under
 *    rcu_read_lock(), so pop is ABA-safe only if a popped slot is pushed
 *    back no sooner than a grace period later (liburcu's rule).
 *  - the limbo stack: where a thread cache spills half its slots when it
 *    overflows (a thread that releases more than it binds: the receiving
 *    side of a producer/consumer pair). Limbo is emptied only with
 *    __cds_lfs_pop_all, which needs no synchronisation when nobody uses
 *    __cds_lfs_pop on the same stack.
 * A bind with an empty cache pops from the free stack; if that is empty
 * and limbo holds a slab's worth, it takes all of limbo, waits one grace
 * period (synchronize_rcu: every pop that might have seen these slots on
 * the free stack has ended) and reuses them; otherwise it grows the pool
 * by a slab. Capacity therefore stays near what is live plus the caches
 * and one slab of limbo, whatever the rate of hand-offs: nothing waits for
 * a grace period unless a bind needs it. (call_rcu was measured out: its
 * worker batches for about 10 ms, so a fast producer/consumer pair parked
 * thousands of events in it.)
 *
 * What is live (bound, not yet released by both endpoints) is read off
 * the events' states, not counted: a shared counter would be a cache line
 * every bind and release fight over. destroy, stats and the orphaned heap
 * pool scan the slabs instead; the scans are rare.
 *
 * A heap pool whose owners have all let go while events are out is
 * "orphaned"; the release that leaves no event live frees it. That
 * release and the last unref each run a read-side section around "store
 * DONE / read orphaned" and "store orphaned / scan", with seq_cst on both
 * sides so that one of them sees the other; the one whose scan finds
 * nothing live and wins the CAS on freeing waits a grace period (the
 * others may still be scanning) and frees.
 *
 * Locks: once__reg_lock (the registry of live pools, for thread exit and
 * fork) before pool->lock (slab list, growth, trim, stats, destroy), which
 * is only taken inside the fork gate (once__pool_lock()), one pool at a
 * time. Neither is ever taken inside a read-side section, and
 * synchronize_rcu() is never called inside one.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-bp.h>
#include <urcu/lfstack.h>

#include "futex.h"
#include "internal.h"

#define ONCE__SLAB_EVENTS	64
#define ONCE__TC_POOLS		4	/* pools a thread caches for */
#define ONCE__TC_MAX		64	/* free slots per pool and thread */
#define ONCE__POOL_HEAP		0x1u

struct once__slab;

/* One cache line per event: neighbours used by other threads do not
 * share it. */
struct once__slot {
	once_event_t ev;		/* first: the event is the slot */
	struct cds_lfs_node node;	/* on the free or limbo stack */
	struct once__slot *tc_next;	/* in a thread cache */
	struct once__slab *slab;	/* r/o after the slab is made */
	_Atomic uintptr_t gen;		/* binds so far; endpoints' tag_ */
} __attribute__((aligned(64)));

_Static_assert(offsetof(struct once__slot, gen) == ONCE__SLOT_GEN_OFFSET,
	       "internal.h's once__pool_current() reads gen here");

struct once__slab {
	struct once__slot slots[ONCE__SLAB_EVENTS];
	void *block;			/* r/o: what the allocator returned */
	struct once__pool *pool;	/* r/o */
	struct once__slab *next;	/* pool->slabs, under pool->lock */
	unsigned int found;		/* trim's count, under pool->lock */
};

struct once__pool {
	struct __cds_lfs_stack free;
	struct __cds_lfs_stack limbo;
	atomic_size_t nlimbo;
	atomic_int reclaiming;		/* a bind is waiting out a GP */
	atomic_size_t nslabs;
	pthread_mutex_t lock;
	struct once__slab *slabs;	/* under lock */
	uint64_t id;			/* r/o: what thread caches key on */
	atomic_uint refs;		/* heap pools: owner references */
	atomic_int orphaned;
	atomic_int freeing;
	uint32_t flags;			/* r/o */
	uint32_t ev_flags;		/* r/o: the events' flags_ */
	once_destructor_fn *dtor;	/* r/o */
	once_alloc_fn *alloc;		/* r/o */
	once_free_fn *free_fn;		/* r/o */
	void *ctx;			/* r/o */
	struct once__pool *reg_next;	/* under once__reg_lock */
};

_Static_assert(sizeof(struct once__pool) <= sizeof(once_pool_t),
	       "once_pool_t is too small for struct once__pool");
_Static_assert(_Alignof(struct once__pool) <= _Alignof(once_pool_t),
	       "once_pool_t is not aligned enough");
_Static_assert(offsetof(struct once__slot, ev) == 0,
	       "the event must be the slot's first member");

/*
 * The slots are cache-line aligned, and the allocator promises only
 * malloc's alignment (16 bytes here): ask for a line more than a slab
 * and align within it. once-torture found slabs at 16 mod 64 with an
 * allocator that keeps a header (undefined behaviour, and events
 * sharing lines with their neighbours).
 */
#define ONCE__SLAB_BLOCK	(sizeof(struct once__slab) + 63)

static struct once__slab *
once__slab_alloc(struct once__pool *p)
{
	void *block = once__alloc(p->alloc, p->ctx, ONCE__SLAB_BLOCK);
	struct once__slab *slab;

	if (!block)
		return NULL;
	slab = (struct once__slab *)(((uintptr_t)block + 63) &
				     ~(uintptr_t)63);
	memset(slab, 0, sizeof(*slab));
	slab->block = block;
	return slab;
}

static void
once__slab_free(struct once__pool *p, struct once__slab *slab)
{
	once__free(p->free_fn, p->ctx, slab->block, ONCE__SLAB_BLOCK);
}

static inline struct once__pool *
once__pool(once_pool_t *pool)
{
	return (struct once__pool *)pool;
}

static inline struct once__slot *
once__slot_of(once_event_t *ev)
{
	return (struct once__slot *)ev;
}

static inline struct once__slot *
once__slot_of_node(struct cds_lfs_node *n)
{
	return caa_container_of(n, struct once__slot, node);
}

/* The registry of live pools: thread exit and fork need to know them. */
static pthread_mutex_t once__reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct once__pool *once__reg;
static uint64_t once__next_id;		/* under once__reg_lock */

/*
 * The fork gate. A pool lock held by another thread at fork() would stay
 * locked in the child for ever; rather than lock every pool around fork
 * (ThreadSanitizer aborts a thread that holds more than 64 locks, which
 * 47 pools reached), the gate counts the sections under pool locks:
 * prefork takes once__gate_lock, which every section passes on its way
 * in, and waits until the sections already in have left. They wake it
 * as they leave; the nap's limit only bounds the wait, should a wake
 * be missed. No condition variable: the child could not use one that
 * had waiters in the parent.
 */
static pthread_mutex_t once__gate_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint32_t once__gate_open;	/* sections under a pool lock */
static atomic_int once__gate_closed;		/* prefork is waiting */

static void
once__pool_lock(struct once__pool *p)
{
	pthread_mutex_lock(&once__gate_lock);
	atomic_fetch_add(&once__gate_open, 1);
	pthread_mutex_unlock(&once__gate_lock);
	pthread_mutex_lock(&p->lock);
	ONCE__HOOK(ONCE__HOOK_POOL_LOCKED, NULL);
}

static void
once__pool_unlock(struct once__pool *p)
{
	pthread_mutex_unlock(&p->lock);
	once__tsan_release(&once__gate_open);
	/* seq_cst against prefork's store of closed and load of open. */
	if (atomic_fetch_sub(&once__gate_open, 1) == 1 &&
	    atomic_load(&once__gate_closed))
		once__futex_wake(&once__gate_open, 0);
}

/* Thread caches. */
struct once__tc_entry {
	struct once__pool *pool;
	uint64_t id;
	struct once__slot *head;
	unsigned int n;
};

struct once__tcache {
	struct once__tc_entry e[ONCE__TC_POOLS];
	struct once__tc_entry *last;	/* the entry used last: tried first */
	unsigned int victim;
	int keyed;
};

/*
 * initial-exec: a plain %fs-relative access instead of a __tls_get_addr
 * call in a shared library, measured at about a third of a bind/release
 * cycle. The cost is static TLS space, which glibc also reserves for
 * libraries loaded with dlopen.
 */
static __thread struct once__tcache once__tc
	__attribute__((tls_model("initial-exec")));
static pthread_key_t once__tc_key;

/* Is p still a live pool with this id? Under once__reg_lock. */
static int
once__registered(struct once__pool *p, uint64_t id)
{
	struct once__pool *q;

	for (q = once__reg; q; q = q->reg_next)
		if (q == p && q->id == id)
			return 1;
	return 0;
}

static void
once__push(struct __cds_lfs_stack *s, struct once__slot *slot)
{
	once__tsan_release(slot);
	cds_lfs_push(s, &slot->node);
}

/* Move n slots (a list through tc_next) to limbo. */
static void
once__to_limbo(struct once__pool *p, struct once__slot *head, unsigned int n)
{
	struct once__slot *next;

	for (; head; head = next) {
		next = head->tc_next;
		once__push(&p->limbo, head);
	}
	atomic_fetch_add_explicit(&p->nlimbo, n, memory_order_relaxed);
}

/*
 * Give an entry's slots back to its pool, if that pool still lives; the
 * slots of a destroyed pool are forgotten (its slabs are gone).
 */
static void
once__tc_drop(struct once__tc_entry *e)
{
	if (e->head) {
		pthread_mutex_lock(&once__reg_lock);
		if (once__registered(e->pool, e->id))
			once__to_limbo(e->pool, e->head, e->n);
		pthread_mutex_unlock(&once__reg_lock);
	}
	memset(e, 0, sizeof(*e));
}

static void
once__tc_exit(void *arg)
{
	struct once__tcache *tc = arg;
	int i;

	for (i = 0; i < ONCE__TC_POOLS; i++)
		once__tc_drop(&tc->e[i]);
}

/* once__tc_get() when p is not the pool this thread used last. */
static __attribute__((noinline)) struct once__tc_entry *
once__tc_get_slow(struct once__pool *p)
{
	struct once__tcache *tc = &once__tc;
	struct once__tc_entry *e;
	int i;

	for (i = 0; i < ONCE__TC_POOLS; i++)
		if (tc->e[i].pool == p && tc->e[i].id == p->id)
			return tc->last = &tc->e[i];
	if (!tc->keyed) {
		/* Only so that the key's destructor runs at thread exit. */
		pthread_setspecific(once__tc_key, tc);
		tc->keyed = 1;
	}
	for (i = 0; i < ONCE__TC_POOLS; i++)
		if (!tc->e[i].pool || tc->e[i].pool == p)
			break;
	if (i == ONCE__TC_POOLS)
		i = tc->victim++ % ONCE__TC_POOLS;
	e = &tc->e[i];
	once__tc_drop(e);
	e->pool = p;
	e->id = p->id;
	return tc->last = e;
}

/*
 * This thread's cache entry for p, made if need be. The common case (the
 * pool used last) is inline: callgrind counted half of this function's
 * instructions in the prologue the slow path needs.
 */
static inline struct once__tc_entry *
once__tc_get(struct once__pool *p)
{
	struct once__tc_entry *e = once__tc.last;

	if (e && e->pool == p && e->id == p->id)
		return e;
	return once__tc_get_slow(p);
}

static void
once__tc_add(struct once__tc_entry *e, struct once__slot *slot)
{
	slot->tc_next = e->head;
	e->head = slot;
	e->n++;
}

/* Keep the first room slots of a list in the cache; return the rest. */
static struct once__slot *
once__tc_fill(struct once__tc_entry *e, struct once__slot *list)
{
	struct once__slot *next;

	for (; list && e->n < ONCE__TC_MAX; list = next) {
		next = list->tc_next;
		once__tc_add(e, list);
	}
	return list;
}

/* Pop up to ONCE__TC_MAX / 4 slots from the free stack into the cache. */
static void
once__refill_free(struct once__pool *p, struct once__tc_entry *e)
{
	struct cds_lfs_node *n;
	int k;

	rcu_read_lock();
	for (k = 0; k < ONCE__TC_MAX / 4; k++) {
		if (!(n = __cds_lfs_pop(&p->free)))
			break;
		once__tsan_acquire(once__slot_of_node(n));
		once__tc_add(e, once__slot_of_node(n));
	}
	rcu_read_unlock();
}

/*
 * Take all of limbo, wait a grace period, keep a quarter cache and put the
 * rest onto the free stack, where binds waiting for this reclaim find it.
 * Returns whether limbo had anything.
 */
static int
once__reclaim(struct once__pool *p, struct once__tc_entry *e)
{
	struct cds_lfs_head *head = __cds_lfs_pop_all(&p->limbo);
	struct cds_lfs_node *n, *next;
	struct once__slot *list = NULL, *slot;
	size_t count = 0;

	if (!head)
		return 0;
	atomic_fetch_add_explicit(&p->reclaiming, 1, memory_order_relaxed);
	for (n = &head->node; n; n = next) {
		slot = once__slot_of_node(n);
		once__tsan_acquire(slot);	/* before reading n->next */
		next = n->next;
		slot->tc_next = list;
		list = slot;
		count++;
	}
	atomic_fetch_sub_explicit(&p->nlimbo, count, memory_order_relaxed);
	synchronize_rcu();
	for (; list && e->n < ONCE__TC_MAX / 4; list = slot) {
		slot = list->tc_next;
		once__tc_add(e, list);
	}
	for (; list; list = slot) {
		slot = list->tc_next;
		once__push(&p->free, list);
	}
	atomic_fetch_sub_explicit(&p->reclaiming, 1, memory_order_release);
	return 1;
}

/* Add a slab; its slots go to the cache and the free stack. */
static int
once__grow(struct once__pool *p, struct once__tc_entry *e)
{
	struct once__slab *slab;
	struct once__slot *list = NULL, *slot;
	int i;

	if (!(slab = once__slab_alloc(p)))
		return ENOMEM;
	slab->pool = p;
	for (i = ONCE__SLAB_EVENTS - 1; i >= 0; i--) {
		slot = &slab->slots[i];
		slot->slab = slab;
		atomic_init(&slot->gen, 0);
		/*
		 * For drd: the state and the generation are atomics, and the
		 * stacks' link is liburcu's, written before a push's cmpxchg
		 * and read after a pop, or by a pop that then loses its
		 * cmpxchg while the node is pushed elsewhere (a read that
		 * liburcu's design allows: its value is discarded).
		 */
		ONCE__VG_ATOMIC(&slot->ev.state_);
		ONCE__VG_ATOMIC(&slot->gen);
		ONCE__VG_ATOMIC(&slot->node.next);
		slot->tc_next = list;
		list = slot;
	}
	once__pool_lock(p);
	slab->next = p->slabs;
	p->slabs = slab;
	atomic_fetch_add_explicit(&p->nslabs, 1, memory_order_relaxed);
	once__pool_unlock(p);
	/* Fresh slots were never popped: they may go onto the stack now. */
	for (list = once__tc_fill(e, list); list; list = slot) {
		slot = list->tc_next;
		once__push(&p->free, list);
	}
	return 0;
}

/*
 * Give an empty cache at least one slot: from the free stack; else from
 * limbo (one grace period, about a microsecond here); else, if another
 * bind is reclaiming, from what it puts on the free stack; else from a new
 * slab. Growing only when nothing is free or on its way keeps capacity
 * near what is live (measured: growing while another bind waited out its
 * grace period let two pipelines reach 124 slabs for 8 live).
 */
static int
once__refill(struct once__pool *p, struct once__tc_entry *e)
{
	for (;;) {
		once__refill_free(p, e);
		if (e->head || once__reclaim(p, e))
			return 0;
		if (!atomic_load_explicit(&p->reclaiming,
					  memory_order_acquire))
			break;
		sched_yield();
	}
	return once__grow(p, e);
}

static int
once__live_state(uint32_t s)
{
	return s != ONCE__UNBOUND && s != ONCE__DONE;
}

/* Events out, read off their states. Slab list stable (lock or orphan). */
static size_t
once__count_live(struct once__pool *p)
{
	struct once__slab *slab;
	size_t live = 0;
	int i;

	for (slab = p->slabs; slab; slab = slab->next)
		for (i = 0; i < ONCE__SLAB_EVENTS; i++)
			live += once__live_state(atomic_load_explicit(
				once__state(&slab->slots[i].ev),
				memory_order_seq_cst));
	return live;
}

static void
once__unregister(struct once__pool *p)
{
	struct once__pool **pp;

	pthread_mutex_lock(&once__reg_lock);
	for (pp = &once__reg; *pp; pp = &(*pp)->reg_next)
		if (*pp == p) {
			*pp = p->reg_next;
			break;
		}
	pthread_mutex_unlock(&once__reg_lock);
}

/* Unregistered, and after a grace period: nobody can reach the slabs. */
static void
once__free_slabs(struct once__pool *p)
{
	struct once__slab *slab, *next;

	for (slab = p->slabs; slab; slab = next) {
		next = slab->next;
		once__slab_free(p, slab);
	}
	p->slabs = NULL;
}

/*
 * An orphaned heap pool: free it if no event is live. Called inside a
 * read-side section, which it leaves.
 */
static void
once__orphan_check_unlock(struct once__pool *p)
{
	int zero = 0;

	if (once__count_live(p) || !atomic_compare_exchange_strong(
			&p->freeing, &zero, 1)) {
		/* Our scan is over before the freer's grace period ends. */
		once__tsan_release(p);
		rcu_read_unlock();
		return;
	}
	rcu_read_unlock();
	once__unregister(p);
	synchronize_rcu();	/* other releasers may still be scanning */
	once__tsan_acquire(p);	/* their scans: TSan cannot see the GP */
	once__free_slabs(p);
	pthread_mutex_destroy(&p->lock);
	once__free(p->free_fn, p->ctx, p, sizeof(once_pool_t));
}

/*
 * The endpoint that moved a pooled event to DONE releases it here (from
 * event.c, which has read everything it needs from the event).
 */
void
once__pool_put(once_event_t *ev)
{
	struct once__slot *slot = once__slot_of(ev);
	struct once__pool *p = slot->slab->pool;
	struct once__tc_entry *e = once__tc_get(p);
	struct once__slot *keep;
	unsigned int i;

	/*
	 * The pool lives while this event does: cache it (and spill the
	 * colder half of a full cache to limbo) before it is DONE.
	 */
	if (e->n == ONCE__TC_MAX) {
		keep = e->head;
		for (i = 1; i < ONCE__TC_MAX / 2; i++)
			keep = keep->tc_next;
		once__to_limbo(p, keep->tc_next, ONCE__TC_MAX / 2);
		keep->tc_next = NULL;
		e->n = ONCE__TC_MAX / 2;
	}
	once__tc_add(e, slot);
	/* Only a heap pool can be orphaned, and only its releases pay. */
	if (!(p->flags & ONCE__POOL_HEAP)) {
		atomic_store_explicit(once__state(ev), ONCE__DONE,
				      memory_order_release);
		return;
	}
	rcu_read_lock();
	atomic_store_explicit(once__state(ev), ONCE__DONE, memory_order_seq_cst);
	if (atomic_load_explicit(&p->orphaned, memory_order_seq_cst))
		once__orphan_check_unlock(p);
	else
		rcu_read_unlock();
}

/* The pool a pooled event belongs to (inspection keys on it), or NULL. */
const void *
once__pool_of(once_event_t *ev)
{
	return once__kind(ev) == ONCE__KIND_POOL ?
	       once__slot_of(ev)->slab->pool : NULL;
}

int
once_pool_init(once_pool_t *pool, const once_attr_t *attr)
{
	struct once__pool *p = once__pool(pool);
	once_event_t proto;

	if (!pool || once__attr_pshared(attr))
		return EINVAL;
	memset(pool, 0, sizeof(*pool));
	__cds_lfs_init(&p->free);
	__cds_lfs_init(&p->limbo);
	if (pthread_mutex_init(&p->lock, NULL))
		return ENOMEM;
	/* The events' flags_ (kind, spin) as init would make them. */
	once__event_setup(&proto, attr, ONCE__KIND_POOL, ONCE__UNBOUND);
	p->ev_flags = proto.flags_;
	p->dtor = proto.dtor_;
	if (attr) {
		p->alloc = attr->alloc_;
		p->free_fn = attr->free_;
		p->ctx = attr->ctx_;
	}
	pthread_mutex_lock(&once__reg_lock);
	p->id = ++once__next_id;
	p->reg_next = once__reg;
	once__reg = p;
	pthread_mutex_unlock(&once__reg_lock);
	return 0;
}

int
once_pool_destroy(once_pool_t *pool)
{
	struct once__pool *p = once__pool(pool);

	if (!pool || p->flags & ONCE__POOL_HEAP)
		return EINVAL;
	once__pool_lock(p);
	if (once__count_live(p)) {
		once__pool_unlock(p);
		return EBUSY;
	}
	once__pool_unlock(p);
	once__unregister(p);
	synchronize_rcu();
	once__free_slabs(p);
	pthread_mutex_destroy(&p->lock);
	return 0;
}

int
once_pool_create(once_pool_t **poolp, const once_attr_t *attr)
{
	once_pool_t *pool;
	int err;

	if (!poolp || once__attr_pshared(attr))
		return EINVAL;
	pool = once__alloc(attr ? attr->alloc_ : NULL,
			   attr ? attr->ctx_ : NULL, sizeof(*pool));
	if (!pool)
		return ENOMEM;
	if ((err = once_pool_init(pool, attr))) {
		once__free(attr ? attr->free_ : NULL, attr ? attr->ctx_ : NULL,
			   pool, sizeof(*pool));
		return err;
	}
	once__pool(pool)->flags = ONCE__POOL_HEAP;
	atomic_init(&once__pool(pool)->refs, 1);
	*poolp = pool;
	return 0;
}

int
once_pool_ref(once_pool_t *pool)
{
	if (!pool || !(once__pool(pool)->flags & ONCE__POOL_HEAP))
		return EINVAL;
	atomic_fetch_add_explicit(&once__pool(pool)->refs, 1,
				  memory_order_relaxed);
	return 0;
}

int
once_pool_unref(once_pool_t *pool)
{
	struct once__pool *p = once__pool(pool);

	if (!pool || !(p->flags & ONCE__POOL_HEAP))
		return EINVAL;
	if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
		return 0;
	/* No owner can bind or trim any more: the slab list is frozen. */
	rcu_read_lock();
	atomic_store_explicit(&p->orphaned, 1, memory_order_seq_cst);
	once__orphan_check_unlock(p);
	return 0;
}

int
once_pool_bind(once_pool_t *pool, once_sender_t *tx, once_receiver_t *rx)
{
	struct once__pool *p = once__pool(pool);
	struct once__tc_entry *e;
	struct once__slot *slot;
	uintptr_t gen;
	int err;

	if (!pool || !tx || !rx || (void *)tx == (void *)rx)
		return EINVAL;
	e = once__tc_get(p);
	if (!e->head && (err = once__refill(p, e)))
		return err;
	slot = e->head;
	e->head = slot->tc_next;
	e->n--;
	gen = atomic_load_explicit(&slot->gen, memory_order_relaxed) + 1;
	if (gen == ONCE__TAG_PSHARED)	/* wrapped: that tag is not ours */
		gen = 0;
	atomic_store_explicit(&slot->gen, gen, memory_order_relaxed);
	slot->ev.value_ = NULL;
	slot->ev.notify_ = NULL;
	slot->ev.dtor_ = p->dtor;
	slot->ev.flags_ = p->ev_flags;
	atomic_store_explicit(once__state(&slot->ev), ONCE__BOUND,
			      memory_order_release);
	tx->ev_ = rx->ev_ = &slot->ev;
	tx->tag_ = rx->tag_ = gen;
	return 0;
}

int
once_pool_stats(once_pool_t *pool, struct once_pool_stats *st)
{
	struct once__pool *p = once__pool(pool);

	if (!pool || !st)
		return EINVAL;
	once__pool_lock(p);
	st->slabs = atomic_load(&p->nslabs);
	st->capacity = st->slabs * ONCE__SLAB_EVENTS;
	st->live = once__count_live(p);
	once__pool_unlock(p);
	st->free = st->capacity - st->live;
	return 0;
}

int
once_pool_trim(once_pool_t *pool, size_t keep)
{
	struct once__pool *p = once__pool(pool);
	struct once__tc_entry *e;
	struct once__slab *slab, **sp;
	struct cds_lfs_head *heads[2];
	struct cds_lfs_node *n, *next;
	struct once__slot *slot, *list = NULL;
	size_t nfree = 0, nlimbo = 0;
	int i;

	if (!pool)
		return EINVAL;
	/*
	 * This thread's cache goes back too; other threads keep theirs.
	 * Before the pool lock: finding the entry may take once__reg_lock.
	 */
	e = once__tc_get(p);
	if (e->head) {
		once__to_limbo(p, e->head, e->n);
		e->head = NULL;
		e->n = 0;
	}
	once__pool_lock(p);
	rcu_read_lock();
	heads[0] = __cds_lfs_pop_all(&p->free);
	rcu_read_unlock();
	heads[1] = __cds_lfs_pop_all(&p->limbo);
	for (slab = p->slabs; slab; slab = slab->next)
		slab->found = 0;
	for (i = 0; i < 2; i++)
		for (n = heads[i] ? &heads[i]->node : NULL; n; n = next) {
			slot = once__slot_of_node(n);
			once__tsan_acquire(slot);
			next = n->next;
			slot->slab->found++;
			slot->tc_next = list;
			list = slot;
			nfree++;
			nlimbo += i;
		}
	atomic_fetch_sub_explicit(&p->nlimbo, nlimbo, memory_order_relaxed);
	/* Nobody is still popping these: slots may be pushed, slabs freed. */
	synchronize_rcu();
	for (slab = p->slabs; slab; slab = slab->next)
		if (slab->found == ONCE__SLAB_EVENTS &&
		    nfree - ONCE__SLAB_EVENTS >= keep)
			nfree -= ONCE__SLAB_EVENTS;
		else
			slab->found = 0;	/* kept */
	for (; list; list = slot) {
		slot = list->tc_next;
		if (!list->slab->found)
			once__push(&p->free, list);
	}
	for (sp = &p->slabs; (slab = *sp);) {
		if (slab->found) {
			*sp = slab->next;
			atomic_fetch_sub_explicit(&p->nslabs, 1,
						  memory_order_relaxed);
			once__slab_free(p, slab);
		} else {
			sp = &slab->next;
		}
	}
	once__pool_unlock(p);
	return 0;
}

/*
 * fork(): urcu-bp wants its handlers around it, and no pool lock may be
 * held at fork time (the gate).
 */
static void
once__prefork(void)
{
	uint32_t n;

	pthread_mutex_lock(&once__reg_lock);
	pthread_mutex_lock(&once__gate_lock);
	atomic_store(&once__gate_closed, 1);
	while ((n = atomic_load(&once__gate_open)) != 0)
		once__futex_nap(&once__gate_open, n, 0, 1000000);
	/* Every section that was in happened before the fork. */
	once__tsan_acquire(&once__gate_open);
	atomic_store(&once__gate_closed, 0);
	urcu_bp_before_fork();
}

static void
once__postfork(int child)
{
	if (child)
		urcu_bp_after_fork_child();
	else
		urcu_bp_after_fork_parent();
	pthread_mutex_unlock(&once__gate_lock);
	pthread_mutex_unlock(&once__reg_lock);
}

static void
once__postfork_parent(void)
{
	once__postfork(0);
}

static void
once__postfork_child(void)
{
	once__postfork(1);
}

__attribute__((constructor)) static void
once__pool_ctor(void)
{
	ONCE__VG_ATOMIC(&once__gate_open);
	ONCE__VG_ATOMIC(&once__gate_closed);
	if (pthread_key_create(&once__tc_key, once__tc_exit) ||
	    pthread_atfork(once__prefork, once__postfork_parent,
			   once__postfork_child))
		abort();
}
