/*
 * check_inspect.c - awaiter inspection: which waits are listed, with
 * what, for how long, and that the callback may use libonce.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* malloc that can be told to fail once, when no sanitizer owns malloc. */
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define FAIL_MALLOC 1
extern void *__libc_malloc(size_t);
static atomic_int fail_next_malloc;

void *
malloc(size_t n)
{
	if (atomic_exchange(&fail_next_malloc, 0))
		return NULL;
	return __libc_malloc(n);
}
#endif

/* What an inspection saw. */
#define SEEN_MAX 8
struct seen {
	int n;
	struct once_waiter w[SEEN_MAX];
};

static void
collect(const struct once_waiter *w, void *arg)
{
	struct seen *s = arg;

	if (s->n < SEEN_MAX)
		s->w[s->n] = *w;
	s->n++;
}

static struct seen
inspect_event(once_event_t *ev)
{
	struct seen s = { 0 };

	ck_assert_int_eq(once_event_inspect(ev, collect, &s), 0);
	return s;
}

static struct seen
inspect_pool(once_pool_t *pool)
{
	struct seen s = { 0 };

	ck_assert_int_eq(once_pool_inspect(pool, collect, &s), 0);
	return s;
}

/* A receiver thread: blocks in the receive its how asks for. */
struct waiter {
	once_receiver_t rx;
	int how;		/* ONCE_WAIT_BLOCKING or ONCE_WAIT_TIMED */
	long timeout_ns;	/* timed: from now */
	atomic_int tid;
	void *value;
	int err;
};

static void *
waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct timespec ts;

	atomic_store(&w->tid, (int)gettid());
	if (w->how == ONCE_WAIT_TIMED) {
		ts = deadline_in(CLOCK_MONOTONIC, w->timeout_ns);
		w->err = once_clockrecv(&w->rx, &w->value, CLOCK_MONOTONIC,
					&ts);
	} else {
		w->err = once_recv(&w->rx, &w->value);
	}
	return NULL;
}

/* Poll (without a time limit: Check's timeout is the limit) for n. */
static struct seen
wait_listed_event(once_event_t *ev, int n)
{
	struct seen s;

	while ((s = inspect_event(ev)).n != n)
		usleep(1000);
	return s;
}

static struct seen
wait_listed_pool(once_pool_t *pool, int n)
{
	struct seen s;

	while ((s = inspect_pool(pool)).n != n)
		usleep(1000);
	return s;
}

static void
bind_nospin(once_event_t *ev, once_sender_t *tx, once_receiver_t *rx)
{
	once_attr_t a;

	ck_assert_int_eq(once_attr_init(&a), 0);
	ck_assert_int_eq(once_attr_setspin(&a, 0), 0);
	ck_assert_int_eq(once_event_init(ev, &a), 0);
	ck_assert_int_eq(once_event_bind(ev, tx, rx), 0);
}

/*
 * Verify that a receiver asleep in once_recv is listed with its thread,
 * its kind of wait and a start time, without frames while backtraces are
 * off, and is gone once it has its value.
 */
