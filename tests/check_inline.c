/*
 * check_inline.c - the fast paths a program gets with ONCE_INLINE.
 *
 * Built with -DONCE_INLINE and linked with --wrap for every library
 * function a fast path may fall back to, so that each test knows how many
 * calls reached the library: none for the common case of a caller-storage
 * event, and the library's answer, unchanged, for everything else. The
 * other suites are built a second time with ONCE_INLINE (the *_inline
 * programs), which runs every behaviour through these wrappers too.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "testutil.h"

#ifndef ONCE_INLINE
#error "check_inline.c is built with -DONCE_INLINE"
#endif

/* Calls that reached the library, by function. */
enum {
	C_BIND, C_DESTROY, C_SEND, C_RECV, C_TRYRECV,
	C_LBIND, C_LDESTROY, C_LSEND, C_LTRYRECV, C_N
};
static atomic_long calls[C_N];

int __real_once_event_bind(once_event_t *, once_sender_t *,
			   once_receiver_t *);
int __real_once_event_destroy(once_event_t *);
int __real_once_send(once_sender_t *, void *);
int __real_once_recv(once_receiver_t *, void **);
int __real_once_tryrecv(once_receiver_t *, void **);
int __real_once_local_event_bind(once_local_event_t *, once_local_sender_t *,
				 once_local_receiver_t *);
int __real_once_local_event_destroy(once_local_event_t *);
int __real_once_local_send(once_local_sender_t *, void *);
int __real_once_local_tryrecv(once_local_receiver_t *, void **);

int
__wrap_once_event_bind(once_event_t *ev, once_sender_t *tx,
		       once_receiver_t *rx)
{
	atomic_fetch_add(&calls[C_BIND], 1);
	return __real_once_event_bind(ev, tx, rx);
}

int
__wrap_once_event_destroy(once_event_t *ev)
{
	atomic_fetch_add(&calls[C_DESTROY], 1);
	return __real_once_event_destroy(ev);
}

int
__wrap_once_send(once_sender_t *tx, void *value)
{
	atomic_fetch_add(&calls[C_SEND], 1);
	return __real_once_send(tx, value);
}

int
__wrap_once_recv(once_receiver_t *rx, void **value)
{
	atomic_fetch_add(&calls[C_RECV], 1);
	return __real_once_recv(rx, value);
}

int
__wrap_once_tryrecv(once_receiver_t *rx, void **value)
{
	atomic_fetch_add(&calls[C_TRYRECV], 1);
	return __real_once_tryrecv(rx, value);
}

int
__wrap_once_local_event_bind(once_local_event_t *ev, once_local_sender_t *tx,
			     once_local_receiver_t *rx)
{
	atomic_fetch_add(&calls[C_LBIND], 1);
	return __real_once_local_event_bind(ev, tx, rx);
}

int
__wrap_once_local_event_destroy(once_local_event_t *ev)
{
	atomic_fetch_add(&calls[C_LDESTROY], 1);
	return __real_once_local_event_destroy(ev);
}

int
__wrap_once_local_send(once_local_sender_t *tx, void *value)
{
	atomic_fetch_add(&calls[C_LSEND], 1);
	return __real_once_local_send(tx, value);
}

int
__wrap_once_local_tryrecv(once_local_receiver_t *rx, void **value)
{
	atomic_fetch_add(&calls[C_LTRYRECV], 1);
	return __real_once_local_tryrecv(rx, value);
}

static void
reset_calls(void)
{
	int i;

	for (i = 0; i < C_N; i++)
		atomic_store(&calls[i], 0);
}

static long
ncalls(int which)
{
	return atomic_load(&calls[which]);
}

static long
total_calls(void)
{
	long n = 0;
	int i;

	for (i = 0; i < C_N; i++)
		n += ncalls(i);
	return n;
}

/* Verify that a caller-storage cycle never calls the library. */
START_TEST(test_inline_event_cycle_stays_inline)
{
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	once_attr_t attr;
	void *v = NULL;
	int x = 1, y = 2;

	reset_calls();
	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_ptr_null(tx.ev_);
	ck_assert_int_eq(once_recv(&rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_ptr_null(rx.ev_);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
	/* With attributes, a sender close and tryrecv's EPIPE. */
	attr_counting(&attr, NULL);
	ck_assert_int_eq(once_attr_setspin(&attr, 700), 0);
	atomic_store(&dtor_calls, 0);
	ck_assert_int_eq(once_event_init(&ev, &attr), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_send(&tx, &y), 0);
	ck_assert_int_eq(once_tryrecv(&rx, NULL), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls), 1);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &y);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_sender_close(&tx), 0);
	ck_assert_int_eq(once_tryrecv(&rx, &v), EPIPE);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
	ck_assert_int_eq(total_calls(), 0);
	once_attr_destroy(&attr);
}
END_TEST

