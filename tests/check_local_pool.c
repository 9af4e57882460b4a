/*
 * check_local_pool.c - pools of single-threaded events: stats, growth,
 * trim, allocation counts once warm, heap pools, and the seed's pool
 * scenarios.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "testutil.h"

/* Events per slab: the growth step the stats show. */
#define SLAB 64

struct pair {
	once_local_sender_t tx;
	once_local_receiver_t rx;
};

/* Assert all four stats at once; what names the case. */
static void
check_stats(const once_local_pool_t *pool, size_t live, size_t nfree,
	    size_t capacity, size_t slabs, const char *what)
{
	struct once_pool_stats st;

	memset(&st, 0xa5, sizeof(st));
	ck_assert_msg(once_local_pool_stats(pool, &st) == 0,
		      "%s: stats failed", what);
	ck_assert_msg(st.live == live && st.free == nfree &&
		      st.capacity == capacity && st.slabs == slabs,
		      "%s: live %zu free %zu capacity %zu slabs %zu, "
		      "want %zu %zu %zu %zu", what, st.live, st.free,
		      st.capacity, st.slabs, live, nfree, capacity, slabs);
}

/* Send and receive one value: the event goes back to its pool. */
static void
complete(struct pair *p, void *value)
{
	void *v = NULL;

	ck_assert_int_eq(once_local_send(&p->tx, value), 0);
	ck_assert_int_eq(once_local_tryrecv(&p->rx, &v), 0);
	ck_assert_ptr_eq(v, value);
}

/* A callback that counts its calls and may collect the value. */
struct notified {
	once_local_receiver_t *rx;	/* NULL: do not collect */
	int calls;
	int rc;
	void *value;
};

static void
count_notify(void *arg)
{
	struct notified *n = arg;

	n->calls++;
	if (n->rx)
		n->rc = once_local_tryrecv(n->rx, &n->value);
}

/* The seed's three ways to hold a pool: by ref, by rc, by ptr. */
enum pool_kind { PK_CALLER, PK_HEAP, PK_MALLOC, PK_COUNT };

static once_local_pool_t *
pool_open(int kind, once_local_pool_t *caller, const once_attr_t *attr)
{
	once_local_pool_t *pool = caller;

	switch (kind) {
	case PK_CALLER:
		ck_assert_int_eq(once_local_pool_init(pool, attr), 0);
		break;
	case PK_HEAP:
		ck_assert_int_eq(once_local_pool_create(&pool, attr), 0);
		break;
	default:
		pool = malloc(sizeof(*pool));
		ck_assert_ptr_nonnull(pool);
		ck_assert_int_eq(once_local_pool_init(pool, attr), 0);
		break;
	}
	return pool;
}

static void
pool_close(int kind, once_local_pool_t *pool)
{
	switch (kind) {
	case PK_CALLER:
		ck_assert_int_eq(once_local_pool_destroy(pool), 0);
		break;
	case PK_HEAP:
		ck_assert_int_eq(once_local_pool_unref(pool), 0);
		break;
	default:
		ck_assert_int_eq(once_local_pool_destroy(pool), 0);
		free(pool);
		break;
	}
}

/* Verify that an empty pool is made and destroyed allocating nothing. */
START_TEST(test_local_pool_init_destroy_empty)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_pool_t pool;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_local_pool_init(NULL, &a), EINVAL);
	ck_assert_int_eq(once_local_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
	ck_assert_int_eq(once_local_pool_init(&pool, NULL), 0);
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), 0);
	ck_assert_int_eq(atomic_load(&ca.frees), 0);
}
END_TEST

/* Verify that the stats of a new pool are all 0. */
START_TEST(test_local_pool_stats_after_init)
{
	once_local_pool_t pool, *hp;

	ck_assert_int_eq(once_local_pool_init(&pool, NULL), 0);
	check_stats(&pool, 0, 0, 0, 0, "caller pool after init");
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
	ck_assert_int_eq(once_local_pool_create(&hp, NULL), 0);
	check_stats(hp, 0, 0, 0, 0, "heap pool after create");
	ck_assert_int_eq(once_local_pool_unref(hp), 0);
}
END_TEST

/*
 * Verify the stats around one event: bind takes it from a new slab, the
 * completed event is back at once; the receiver is ready only once sent
 * (seed: local_event_pool_by_ref_basic).
 */
START_TEST(test_local_pool_bind_complete_stats)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_pool_t pool;
	struct pair p;
	void *v = NULL;
	int x;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_local_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "one bound");
	ck_assert_int_eq(atomic_load(&ca.allocs), 1);
	ck_assert_int_eq(once_local_receiver_ready(&p.rx), 0);
	ck_assert_int_eq(once_local_sender_closed(&p.tx), 0);
	ck_assert_int_eq(once_local_send(&p.tx, &x), 0);
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "sent, not received");
	ck_assert_int_eq(once_local_receiver_ready(&p.rx), 1);
	ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	check_stats(&pool, 0, SLAB, SLAB, 1, "completed");
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.frees), 1);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/*
 * Verify that the event goes back to the pool however it ends, only when
 * its second endpoint is consumed, with the destructor run once for the
 * value sent to a closed receiver.
 */
