/*
 * check_any.c - once_recv_any(): every documented result, the lowest
 * index rule, signals, cancellation and a race that counts every value.
 *
 * Built three times: against the library (futex_waitv on this kernel),
 * with ONCE_INLINE (senders take the header's fast path), and against the
 * test copy of the library with its hooks (ONCE_TEST_HOOKS), where every
 * test runs twice, once with futex_waitv and once with the fallback
 * forced, and where extra tests act at the instants the hooks name.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef ONCE_TEST_HOOKS
#include "internal.h"
#endif
#include "testutil.h"

#define NMAX ONCE_RECV_ANY_MAX

/* A set of caller-storage events, bound, with the attributes given. */
struct set {
	size_t n;
	once_event_t ev[NMAX + 1];
	once_sender_t tx[NMAX + 1];
	once_receiver_t rx[NMAX + 1];
};

static struct set set;
static once_attr_t spin0, spin_default;
static int x[NMAX];

static void
set_bind(struct set *s, size_t n, const once_attr_t *attr)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->n = n;
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(once_event_init(&s->ev[i], attr), 0);
		ck_assert_int_eq(once_event_bind(&s->ev[i], &s->tx[i],
						 &s->rx[i]), 0);
	}
}

/* Close what is left and destroy every event: all must be consumed. */
static void
set_finish(struct set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->rx[i].ev_)
			ck_assert_int_eq(once_receiver_close(&s->rx[i]), 0);
		if (s->tx[i].ev_)
			ck_assert_int_eq(once_sender_close(&s->tx[i]), 0);
		ck_assert_msg(once_event_destroy(&s->ev[i]) == 0,
			      "event %zu not done", i);
	}
}

/*
 * A live receiver that nothing has arrived on, and (with the hooks' view
 * of the word) whose announcement was taken back: its sender will not
 * owe a wake.
 */
static void
assert_pending(const once_receiver_t *rx, size_t i)
{
	ck_assert_msg(rx->ev_ && once_receiver_ready(rx) == 0,
		      "entry %zu not pending", i);
#ifdef ONCE_TEST_HOOKS
	ck_assert_msg(atomic_load(once__state(rx->ev_)) == ONCE__BOUND,
		      "entry %zu left in state %u", i,
		      (unsigned)atomic_load(once__state(rx->ev_)));
#endif
}

struct late {
	once_sender_t *tx;
	long delay_us;
	void *value;
	int close;
};

static void *
late_thread(void *arg)
{
	struct late *l = arg;

	usleep(l->delay_us);
	if (l->close)
		once_sender_close(l->tx);
	else
		once_send(l->tx, l->value);
	return NULL;
}

static void
late_start(pthread_t *t, struct late *l, once_sender_t *tx, long delay_us,
	   void *value, int close)
{
	l->tx = tx;
	l->delay_us = delay_us;
	l->value = value;
	l->close = close;
	ck_assert_int_eq(pthread_create(t, NULL, late_thread, l), 0);
}

/*
 * Verify that bad arguments are EINVAL, checked before anything else:
 * with a value already there, nothing is received and *index and *value
 * are not written.
 */
START_TEST(test_any_einval_arguments)
{
	struct timespec lo = { 0, -1 }, hi = { 0, 1000000000L }, ok = { 0, 0 };
	size_t idx = 99;
	void *v = &v;

	set_bind(&set, 3, NULL);
	ck_assert_int_eq(once_send(&set.tx[1], &x[1]), 0);
	ck_assert_int_eq(once_recv_any(NULL, 3, &idx, &v, CLOCK_MONOTONIC,
				       NULL), EINVAL);
	ck_assert_int_eq(once_recv_any(set.rx, 0, &idx, &v, CLOCK_MONOTONIC,
				       NULL), EINVAL);
	ck_assert_int_eq(once_recv_any(set.rx, NMAX + 1, &idx, &v,
				       CLOCK_MONOTONIC, NULL), EINVAL);
	ck_assert_int_eq(once_recv_any(set.rx, 3, NULL, &v, CLOCK_MONOTONIC,
				       NULL), EINVAL);
	ck_assert_int_eq(once_recv_any(set.rx, 3, &idx, &v, CLOCK_BOOTTIME,
				       NULL), EINVAL);
	ck_assert_int_eq(once_recv_any(set.rx, 3, &idx, &v,
				       CLOCK_PROCESS_CPUTIME_ID, &ok), EINVAL);
	ck_assert_int_eq(once_recv_any(set.rx, 3, &idx, &v, CLOCK_REALTIME,
				       &lo), EINVAL);
	ck_assert_int_eq(once_recv_any(set.rx, 3, &idx, &v, CLOCK_MONOTONIC,
				       &hi), EINVAL);
	ck_assert_uint_eq(idx, 99);
	ck_assert_ptr_eq(v, &v);
	ck_assert_int_eq(once_receiver_ready(&set.rx[1]), 1);
	ck_assert_ptr_nonnull(set.rx[1].ev_);
	ck_assert_int_eq(once_recv_any(set.rx, 3, &idx, &v, CLOCK_MONOTONIC,
				       &ok), 0);
	ck_assert_uint_eq(idx, 1);
	ck_assert_ptr_eq(v, &x[1]);
	set_finish(&set);
}
END_TEST

/*
 * Verify that an array with no live entry is EINVAL and leaves *index
 * alone: all cleared from the start, or all consumed by earlier calls.
 */
START_TEST(test_any_einval_no_live_entry)
{
	once_receiver_t zero[4];
	size_t i, idx = 99;
	void *v;

	memset(zero, 0, sizeof(zero));
	ck_assert_int_eq(once_recv_any(zero, 4, &idx, &v, CLOCK_MONOTONIC,
				       NULL), EINVAL);
	ck_assert_uint_eq(idx, 99);
	set_bind(&set, 4, NULL);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(once_send(&set.tx[i], &x[i]), 0);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(once_recv_any(set.rx, 4, &idx, &v,
					       CLOCK_MONOTONIC, NULL), 0);
		ck_assert_uint_eq(idx, i);
		ck_assert_ptr_eq(v, &x[i]);
	}
	idx = 99;
	ck_assert_int_eq(once_recv_any(set.rx, 4, &idx, &v, CLOCK_MONOTONIC,
				       NULL), EINVAL);
	ck_assert_uint_eq(idx, 99);
	set_finish(&set);
}
END_TEST

