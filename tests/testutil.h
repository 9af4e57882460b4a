/*
 * testutil.h - helpers shared by the Check suites: a counting allocator
 * that can be told to fail, a counting destructor, deadlines, a spin
 * barrier and a two-thread race runner.
 */
#ifndef ONCE_TESTUTIL_H
#define ONCE_TESTUTIL_H

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "once.h"

/*
 * Valgrind's thread checker drd does not see atomics: where the tests
 * synchronise through them, they tell it (make check-drd), as lib/internal.h
 * does for the library: a happens-before edge from BEFORE to the AFTER
 * that observed it, and ATOMIC for a word only accessed atomically, whose
 * plain-looking loads and stores are not a race. Client requests do
 * nothing outside valgrind.
 */
#if defined(__has_include)
#if __has_include(<valgrind/drd.h>)
#include <valgrind/drd.h>
#define TEST_HAPPENS_BEFORE(addr)	ANNOTATE_HAPPENS_BEFORE(addr)
#define TEST_HAPPENS_AFTER(addr)	ANNOTATE_HAPPENS_AFTER(addr)
#define TEST_ATOMIC(word) \
	ANNOTATE_BENIGN_RACE_SIZED(word, sizeof(*(word)), "atomic word")
#endif
#endif
#ifndef TEST_HAPPENS_BEFORE
#define TEST_HAPPENS_BEFORE(addr)	((void)0)
#define TEST_HAPPENS_AFTER(addr)	((void)0)
#define TEST_ATOMIC(word)		((void)0)
#endif

/*
 * Allocator that counts, fails every call while fail is set, and fails
 * call number fail_at alone (counting from 1; 0: none).
 */
struct count_alloc {
	atomic_long allocs;
	atomic_long frees;
	atomic_long live_bytes;
	atomic_int fail;
	atomic_long calls;
	atomic_long fail_at;
};

static inline void *
count_alloc_fn(size_t size, void *ctx)
{
	struct count_alloc *ca = ctx;
	void *p;

	if (atomic_load(&ca->fail) ||
	    atomic_fetch_add(&ca->calls, 1) + 1 == atomic_load(&ca->fail_at))
		return NULL;
	if (!(p = malloc(size)))
		return NULL;
	atomic_fetch_add(&ca->allocs, 1);
	atomic_fetch_add(&ca->live_bytes, (long)size);
	return p;
}

static inline void
count_free_fn(void *ptr, size_t size, void *ctx)
{
	struct count_alloc *ca = ctx;

	atomic_fetch_add(&ca->frees, 1);
	atomic_fetch_sub(&ca->live_bytes, (long)size);
	free(ptr);
}

/* Destructor that counts calls and remembers the last value. */
static atomic_long dtor_calls;
static void *_Atomic dtor_last;

static inline void
count_dtor(void *value)
{
	atomic_store(&dtor_last, value);
	atomic_fetch_add(&dtor_calls, 1);
}

static inline void
attr_counting(once_attr_t *attr, struct count_alloc *ca)
{
	ck_assert_int_eq(once_attr_init(attr), 0);
	ck_assert_int_eq(once_attr_setdestructor(attr, count_dtor), 0);
	if (ca)
		ck_assert_int_eq(once_attr_setallocator(attr, count_alloc_fn,
							count_free_fn, ca), 0);
}

/*
 * In a fork() child: die by SIGALRM after seconds, should the child hang
 * (Check's runner handles SIGALRM for its timeout, with a handler that
 * kills the whole test: not in the child).
 */
static inline void
child_alarm(unsigned int seconds)
{
	signal(SIGALRM, SIG_DFL);
	alarm(seconds);
}

/*
 * End a fork() child with status code by exec, not exit. Another thread
 * of the parent is not in the child: what it had allocated and not yet
 * linked is lost (memcheck and LeakSanitizer report it at the child's
 * exit), and a thread it had not joined yet is a leak to TSan. Those are
 * what fork does to any threaded program; exec checks nothing.
 */
static inline void
exit_by_exec(int code)
{
	char arg[12];

	snprintf(arg, sizeof(arg), "%d", code);
	execl("/bin/sh", "sh", "-c", "exit \"$0\"", arg, (char *)NULL);
	_exit(127);
}