START_TEST(test_local_pool_event_returned_every_way)
{
	once_attr_t a;
	once_local_pool_t pool;
	struct pair p;
	long before = atomic_load(&dtor_calls);
	void *v = &v;
	int x, way;

	attr_counting(&a, NULL);
	ck_assert_int_eq(once_local_pool_init(&pool, &a), 0);
	for (way = 0; way < 5; way++) {
		ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
		switch (way) {
		case 0:	/* sent and received */
			ck_assert_int_eq(once_local_send(&p.tx, &x), 0);
			check_stats(&pool, 1, SLAB - 1, SLAB, 1, "way 0 half");
			ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), 0);
			ck_assert_ptr_eq(v, &x);
			break;
		case 1:	/* receiver closed, then send is EPIPE */
			ck_assert_int_eq(once_local_receiver_close(&p.rx), 0);
			check_stats(&pool, 1, SLAB - 1, SLAB, 1, "way 1 half");
			ck_assert_int_eq(once_local_send(&p.tx, &x), EPIPE);
			break;
		case 2:	/* sender closed, then tryrecv is EPIPE */
			ck_assert_int_eq(once_local_sender_close(&p.tx), 0);
			check_stats(&pool, 1, SLAB - 1, SLAB, 1, "way 2 half");
			ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), EPIPE);
			break;
		case 3:	/* both closed */
			ck_assert_int_eq(once_local_sender_close(&p.tx), 0);
			check_stats(&pool, 1, SLAB - 1, SLAB, 1, "way 3 half");
			ck_assert_int_eq(once_local_receiver_close(&p.rx), 0);
			break;
		case 4:	/* sent, receiver closed: destructor */
			ck_assert_int_eq(once_local_send(&p.tx, &x), 0);
			check_stats(&pool, 1, SLAB - 1, SLAB, 1, "way 4 half");
			ck_assert_int_eq(once_local_receiver_close(&p.rx), 0);
			break;
		}
		ck_assert_ptr_null(p.tx.ev_);
		ck_assert_ptr_null(p.rx.ev_);
		check_stats(&pool, 0, SLAB, SLAB, 1, "event ended");
		ck_assert_msg(atomic_load(&dtor_calls) - before ==
			      (way == 4), "way %d: destructor calls %ld", way,
			      atomic_load(&dtor_calls) - before);
	}
	ck_assert_ptr_eq(atomic_load(&dtor_last), &x);
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
}
END_TEST

/*
 * Verify destroy: EBUSY while an event is out (either endpoint live), 0
 * once it is back; all the pool's memory is then freed and the storage
 * may be initialised again.
 */
START_TEST(test_local_pool_destroy_ebusy_while_out)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_pool_t pool;
	struct pair p;
	void *v;
	int x;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_local_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_local_pool_destroy(&pool), EBUSY);
	ck_assert_int_eq(once_local_send(&p.tx, &x), 0);
	ck_assert_int_eq(once_local_pool_destroy(&pool), EBUSY);
	ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), 0);

	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_local_receiver_close(&p.rx), 0);
	ck_assert_int_eq(once_local_pool_destroy(&pool), EBUSY);
	ck_assert_int_eq(once_local_sender_close(&p.tx), 0);

	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_local_sender_close(&p.tx), 0);
	ck_assert_int_eq(once_local_pool_destroy(&pool), EBUSY);
	ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), EPIPE);

	check_stats(&pool, 0, SLAB, SLAB, 1, "all back");
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), atomic_load(&ca.frees));
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);

	/* The storage is reusable. */
	ck_assert_int_eq(once_local_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	complete(&p, &x);
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/* Verify the EINVAL cases of every pool function. */
START_TEST(test_local_pool_einval)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_pool_t pool, *hp;
	struct once_pool_stats st;
	struct pair p;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_local_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_local_pool_bind(NULL, &p.tx, &p.rx), EINVAL);
	ck_assert_int_eq(once_local_pool_bind(&pool, NULL, &p.rx), EINVAL);
	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, NULL), EINVAL);
	ck_assert_int_eq(once_local_pool_stats(NULL, &st), EINVAL);
	ck_assert_int_eq(once_local_pool_stats(&pool, NULL), EINVAL);
	ck_assert_int_eq(once_local_pool_trim(NULL, 0), EINVAL);
	ck_assert_int_eq(once_local_pool_destroy(NULL), EINVAL);
	ck_assert_int_eq(once_local_pool_create(NULL, &a), EINVAL);
	ck_assert_int_eq(once_local_pool_ref(NULL), EINVAL);
	ck_assert_int_eq(once_local_pool_unref(NULL), EINVAL);
	/* A caller-storage pool has no references. */
	ck_assert_int_eq(once_local_pool_ref(&pool), EINVAL);
	ck_assert_int_eq(once_local_pool_unref(&pool), EINVAL);
	/* The refused calls changed nothing and allocated nothing. */
	check_stats(&pool, 0, 0, 0, 0, "after refused calls");
	ck_assert_int_eq(atomic_load(&ca.allocs), 0);
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);

	/* A heap pool is not destroyed, it is unref'd. */
	ck_assert_int_eq(once_local_pool_create(&hp, &a), 0);
	ck_assert_int_eq(once_local_pool_destroy(hp), EINVAL);
	ck_assert_int_eq(once_local_pool_unref(hp), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/*
 * Verify growth past one slab: 200 events out at once take 4 slabs, and
 * all come back.
 */
START_TEST(test_local_pool_growth_beyond_one_slab)
{
	once_local_pool_t pool;
	static struct pair p[200];
	int i, x;

	ck_assert_int_eq(once_local_pool_init(&pool, NULL), 0);
	for (i = 0; i < 200; i++)
		ck_assert_msg(once_local_pool_bind(&pool, &p[i].tx,
						   &p[i].rx) == 0,
			      "bind %d failed", i);
	check_stats(&pool, 200, 4 * SLAB - 200, 4 * SLAB, 4, "200 out");
	for (i = 0; i < 200; i++)
		complete(&p[i], &x);
	check_stats(&pool, 0, 4 * SLAB, 4 * SLAB, 4, "200 back");
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
}
END_TEST

/*
 * Verify that a warm pool allocates nothing: 100,000 bind/send/tryrecv
 * cycles leave the allocator's count unchanged.
 */
START_TEST(test_local_pool_warm_no_allocation)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_pool_t pool;
	struct pair p;
	long allocs;
	void *v;
	int i, x, bad = 0;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_local_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	complete(&p, &x);
	allocs = atomic_load(&ca.allocs);
	for (i = 0; i < 100000; i++) {
		bad += once_local_pool_bind(&pool, &p.tx, &p.rx) != 0;
		bad += once_local_send(&p.tx, &x) != 0;
		bad += once_local_tryrecv(&p.rx, &v) != 0;
		bad += v != &x;
	}
	ck_assert_int_eq(bad, 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), allocs);
	check_stats(&pool, 0, SLAB, SLAB, 1, "after the loop");
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/*
 * Verify that a warm pool allocates nothing with 1000 events out at once:
 * a ring where each step ends the oldest event (in each of four ways) and
 * binds a new one in its place.
 */