/*
 * Verify that a stale entry (a copy of a receiver consumed elsewhere, of a
 * caller-storage or a pooled event) is EINVAL with its index, checked
 * before a complete entry of lower index is received; it is cleared, so
 * the next call skips it.
 */
START_TEST(test_any_einval_stale_entry)
{
	once_pool_t pool;
	once_sender_t ptx, ptx2;
	once_receiver_t prx, prx2, arr[3];
	size_t idx = 99;
	void *v = &v;

	set_bind(&set, 3, NULL);
	set.rx[3] = set.rx[2];
	ck_assert_int_eq(once_send(&set.tx[2], &x[2]), 0);
	ck_assert_int_eq(once_recv(&set.rx[2], &v), 0);
	ck_assert_int_eq(once_send(&set.tx[0], &x[0]), 0);
	v = &v;
	ck_assert_int_eq(once_recv_any(set.rx, 4, &idx, &v, CLOCK_MONOTONIC,
				       NULL), EINVAL);
	ck_assert_uint_eq(idx, 3);
	ck_assert_ptr_null(set.rx[3].ev_);
	ck_assert_ptr_eq(v, &v);
	ck_assert_int_eq(once_recv_any(set.rx, 4, &idx, &v, CLOCK_MONOTONIC,
				       NULL), 0);
	ck_assert_uint_eq(idx, 0);
	ck_assert_ptr_eq(v, &x[0]);
	set_finish(&set);

	/* A pooled receiver's copy, after its event went back (and may
	 * have been bound again: the generation tells). */
	ck_assert_int_eq(once_pool_init(&pool, NULL), 0);
	ck_assert_int_eq(once_pool_bind(&pool, &ptx, &prx), 0);
	arr[1] = prx;
	ck_assert_int_eq(once_receiver_close(&prx), 0);
	ck_assert_int_eq(once_sender_close(&ptx), 0);
	ck_assert_int_eq(once_pool_bind(&pool, &ptx, &prx), 0);
	ck_assert_int_eq(once_pool_bind(&pool, &ptx2, &prx2), 0);
	arr[0] = prx;
	arr[2] = prx2;
	ck_assert_int_eq(once_recv_any(arr, 3, &idx, &v, CLOCK_MONOTONIC,
				       NULL), EINVAL);
	ck_assert_uint_eq(idx, 1);
	ck_assert_ptr_null(arr[1].ev_);
	ck_assert_int_eq(once_send(&ptx2, &x[2]), 0);
	ck_assert_int_eq(once_recv_any(arr, 3, &idx, &v, CLOCK_MONOTONIC,
				       NULL), 0);
	ck_assert_uint_eq(idx, 2);
	ck_assert_ptr_eq(v, &x[2]);
	ck_assert_int_eq(once_receiver_close(&arr[0]), 0);
	ck_assert_int_eq(once_sender_close(&ptx), 0);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
}
END_TEST

/*
 * Verify that an entry of a process-shared event is refused with ENOTSUP
 * and its index, before anything is received, and that the receiver is
 * left as it was.
 */
START_TEST(test_any_enotsup_pshared_entry)
{
	once_attr_t a;
	once_event_t ev, sev;
	once_sender_t tx, stx;
	once_receiver_t arr[2];
	size_t idx = 99;
	void *v = NULL;
	int x = 1;

	ck_assert_int_eq(once_attr_init(&a), 0);
	ck_assert_int_eq(once_attr_setpshared(&a, ONCE_PROCESS_SHARED), 0);
	ck_assert_int_eq(once_event_init(&sev, &a), 0);
	ck_assert_int_eq(once_event_bind(&sev, &stx, &arr[1]), 0);
	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &arr[0]), 0);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_recv_any(arr, 2, &idx, &v, CLOCK_MONOTONIC,
				       NULL), ENOTSUP);
	ck_assert_uint_eq(idx, 1);
	ck_assert_ptr_null(v);
	ck_assert_ptr_nonnull(arr[0].ev_);
	ck_assert_ptr_nonnull(arr[1].ev_);
	ck_assert_int_eq(once_recv(&arr[0], &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_send(&stx, &x), 0);
	ck_assert_int_eq(once_recv(&arr[1], &v), 0);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
	ck_assert_int_eq(once_event_destroy(&sev), 0);
	ck_assert_int_eq(once_attr_destroy(&a), 0);
}
END_TEST

/*
 * Verify that of several complete entries the lowest index comes first,
 * whatever the order of arrival, a close (EPIPE) included; the entries
 * still pending are untouched.
 */
START_TEST(test_any_lowest_index_first)
{
	struct timespec past = { -1, 0 };
	size_t idx;
	void *v = &v;

	set_bind(&set, 5, NULL);
	ck_assert_int_eq(once_send(&set.tx[4], &x[4]), 0);
	ck_assert_int_eq(once_send(&set.tx[3], &x[3]), 0);
	ck_assert_int_eq(once_sender_close(&set.tx[1]), 0);
	ck_assert_int_eq(once_recv_any(set.rx, 5, &idx, &v, CLOCK_MONOTONIC,
				       NULL), EPIPE);
	ck_assert_uint_eq(idx, 1);
	ck_assert_ptr_eq(v, &v);
	ck_assert_ptr_null(set.rx[1].ev_);
	ck_assert_int_eq(once_recv_any(set.rx, 5, &idx, &v, CLOCK_MONOTONIC,
				       NULL), 0);
	ck_assert_uint_eq(idx, 3);
	ck_assert_ptr_eq(v, &x[3]);
	ck_assert_int_eq(once_recv_any(set.rx, 5, &idx, &v, CLOCK_REALTIME,
				       &past), 0);
	ck_assert_uint_eq(idx, 4);
	ck_assert_ptr_eq(v, &x[4]);
	ck_assert_int_eq(once_recv_any(set.rx, 5, &idx, &v, CLOCK_REALTIME,
				       &past), ETIMEDOUT);
	assert_pending(&set.rx[0], 0);
	assert_pending(&set.rx[2], 2);
	set_finish(&set);
}
END_TEST