START_TEST(test_inspect_blocking_receiver_listed)
{
	once_event_t ev;
	once_sender_t tx;
	struct waiter w = { .how = ONCE_WAIT_BLOCKING };
	struct timespec before, now;
	struct seen s;
	pthread_t t;
	int x;

	ck_assert_int_eq(once_inspect_setbacktrace(0), 0);
	bind_nospin(&ev, &tx, &w.rx);
	ck_assert_int_eq(inspect_event(&ev).n, 0);
	clock_gettime(CLOCK_MONOTONIC, &before);
	ck_assert_int_eq(pthread_create(&t, NULL, waiter_main, &w), 0);
	s = wait_listed_event(&ev, 1);
	clock_gettime(CLOCK_MONOTONIC, &now);
	ck_assert_ptr_eq(s.w[0].event, &ev);
	ck_assert_int_eq(s.w[0].tid, atomic_load(&w.tid));
	ck_assert_int_eq(s.w[0].how, ONCE_WAIT_BLOCKING);
	ck_assert_int_eq(s.w[0].nframes, 0);
	ck_assert_int_ge(elapsed_ns(&before, &s.w[0].since), 0);
	ck_assert_int_ge(elapsed_ns(&s.w[0].since, &now), 0);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(w.err, 0);
	ck_assert_ptr_eq(w.value, &x);
	ck_assert_int_eq(inspect_event(&ev).n, 0);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify that a timed receive is listed as timed and unlisted when it
 * times out, and that a receive that finds its value lists nothing.
 */
START_TEST(test_inspect_timed_receiver_listed_until_timeout)
{
	once_event_t ev;
	once_sender_t tx;
	struct waiter w = { .how = ONCE_WAIT_TIMED,
			    .timeout_ns = 300000000L };
	struct seen s;
	pthread_t t;
	void *v;
	int x;

	bind_nospin(&ev, &tx, &w.rx);
	ck_assert_int_eq(pthread_create(&t, NULL, waiter_main, &w), 0);
	s = wait_listed_event(&ev, 1);
	ck_assert_int_eq(s.w[0].how, ONCE_WAIT_TIMED);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(w.err, ETIMEDOUT);
	ck_assert_int_eq(inspect_event(&ev).n, 0);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_recv(&w.rx, &v), 0);
	ck_assert_int_eq(inspect_event(&ev).n, 0);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

static atomic_int notified;

static void
count_notify(void *arg)
{
	(void)arg;
	atomic_fetch_add(&notified, 1);
}

/*
 * Verify that a registered callback is listed (thread that registered
 * it, ONCE_WAIT_NOTIFY) until a send or a receiver close takes it, and
 * that a callback run at once is never listed.
 */
START_TEST(test_inspect_notify_listed_until_taken)
{
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	struct seen s;
	void *v;
	int x, round;

	for (round = 0; round < 2; round++) {
		ck_assert_int_eq(once_event_init(&ev, NULL), 0);
		ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
		ck_assert_int_eq(once_receiver_notify(&rx, count_notify, NULL),
				 0);
		s = inspect_event(&ev);
		ck_assert_int_eq(s.n, 1);
		ck_assert_int_eq(s.w[0].how, ONCE_WAIT_NOTIFY);
		ck_assert_int_eq(s.w[0].tid, (int)gettid());
		ck_assert_int_eq(once_receiver_notify(&rx, count_notify, NULL),
				 EBUSY);
		ck_assert_int_eq(inspect_event(&ev).n, 1);
		if (round == 0) {
			ck_assert_int_eq(once_send(&tx, &x), 0);
			ck_assert_int_eq(inspect_event(&ev).n, 0);
			ck_assert_int_eq(once_tryrecv(&rx, &v), 0);
		} else {
			ck_assert_int_eq(once_receiver_close(&rx), 0);
			ck_assert_int_eq(inspect_event(&ev).n, 0);
			ck_assert_int_eq(once_send(&tx, &x), EPIPE);
		}
		ck_assert_int_eq(once_event_destroy(&ev), 0);
	}
	/* Complete already: the callback runs at once, nothing is listed. */
	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	atomic_store(&notified, 0);
	ck_assert_int_eq(once_receiver_notify(&rx, count_notify, NULL), 0);
	ck_assert_int_eq(atomic_load(&notified), 1);
	ck_assert_int_eq(inspect_event(&ev).n, 0);
	ck_assert_int_eq(once_tryrecv(&rx, &v), 0);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify that once_pool_inspect lists the three receivers blocked on
 * three events of its pool, and none of another pool's.
 */
START_TEST(test_inspect_pool_three_blocked)
{
	once_attr_t a;
	once_pool_t pool, other;
	once_sender_t tx[4];
	struct waiter w[4];
	pthread_t t[4];
	struct seen s;
	int i, j, x;

	ck_assert_int_eq(once_attr_init(&a), 0);
	ck_assert_int_eq(once_attr_setspin(&a, 0), 0);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_pool_init(&other, &a), 0);
	for (i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].how = ONCE_WAIT_BLOCKING;
		ck_assert_int_eq(once_pool_bind(i < 3 ? &pool : &other, &tx[i],
						&w[i].rx), 0);
		ck_assert_int_eq(pthread_create(&t[i], NULL, waiter_main,
						&w[i]), 0);
	}
	s = wait_listed_pool(&pool, 3);
	for (i = 0; i < 3; i++) {
		for (j = 0; j < 3; j++)
			if (s.w[j].event == w[i].rx.ev_)
				break;
		ck_assert_msg(j < 3, "receiver %d not listed", i);
		ck_assert_int_eq(s.w[j].tid, atomic_load(&w[i].tid));
		ck_assert_int_eq(s.w[j].how, ONCE_WAIT_BLOCKING);
	}
	ck_assert_int_eq(wait_listed_pool(&other, 1).n, 1);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(once_send(&tx[i], &x), 0);
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(w[i].err, 0);
	}
	ck_assert_int_eq(inspect_pool(&pool).n, 0);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(once_pool_destroy(&other), 0);
}
END_TEST