START_TEST(test_local_pool_warm_ring_no_allocation)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_pool_t pool;
	static struct pair ring[1000];
	long allocs;
	void *v;
	int i, j, bad = 0;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_local_pool_init(&pool, &a), 0);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(once_local_pool_bind(&pool, &ring[i].tx,
						      &ring[i].rx), 0);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(once_local_sender_close(&ring[i].tx), 0);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(once_local_receiver_close(&ring[i].rx), 0);
	allocs = atomic_load(&ca.allocs);

	for (i = 0; i < 1000; i++)
		bad += once_local_pool_bind(&pool, &ring[i].tx,
					    &ring[i].rx) != 0;
	for (i = 0; i < 100000; i++) {
		struct pair *p = &ring[i % 1000];
		void *val = (void *)(intptr_t)i;

		switch (i & 3) {
		case 0:
			bad += once_local_send(&p->tx, val) != 0;
			bad += once_local_tryrecv(&p->rx, &v) != 0;
			bad += v != val;
			break;
		case 1:
			bad += once_local_receiver_close(&p->rx) != 0;
			bad += once_local_send(&p->tx, &v) != EPIPE;
			break;
		case 2:
			bad += once_local_sender_close(&p->tx) != 0;
			bad += once_local_tryrecv(&p->rx, &v) != EPIPE;
			break;
		case 3:
			bad += once_local_send(&p->tx, val) != 0;
			bad += once_local_receiver_close(&p->rx) != 0;
			break;
		}
		bad += once_local_pool_bind(&pool, &p->tx, &p->rx) != 0;
	}
	ck_assert_int_eq(bad, 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), allocs);
	check_stats(&pool, 1000, 16 * SLAB - 1000, 16 * SLAB, 16,
		    "ring full");
	for (i = 0; i < 1000; i++)
		complete(&ring[i], &j);
	check_stats(&pool, 0, 16 * SLAB, 16 * SLAB, 16, "ring drained");
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/*
 * Verify ENOMEM from bind when the free list is empty and the allocator
 * fails, both on a new pool and on a full slab: the pool is unchanged and
 * binds again once the allocator works.
 */
START_TEST(test_local_pool_bind_enomem)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_pool_t pool;
	static struct pair p[SLAB + 1];
	struct pair q;
	int i, x;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_local_pool_init(&pool, &a), 0);
	atomic_store(&ca.fail, 1);
	ck_assert_int_eq(once_local_pool_bind(&pool, &q.tx, &q.rx), ENOMEM);
	check_stats(&pool, 0, 0, 0, 0, "ENOMEM on a new pool");
	atomic_store(&ca.fail, 0);
	for (i = 0; i < SLAB; i++)
		ck_assert_int_eq(once_local_pool_bind(&pool, &p[i].tx,
						      &p[i].rx), 0);
	check_stats(&pool, SLAB, 0, SLAB, 1, "one slab full");

	atomic_store(&ca.fail, 1);
	ck_assert_int_eq(once_local_pool_bind(&pool, &q.tx, &q.rx), ENOMEM);
	check_stats(&pool, SLAB, 0, SLAB, 1, "ENOMEM on a full slab");
	/* The events out are unharmed. */
	complete(&p[0], &x);
	check_stats(&pool, SLAB - 1, 1, SLAB, 1, "one back while failing");
	/* A free event needs no allocation. */
	ck_assert_int_eq(once_local_pool_bind(&pool, &p[0].tx, &p[0].rx), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), 1);

	atomic_store(&ca.fail, 0);
	ck_assert_int_eq(once_local_pool_bind(&pool, &p[SLAB].tx,
					      &p[SLAB].rx), 0);
	check_stats(&pool, SLAB + 1, SLAB - 1, 2 * SLAB, 2, "grown again");
	for (i = 0; i <= SLAB; i++)
		complete(&p[i], &x);
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), 2);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/*
 * Verify trim to 0 once everything is back: no slab, no capacity, and the
 * allocator's live bytes back where they were before the pool grew; the
 * pool still works afterwards
 * (seed: shrink_to_fit_with_empty_pool_shrinks_to_zero,
 * local_event_pool_cleanup).
 */
START_TEST(test_local_pool_trim_to_zero)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_pool_t pool;
	static struct pair p[200];
	long live_before;
	int i, x;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_local_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_local_pool_trim(&pool, 0), 0);
	check_stats(&pool, 0, 0, 0, 0, "trim of a new pool");
	live_before = atomic_load(&ca.live_bytes);
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(once_local_pool_bind(&pool, &p[i].tx,
						      &p[i].rx), 0);
	for (i = 0; i < 200; i++)
		complete(&p[i], &x);
	ck_assert_int_eq(once_local_pool_trim(&pool, 0), 0);
	check_stats(&pool, 0, 0, 0, 0, "trimmed to 0");
	ck_assert_int_eq(atomic_load(&ca.live_bytes), live_before);
	ck_assert_int_eq(atomic_load(&ca.allocs), atomic_load(&ca.frees));

	/* Still usable: it grows again. */
	ck_assert_int_eq(once_local_pool_bind(&pool, &p[0].tx, &p[0].rx), 0);
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "bound after trim");
	complete(&p[0], &x);
	ck_assert_int_eq(once_local_pool_trim(&pool, 0), 0);
	check_stats(&pool, 0, 0, 0, 0, "trimmed again");
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/*
 * Verify trim with keep: slabs are freed only while at least keep events
 * stay free.
 */
