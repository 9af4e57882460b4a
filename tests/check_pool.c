/*
 * check_pool.c - pools of thread-safe events, used from one thread: stats,
 * every way an event ends, every receive on pooled events, allocation
 * counts once warm, growth, ENOMEM, trim, stale endpoint copies, heap
 * pools and fork. The tests with several threads live elsewhere.
 *
 * With one thread the pool is deterministic: a released event goes to
 * this thread's cache and the next bind takes it back (last in, first
 * out), and trim flushes this thread's cache first, so every slab is
 * fully free once every event is back.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* Events per slab: the growth step the stats show. */
#define SLAB 64

/* Free events a thread may cache per pool, on top of what is live. */
#define CACHE 64

struct pair {
	once_sender_t tx;
	once_receiver_t rx;
};

/* Assert all four stats at once; what names the case. */
static void
check_stats(once_pool_t *pool, size_t live, size_t nfree, size_t capacity,
	    size_t slabs, const char *what)
{
	struct once_pool_stats st;

	memset(&st, 0xa5, sizeof(st));
	ck_assert_msg(once_pool_stats(pool, &st) == 0, "%s: stats failed",
		      what);
	ck_assert_msg(st.live == live && st.free == nfree &&
		      st.capacity == capacity && st.slabs == slabs,
		      "%s: live %zu free %zu capacity %zu slabs %zu, "
		      "want %zu %zu %zu %zu", what, st.live, st.free,
		      st.capacity, st.slabs, live, nfree, capacity, slabs);
}

/* The stats, for the tests that bound them rather than pin them. */
static struct once_pool_stats
get_stats(once_pool_t *pool)
{
	struct once_pool_stats st;

	memset(&st, 0xa5, sizeof(st));
	ck_assert_int_eq(once_pool_stats(pool, &st), 0);
	ck_assert_msg(st.capacity == st.live + st.free &&
		      st.capacity == st.slabs * SLAB,
		      "inconsistent stats: live %zu free %zu capacity %zu "
		      "slabs %zu", st.live, st.free, st.capacity, st.slabs);
	return st;
}

/* Send and receive one value: the event goes back to its pool. */
static void
complete(struct pair *p, void *value)
{
	void *v = NULL;

	ck_assert_int_eq(once_send(&p->tx, value), 0);
	ck_assert_int_eq(once_tryrecv(&p->rx, &v), 0);
	ck_assert_ptr_eq(v, value);
}

/* A callback that counts its calls and may collect the value. */
struct notified {
	once_receiver_t *rx;	/* NULL: do not collect */
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
		n->rc = once_tryrecv(n->rx, &n->value);
}

/* Three ways to hold a pool: caller storage, heap, malloc'd storage. */
enum pool_kind { PK_CALLER, PK_HEAP, PK_MALLOC, PK_COUNT };

static once_pool_t *
pool_open(int kind, once_pool_t *caller, const once_attr_t *attr)
{
	once_pool_t *pool = caller;

	switch (kind) {
	case PK_CALLER:
		ck_assert_int_eq(once_pool_init(pool, attr), 0);
		break;
	case PK_HEAP:
		ck_assert_int_eq(once_pool_create(&pool, attr), 0);
		break;
	default:
		pool = malloc(sizeof(*pool));
		ck_assert_ptr_nonnull(pool);
		ck_assert_int_eq(once_pool_init(pool, attr), 0);
		break;
	}
	return pool;
}

static void
pool_close(int kind, once_pool_t *pool)
{
	switch (kind) {
	case PK_CALLER:
		ck_assert_int_eq(once_pool_destroy(pool), 0);
		break;
	case PK_HEAP:
		ck_assert_int_eq(once_pool_unref(pool), 0);
		break;
	default:
		ck_assert_int_eq(once_pool_destroy(pool), 0);
		free(pool);
		break;
	}
}

/* Verify that an empty pool is made and destroyed allocating nothing. */
START_TEST(test_pool_init_destroy_empty)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t pool;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_pool_init(NULL, &a), EINVAL);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(once_pool_init(&pool, NULL), 0);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), 0);
	ck_assert_int_eq(atomic_load(&ca.frees), 0);
}
END_TEST

/* Verify that the stats of a new pool are all 0. */
START_TEST(test_pool_stats_after_init)
{
	once_pool_t pool, *hp;

	ck_assert_int_eq(once_pool_init(&pool, NULL), 0);
	check_stats(&pool, 0, 0, 0, 0, "caller pool after init");
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(once_pool_create(&hp, NULL), 0);
	check_stats(hp, 0, 0, 0, 0, "heap pool after create");
	ck_assert_int_eq(once_pool_unref(hp), 0);
}
END_TEST

/* Verify the stats as one event is bound and completed both ways. */
START_TEST(test_pool_bind_complete_stats)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t pool;
	struct pair p;
	void *v = NULL;
	int x, y;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "one bound");
	ck_assert_int_eq(atomic_load(&ca.allocs), 1);
	ck_assert_int_eq(once_receiver_ready(&p.rx), 0);
	ck_assert_int_eq(once_sender_closed(&p.tx), 0);
	ck_assert_int_eq(once_send(&p.tx, &x), 0);
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "sent, not received");
	ck_assert_int_eq(once_receiver_ready(&p.rx), 1);
	ck_assert_int_eq(once_tryrecv(&p.rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	check_stats(&pool, 0, SLAB, SLAB, 1, "completed by tryrecv");

	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "bound again");
	ck_assert_int_eq(once_send(&p.tx, &y), 0);
	ck_assert_int_eq(once_recv(&p.rx, &v), 0);
	ck_assert_ptr_eq(v, &y);
	ck_assert_ptr_null(p.rx.ev_);
	check_stats(&pool, 0, SLAB, SLAB, 1, "completed by recv");
	ck_assert_int_eq(atomic_load(&ca.allocs), 1);

	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.frees), 1);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/* Verify that however an event ends, it goes back to the pool. */