/*
 * Verify that a value sent later, by another thread, to any one of many
 * sleeping entries (first, middle, last; without and with spinning) is
 * received with its index, and that the others are left pending.
 */
START_TEST(test_any_value_arrives_later)
{
	const size_t targets[] = { 0, 3, 7 };
	struct late l;
	pthread_t t;
	size_t i, k, idx;
	void *v;
	int spin;

	for (spin = 0; spin < 2; spin++) {
		for (k = 0; k < 3; k++) {
			set_bind(&set, 8, spin ? &spin_default : &spin0);
			late_start(&t, &l, &set.tx[targets[k]], 20000,
				   &x[targets[k]], 0);
			v = NULL;
			ck_assert_int_eq(once_recv_any(set.rx, 8, &idx, &v,
					 CLOCK_MONOTONIC, NULL), 0);
			ck_assert_uint_eq(idx, targets[k]);
			ck_assert_ptr_eq(v, &x[targets[k]]);
			ck_assert_int_eq(pthread_join(t, NULL), 0);
			ck_assert_int_eq(once_event_destroy(&set.ev[idx]), 0);
			for (i = 0; i < 8; i++)
				if (i != idx)
					assert_pending(&set.rx[i], i);
			set_finish(&set);
		}
	}
}
END_TEST

/*
 * Verify that a sender's close, while the receiver sleeps, is EPIPE with
 * its index: the entry is consumed and *value is not written.
 */
START_TEST(test_any_sender_close_epipe)
{
	struct late l;
	pthread_t t;
	size_t idx = 99;
	void *v = &v;

	set_bind(&set, 6, &spin0);
	late_start(&t, &l, &set.tx[5], 20000, NULL, 1);
	ck_assert_int_eq(once_recv_any(set.rx, 6, &idx, &v, CLOCK_MONOTONIC,
				       NULL), EPIPE);
	ck_assert_uint_eq(idx, 5);
	ck_assert_ptr_eq(v, &v);
	ck_assert_ptr_null(set.rx[5].ev_);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(once_event_destroy(&set.ev[5]), 0);
	set_finish(&set);
}
END_TEST

/*
 * Verify ETIMEDOUT on both clocks, and for a deadline already past (a
 * negative tv_sec included): *index is not written, every receiver stays
 * usable (the announcements are taken back), a second call returns a
 * value sent meanwhile, and once_recv() works on another entry.
 */
START_TEST(test_any_timeout_all_usable)
{
	const clockid_t clocks[] = { CLOCK_MONOTONIC, CLOCK_REALTIME };
	struct timespec ts, start, end, past = { -5, 0 };
	struct late l;
	pthread_t t;
	size_t i, idx = 99;
	unsigned int c;
	void *v = &v;

	set_bind(&set, 4, &spin0);
	for (c = 0; c < 2; c++) {
		clock_gettime(CLOCK_MONOTONIC, &start);
		ts = deadline_in(clocks[c], 5000000);
		ck_assert_int_eq(once_recv_any(set.rx, 4, &idx, &v, clocks[c],
					       &ts), ETIMEDOUT);
		clock_gettime(CLOCK_MONOTONIC, &end);
		ck_assert_msg(elapsed_ns(&start, &end) >= 4000000,
			      "clock %u: timed out after %ld ns", c,
			      elapsed_ns(&start, &end));
		ck_assert_int_eq(once_recv_any(set.rx, 4, &idx, &v, clocks[c],
					       &past), ETIMEDOUT);
	}
	ck_assert_uint_eq(idx, 99);
	ck_assert_ptr_eq(v, &v);
	for (i = 0; i < 4; i++)
		assert_pending(&set.rx[i], i);
	ck_assert_int_eq(once_send(&set.tx[2], &x[2]), 0);
	ts = deadline_in(CLOCK_MONOTONIC, 5000000);
	ck_assert_int_eq(once_recv_any(set.rx, 4, &idx, &v, CLOCK_MONOTONIC,
				       &ts), 0);
	ck_assert_uint_eq(idx, 2);
	ck_assert_ptr_eq(v, &x[2]);
	late_start(&t, &l, &set.tx[0], 10000, &x[0], 0);
	ck_assert_int_eq(once_recv(&set.rx[0], &v), 0);
	ck_assert_ptr_eq(v, &x[0]);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	set_finish(&set);
}
END_TEST

/*
 * Verify that the largest time_t as a deadline just waits, on both
 * clocks, until the value comes.
 */
START_TEST(test_any_max_deadline_waits)
{
	const clockid_t clocks[] = { CLOCK_MONOTONIC, CLOCK_REALTIME };
	struct timespec far;
	struct late l;
	pthread_t t;
	size_t idx;
	unsigned int c;
	void *v;

	far.tv_sec = (time_t)(((uint64_t)1 << (sizeof(time_t) * 8 - 1)) - 1);
	far.tv_nsec = 999999999L;
	for (c = 0; c < 2; c++) {
		set_bind(&set, 3, &spin0);
		late_start(&t, &l, &set.tx[1], 20000, &x[1], 0);
		ck_assert_int_eq(once_recv_any(set.rx, 3, &idx, &v, clocks[c],
					       &far), 0);
		ck_assert_uint_eq(idx, 1);
		ck_assert_ptr_eq(v, &x[1]);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
		set_finish(&set);
	}
}
END_TEST

/*
 * Verify that cleared entries are skipped: zeroed ones among live ones,
 * and entries consumed by earlier calls on the same array.
 */