START_TEST(test_local_pool_trim_keep)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_pool_t pool;
	static struct pair p[4 * SLAB];
	long frees;
	int i, x;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_local_pool_init(&pool, &a), 0);
	for (i = 0; i < 4 * SLAB; i++)
		ck_assert_int_eq(once_local_pool_bind(&pool, &p[i].tx,
						      &p[i].rx), 0);
	for (i = 0; i < 4 * SLAB; i++)
		complete(&p[i], &x);
	check_stats(&pool, 0, 4 * SLAB, 4 * SLAB, 4, "four free slabs");
	frees = atomic_load(&ca.frees);
	ck_assert_int_eq(once_local_pool_trim(&pool, 100), 0);
	check_stats(&pool, 0, 2 * SLAB, 2 * SLAB, 2, "trim keep 100");
	ck_assert_int_eq(atomic_load(&ca.frees) - frees, 2);
	/* Exactly keep free: nothing more to give back. */
	ck_assert_int_eq(once_local_pool_trim(&pool, 2 * SLAB), 0);
	check_stats(&pool, 0, 2 * SLAB, 2 * SLAB, 2, "trim keep 128");
	ck_assert_int_eq(once_local_pool_trim(&pool, SLAB), 0);
	check_stats(&pool, 0, SLAB, SLAB, 1, "trim keep 64");
	ck_assert_int_eq(once_local_pool_trim(&pool, 1), 0);
	check_stats(&pool, 0, SLAB, SLAB, 1, "trim keep 1");
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/*
 * Verify that a keep larger than anything the pool holds keeps every
 * slab, up to SIZE_MAX (keep + a slab's worth must not wrap around).
 */
START_TEST(test_local_pool_trim_huge_keep_frees_nothing)
{
	const size_t keeps[] = { 4 * SLAB + 1, (size_t)1 << 40,
				 SIZE_MAX - SLAB, SIZE_MAX - 1, SIZE_MAX };
	once_local_pool_t pool;
	static struct pair p[4 * SLAB];
	unsigned int k;
	int i, x;

	ck_assert_int_eq(once_local_pool_init(&pool, NULL), 0);
	for (i = 0; i < 4 * SLAB; i++)
		ck_assert_int_eq(once_local_pool_bind(&pool, &p[i].tx,
						      &p[i].rx), 0);
	for (i = 0; i < 4 * SLAB; i++)
		complete(&p[i], &x);
	for (k = 0; k < sizeof(keeps) / sizeof(keeps[0]); k++) {
		struct once_pool_stats st;

		ck_assert_int_eq(once_local_pool_trim(&pool, keeps[k]), 0);
		ck_assert_int_eq(once_local_pool_stats(&pool, &st), 0);
		ck_assert_msg(st.slabs == 4 && st.free == 4 * SLAB,
			      "trim keep %zu freed slabs: %zu left, %zu free",
			      keeps[k], st.slabs, st.free);
	}
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
}
END_TEST

/*
 * Verify that trim never frees a slab with a live event, that the event
 * still works afterwards, and that the slab goes once the event is back.
 */
START_TEST(test_local_pool_trim_keeps_slab_with_live_event)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_pool_t pool;
	static struct pair p[SLAB + 1];
	void *v = NULL;
	int i, x, y;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_local_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_local_pool_bind(&pool, &p[0].tx, &p[0].rx), 0);
	ck_assert_int_eq(once_local_pool_trim(&pool, 0), 0);
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "one live, one slab");

	/* Two slabs; every event back but p[0]. */
	for (i = 1; i <= SLAB; i++)
		ck_assert_int_eq(once_local_pool_bind(&pool, &p[i].tx,
						      &p[i].rx), 0);
	check_stats(&pool, SLAB + 1, SLAB - 1, 2 * SLAB, 2, "two slabs");
	for (i = 1; i <= SLAB; i++)
		complete(&p[i], &x);
	ck_assert_int_eq(once_local_pool_trim(&pool, 0), 0);
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "trimmed around live");
	ck_assert_int_eq(atomic_load(&ca.frees), 1);

	/* The live event is intact, and the free ones still bind. */
	ck_assert_int_eq(once_local_receiver_ready(&p[0].rx), 0);
	ck_assert_int_eq(once_local_pool_bind(&pool, &p[1].tx, &p[1].rx), 0);
	ck_assert_int_eq(once_local_send(&p[0].tx, &y), 0);
	complete(&p[1], &x);
	ck_assert_int_eq(once_local_tryrecv(&p[0].rx, &v), 0);
	ck_assert_ptr_eq(v, &y);
	check_stats(&pool, 0, SLAB, SLAB, 1, "all back");
	ck_assert_int_eq(once_local_pool_trim(&pool, 0), 0);
	check_stats(&pool, 0, 0, 0, 0, "trimmed to 0");
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
}
END_TEST

/*
 * Verify that a stale copy of a pooled event's endpoint is refused
 * (EINVAL, and cleared) after the pool bound the event again, and that
 * it does not disturb the pairs bound since.
 */
