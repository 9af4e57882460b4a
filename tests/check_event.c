/*
 * check_event.c - the thread-safe event: every storage kind, every
 * documented error, the receive family, and the seed's scenarios.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* Counting malloc, interposed when no sanitizer owns malloc. */
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define COUNT_MALLOC 1
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static atomic_long malloc_calls;

void *
malloc(size_t n)
{
	atomic_fetch_add(&malloc_calls, 1);
	return __libc_malloc(n);
}

void *
calloc(size_t n, size_t m)
{
	atomic_fetch_add(&malloc_calls, 1);
	return __libc_calloc(n, m);
}

void *
realloc(void *p, size_t n)
{
	atomic_fetch_add(&malloc_calls, 1);
	return __libc_realloc(p, n);
}
#endif

static void
bind_new(once_event_t *ev, once_sender_t *tx, once_receiver_t *rx,
	 const once_attr_t *attr)
{
	ck_assert_int_eq(once_event_init(ev, attr), 0);
	ck_assert_int_eq(once_event_bind(ev, tx, rx), 0);
}

/* Verify that all-zero storage (the initializer) is a usable event. */
START_TEST(test_event_initializer_round_trip)
{
	once_event_t ev = ONCE_EVENT_INITIALIZER;
	once_sender_t tx;
	once_receiver_t rx;
	void *v = NULL;
	int x = 123;

	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_receiver_ready(&rx), 0);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_receiver_ready(&rx), 1);
	ck_assert_int_eq(once_recv(&rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/* Verify that an event is bound once: the second bind is EALREADY. */
START_TEST(test_event_bind_twice_ealready)
{
	once_event_t ev;
	once_sender_t tx, tx2;
	once_receiver_t rx, rx2;

	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_event_bind(&ev, &tx2, &rx2), EALREADY);
	ck_assert_int_eq(once_sender_close(&tx), 0);
	ck_assert_int_eq(once_receiver_close(&rx), 0);
	/* Still EALREADY once used up: events are single use. */
	ck_assert_int_eq(once_event_bind(&ev, &tx2, &rx2), EALREADY);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/* Verify bind's argument checks. */
START_TEST(test_event_bind_einval)
{
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;

	ck_assert_int_eq(once_event_init(NULL, NULL), EINVAL);
	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_event_bind(NULL, &tx, &rx), EINVAL);
	ck_assert_int_eq(once_event_bind(&ev, NULL, &rx), EINVAL);
	ck_assert_int_eq(once_event_bind(&ev, &tx, NULL), EINVAL);
	ck_assert_int_eq(once_event_bind(&ev, &tx, (once_receiver_t *)&tx),
			 EINVAL);
	/* Garbage in the state word is not an event. */
	memset(&ev, 0x5a, sizeof(ev));
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), EINVAL);
}
END_TEST

/*
 * Verify destroy: 0 for an unbound event, EBUSY while either endpoint is
 * live, 0 once both are consumed; the storage may then be initialised
 * and used again.
 */
START_TEST(test_event_destroy_ebusy_while_live)
{
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	void *v;
	int x;

	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
	ck_assert_int_eq(once_event_destroy(NULL), EINVAL);

	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_event_destroy(&ev), EBUSY);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_event_destroy(&ev), EBUSY);
	ck_assert_int_eq(once_recv(&rx, &v), 0);
	ck_assert_int_eq(once_event_destroy(&ev), 0);

	/* Receiver gone first, sender still live. */
	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_receiver_close(&rx), 0);
	ck_assert_int_eq(once_event_destroy(&ev), EBUSY);
	ck_assert_int_eq(once_sender_close(&tx), 0);
	ck_assert_int_eq(once_event_destroy(&ev), 0);

	/* Sender gone first, receiver still live. */
	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_sender_close(&tx), 0);
	ck_assert_int_eq(once_event_destroy(&ev), EBUSY);
	ck_assert_int_eq(once_tryrecv(&rx, &v), EPIPE);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify that a send to a closed receiver is EPIPE, leaves the value with
 * the caller (no destructor call) and consumes the sender.
 */
START_TEST(test_send_epipe_after_receiver_close)
{
	once_attr_t a;
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	long before = atomic_load(&dtor_calls);
	int x;

	attr_counting(&a, NULL);
	bind_new(&ev, &tx, &rx, &a);
	ck_assert_int_eq(once_sender_closed(&tx), 0);
	ck_assert_int_eq(once_receiver_close(&rx), 0);
	ck_assert_int_eq(once_sender_closed(&tx), 1);
	ck_assert_int_eq(once_send(&tx, &x), EPIPE);
	ck_assert_int_eq(atomic_load(&dtor_calls), before);
	ck_assert_ptr_null(tx.ev_);
	ck_assert_int_eq(once_send(&tx, &x), EINVAL);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/* A request that carries its receiver (and its event, in caller storage). */
struct request {
	once_event_t ev;
	once_receiver_t rx;
	long answer;
};

static atomic_int closer_errors;

/*
 * No ck_assert here: Check's assertions take a lock, an ordering of their
 * own that would hide from drd one that libonce failed to make.
 */
static void *
request_closer(void *arg)
{
	struct request *q = arg;

	q->answer = 42;
	if (once_receiver_close(&q->rx))
		atomic_fetch_add(&closer_errors, 1);
	return NULL;
}

/*
 * Verify that a receiver's close happens before the EPIPE of a send on
 * another thread, for each storage kind: the sender may then read what
 * the receiving side wrote and free the request, event included, without
 * waiting for that thread (make check-drd checks the ordering).
 */
START_TEST(test_send_epipe_after_close_on_other_thread)
{
	once_pool_t pool;
	once_sender_t tx;
	struct request *q;
	pthread_t t;
	int round;

	ck_assert_int_eq(once_pool_init(&pool, NULL), 0);
	for (round = 0; round < 30; round++) {
		ck_assert_ptr_nonnull(q = malloc(sizeof(*q)));
		if (round % 3 == 0)
			bind_new(&q->ev, &tx, &q->rx, NULL);
		else if (round % 3 == 1)
			ck_assert_int_eq(once_channel(&tx, &q->rx, NULL), 0);
		else
			ck_assert_int_eq(once_pool_bind(&pool, &tx, &q->rx),
					 0);
		ck_assert_int_eq(pthread_create(&t, NULL, request_closer, q),
				 0);
		while (!once_sender_closed(&tx))
			sched_yield();
		ck_assert_int_eq(once_send(&tx, NULL), EPIPE);
		ck_assert_int_eq(q->answer, 42);
		if (round % 3 == 0)
			ck_assert_int_eq(once_event_destroy(&q->ev), 0);
		free(q);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
	}
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&closer_errors), 0);
}
END_TEST