/* An absolute deadline ns nanoseconds from now on clock. */
static inline struct timespec
deadline_in(clockid_t clock, long ns)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	ts.tv_sec += ns / 1000000000L;
	ts.tv_nsec += ns % 1000000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_nsec -= 1000000000L;
		ts.tv_sec++;
	}
	return ts;
}

static inline long
elapsed_ns(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000000000L +
	       (b->tv_nsec - a->tv_nsec);
}

/*
 * Spin barrier: releases its parties within nanoseconds of each other,
 * which a futex-based barrier does not, so races get real overlap. It
 * yields after a while so that a loaded machine still makes progress.
 * For drd: every arrival happens before every departure of the same
 * generation. The edge is keyed by the generation's parity, since drd
 * orders a departure after each thread's latest arrival on the key: a
 * party arrives at generation g + 2 only after all have left g, so no
 * departure is ordered after a later round's work.
 */
struct spin_barrier {
	atomic_uint count;
	atomic_uint gen;
	unsigned int parties;
};

static inline void
spin_barrier_wait(struct spin_barrier *b)
{
	unsigned int gen = atomic_load(&b->gen);
	char *key = (char *)b + (gen & 1);
	int spins = 0;

	TEST_HAPPENS_BEFORE(key);
	if (atomic_fetch_add(&b->count, 1) + 1 == b->parties) {
		atomic_store(&b->count, 0);
		atomic_fetch_add(&b->gen, 1);
		TEST_HAPPENS_AFTER(key);
		return;
	}
	while (atomic_load(&b->gen) == gen)
		if (++spins > 2000)
			sched_yield();
	TEST_HAPPENS_AFTER(key);
}

/*
 * Race runner: for each round, the calling thread runs setup, then both
 * threads leave a barrier together and run their side, then the calling
 * thread runs check. The sides get the round number.
 */
struct race {
	void (*setup)(struct race *, long round);
	void (*side_a)(struct race *, long round);	/* helper thread */
	void (*side_b)(struct race *, long round);	/* calling thread */
	void (*check)(struct race *, long round);
	long rounds;
	struct spin_barrier bar;
	void *ctx;
};

/*
 * A barrier alone lines the two sides up within ~100 ns, while the windows
 * the races must hit are a few instructions wide. Delaying each side by a
 * different few-nanosecond step every round sweeps their offset across
 * the windows, so that each is hit many times per thousand rounds.
 */
static inline void
race_jitter(long round, unsigned int salt)
{
	unsigned long h = (unsigned long)round * 2654435761u ^ salt;
	volatile unsigned int n = (unsigned int)(h >> 7) % 160;

	while (n)
		n--;
}

static inline void *
race_thread(void *arg)
{
	struct race *r = arg;
	long i;

	for (i = 0; i < r->rounds; i++) {
		spin_barrier_wait(&r->bar);
		race_jitter(i, 0x9e37u);
		r->side_a(r, i);
		spin_barrier_wait(&r->bar);
	}
	return NULL;
}

static inline long
race_rounds(void)
{
	const char *s = getenv("ONCE_TEST_ROUNDS");

	return s ? atol(s) : 10000;
}

static inline void
race_run(struct race *r)
{
	pthread_t t;
	long i;

	r->bar.parties = 2;
	atomic_init(&r->bar.count, 0);
	atomic_init(&r->bar.gen, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, race_thread, r), 0);
	for (i = 0; i < r->rounds; i++) {
		if (r->setup)
			r->setup(r, i);
		spin_barrier_wait(&r->bar);
		race_jitter(i, 0x7f4au);
		r->side_b(r, i);
		spin_barrier_wait(&r->bar);
		if (r->check)
			r->check(r, i);
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
}

/*
 * Signal storms: a thread that sends SIGUSR1 to target every 200 us until
 * stop, and a handler (install it without SA_RESTART) that counts them.
 */
static atomic_long signals_seen;

static inline void
count_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&signals_seen, 1);
}

struct storm {
	pthread_t target;
	atomic_int stop;
};

static inline void *
storm_thread(void *arg)
{
	struct storm *st = arg;

	while (!atomic_load(&st->stop)) {
		pthread_kill(st->target, SIGUSR1);
		usleep(200);
	}
	return NULL;
}

/* Run a suite; print Check's summary line; exit non-zero on failure. */
static inline int
run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* ONCE_TESTUTIL_H */