START_TEST(test_local_pool_stale_endpoint_copy_einval)
{
	once_local_pool_t pool;
	struct pair p, q[SLAB];
	struct notified n = { NULL, 0, -1, NULL };
	once_local_sender_t stale_tx, t;
	once_local_receiver_t stale_rx, r;
	void *v = &v;
	int i, x, y;

	ck_assert_int_eq(once_local_pool_init(&pool, NULL), 0);
	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	stale_tx = p.tx;
	stale_rx = p.rx;
	complete(&p, &x);
	/* Every event of the one slab is out: one is the stale copies' own. */
	for (i = 0; i < SLAB; i++)
		ck_assert_int_eq(once_local_pool_bind(&pool, &q[i].tx,
						      &q[i].rx), 0);
	check_stats(&pool, SLAB, 0, SLAB, 1, "slab rebound");

	t = stale_tx;
	ck_assert_int_eq(once_local_send(&t, &y), EINVAL);
	ck_assert_ptr_null(t.ev_);
	t = stale_tx;
	ck_assert_int_eq(once_local_sender_close(&t), EINVAL);
	ck_assert_ptr_null(t.ev_);
	t = stale_tx;
	ck_assert_int_eq(once_local_sender_closed(&t), 1);
	r = stale_rx;
	ck_assert_int_eq(once_local_tryrecv(&r, &v), EINVAL);
	ck_assert_ptr_null(r.ev_);
	r = stale_rx;
	ck_assert_int_eq(once_local_receiver_close(&r), EINVAL);
	ck_assert_ptr_null(r.ev_);
	r = stale_rx;
	ck_assert_int_eq(once_local_receiver_ready(&r), 1);
	r = stale_rx;
	ck_assert_int_eq(once_local_receiver_notify(&r, count_notify, &n),
			 EINVAL);
	ck_assert_int_eq(n.calls, 0);
	ck_assert_ptr_eq(v, &v);

	/* The pairs bound since are untouched. */
	for (i = 0; i < SLAB; i++) {
		ck_assert_msg(once_local_receiver_ready(&q[i].rx) == 0 &&
			      once_local_sender_closed(&q[i].tx) == 0,
			      "pair %d disturbed by a stale copy", i);
		complete(&q[i], &x);
	}
	check_stats(&pool, 0, SLAB, SLAB, 1, "all back");
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
}
END_TEST

/* Verify that the pool's destructor applies to its events. */
START_TEST(test_local_pool_dtor_applies)
{
	once_attr_t a;
	once_local_pool_t pool, plain;
	struct pair p;
	long before = atomic_load(&dtor_calls);
	int x, y;

	attr_counting(&a, NULL);
	ck_assert_int_eq(once_local_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_local_send(&p.tx, &x), 0);
	ck_assert_int_eq(once_local_receiver_close(&p.rx), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &x);

	/* Received into NULL: the destructor takes it too. */
	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_local_send(&p.tx, &y), 0);
	ck_assert_int_eq(once_local_tryrecv(&p.rx, NULL), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 2);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &y);

	/* Received: no call. */
	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	complete(&p, &x);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 2);
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);

	/* A pool without a destructor calls none. */
	ck_assert_int_eq(once_local_pool_init(&plain, NULL), 0);
	ck_assert_int_eq(once_local_pool_bind(&plain, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_local_send(&p.tx, &x), 0);
	ck_assert_int_eq(once_local_receiver_close(&p.rx), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 2);
	ck_assert_int_eq(once_local_pool_destroy(&plain), 0);
}
END_TEST

/*
 * Verify callbacks on pooled events: registered before the send, it runs
 * once and collects the value; registered before a receiver close, the
 * close runs it.
 */
START_TEST(test_local_pool_notify_callback)
{
	once_local_pool_t pool;
	struct pair p;
	struct notified n = { &p.rx, 0, -1, NULL };
	struct notified m = { NULL, 0, -1, NULL };
	int x;

	ck_assert_int_eq(once_local_pool_init(&pool, NULL), 0);
	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_local_receiver_notify(&p.rx, count_notify, &n),
			 0);
	ck_assert_int_eq(once_local_receiver_notify(&p.rx, count_notify, &n),
			 EBUSY);
	ck_assert_int_eq(n.calls, 0);
	ck_assert_int_eq(once_local_send(&p.tx, &x), 0);
	ck_assert_int_eq(n.calls, 1);
	ck_assert_int_eq(n.rc, 0);
	ck_assert_ptr_eq(n.value, &x);
	check_stats(&pool, 0, SLAB, SLAB, 1, "collected by the callback");

	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_local_receiver_notify(&p.rx, count_notify, &m),
			 0);
	ck_assert_int_eq(once_local_receiver_close(&p.rx), 0);
	ck_assert_int_eq(m.calls, 1);
	ck_assert_int_eq(once_local_send(&p.tx, &x), EPIPE);
	ck_assert_int_eq(m.calls, 1);
	check_stats(&pool, 0, SLAB, SLAB, 1, "closed with a callback");
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
}
END_TEST

/* Verify heap pool create (ENOMEM included) and ref/unref. */
START_TEST(test_local_pool_heap_create_ref_unref)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_pool_t *pool = NULL;
	struct pair p;
	int x;

	attr_counting(&a, &ca);
	atomic_store(&ca.fail, 1);
	ck_assert_int_eq(once_local_pool_create(&pool, &a), ENOMEM);
	ck_assert_ptr_null(pool);
	atomic_store(&ca.fail, 0);
	ck_assert_int_eq(once_local_pool_create(&pool, &a), 0);
	ck_assert_ptr_nonnull(pool);
	ck_assert_int_eq(atomic_load(&ca.allocs), 1);
	check_stats(pool, 0, 0, 0, 0, "created");
	ck_assert_int_eq(once_local_pool_ref(pool), 0);
	ck_assert_int_eq(once_local_pool_unref(pool), 0);
	ck_assert_int_eq(atomic_load(&ca.frees), 0);
	ck_assert_int_eq(once_local_pool_bind(pool, &p.tx, &p.rx), 0);
	complete(&p, &x);
	ck_assert_int_eq(once_local_pool_unref(pool), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), 2);
	ck_assert_int_eq(atomic_load(&ca.frees), 2);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);

	/* Default allocator (LeakSanitizer checks the free). */
	ck_assert_int_eq(once_local_pool_create(&pool, NULL), 0);
	ck_assert_int_eq(once_local_pool_bind(pool, &p.tx, &p.rx), 0);
	complete(&p, &x);
	ck_assert_int_eq(once_local_pool_unref(pool), 0);
}
END_TEST