/* Verify that every use of a consumed or zeroed endpoint is EINVAL. */
START_TEST(test_consumed_endpoint_einval)
{
	once_event_t ev;
	once_sender_t tx, zero_tx;
	once_receiver_t rx, zero_rx;
	struct timespec ts = { 0, 0 };
	void *v;
	int x;

	memset(&zero_tx, 0, sizeof(zero_tx));
	memset(&zero_rx, 0, sizeof(zero_rx));
	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_send(&tx, &x), EINVAL);
	ck_assert_int_eq(once_sender_close(&tx), EINVAL);
	ck_assert_int_eq(once_sender_closed(&tx), 1);
	ck_assert_int_eq(once_recv(&rx, &v), 0);
	ck_assert_int_eq(once_recv(&rx, &v), EINVAL);
	ck_assert_int_eq(once_tryrecv(&rx, &v), EINVAL);
	ck_assert_int_eq(once_timedrecv(&rx, &v, &ts), EINVAL);
	ck_assert_int_eq(once_clockrecv(&rx, &v, CLOCK_MONOTONIC, &ts),
			 EINVAL);
	ck_assert_int_eq(once_receiver_close(&rx), EINVAL);
	ck_assert_int_eq(once_receiver_ready(&rx), 1);

	ck_assert_int_eq(once_send(&zero_tx, &x), EINVAL);
	ck_assert_int_eq(once_sender_close(&zero_tx), EINVAL);
	ck_assert_int_eq(once_recv(&zero_rx, &v), EINVAL);
	ck_assert_int_eq(once_receiver_close(&zero_rx), EINVAL);
	ck_assert_int_eq(once_send(NULL, &x), EINVAL);
	ck_assert_int_eq(once_sender_close(NULL), EINVAL);
	ck_assert_int_eq(once_recv(NULL, &v), EINVAL);
	ck_assert_int_eq(once_tryrecv(NULL, &v), EINVAL);
	ck_assert_int_eq(once_receiver_close(NULL), EINVAL);
	ck_assert_int_eq(once_sender_closed(NULL), 1);
	ck_assert_int_eq(once_receiver_ready(NULL), 1);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify that a sender closed without sending makes every kind of receive
 * return EPIPE, and consumes the receiver.
 */
START_TEST(test_sender_close_every_receive_epipe)
{
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	struct timespec ts;
	void *v = &v;
	int kind;

	for (kind = 0; kind < 4; kind++) {
		bind_new(&ev, &tx, &rx, NULL);
		ck_assert_int_eq(once_sender_close(&tx), 0);
		ck_assert_int_eq(once_receiver_ready(&rx), 1);
		switch (kind) {
		case 0:
			ck_assert_int_eq(once_recv(&rx, &v), EPIPE);
			break;
		case 1:
			ck_assert_int_eq(once_tryrecv(&rx, &v), EPIPE);
			break;
		case 2:
			ts = deadline_in(CLOCK_REALTIME, 1000000000L);
			ck_assert_int_eq(once_timedrecv(&rx, &v, &ts), EPIPE);
			break;
		case 3:
			ts = deadline_in(CLOCK_MONOTONIC, 1000000000L);
			ck_assert_int_eq(once_clockrecv(&rx, &v,
					 CLOCK_MONOTONIC, &ts), EPIPE);
			break;
		}
		ck_assert_msg(v == &v, "EPIPE (kind %d) wrote *value", kind);
		ck_assert_ptr_null(rx.ev_);
		ck_assert_int_eq(once_event_destroy(&ev), 0);
	}
}
END_TEST

/*
 * Verify that a value sent but never received goes to the destructor
 * exactly once, NULL included, and that NULL is delivered as NULL.
 */
START_TEST(test_dtor_unreceived_value_once)
{
	once_attr_t a;
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	long before = atomic_load(&dtor_calls);
	void *v = &v;
	int x;

	attr_counting(&a, NULL);
	bind_new(&ev, &tx, &rx, &a);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_receiver_close(&rx), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &x);
	ck_assert_int_eq(once_event_destroy(&ev), 0);

	bind_new(&ev, &tx, &rx, &a);
	ck_assert_int_eq(once_send(&tx, NULL), 0);
	ck_assert_int_eq(once_receiver_close(&rx), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 2);
	ck_assert_ptr_null(atomic_load(&dtor_last));

	bind_new(&ev, &tx, &rx, &a);
	ck_assert_int_eq(once_send(&tx, NULL), 0);
	ck_assert_int_eq(once_recv(&rx, &v), 0);
	ck_assert_ptr_null(v);
	/* A received value is the receiver's: no destructor call. */
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 2);
}
END_TEST