START_TEST(test_any_cleared_entries_skipped)
{
	struct late l;
	pthread_t t;
	size_t idx;
	void *v;

	set_bind(&set, 6, &spin0);
	ck_assert_int_eq(once_receiver_close(&set.rx[0]), 0);
	ck_assert_int_eq(once_receiver_close(&set.rx[2]), 0);
	memset(&set.rx[4], 0, sizeof(set.rx[4]));
	ck_assert_int_eq(once_send(&set.tx[5], &x[5]), 0);
	ck_assert_int_eq(once_recv_any(set.rx, 6, &idx, &v, CLOCK_MONOTONIC,
				       NULL), 0);
	ck_assert_uint_eq(idx, 5);
	late_start(&t, &l, &set.tx[3], 20000, &x[3], 0);
	ck_assert_int_eq(once_recv_any(set.rx, 6, &idx, &v, CLOCK_MONOTONIC,
				       NULL), 0);
	ck_assert_uint_eq(idx, 3);
	ck_assert_ptr_eq(v, &x[3]);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(once_sender_close(&set.tx[1]), 0);
	ck_assert_int_eq(once_recv_any(set.rx, 6, &idx, &v, CLOCK_MONOTONIC,
				       NULL), EPIPE);
	ck_assert_uint_eq(idx, 1);
	ck_assert_int_eq(once_recv_any(set.rx, 6, &idx, &v, CLOCK_MONOTONIC,
				       NULL), EINVAL);
	/* Entry 4 was zeroed, not consumed: its event is still live. */
	set.rx[4].ev_ = &set.ev[4];
	set_finish(&set);
}
END_TEST

static atomic_int cb_calls;

static void
count_cb(void *arg)
{
	(void)arg;
	atomic_fetch_add(&cb_calls, 1);
}

/*
 * Verify that an entry with a callback registered and nothing arrived is
 * EBUSY with its index, even with a value waiting on another entry, which
 * stays there; once the callback has run, the entry is received as any
 * complete one.
 */
START_TEST(test_any_ebusy_callback)
{
	size_t idx = 99;
	void *v = &v;

	atomic_store(&cb_calls, 0);
	set_bind(&set, 3, NULL);
	ck_assert_int_eq(once_receiver_notify(&set.rx[1], count_cb, NULL), 0);
	ck_assert_int_eq(once_send(&set.tx[2], &x[2]), 0);
	ck_assert_int_eq(once_recv_any(set.rx, 3, &idx, &v, CLOCK_MONOTONIC,
				       NULL), EBUSY);
	ck_assert_uint_eq(idx, 1);
	ck_assert_ptr_eq(v, &v);
	ck_assert_int_eq(once_receiver_ready(&set.rx[2]), 1);
	ck_assert_ptr_nonnull(set.rx[1].ev_);
	ck_assert_int_eq(once_send(&set.tx[1], &x[1]), 0);
	ck_assert_int_eq(atomic_load(&cb_calls), 1);
	ck_assert_int_eq(once_recv_any(set.rx, 3, &idx, &v, CLOCK_MONOTONIC,
				       NULL), 0);
	ck_assert_uint_eq(idx, 1);
	ck_assert_ptr_eq(v, &x[1]);
	ck_assert_int_eq(once_recv_any(set.rx, 3, &idx, &v, CLOCK_MONOTONIC,
				       NULL), 0);
	ck_assert_uint_eq(idx, 2);
	set_finish(&set);
}
END_TEST

/*
 * Verify that with value NULL the received value goes to the destructor,
 * once; a close runs no destructor.
 */
START_TEST(test_any_null_value_runs_dtor)
{
	once_attr_t a;
	long before = atomic_load(&dtor_calls);
	size_t idx;

	attr_counting(&a, NULL);
	set_bind(&set, 3, &a);
	ck_assert_int_eq(once_send(&set.tx[2], &x[2]), 0);
	ck_assert_int_eq(once_recv_any(set.rx, 3, &idx, NULL, CLOCK_MONOTONIC,
				       NULL), 0);
	ck_assert_uint_eq(idx, 2);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &x[2]);
	ck_assert_int_eq(once_sender_close(&set.tx[0]), 0);
	ck_assert_int_eq(once_recv_any(set.rx, 3, &idx, NULL, CLOCK_MONOTONIC,
				       NULL), EPIPE);
	ck_assert_uint_eq(idx, 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);
	set_finish(&set);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);
}
END_TEST

/*
 * Verify the largest array: 128 entries, a value on the last one while
 * the receiver sleeps, then the lowest-index rule across the array, and
 * 129 refused.
 */
START_TEST(test_any_128_receivers)
{
	struct timespec past = { 0, 0 };
	struct late l;
	pthread_t t;
	size_t idx = 99;
	void *v;

	set_bind(&set, NMAX, &spin0);
	late_start(&t, &l, &set.tx[NMAX - 1], 20000, &x[NMAX - 1], 0);
	ck_assert_int_eq(once_recv_any(set.rx, NMAX, &idx, &v,
				       CLOCK_MONOTONIC, NULL), 0);
	ck_assert_uint_eq(idx, NMAX - 1);
	ck_assert_ptr_eq(v, &x[NMAX - 1]);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(once_send(&set.tx[64], &x[64]), 0);
	ck_assert_int_eq(once_send(&set.tx[3], &x[3]), 0);
	ck_assert_int_eq(once_recv_any(set.rx, NMAX, &idx, &v,
				       CLOCK_MONOTONIC, NULL), 0);
	ck_assert_uint_eq(idx, 3);
	ck_assert_int_eq(once_recv_any(set.rx, NMAX, &idx, &v,
				       CLOCK_MONOTONIC, NULL), 0);
	ck_assert_uint_eq(idx, 64);
	ck_assert_int_eq(once_recv_any(set.rx, NMAX, &idx, &v,
				       CLOCK_MONOTONIC, &past), ETIMEDOUT);
	ck_assert_int_eq(once_recv_any(set.rx, NMAX + 1, &idx, &v,
				       CLOCK_MONOTONIC, NULL), EINVAL);
	assert_pending(&set.rx[0], 0);
	assert_pending(&set.rx[NMAX - 2], NMAX - 2);
	set_finish(&set);
}
END_TEST

struct kinds_sender {
	once_sender_t tx[4];
	int order[4];
};

static void *
kinds_thread(void *arg)
{
	struct kinds_sender *k = arg;
	int i;

	for (i = 0; i < 4; i++) {
		usleep(5000);
		once_send(&k->tx[k->order[i]], &x[k->order[i]]);
	}
	return NULL;
}

/*
 * Verify one array over every kind of storage (caller, heap, channel,
 * pool), the values arriving in a scrambled order: each is received once,
 * and every event is released (nothing leaks, the pool is whole).
 */
