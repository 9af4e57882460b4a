/*
 * check_faults.c - allocation failure at every allocation site.
 *
 * Each scenario runs once with an allocator that never fails, to count
 * its allocations, and then once per allocation k with an allocator that
 * fails call k alone. Every call must succeed or return ENOMEM; after an
 * ENOMEM the same call, retried, must succeed (the object is still
 * usable); exactly one ENOMEM per run; and at the end nothing is left
 * allocated.
 */
#include <errno.h>
#include <string.h>

#include "testutil.h"

/* Retry f once after ENOMEM; count the ENOMEMs. */
#define TRY(enomem, call)						\
	do {								\
		int rc_ = (call);					\
		if (rc_ == ENOMEM) {					\
			(enomem)++;					\
			rc_ = (call);					\
		}							\
		ck_assert_msg(rc_ == 0, "%s returned %d", #call, rc_);	\
	} while (0)

static int
scenario_pool(once_attr_t *a)
{
	once_pool_t *pool;
	once_sender_t tx[150];
	once_receiver_t rx[150];
	void *v;
	int i, enomem = 0;

	TRY(enomem, once_pool_create(&pool, a));
	for (i = 0; i < 150; i++)
		TRY(enomem, once_pool_bind(pool, &tx[i], &rx[i]));
	for (i = 0; i < 150; i++) {
		ck_assert_int_eq(once_send(&tx[i], &rx[i]), 0);
		ck_assert_int_eq(once_recv(&rx[i], &v), 0);
	}
	ck_assert_int_eq(once_pool_trim(pool, 0), 0);
	ck_assert_int_eq(once_pool_unref(pool), 0);
	return enomem;
}

static int
scenario_local_pool(once_attr_t *a)
{
	once_local_pool_t *pool;
	once_local_sender_t tx[150];
	once_local_receiver_t rx[150];
	void *v;
	int i, enomem = 0;

	TRY(enomem, once_local_pool_create(&pool, a));
	for (i = 0; i < 150; i++)
		TRY(enomem, once_local_pool_bind(pool, &tx[i], &rx[i]));
	for (i = 0; i < 150; i++) {
		ck_assert_int_eq(once_local_send(&tx[i], &rx[i]), 0);
		ck_assert_int_eq(once_local_tryrecv(&rx[i], &v), 0);
	}
	ck_assert_int_eq(once_local_pool_trim(pool, 0), 0);
	ck_assert_int_eq(once_local_pool_unref(pool), 0);
	return enomem;
}

static int
scenario_heap(once_attr_t *a)
{
	once_event_t *ev;
	once_local_event_t *lev;
	once_sender_t tx;
	once_receiver_t rx;
	once_local_sender_t ltx;
	once_local_receiver_t lrx;
	int i, enomem = 0;

	for (i = 0; i < 3; i++) {
		TRY(enomem, once_event_create(&ev, a));
		ck_assert_int_eq(once_event_unref(ev), 0);
		TRY(enomem, once_channel(&tx, &rx, a));
		ck_assert_int_eq(once_sender_close(&tx), 0);
		ck_assert_int_eq(once_receiver_close(&rx), 0);
		TRY(enomem, once_local_event_create(&lev, a));
		ck_assert_int_eq(once_local_event_unref(lev), 0);
		TRY(enomem, once_local_channel(&ltx, &lrx, a));
		ck_assert_int_eq(once_local_sender_close(&ltx), 0);
		ck_assert_int_eq(once_local_receiver_close(&lrx), 0);
	}
	return enomem;
}

static int (*const scenarios[])(once_attr_t *) = {
	scenario_pool, scenario_local_pool, scenario_heap,
};

/* Verify every allocation site of a scenario, one failure at a time. */
START_TEST(test_faults_every_allocation_site)
{
	struct count_alloc ca;
	once_attr_t a;
	long sites, k;

	memset(&ca, 0, sizeof(ca));
	attr_counting(&a, &ca);
	ck_assert_int_eq(scenarios[_i](&a), 0);
	sites = atomic_load(&ca.calls);
	ck_assert_int_gt(sites, 2);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
	for (k = 1; k <= sites; k++) {
		memset(&ca, 0, sizeof(ca));
		atomic_store(&ca.fail_at, k);
		ck_assert_msg(scenarios[_i](&a) == 1,
			      "scenario %d: allocation %ld of %ld failing "
			      "did not give exactly one ENOMEM", _i, k, sites);
		ck_assert_msg(atomic_load(&ca.live_bytes) == 0,
			      "scenario %d: allocation %ld failing leaked %ld "
			      "bytes", _i, k, atomic_load(&ca.live_bytes));
		ck_assert_int_eq(atomic_load(&ca.allocs),
				 atomic_load(&ca.frees));
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("faults");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_faults_every_allocation_site, 0, 3);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