/* Verify that receiving into a NULL pointer hands the value to dtor. */
START_TEST(test_recv_null_value_pointer_runs_dtor)
{
	once_attr_t a;
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	long before = atomic_load(&dtor_calls);
	int x;

	attr_counting(&a, NULL);
	bind_new(&ev, &tx, &rx, &a);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_recv(&rx, NULL), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &x);
}
END_TEST

/* Verify tryrecv: EAGAIN while pending, rx usable, then the value. */
START_TEST(test_tryrecv_eagain_then_value)
{
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	void *v = &v;
	int x;

	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_tryrecv(&rx, &v), EAGAIN);
	ck_assert_int_eq(once_tryrecv(&rx, &v), EAGAIN);
	ck_assert_ptr_eq(v, &v);
	ck_assert_ptr_nonnull(rx.ev_);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_tryrecv(&rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify that a timed receive that times out leaves the receiver usable:
 * it may wait again and get the value, or be closed.
 */
START_TEST(test_timedrecv_timeout_then_usable)
{
	once_attr_t a;
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	struct timespec ts;
	long before = atomic_load(&dtor_calls);
	void *v = &v;
	int x;

	attr_counting(&a, NULL);
	bind_new(&ev, &tx, &rx, &a);
	ts = deadline_in(CLOCK_REALTIME, 2000000);
	ck_assert_int_eq(once_timedrecv(&rx, &v, &ts), ETIMEDOUT);
	ck_assert_ptr_eq(v, &v);
	ts = deadline_in(CLOCK_MONOTONIC, 2000000);
	ck_assert_int_eq(once_clockrecv(&rx, &v, CLOCK_MONOTONIC, &ts),
			 ETIMEDOUT);
	ck_assert_int_eq(once_receiver_ready(&rx), 0);
	ck_assert_int_eq(once_sender_closed(&tx), 0);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_recv(&rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_event_destroy(&ev), 0);

	/* Time out, then close: a late send is EPIPE, no destructor. */
	bind_new(&ev, &tx, &rx, &a);
	ts = deadline_in(CLOCK_REALTIME, 1000000);
	ck_assert_int_eq(once_timedrecv(&rx, &v, &ts), ETIMEDOUT);
	ck_assert_int_eq(once_receiver_close(&rx), 0);
	ck_assert_int_eq(once_send(&tx, &x), EPIPE);
	ck_assert_int_eq(atomic_load(&dtor_calls), before);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

struct rewait {
	once_receiver_t rx;
	void *value;
	int err;
};

static void *
rewait_thread(void *arg)
{
	struct rewait *w = arg;

	w->err = once_recv(&w->rx, &w->value);
	return NULL;
}

/*
 * Verify that a receiver that timed out on one thread may be moved by
 * assignment to another thread and wait there.
 */
START_TEST(test_timedrecv_rewait_on_other_thread)
{
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	struct rewait w;
	struct timespec ts;
	pthread_t t;
	void *v;
	int x;

	bind_new(&ev, &tx, &rx, NULL);
	ts = deadline_in(CLOCK_MONOTONIC, 1000000);
	ck_assert_int_eq(once_clockrecv(&rx, &v, CLOCK_MONOTONIC, &ts),
			 ETIMEDOUT);
	w.rx = rx;
	w.err = -1;
	ck_assert_int_eq(pthread_create(&t, NULL, rewait_thread, &w), 0);
	usleep(20000);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(w.err, 0);
	ck_assert_ptr_eq(w.value, &x);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify that timed receives check their arguments first: an unsupported
 * clock, a NULL deadline or a tv_nsec outside [0, 1e9) is EINVAL even with
 * the value already there, and the value stays receivable.
 */
START_TEST(test_clockrecv_einval_checked_first)
{
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	struct timespec bad_lo = { 0, -1 }, bad_hi = { 0, 1000000000L };
	struct timespec ok = { 0, 0 };
	void *v = &v;
	int x;

	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_timedrecv(&rx, &v, &bad_lo), EINVAL);
	ck_assert_int_eq(once_timedrecv(&rx, &v, &bad_hi), EINVAL);
	ck_assert_int_eq(once_timedrecv(&rx, &v, NULL), EINVAL);
	ck_assert_int_eq(once_clockrecv(&rx, &v, CLOCK_MONOTONIC, &bad_hi),
			 EINVAL);
	ck_assert_int_eq(once_clockrecv(&rx, &v, CLOCK_PROCESS_CPUTIME_ID,
					&ok), EINVAL);
	ck_assert_int_eq(once_clockrecv(&rx, &v, CLOCK_BOOTTIME, &ok),
			 EINVAL);
	ck_assert_int_eq(once_clockrecv(&rx, &v, CLOCK_MONOTONIC, NULL),
			 EINVAL);
	ck_assert_ptr_eq(v, &v);
	ck_assert_int_eq(once_clockrecv(&rx, &v, CLOCK_MONOTONIC, &ok), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify that a deadline in the past, a negative tv_sec included, is
 * ETIMEDOUT when nothing has arrived, on both clocks, and that a value
 * already there is returned even with a past deadline.
 */
START_TEST(test_clockrecv_past_deadline_etimedout)
{
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	const struct timespec past[] = { { 0, 0 }, { -1, 0 }, { -1000, 5 },
					 { 1, 999999999L } };
	const clockid_t clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC };
	unsigned int i, c;
	void *v;
	int x;

	bind_new(&ev, &tx, &rx, NULL);
	for (c = 0; c < 2; c++)
		for (i = 0; i < sizeof(past) / sizeof(past[0]); i++)
			ck_assert_msg(once_clockrecv(&rx, &v, clocks[c],
						     &past[i]) == ETIMEDOUT,
				      "clock %u deadline %u not ETIMEDOUT",
				      c, i);
	ck_assert_int_eq(once_timedrecv(&rx, &v, &past[1]), ETIMEDOUT);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_timedrecv(&rx, &v, &past[1]), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

struct late_send {
	once_sender_t tx;
	long delay_us;
	void *value;
	int close;		/* close the sender instead of sending */
};

static void *
late_send_thread(void *arg)
{
	struct late_send *s = arg;

	usleep(s->delay_us);
	if (s->close)
		ck_assert_int_eq(once_sender_close(&s->tx), 0);
	else
		ck_assert_int_eq(once_send(&s->tx, s->value), 0);
	return NULL;
}

/*
 * Verify that the largest time_t as a deadline just waits (no overflow,
 * no EINVAL), on both clocks.
 */
START_TEST(test_clockrecv_max_deadline_waits)
{
	const clockid_t clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC };
	struct timespec far;
	once_event_t ev;
	once_receiver_t rx;
	struct late_send s;
	pthread_t t;
	unsigned int c;
	void *v;
	int x;

	far.tv_sec = (time_t)(((uint64_t)1 << (sizeof(time_t) * 8 - 1)) - 1);
	far.tv_nsec = 999999999L;
	for (c = 0; c < 2; c++) {
		bind_new(&ev, &s.tx, &rx, NULL);
		s.delay_us = 20000;
		s.close = 0;
		s.value = &x;
		ck_assert_int_eq(pthread_create(&t, NULL, late_send_thread,
						&s), 0);
		ck_assert_int_eq(once_clockrecv(&rx, &v, clocks[c], &far), 0);
		ck_assert_ptr_eq(v, &x);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
		ck_assert_int_eq(once_event_destroy(&ev), 0);
	}
}
END_TEST

/* The waits a signal storm hits in test_recv_no_eintr_signal_storm. */
enum storm_wait {
	SW_RECV,		/* once_recv, no spin */
	SW_RECV_SPIN,		/* once_recv, default spin */
	SW_TIMED,		/* once_timedrecv */
	SW_CLOCK_MONO,		/* once_clockrecv, CLOCK_MONOTONIC */
	SW_CLOCK_REAL,		/* once_clockrecv, CLOCK_REALTIME */
	SW_TIMEOUT_REWAIT,	/* ETIMEDOUT under the storm, then once_recv */
	SW_POOL,		/* once_recv on a pooled event */
	SW_CLOSED,		/* once_recv, the sender closes: EPIPE */
	SW_N
};

/*
 * Verify that no wait returns EINTR or loses its value: a storm of
 * signals whose handler is installed without SA_RESTART hits the receiver
 * while it sleeps in every kind of receive, on both clocks, in a timed
 * receive that times out and waits again, on a pooled event, and while
 * it waits for a sender that closes.
 */
START_TEST(test_recv_no_eintr_signal_storm)
{
	struct sigaction sa;
	once_attr_t a;
	once_event_t ev;
	once_pool_t pool;
	once_receiver_t rx;
	struct late_send s;
	struct storm st;
	struct timespec ts;
	pthread_t sender, stormer;
	long before;
	void *v;
	int x, w, err;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_signal;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	ck_assert_int_eq(once_attr_init(&a), 0);
	ck_assert_int_eq(once_attr_setspin(&a, 0), 0);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	st.target = pthread_self();
	atomic_init(&st.stop, 0);
	ck_assert_int_eq(pthread_create(&stormer, NULL, storm_thread, &st), 0);
	for (w = 0; w < SW_N; w++) {
		if (w == SW_POOL)
			ck_assert_int_eq(once_pool_bind(&pool, &s.tx, &rx), 0);
		else
			bind_new(&ev, &s.tx, &rx, w == SW_RECV_SPIN ? NULL : &a);
		s.delay_us = 50000;
		s.value = &x;
		s.close = w == SW_CLOSED;
		v = NULL;
		before = atomic_load(&signals_seen);
		ck_assert_int_eq(pthread_create(&sender, NULL,
						late_send_thread, &s), 0);
		switch (w) {
		case SW_TIMED:
			ts = deadline_in(CLOCK_REALTIME, 60000000000L);
			err = once_timedrecv(&rx, &v, &ts);
			break;
		case SW_CLOCK_MONO:
		case SW_CLOCK_REAL:
			ts = deadline_in(w == SW_CLOCK_MONO ? CLOCK_MONOTONIC :
					 CLOCK_REALTIME, 60000000000L);
			err = once_clockrecv(&rx, &v, w == SW_CLOCK_MONO ?
					     CLOCK_MONOTONIC : CLOCK_REALTIME,
					     &ts);
			break;
		case SW_TIMEOUT_REWAIT:
			ts = deadline_in(CLOCK_MONOTONIC, 10000000L);
			ck_assert_int_eq(once_clockrecv(&rx, &v, CLOCK_MONOTONIC,
							&ts), ETIMEDOUT);
			err = once_recv(&rx, &v);
			break;
		default:
			err = once_recv(&rx, &v);
			break;
		}
		ck_assert_msg(err == (w == SW_CLOSED ? EPIPE : 0),
			      "wait %d returned %d", w, err);
		if (w != SW_CLOSED)
			ck_assert_ptr_eq(v, &x);
		ck_assert_int_eq(pthread_join(sender, NULL), 0);
		if (w != SW_POOL)
			ck_assert_int_eq(once_event_destroy(&ev), 0);
		ck_assert_msg(atomic_load(&signals_seen) > before,
			      "no signal hit wait %d", w);
	}
	atomic_store(&st.stop, 1);
	ck_assert_int_eq(pthread_join(stormer, NULL), 0);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(once_attr_destroy(&a), 0);
	ck_assert_msg(atomic_load(&signals_seen) > 10 * SW_N,
		      "the storm delivered only %ld signals",
		      atomic_load(&signals_seen));
}
END_TEST

/*
 * Verify that endpoints are plain values: copies made by assignment work
 * from their new storage, and the copy left behind is refused (EINVAL)
 * once the event has moved on.
 */
START_TEST(test_endpoints_copy_by_assignment)
{
	once_event_t ev;
	once_sender_t tx, tx_copy;
	once_receiver_t rx, rx_copy;
	void *v;
	int x;

	bind_new(&ev, &tx, &rx, NULL);
	tx_copy = tx;
	rx_copy = rx;
	ck_assert_int_eq(once_send(&tx_copy, &x), 0);
	ck_assert_int_eq(once_send(&tx, &x), EINVAL);
	ck_assert_int_eq(once_sender_close(&tx), EINVAL);
	ck_assert_int_eq(once_recv(&rx_copy, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_tryrecv(&rx, &v), EINVAL);
	ck_assert_int_eq(once_event_destroy(&ev), 0);

	/* A stale receiver copy does not pose as the sender's peer. */
	bind_new(&ev, &tx, &rx, NULL);
	rx_copy = rx;
	ck_assert_int_eq(once_receiver_close(&rx_copy), 0);
	ck_assert_int_eq(once_tryrecv(&rx, &v), EINVAL);
	ck_assert_int_eq(once_send(&tx, &x), EPIPE);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

struct sleeper {
	once_receiver_t rx;
	void *value;
	atomic_int rc;
};

static void *
sleeper_thread(void *arg)
{
	struct sleeper *sl = arg;

	atomic_store(&sl->rc, once_recv(&sl->rx, &sl->value));
	return NULL;
}

/*
 * Verify that a send wakes a receiver that is asleep on the futex (spin 0,
 * untimed): without the wake it would sleep until Check's timeout. The
 * 50 ms pause makes the sleep all but certain; if the receiver is not yet
 * asleep the test still passes, it just proves less that round.
 */
START_TEST(test_send_wakes_sleeping_receiver)
{
	once_attr_t a;
	once_event_t ev;
	once_sender_t tx;
	struct sleeper sl;
	pthread_t t;
	int x, close_it;

	ck_assert_int_eq(once_attr_init(&a), 0);
	ck_assert_int_eq(once_attr_setspin(&a, 0), 0);
	for (close_it = 0; close_it < 2; close_it++) {
		bind_new(&ev, &tx, &sl.rx, &a);
		atomic_init(&sl.rc, -1);
		ck_assert_int_eq(pthread_create(&t, NULL, sleeper_thread, &sl),
				 0);
		usleep(50000);
		ck_assert_int_eq(atomic_load(&sl.rc), -1);
		if (close_it)
			ck_assert_int_eq(once_sender_close(&tx), 0);
		else
			ck_assert_int_eq(once_send(&tx, &x), 0);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
		ck_assert_int_eq(atomic_load(&sl.rc), close_it ? EPIPE : 0);
		if (!close_it)
			ck_assert_ptr_eq(sl.value, &x);
		ck_assert_int_eq(once_event_destroy(&ev), 0);
	}
}
END_TEST

struct cancelled {
	once_receiver_t rx;
	int timed;
	atomic_int started;
	int closed;
};

static void
close_in_cleanup(void *arg)
{
	struct cancelled *c = arg;

	c->closed = once_receiver_close(&c->rx) == 0;
}

static void *
cancel_target(void *arg)
{
	struct cancelled *c = arg;
	struct timespec ts = deadline_in(CLOCK_REALTIME, 60000000000L);
	void *v;

	pthread_cleanup_push(close_in_cleanup, c);
	atomic_store(&c->started, 1);
	if (c->timed)
		once_timedrecv(&c->rx, &v, &ts);
	else
		once_recv(&c->rx, &v);
	pthread_cleanup_pop(0);
	return NULL;
}

/*
 * Verify that once_recv and once_timedrecv are cancellation points, like
 * sem_wait: a thread blocked in them can be cancelled, its cleanup
 * handler can close the receiver, and the sender then sees EPIPE (the
 * channel is freed: no leak). Without it the join below would hang.
 */
START_TEST(test_recv_is_cancellation_point)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_sender_t tx;
	struct cancelled c;
	pthread_t t;
	void *res;
	int x;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_attr_setspin(&a, 0), 0);
	for (c.timed = 0; c.timed < 2; c.timed++) {
		atomic_init(&c.started, 0);
		c.closed = 0;
		ck_assert_int_eq(once_channel(&tx, &c.rx, &a), 0);
		ck_assert_int_eq(pthread_create(&t, NULL, cancel_target, &c),
				 0);
		while (!atomic_load(&c.started))
			sched_yield();
		usleep(20000);
		ck_assert_int_eq(pthread_cancel(t), 0);
		ck_assert_int_eq(pthread_join(t, &res), 0);
		ck_assert_ptr_eq(res, PTHREAD_CANCELED);
		ck_assert_int_eq(c.closed, 1);
		ck_assert_int_eq(once_send(&tx, &x), EPIPE);
		ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
	}
}
END_TEST

/* Verify that caller-storage events make no heap allocation at all. */
START_TEST(test_event_caller_storage_no_allocation)
{
#ifdef COUNT_MALLOC
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	struct timespec ts;
	long before, calls;
	void *v;
	int i, x, bad = 0;

	/* Check's assertions allocate: count failures with plain tests. */
	before = atomic_load(&malloc_calls);
	for (i = 0; i < 1000; i++) {
		bad += once_event_init(&ev, NULL) != 0;
		bad += once_event_bind(&ev, &tx, &rx) != 0;
		bad += once_send(&tx, &x) != 0;
		bad += once_recv(&rx, &v) != 0;
		bad += once_event_destroy(&ev) != 0;
		bad += once_event_init(&ev, NULL) != 0;
		bad += once_event_bind(&ev, &tx, &rx) != 0;
		ts = deadline_in(CLOCK_MONOTONIC, 1000);
		bad += once_clockrecv(&rx, &v, CLOCK_MONOTONIC, &ts) !=
		       ETIMEDOUT;
		bad += once_receiver_close(&rx) != 0;
		bad += once_send(&tx, &x) != EPIPE;
		bad += once_event_destroy(&ev) != 0;
	}
	calls = atomic_load(&malloc_calls) - before;
	ck_assert_int_eq(bad, 0);
	ck_assert_int_eq(calls, 0);
	/* The interposer works: a malloc through it is counted. */
	before = atomic_load(&malloc_calls);
	v = malloc(16);
	calls = atomic_load(&malloc_calls) - before;
	free(v);
	ck_assert_int_eq(calls, 1);
#endif
	ck_assert_uint_le(sizeof(once_event_t), 32);
}
END_TEST

/* Verify create/unref: one allocation, freed by the last reference. */
START_TEST(test_heap_create_ref_unref)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_event_t *ev;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_event_create(NULL, &a), EINVAL);
	ck_assert_int_eq(once_event_create(&ev, &a), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), 1);
	ck_assert_int_eq(once_event_ref(ev), 0);
	ck_assert_int_eq(once_event_unref(ev), 0);
	ck_assert_int_eq(atomic_load(&ca.frees), 0);
	ck_assert_int_eq(once_event_unref(ev), 0);
	ck_assert_int_eq(atomic_load(&ca.frees), 1);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
	/* Heap events are not destroyed, caller storage is not unref'd. */
	ck_assert_int_eq(once_event_create(&ev, NULL), 0);
	ck_assert_int_eq(once_event_destroy(ev), EINVAL);
	ck_assert_int_eq(once_event_unref(ev), 0);
}
END_TEST