START_TEST(test_any_every_storage_kind)
{
	struct count_alloc ca = { 0 };
	struct kinds_sender ks = { .order = { 2, 0, 3, 1 } };
	once_attr_t a;
	once_event_t ev, *hev;
	once_pool_t pool;
	once_receiver_t rxs[4];
	pthread_t t;
	size_t idx;
	int seen[4] = { 0 }, i;
	void *v;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_attr_setspin(&a, 0), 0);
	ck_assert_int_eq(once_event_init(&ev, &a), 0);
	ck_assert_int_eq(once_event_bind(&ev, &ks.tx[0], &rxs[0]), 0);
	ck_assert_int_eq(once_event_create(&hev, &a), 0);
	ck_assert_int_eq(once_event_bind(hev, &ks.tx[1], &rxs[1]), 0);
	ck_assert_int_eq(once_event_unref(hev), 0);
	ck_assert_int_eq(once_channel(&ks.tx[2], &rxs[2], &a), 0);
	ck_assert_int_eq(once_pool_init(&pool, &a), 0);
	ck_assert_int_eq(once_pool_bind(&pool, &ks.tx[3], &rxs[3]), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, kinds_thread, &ks), 0);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(once_recv_any(rxs, 4, &idx, &v,
					       CLOCK_MONOTONIC, NULL), 0);
		ck_assert_ptr_eq(v, &x[idx]);
		seen[idx]++;
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	for (i = 0; i < 4; i++)
		ck_assert_msg(seen[i] == 1, "kind %d seen %d times", i,
			      seen[i]);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/*
 * The race: a receiver loops on once_recv_any() over RACE_N entries until
 * all are consumed, while two sender threads, released with it by a spin
 * barrier, send or close their entries in a random order.
 */
#define RACE_N 8

struct any_race {
	struct spin_barrier bar;
	long rounds;
	once_event_t ev[RACE_N];
	once_sender_t tx[RACE_N];
	once_receiver_t rx[RACE_N];
	int close[RACE_N];		/* entry i is closed, not sent */
	int order[2][RACE_N / 2];	/* each sender's entries, in turn */
	int timed;			/* the receiver's calls time out */
	atomic_int errors;
};

static unsigned long
xorshift(unsigned long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *
value_of(long round, int i)
{
	return (void *)(uintptr_t)(((unsigned long)round << 8) | (i + 1));
}

static void
race_sender(struct any_race *r, int side, long round)
{
	struct timespec start, now;
	int j, i;

	race_jitter(round, side ? 0x51u : 0x9e37u);
	/* Hold one sender back, so that timed calls do time out. */
	if (r->timed && side == 0) {
		clock_gettime(CLOCK_MONOTONIC, &start);
		do
			clock_gettime(CLOCK_MONOTONIC, &now);
		while (elapsed_ns(&start, &now) < 50000);
	}
	for (j = 0; j < RACE_N / 2; j++) {
		i = r->order[side][j];
		if (r->close[i]) {
			if (once_sender_close(&r->tx[i]) != 0)
				atomic_fetch_add(&r->errors, 1);
		} else if (once_send(&r->tx[i], value_of(round, i)) != 0) {
			atomic_fetch_add(&r->errors, 1);
		}
		race_jitter(round + j, 0x7f4au);
	}
}

struct race_side {
	struct any_race *r;
	int side;
};

static void *
race_sender_thread(void *arg)
{
	struct race_side *rs = arg;
	long i;

	for (i = 0; i < rs->r->rounds; i++) {
		spin_barrier_wait(&rs->r->bar);
		race_sender(rs->r, rs->side, i);
		spin_barrier_wait(&rs->r->bar);
	}
	return NULL;
}

static struct any_race race;

/*
 * Verify that under racing senders every value arrives exactly once, at
 * its own index, and every close as EPIPE at its index: caller-storage
 * events and channels, with and without spinning, untimed and with a
 * deadline so short (0 to 30 us, with one sender held back 50 us) that
 * calls time out while the senders are at work, and their take-backs
 * race with the sends: how often is up to the scheduler, but a poll
 * before the senders start always times out. ONCE_TEST_ROUNDS sets the
 * rounds (a tenth of them with the fallback, whose slices make each
 * round slower).
 */
START_TEST(test_any_race_every_value_once)
{
	struct race_side sides[2] = { { &race, 0 }, { &race, 1 } };
	pthread_t t[2];
	struct timespec ts;
	unsigned long seed;
	int got[RACE_N], i, j, k, err, timed, kind;
	long round;
	size_t idx, bad_idx = SIZE_MAX;
	void *v, *bad_v = NULL;
	int bad_err = 0;

	memset(&race, 0, sizeof(race));
	race.rounds = race_rounds();
#ifdef ONCE_TEST_HOOKS
	if (once__test_no_waitv)
		race.rounds = race.rounds / 10 + 1;
#endif
	race.bar.parties = 3;
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL,
				 race_sender_thread, &sides[i]), 0);
	for (round = 0; round < race.rounds; round++) {
		seed = (unsigned long)round * 0x9e3779b97f4a7c15ul + 1;
		kind = round & 1;
		timed = race.timed = (round >> 2) % 3 == 0;
		for (i = 0; i < RACE_N; i++) {
			const once_attr_t *a = round & 2 ? &spin0 :
					       &spin_default;

			if (kind) {
				ck_assert_int_eq(once_channel(&race.tx[i],
						 &race.rx[i], a), 0);
			} else {
				ck_assert_int_eq(once_event_init(&race.ev[i],
								 a), 0);
				ck_assert_int_eq(once_event_bind(&race.ev[i],
						 &race.tx[i], &race.rx[i]), 0);
			}
			race.close[i] = xorshift(&seed) % 4 == 0;
			got[i] = 0;
		}
		/* Deal the entries to the senders in a random order. */
		for (i = 0; i < RACE_N; i++)
			race.order[i & 1][i >> 1] = i;
		for (i = RACE_N - 1; i > 0; i--) {
			j = (int)(xorshift(&seed) % (unsigned long)(i + 1));
			k = race.order[i & 1][i >> 1];
			race.order[i & 1][i >> 1] = race.order[j & 1][j >> 1];
			race.order[j & 1][j >> 1] = k;
		}
		/* A poll before the senders start times out, always. */
		if (timed) {
			ts.tv_sec = ts.tv_nsec = 0;
			ck_assert_int_eq(once_recv_any(race.rx, RACE_N, &idx,
					 &v, CLOCK_MONOTONIC, &ts), ETIMEDOUT);
		}
		spin_barrier_wait(&race.bar);
		for (;;) {
			if (timed) {
				ts = deadline_in(CLOCK_MONOTONIC,
						 (round >> 4) % 4 * 10000);
				err = once_recv_any(race.rx, RACE_N, &idx, &v,
						    CLOCK_MONOTONIC, &ts);
			} else {
				err = once_recv_any(race.rx, RACE_N, &idx, &v,
						    CLOCK_MONOTONIC, NULL);
			}
			if (err == ETIMEDOUT)
				continue;
			if (err == EINVAL)
				break;
			/*
			 * Checked once the senders are parked: Check's
			 * assertions write to a pipe, which would slow this
			 * loop while they race it.
			 */
			if (idx >= RACE_N) {
				bad_idx = idx;
				break;
			}
			got[idx]++;
			if (race.close[idx] ? err != EPIPE :
			    err != 0 || v != value_of(round, (int)idx)) {
				bad_idx = idx;
				bad_err = err;
				bad_v = v;
			}
		}
		spin_barrier_wait(&race.bar);
		ck_assert_msg(bad_idx == SIZE_MAX, "round %ld entry %zu: %d, "
			      "%p", round, bad_idx, bad_err, bad_v);
		for (i = 0; i < RACE_N; i++) {
			ck_assert_msg(got[i] == 1, "round %ld entry %d: "
				      "received %d times", round, i, got[i]);
			if (!kind)
				ck_assert_int_eq(once_event_destroy(
						 &race.ev[i]), 0);
		}
	}
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	ck_assert_int_eq(atomic_load(&race.errors), 0);
}
END_TEST