START_TEST(test_pool_event_returned_every_way)
{
	once_attr_t a;
	once_pool_t pool;
	struct pair p;
	long before = atomic_load(&dtor_calls);
	void *v = &v;
	int x, way;

	attr_counting(&a, NULL);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	for (way = 0; way < 6; way++) {
		ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
		switch (way) {
		case 0:	/* sent and received */
			ck_assert_int_eq(once_send(&p.tx, &x), 0);
			check_stats(&pool, 1, SLAB - 1, SLAB, 1, "way 0 half");
			ck_assert_int_eq(once_tryrecv(&p.rx, &v), 0);
			ck_assert_ptr_eq(v, &x);
			break;
		case 1:	/* receiver closed, then send is EPIPE */
			ck_assert_int_eq(once_receiver_close(&p.rx), 0);
			check_stats(&pool, 1, SLAB - 1, SLAB, 1, "way 1 half");
			ck_assert_int_eq(once_sender_closed(&p.tx), 1);
			ck_assert_int_eq(once_send(&p.tx, &x), EPIPE);
			break;
		case 2:	/* sender closed, then receive is EPIPE */
			ck_assert_int_eq(once_sender_close(&p.tx), 0);
			check_stats(&pool, 1, SLAB - 1, SLAB, 1, "way 2 half");
			ck_assert_int_eq(once_receiver_ready(&p.rx), 1);
			ck_assert_int_eq(once_tryrecv(&p.rx, &v), EPIPE);
			break;
		case 3:	/* both closed */
			ck_assert_int_eq(once_sender_close(&p.tx), 0);
			check_stats(&pool, 1, SLAB - 1, SLAB, 1, "way 3 half");
			ck_assert_int_eq(once_receiver_close(&p.rx), 0);
			break;
		case 4:	/* sent, receiver closed: destructor */
			ck_assert_int_eq(once_send(&p.tx, &x), 0);
			check_stats(&pool, 1, SLAB - 1, SLAB, 1, "way 4 half");
			ck_assert_int_eq(once_receiver_close(&p.rx), 0);
			break;
		case 5:	/* sender closed, blocking receive is EPIPE */
			ck_assert_int_eq(once_sender_close(&p.tx), 0);
			check_stats(&pool, 1, SLAB - 1, SLAB, 1, "way 5 half");
			ck_assert_int_eq(once_recv(&p.rx, &v), EPIPE);
			break;
		}
		ck_assert_ptr_null(p.tx.ev_);
		ck_assert_ptr_null(p.rx.ev_);
		check_stats(&pool, 0, SLAB, SLAB, 1, "event ended");
		ck_assert_msg(atomic_load(&dtor_calls) - before ==
			      (way >= 4), "way %d: destructor calls %ld", way,
			      atomic_load(&dtor_calls) - before);
	}
	ck_assert_ptr_eq(atomic_load(&dtor_last), &x);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
}
END_TEST

/* Verify destroy: EBUSY while an event is out, 0 after, reusable. */
START_TEST(test_pool_destroy_ebusy_while_out)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t pool;
	struct pair p;
	void *v;
	int x;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_pool_destroy(&pool), EBUSY);
	ck_assert_int_eq(once_send(&p.tx, &x), 0);
	ck_assert_int_eq(once_pool_destroy(&pool), EBUSY);
	ck_assert_int_eq(once_tryrecv(&p.rx, &v), 0);

	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_receiver_close(&p.rx), 0);
	ck_assert_int_eq(once_pool_destroy(&pool), EBUSY);
	ck_assert_int_eq(once_sender_close(&p.tx), 0);

	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_sender_close(&p.tx), 0);
	ck_assert_int_eq(once_pool_destroy(&pool), EBUSY);
	ck_assert_int_eq(once_tryrecv(&p.rx, &v), EPIPE);

	check_stats(&pool, 0, SLAB, SLAB, 1, "all back");
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), atomic_load(&ca.frees));
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);

	/*
	 * The storage is reusable, though this thread's cache still names
	 * the old pool at the same address (trim and bind both look there).
	 */
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	check_stats(&pool, 0, 0, 0, 0, "initialised again");
	ck_assert_int_eq(once_pool_trim(&pool, 0), 0);
	check_stats(&pool, 0, 0, 0, 0, "trimmed after reinit");
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "bound after reinit");
	complete(&p, &x);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), 2);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/* Verify the EINVAL cases of every pool function. */
START_TEST(test_pool_einval)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t pool, *hp;
	struct once_pool_stats st;
	struct pair p;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_pool_bind(NULL, &p.tx, &p.rx), EINVAL);
	ck_assert_int_eq(once_pool_bind(&pool, NULL, &p.rx), EINVAL);
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, NULL), EINVAL);
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx,
					(once_receiver_t *)(void *)&p.tx),
			 EINVAL);
	ck_assert_int_eq(once_pool_stats(NULL, &st), EINVAL);
	ck_assert_int_eq(once_pool_stats(&pool, NULL), EINVAL);
	ck_assert_int_eq(once_pool_trim(NULL, 0), EINVAL);
	ck_assert_int_eq(once_pool_destroy(NULL), EINVAL);
	ck_assert_int_eq(once_pool_create(NULL, &a), EINVAL);
	ck_assert_int_eq(once_pool_ref(NULL), EINVAL);
	ck_assert_int_eq(once_pool_unref(NULL), EINVAL);
	/* A caller-storage pool has no references. */
	ck_assert_int_eq(once_pool_ref(&pool), EINVAL);
	ck_assert_int_eq(once_pool_unref(&pool), EINVAL);
	/* The refused calls changed nothing and allocated nothing. */
	check_stats(&pool, 0, 0, 0, 0, "after refused calls");
	ck_assert_int_eq(atomic_load(&ca.allocs), 0);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);

	/* A heap pool is not destroyed, it is unref'd. */
	ck_assert_int_eq(once_pool_create(&hp, &a), 0);
	ck_assert_int_eq(once_pool_destroy(hp), EINVAL);
	check_stats(hp, 0, 0, 0, 0, "heap pool after refused destroy");
	ck_assert_int_eq(once_pool_unref(hp), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/* Verify recv, timedrecv and clockrecv on pooled events. */
START_TEST(test_pool_recv_variants)
{
	once_pool_t pool;
	struct pair p;
	struct timespec ts, bad;
	void *v = &v;
	int x, y;

	ck_assert_int_eq(once_pool_init(&pool, NULL), 0);

	/* once_recv: the value, and EPIPE. */
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_send(&p.tx, &x), 0);
	ck_assert_int_eq(once_recv(&p.rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_recv(&p.rx, &v), EINVAL);
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_sender_close(&p.tx), 0);
	v = &v;
	ck_assert_int_eq(once_recv(&p.rx, &v), EPIPE);
	ck_assert_ptr_eq(v, &v);
	check_stats(&pool, 0, SLAB, SLAB, 1, "after recv");

	/* once_timedrecv: ETIMEDOUT (future and past deadline), then 0. */
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ts = deadline_in(CLOCK_REALTIME, 1000000);
	ck_assert_int_eq(once_timedrecv(&p.rx, &v, &ts), ETIMEDOUT);
	ck_assert_ptr_eq(v, &v);
	ck_assert_int_eq(once_receiver_ready(&p.rx), 0);
	ck_assert_int_eq(once_timedrecv(&p.rx, &v, &ts), ETIMEDOUT);
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "timed out");
	ck_assert_int_eq(once_send(&p.tx, &y), 0);
	ck_assert_int_eq(once_timedrecv(&p.rx, &v, &ts), 0);
	ck_assert_ptr_eq(v, &y);
	ck_assert_ptr_null(p.rx.ev_);
	check_stats(&pool, 0, SLAB, SLAB, 1, "after timedrecv");

	/* once_clockrecv on CLOCK_MONOTONIC, and the argument checks. */
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	v = &v;
	ts = deadline_in(CLOCK_MONOTONIC, 1000000);
	ck_assert_int_eq(once_clockrecv(&p.rx, &v, CLOCK_MONOTONIC, &ts),
			 ETIMEDOUT);
	ck_assert_ptr_eq(v, &v);
	ck_assert_int_eq(once_send(&p.tx, &x), 0);
	bad = ts;
	bad.tv_nsec = 1000000000L;
	ck_assert_int_eq(once_clockrecv(&p.rx, &v, CLOCK_PROCESS_CPUTIME_ID,
					&ts), EINVAL);
	ck_assert_int_eq(once_clockrecv(&p.rx, &v, CLOCK_MONOTONIC, NULL),
			 EINVAL);
	ck_assert_int_eq(once_clockrecv(&p.rx, &v, CLOCK_MONOTONIC, &bad),
			 EINVAL);
	ck_assert_int_eq(once_timedrecv(&p.rx, &v, NULL), EINVAL);
	ck_assert_ptr_eq(v, &v);
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "refused arguments");
	ck_assert_int_eq(once_clockrecv(&p.rx, &v, CLOCK_MONOTONIC, &ts), 0);
	ck_assert_ptr_eq(v, &x);

	/* once_clockrecv on CLOCK_REALTIME: EPIPE. */
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_sender_close(&p.tx), 0);
	ts = deadline_in(CLOCK_REALTIME, 1000000);
	ck_assert_int_eq(once_clockrecv(&p.rx, &v, CLOCK_REALTIME, &ts),
			 EPIPE);
	check_stats(&pool, 0, SLAB, SLAB, 1, "after clockrecv");
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
}
END_TEST