/* Verify that ref/unref refuse caller-storage events and NULL. */
START_TEST(test_heap_ref_caller_storage_einval)
{
	once_event_t ev = ONCE_EVENT_INITIALIZER;

	ck_assert_int_eq(once_event_ref(&ev), EINVAL);
	ck_assert_int_eq(once_event_unref(&ev), EINVAL);
	ck_assert_int_eq(once_event_ref(NULL), EINVAL);
	ck_assert_int_eq(once_event_unref(NULL), EINVAL);
}
END_TEST

/*
 * Verify that a heap event is freed exactly when the last of owner and
 * endpoints lets go, whatever the order.
 */
START_TEST(test_heap_freed_by_last_of_owner_and_endpoints)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_event_t *ev;
	once_sender_t tx;
	once_receiver_t rx;
	void *v;
	int x, order;

	attr_counting(&a, &ca);
	for (order = 0; order < 3; order++) {
		long frees = atomic_load(&ca.frees);

		ck_assert_int_eq(once_event_create(&ev, &a), 0);
		ck_assert_int_eq(once_event_bind(ev, &tx, &rx), 0);
		ck_assert_int_eq(once_event_bind(ev, &tx, &rx), EALREADY);
		if (order == 0)
			ck_assert_int_eq(once_event_unref(ev), 0);
		ck_assert_int_eq(once_send(&tx, &x), 0);
		if (order == 1)
			ck_assert_int_eq(once_event_unref(ev), 0);
		ck_assert_int_eq(atomic_load(&ca.frees), frees);
		ck_assert_int_eq(once_recv(&rx, &v), 0);
		ck_assert_ptr_eq(v, &x);
		if (order == 2) {
			ck_assert_int_eq(atomic_load(&ca.frees), frees);
			ck_assert_int_eq(once_event_unref(ev), 0);
		}
		ck_assert_msg(atomic_load(&ca.frees) == frees + 1,
			      "order %d: not freed exactly once", order);
	}
	ck_assert_int_eq(atomic_load(&ca.allocs), atomic_load(&ca.frees));
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/*
 * Verify, with two owners and the endpoint pair, that the event is freed
 * exactly when the last of the three lets go, in each of the six orders,
 * and that an event never bound is freed by its last owner.
 */