/*
 * Verify that no wait returns EINTR or loses its value under a storm of
 * signals whose handler is installed without SA_RESTART: untimed, timed
 * on both clocks, a call that times out and waits again, and a sender
 * that closes.
 */
START_TEST(test_any_no_eintr_signal_storm)
{
	struct sigaction sa;
	struct storm st;
	struct late l;
	struct timespec ts;
	pthread_t sender, stormer;
	size_t idx;
	long before;
	void *v;
	int w, err;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_signal;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	st.target = pthread_self();
	atomic_init(&st.stop, 0);
	ck_assert_int_eq(pthread_create(&stormer, NULL, storm_thread, &st), 0);
	/* On a loaded machine the storm may take a while to start. */
	while (atomic_load(&signals_seen) == 0)
		sched_yield();
	for (w = 0; w < 5; w++) {
		set_bind(&set, 4, &spin0);
		before = atomic_load(&signals_seen);
		late_start(&sender, &l, &set.tx[2], 50000, &x[2], w == 4);
		v = NULL;
		switch (w) {
		case 1:
		case 2:
			ts = deadline_in(w == 1 ? CLOCK_MONOTONIC :
					 CLOCK_REALTIME, 60000000000L);
			err = once_recv_any(set.rx, 4, &idx, &v, w == 1 ?
					    CLOCK_MONOTONIC : CLOCK_REALTIME,
					    &ts);
			break;
		case 3:
			ts = deadline_in(CLOCK_MONOTONIC, 10000000L);
			ck_assert_int_eq(once_recv_any(set.rx, 4, &idx, &v,
					 CLOCK_MONOTONIC, &ts), ETIMEDOUT);
			/* fall through */
		default:
			err = once_recv_any(set.rx, 4, &idx, &v,
					    CLOCK_MONOTONIC, NULL);
			break;
		}
		ck_assert_msg(err == (w == 4 ? EPIPE : 0), "wait %d: %d", w,
			      err);
		ck_assert_uint_eq(idx, 2);
		if (w != 4)
			ck_assert_ptr_eq(v, &x[2]);
		ck_assert_int_eq(pthread_join(sender, NULL), 0);
		ck_assert_msg(atomic_load(&signals_seen) > before,
			      "no signal hit wait %d", w);
		set_finish(&set);
	}
	atomic_store(&st.stop, 1);
	ck_assert_int_eq(pthread_join(stormer, NULL), 0);
}
END_TEST

struct cancelled {
	once_receiver_t rx[4];
	int timed;
	int close_in_cleanup;
	atomic_int started;
	int closed;
};

static void
cleanup_close(void *arg)
{
	struct cancelled *c = arg;
	int i;

	if (!c->close_in_cleanup)
		return;
	for (i = 0; i < 4; i++)
		c->closed += once_receiver_close(&c->rx[i]) == 0;
}

static void *
cancel_target(void *arg)
{
	struct cancelled *c = arg;
	struct timespec ts = deadline_in(CLOCK_REALTIME, 60000000000L);
	size_t idx;
	void *v;

	pthread_cleanup_push(cleanup_close, c);
	atomic_store(&c->started, 1);
	once_recv_any(c->rx, 4, &idx, &v, CLOCK_REALTIME,
		      c->timed ? &ts : NULL);
	pthread_cleanup_pop(0);
	return NULL;
}

/*
 * Verify that once_recv_any() is a cancellation point while it sleeps and
 * that every receiver stays valid: a cleanup handler may close them all
 * (the senders then see EPIPE, and the channels are freed), or another
 * thread may go on with the same array, receive from it, and close it.
 */
