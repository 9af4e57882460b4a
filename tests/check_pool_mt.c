/*
 * check_pool_mt.c - thread-safe pools under concurrency.
 *
 * Pipelines of three threads share one pool: a binder binds events and
 * passes the sender to a sending thread and the receiver to a receiving
 * thread through rings, so every event is bound on one thread, completed
 * on a second and received on a third (and released on either). Values
 * are numbered; every number must end exactly once: received, returned to
 * its sender with EPIPE, given to the destructor, or never sent because
 * the sender closed (then its receiver saw EPIPE). A bitmap catches any
 * number seen twice. Variants run trim and stats concurrently, and let
 * the owner of a heap pool drop it mid-run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define RING 256

/*
 * Single-producer, single-consumer ring of endpoints. For drd: a put
 * happens before the get of that slot, and the get before the put that
 * reuses it (keyed by slot, so that nothing is ordered after a later
 * put than the one read).
 */
struct ring {
	atomic_ulong head, tail;
	union {
		once_sender_t tx;
		once_receiver_t rx;
	} slot[RING];
};

static void
ring_init(struct ring *r)
{
	TEST_ATOMIC(&r->head);
	TEST_ATOMIC(&r->tail);
}

static void
ring_wait(void)
{
	sched_yield();
}

static void
ring_put(struct ring *r, const void *ep, size_t size)
{
	unsigned long h = atomic_load_explicit(&r->head, memory_order_relaxed);

	while (h - atomic_load_explicit(&r->tail, memory_order_acquire) ==
	       RING)
		ring_wait();
	TEST_HAPPENS_AFTER(&r->slot[h % RING]);
	memcpy(&r->slot[h % RING], ep, size);
	TEST_HAPPENS_BEFORE(&r->slot[h % RING]);
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

static void
ring_get(struct ring *r, void *ep, size_t size)
{
	unsigned long t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	while (atomic_load_explicit(&r->head, memory_order_acquire) == t)
		ring_wait();
	TEST_HAPPENS_AFTER(&r->slot[t % RING]);
	memcpy(ep, &r->slot[t % RING], size);
	TEST_HAPPENS_BEFORE(&r->slot[t % RING]);
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

/* Shared by all pipelines of a run. */
struct run {
	once_pool_t *pool;
	long per_pipe;
	atomic_uchar *seen;		/* one per value */
	atomic_long dup, received, recv_epipe, sent, send_epipe;
	atomic_long tx_closed, errors;
	atomic_int stop;
};

static struct run *dtor_run;

/* Values are numbers + 1 (NULL stays a value of its own kind). */
static void
mark(struct run *r, long v)
{
	if (atomic_exchange(&r->seen[v - 1], 1))
		atomic_fetch_add(&r->dup, 1);
}

static atomic_long pool_dtor_calls;

static void
pool_dtor(void *value)
{
	atomic_fetch_add(&pool_dtor_calls, 1);
	mark(dtor_run, (long)value);
}

struct pipe {
	struct run *run;
	long first;			/* first value of this pipeline */
	struct ring to_tx, to_rx;
	pthread_t binder, sender, receiver;
};

/* What happens to value v: 1 in 16 the sender closes, 1 in 16 the
 * receiver closes, otherwise it is sent and received. */
static int
fate(long v)
{
	return (int)(v * 2654435761u >> 7) % 16;
}

static void *
binder_thread(void *arg)
{
	struct pipe *p = arg;
	once_sender_t tx;
	once_receiver_t rx;
	long i;

	for (i = 0; i < p->run->per_pipe; i++) {
		if (once_pool_bind(p->run->pool, &tx, &rx)) {
			atomic_fetch_add(&p->run->errors, 1);
			continue;
		}
		ring_put(&p->to_rx, &rx, sizeof(rx));
		ring_put(&p->to_tx, &tx, sizeof(tx));
	}
	return NULL;
}

static void *
sender_thread(void *arg)
{
	struct pipe *p = arg;
	struct run *r = p->run;
	once_sender_t tx;
	long i, v;
	int rc;

	for (i = 0; i < r->per_pipe; i++) {
		ring_get(&p->to_tx, &tx, sizeof(tx));
		v = p->first + i + 1;
		if (fate(v) == 1) {
			if (once_sender_close(&tx))
				atomic_fetch_add(&r->errors, 1);
			atomic_fetch_add(&r->tx_closed, 1);
			mark(r, v);
			continue;
		}
		rc = once_send(&tx, (void *)v);
		if (rc == EPIPE) {
			atomic_fetch_add(&r->send_epipe, 1);
			mark(r, v);
		} else if (rc) {
			atomic_fetch_add(&r->errors, 1);
		} else {
			atomic_fetch_add(&r->sent, 1);
		}
	}
	return NULL;
}

static void *
receiver_thread(void *arg)
{
	struct pipe *p = arg;
	struct run *r = p->run;
	once_receiver_t rx;
	void *got;
	long i, v;
	int rc;

	for (i = 0; i < r->per_pipe; i++) {
		ring_get(&p->to_rx, &rx, sizeof(rx));
		v = p->first + i + 1;
		if (fate(v) == 2) {
			if (once_receiver_close(&rx))
				atomic_fetch_add(&r->errors, 1);
			continue;
		}
		rc = once_recv(&rx, &got);
		if (rc == 0) {
			if ((long)got != v)
				atomic_fetch_add(&r->errors, 1);
			atomic_fetch_add(&r->received, 1);
			mark(r, (long)got);
		} else if (rc == EPIPE) {
			if (fate(v) != 1)
				atomic_fetch_add(&r->errors, 1);
			atomic_fetch_add(&r->recv_epipe, 1);
		} else {
			atomic_fetch_add(&r->errors, 1);
		}
	}
	return NULL;
}

/* Trim and stats, over and over, while the pipelines run. */
static void *
trimmer_thread(void *arg)
{
	struct run *r = arg;
	struct once_pool_stats st;

	while (!atomic_load(&r->stop)) {
		if (once_pool_trim(r->pool, 0) ||
		    once_pool_stats(r->pool, &st) || st.live > st.capacity)
			atomic_fetch_add(&r->errors, 1);
		usleep(200);
	}
	return NULL;
}

static long
handoffs(void)
{
	const char *s = getenv("ONCE_TEST_HANDOFFS");

	return s ? atol(s) : 1000000;
}

/*
 * Run npipes pipelines over pool for total values in all; with trim, a
 * thread trims concurrently; with owner_drop, the caller's reference to a
 * heap pool is dropped once the pipelines run (each binder holds one).
 */
static void
run_pipelines(once_pool_t *pool, int npipes, long total, int trim,
	      int owner_drop)
{
	struct run *r = calloc(1, sizeof(*r));
	struct pipe *p = calloc((size_t)npipes, sizeof(*p));
	pthread_t trimmer;
	long accounted, i;
	int k;

	ck_assert(r && p);
	r->pool = pool;
	r->per_pipe = total / npipes;
	r->seen = calloc((size_t)(r->per_pipe * npipes), 1);
	ck_assert_ptr_nonnull(r->seen);
	dtor_run = r;
	atomic_store(&pool_dtor_calls, 0);
	for (k = 0; k < npipes; k++) {
		p[k].run = r;
		p[k].first = k * r->per_pipe;
		ring_init(&p[k].to_tx);
		ring_init(&p[k].to_rx);
		if (owner_drop)
			ck_assert_int_eq(once_pool_ref(pool), 0);
		ck_assert_int_eq(pthread_create(&p[k].binder, NULL,
						binder_thread, &p[k]), 0);
		ck_assert_int_eq(pthread_create(&p[k].sender, NULL,
						sender_thread, &p[k]), 0);
		ck_assert_int_eq(pthread_create(&p[k].receiver, NULL,
						receiver_thread, &p[k]), 0);
	}
	if (trim)
		ck_assert_int_eq(pthread_create(&trimmer, NULL, trimmer_thread,
						r), 0);
	if (owner_drop) {
		usleep(20000);
		ck_assert_int_eq(once_pool_unref(pool), 0);
	}
	for (k = 0; k < npipes; k++) {
		ck_assert_int_eq(pthread_join(p[k].binder, NULL), 0);
		ck_assert_int_eq(pthread_join(p[k].sender, NULL), 0);
		ck_assert_int_eq(pthread_join(p[k].receiver, NULL), 0);
	}
	atomic_store(&r->stop, 1);
	if (trim)
		ck_assert_int_eq(pthread_join(trimmer, NULL), 0);

	total = r->per_pipe * npipes;
	ck_assert_int_eq(atomic_load(&r->errors), 0);
	ck_assert_int_eq(atomic_load(&r->dup), 0);
	/* Sent values end received or destroyed; the rest at the sender. */
	ck_assert_int_eq(atomic_load(&r->received) +
			 atomic_load(&pool_dtor_calls), atomic_load(&r->sent));
	ck_assert_int_eq(atomic_load(&r->recv_epipe),
			 atomic_load(&r->tx_closed));
	accounted = atomic_load(&r->sent) + atomic_load(&r->send_epipe) +
		    atomic_load(&r->tx_closed);
	ck_assert_int_eq(accounted, total);
	for (i = 0; i < total; i++)
		if (!atomic_load(&r->seen[i]))
			ck_abort_msg("value %ld was lost", i + 1);
	/* Each way of ending was exercised. */
	ck_assert(atomic_load(&r->received) > 0);
	ck_assert(atomic_load(&r->tx_closed) > 0);
	ck_assert(atomic_load(&r->send_epipe) + atomic_load(&pool_dtor_calls)
		  > 0);
	free(r->seen);
	free(r);
	free(p);
}

static void
pool_attr(once_attr_t *a, struct count_alloc *ca)
{
	ck_assert_int_eq(once_attr_init(a), 0);
	ck_assert_int_eq(once_attr_setdestructor(a, pool_dtor), 0);
	ck_assert_int_eq(once_attr_setallocator(a, count_alloc_fn,
						count_free_fn, ca), 0);
}

/*
 * Verify exactly-once over a million hand-offs, bound, sent and received
 * on three different threads, in one pipeline (3 threads) and in two
 * (6 threads) sharing the pool; memory stays bounded and is all given
 * back by destroy.
 */
START_TEST(test_pool_mt_handoffs_exactly_once)
{
	struct count_alloc ca = { 0 };
	struct once_pool_stats st;
	once_attr_t a;
	once_pool_t pool;

	pool_attr(&a, &ca);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	run_pipelines(&pool, 1 + _i, handoffs(), 0, 0);
	ck_assert_int_eq(once_pool_stats(&pool, &st), 0);
	ck_assert_int_eq(st.live, 0);
	/* Bounded: rings of 256 per pipe, caches, a slab of limbo. */
	ck_assert_msg(st.capacity <= 4096, "capacity %zu after the run",
		      st.capacity);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/* Verify exactly-once with trim and stats running against the binds. */
START_TEST(test_pool_mt_trim_concurrent_with_binds)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t pool;

	pool_attr(&a, &ca);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	run_pipelines(&pool, 2, handoffs() / 4, 1, 0);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), atomic_load(&ca.frees));
}
END_TEST