struct any_waiter {
	once_receiver_t rx[3];
	atomic_int tid;
	size_t index;
	void *value;
	int err;
};

static void *
any_waiter_main(void *arg)
{
	struct any_waiter *w = arg;

	atomic_store(&w->tid, (int)gettid());
	w->err = once_recv_any(w->rx, 3, &w->index, &w->value,
			       CLOCK_MONOTONIC, NULL);
	return NULL;
}

/*
 * Verify that once_recv_any asleep on three pooled events is listed once
 * on each, as one blocking wait of one thread, and unlisted when it
 * returns.
 */
START_TEST(test_inspect_recv_any_listed_on_each_event)
{
	once_attr_t a;
	once_pool_t pool;
	once_sender_t tx[3];
	struct any_waiter w;
	struct seen s;
	pthread_t t;
	int i, x;

	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(once_attr_init(&a), 0);
	ck_assert_int_eq(once_attr_setspin(&a, 0), 0);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(once_pool_bind(&pool, &tx[i], &w.rx[i]), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, any_waiter_main, &w), 0);
	s = wait_listed_pool(&pool, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(s.w[i].tid, atomic_load(&w.tid));
		ck_assert_int_eq(s.w[i].how, ONCE_WAIT_BLOCKING);
		ck_assert_int_eq(once_event_inspect(w.rx[i].ev_, collect,
						    &s), 0);
	}
	ck_assert_int_eq(s.n, 6);
	ck_assert_int_eq(once_send(&tx[1], &x), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(w.err, 0);
	ck_assert_uint_eq(w.index, 1);
	ck_assert_int_eq(inspect_pool(&pool).n, 0);
	for (i = 0; i < 3; i += 2) {
		ck_assert_int_eq(once_sender_close(&tx[i]), 0);
		ck_assert_int_eq(once_receiver_close(&w.rx[i]), 0);
	}
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
}
END_TEST

/* The inspection callback of the next test: acts on what it is told. */
struct acting {
	once_pool_t *pool;
	once_sender_t *tx;
	int calls, bound;
};

static void
act_on_waiter(const struct once_waiter *w, void *arg)
{
	struct acting *a = arg;
	once_sender_t tx;
	once_receiver_t rx;
	int x;

	(void)w;
	a->calls++;
	/* Bind from the same pool, and complete the wait being reported. */
	a->bound = once_pool_bind(a->pool, &tx, &rx) == 0 &&
		   once_sender_close(&tx) == 0 &&
		   once_receiver_close(&rx) == 0;
	ck_assert_int_eq(once_send(a->tx, &x), 0);
}

/*
 * Verify that the inspection callback runs with no lock held: it binds
 * from the pool it is inspecting and sends to the receiver it is told
 * about.
 */
START_TEST(test_inspect_callback_may_call_libonce)
{
	once_attr_t a;
	once_pool_t pool;
	once_sender_t tx;
	struct waiter w = { .how = ONCE_WAIT_BLOCKING };
	struct acting act = { &pool, &tx, 0, 0 };
	pthread_t t;

	ck_assert_int_eq(once_attr_init(&a), 0);
	ck_assert_int_eq(once_attr_setspin(&a, 0), 0);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_pool_bind(&pool, &tx, &w.rx), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, waiter_main, &w), 0);
	wait_listed_pool(&pool, 1);
	ck_assert_int_eq(once_pool_inspect(&pool, act_on_waiter, &act), 0);
	ck_assert_int_eq(act.calls, 1);
	ck_assert_int_eq(act.bound, 1);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(w.err, 0);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
}
END_TEST