/*
 * Verify that a heap pool whose owners let go while events are out stays
 * until the last event is back, however each ends, and is then freed:
 * slabs and pool struct alike.
 */
START_TEST(test_local_pool_heap_freed_after_last_event)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_pool_t *pool;
	struct pair p[3];
	long before = atomic_load(&dtor_calls);
	void *v;
	int x, last;

	attr_counting(&a, &ca);
	for (last = 0; last < 3; last++) {
		long allocs = atomic_load(&ca.allocs);
		long frees = atomic_load(&ca.frees);
		int i, k;

		ck_assert_int_eq(once_local_pool_create(&pool, &a), 0);
		ck_assert_int_eq(once_local_pool_ref(pool), 0);
		for (i = 0; i < 3; i++)
			ck_assert_int_eq(once_local_pool_bind(pool, &p[i].tx,
							      &p[i].rx), 0);
		ck_assert_int_eq(atomic_load(&ca.allocs) - allocs, 2);
		ck_assert_int_eq(once_local_pool_unref(pool), 0);
		ck_assert_int_eq(once_local_pool_unref(pool), 0);
		ck_assert_int_eq(atomic_load(&ca.frees), frees);
		/* End them one by one; "last" picks the way of the last. */
		for (k = 0; k < 3; k++) {
			i = (last + 1 + k) % 3;
			ck_assert_msg(atomic_load(&ca.frees) == frees,
				      "last %d: freed with %d events out",
				      last, 3 - k);
			switch (i) {
			case 0:	/* the receiver ends it */
				ck_assert_int_eq(once_local_send(&p[i].tx,
								 &x), 0);
				ck_assert_int_eq(once_local_tryrecv(&p[i].rx,
								    &v), 0);
				break;
			case 1:	/* the sender ends it: EPIPE */
				ck_assert_int_eq(once_local_receiver_close(
						 &p[i].rx), 0);
				ck_assert_int_eq(once_local_send(&p[i].tx,
								 &x), EPIPE);
				break;
			case 2:	/* the receiver's close ends it: dtor */
				ck_assert_int_eq(once_local_send(&p[i].tx,
								 &x), 0);
				ck_assert_int_eq(once_local_receiver_close(
						 &p[i].rx), 0);
				break;
			}
		}
		ck_assert_msg(atomic_load(&ca.frees) - frees == 2,
			      "last %d: pool not freed by its last event",
			      last);
		ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
		ck_assert_int_eq(atomic_load(&ca.allocs),
				 atomic_load(&ca.frees));
	}
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 3);
}
END_TEST

/* Verify that unref with no events out frees the heap pool at once. */
START_TEST(test_local_pool_heap_unref_idle_frees_at_once)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_pool_t *pool;
	static struct pair p[100];
	int i, x;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_local_pool_create(&pool, &a), 0);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(once_local_pool_bind(pool, &p[i].tx,
						      &p[i].rx), 0);
	for (i = 0; i < 100; i++)
		complete(&p[i], &x);
	check_stats(pool, 0, 2 * SLAB, 2 * SLAB, 2, "idle");
	ck_assert_int_eq(atomic_load(&ca.allocs), 3);
	ck_assert_int_eq(once_local_pool_unref(pool), 0);
	ck_assert_int_eq(atomic_load(&ca.frees), 3);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/*
 * Verify the len/is_empty lifecycle (stats.live) and readiness, with the
 * pool held each of the seed's ways: caller storage, heap, malloc'd
 * storage (seed: local_event_pool_by_ref_basic,
 * local_event_pool_by_rc_basic, local_event_pool_by_ptr_basic,
 * pooled_local_receiver_into_value_with_ref_pool,
 * pooled_local_receiver_into_value_with_rc_pool,
 * pooled_local_receiver_into_value_with_ptr_pool).
 */
START_TEST(test_local_pool_seed_lifecycle_every_kind)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_pool_t caller, *pool;
	struct once_pool_stats st;
	struct pair p;
	void *v;
	int kind;

	attr_counting(&a, &ca);
	for (kind = 0; kind < PK_COUNT; kind++) {
		pool = pool_open(kind, &caller, &a);
		ck_assert_int_eq(once_local_pool_stats(pool, &st), 0);
		ck_assert_msg(st.live == 0, "kind %d: not empty", kind);
		ck_assert_int_eq(once_local_pool_bind(pool, &p.tx, &p.rx), 0);
		ck_assert_int_eq(once_local_pool_stats(pool, &st), 0);
		ck_assert_msg(st.live == 1, "kind %d: len not 1", kind);
		ck_assert_int_eq(once_local_receiver_ready(&p.rx), 0);
		ck_assert_int_eq(once_local_send(&p.tx, (void *)(intptr_t)42),
				 0);
		ck_assert_int_eq(once_local_receiver_ready(&p.rx), 1);
		ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), 0);
		ck_assert_msg((intptr_t)v == 42, "kind %d: wrong value", kind);
		ck_assert_int_eq(once_local_pool_stats(pool, &st), 0);
		ck_assert_msg(st.live == 0, "kind %d: len not 0 after", kind);
		pool_close(kind, pool);
		ck_assert_msg(atomic_load(&ca.live_bytes) == 0,
			      "kind %d: memory left after close", kind);
	}
}
END_TEST

/*
 * Verify several events from one pool: two in sequence, then two live at
 * once, sent and received (seed: local_event_pool_multiple_events,
 * local_event_pool_rc_multiple_events).
 */