START_TEST(test_any_cancellation_point)
{
	struct count_alloc ca = { 0 };
	static struct cancelled c;
	once_sender_t tx[4];
	once_attr_t a;
	pthread_t t;
	size_t idx;
	void *res, *v;
	int i, mode;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_attr_setspin(&a, 0), 0);
	for (mode = 0; mode < 4; mode++) {
		c.timed = mode & 1;
		c.close_in_cleanup = mode < 2;
		c.closed = 0;
		atomic_init(&c.started, 0);
		for (i = 0; i < 4; i++)
			ck_assert_int_eq(once_channel(&tx[i], &c.rx[i], &a), 0);
		ck_assert_int_eq(pthread_create(&t, NULL, cancel_target, &c),
				 0);
		while (!atomic_load(&c.started))
			sched_yield();
		usleep(20000);
		ck_assert_int_eq(pthread_cancel(t), 0);
		ck_assert_int_eq(pthread_join(t, &res), 0);
		ck_assert_ptr_eq(res, PTHREAD_CANCELED);
		if (c.close_in_cleanup) {
			ck_assert_int_eq(c.closed, 4);
			for (i = 0; i < 4; i++)
				ck_assert_int_eq(once_send(&tx[i], &x[i]),
						 EPIPE);
		} else {
			for (i = 0; i < 4; i++)
				ck_assert_int_eq(once_receiver_ready(&c.rx[i]),
						 0);
			ck_assert_int_eq(once_send(&tx[3], &x[3]), 0);
			ck_assert_int_eq(once_recv_any(c.rx, 4, &idx, &v,
					 CLOCK_MONOTONIC, NULL), 0);
			ck_assert_uint_eq(idx, 3);
			ck_assert_ptr_eq(v, &x[3]);
			ck_assert_int_eq(once_tryrecv(&c.rx[0], &v), EAGAIN);
			ck_assert_int_eq(once_send(&tx[0], &x[0]), 0);
			ck_assert_int_eq(once_recv(&c.rx[0], &v), 0);
			ck_assert_int_eq(once_receiver_close(&c.rx[1]), 0);
			ck_assert_int_eq(once_send(&tx[1], &x[1]), EPIPE);
			ck_assert_int_eq(once_sender_close(&tx[2]), 0);
			ck_assert_int_eq(once_receiver_close(&c.rx[2]), 0);
		}
		ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
	}
}
END_TEST

#ifdef ONCE_TEST_HOOKS
/*
 * The hooks: each tcase tells the library which way to sleep; a test may
 * arm an action for one point, which runs once, as the peer would act at
 * that instant.
 */
typedef void hook_action(once_event_t *ev);
static _Atomic enum once__hook_point armed_point;
static hook_action *_Atomic armed_action;
static atomic_int fired, waitv_sleeps, slice_sleeps;

static void
hook(enum once__hook_point point, once_event_t *ev)
{
	hook_action *action;

	if (point == ONCE__HOOK_ANY_WAITV)
		atomic_fetch_add(&waitv_sleeps, 1);
	if (point == ONCE__HOOK_ANY_SLICE)
		atomic_fetch_add(&slice_sleeps, 1);
	if (point != atomic_load(&armed_point))
		return;
	if (!(action = atomic_exchange(&armed_action, NULL)))
		return;
	atomic_fetch_add(&fired, 1);
	action(ev);
}

static void
arm(enum once__hook_point point, hook_action *action)
{
	atomic_store(&armed_point, point);
	atomic_store(&fired, 0);
	atomic_store(&armed_action, action);
}

/* Does this kernel (or valgrind, which refuses it) run futex_waitv? */
static int
kernel_has_waitv(void)
{
	return syscall(SYS_futex_waitv, NULL, 0, 0, NULL, 0) < 0 &&
	       errno != ENOSYS && errno != EPERM;
}

/* The point at which the call has announced and is about to sleep. */
static enum once__hook_point
sleep_point(void)
{
	return once__test_no_waitv || !kernel_has_waitv() ?
	       ONCE__HOOK_ANY_SLICE : ONCE__HOOK_ANY_WAITV;
}

static void
use_waitv(void)
{
	once__test_hook = hook;
	once__test_no_waitv = 0;
}

static void
use_fallback(void)
{
	once__test_hook = hook;
	once__test_no_waitv = 1;
}

static int peer_entry, peer_entry2, peer_close;

static void
peer_acts(once_event_t *ev)
{
	(void)ev;
	if (peer_close)
		once_sender_close(&set.tx[peer_entry]);
	else
		once_send(&set.tx[peer_entry], &x[peer_entry]);
	if (peer_entry2 >= 0)
		once_send(&set.tx[peer_entry2], &x[peer_entry2]);
}

/*
 * Verify that the sleep takes the path the tcase chose: futex_waitv where
 * the kernel has it, the fallback's slices where it is forced or missing
 * (valgrind refuses futex_waitv: one try, then slices). A value for the
 * last entry, 20 ms late, keeps the call asleep for several slices.
 */
START_TEST(test_any_hook_sleep_path)
{
	struct late l;
	pthread_t t;
	size_t idx;
	void *v;

	set_bind(&set, 4, &spin0);
	atomic_store(&waitv_sleeps, 0);
	atomic_store(&slice_sleeps, 0);
	late_start(&t, &l, &set.tx[3], 20000, &x[3], 0);
	ck_assert_int_eq(once_recv_any(set.rx, 4, &idx, &v, CLOCK_MONOTONIC,
				       NULL), 0);
	ck_assert_uint_eq(idx, 3);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	if (sleep_point() == ONCE__HOOK_ANY_WAITV) {
		ck_assert_int_ge(atomic_load(&waitv_sleeps), 1);
		ck_assert_int_eq(atomic_load(&slice_sleeps), 0);
	} else {
		ck_assert_int_ge(atomic_load(&slice_sleeps), 2);
		ck_assert_int_le(atomic_load(&waitv_sleeps),
				 once__test_no_waitv ? 0 : 1);
	}
	set_finish(&set);
}
END_TEST

/*
 * Verify that no wake-up is lost: the value or the close lands after every
 * word was announced and before the sleep, on the last entry (which the
 * fallback does not sleep on) and on the first. An untimed call must
 * return; a lost wake-up would hang it until Check's timeout.
 */
START_TEST(test_any_hook_send_between_announce_and_sleep)
{
	int k, entry;
	size_t idx;
	void *v;

	for (k = 0; k < 4; k++) {
		entry = k & 1 ? 0 : 3;
		set_bind(&set, 4, &spin0);
		peer_entry = entry;
		peer_entry2 = -1;
		peer_close = k >= 2;
		arm(sleep_point(), peer_acts);
		v = NULL;
		ck_assert_int_eq(once_recv_any(set.rx, 4, &idx, &v,
					       CLOCK_MONOTONIC, NULL),
				 peer_close ? EPIPE : 0);
		ck_assert_int_eq(atomic_load(&fired), 1);
		ck_assert_uint_eq(idx, (size_t)entry);
		if (!peer_close)
			ck_assert_ptr_eq(v, &x[entry]);
		set_finish(&set);
	}
}
END_TEST