/* Verify receiver_ready and sender_closed on pooled events. */
START_TEST(test_pool_ready_and_closed)
{
	once_pool_t pool;
	struct pair p;
	void *v;
	int x;

	ck_assert_int_eq(once_pool_init(&pool, NULL), 0);
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_receiver_ready(&p.rx), 0);
	ck_assert_int_eq(once_sender_closed(&p.tx), 0);
	ck_assert_int_eq(once_tryrecv(&p.rx, &v), EAGAIN);
	ck_assert_int_eq(once_receiver_ready(&p.rx), 0);
	ck_assert_int_eq(once_send(&p.tx, &x), 0);
	ck_assert_int_eq(once_sender_closed(&p.tx), 1);	/* cleared */
	ck_assert_int_eq(once_receiver_ready(&p.rx), 1);
	ck_assert_int_eq(once_tryrecv(&p.rx, &v), 0);
	ck_assert_int_eq(once_receiver_ready(&p.rx), 1);	/* cleared */

	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_receiver_close(&p.rx), 0);
	ck_assert_int_eq(once_sender_closed(&p.tx), 1);
	/* Not consumed: asked again, and then closed. */
	ck_assert_int_eq(once_sender_closed(&p.tx), 1);
	ck_assert_int_eq(once_sender_close(&p.tx), 0);

	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_sender_close(&p.tx), 0);
	ck_assert_int_eq(once_receiver_ready(&p.rx), 1);
	ck_assert_int_eq(once_tryrecv(&p.rx, &v), EPIPE);

	ck_assert_int_eq(once_receiver_ready(NULL), 1);
	ck_assert_int_eq(once_sender_closed(NULL), 1);
	check_stats(&pool, 0, SLAB, SLAB, 1, "all back");
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
}
END_TEST

/* Verify that a callback on a pooled event runs exactly once. */
START_TEST(test_pool_notify_callback)
{
	once_pool_t pool;
	struct pair p;
	struct notified n = { &p.rx, 0, -1, NULL };
	struct notified m = { NULL, 0, -1, NULL };
	struct notified k = { &p.rx, 0, -1, NULL };
	struct notified c = { NULL, 0, -1, NULL };
	struct timespec ts;
	void *v = &v;
	int x, y;

	ck_assert_int_eq(once_pool_init(&pool, NULL), 0);
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_receiver_notify(&p.rx, NULL, &n), EINVAL);
	ck_assert_int_eq(once_receiver_notify(&p.rx, count_notify, &n), 0);
	ck_assert_int_eq(once_receiver_notify(&p.rx, count_notify, &n),
			 EBUSY);
	ck_assert_int_eq(once_recv(&p.rx, &v), EBUSY);
	ts = deadline_in(CLOCK_REALTIME, 1000000);
	ck_assert_int_eq(once_timedrecv(&p.rx, &v, &ts), EBUSY);
	ck_assert_int_eq(once_tryrecv(&p.rx, &v), EAGAIN);
	ck_assert_int_eq(once_receiver_ready(&p.rx), 0);
	ck_assert_int_eq(n.calls, 0);
	ck_assert_int_eq(once_send(&p.tx, &x), 0);
	ck_assert_int_eq(n.calls, 1);
	ck_assert_int_eq(n.rc, 0);
	ck_assert_ptr_eq(n.value, &x);
	ck_assert_ptr_null(p.rx.ev_);
	check_stats(&pool, 0, SLAB, SLAB, 1, "collected by the callback");

	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_send(&p.tx, &y), 0);
	ck_assert_int_eq(once_receiver_notify(&p.rx, count_notify, &k), 0);
	ck_assert_int_eq(k.calls, 1);
	ck_assert_int_eq(k.rc, 0);
	ck_assert_ptr_eq(k.value, &y);
	check_stats(&pool, 0, SLAB, SLAB, 1, "notified after the send");

	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_receiver_notify(&p.rx, count_notify, &m), 0);
	ck_assert_int_eq(once_receiver_close(&p.rx), 0);
	ck_assert_int_eq(m.calls, 1);
	ck_assert_int_eq(once_send(&p.tx, &x), EPIPE);
	ck_assert_int_eq(m.calls, 1);
	check_stats(&pool, 0, SLAB, SLAB, 1, "closed with a callback");

	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_receiver_notify(&p.rx, count_notify, &c), 0);
	ck_assert_int_eq(once_sender_close(&p.tx), 0);
	ck_assert_int_eq(c.calls, 1);
	v = &v;
	ck_assert_int_eq(once_tryrecv(&p.rx, &v), EPIPE);
	ck_assert_ptr_eq(v, &v);
	ck_assert_int_eq(c.calls, 1);
	check_stats(&pool, 0, SLAB, SLAB, 1, "sender closed, callback");
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
}
END_TEST

/* Verify that a warm pool allocates nothing in 100,000 cycles. */
START_TEST(test_pool_warm_no_allocation)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t pool;
	struct once_pool_stats st;
	struct pair p;
	long allocs;
	void *v = NULL;
	int i, x, bad = 0;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
		complete(&p, &x);
	}
	allocs = atomic_load(&ca.allocs);
	for (i = 0; i < 100000; i++) {
		if (once_pool_bind(&pool, &p.tx, &p.rx) != 0) {
			bad++;
			continue;
		}
		if (once_send(&p.tx, &x) != 0)
			bad++;
		if (once_tryrecv(&p.rx, &v) != 0 || v != &x)
			bad++;
	}
	ck_assert_msg(bad == 0, "%d failed cycles", bad);
	ck_assert_msg(atomic_load(&ca.allocs) == allocs,
		      "%ld allocations once warm",
		      atomic_load(&ca.allocs) - allocs);
	st = get_stats(&pool);
	ck_assert_msg(st.live == 0 && st.capacity <= SLAB + CACHE,
		      "after the loop: live %zu capacity %zu slabs %zu",
		      st.live, st.capacity, st.slabs);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/* Verify that a warm ring of 1000 live events allocates nothing. */