START_TEST(test_local_pool_seed_multiple_events)
{
	once_local_pool_t *pool;
	struct pair p, q;
	void *v;

	ck_assert_int_eq(once_local_pool_create(&pool, NULL), 0);
	ck_assert_int_eq(once_local_pool_bind(pool, &p.tx, &p.rx), 0);
	complete(&p, (void *)(intptr_t)1);
	ck_assert_int_eq(once_local_pool_bind(pool, &p.tx, &p.rx), 0);
	complete(&p, (void *)(intptr_t)2);
	check_stats(pool, 0, SLAB, SLAB, 1, "two in sequence");

	ck_assert_int_eq(once_local_pool_bind(pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_local_pool_bind(pool, &q.tx, &q.rx), 0);
	ck_assert_ptr_ne(p.tx.ev_, q.tx.ev_);
	check_stats(pool, 2, SLAB - 2, SLAB, 1, "two live");
	ck_assert_int_eq(once_local_send(&p.tx, (void *)(intptr_t)1), 0);
	ck_assert_int_eq(once_local_send(&q.tx, (void *)(intptr_t)2), 0);
	ck_assert_int_eq(once_local_tryrecv(&q.rx, &v), 0);
	ck_assert_int_eq((intptr_t)v, 2);
	ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), 0);
	ck_assert_int_eq((intptr_t)v, 1);
	check_stats(pool, 0, SLAB, SLAB, 1, "two back");
	ck_assert_int_eq(once_local_pool_unref(pool), 0);
}
END_TEST

/*
 * Verify that a pool is reused: receive cycles on one heap pool take no
 * new slab (seed: pooled_local_receiver_into_value_pool_reuse).
 */
START_TEST(test_local_pool_seed_reuse)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_pool_t *pool;
	struct pair p;
	void *v;
	int round;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_local_pool_create(&pool, &a), 0);
	for (round = 0; round < 2; round++) {
		ck_assert_int_eq(once_local_pool_bind(pool, &p.tx, &p.rx), 0);
		ck_assert_int_eq(once_local_send(&p.tx,
				 (void *)(intptr_t)(round + 10)), 0);
		ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), 0);
		ck_assert_msg((intptr_t)v == round + 10,
			      "round %d: wrong value", round);
		check_stats(pool, 0, SLAB, SLAB, 1, "after a cycle");
	}
	ck_assert_int_eq(atomic_load(&ca.allocs), 2);
	ck_assert_int_eq(once_local_pool_unref(pool), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/*
 * Verify tryrecv on pooled events: the value, EAGAIN with rx still
 * usable, EPIPE for a closed sender, EINVAL after completion
 * (seed: pooled_local_receiver_into_value_with_sent_value,
 * pooled_local_receiver_into_value_no_value_sent,
 * pooled_local_receiver_into_value_sender_disconnected,
 * pooled_local_receiver_into_value_returns_none_after_poll).
 */
START_TEST(test_local_pool_seed_tryrecv_variants)
{
	once_local_pool_t pool;
	struct pair p;
	void *v = &v;
	int x;

	ck_assert_int_eq(once_local_pool_init(&pool, NULL), 0);

	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_local_send(&p.tx, &x), 0);
	ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), EINVAL);

	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	v = &v;
	ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), EAGAIN);
	ck_assert_ptr_eq(v, &v);
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "pending");
	ck_assert_int_eq(once_local_send(&p.tx, &x), 0);
	ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), 0);
	ck_assert_ptr_eq(v, &x);

	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_local_sender_close(&p.tx), 0);
	v = &v;
	ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), EPIPE);
	ck_assert_ptr_eq(v, &v);
	ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), EINVAL);

	check_stats(&pool, 0, SLAB, SLAB, 1, "all back");
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
}
END_TEST

/* A payload of another shape than a scalar. */
struct reply {
	char text[32];
	long n;
};

/*
 * Verify payloads of other types from one pool: a struct, a string, a
 * long cast to a pointer
 * (seed: pooled_local_receiver_into_value_multiple_event_types).
 */
START_TEST(test_local_pool_seed_multiple_types)
{
	once_local_pool_t pool;
	struct pair p;
	struct reply r = { "reply", 42 }, *rp;
	void *v;

	ck_assert_int_eq(once_local_pool_init(&pool, NULL), 0);
	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_local_send(&p.tx, &r), 0);
	ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), 0);
	rp = v;
	ck_assert_str_eq(rp->text, "reply");
	ck_assert_int_eq(rp->n, 42);

	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_local_send(&p.tx, "a string"), 0);
	ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), 0);
	ck_assert_str_eq(v, "a string");

	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_local_send(&p.tx,
			 (void *)(intptr_t)-987654321L), 0);
	ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), 0);
	ck_assert_int_eq((long)(intptr_t)v, -987654321L);
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
}
END_TEST

/*
 * Verify that an event whose endpoints are closed at once, in either
 * order, leaves the pool; ten such, then trim to capacity 0
 * (seed: event_removed_from_pool_after_endpoints_immediate_drop,
 * shrink_to_fit_with_empty_pool_shrinks_to_zero).
 */
START_TEST(test_local_pool_seed_immediate_close)
{
	once_local_pool_t pool;
	struct pair p;
	int i;

	ck_assert_int_eq(once_local_pool_init(&pool, NULL), 0);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
		if (i & 1) {
			ck_assert_int_eq(once_local_receiver_close(&p.rx), 0);
			ck_assert_int_eq(once_local_sender_close(&p.tx), 0);
		} else {
			ck_assert_int_eq(once_local_sender_close(&p.tx), 0);
			ck_assert_int_eq(once_local_receiver_close(&p.rx), 0);
		}
		check_stats(&pool, 0, SLAB, SLAB, 1, "closed at once");
	}
	ck_assert_int_eq(once_local_pool_trim(&pool, 0), 0);
	check_stats(&pool, 0, 0, 0, 0, "shrunk to fit");
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
}
END_TEST