/*
 * Verify the timeout's window: values land after the deadline passed and
 * before the announcements are taken back. The call returns the lower of
 * them, not ETIMEDOUT; the other stays complete for the next call, and
 * the rest are BOUND again.
 */
START_TEST(test_any_hook_send_inside_timeout)
{
	struct timespec ts;
	size_t idx;
	void *v;

	set_bind(&set, 4, &spin0);
	peer_entry = 3;
	peer_entry2 = 1;
	peer_close = 0;
	arm(ONCE__HOOK_ANY_TIMED_OUT, peer_acts);
	ts = deadline_in(CLOCK_MONOTONIC, 1000000);
	ck_assert_int_eq(once_recv_any(set.rx, 4, &idx, &v, CLOCK_MONOTONIC,
				       &ts), 0);
	ck_assert_int_eq(atomic_load(&fired), 1);
	ck_assert_uint_eq(idx, 1);
	ck_assert_ptr_eq(v, &x[1]);
	ck_assert_uint_eq(atomic_load(once__state(&set.ev[3])), ONCE__SENT);
	assert_pending(&set.rx[0], 0);
	assert_pending(&set.rx[2], 2);
	ts = deadline_in(CLOCK_REALTIME, 1000000);
	ck_assert_int_eq(once_recv_any(set.rx, 4, &idx, &v, CLOCK_REALTIME,
				       &ts), 0);
	ck_assert_uint_eq(idx, 3);
	ck_assert_ptr_eq(v, &x[3]);

	peer_entry = 2;
	peer_entry2 = -1;
	peer_close = 1;
	arm(ONCE__HOOK_ANY_TIMED_OUT, peer_acts);
	ts = deadline_in(CLOCK_REALTIME, 1000000);
	ck_assert_int_eq(once_recv_any(set.rx, 4, &idx, &v, CLOCK_REALTIME,
				       &ts), EPIPE);
	ck_assert_uint_eq(idx, 2);
	assert_pending(&set.rx[0], 0);
	set_finish(&set);
}
END_TEST

/*
 * Verify that a receiver cancelled in its sleep leaves its words WAITING,
 * and that the next call takes them for its own announcements and takes
 * them back: afterwards every pending word is BOUND, so senders skip
 * their wake again.
 */
START_TEST(test_any_hook_cancelled_waiting_taken_back)
{
	static struct cancelled c;
	once_sender_t tx[4];
	struct timespec ts;
	pthread_t t;
	size_t idx;
	void *v;
	int i;

	c.timed = 0;
	c.close_in_cleanup = 0;
	atomic_init(&c.started, 0);
	atomic_store(&waitv_sleeps, 0);
	atomic_store(&slice_sleeps, 0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(once_channel(&tx[i], &c.rx[i], &spin0), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, cancel_target, &c), 0);
	while (atomic_load(&waitv_sleeps) + atomic_load(&slice_sleeps) == 0)
		sched_yield();
	usleep(10000);
	ck_assert_int_eq(pthread_cancel(t), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	for (i = 0; i < 4; i++)
		ck_assert_uint_eq(atomic_load(once__state(c.rx[i].ev_)),
				  ONCE__WAITING);
	ts = deadline_in(CLOCK_MONOTONIC, 1000000);
	ck_assert_int_eq(once_recv_any(c.rx, 4, &idx, &v, CLOCK_MONOTONIC,
				       &ts), ETIMEDOUT);
	for (i = 0; i < 4; i++) {
		assert_pending(&c.rx[i], (size_t)i);
		ck_assert_int_eq(once_receiver_close(&c.rx[i]), 0);
		ck_assert_int_eq(once_sender_close(&tx[i]), 0);
	}
}
END_TEST
#endif /* ONCE_TEST_HOOKS */

/* Before any test runs: Check's assertions are not available yet. */
static void
make_attrs(void)
{
	if (once_attr_init(&spin0) || once_attr_setspin(&spin0, 0) ||
	    once_attr_init(&spin_default))
		abort();
}

static TCase *
any_tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_any_einval_arguments);
	tcase_add_test(tc, test_any_einval_no_live_entry);
	tcase_add_test(tc, test_any_einval_stale_entry);
	tcase_add_test(tc, test_any_enotsup_pshared_entry);
	tcase_add_test(tc, test_any_lowest_index_first);
	tcase_add_test(tc, test_any_value_arrives_later);
	tcase_add_test(tc, test_any_sender_close_epipe);
	tcase_add_test(tc, test_any_timeout_all_usable);
	tcase_add_test(tc, test_any_max_deadline_waits);
	tcase_add_test(tc, test_any_cleared_entries_skipped);
	tcase_add_test(tc, test_any_ebusy_callback);
	tcase_add_test(tc, test_any_null_value_runs_dtor);
	tcase_add_test(tc, test_any_128_receivers);
	tcase_add_test(tc, test_any_every_storage_kind);
	tcase_add_test(tc, test_any_race_every_value_once);
	tcase_add_test(tc, test_any_no_eintr_signal_storm);
	tcase_add_test(tc, test_any_cancellation_point);
#ifdef ONCE_TEST_HOOKS
	tcase_add_test(tc, test_any_hook_sleep_path);
	tcase_add_test(tc, test_any_hook_send_between_announce_and_sleep);
	tcase_add_test(tc, test_any_hook_send_inside_timeout);
	tcase_add_test(tc, test_any_hook_cancelled_waiting_taken_back);
#endif
	return tc;
}

int
main(void)
{
	Suite *s = suite_create("any");
	TCase *tc;

	make_attrs();
#ifdef ONCE_TEST_HOOKS
	/*
	 * Unchecked fixtures run in the parent, before the tcase's tests
	 * are forked: each tcase's tests inherit its choice of path.
	 */
	tc = any_tcase("waitv");
	tcase_add_unchecked_fixture(tc, use_waitv, NULL);
	suite_add_tcase(s, tc);
	tc = any_tcase("fallback");
	tcase_add_unchecked_fixture(tc, use_fallback, NULL);
	suite_add_tcase(s, tc);
#else
	tc = any_tcase("any");
	suite_add_tcase(s, tc);
#endif
	return run_suite(s);
}