START_TEST(test_pool_warm_ring_no_allocation)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t pool;
	struct once_pool_stats st;
	static struct pair ring[1000];
	long allocs;
	void *v = NULL;
	int i, j, bad = 0;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	/* Warm up: the whole ring out, then back. */
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(once_pool_bind(&pool, &ring[i].tx,
						&ring[i].rx), 0);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(once_sender_close(&ring[i].tx), 0);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(once_receiver_close(&ring[i].rx), 0);
	ck_assert_int_gt(atomic_load(&ca.allocs), 0);
	allocs = atomic_load(&ca.allocs);

	/* Each step ends the oldest event, four ways in turn, and rebinds. */
	for (i = 0; i < 1000; i++)
		if (once_pool_bind(&pool, &ring[i].tx, &ring[i].rx) != 0)
			bad++;
	for (i = 0; i < 100000; i++) {
		struct pair *p = &ring[i % 1000];
		void *val = (void *)(intptr_t)i;

		switch (i & 3) {
		case 0:
			if (once_send(&p->tx, val) != 0)
				bad++;
			if (once_tryrecv(&p->rx, &v) != 0 || v != val)
				bad++;
			break;
		case 1:
			if (once_receiver_close(&p->rx) != 0)
				bad++;
			if (once_send(&p->tx, &v) != EPIPE)
				bad++;
			break;
		case 2:
			if (once_sender_close(&p->tx) != 0)
				bad++;
			if (once_tryrecv(&p->rx, &v) != EPIPE)
				bad++;
			break;
		case 3:
			if (once_send(&p->tx, val) != 0)
				bad++;
			if (once_receiver_close(&p->rx) != 0)
				bad++;
			break;
		}
		if (once_pool_bind(&pool, &p->tx, &p->rx) != 0)
			bad++;
	}
	ck_assert_msg(bad == 0, "%d failed calls", bad);
	ck_assert_msg(atomic_load(&ca.allocs) == allocs,
		      "%ld allocations once warm",
		      atomic_load(&ca.allocs) - allocs);
	st = get_stats(&pool);
	ck_assert_msg(st.live == 1000 && st.capacity <= 1000 + 3 * SLAB,
		      "ring full: live %zu capacity %zu slabs %zu",
		      st.live, st.capacity, st.slabs);
	for (i = 0; i < 1000; i++)
		complete(&ring[i], &j);
	st = get_stats(&pool);
	ck_assert_msg(st.live == 0 && st.capacity <= 1000 + 3 * SLAB,
		      "ring drained: live %zu capacity %zu slabs %zu",
		      st.live, st.capacity, st.slabs);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/* Verify growth: 200 events out take at least 4 slabs. */
START_TEST(test_pool_growth_beyond_one_slab)
{
	once_pool_t pool;
	struct once_pool_stats st;
	static struct pair p[200];
	int i, j, x;

	ck_assert_int_eq(once_pool_init(&pool, NULL), 0);
	for (i = 0; i < 200; i++)
		ck_assert_msg(once_pool_bind(&pool, &p[i].tx, &p[i].rx) == 0,
			      "bind %d failed", i);
	for (i = 0; i < 200; i++)
		for (j = 0; j < i; j++)
			ck_assert_msg(p[i].tx.ev_ != p[j].tx.ev_,
				      "binds %d and %d share an event", j, i);
	st = get_stats(&pool);
	ck_assert_msg(st.live == 200 && st.slabs >= 4 &&
		      st.capacity >= 4 * SLAB,
		      "200 out: live %zu capacity %zu slabs %zu", st.live,
		      st.capacity, st.slabs);
	for (i = 0; i < 200; i++)
		complete(&p[i], &x);
	st = get_stats(&pool);
	ck_assert_msg(st.live == 0 && st.slabs >= 4 &&
		      st.free == st.capacity,
		      "200 back: live %zu free %zu capacity %zu slabs %zu",
		      st.live, st.free, st.capacity, st.slabs);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
}
END_TEST

/* Verify ENOMEM from bind leaves the pool unchanged and usable. */
START_TEST(test_pool_bind_enomem)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t pool;
	static struct pair p[SLAB + 1];
	struct pair q;
	int i, x;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	atomic_store(&ca.fail, 1);
	ck_assert_int_eq(once_pool_bind(&pool, &q.tx, &q.rx), ENOMEM);
	check_stats(&pool, 0, 0, 0, 0, "ENOMEM on a new pool");
	ck_assert_int_eq(once_pool_bind(&pool, &q.tx, &q.rx), ENOMEM);
	atomic_store(&ca.fail, 0);
	ck_assert_int_eq(once_pool_bind(&pool, &q.tx, &q.rx), 0);
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "bound after ENOMEM");
	complete(&q, &x);

	for (i = 0; i < SLAB; i++)
		ck_assert_int_eq(once_pool_bind(&pool, &p[i].tx, &p[i].rx),
				 0);
	check_stats(&pool, SLAB, 0, SLAB, 1, "one slab full");
	atomic_store(&ca.fail, 1);
	ck_assert_int_eq(once_pool_bind(&pool, &q.tx, &q.rx), ENOMEM);
	check_stats(&pool, SLAB, 0, SLAB, 1, "ENOMEM on a full slab");
	/* The events out are unharmed. */
	complete(&p[0], &x);
	check_stats(&pool, SLAB - 1, 1, SLAB, 1, "one back while failing");
	/* A free event needs no allocation. */
	ck_assert_int_eq(once_pool_bind(&pool, &p[0].tx, &p[0].rx), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), 1);

	atomic_store(&ca.fail, 0);
	ck_assert_int_eq(once_pool_bind(&pool, &p[SLAB].tx, &p[SLAB].rx), 0);
	check_stats(&pool, SLAB + 1, SLAB - 1, 2 * SLAB, 2, "grown again");
	for (i = 0; i <= SLAB; i++)
		complete(&p[i], &x);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), 2);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/* Verify that trim to 0 frees every slab once all events are back. */
