/*
 * check_hooks.c - the state machine's narrow windows, hit every time.
 *
 * Linked with a test-only copy of the library built with ONCE_TEST_HOOKS:
 * at the named points of lib/event.c a hook lets the test act as the peer
 * at exactly that instant. Where the rule is "after this transition the
 * call touches nothing", the hook fills the event and the endpoint's own
 * storage with a poison pattern, as if the peer had freed and reused it,
 * and the test checks the pattern is intact when the call returns.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

#define POISON 0xa5

/* Atomic: the hook also runs on the other threads some tests start. */
typedef void hook_action(once_event_t *ev);
static _Atomic enum once__hook_point armed_point;
static hook_action *_Atomic armed_action;
static atomic_int fired;

static void
hook(enum once__hook_point point, once_event_t *ev)
{
	hook_action *action;

	if (point != atomic_load(&armed_point))
		return;
	/* Once: the action may re-enter libonce and pass here again. */
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

static int
poisoned(const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		if (*b++ != POISON)
			return 0;
	return 1;
}

/* The scenario: one caller-storage event, endpoints in separate records. */
static once_event_t ev;
static struct { once_sender_t tx; long pad; } req;
static struct { once_receiver_t rx; long pad; } rec;
static once_attr_t attr;
static void *got;
static int peer_rc, peer_destroy;
static long dtor_before;
static int x;

static void
setup(unsigned int spin_ns)
{
	/* Installed before any thread starts: the library reads it plainly. */
	once__test_hook = hook;
	attr_counting(&attr, NULL);
	ck_assert_int_eq(once_attr_setspin(&attr, spin_ns), 0);
	ck_assert_int_eq(once_event_init(&ev, &attr), 0);
	ck_assert_int_eq(once_event_bind(&ev, &req.tx, &rec.rx), 0);
	got = NULL;
	peer_rc = peer_destroy = -1;
	dtor_before = atomic_load(&dtor_calls);
}

static long
dtors(void)
{
	return atomic_load(&dtor_calls) - dtor_before;
}

/* The receiver's side, then the owner destroys and reuses the storage. */
static void
peer_receives_and_frees(once_event_t *e)
{
	ck_assert_ptr_eq(e, &ev);
	peer_rc = once_tryrecv(&rec.rx, &got);
	peer_destroy = once_event_destroy(&ev);
	memset(&ev, POISON, sizeof(ev));
	memset(&req, POISON, sizeof(req));
}

/* Verify that once_send touches nothing after publishing SENT. */
START_TEST(test_hook_send_published_touches_nothing)
{
	setup(0);
	arm(ONCE__HOOK_SEND_PUBLISHED, peer_receives_and_frees);
	ck_assert_int_eq(once_send(&req.tx, &x), 0);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(peer_rc, 0);
	ck_assert_ptr_eq(got, &x);
	ck_assert_int_eq(peer_destroy, 0);
	ck_assert_msg(poisoned(&ev, sizeof(ev)), "send wrote to the event");
	ck_assert_msg(poisoned(&req, sizeof(req)), "send wrote to *tx");
}
END_TEST

/* Verify that once_sender_close touches nothing after TX_CLOSED. */
START_TEST(test_hook_sender_close_published_touches_nothing)
{
	setup(0);
	arm(ONCE__HOOK_TX_CLOSE_PUBLISHED, peer_receives_and_frees);
	ck_assert_int_eq(once_sender_close(&req.tx), 0);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(peer_rc, EPIPE);
	ck_assert_int_eq(peer_destroy, 0);
	ck_assert_msg(poisoned(&ev, sizeof(ev)), "close wrote to the event");
	ck_assert_msg(poisoned(&req, sizeof(req)), "close wrote to *tx");
}
END_TEST

static void
peer_sends_and_frees(once_event_t *e)
{
	(void)e;
	peer_rc = once_send(&req.tx, &x);
	peer_destroy = once_event_destroy(&ev);
	memset(&ev, POISON, sizeof(ev));
	memset(&rec, POISON, sizeof(rec));
}

/* Verify that once_receiver_close touches nothing after RX_CLOSED. */
START_TEST(test_hook_receiver_close_published_touches_nothing)
{
	setup(0);
	arm(ONCE__HOOK_RX_CLOSE_PUBLISHED, peer_sends_and_frees);
	ck_assert_int_eq(once_receiver_close(&rec.rx), 0);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(peer_rc, EPIPE);
	ck_assert_int_eq(peer_destroy, 0);
	ck_assert_int_eq(dtors(), 0);
	ck_assert_msg(poisoned(&ev, sizeof(ev)), "close wrote to the event");
	ck_assert_msg(poisoned(&rec, sizeof(rec)), "close wrote to *rx");
}
END_TEST

static void
peer_sends(once_event_t *e)
{
	(void)e;
	peer_rc = once_send(&req.tx, &x);
}

static void
peer_closes_sender(once_event_t *e)
{
	(void)e;
	peer_rc = once_sender_close(&req.tx);
}

static void
peer_closes_receiver(once_event_t *e)
{
	(void)e;
	peer_rc = once_receiver_close(&rec.rx);
}

/*
 * Verify seed race 1 deterministically: the value arrives between the
 * receiver close's load and its CAS. The close must notice and hand the
 * value to the destructor; it is neither lost nor returned.
 */
START_TEST(test_hook_seed1_send_lands_inside_receiver_close)
{
	setup(0);
	arm(ONCE__HOOK_RX_CLOSE_LOADED, peer_sends);
	ck_assert_int_eq(once_receiver_close(&rec.rx), 0);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(peer_rc, 0);
	ck_assert_int_eq(dtors(), 1);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &x);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify the mirror window: the receiver closes between send's load and
 * its CAS. The send is EPIPE and the value stays with the caller.
 */
START_TEST(test_hook_receiver_close_lands_inside_send)
{
	setup(0);
	arm(ONCE__HOOK_SEND_LOADED, peer_closes_receiver);
	ck_assert_int_eq(once_send(&req.tx, &x), EPIPE);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(peer_rc, 0);
	ck_assert_int_eq(dtors(), 0);
	ck_assert_ptr_null(req.tx.ev_);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/* Verify both closes crossing: the event is released once, by the sender. */
START_TEST(test_hook_receiver_close_lands_inside_sender_close)
{
	setup(0);
	arm(ONCE__HOOK_TX_CLOSE_LOADED, peer_closes_receiver);
	ck_assert_int_eq(once_sender_close(&req.tx), 0);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(peer_rc, 0);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify that no wake-up is lost: the value (or the close) lands after the
 * receiver announced its sleep and before it calls FUTEX_WAIT. The
 * untimed receive must return; a lost wake-up hangs it until Check's
 * timeout fails the test.
 */
START_TEST(test_hook_send_lands_between_announce_and_sleep)
{
	setup(0);
	arm(ONCE__HOOK_WAIT_ANNOUNCED, peer_sends);
	ck_assert_int_eq(once_recv(&rec.rx, &got), 0);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(peer_rc, 0);
	ck_assert_ptr_eq(got, &x);
	ck_assert_int_eq(once_event_destroy(&ev), 0);

	setup(0);
	arm(ONCE__HOOK_WAIT_ANNOUNCED, peer_closes_sender);
	ck_assert_int_eq(once_recv(&rec.rx, &got), EPIPE);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(peer_rc, 0);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify seed race 4 deterministically: the value lands after the futex
 * timed out and before the receiver takes its announcement back. The
 * receive returns the value, not ETIMEDOUT, and nothing is left behind.
 */
/*
 * A timed receive that sleeps until a deadline 1 ms away, however long
 * the machine takes to get there: a receive that finds its deadline
 * passed before it announces returns ETIMEDOUT without sleeping (and
 * without reaching the hook), and is made again.
 */
static int
recv_until_hook(clockid_t clock)
{
	struct timespec ts;
	int err;

	do {
		ts = deadline_in(clock, 1000000);
		err = once_clockrecv(&rec.rx, &got, clock, &ts);
	} while (err == ETIMEDOUT && atomic_load(&fired) == 0);
	return err;
}

START_TEST(test_hook_seed4_send_lands_inside_timeout)
{
	setup(0);
	arm(ONCE__HOOK_WAIT_TIMED_OUT, peer_sends);
	ck_assert_int_eq(recv_until_hook(CLOCK_MONOTONIC), 0);
	ck_assert_int_eq(fired, 1);
	ck_assert_ptr_eq(got, &x);
	ck_assert_int_eq(dtors(), 0);
	ck_assert_int_eq(once_event_destroy(&ev), 0);

	setup(0);
	arm(ONCE__HOOK_WAIT_TIMED_OUT, peer_closes_sender);
	ck_assert_int_eq(recv_until_hook(CLOCK_REALTIME), EPIPE);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify that a timed receive whose deadline has passed returns ETIMEDOUT
 * without announcing a sleep (no futex call, nothing for the next send
 * to wake), with and without a spin, on both clocks, and that the event
 * is still whole: the value sent afterwards is received.
 */
START_TEST(test_hook_passed_deadline_does_not_announce)
{
	struct timespec ts;
	int spin, clk;

	for (spin = 0; spin < 2; spin++) {
		for (clk = 0; clk < 2; clk++) {
			clockid_t clock = clk ? CLOCK_REALTIME :
					  CLOCK_MONOTONIC;

			setup(spin ? 5000 : 0);
			arm(ONCE__HOOK_WAIT_ANNOUNCED, peer_sends);
			ts = deadline_in(clock, 0);
			ck_assert_int_eq(once_clockrecv(&rec.rx, &got, clock,
							&ts), ETIMEDOUT);
			ts.tv_sec = ts.tv_nsec = 0;
			ck_assert_int_eq(once_clockrecv(&rec.rx, &got, clock,
							&ts), ETIMEDOUT);
			ck_assert_int_eq(fired, 0);
			ck_assert_int_eq(atomic_load(once__state(&ev)),
					 ONCE__BOUND);
			arm(ONCE__HOOK_WAIT_ANNOUNCED, NULL);	/* disarm */
			ck_assert_int_eq(once_send(&req.tx, &x), 0);
			ck_assert_int_eq(once_clockrecv(&rec.rx, &got, clock,
							&ts), 0);
			ck_assert_ptr_eq(got, &x);
			ck_assert_int_eq(once_event_destroy(&ev), 0);
		}
	}
}
END_TEST

/*
 * Verify seed race 2: a receiver that timed out and then closes, with the
 * value landing inside the close, hands it to the destructor.
 */
START_TEST(test_hook_seed2_send_lands_inside_close_after_timeout)
{
	struct timespec ts;

	setup(0);
	ts = deadline_in(CLOCK_MONOTONIC, 1000000);
	ck_assert_int_eq(once_clockrecv(&rec.rx, &got, CLOCK_MONOTONIC, &ts),
			 ETIMEDOUT);
	arm(ONCE__HOOK_RX_CLOSE_LOADED, peer_sends);
	ck_assert_int_eq(once_receiver_close(&rec.rx), 0);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(peer_rc, 0);
	ck_assert_int_eq(dtors(), 1);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/*
 * The wake path: a receiver sleeps on another thread; the sender's hook,
 * right after SENT is published, lets the receiver finish (it times out,
 * finds SENT and takes the value), destroys and poisons the storage. The
 * sender's FUTEX_WAKE then lands on poisoned memory, and nothing else.
 */
static pthread_t sleeper;
static int sleeper_rc;

static void *
sleeper_thread(void *arg)
{
	struct timespec ts = deadline_in(CLOCK_MONOTONIC, 100000000L);

	(void)arg;
	sleeper_rc = once_clockrecv(&rec.rx, &got, CLOCK_MONOTONIC, &ts);
	return NULL;
}

static void
peer_finishes_sleeping_receive(once_event_t *e)
{
	(void)e;
	ck_assert_int_eq(pthread_join(sleeper, NULL), 0);
	peer_destroy = once_event_destroy(&ev);
	memset(&ev, POISON, sizeof(ev));
	memset(&req, POISON, sizeof(req));
}

/* Verify that a send that owes a wake touches nothing but the wake. */
START_TEST(test_hook_send_to_sleeper_touches_nothing)
{
	setup(0);
	ck_assert_int_eq(pthread_create(&sleeper, NULL, sleeper_thread, NULL),
			 0);
	while (atomic_load(once__state(&ev)) != ONCE__WAITING)
		sched_yield();
	arm(ONCE__HOOK_SEND_PUBLISHED, peer_finishes_sleeping_receive);
	ck_assert_int_eq(once_send(&req.tx, &x), 0);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(sleeper_rc, 0);
	ck_assert_ptr_eq(got, &x);
	ck_assert_int_eq(peer_destroy, 0);
	ck_assert_msg(poisoned(&ev, sizeof(ev)), "send wrote to the event");
	ck_assert_msg(poisoned(&req, sizeof(req)), "send wrote to *tx");
}
END_TEST

/* Callbacks: the sender and the closer copy them out before publishing. */
static atomic_int cb_calls;
static void *cb_arg;

static void
count_cb(void *arg)
{
	cb_arg = arg;
	atomic_fetch_add(&cb_calls, 1);
}

/*
 * Verify that a send with a callback pending reads the callback before it
 * publishes SENT: the peer takes the value, destroys and poisons the event
 * right after, and the original callback still runs, once, with its arg.
 */
START_TEST(test_hook_send_reads_callback_before_publishing)
{
	setup(0);
	atomic_store(&cb_calls, 0);
	ck_assert_int_eq(once_receiver_notify(&rec.rx, count_cb, &ev), 0);
	arm(ONCE__HOOK_SEND_PUBLISHED, peer_receives_and_frees);
	ck_assert_int_eq(once_send(&req.tx, &x), 0);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(peer_rc, 0);
	ck_assert_int_eq(atomic_load(&cb_calls), 1);
	ck_assert_ptr_eq(cb_arg, &ev);
	ck_assert_msg(poisoned(&ev, sizeof(ev)), "send wrote to the event");
}
END_TEST

/*
 * Verify the same for a receiver close that runs the pending callback: the
 * peer's send (EPIPE) releases the event, which is then destroyed.
 */
START_TEST(test_hook_close_reads_callback_before_publishing)
{
	setup(0);
	atomic_store(&cb_calls, 0);
	ck_assert_int_eq(once_receiver_notify(&rec.rx, count_cb, &ev), 0);
	arm(ONCE__HOOK_RX_CLOSE_PUBLISHED, peer_sends_and_frees);
	ck_assert_int_eq(once_receiver_close(&rec.rx), 0);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(peer_rc, EPIPE);
	ck_assert_int_eq(peer_destroy, 0);
	ck_assert_int_eq(atomic_load(&cb_calls), 1);
	ck_assert_ptr_eq(cb_arg, &ev);
	ck_assert_msg(poisoned(&ev, sizeof(ev)), "close wrote to the event");
	ck_assert_msg(poisoned(&rec, sizeof(rec)), "close wrote to *rx");
}
END_TEST

static int locked_ready, locked_try;

static void
peer_polls(once_event_t *e)
{
	void *v;

	(void)e;
	locked_ready = once_receiver_ready(&rec.rx);
	locked_try = once_tryrecv(&rec.rx, &v);
}

/*
 * Verify seed race 7 deterministically: while the sender holds the event
 * with the value written but not yet published, the receiver is not ready
 * and tryrecv is EAGAIN; right after, both see the value.
 */
START_TEST(test_hook_seed7_not_ready_inside_send)
{
	void *v;

	setup(0);
	arm(ONCE__HOOK_TX_LOCKED, peer_polls);
	ck_assert_int_eq(once_send(&req.tx, &x), 0);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(locked_ready, 0);
	ck_assert_int_eq(locked_try, EAGAIN);
	ck_assert_int_eq(once_receiver_ready(&rec.rx), 1);
	ck_assert_int_eq(once_tryrecv(&rec.rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/*
 * The fork gate (pool.c): a thread holds a pool's lock, in the hook, for
 * 100 ms, while another forks. fork() must wait until the section is
 * over, or the child inherits the lock held and its first call that
 * takes it hangs until the alarm kills it.
 */
static atomic_int in_section;

static void
pool_section_sleeps(once_event_t *e)
{
	struct timespec ts = { 0, 100000000L };

	(void)e;
	atomic_store(&in_section, 1);
	nanosleep(&ts, NULL);
}

static void *
pool_stats_thread(void *arg)
{
	struct once_pool_stats st;

	return (void *)(intptr_t)once_pool_stats(arg, &st);
}

START_TEST(test_hook_fork_waits_for_pool_section)
{
	struct once_pool_stats st;
	once_pool_t pool;
	pthread_t t;
	pid_t pid;
	void *rc;
	int status;

	once__test_hook = hook;
	atomic_store(&in_section, 0);
	ck_assert_int_eq(once_pool_init(&pool, NULL), 0);
	arm(ONCE__HOOK_POOL_LOCKED, pool_section_sleeps);
	ck_assert_int_eq(pthread_create(&t, NULL, pool_stats_thread, &pool),
			 0);
	while (!atomic_load(&in_section))
		sched_yield();
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		child_alarm(10);
		exit_by_exec(once_pool_stats(&pool, &st) != 0 ||
			     once_pool_trim(&pool, 0) != 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child: status %#x (SIGALRM is 14: the lock was held)",
		      status);
	ck_assert_int_eq(pthread_join(t, &rc), 0);
	ck_assert_ptr_null(rc);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(once_pool_destroy(&pool), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hooks");
	TCase *tc = tcase_create("hooks");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_hook_send_published_touches_nothing);
	tcase_add_test(tc, test_hook_sender_close_published_touches_nothing);
	tcase_add_test(tc, test_hook_receiver_close_published_touches_nothing);
	tcase_add_test(tc, test_hook_seed1_send_lands_inside_receiver_close);
	tcase_add_test(tc, test_hook_receiver_close_lands_inside_send);
	tcase_add_test(tc, test_hook_receiver_close_lands_inside_sender_close);
	tcase_add_test(tc, test_hook_send_lands_between_announce_and_sleep);
	tcase_add_test(tc, test_hook_seed4_send_lands_inside_timeout);
	tcase_add_test(tc, test_hook_passed_deadline_does_not_announce);
	tcase_add_test(tc,
		       test_hook_seed2_send_lands_inside_close_after_timeout);
	tcase_add_test(tc, test_hook_send_to_sleeper_touches_nothing);
	tcase_add_test(tc, test_hook_send_reads_callback_before_publishing);
	tcase_add_test(tc, test_hook_close_reads_callback_before_publishing);
	tcase_add_test(tc, test_hook_seed7_not_ready_inside_send);
	tcase_add_test(tc, test_hook_fork_waits_for_pool_section);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