START_TEST(test_heap_two_owners_every_order)
{
	static const int orders[6][3] = { { 0, 1, 2 }, { 0, 2, 1 },
					  { 1, 0, 2 }, { 1, 2, 0 },
					  { 2, 0, 1 }, { 2, 1, 0 } };
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_event_t *ev;
	once_sender_t tx;
	once_receiver_t rx;
	void *v;
	int o, k, x;

	attr_counting(&a, &ca);
	for (o = 0; o < 6; o++) {
		long frees = atomic_load(&ca.frees);

		ck_assert_int_eq(once_event_create(&ev, &a), 0);
		ck_assert_int_eq(once_event_ref(ev), 0);
		ck_assert_int_eq(once_event_bind(ev, &tx, &rx), 0);
		for (k = 0; k < 3; k++) {
			ck_assert_msg(atomic_load(&ca.frees) == frees,
				      "order %d: freed before step %d", o, k);
			if (orders[o][k] == 2) {
				ck_assert_int_eq(once_send(&tx, &x), 0);
				ck_assert_int_eq(once_recv(&rx, &v), 0);
			} else {
				ck_assert_int_eq(once_event_unref(ev), 0);
			}
		}
		ck_assert_msg(atomic_load(&ca.frees) == frees + 1,
			      "order %d: not freed exactly once", o);
	}
	/* Never bound: two owners, the second unref frees. */
	ck_assert_int_eq(once_event_create(&ev, &a), 0);
	ck_assert_int_eq(once_event_ref(ev), 0);
	ck_assert_int_eq(once_event_unref(ev), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs) - atomic_load(&ca.frees), 1);
	ck_assert_int_eq(once_event_unref(ev), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), atomic_load(&ca.frees));
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/*
 * An allocator that hands a freed block out again, as a program's own
 * free list would, rather than return it with free(3): drd then checks
 * the next event's writes against the last uses of the previous one.
 */