/*
 * Verify that with backtraces on, a wait records frames and
 * once_waiter_print writes the thread, the kind of wait and one line per
 * frame; and that turning them off stops the capture.
 */
START_TEST(test_inspect_backtraces_and_print)
{
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	struct seen s;
	char buf[8192];
	ssize_t len;
	int fds[2], lines, i;
	void *v;
	int x;

	ck_assert_int_eq(once_inspect_setbacktrace(1), 0);
	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_receiver_notify(&rx, count_notify, NULL), 0);
	s = inspect_event(&ev);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_gt(s.w[0].nframes, 1);
	ck_assert_int_le(s.w[0].nframes, ONCE_BACKTRACE_MAX);
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(once_waiter_print(&s.w[0], fds[1]), 0);
	close(fds[1]);
	len = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	ck_assert_int_gt(len, 0);
	buf[len] = '\0';
	ck_assert_msg(strstr(buf, "callback") != NULL, "print: %s", buf);
	for (lines = 0, i = 0; i < len; i++)
		lines += buf[i] == '\n';
	ck_assert_int_eq(lines, 1 + s.w[0].nframes);
	ck_assert_int_eq(once_waiter_print(NULL, 1), EINVAL);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_tryrecv(&rx, &v), 0);
	ck_assert_int_eq(once_event_destroy(&ev), 0);

	ck_assert_int_eq(once_inspect_setbacktrace(0), 0);
	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_receiver_notify(&rx, count_notify, NULL), 0);
	ck_assert_int_eq(inspect_event(&ev).w[0].nframes, 0);
	ck_assert_int_eq(once_receiver_close(&rx), 0);
	ck_assert_int_eq(once_sender_close(&tx), 0);
}
END_TEST

static void
close_in_cleanup(void *rx)
{
	once_receiver_close(rx);
}

static void *
cancel_target(void *arg)
{
	struct waiter *w = arg;
	void *v;

	atomic_store(&w->tid, (int)gettid());
	pthread_cleanup_push(close_in_cleanup, &w->rx);
	once_recv(&w->rx, &v);
	pthread_cleanup_pop(0);
	return NULL;
}

/*
 * Verify that a receiver cancelled in its sleep is unlisted (its record
 * lived on its stack) and can still be closed by its cleanup handler.
 */