/*
 * Verify that a heap pool dropped by its owner mid-run keeps working for
 * the threads that hold references and is freed when the last is gone.
 */
START_TEST(test_pool_mt_owner_drops_heap_pool_mid_run)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_pool_t *pool;

	pool_attr(&a, &ca);
	ck_assert_int_eq(once_pool_create(&pool, &a), 0);
	run_pipelines(pool, 2, handoffs() / 4, 0, 1);
	/* The binders' references; the last unref frees the pool. */
	ck_assert_int_eq(once_pool_unref(pool), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes) > 0, 1);
	ck_assert_int_eq(once_pool_unref(pool), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), atomic_load(&ca.frees));
}
END_TEST

/*
 * fork() while another thread grows and trims the pool: prefork waits
 * until no thread holds the pool's lock (the fork gate) and must not
 * deadlock with that thread's sections, and the child must find the pool
 * whole and usable (a lock left held would hang it until its alarm kills
 * it). The windows under the lock outside synchronize_rcu() are narrow,
 * so the last is not hit every run: check_hooks forces it, and this
 * verifies the gate's liveness under load.
 */
struct churn {
	once_pool_t *pool;
	atomic_int stop;
	atomic_int rounds;
};

static void *
churn_thread(void *arg)
{
	struct churn *c = arg;
	struct { once_sender_t tx; once_receiver_t rx; } e[200];
	void *v;
	int i, x;

	while (!atomic_load(&c->stop)) {
		/* 200 at once: more than three slabs, so the pool grows. */
		for (i = 0; i < 200; i++)
			if (once_pool_bind(c->pool, &e[i].tx, &e[i].rx))
				abort();
		for (i = 0; i < 200; i++)
			if (once_send(&e[i].tx, &x) ||
			    once_recv(&e[i].rx, &v) || v != &x)
				abort();
		if (once_pool_trim(c->pool, 0))
			abort();
		atomic_fetch_add(&c->rounds, 1);
	}
	return NULL;
}