struct reuse_alloc {
	pthread_mutex_t lock;
	void *spare;			/* under lock */
	long live;			/* under lock */
};

static void *
reuse_alloc_fn(size_t size, void *ctx)
{
	struct reuse_alloc *ra = ctx;
	void *p;

	pthread_mutex_lock(&ra->lock);
	p = ra->spare;
	ra->spare = NULL;
	ra->live++;
	pthread_mutex_unlock(&ra->lock);
	return p ? p : malloc(size);
}

static void
reuse_free_fn(void *ptr, size_t size, void *ctx)
{
	struct reuse_alloc *ra = ctx;

	(void)size;
	pthread_mutex_lock(&ra->lock);
	if (!ra->spare) {
		ra->spare = ptr;
		ptr = NULL;
	}
	ra->live--;
	pthread_mutex_unlock(&ra->lock);
	free(ptr);
}

static atomic_int receiver_errors;

/* No ck_assert here, as in request_closer. */
static void *
heap_receiver(void *arg)
{
	once_receiver_t *rx = arg;
	void *v;

	if (once_recv(rx, &v) || !v)
		atomic_fetch_add(&receiver_errors, 1);
	return NULL;
}

/*
 * Verify that the owner's unref and a receive on another thread may end
 * in either order: the last one frees, whichever thread it is on, after
 * the other's last use (make check-drd checks the ordering; the threads
 * are joined only at the end, so nothing else orders them).
 */