START_TEST(test_pool_trim_to_zero)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t pool;
	static struct pair p[200];
	long live_before;
	int i, x;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_pool_trim(&pool, 0), 0);
	check_stats(&pool, 0, 0, 0, 0, "trim of a new pool");
	live_before = atomic_load(&ca.live_bytes);
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(once_pool_bind(&pool, &p[i].tx, &p[i].rx),
				 0);
	for (i = 0; i < 200; i++)
		complete(&p[i], &x);
	ck_assert_int_gt(atomic_load(&ca.live_bytes), live_before);
	ck_assert_int_eq(once_pool_trim(&pool, 0), 0);
	check_stats(&pool, 0, 0, 0, 0, "trimmed to 0");
	ck_assert_int_eq(atomic_load(&ca.live_bytes), live_before);
	ck_assert_int_eq(atomic_load(&ca.allocs), atomic_load(&ca.frees));

	/* Still usable: it grows again. */
	ck_assert_int_eq(once_pool_bind(&pool, &p[0].tx, &p[0].rx), 0);
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "bound after trim");
	complete(&p[0], &x);
	ck_assert_int_eq(once_pool_trim(&pool, 0), 0);
	check_stats(&pool, 0, 0, 0, 0, "trimmed again");
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/* Verify that trim frees slabs only while keep events stay free. */
START_TEST(test_pool_trim_keep)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t pool;
	static struct pair p[4 * SLAB];
	long frees;
	int i, x;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	for (i = 0; i < 4 * SLAB; i++)
		ck_assert_int_eq(once_pool_bind(&pool, &p[i].tx, &p[i].rx),
				 0);
	for (i = 0; i < 4 * SLAB; i++)
		complete(&p[i], &x);
	check_stats(&pool, 0, 4 * SLAB, 4 * SLAB, 4, "four free slabs");
	frees = atomic_load(&ca.frees);
	ck_assert_int_eq(once_pool_trim(&pool, 100), 0);
	check_stats(&pool, 0, 2 * SLAB, 2 * SLAB, 2, "trim keep 100");
	ck_assert_int_eq(atomic_load(&ca.frees) - frees, 2);
	/* Exactly keep free: nothing more to give back. */
	ck_assert_int_eq(once_pool_trim(&pool, 2 * SLAB), 0);
	check_stats(&pool, 0, 2 * SLAB, 2 * SLAB, 2, "trim keep 128");
	ck_assert_int_eq(once_pool_trim(&pool, SLAB), 0);
	check_stats(&pool, 0, SLAB, SLAB, 1, "trim keep 64");
	ck_assert_int_eq(once_pool_trim(&pool, 1), 0);
	check_stats(&pool, 0, SLAB, SLAB, 1, "trim keep 1");
	/* What trim kept still binds, without allocating. */
	ck_assert_int_eq(once_pool_bind(&pool, &p[0].tx, &p[0].rx), 0);
	complete(&p[0], &x);
	ck_assert_int_eq(atomic_load(&ca.allocs), 4);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/* Verify that a keep up to SIZE_MAX keeps every slab. */
START_TEST(test_pool_trim_huge_keep_frees_nothing)
{
	/* keep + a slab's worth must not wrap around. */
	const size_t keeps[] = { 4 * SLAB + 1, (size_t)1 << 40,
				 SIZE_MAX - SLAB, SIZE_MAX - 1, SIZE_MAX };
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t pool;
	static struct pair p[4 * SLAB];
	unsigned int k;
	int i, x;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	for (i = 0; i < 4 * SLAB; i++)
		ck_assert_int_eq(once_pool_bind(&pool, &p[i].tx, &p[i].rx),
				 0);
	for (i = 0; i < 4 * SLAB; i++)
		complete(&p[i], &x);
	for (k = 0; k < sizeof(keeps) / sizeof(keeps[0]); k++) {
		struct once_pool_stats st;

		ck_assert_int_eq(once_pool_trim(&pool, keeps[k]), 0);
		ck_assert_int_eq(once_pool_stats(&pool, &st), 0);
		ck_assert_msg(st.slabs == 4 && st.free == 4 * SLAB,
			      "trim keep %zu freed slabs: %zu left, %zu free",
			      keeps[k], st.slabs, st.free);
	}
	ck_assert_int_eq(atomic_load(&ca.frees), 0);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
}
END_TEST

/* Verify that trim keeps a slab with a live event, which still works. */
START_TEST(test_pool_trim_keeps_slab_with_live_event)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t pool;
	static struct pair p[SLAB + 1];
	void *v = NULL;
	int i, x, y;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_pool_bind(&pool, &p[0].tx, &p[0].rx), 0);
	ck_assert_int_eq(once_pool_trim(&pool, 0), 0);
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "one live, one slab");
	ck_assert_int_eq(atomic_load(&ca.frees), 0);

	/* Two slabs; every event back but p[0]. */
	for (i = 1; i <= SLAB; i++)
		ck_assert_int_eq(once_pool_bind(&pool, &p[i].tx, &p[i].rx),
				 0);
	check_stats(&pool, SLAB + 1, SLAB - 1, 2 * SLAB, 2, "two slabs");
	for (i = 1; i <= SLAB; i++)
		complete(&p[i], &x);
	ck_assert_int_eq(once_pool_trim(&pool, 0), 0);
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "trimmed around live");
	ck_assert_int_eq(atomic_load(&ca.frees), 1);

	/* The live event is intact, and the free ones still bind. */
	ck_assert_int_eq(once_receiver_ready(&p[0].rx), 0);
	ck_assert_int_eq(once_sender_closed(&p[0].tx), 0);
	ck_assert_int_eq(once_pool_bind(&pool, &p[1].tx, &p[1].rx), 0);
	ck_assert_int_eq(once_send(&p[0].tx, &y), 0);
	complete(&p[1], &x);
	ck_assert_int_eq(once_recv(&p[0].rx, &v), 0);
	ck_assert_ptr_eq(v, &y);
	check_stats(&pool, 0, SLAB, SLAB, 1, "all back");
	ck_assert_int_eq(once_pool_trim(&pool, 0), 0);
	check_stats(&pool, 0, 0, 0, 0, "trimmed to 0");
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
}
END_TEST

/* Verify that stale endpoint copies are refused and harm nothing. */
START_TEST(test_pool_stale_endpoint_copy_einval)
{
	once_pool_t pool;
	struct pair p, q[SLAB];
	struct notified n = { NULL, 0, -1, NULL };
	once_sender_t stale_tx, t;
	once_receiver_t stale_rx, r;
	struct timespec ts;
	void *v = &v;
	int i, k, x, y;

	ck_assert_int_eq(once_pool_init(&pool, NULL), 0);
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	stale_tx = p.tx;
	stale_rx = p.rx;
	complete(&p, &x);

	/* Done, not yet bound again. */
	t = stale_tx;
	ck_assert_int_eq(once_send(&t, &y), EINVAL);
	ck_assert_ptr_null(t.ev_);
	r = stale_rx;
	ck_assert_int_eq(once_tryrecv(&r, &v), EINVAL);
	ck_assert_ptr_null(r.ev_);
	check_stats(&pool, 0, SLAB, SLAB, 1, "done, stale refused");

	/* Bind until the pool hands out the stale copies' event again. */
	for (k = 0; k < SLAB; k++) {
		ck_assert_int_eq(once_pool_bind(&pool, &q[k].tx, &q[k].rx), 0);
		if (q[k].tx.ev_ == stale_tx.ev_)
			break;
	}
	ck_assert_msg(k < SLAB, "event not reused in %d binds", SLAB);
	ck_assert_ptr_eq(q[k].rx.ev_, stale_rx.ev_);

	t = stale_tx;
	ck_assert_int_eq(once_send(&t, &y), EINVAL);
	ck_assert_ptr_null(t.ev_);
	t = stale_tx;
	ck_assert_int_eq(once_sender_close(&t), EINVAL);
	ck_assert_ptr_null(t.ev_);
	t = stale_tx;
	ck_assert_int_eq(once_sender_closed(&t), 1);
	r = stale_rx;
	ck_assert_int_eq(once_tryrecv(&r, &v), EINVAL);
	ck_assert_ptr_null(r.ev_);
	r = stale_rx;
	ck_assert_int_eq(once_recv(&r, &v), EINVAL);
	ck_assert_ptr_null(r.ev_);
	r = stale_rx;
	ts = deadline_in(CLOCK_REALTIME, 1000000);
	ck_assert_int_eq(once_timedrecv(&r, &v, &ts), EINVAL);
	ck_assert_ptr_null(r.ev_);
	r = stale_rx;
	ts = deadline_in(CLOCK_MONOTONIC, 1000000);
	ck_assert_int_eq(once_clockrecv(&r, &v, CLOCK_MONOTONIC, &ts), EINVAL);
	ck_assert_ptr_null(r.ev_);
	r = stale_rx;
	ck_assert_int_eq(once_receiver_close(&r), EINVAL);
	ck_assert_ptr_null(r.ev_);
	r = stale_rx;
	ck_assert_int_eq(once_receiver_ready(&r), 1);
	r = stale_rx;
	ck_assert_int_eq(once_receiver_notify(&r, count_notify, &n), EINVAL);
	ck_assert_ptr_null(r.ev_);
	ck_assert_int_eq(n.calls, 0);
	ck_assert_ptr_eq(v, &v);

	/* The pairs bound since are untouched, the reused one included. */
	check_stats(&pool, k + 1, SLAB - k - 1, SLAB, 1, "after stale use");
	for (i = 0; i <= k; i++) {
		ck_assert_msg(once_receiver_ready(&q[i].rx) == 0 &&
			      once_sender_closed(&q[i].tx) == 0,
			      "pair %d disturbed by a stale copy", i);
		complete(&q[i], &y);
	}
	check_stats(&pool, 0, SLAB, SLAB, 1, "all back");
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
}
END_TEST