/*
 * Verify len with two events live, then closed one by one
 * (seed: pool_len_and_is_empty_methods).
 */
START_TEST(test_local_pool_seed_len_two_events)
{
	once_local_pool_t pool;
	struct pair p, q;

	ck_assert_int_eq(once_local_pool_init(&pool, NULL), 0);
	check_stats(&pool, 0, 0, 0, 0, "empty");
	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_local_pool_bind(&pool, &q.tx, &q.rx), 0);
	check_stats(&pool, 2, SLAB - 2, SLAB, 1, "two live");
	ck_assert_int_eq(once_local_sender_close(&p.tx), 0);
	ck_assert_int_eq(once_local_receiver_close(&p.rx), 0);
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "first closed");
	ck_assert_int_eq(once_local_receiver_close(&q.rx), 0);
	ck_assert_int_eq(once_local_sender_close(&q.tx), 0);
	check_stats(&pool, 0, SLAB, SLAB, 1, "second closed");
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
}
END_TEST

/*
 * Verify that the receiver of a pooled event sees EPIPE when the sender
 * is closed, whichever way the pool is held
 * (seed: pooled_local_event_receiver_gets_disconnected_when_sender_dropped,
 * and its _by_rc and _by_ptr variants).
 */
START_TEST(test_local_pool_seed_sender_dropped)
{
	once_local_pool_t caller, *pool;
	struct pair p;
	void *v = &v;
	int kind;

	for (kind = 0; kind < PK_COUNT; kind++) {
		pool = pool_open(kind, &caller, NULL);
		ck_assert_int_eq(once_local_pool_bind(pool, &p.tx, &p.rx), 0);
		ck_assert_int_eq(once_local_sender_close(&p.tx), 0);
		ck_assert_int_eq(once_local_receiver_ready(&p.rx), 1);
		ck_assert_msg(once_local_tryrecv(&p.rx, &v) == EPIPE,
			      "kind %d: not EPIPE", kind);
		ck_assert_ptr_eq(v, &v);
		check_stats(pool, 0, SLAB, SLAB, 1, "sender dropped");
		pool_close(kind, pool);
	}
}
END_TEST

/*
 * Verify that a callback registered on a pooled event runs once when
 * the sender is closed, and tryrecv then gives EPIPE
 * (seed: pooled_local_sender_dropped_when_awaiting_signals_disconnected).
 */
START_TEST(test_local_pool_seed_awaiting_sender_dropped)
{
	once_local_pool_t pool;
	struct pair p;
	struct notified n = { NULL, 0, -1, NULL };
	void *v = &v;

	ck_assert_int_eq(once_local_pool_init(&pool, NULL), 0);
	ck_assert_int_eq(once_local_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_local_receiver_notify(&p.rx, count_notify, &n),
			 0);
	ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), EAGAIN);
	ck_assert_int_eq(once_local_sender_close(&p.tx), 0);
	ck_assert_int_eq(n.calls, 1);
	ck_assert_int_eq(once_local_tryrecv(&p.rx, &v), EPIPE);
	ck_assert_ptr_eq(v, &v);
	ck_assert_int_eq(n.calls, 1);
	check_stats(&pool, 0, SLAB, SLAB, 1, "awaiting, sender dropped");
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("local_pool");
	TCase *tc = tcase_create("local_pool");
	TCase *seed = tcase_create("seed");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_local_pool_init_destroy_empty);
	tcase_add_test(tc, test_local_pool_stats_after_init);
	tcase_add_test(tc, test_local_pool_bind_complete_stats);
	tcase_add_test(tc, test_local_pool_event_returned_every_way);
	tcase_add_test(tc, test_local_pool_destroy_ebusy_while_out);
	tcase_add_test(tc, test_local_pool_einval);
	tcase_add_test(tc, test_local_pool_growth_beyond_one_slab);
	tcase_add_test(tc, test_local_pool_warm_no_allocation);
	tcase_add_test(tc, test_local_pool_warm_ring_no_allocation);
	tcase_add_test(tc, test_local_pool_bind_enomem);
	tcase_add_test(tc, test_local_pool_trim_to_zero);
	tcase_add_test(tc, test_local_pool_trim_keep);
	tcase_add_test(tc, test_local_pool_trim_huge_keep_frees_nothing);
	tcase_add_test(tc, test_local_pool_trim_keeps_slab_with_live_event);
	tcase_add_test(tc, test_local_pool_stale_endpoint_copy_einval);
	tcase_add_test(tc, test_local_pool_dtor_applies);
	tcase_add_test(tc, test_local_pool_notify_callback);
	tcase_add_test(tc, test_local_pool_heap_create_ref_unref);
	tcase_add_test(tc, test_local_pool_heap_freed_after_last_event);
	tcase_add_test(tc, test_local_pool_heap_unref_idle_frees_at_once);
	suite_add_tcase(s, tc);

	tcase_add_test(seed, test_local_pool_seed_lifecycle_every_kind);
	tcase_add_test(seed, test_local_pool_seed_multiple_events);
	tcase_add_test(seed, test_local_pool_seed_reuse);
	tcase_add_test(seed, test_local_pool_seed_tryrecv_variants);
	tcase_add_test(seed, test_local_pool_seed_multiple_types);
	tcase_add_test(seed, test_local_pool_seed_immediate_close);
	tcase_add_test(seed, test_local_pool_seed_len_two_events);
	tcase_add_test(seed, test_local_pool_seed_sender_dropped);
	tcase_add_test(seed, test_local_pool_seed_awaiting_sender_dropped);
	suite_add_tcase(s, seed);
	return run_suite(s);
}