#define UNREF_ROUNDS 30
START_TEST(test_heap_unref_races_receive)
{
	struct reuse_alloc ra = { .lock = PTHREAD_MUTEX_INITIALIZER };
	once_receiver_t rx[UNREF_ROUNDS];
	pthread_t t[UNREF_ROUNDS];
	once_attr_t a;
	once_event_t *ev;
	once_sender_t tx;
	int x, round;

	ck_assert_int_eq(once_attr_init(&a), 0);
	ck_assert_int_eq(once_attr_setallocator(&a, reuse_alloc_fn,
						reuse_free_fn, &ra), 0);
	for (round = 0; round < UNREF_ROUNDS; round++) {
		ck_assert_int_eq(once_event_create(&ev, &a), 0);
		ck_assert_int_eq(once_event_bind(ev, &tx, &rx[round]), 0);
		ck_assert_int_eq(once_send(&tx, &x), 0);
		ck_assert_int_eq(pthread_create(&t[round], NULL, heap_receiver,
						&rx[round]), 0);
		if (round % 2)
			sched_yield();
		ck_assert_int_eq(once_event_unref(ev), 0);
	}
	for (round = 0; round < UNREF_ROUNDS; round++)
		ck_assert_int_eq(pthread_join(t[round], NULL), 0);
	ck_assert_int_eq(atomic_load(&receiver_errors), 0);
	ck_assert_int_eq(ra.live, 0);
	free(ra.spare);
}
END_TEST

/*
 * Verify that a refcounted event released with its value unreceived
 * hands the value to the destructor exactly once.
 */
START_TEST(test_heap_unreceived_value_destroyed_once)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_event_t *ev;
	once_sender_t tx;
	once_receiver_t rx;
	long before = atomic_load(&dtor_calls);
	int x;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_event_create(&ev, &a), 0);
	ck_assert_int_eq(once_event_bind(ev, &tx, &rx), 0);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_event_unref(ev), 0);
	ck_assert_int_eq(once_receiver_close(&rx), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &x);
	ck_assert_int_eq(atomic_load(&ca.frees), 1);
}
END_TEST

/* Verify ENOMEM from create and channel when the allocator fails. */
START_TEST(test_heap_enomem)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_event_t *ev = NULL;
	once_sender_t tx;
	once_receiver_t rx;

	attr_counting(&a, &ca);
	atomic_store(&ca.fail, 1);
	ck_assert_int_eq(once_event_create(&ev, &a), ENOMEM);
	ck_assert_ptr_null(ev);
	ck_assert_int_eq(once_channel(&tx, &rx, &a), ENOMEM);
	atomic_store(&ca.fail, 0);
	ck_assert_int_eq(once_channel(&tx, &rx, &a), 0);
	ck_assert_int_eq(once_sender_close(&tx), 0);
	ck_assert_int_eq(once_receiver_close(&rx), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), 1);
	ck_assert_int_eq(atomic_load(&ca.frees), 1);
}
END_TEST

/*
 * Verify that a channel is freed when both endpoints are done, in every
 * way they can finish, with the destructor run only for an unreceived
 * value.
 */