static int
fork_child_uses(once_pool_t *pool)
{
	struct once_pool_stats st;
	once_sender_t tx;
	once_receiver_t rx;
	void *v;
	int x;

	child_alarm(30);
	if (once_pool_bind(pool, &tx, &rx) || once_send(&tx, &x) ||
	    once_recv(&rx, &v) || v != &x)
		return 10;
	/* The churning thread's events stay out: it is not in the child. */
	if (once_pool_trim(pool, 0) || once_pool_stats(pool, &st) ||
	    st.live > 200)
		return 11;
	return 0;
}

START_TEST(test_pool_mt_fork_while_growing_and_trimming)
{
	struct churn c;
	once_pool_t pool;
	pthread_t t;
	pid_t pid;
	long i, forks;
	int status, before;

	/* Under valgrind (fewer rounds) each fork costs seconds. */
	forks = race_rounds() / 20 + 1;
	if (forks > 50)
		forks = 50;
	ck_assert_int_eq(once_pool_init(&pool, NULL), 0);
	c.pool = &pool;
	atomic_init(&c.stop, 0);
	atomic_init(&c.rounds, 0);
	TEST_ATOMIC(&c.stop);
	TEST_ATOMIC(&c.rounds);
	ck_assert_int_eq(pthread_create(&t, NULL, churn_thread, &c), 0);
	for (i = 0; i < forks; i++) {
		/* Fork while the other thread is at work. */
		before = atomic_load(&c.rounds);
		while (atomic_load(&c.rounds) == before)
			sched_yield();
		pid = fork();
		ck_assert_int_ne(pid, -1);
		if (pid == 0)
			exit_by_exec(fork_child_uses(&pool));
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "fork %ld: child status %#x", i, status);
	}
	atomic_store(&c.stop, 1);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(once_pool_trim(&pool, 0), 0);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pool_mt");
	TCase *tc = tcase_create("pool_mt");

	tcase_set_timeout(tc, 900);
	tcase_add_loop_test(tc, test_pool_mt_handoffs_exactly_once, 0, 2);
	tcase_add_test(tc, test_pool_mt_trim_concurrent_with_binds);
	tcase_add_test(tc, test_pool_mt_owner_drops_heap_pool_mid_run);
	tcase_add_test(tc, test_pool_mt_fork_while_growing_and_trimming);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