/* Verify that the pool's destructor applies to its events. */
START_TEST(test_pool_dtor_applies)
{
	once_attr_t a;
	once_pool_t pool, plain;
	struct pair p;
	long before = atomic_load(&dtor_calls);
	int x, y, z;

	attr_counting(&a, NULL);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	/* The pool does not refer to the attribute object afterwards. */
	ck_assert_int_eq(once_attr_setdestructor(&a, NULL), 0);
	ck_assert_int_eq(once_attr_destroy(&a), 0);
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_send(&p.tx, &x), 0);
	ck_assert_int_eq(once_receiver_close(&p.rx), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &x);

	/* Received into NULL: the destructor takes it too. */
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_send(&p.tx, &y), 0);
	ck_assert_int_eq(once_tryrecv(&p.rx, NULL), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 2);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &y);
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_send(&p.tx, &z), 0);
	ck_assert_int_eq(once_recv(&p.rx, NULL), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 3);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &z);

	/* Received, or closed without a value: no call. */
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	complete(&p, &x);
	ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_sender_close(&p.tx), 0);
	ck_assert_int_eq(once_receiver_close(&p.rx), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 3);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);

	/* A pool without a destructor calls none. */
	ck_assert_int_eq(once_pool_init(&plain, NULL), 0);
	ck_assert_int_eq(once_pool_bind(&plain, &p.tx, &p.rx), 0);
	ck_assert_int_eq(once_send(&p.tx, &x), 0);
	ck_assert_int_eq(once_receiver_close(&p.rx), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 3);
	ck_assert_int_eq(once_pool_destroy(&plain), 0);
}
END_TEST

/* Verify that pools accept a spin budget and their events work. */
START_TEST(test_pool_spin_attr)
{
	const unsigned int spins[] = { 0, 1000, ONCE_SPIN_MAX,
				       ONCE_SPIN_DEFAULT };
	once_attr_t a;
	once_pool_t pool;
	struct pair p;
	struct timespec past = { 0, 0 };
	unsigned int k;
	void *v;
	int x;

	for (k = 0; k < sizeof(spins) / sizeof(spins[0]); k++) {
		attr_counting(&a, NULL);
		ck_assert_int_eq(once_attr_setspin(&a, spins[k]), 0);
		ck_assert_int_eq(once_pool_init(&pool, &a), 0);
		ck_assert_int_eq(once_attr_destroy(&a), 0);
		ck_assert_int_eq(once_pool_bind(&pool, &p.tx, &p.rx), 0);
		ck_assert_msg(once_timedrecv(&p.rx, &v, &past) == ETIMEDOUT,
			      "spin %u: no timeout", spins[k]);
		ck_assert_int_eq(once_send(&p.tx, &x), 0);
		v = NULL;
		ck_assert_msg(once_recv(&p.rx, &v) == 0 && v == &x,
			      "spin %u: value lost", spins[k]);
		check_stats(&pool, 0, SLAB, SLAB, 1, "spin pool");
		ck_assert_int_eq(once_pool_destroy(&pool), 0);
	}
}
END_TEST

/* Verify heap pool create (ENOMEM included) and ref/unref. */
START_TEST(test_pool_heap_create_ref_unref)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t *pool = NULL;
	struct pair p;
	int x;

	attr_counting(&a, &ca);
	atomic_store(&ca.fail, 1);
	ck_assert_int_eq(once_pool_create(&pool, &a), ENOMEM);
	ck_assert_ptr_null(pool);
	atomic_store(&ca.fail, 0);
	ck_assert_int_eq(once_pool_create(&pool, &a), 0);
	ck_assert_ptr_nonnull(pool);
	ck_assert_int_eq(atomic_load(&ca.allocs), 1);
	check_stats(pool, 0, 0, 0, 0, "created");
	ck_assert_int_eq(once_pool_ref(pool), 0);
	ck_assert_int_eq(once_pool_unref(pool), 0);
	ck_assert_int_eq(atomic_load(&ca.frees), 0);
	ck_assert_int_eq(once_pool_bind(pool, &p.tx, &p.rx), 0);
	complete(&p, &x);
	/* ENOMEM from a heap pool's bind leaves it usable too. */
	ck_assert_int_eq(once_pool_trim(pool, 0), 0);
	atomic_store(&ca.fail, 1);
	ck_assert_int_eq(once_pool_bind(pool, &p.tx, &p.rx), ENOMEM);
	atomic_store(&ca.fail, 0);
	ck_assert_int_eq(once_pool_bind(pool, &p.tx, &p.rx), 0);
	complete(&p, &x);
	ck_assert_int_eq(once_pool_unref(pool), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), 3);
	ck_assert_int_eq(atomic_load(&ca.frees), 3);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);

	/* Default allocator (LeakSanitizer checks the free). */
	ck_assert_int_eq(once_pool_create(&pool, NULL), 0);
	ck_assert_int_eq(once_pool_bind(pool, &p.tx, &p.rx), 0);
	complete(&p, &x);
	ck_assert_int_eq(once_pool_unref(pool), 0);
}
END_TEST