START_TEST(test_channel_freed_when_both_done)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_sender_t tx;
	once_receiver_t rx;
	long before = atomic_load(&dtor_calls);
	void *v;
	int x, way;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_channel(NULL, &rx, &a), EINVAL);
	ck_assert_int_eq(once_channel(&tx, NULL, &a), EINVAL);
	for (way = 0; way < 5; way++) {
		ck_assert_int_eq(once_channel(&tx, &rx, &a), 0);
		switch (way) {
		case 0:	/* sent and received */
			ck_assert_int_eq(once_send(&tx, &x), 0);
			ck_assert_int_eq(once_recv(&rx, &v), 0);
			break;
		case 1:	/* receiver gone first */
			ck_assert_int_eq(once_receiver_close(&rx), 0);
			ck_assert_int_eq(once_send(&tx, &x), EPIPE);
			break;
		case 2:	/* sender closed, receiver sees EPIPE */
			ck_assert_int_eq(once_sender_close(&tx), 0);
			ck_assert_int_eq(once_recv(&rx, &v), EPIPE);
			break;
		case 3:	/* sent, never received */
			ck_assert_int_eq(once_send(&tx, &x), 0);
			ck_assert_int_eq(once_receiver_close(&rx), 0);
			break;
		case 4:	/* both closed */
			ck_assert_int_eq(once_receiver_close(&rx), 0);
			ck_assert_int_eq(once_sender_close(&tx), 0);
			break;
		}
		ck_assert_msg(atomic_load(&ca.frees) == way + 1,
			      "way %d: channel not freed once", way);
	}
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/* Seed scenario: a value of another shape (a struct) crosses threads. */
struct reply {
	char text[32];
	long n;
};

static void *
seed_cross_thread_sender(void *arg)
{
	once_sender_t *tx = arg;
	struct reply *r = malloc(sizeof(*r));

	strcpy(r->text, "reply");
	r->n = 42;
	ck_assert_int_eq(once_send(tx, r), 0);
	return NULL;
}

/* Verify the seed's cross-thread scenario for each storage kind. */
START_TEST(test_seed_cross_thread_every_kind)
{
	once_event_t ev, *hev;
	once_sender_t tx;
	once_receiver_t rx;
	struct reply *r;
	pthread_t t;
	int kind;

	for (kind = 0; kind < 3; kind++) {
		if (kind == 0) {
			bind_new(&ev, &tx, &rx, NULL);
		} else if (kind == 1) {
			ck_assert_int_eq(once_event_create(&hev, NULL), 0);
			ck_assert_int_eq(once_event_bind(hev, &tx, &rx), 0);
			ck_assert_int_eq(once_event_unref(hev), 0);
		} else {
			ck_assert_int_eq(once_channel(&tx, &rx, NULL), 0);
		}
		ck_assert_int_eq(pthread_create(&t, NULL,
				 seed_cross_thread_sender, &tx), 0);
		ck_assert_int_eq(once_recv(&rx, (void **)&r), 0);
		ck_assert_str_eq(r->text, "reply");
		ck_assert_int_eq(r->n, 42);
		free(r);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
		if (kind == 0)
			ck_assert_int_eq(once_event_destroy(&ev), 0);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("event");
	TCase *tc = tcase_create("event");
	TCase *heap = tcase_create("heap");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_event_initializer_round_trip);
	tcase_add_test(tc, test_event_bind_twice_ealready);
	tcase_add_test(tc, test_event_bind_einval);
	tcase_add_test(tc, test_event_destroy_ebusy_while_live);
	tcase_add_test(tc, test_send_epipe_after_receiver_close);
	tcase_add_test(tc, test_send_epipe_after_close_on_other_thread);
	tcase_add_test(tc, test_consumed_endpoint_einval);
	tcase_add_test(tc, test_sender_close_every_receive_epipe);
	tcase_add_test(tc, test_dtor_unreceived_value_once);
	tcase_add_test(tc, test_recv_null_value_pointer_runs_dtor);
	tcase_add_test(tc, test_tryrecv_eagain_then_value);
	tcase_add_test(tc, test_timedrecv_timeout_then_usable);
	tcase_add_test(tc, test_timedrecv_rewait_on_other_thread);
	tcase_add_test(tc, test_clockrecv_einval_checked_first);
	tcase_add_test(tc, test_clockrecv_past_deadline_etimedout);
	tcase_add_test(tc, test_clockrecv_max_deadline_waits);
	tcase_add_test(tc, test_recv_no_eintr_signal_storm);
	tcase_add_test(tc, test_endpoints_copy_by_assignment);
	tcase_add_test(tc, test_send_wakes_sleeping_receiver);
	tcase_add_test(tc, test_recv_is_cancellation_point);
	tcase_add_test(tc, test_event_caller_storage_no_allocation);
	tcase_add_test(tc, test_seed_cross_thread_every_kind);
	suite_add_tcase(s, tc);

	tcase_add_test(heap, test_heap_create_ref_unref);
	tcase_add_test(heap, test_heap_ref_caller_storage_einval);
	tcase_add_test(heap, test_heap_freed_by_last_of_owner_and_endpoints);
	tcase_add_test(heap, test_heap_two_owners_every_order);
	tcase_add_test(heap, test_heap_unref_races_receive);
	tcase_add_test(heap, test_heap_unreceived_value_destroyed_once);
	tcase_add_test(heap, test_heap_enomem);
	tcase_add_test(heap, test_channel_freed_when_both_done);
	suite_add_tcase(s, heap);
	return run_suite(s);
}
