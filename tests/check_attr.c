/* check_attr.c - attributes: defaults, limits, errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void *
dummy_alloc(size_t size, void *ctx)
{
	(void)ctx;
	return malloc(size);
}

static void
dummy_free(void *p, size_t size, void *ctx)
{
	(void)size;
	(void)ctx;
	free(p);
}

/* Verify that every attribute function rejects a NULL attr. */
START_TEST(test_attr_null_einval)
{
	ck_assert_int_eq(once_attr_init(NULL), EINVAL);
	ck_assert_int_eq(once_attr_destroy(NULL), EINVAL);
	ck_assert_int_eq(once_attr_setdestructor(NULL, free), EINVAL);
	ck_assert_int_eq(once_attr_setspin(NULL, 0), EINVAL);
	ck_assert_int_eq(once_attr_setallocator(NULL, NULL, NULL, NULL),
			 EINVAL);
}
END_TEST

/* Verify the spin budget limit: ONCE_SPIN_MAX is accepted, one more not. */
START_TEST(test_attr_setspin_limit)
{
	once_attr_t a;

	ck_assert_int_eq(once_attr_init(&a), 0);
	ck_assert_int_eq(once_attr_setspin(&a, 0), 0);
	ck_assert_int_eq(once_attr_setspin(&a, ONCE_SPIN_MAX), 0);
	ck_assert_int_eq(once_attr_setspin(&a, ONCE_SPIN_MAX + 1), EINVAL);
	ck_assert_int_eq(once_attr_setspin(&a, ONCE_SPIN_DEFAULT), 0);
	ck_assert_int_eq(once_attr_destroy(&a), 0);
}
END_TEST

/* Verify that alloc and free must be given together. */
START_TEST(test_attr_setallocator_pairs)
{
	once_attr_t a;

	ck_assert_int_eq(once_attr_init(&a), 0);
	ck_assert_int_eq(once_attr_setallocator(&a, dummy_alloc, NULL, NULL),
			 EINVAL);
	ck_assert_int_eq(once_attr_setallocator(&a, NULL, dummy_free, NULL),
			 EINVAL);
	ck_assert_int_eq(once_attr_setallocator(&a, dummy_alloc, dummy_free,
						NULL), 0);
	ck_assert_int_eq(once_attr_setallocator(&a, NULL, NULL, NULL), 0);
	ck_assert_int_eq(once_attr_destroy(&a), 0);
}
END_TEST

/*
 * Verify that an event keeps its attributes after the attribute object
 * is destroyed and overwritten (events copy what they need at init).
 */
START_TEST(test_attr_copied_at_init)
{
	once_attr_t a;
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	long before = atomic_load(&dtor_calls);
	int x;

	attr_counting(&a, NULL);
	ck_assert_int_eq(once_event_init(&ev, &a), 0);
	ck_assert_int_eq(once_attr_destroy(&a), 0);
	memset(&a, 0xff, sizeof(a));
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_receiver_close(&rx), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &x);
}
END_TEST

/*
 * Verify that ONCE_SPIN_DEFAULT puts an attribute back to the default: an
 * attribute with spin 0, then reset, makes the same event as no attribute.
 */
START_TEST(test_attr_setspin_default_restores)
{
	once_attr_t a;
	once_event_t with_attr, without;

	ck_assert_int_eq(once_attr_init(&a), 0);
	ck_assert_int_eq(once_attr_setspin(&a, 0), 0);
	ck_assert_int_eq(once_attr_setspin(&a, ONCE_SPIN_DEFAULT), 0);
	ck_assert_int_eq(once_event_init(&with_attr, &a), 0);
	ck_assert_int_eq(once_event_init(&without, NULL), 0);
	ck_assert_mem_eq(&with_attr, &without, sizeof(without));
}
END_TEST

/* Verify that a zero spin budget still receives (it parks at once). */
START_TEST(test_attr_spin_zero_blocks_and_receives)
{
	once_attr_t a;
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	struct timespec ts;
	void *v;
	int x;

	ck_assert_int_eq(once_attr_init(&a), 0);
	ck_assert_int_eq(once_attr_setspin(&a, 0), 0);
	ck_assert_int_eq(once_event_init(&ev, &a), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	ts = deadline_in(CLOCK_MONOTONIC, 1000000);
	ck_assert_int_eq(once_clockrecv(&rx, &v, CLOCK_MONOTONIC, &ts),
			 ETIMEDOUT);
	ck_assert_int_eq(once_send(&tx, &x), 0);
	ck_assert_int_eq(once_recv(&rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("attr");
	TCase *tc = tcase_create("attr");

	tcase_add_test(tc, test_attr_null_einval);
	tcase_add_test(tc, test_attr_setspin_limit);
	tcase_add_test(tc, test_attr_setallocator_pairs);
	tcase_add_test(tc, test_attr_copied_at_init);
	tcase_add_test(tc, test_attr_setspin_default_restores);
	tcase_add_test(tc, test_attr_spin_zero_blocks_and_receives);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