/* Verify that an orphaned heap pool is freed by its last event. */
START_TEST(test_pool_heap_freed_after_last_event)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t *pool;
	struct pair p[3];
	long before = atomic_load(&dtor_calls);
	void *v;
	int x, last;

	attr_counting(&a, &ca);
	for (last = 0; last < 3; last++) {
		long allocs = atomic_load(&ca.allocs);
		long frees = atomic_load(&ca.frees);
		int i, k;

		ck_assert_int_eq(once_pool_create(&pool, &a), 0);
		ck_assert_int_eq(once_pool_ref(pool), 0);
		for (i = 0; i < 3; i++)
			ck_assert_int_eq(once_pool_bind(pool, &p[i].tx,
							&p[i].rx), 0);
		ck_assert_int_eq(atomic_load(&ca.allocs) - allocs, 2);
		ck_assert_int_eq(once_pool_unref(pool), 0);
		ck_assert_int_eq(once_pool_unref(pool), 0);
		ck_assert_int_eq(atomic_load(&ca.frees), frees);
		/* End them one by one; "last" picks the way of the last. */
		for (k = 0; k < 3; k++) {
			i = (last + 1 + k) % 3;
			ck_assert_msg(atomic_load(&ca.frees) == frees,
				      "last %d: freed with %d events out",
				      last, 3 - k);
			switch (i) {
			case 0:	/* the receiver ends it */
				ck_assert_int_eq(once_send(&p[i].tx, &x), 0);
				ck_assert_int_eq(once_tryrecv(&p[i].rx, &v),
						 0);
				break;
			case 1:	/* the sender ends it: EPIPE */
				ck_assert_int_eq(once_receiver_close(&p[i].rx),
						 0);
				ck_assert_int_eq(once_send(&p[i].tx, &x),
						 EPIPE);
				break;
			case 2:	/* the receiver's close ends it: dtor */
				ck_assert_int_eq(once_send(&p[i].tx, &x), 0);
				ck_assert_int_eq(once_receiver_close(&p[i].rx),
						 0);
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
START_TEST(test_pool_heap_unref_idle_frees_at_once)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t *pool;
	static struct pair p[100];
	int i, x;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_pool_create(&pool, &a), 0);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(once_pool_bind(pool, &p[i].tx, &p[i].rx), 0);
	for (i = 0; i < 100; i++)
		complete(&p[i], &x);
	check_stats(pool, 0, 2 * SLAB, 2 * SLAB, 2, "idle");
	ck_assert_int_eq(atomic_load(&ca.allocs), 3);
	ck_assert_int_eq(once_pool_unref(pool), 0);
	ck_assert_int_eq(atomic_load(&ca.frees), 3);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/* Verify the lifecycle with the pool held each of three ways. */
START_TEST(test_pool_lifecycle_every_kind)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t caller, *pool;
	struct once_pool_stats st;
	struct pair p, q;
	void *v;
	int kind;

	attr_counting(&a, &ca);
	for (kind = 0; kind < PK_COUNT; kind++) {
		pool = pool_open(kind, &caller, &a);
		ck_assert_int_eq(once_pool_stats(pool, &st), 0);
		ck_assert_msg(st.live == 0, "kind %d: not empty", kind);
		ck_assert_int_eq(once_pool_bind(pool, &p.tx, &p.rx), 0);
		ck_assert_int_eq(once_pool_bind(pool, &q.tx, &q.rx), 0);
		ck_assert_ptr_ne(p.tx.ev_, q.tx.ev_);
		ck_assert_int_eq(once_pool_stats(pool, &st), 0);
		ck_assert_msg(st.live == 2, "kind %d: live %zu, not 2", kind,
			      st.live);
		ck_assert_int_eq(once_receiver_ready(&p.rx), 0);
		ck_assert_int_eq(once_send(&p.tx, (void *)(intptr_t)42), 0);
		ck_assert_int_eq(once_send(&q.tx, (void *)(intptr_t)43), 0);
		ck_assert_int_eq(once_receiver_ready(&p.rx), 1);
		ck_assert_int_eq(once_tryrecv(&q.rx, &v), 0);
		ck_assert_msg((intptr_t)v == 43, "kind %d: wrong value", kind);
		ck_assert_int_eq(once_pool_stats(pool, &st), 0);
		ck_assert_msg(st.live == 1, "kind %d: live %zu, not 1", kind,
			      st.live);
		ck_assert_int_eq(once_recv(&p.rx, &v), 0);
		ck_assert_msg((intptr_t)v == 42, "kind %d: wrong value", kind);
		ck_assert_int_eq(once_pool_stats(pool, &st), 0);
		ck_assert_msg(st.live == 0, "kind %d: live %zu after", kind,
			      st.live);
		pool_close(kind, pool);
		ck_assert_msg(atomic_load(&ca.live_bytes) == 0,
			      "kind %d: memory left after close", kind);
	}
}
END_TEST

/* Verify one thread using more pools than its cache holds. */
START_TEST(test_pool_many_pools_one_thread)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t pools[6];
	struct once_pool_stats st;
	struct pair p;
	long allocs;
	void *v = NULL;
	int i, k, x, bad = 0;

	attr_counting(&a, &ca);
	for (k = 0; k < 6; k++)
		ck_assert_int_eq(once_pool_init(&pools[k], &a), 0);
	for (i = 0; i < 3; i++)
		for (k = 0; k < 6; k++) {
			ck_assert_int_eq(once_pool_bind(&pools[k], &p.tx,
							&p.rx), 0);
			complete(&p, &x);
		}
	allocs = atomic_load(&ca.allocs);
	for (i = 0; i < 1000; i++)
		for (k = 0; k < 6; k++) {
			if (once_pool_bind(&pools[k], &p.tx, &p.rx) != 0) {
				bad++;
				continue;
			}
			if (once_send(&p.tx, &x) != 0)
				bad++;
			if (once_tryrecv(&p.rx, &v) != 0 || v != &x)
				bad++;
		}
	ck_assert_msg(bad == 0, "%d failed cycles", bad);
	ck_assert_msg(atomic_load(&ca.allocs) == allocs,
		      "%ld allocations once warm",
		      atomic_load(&ca.allocs) - allocs);
	for (k = 0; k < 6; k++) {
		st = get_stats(&pools[k]);
		ck_assert_msg(st.live == 0 && st.capacity <= SLAB + CACHE,
			      "pool %d: live %zu capacity %zu", k, st.live,
			      st.capacity);
		ck_assert_int_eq(once_pool_trim(&pools[k], 0), 0);
		ck_assert_int_eq(once_pool_destroy(&pools[k]), 0);
	}
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/* The child's side of test_pool_fork: 0 if every call did as it should. */
static int
fork_child(once_pool_t *pool)
{
	static struct pair p[SLAB + 1];
	struct once_pool_stats st;
	void *v;
	int i, x;

	for (i = 0; i <= SLAB; i++)
		if (once_pool_bind(pool, &p[i].tx, &p[i].rx) != 0)
			return 1;
	for (i = 0; i <= SLAB; i++)
		if (once_send(&p[i].tx, &x) != 0 ||
		    once_recv(&p[i].rx, &v) != 0 || v != &x)
			return 2;
	if (once_pool_stats(pool, &st) != 0 || st.live != 0 || st.slabs < 2)
		return 3;
	if (once_pool_trim(pool, 0) != 0 || once_pool_stats(pool, &st) != 0 ||
	    st.slabs != 0)
		return 4;
	if (once_pool_bind(pool, &p[0].tx, &p[0].rx) != 0 ||
	    once_sender_close(&p[0].tx) != 0 ||
	    once_tryrecv(&p[0].rx, &v) != EPIPE)
		return 5;
	return once_pool_destroy(pool) == 0 ? 0 : 6;
}

/*
 * An allocator that gives malloc's alignment and no more: each block at
 * 16 mod 64, its real start and size kept in a small table, so that free
 * can check it is given the size that was asked for.
 */
struct align16 {
	void *raw[8], *ptr[8];
	size_t size[8];
	int bad;		/* a free that matched no block */
};

static void *
alloc16(size_t size, void *ctx)
{
	struct align16 *a = ctx;
	char *raw = malloc(size + 64), *p;
	int i;

	if (!raw)
		return NULL;
	for (p = raw; ((uintptr_t)p & 63) != 16; p += 16)
		;
	for (i = 0; i < 8 && a->ptr[i]; i++)
		;
	if (i == 8) {
		free(raw);
		return NULL;
	}
	a->raw[i] = raw;
	a->ptr[i] = p;
	a->size[i] = size;
	return p;
}

static void
free16(void *ptr, size_t size, void *ctx)
{
	struct align16 *a = ctx;
	int i;

	for (i = 0; i < 8; i++)
		if (a->ptr[i] == ptr && a->size[i] == size) {
			free(a->raw[i]);
			a->ptr[i] = NULL;
			return;
		}
	a->bad++;
}

/*
 * Verify that pooled events are cache-line aligned whatever alignment
 * the allocator gives beyond malloc's, and that every block goes back
 * with its size (once-torture found slabs at 16 mod 64).
 */
START_TEST(test_pool_slab_aligned_with_any_allocator)
{
	struct align16 a16;
	once_attr_t attr;
	once_pool_t pool;
	once_sender_t tx[70];
	once_receiver_t rx[70];
	int i;

	memset(&a16, 0, sizeof(a16));
	ck_assert_int_eq(once_attr_init(&attr), 0);
	ck_assert_int_eq(once_attr_setallocator(&attr, alloc16, free16, &a16),
			 0);
	ck_assert_int_eq(once_pool_init(&pool, &attr), 0);
	for (i = 0; i < 70; i++) {
		ck_assert_int_eq(once_pool_bind(&pool, &tx[i], &rx[i]), 0);
		ck_assert_msg(((uintptr_t)tx[i].ev_ & 63) == 0,
			      "event %d at %p", i, (void *)tx[i].ev_);
	}
	for (i = 0; i < 70; i++) {
		ck_assert_int_eq(once_sender_close(&tx[i]), 0);
		ck_assert_int_eq(once_receiver_close(&rx[i]), 0);
	}
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	for (i = 0; i < 8; i++)
		ck_assert_ptr_null(a16.ptr[i]);
	ck_assert_int_eq(a16.bad, 0);
}
END_TEST

/* Verify that a pool works in a fork() child and in the parent. */
START_TEST(test_pool_fork)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t pool;
	struct pair p[3];
	pid_t pid;
	int i, x, status;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(once_pool_bind(&pool, &p[i].tx, &p[i].rx), 0);
	for (i = 0; i < 3; i++)
		complete(&p[i], &x);
	/* One event out across the fork, in both processes. */
	ck_assert_int_eq(once_pool_bind(&pool, &p[0].tx, &p[0].rx), 0);

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		void *v;

		if (once_send(&p[0].tx, &x) != 0 ||
		    once_tryrecv(&p[0].rx, &v) != 0 || v != &x)
			_exit(10);
		_exit(fork_child(&pool));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child failed: status %#x", status);

	/* The parent's copy is untouched by what the child did. */
	check_stats(&pool, 1, SLAB - 1, SLAB, 1, "parent after fork");
	complete(&p[0], &x);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(once_pool_bind(&pool, &p[i].tx, &p[i].rx), 0);
	for (i = 0; i < 3; i++)
		complete(&p[i], &x);
	ck_assert_int_eq(once_pool_trim(&pool, 0), 0);
	check_stats(&pool, 0, 0, 0, 0, "parent trimmed");
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/*
 * Verify fork with many pools: each works in the child and the parent.
 * Before the fork gate, prefork locked every pool, and ThreadSanitizer
 * aborts a thread that holds more than 64 locks: 47 pools were enough.
 */
START_TEST(test_pool_fork_many_pools)
{
	enum { NPOOLS = 100 };
	static once_pool_t pools[NPOOLS];
	struct pair p;
	pid_t pid;
	int i, x, status;

	for (i = 0; i < NPOOLS; i++)
		ck_assert_int_eq(once_pool_init(&pools[i], NULL), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		void *v;

		for (i = 0; i < NPOOLS; i++)
			if (once_pool_bind(&pools[i], &p.tx, &p.rx) != 0 ||
			    once_send(&p.tx, &x) != 0 ||
			    once_recv(&p.rx, &v) != 0 || v != &x ||
			    once_pool_trim(&pools[i], 0) != 0 ||
			    once_pool_destroy(&pools[i]) != 0)
				_exit(10);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child failed: status %#x", status);
	for (i = 0; i < NPOOLS; i++) {
		ck_assert_int_eq(once_pool_bind(&pools[i], &p.tx, &p.rx), 0);
		complete(&p, &x);
		ck_assert_int_eq(once_pool_destroy(&pools[i]), 0);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pool");
	TCase *basic = tcase_create("basic");
	TCase *recv = tcase_create("recv");
	TCase *alloc = tcase_create("alloc");
	TCase *trim = tcase_create("trim");
	TCase *heap = tcase_create("heap");

	tcase_add_test(basic, test_pool_init_destroy_empty);
	tcase_add_test(basic, test_pool_stats_after_init);
	tcase_add_test(basic, test_pool_bind_complete_stats);
	tcase_add_test(basic, test_pool_event_returned_every_way);
	tcase_add_test(basic, test_pool_destroy_ebusy_while_out);
	tcase_add_test(basic, test_pool_einval);
	tcase_add_test(basic, test_pool_stale_endpoint_copy_einval);
	tcase_add_test(basic, test_pool_dtor_applies);
	tcase_add_test(basic, test_pool_spin_attr);
	tcase_add_test(basic, test_pool_lifecycle_every_kind);
	tcase_add_test(basic, test_pool_fork);
	tcase_add_test(basic, test_pool_fork_many_pools);
	tcase_add_test(basic, test_pool_slab_aligned_with_any_allocator);
	suite_add_tcase(s, basic);

	tcase_add_test(recv, test_pool_recv_variants);
	tcase_add_test(recv, test_pool_ready_and_closed);
	tcase_add_test(recv, test_pool_notify_callback);
	suite_add_tcase(s, recv);

	tcase_set_timeout(alloc, 60);
	tcase_add_test(alloc, test_pool_warm_no_allocation);
	tcase_add_test(alloc, test_pool_warm_ring_no_allocation);
	tcase_add_test(alloc, test_pool_growth_beyond_one_slab);
	tcase_add_test(alloc, test_pool_bind_enomem);
	tcase_add_test(alloc, test_pool_many_pools_one_thread);
	suite_add_tcase(s, alloc);

	tcase_add_test(trim, test_pool_trim_to_zero);
	tcase_add_test(trim, test_pool_trim_keep);
	tcase_add_test(trim, test_pool_trim_huge_keep_frees_nothing);
	tcase_add_test(trim, test_pool_trim_keeps_slab_with_live_event);
	suite_add_tcase(s, trim);

	tcase_add_test(heap, test_pool_heap_create_ref_unref);
	tcase_add_test(heap, test_pool_heap_freed_after_last_event);
	tcase_add_test(heap, test_pool_heap_unref_idle_frees_at_once);
	suite_add_tcase(s, heap);
	return run_suite(s);
}