/* Verify the same for the single-threaded twin. */
START_TEST(test_inline_local_cycle_stays_inline)
{
	once_local_event_t ev;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	void *v = NULL;
	int x = 1;

	reset_calls();
	ck_assert_int_eq(once_local_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_local_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_local_send(&tx, &x), 0);
	ck_assert_ptr_null(tx.ev_);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);
	ck_assert_int_eq(once_local_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_local_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_local_sender_close(&tx), 0);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), EPIPE);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);
	ck_assert_int_eq(total_calls(), 0);
}
END_TEST

/* Verify that errors and pending states reach the library's answer. */
START_TEST(test_inline_errors_fall_back)
{
	once_event_t ev;
	once_sender_t tx, tx2;
	once_receiver_t rx, rx2;
	void *v = NULL;
	int x = 1;

	reset_calls();
	ck_assert_int_eq(once_event_init(NULL, NULL), EINVAL);
	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, (once_receiver_t *)&tx),
			 EINVAL);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(ncalls(C_BIND), 1);
	ck_assert_int_eq(once_event_bind(&ev, &tx2, &rx2), EALREADY);
	ck_assert_int_eq(once_tryrecv(&rx, &v), EAGAIN);
	ck_assert_int_eq(ncalls(C_TRYRECV), 1);
	ck_assert_int_eq(once_event_destroy(&ev), EBUSY);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_send(&tx, &x), EINVAL);
	ck_assert_int_eq(once_recv(&rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_recv(&rx, &v), EINVAL);
	ck_assert_int_eq(once_tryrecv(NULL, &v), EINVAL);
	ck_assert_int_eq(once_send(NULL, &x), EINVAL);
	ck_assert_int_eq(once_event_destroy(NULL), EINVAL);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
	/* A receiver closed first: the sender gets EPIPE. */
	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_receiver_close(&rx), 0);
	ck_assert_int_eq(once_send(&tx, &x), EPIPE);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
	ck_assert_int_eq(ncalls(C_SEND), 3);
	/* Garbage in the state word is the library's EINVAL. */
	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ev.state_ = 0xdead;
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), EINVAL);
	ck_assert_int_eq(once_event_destroy(&ev), EINVAL);
}
END_TEST

/*
 * Verify that heap, channel and pooled events work: their sends inline,
 * their binds and receives through the library.
 */
START_TEST(test_inline_other_kinds_fall_back)
{
	once_event_t *hev;
	once_pool_t pool;
	once_sender_t tx, stale;
	once_receiver_t rx;
	void *v = NULL;
	int x = 1, y = 2, z = 3;

	reset_calls();
	ck_assert_int_eq(once_event_create(&hev, NULL), 0);
	ck_assert_int_eq(once_event_bind(hev, &tx, &rx), 0);
	ck_assert_int_eq(ncalls(C_BIND), 1);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_recv(&rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(ncalls(C_RECV), 1);
	ck_assert_int_eq(once_event_destroy(hev), EINVAL);
	ck_assert_int_eq(once_event_unref(hev), 0);
	ck_assert_int_eq(once_channel(&tx, &rx, NULL), 0);
	ck_assert_int_eq(once_send(&tx, &y), 0);
	ck_assert_int_eq(once_tryrecv(&rx, &v), 0);
	ck_assert_ptr_eq(v, &y);
	ck_assert_int_eq(ncalls(C_TRYRECV), 1);
	/* A pooled send is inline; a stale copy of its sender is not. */
	ck_assert_int_eq(once_pool_init(&pool, NULL), 0);
	ck_assert_int_eq(once_pool_bind(&pool, &tx, &rx), 0);
	stale = tx;
	ck_assert_int_eq(once_send(&tx, &z), 0);
	ck_assert_int_eq(ncalls(C_SEND), 0);
	ck_assert_int_eq(once_recv(&rx, &v), 0);
	ck_assert_ptr_eq(v, &z);
	ck_assert_int_eq(ncalls(C_RECV), 2);
	ck_assert_int_eq(once_pool_bind(&pool, &tx, &rx), 0);
	ck_assert_ptr_eq(stale.ev_, tx.ev_);
	ck_assert_int_eq(once_send(&stale, &x), EINVAL);
	ck_assert_int_eq(ncalls(C_SEND), 1);
	ck_assert_int_eq(once_tryrecv(&rx, &v), EAGAIN);
	ck_assert_int_eq(once_sender_close(&tx), 0);
	ck_assert_int_eq(once_recv(&rx, &v), EPIPE);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
}
END_TEST

static void
count_notify(void *arg)
{
	atomic_fetch_add((atomic_int *)arg, 1);
}

struct sleeper {
	once_receiver_t rx;
	void *v;
	int err;
};

static void *
sleeper_main(void *arg)
{
	struct sleeper *s = arg;

	s->err = once_recv(&s->rx, &s->v);
	return NULL;
}

/*
 * Verify that a send finding a sleeping receiver or a callback leaves the
 * fast path, and that the library then wakes the one and runs the other.
 */
START_TEST(test_inline_send_to_waiter_and_callback)
{
	once_event_t ev;
	once_sender_t tx;
	struct sleeper s;
	pthread_t t;
	atomic_int ran = 0;
	void *v = NULL;
	int x = 1, y = 2;
	int i;

	reset_calls();
	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &s.rx), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, sleeper_main, &s), 0);
	/* Wait (without a time limit) until the receiver announced its sleep. */
	for (i = 0; __atomic_load_n(&ev.state_, __ATOMIC_ACQUIRE) !=
		    ONCE__WAITING; i++)
		usleep(i < 100 ? 100 : 1000);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(s.err, 0);
	ck_assert_ptr_eq(s.v, &x);
	ck_assert_int_eq(ncalls(C_SEND), 1);
	ck_assert_int_eq(once_event_destroy(&ev), 0);

	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &s.rx), 0);
	ck_assert_int_eq(once_receiver_notify(&s.rx, count_notify, &ran), 0);
	ck_assert_int_eq(once_send(&tx, &y), 0);
	ck_assert_int_eq(atomic_load(&ran), 1);
	ck_assert_int_eq(ncalls(C_SEND), 2);
	ck_assert_int_eq(once_tryrecv(&s.rx, &v), 0);
	ck_assert_ptr_eq(v, &y);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify that the single-threaded fast paths leave a callback, a closed
 * receiver and a pooled event to the library.
 */