START_TEST(test_inspect_cancelled_receiver_unlisted)
{
	once_sender_t tx;
	struct waiter w = { .how = ONCE_WAIT_BLOCKING };
	once_event_t ev;
	pthread_t t;
	void *res;
	int x;

	bind_nospin(&ev, &tx, &w.rx);
	ck_assert_int_eq(pthread_create(&t, NULL, cancel_target, &w), 0);
	wait_listed_event(&ev, 1);
	ck_assert_int_eq(pthread_cancel(t), 0);
	ck_assert_int_eq(pthread_join(t, &res), 0);
	ck_assert_ptr_eq(res, PTHREAD_CANCELED);
	ck_assert_int_eq(inspect_event(&ev).n, 0);
	ck_assert_int_eq(once_send(&tx, &x), EPIPE);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify the single-threaded twins: a callback on a caller-storage event
 * and on a pooled one is listed by once_local_event_inspect and
 * once_local_pool_inspect until it is taken.
 */
START_TEST(test_inspect_local_callbacks)
{
	once_local_event_t ev;
	once_local_pool_t pool;
	once_local_sender_t tx, ptx;
	once_local_receiver_t rx, prx;
	struct seen s = { 0 };
	void *v;
	int x;

	ck_assert_int_eq(once_local_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_local_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_local_event_inspect(&ev, collect, &s), 0);
	ck_assert_int_eq(s.n, 0);
	ck_assert_int_eq(once_local_receiver_notify(&rx, count_notify, NULL),
			 0);
	ck_assert_int_eq(once_local_event_inspect(&ev, collect, &s), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_ptr_eq(s.w[0].event, &ev);
	ck_assert_int_eq(s.w[0].how, ONCE_WAIT_NOTIFY);
	ck_assert_int_eq(s.w[0].tid, (int)gettid());
	atomic_store(&notified, 0);
	ck_assert_int_eq(once_local_send(&tx, &x), 0);
	ck_assert_int_eq(atomic_load(&notified), 1);
	s.n = 0;
	ck_assert_int_eq(once_local_event_inspect(&ev, collect, &s), 0);
	ck_assert_int_eq(s.n, 0);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	ck_assert_int_eq(once_local_pool_init(&pool, NULL), 0);
	ck_assert_int_eq(once_local_pool_bind(&pool, &tx, &rx), 0);
	ck_assert_int_eq(once_local_pool_bind(&pool, &ptx, &prx), 0);
	ck_assert_int_eq(once_local_receiver_notify(&prx, count_notify, NULL),
			 0);
	ck_assert_int_eq(once_local_pool_inspect(&pool, collect, &s), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_ptr_eq(s.w[0].event, prx.ev_);
	ck_assert_int_eq(once_local_receiver_close(&prx), 0);
	s.n = 0;
	ck_assert_int_eq(once_local_pool_inspect(&pool, collect, &s), 0);
	ck_assert_int_eq(s.n, 0);
	ck_assert_int_eq(once_local_sender_close(&ptx), 0);
	ck_assert_int_eq(once_local_sender_close(&tx), 0);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
}
END_TEST

/* Verify the EINVAL cases of every inspection call. */
START_TEST(test_inspect_einval)
{
	once_event_t ev;
	once_pool_t pool;
	once_local_event_t lev;
	once_local_pool_t lpool;
	struct seen s = { 0 };

	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_pool_init(&pool, NULL), 0);
	ck_assert_int_eq(once_local_event_init(&lev, NULL), 0);
	ck_assert_int_eq(once_local_pool_init(&lpool, NULL), 0);
	ck_assert_int_eq(once_event_inspect(NULL, collect, &s), EINVAL);
	ck_assert_int_eq(once_event_inspect(&ev, NULL, &s), EINVAL);
	ck_assert_int_eq(once_pool_inspect(NULL, collect, &s), EINVAL);
	ck_assert_int_eq(once_pool_inspect(&pool, NULL, &s), EINVAL);
	ck_assert_int_eq(once_local_event_inspect(NULL, collect, &s), EINVAL);
	ck_assert_int_eq(once_local_event_inspect(&lev, NULL, &s), EINVAL);
	ck_assert_int_eq(once_local_pool_inspect(NULL, collect, &s), EINVAL);
	ck_assert_int_eq(once_local_pool_inspect(&lpool, NULL, &s), EINVAL);
	ck_assert_int_eq(s.n, 0);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(once_local_pool_destroy(&lpool), 0);
}
END_TEST

/*
 * Verify that a callback whose record cannot be allocated is refused
 * with ENOMEM and changes nothing, and that on an event that has
 * completed the callback runs at once with nothing allocated, in both
 * variants.
 */
START_TEST(test_inspect_notify_enomem)
{
#ifdef FAIL_MALLOC
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	once_local_event_t lev;
	once_local_sender_t ltx;
	once_local_receiver_t lrx;
	void *v;
	int x, err, before, left;

	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	atomic_store(&fail_next_malloc, 1);
	err = once_receiver_notify(&rx, count_notify, NULL);
	if (atomic_exchange(&fail_next_malloc, 0)) {
		/* valgrind's malloc, not ours, served the library. */
		ck_assert_int_eq(err, 0);
		ck_assert_int_eq(once_receiver_close(&rx), 0);
		ck_assert_int_eq(once_sender_close(&tx), 0);
		return;
	}
	ck_assert_int_eq(err, ENOMEM);
	ck_assert_int_eq(once_tryrecv(&rx, &v), EAGAIN);
	ck_assert_int_eq(inspect_event(&ev).n, 0);
	ck_assert_int_eq(once_receiver_notify(&rx, count_notify, NULL), 0);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_tryrecv(&rx, &v), 0);
	ck_assert_int_eq(once_event_destroy(&ev), 0);

	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	before = atomic_load(&notified);
	/* Not inside ck_assert: Check allocates as an assertion passes. */
	atomic_store(&fail_next_malloc, 1);
	err = once_receiver_notify(&rx, count_notify, NULL);
	left = atomic_exchange(&fail_next_malloc, 0);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(left, 1);
	ck_assert_int_eq(atomic_load(&notified), before + 1);
	ck_assert_int_eq(once_tryrecv(&rx, &v), 0);
	ck_assert_int_eq(once_event_destroy(&ev), 0);

	ck_assert_int_eq(once_local_event_init(&lev, NULL), 0);
	ck_assert_int_eq(once_local_event_bind(&lev, &ltx, &lrx), 0);
	atomic_store(&fail_next_malloc, 1);
	ck_assert_int_eq(once_local_receiver_notify(&lrx, count_notify,
						    NULL), ENOMEM);
	ck_assert_int_eq(once_local_tryrecv(&lrx, &v), EAGAIN);
	ck_assert_int_eq(once_local_receiver_notify(&lrx, count_notify,
						    NULL), 0);
	ck_assert_int_eq(once_local_send(&ltx, &x), 0);
	ck_assert_int_eq(once_local_tryrecv(&lrx, &v), 0);
	ck_assert_int_eq(once_local_event_destroy(&lev), 0);

	ck_assert_int_eq(once_local_event_init(&lev, NULL), 0);
	ck_assert_int_eq(once_local_event_bind(&lev, &ltx, &lrx), 0);
	ck_assert_int_eq(once_local_send(&ltx, &x), 0);
	before = atomic_load(&notified);
	atomic_store(&fail_next_malloc, 1);
	err = once_local_receiver_notify(&lrx, count_notify, NULL);
	left = atomic_exchange(&fail_next_malloc, 0);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(left, 1);
	ck_assert_int_eq(atomic_load(&notified), before + 1);
	ck_assert_int_eq(once_local_tryrecv(&lrx, &v), 0);
	ck_assert_int_eq(once_local_event_destroy(&lev), 0);
#endif
}
END_TEST

/*
 * Verify fork: the child still lists a callback registered before the
 * fork, and not a receiver that was asleep in another thread.
 */
START_TEST(test_inspect_fork_keeps_callbacks_only)
{
	once_event_t ev, nev;
	once_sender_t tx, ntx;
	once_receiver_t nrx;
	struct waiter w = { .how = ONCE_WAIT_BLOCKING };
	pthread_t t;
	pid_t pid;
	int status, x;

	bind_nospin(&ev, &tx, &w.rx);
	ck_assert_int_eq(once_event_init(&nev, NULL), 0);
	ck_assert_int_eq(once_event_bind(&nev, &ntx, &nrx), 0);
	ck_assert_int_eq(once_receiver_notify(&nrx, count_notify, NULL), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, waiter_main, &w), 0);
	wait_listed_event(&ev, 1);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct seen a = { 0 }, b = { 0 };

		once_event_inspect(&ev, collect, &a);
		once_event_inspect(&nev, collect, &b);
		_exit(a.n == 0 && b.n == 1 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the child saw the wrong waiters");
	ck_assert_int_eq(inspect_event(&ev).n, 1);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(once_send(&ntx, &x), 0);
	ck_assert_int_eq(inspect_event(&nev).n, 0);
}
END_TEST

static Suite *
inspect_suite(void)
{
	Suite *s = suite_create("inspect");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_inspect_blocking_receiver_listed);
	tcase_add_test(tc, test_inspect_timed_receiver_listed_until_timeout);
	tcase_add_test(tc, test_inspect_notify_listed_until_taken);
	tcase_add_test(tc, test_inspect_pool_three_blocked);
	tcase_add_test(tc, test_inspect_recv_any_listed_on_each_event);
	tcase_add_test(tc, test_inspect_callback_may_call_libonce);
	tcase_add_test(tc, test_inspect_backtraces_and_print);
	tcase_add_test(tc, test_inspect_cancelled_receiver_unlisted);
	tcase_add_test(tc, test_inspect_local_callbacks);
	tcase_add_test(tc, test_inspect_einval);
	tcase_add_test(tc, test_inspect_notify_enomem);
	tcase_add_test(tc, test_inspect_fork_keeps_callbacks_only);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(inspect_suite());
}