START_TEST(test_inline_local_falls_back)
{
	once_local_event_t ev;
	once_local_pool_t pool;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	atomic_int ran = 0;
	void *v = NULL;
	int x = 1;

	reset_calls();
	ck_assert_int_eq(once_local_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_local_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_local_event_bind(&ev, &tx, &rx), EALREADY);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), EAGAIN);
	ck_assert_int_eq(once_local_event_destroy(&ev), EBUSY);
	ck_assert_int_eq(once_local_receiver_notify(&rx, count_notify, &ran),
			 0);
	ck_assert_int_eq(once_local_send(&tx, &x), 0);
	ck_assert_int_eq(atomic_load(&ran), 1);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_local_send(&tx, &x), EINVAL);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);
	ck_assert_int_eq(ncalls(C_LBIND), 1);
	ck_assert_int_eq(ncalls(C_LSEND), 2);
	ck_assert_int_eq(ncalls(C_LTRYRECV), 1);
	ck_assert_int_eq(ncalls(C_LDESTROY), 1);

	ck_assert_int_eq(once_local_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_local_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(once_local_send(&tx, &x), EPIPE);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	ck_assert_int_eq(once_local_pool_init(&pool, NULL), 0);
	ck_assert_int_eq(once_local_pool_bind(&pool, &tx, &rx), 0);
	ck_assert_int_eq(once_local_send(&tx, &x), 0);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(ncalls(C_LSEND), 4);
	ck_assert_int_eq(ncalls(C_LTRYRECV), 2);
	ck_assert_int_eq(once_local_pool_destroy(&pool), 0);
}
END_TEST

/*
 * Verify that a parenthesised name and a function pointer still reach
 * the library, as once-inline.h promises.
 */
START_TEST(test_inline_parenthesised_name_calls_library)
{
	int (*send_fn)(once_sender_t *, void *) = &once_send;
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	void *v = NULL;
	int x = 1;

	reset_calls();
	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ck_assert_int_eq((once_event_bind)(&ev, &tx, &rx), 0);
	ck_assert_int_eq(send_fn(&tx, &x), 0);
	ck_assert_int_eq((once_recv)(&rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(ncalls(C_BIND), 1);
	ck_assert_int_eq(ncalls(C_SEND), 1);
	ck_assert_int_eq(ncalls(C_RECV), 1);
}
END_TEST

static Suite *
inline_suite(void)
{
	Suite *s = suite_create("inline");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_inline_event_cycle_stays_inline);
	tcase_add_test(tc, test_inline_local_cycle_stays_inline);
	tcase_add_test(tc, test_inline_errors_fall_back);
	tcase_add_test(tc, test_inline_other_kinds_fall_back);
	tcase_add_test(tc, test_inline_send_to_waiter_and_callback);
	tcase_add_test(tc, test_inline_local_falls_back);
	tcase_add_test(tc, test_inline_parenthesised_name_calls_library);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(inline_suite());
}
