/*
 * check_pshared.c - process-shared events: the attribute and what refuses
 * it, attach, round trips between processes (fork, and shm_open mapped
 * twice), a peer that dies, and another process that writes garbage into
 * the event, word by word (a fuzzer) or frozen in one pattern.
 *
 * Child processes never call Check: they report through their exit
 * status (0: fine; anything else names the step that failed). They die
 * with the test (PR_SET_PDEATHSIG) if Check's timeout kills it.
 *
 * Every garbled event sits at the very start or the very end of a shared
 * page between two PROT_NONE pages, so that a read or write outside its
 * 32 bytes (a heap header before it, a pool slot's generation after it)
 * faults instead of passing unnoticed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* How long a shared call waits for LOCKED to end (lib/internal.h). */
#define LOCKED_LIMIT_MS	1000L

/* The 32-bit words of an event, as another process sees them. */
enum { W_STATE, W_FLAGS, W_VALUE, W_VALUE_HI, W_DTOR, W_DTOR_HI,
       W_NOTIFY, W_NOTIFY_HI, W_COUNT };

/* Values that include/once-inline.h gives the words (white box). */
#define ST_BOUND	1u
#define ST_WAITING	2u
#define ST_SENT		3u
#define ST_NOTIFY	7u
#define ST_LOCKED	8u
#define FL_HEAP		0x1u
#define FL_POOL		0x2u
#define FL_SPIN		0x4u
#define FL_PSHARED	0x8u

_Static_assert(sizeof(once_event_t) == W_COUNT * sizeof(uint32_t),
	       "the word map assumes a 64-bit once_event_t of 32 bytes");

static long
page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* A page of MAP_SHARED memory between two PROT_NONE pages. */
static char *
guarded_page(void)
{
	long ps = page_size();
	char *m = mmap(NULL, 3 * ps, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(m, MAP_FAILED);
	ck_assert_int_eq(mprotect(m, ps, PROT_NONE), 0);
	ck_assert_int_eq(mprotect(m + 2 * ps, ps, PROT_NONE), 0);
	return m + ps;
}

static void
unmap_guarded(char *page)
{
	ck_assert_int_eq(munmap(page - page_size(), 3 * page_size()), 0);
}

/* The event that begins the page (where = 0) or ends it (where = 1). */
static once_event_t *
edge_event(char *page, int where)
{
	return (once_event_t *)(void *)(where ? page + page_size() -
					sizeof(once_event_t) : page);
}

static void *
shared_map(size_t size)
{
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(m, MAP_FAILED);
	return m;
}

static void
attr_shared(once_attr_t *a, unsigned int spin_ns)
{
	ck_assert_int_eq(once_attr_init(a), 0);
	ck_assert_int_eq(once_attr_setpshared(a, ONCE_PROCESS_SHARED), 0);
	ck_assert_int_eq(once_attr_setspin(a, spin_ns), 0);
}

/* Run fn(arg) in a child process that dies with the test. */
static pid_t
spawn(int (*fn)(void *), void *arg)
{
	pid_t parent = getpid(), pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(99);
		alarm(300);	/* a backstop for the backstop */
		_exit(fn(arg));
	}
	return pid;
}

/* A child's exit status, or 128 + the signal that killed it. */
static int
reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static struct timespec
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t1 = mono_now();

	return elapsed_ns(t0, &t1) / 1000000L;
}

static void
store_word(once_event_t *ev, int i, uint32_t v)
{
	__atomic_store_n((uint32_t *)(void *)ev + i, v, __ATOMIC_RELAXED);
}

static void
futex_wake_all(once_event_t *ev)
{
	syscall(SYS_futex, (uint32_t *)(void *)ev, FUTEX_WAKE, INT_MAX, NULL,
		NULL, 0);
}

/* Another process writes these words of ev, once, and exits. */
struct garble {
	once_event_t *ev;
	int n;
	int idx[W_COUNT];
	uint32_t val[W_COUNT];
};

static int
garble_child(void *arg)
{
	struct garble *g = arg;
	int i;

	for (i = 0; i < g->n; i++)
		store_word(g->ev, g->idx[i], g->val[i]);
	return 0;
}

static void
garble(struct garble *g)
{
	ck_assert_int_eq(reap(spawn(garble_child, g)), 0);
}

static atomic_int notify_calls;

static void
never_called(void *arg)
{
	(void)arg;
	atomic_fetch_add(&notify_calls, 1);
}

/* A value that is no pointer in any process: it travels bit for bit. */
#define BITS	((void *)(uintptr_t)0x5a5aa5a5c3c33c3cull)

/* Verify setpshared's arguments: NULL attr and unknown values are EINVAL. */
START_TEST(test_pshared_attr_setpshared_einval)
{
	once_attr_t a;

	ck_assert_int_eq(once_attr_setpshared(NULL, ONCE_PROCESS_SHARED),
			 EINVAL);
	ck_assert_int_eq(once_attr_init(&a), 0);
	ck_assert_int_eq(once_attr_setpshared(&a, 2), EINVAL);
	ck_assert_int_eq(once_attr_setpshared(&a, -1), EINVAL);
	ck_assert_int_eq(once_attr_setpshared(&a, INT_MAX), EINVAL);
	ck_assert_int_eq(once_attr_setpshared(&a, ONCE_PROCESS_SHARED), 0);
	ck_assert_int_eq(once_attr_setpshared(&a, ONCE_PROCESS_PRIVATE), 0);
	ck_assert_int_eq(once_attr_destroy(&a), 0);
}
END_TEST

/*
 * Verify that ONCE_PROCESS_PRIVATE undoes ONCE_PROCESS_SHARED: the event
 * made is the default one, byte for byte.
 */
START_TEST(test_pshared_attr_private_restores_default)
{
	once_attr_t a;
	once_event_t with_attr, without;

	ck_assert_int_eq(once_attr_init(&a), 0);
	ck_assert_int_eq(once_attr_setpshared(&a, ONCE_PROCESS_SHARED), 0);
	ck_assert_int_eq(once_attr_setpshared(&a, ONCE_PROCESS_PRIVATE), 0);
	ck_assert_int_eq(once_event_init(&with_attr, &a), 0);
	ck_assert_int_eq(once_event_init(&without, NULL), 0);
	ck_assert_mem_eq(&with_attr, &without, sizeof(without));
}
END_TEST

/*
 * Verify that init refuses a shared attribute with a destructor, in
 * either order of setting them, and leaves the storage untouched.
 */
START_TEST(test_pshared_init_refuses_destructor)
{
	once_attr_t a;
	once_event_t ev, before;
	int order;

	for (order = 0; order < 2; order++) {
		ck_assert_int_eq(once_attr_init(&a), 0);
		if (order)
			ck_assert_int_eq(once_attr_setdestructor(&a, free), 0);
		ck_assert_int_eq(once_attr_setpshared(&a,
						      ONCE_PROCESS_SHARED), 0);
		if (!order)
			ck_assert_int_eq(once_attr_setdestructor(&a, free), 0);
		memset(&ev, 0xab, sizeof(ev));
		before = ev;
		ck_assert_int_eq(once_event_init(&ev, &a), EINVAL);
		ck_assert_mem_eq(&ev, &before, sizeof(ev));
		ck_assert_int_eq(once_attr_setdestructor(&a, NULL), 0);
		ck_assert_int_eq(once_event_init(&ev, &a), 0);
		ck_assert_int_eq(once_event_destroy(&ev), 0);
	}
}
END_TEST

/*
 * Verify that heap events, channels, pools and the single-threaded twins
 * refuse a shared attribute with EINVAL, allocating nothing.
 */
START_TEST(test_pshared_other_storage_refuses)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_event_t *hev = NULL;
	once_sender_t tx;
	once_receiver_t rx;
	once_pool_t pool, *hpool = NULL;
	once_local_event_t lev, *hlev = NULL;
	once_local_sender_t ltx;
	once_local_receiver_t lrx;
	once_local_pool_t lpool, *hlpool = NULL;

	attr_shared(&a, ONCE_SPIN_DEFAULT);
	ck_assert_int_eq(once_attr_setallocator(&a, count_alloc_fn,
						count_free_fn, &ca), 0);
	ck_assert_int_eq(once_event_create(&hev, &a), EINVAL);
	ck_assert_int_eq(once_channel(&tx, &rx, &a), EINVAL);
	ck_assert_int_eq(once_pool_init(&pool, &a), EINVAL);
	ck_assert_int_eq(once_pool_create(&hpool, &a), EINVAL);
	ck_assert_int_eq(once_local_event_init(&lev, &a), EINVAL);
	ck_assert_int_eq(once_local_event_create(&hlev, &a), EINVAL);
	ck_assert_int_eq(once_local_channel(&ltx, &lrx, &a), EINVAL);
	ck_assert_int_eq(once_local_pool_init(&lpool, &a), EINVAL);
	ck_assert_int_eq(once_local_pool_create(&hlpool, &a), EINVAL);
	ck_assert_ptr_null(hev);
	ck_assert_ptr_null(hpool);
	ck_assert_ptr_null(hlev);
	ck_assert_ptr_null(hlpool);
	ck_assert_int_eq(atomic_load(&ca.calls), 0);
}
END_TEST

/* Verify attach's argument checks, and that it refuses private events. */
START_TEST(test_pshared_attach_einval)
{
	once_attr_t a;
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;

	ck_assert_int_eq(once_event_attach(NULL, &tx, &rx), EINVAL);
	attr_shared(&a, ONCE_SPIN_DEFAULT);
	ck_assert_int_eq(once_event_init(&ev, &a), 0);
	ck_assert_int_eq(once_event_attach(&ev, NULL, NULL), EINVAL);
	ck_assert_int_eq(once_event_attach(&ev, &tx, (once_receiver_t *)&tx),
			 EINVAL);
	/* Private events, the all-zero one included, are not attached. */
	ck_assert_int_eq(once_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_event_attach(&ev, &tx, &rx), EINVAL);
	memset(&ev, 0, sizeof(ev));
	ck_assert_int_eq(once_event_attach(&ev, &tx, &rx), EINVAL);
	/* A shared event whose state is garbage. */
	ck_assert_int_eq(once_event_init(&ev, &a), 0);
	store_word(&ev, W_STATE, 0xdeadbeef);
	ck_assert_int_eq(once_event_attach(&ev, &tx, &rx), EINVAL);
}
END_TEST

/*
 * Verify that attach binds an unbound shared event, and that a second
 * attach gets endpoints of that same bind: one side each, a round trip.
 */
START_TEST(test_pshared_attach_binds_then_joins)
{
	once_attr_t a;
	once_event_t ev;
	once_sender_t tx, tx2;
	once_receiver_t rx;
	void *v = NULL;

	attr_shared(&a, ONCE_SPIN_DEFAULT);
	ck_assert_int_eq(once_event_init(&ev, &a), 0);
	ck_assert_int_eq(once_event_attach(&ev, &tx, NULL), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx2, &rx), EALREADY);
	ck_assert_int_eq(once_event_destroy(&ev), EBUSY);
	ck_assert_int_eq(once_event_attach(&ev, NULL, &rx), 0);
	ck_assert_int_eq(once_tryrecv(&rx, &v), EAGAIN);
	ck_assert_int_eq(once_send(&tx, BITS), 0);
	ck_assert_int_eq(once_receiver_ready(&rx), 1);
	ck_assert_int_eq(once_recv(&rx, &v), 0);
	ck_assert_ptr_eq(v, BITS);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify that a shared event also works inside one process, through
 * bind: values, EPIPE both ways, and that an unreceived value is simply
 * dropped (there is no destructor to call).
 */
START_TEST(test_pshared_one_process_round_trips)
{
	once_attr_t a;
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	void *v = NULL;

	attr_shared(&a, 0);
	ck_assert_int_eq(once_event_init(&ev, &a), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_sender_closed(&tx), 0);
	ck_assert_int_eq(once_receiver_ready(&rx), 0);
	ck_assert_int_eq(once_tryrecv(&rx, &v), EAGAIN);
	ck_assert_int_eq(once_send(&tx, NULL), 0);
	ck_assert_int_eq(once_recv(&rx, NULL), 0);	/* dropped */
	ck_assert_int_eq(once_recv(&rx, &v), EINVAL);
	ck_assert_int_eq(once_event_destroy(&ev), 0);

	ck_assert_int_eq(once_event_init(&ev, &a), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_send(&tx, BITS), 0);
	ck_assert_int_eq(once_receiver_close(&rx), 0);	/* dropped too */
	ck_assert_int_eq(once_event_destroy(&ev), 0);

	ck_assert_int_eq(once_event_init(&ev, &a), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_receiver_close(&rx), 0);
	ck_assert_int_eq(once_sender_closed(&tx), 1);
	ck_assert_int_eq(once_send(&tx, BITS), EPIPE);
	ck_assert_int_eq(once_event_destroy(&ev), 0);

	ck_assert_int_eq(once_event_init(&ev, &a), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_sender_close(&tx), 0);
	ck_assert_int_eq(once_receiver_ready(&rx), 1);
	ck_assert_int_eq(once_recv(&rx, &v), EPIPE);
	ck_assert_int_eq(once_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify that notify is ENOTSUP on a shared event, after its argument
 * checks, and leaves the receiver usable; the callback never runs.
 */
START_TEST(test_pshared_notify_enotsup)
{
	once_attr_t a;
	once_event_t ev;
	once_sender_t tx;
	once_receiver_t rx;
	void *v = NULL;

	atomic_store(&notify_calls, 0);
	attr_shared(&a, ONCE_SPIN_DEFAULT);
	ck_assert_int_eq(once_event_init(&ev, &a), 0);
	ck_assert_int_eq(once_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_receiver_notify(&rx, NULL, NULL), EINVAL);
	ck_assert_int_eq(once_receiver_notify(&rx, never_called, NULL),
			 ENOTSUP);
	ck_assert_int_eq(once_tryrecv(&rx, &v), EAGAIN);
	ck_assert_int_eq(once_send(&tx, BITS), 0);
	ck_assert_int_eq(once_receiver_notify(&rx, never_called, NULL),
			 ENOTSUP);
	ck_assert_int_eq(once_tryrecv(&rx, &v), 0);
	ck_assert_ptr_eq(v, BITS);
	ck_assert_int_eq(once_receiver_notify(&rx, never_called, NULL),
			 EINVAL);
	ck_assert_int_eq(atomic_load(&notify_calls), 0);
}
END_TEST

/* The event, its endpoints and a delay, for the children below. */
struct peer {
	once_event_t *ev;
	once_sender_t tx;
	once_receiver_t rx;
	long delay_ms;
	void *value;
	int how;
};

static int
child_sends(void *arg)
{
	struct peer *p = arg;

	sleep_ms(p->delay_ms);
	return once_send(&p->tx, p->value) == 0 ? 0 : 1;
}

/*
 * Verify a round trip between processes: the parent waits (blocking,
 * timed on CLOCK_REALTIME, timed on CLOCK_MONOTONIC; sleeping at once
 * and after the default spin) in an mmap(MAP_SHARED | MAP_ANONYMOUS)
 * event, the child sends an integer, which arrives bit for bit.
 */
START_TEST(test_pshared_fork_child_sends)
{
	once_event_t *ev = shared_map(sizeof(*ev));
	struct peer p = { .ev = ev, .delay_ms = 30, .value = BITS };
	struct timespec ts;
	once_attr_t a;
	void *v;
	int how, spin;

	for (spin = 0; spin < 2; spin++) {
		attr_shared(&a, spin ? ONCE_SPIN_DEFAULT : 0);
		for (how = 0; how < 3; how++) {
			pid_t pid;
			int err;

			ck_assert_int_eq(once_event_init(ev, &a), 0);
			ck_assert_int_eq(once_event_bind(ev, &p.tx, &p.rx), 0);
			pid = spawn(child_sends, &p);
			v = NULL;
			if (how == 0) {
				err = once_recv(&p.rx, &v);
			} else if (how == 1) {
				ts = deadline_in(CLOCK_REALTIME, 30000000000L);
				err = once_timedrecv(&p.rx, &v, &ts);
			} else {
				ts = deadline_in(CLOCK_MONOTONIC, 30000000000L);
				err = once_clockrecv(&p.rx, &v, CLOCK_MONOTONIC,
						     &ts);
			}
			ck_assert_msg(err == 0, "spin %d, receive %d: %s",
				      spin, how, strerror(err));
			ck_assert_ptr_eq(v, BITS);
			ck_assert_int_eq(reap(pid), 0);
			ck_assert_int_eq(once_event_destroy(ev), 0);
		}
	}
	ck_assert_int_eq(munmap(ev, sizeof(*ev)), 0);
}
END_TEST

static int
child_receives(void *arg)
{
	struct peer *p = arg;
	void *v = NULL;

	if (once_recv(&p->rx, &v) != 0)
		return 1;
	return v == p->value ? 0 : 2;
}

/* Verify the reverse direction: the child waits, the parent sends. */
START_TEST(test_pshared_fork_parent_sends)
{
	once_event_t *ev = shared_map(sizeof(*ev));
	struct peer p = { .ev = ev, .value = BITS };
	once_attr_t a;
	pid_t pid;

	attr_shared(&a, 0);
	ck_assert_int_eq(once_event_init(ev, &a), 0);
	ck_assert_int_eq(once_event_bind(ev, &p.tx, &p.rx), 0);
	pid = spawn(child_receives, &p);
	sleep_ms(30);
	ck_assert_int_eq(once_send(&p.tx, BITS), 0);
	ck_assert_int_eq(reap(pid), 0);
	ck_assert_int_eq(once_event_destroy(ev), 0);
	ck_assert_int_eq(munmap(ev, sizeof(*ev)), 0);
}
END_TEST

static int
child_closes_sender(void *arg)
{
	struct peer *p = arg;

	sleep_ms(p->delay_ms);
	return once_sender_close(&p->tx) == 0 ? 0 : 1;
}

/* Verify that a child that closes its sender makes the wait EPIPE. */
START_TEST(test_pshared_fork_child_closes_sender_epipe)
{
	once_event_t *ev = shared_map(sizeof(*ev));
	struct peer p = { .ev = ev, .delay_ms = 30 };
	once_attr_t a;
	void *v = NULL;
	pid_t pid;

	attr_shared(&a, 0);
	ck_assert_int_eq(once_event_init(ev, &a), 0);
	ck_assert_int_eq(once_event_bind(ev, &p.tx, &p.rx), 0);
	pid = spawn(child_closes_sender, &p);
	ck_assert_int_eq(once_recv(&p.rx, &v), EPIPE);
	ck_assert_int_eq(once_recv(&p.rx, &v), EINVAL);
	ck_assert_int_eq(reap(pid), 0);
	ck_assert_int_eq(once_event_destroy(ev), 0);
	ck_assert_int_eq(munmap(ev, sizeof(*ev)), 0);
}
END_TEST

static int
child_closes_receiver(void *arg)
{
	struct peer *p = arg;

	return once_receiver_close(&p->rx) == 0 ? 0 : 1;
}

/* Verify that a child that closes its receiver makes the send EPIPE. */
START_TEST(test_pshared_fork_child_closes_receiver_epipe)
{
	once_event_t *ev = shared_map(sizeof(*ev));
	struct peer p = { .ev = ev };
	once_attr_t a;

	attr_shared(&a, ONCE_SPIN_DEFAULT);
	ck_assert_int_eq(once_event_init(ev, &a), 0);
	ck_assert_int_eq(once_event_bind(ev, &p.tx, &p.rx), 0);
	ck_assert_int_eq(reap(spawn(child_closes_receiver, &p)), 0);
	ck_assert_int_eq(once_sender_closed(&p.tx), 1);
	ck_assert_int_eq(once_send(&p.tx, BITS), EPIPE);
	ck_assert_int_eq(once_event_destroy(ev), 0);
	ck_assert_int_eq(munmap(ev, sizeof(*ev)), 0);
}
END_TEST

static int
child_exits(void *arg)
{
	(void)arg;
	return 0;
}

/*
 * Verify that a child that exits without sending leaves the parent's
 * timed receives to end at their deadlines with ETIMEDOUT (no earlier,
 * and not much later), the receiver usable; the event stays EBUSY, as
 * the sender is never consumed.
 */
START_TEST(test_pshared_fork_child_exits_timedrecv_etimedout)
{
	once_event_t *ev = shared_map(sizeof(*ev));
	struct peer p = { .ev = ev };
	struct timespec ts, t0, t1;
	once_attr_t a;
	void *v = NULL;
	long ns;

	attr_shared(&a, ONCE_SPIN_DEFAULT);
	ck_assert_int_eq(once_event_init(ev, &a), 0);
	ck_assert_int_eq(once_event_bind(ev, &p.tx, &p.rx), 0);
	ck_assert_int_eq(reap(spawn(child_exits, &p)), 0);

	t0 = mono_now();
	ts = deadline_in(CLOCK_MONOTONIC, 200000000L);
	ck_assert_int_eq(once_clockrecv(&p.rx, &v, CLOCK_MONOTONIC, &ts),
			 ETIMEDOUT);
	t1 = mono_now();
	ns = elapsed_ns(&t0, &t1);
	ck_assert_msg(ns >= 199000000L && ns < 5000000000L,
		      "timed out after %ld ns", ns);
	ts = deadline_in(CLOCK_REALTIME, 50000000L);
	ck_assert_int_eq(once_timedrecv(&p.rx, &v, &ts), ETIMEDOUT);
	ck_assert_int_eq(once_tryrecv(&p.rx, &v), EAGAIN);
	ck_assert_int_eq(once_receiver_close(&p.rx), 0);
	ck_assert_int_eq(once_event_destroy(ev), EBUSY);
	ck_assert_int_eq(munmap(ev, sizeof(*ev)), 0);
}
END_TEST

struct shm_peer {
	char name[64];
	size_t size;
	once_event_t *parent_ev;
};

/* Map the object again, at a new address, attach there and send. */
static int
child_attaches_and_sends(void *arg)
{
	struct shm_peer *sp = arg;
	once_sender_t tx;
	once_event_t *ev;
	void *m;
	int fd;

	if ((fd = shm_open(sp->name, O_RDWR, 0)) < 0)
		return 1;
	m = mmap(NULL, sp->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return 2;
	ev = m;
	if (ev == sp->parent_ev)	/* the point is another address */
		return 3;
	if (once_event_attach(ev, &tx, NULL) != 0)
		return 4;
	sleep_ms(20);
	if (once_send(&tx, (void *)(uintptr_t)4242) != 0)
		return 5;
	return munmap(m, sp->size) == 0 ? 0 : 6;
}

/*
 * Verify shm_open(3) use by two processes that each map the object
 * themselves, at different addresses: each attaches its own endpoint,
 * and the value crosses.
 */
START_TEST(test_pshared_shm_open_two_mappings)
{
	struct shm_peer sp = { .size = 4096 };
	struct timespec ts;
	once_receiver_t rx;
	once_attr_t a;
	void *m, *v = NULL;
	pid_t pid;
	int fd;

	snprintf(sp.name, sizeof(sp.name), "/libonce-check-%ld",
		 (long)getpid());
	fd = shm_open(sp.name, O_RDWR | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)sp.size), 0);
	m = mmap(NULL, sp.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	close(fd);
	sp.parent_ev = m;
	attr_shared(&a, 0);
	ck_assert_int_eq(once_event_init(sp.parent_ev, &a), 0);
	pid = spawn(child_attaches_and_sends, &sp);
	ck_assert_int_eq(once_event_attach(sp.parent_ev, NULL, &rx), 0);
	ts = deadline_in(CLOCK_MONOTONIC, 30000000000L);
	ck_assert_int_eq(once_clockrecv(&rx, &v, CLOCK_MONOTONIC, &ts), 0);
	ck_assert_ptr_eq(v, (void *)(uintptr_t)4242);
	ck_assert_int_eq(reap(pid), 0);
	ck_assert_int_eq(once_event_destroy(sp.parent_ev), 0);
	ck_assert_int_eq(munmap(m, sp.size), 0);
	ck_assert_int_eq(shm_unlink(sp.name), 0);
}
END_TEST

/*
 * Verify that bind, destroy and attach survive every combination of
 * state and flags (forged kinds, the shared bit, a spin budget) on an
 * event whose neighbours fault: bind touches no heap header before the
 * event, and nothing reads a pool generation after it.
 */
START_TEST(test_pshared_bind_destroy_attach_any_word)
{
	static const uint32_t states[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
					   0x7fffffffu, 0xffffffffu };
	char *page = guarded_page();
	once_sender_t tx;
	once_receiver_t rx;
	unsigned int si, f;
	int where, err;

	for (where = 0; where < 2; where++) {
		once_event_t *ev = edge_event(page, where);

		for (si = 0; si < sizeof(states) / sizeof(states[0]); si++)
			for (f = 0; f < 32; f++) {
				uint32_t flags = (f & 0xf) |
					(f & 0x10 ? 0xffffff00u : 0);

				memset(ev, 0xff, sizeof(*ev));
				store_word(ev, W_STATE, states[si]);
				store_word(ev, W_FLAGS, flags);
				err = once_event_destroy(ev);
				ck_assert_msg(err == 0 || err == EBUSY ||
					      err == EINVAL,
					      "destroy %x/%x: %d", states[si],
					      flags, err);
				err = once_event_bind(ev, &tx, &rx);
				ck_assert_msg(err == 0 || err == EALREADY ||
					      err == EINVAL,
					      "bind %x/%x: %d", states[si],
					      flags, err);
				store_word(ev, W_STATE, states[si]);
				err = once_event_attach(ev, &tx, &rx);
				ck_assert_msg(err == 0 || err == EINVAL,
					      "attach %x/%x: %d", states[si],
					      flags, err);
				if (err)
					continue;
				/* Shared endpoints: no call leaves the event. */
				ck_assert_int_le(once_sender_closed(&tx), 1);
				ck_assert_int_le(once_receiver_ready(&rx), 1);
				err = once_tryrecv(&rx, NULL);
				ck_assert_msg(err == 0 || err == EAGAIN ||
					      err == EPIPE || err == EINVAL,
					      "tryrecv %x/%x: %d", states[si],
					      flags, err);
				if (states[si] == ST_LOCKED)
					continue;	/* a second each */
				err = once_send(&tx, BITS);
				ck_assert_msg(err == 0 || err == EPIPE ||
					      err == EINVAL,
					      "send %x/%x: %d", states[si],
					      flags, err);
			}
	}
	unmap_guarded(page);
}
END_TEST

/* A fresh shared event at ev and its endpoints, made by attach. */
static void
fresh(once_event_t *ev, const once_attr_t *a, once_sender_t *tx,
      once_receiver_t *rx)
{
	ck_assert_int_eq(once_event_init(ev, a), 0);
	ck_assert_int_eq(once_event_attach(ev, tx, rx), 0);
}

/* Check one call's result and its duration (ms, inclusive bounds). */
#define EXPECT(call, want, min_ms, max_ms) do {				\
	struct timespec t0_ = mono_now();				\
	int r_ = (call);						\
	long ms_ = ms_since(&t0_);					\
									\
	ck_assert_msg(r_ == (want), "%s: %d (%s), expected %d",		\
		      #call, r_, strerror(r_), (int)(want));		\
	ck_assert_msg(ms_ >= (min_ms) && ms_ <= (max_ms),		\
		      "%s took %ld ms, expected %ld-%ld", #call, ms_,	\
		      (long)(min_ms), (long)(max_ms));			\
} while (0)

/*
 * Verify LOCKED left for ever (a process that died in mid-transition):
 * send, close and the untimed receive give up after about a second with
 * ENOTRECOVERABLE; timed receives end at their deadline with ETIMEDOUT,
 * the receiver usable; tryrecv and the queries answer at once.
 */
START_TEST(test_pshared_frozen_locked_enotrecoverable)
{
	char *page = guarded_page();
	once_event_t *ev = edge_event(page, 1);
	struct garble locked = { .ev = ev, .n = 1, .idx = { W_STATE },
				 .val = { ST_LOCKED } };
	struct timespec ts;
	once_sender_t tx;
	once_receiver_t rx;
	once_attr_t a;
	void *v;

	attr_shared(&a, ONCE_SPIN_DEFAULT);
	fresh(ev, &a, &tx, &rx);
	garble(&locked);
	EXPECT(once_send(&tx, BITS), ENOTRECOVERABLE, LOCKED_LIMIT_MS - 50,
	       LOCKED_LIMIT_MS + 3000);
	EXPECT(once_send(&tx, BITS), EINVAL, 0, 100);	/* consumed */
	fresh(ev, &a, &tx, &rx);
	garble(&locked);
	EXPECT(once_sender_close(&tx), ENOTRECOVERABLE, LOCKED_LIMIT_MS - 50,
	       LOCKED_LIMIT_MS + 3000);
	EXPECT(once_sender_closed(&tx), 1, 0, 100);
	ts = deadline_in(CLOCK_MONOTONIC, 100000000L);
	EXPECT(once_clockrecv(&rx, &v, CLOCK_MONOTONIC, &ts), ETIMEDOUT, 99,
	       LOCKED_LIMIT_MS - 100);
	ts = deadline_in(CLOCK_REALTIME, 100000000L);
	EXPECT(once_timedrecv(&rx, &v, &ts), ETIMEDOUT, 99,
	       LOCKED_LIMIT_MS - 100);
	EXPECT(once_tryrecv(&rx, &v), EAGAIN, 0, 100);
	EXPECT(once_receiver_ready(&rx), 0, 0, 100);
	EXPECT(once_receiver_notify(&rx, never_called, NULL), ENOTSUP, 0, 100);
	EXPECT(once_event_destroy(ev), EBUSY, 0, 100);
	EXPECT(once_event_bind(ev, &tx, &rx), EALREADY, 0, 100);
	EXPECT(once_recv(&rx, &v), ENOTRECOVERABLE, LOCKED_LIMIT_MS - 50,
	       LOCKED_LIMIT_MS + 3000);
	EXPECT(once_tryrecv(&rx, &v), EINVAL, 0, 100);	/* consumed */
	fresh(ev, &a, &tx, &rx);
	garble(&locked);
	EXPECT(once_receiver_close(&rx), ENOTRECOVERABLE, LOCKED_LIMIT_MS - 50,
	       LOCKED_LIMIT_MS + 3000);
	ck_assert_int_eq(atomic_load(&notify_calls), 0);
	unmap_guarded(page);
}
END_TEST

/*
 * Verify that a shared event's kind is never believed: with "pool" or
 * "heap" written over it (the event at either edge of a guarded page),
 * every call on its endpoints works as on caller storage; destroy, bind
 * and attach, which take a bare event, call it EINVAL (bind: EALREADY
 * for what looks like a bound private heap event).
 */
START_TEST(test_pshared_frozen_kind_ignored)
{
	static const uint32_t kinds[] = {
		FL_POOL, FL_HEAP, FL_POOL | FL_PSHARED, FL_HEAP | FL_PSHARED,
		FL_POOL | FL_HEAP, FL_POOL | FL_HEAP | FL_PSHARED };
	char *page = guarded_page();
	once_sender_t tx, tx2;
	once_receiver_t rx, rx2;
	once_attr_t a;
	unsigned int k;
	int where;
	void *v;

	attr_shared(&a, ONCE_SPIN_DEFAULT);
	for (where = 0; where < 2; where++)
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			once_event_t *ev = edge_event(page, where);
			struct garble g = { .ev = ev, .n = 1,
					    .idx = { W_FLAGS },
					    .val = { kinds[k] } };

			fresh(ev, &a, &tx, &rx);
			garble(&g);
			ck_assert_int_eq(once_sender_closed(&tx), 0);
			ck_assert_int_eq(once_receiver_ready(&rx), 0);
			ck_assert_int_eq(once_tryrecv(&rx, &v), EAGAIN);
			ck_assert_int_eq(once_event_destroy(ev), EINVAL);
			ck_assert_int_eq(once_event_bind(ev, &tx2, &rx2),
					 kinds[k] == FL_HEAP ? EALREADY :
					 EINVAL);
			ck_assert_int_eq(once_event_attach(ev, &tx2, &rx2),
					 EINVAL);
			ck_assert_int_eq(once_send(&tx, BITS), 0);
			ck_assert_int_eq(once_recv(&rx, &v), 0);
			ck_assert_ptr_eq(v, BITS);

			fresh(ev, &a, &tx, &rx);
			garble(&g);
			ck_assert_int_eq(once_receiver_close(&rx), 0);
			ck_assert_int_eq(once_send(&tx, BITS), EPIPE);
		}
	unmap_guarded(page);
}
END_TEST

/*
 * Verify that the destructor and callback slots are never called, and
 * NOTIFY, which a shared event never enters, is garbage: EINVAL.
 */
START_TEST(test_pshared_frozen_slots_and_notify_state)
{
	char *page = guarded_page();
	once_event_t *ev = edge_event(page, 0);
	struct garble slots = { .ev = ev, .n = 4,
		.idx = { W_DTOR, W_DTOR_HI, W_NOTIFY, W_NOTIFY_HI },
		.val = { 0x10, 0, 0x20, 0 } };
	struct garble notify = { .ev = ev, .n = 1, .idx = { W_STATE },
				 .val = { ST_NOTIFY } };
	struct timespec ts;
	once_sender_t tx;
	once_receiver_t rx;
	once_attr_t a;
	void *v = &v;

	attr_shared(&a, ONCE_SPIN_DEFAULT);
	/* Garbage slots: receiving into NULL and closing drop the value. */
	fresh(ev, &a, &tx, &rx);
	garble(&slots);
	ck_assert_int_eq(once_send(&tx, BITS), 0);
	ck_assert_int_eq(once_recv(&rx, NULL), 0);
	fresh(ev, &a, &tx, &rx);
	garble(&slots);
	ck_assert_int_eq(once_send(&tx, BITS), 0);
	ck_assert_int_eq(once_receiver_close(&rx), 0);

	/* NOTIFY, with the slots set to what would crash if called. */
	fresh(ev, &a, &tx, &rx);
	garble(&slots);
	garble(&notify);
	ck_assert_int_eq(once_sender_closed(&tx), 1);
	ck_assert_int_eq(once_receiver_ready(&rx), 1);
	ck_assert_int_eq(once_receiver_notify(&rx, never_called, NULL),
			 ENOTSUP);
	ck_assert_int_eq(once_event_destroy(ev), EBUSY);
	ck_assert_int_eq(once_send(&tx, BITS), EINVAL);
	ck_assert_int_eq(once_tryrecv(&rx, &v), EINVAL);
	fresh(ev, &a, &tx, &rx);
	garble(&notify);
	ck_assert_int_eq(once_sender_close(&tx), EINVAL);
	ck_assert_int_eq(once_recv(&rx, &v), EINVAL);
	fresh(ev, &a, &tx, &rx);
	garble(&notify);
	ts = deadline_in(CLOCK_MONOTONIC, 50000000L);
	ck_assert_int_eq(once_clockrecv(&rx, &v, CLOCK_MONOTONIC, &ts),
			 EINVAL);
	fresh(ev, &a, &tx, &rx);
	garble(&notify);
	ck_assert_int_eq(once_receiver_close(&rx), EINVAL);
	ck_assert_int_eq(atomic_load(&notify_calls), 0);
	unmap_guarded(page);
}
END_TEST

/* The child's thread CPU time and the parent's, for the spin check. */
static long
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/*
 * Verify that a spin budget written over the flags (the largest the word
 * can hold) is clamped: a timed receive still ends at its deadline, and a
 * receive that waits 300 ms for another process spends little CPU.
 */
START_TEST(test_pshared_frozen_spin_budget_clamped)
{
	char *page = guarded_page();
	once_event_t *ev = edge_event(page, 1);
	struct garble spin = { .ev = ev, .n = 1, .idx = { W_FLAGS },
			       .val = { 0xffffff00u | FL_SPIN | FL_PSHARED } };
	struct peer p = { .ev = ev, .delay_ms = 300, .value = BITS };
	struct timespec ts;
	once_attr_t a;
	long cpu;
	pid_t pid;
	void *v;

	attr_shared(&a, ONCE_SPIN_DEFAULT);
	fresh(ev, &a, &p.tx, &p.rx);
	garble(&spin);
	ts = deadline_in(CLOCK_MONOTONIC, 50000000L);
	EXPECT(once_clockrecv(&p.rx, &v, CLOCK_MONOTONIC, &ts), ETIMEDOUT, 49,
	       2000);
	pid = spawn(child_sends, &p);
	cpu = cpu_ms();
	EXPECT(once_recv(&p.rx, &v), 0, 250, 10000);
	cpu = cpu_ms() - cpu;
	ck_assert_ptr_eq(v, BITS);
	ck_assert_msg(cpu < 150, "the receive spent %ld ms of CPU", cpu);
	ck_assert_int_eq(reap(pid), 0);
	unmap_guarded(page);
}
END_TEST

/*
 * Verify a state word that is no state at all: every call on the
 * endpoints is EINVAL (and consumes them), the queries say a call would
 * return at once, destroy, bind and attach are EINVAL.
 */
START_TEST(test_pshared_frozen_garbage_state_einval)
{
	char *page = guarded_page();
	once_event_t *ev = edge_event(page, 0);
	struct garble bad = { .ev = ev, .n = 1, .idx = { W_STATE },
			      .val = { 0xdeadbeefu } };
	struct timespec ts;
	once_sender_t tx, tx2;
	once_receiver_t rx, rx2;
	once_attr_t a;
	void *v;

	attr_shared(&a, ONCE_SPIN_DEFAULT);
	fresh(ev, &a, &tx, &rx);
	garble(&bad);
	EXPECT(once_sender_closed(&tx), 1, 0, 100);
	EXPECT(once_receiver_ready(&rx), 1, 0, 100);
	EXPECT(once_receiver_notify(&rx, never_called, NULL), ENOTSUP, 0, 100);
	EXPECT(once_event_destroy(ev), EINVAL, 0, 100);
	EXPECT(once_event_bind(ev, &tx2, &rx2), EINVAL, 0, 100);
	EXPECT(once_event_attach(ev, &tx2, &rx2), EINVAL, 0, 100);
	EXPECT(once_send(&tx, BITS), EINVAL, 0, 100);
	EXPECT(once_tryrecv(&rx, &v), EINVAL, 0, 100);
	EXPECT(once_tryrecv(&rx, &v), EINVAL, 0, 100);
	fresh(ev, &a, &tx, &rx);
	garble(&bad);
	EXPECT(once_sender_close(&tx), EINVAL, 0, 100);
	EXPECT(once_recv(&rx, &v), EINVAL, 0, 100);
	fresh(ev, &a, &tx, &rx);
	garble(&bad);
	ts = deadline_in(CLOCK_REALTIME, 50000000L);
	EXPECT(once_timedrecv(&rx, &v, &ts), EINVAL, 0, 100);
	fresh(ev, &a, &tx, &rx);
	garble(&bad);
	EXPECT(once_receiver_close(&rx), EINVAL, 0, 100);
	unmap_guarded(page);
}
END_TEST

/* A writer process that keeps writing words until told to stop. */
struct writer {
	_Atomic int stop;
	_Atomic unsigned long writes;
	_Atomic unsigned long wakes;
	once_event_t *evs[2];
	int nevs;
	uint64_t seed;
	int fuzz;		/* random words; else the pattern below */
	uint32_t pattern[2];	/* state words written in turn */
};

static uint64_t
xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * A word for word i: random bits, or what the library would read as a
 * state, flags (any kind, the shared and spin bits, a budget), or the
 * extremes.
 */
static uint32_t
fuzz_word(uint64_t *x, int i)
{
	uint64_t r = xorshift(x);
	unsigned int pick = (unsigned int)(r % 100);
	uint32_t hi = (uint32_t)(r >> 32);

	if (i == W_STATE && pick < 60)
		return hi % 10;
	if (i == W_FLAGS && pick < 60)
		return (hi & 0xf) | (pick & 1 ? hi & 0xffffff00u : 0);
	if (pick < 50)
		return hi;
	if (pick < 70)
		return hi % 10;
	if (pick < 85)
		return 0;
	return pick & 1 ? 0xffffffffu : ST_LOCKED;
}

static int
writer_child(void *arg)
{
	struct writer *w = arg;
	uint64_t x = w->seed | 1;
	unsigned long n = 0;
	struct timespec pause = { 0, 0 };

	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		once_event_t *ev = w->evs[xorshift(&x) % w->nevs];
		int i;

		if (w->fuzz) {
			/* The state and the flags get half the writes. */
			i = (int)(xorshift(&x) % 16);
			i = i < 5 ? W_STATE : i < 8 ? W_FLAGS : i - 8;
			store_word(ev, i, fuzz_word(&x, i));
		} else {
			store_word(ev, W_STATE, w->pattern[n & 1]);
		}
		n++;
		/*
		 * A pattern wakes on every write: each of the receiver's
		 * sleeps then ends at once, and the thousand moves that
		 * bound its call come in milliseconds even on a loaded
		 * machine (waking every eighth, they took minutes there).
		 */
		if (!w->fuzz || n % 8 == 0) {
			futex_wake_all(ev);
			atomic_fetch_add(&w->wakes, 1);
			atomic_store_explicit(&w->writes, n,
					      memory_order_relaxed);
		}
		/*
		 * Bursts of 32 writes on average, then quiet stretches of up
		 * to 200 us, in which calls see what the burst left, or the
		 * states their own calls make.
		 */
		if (w->fuzz && xorshift(&x) % 32 == 0) {
			pause.tv_nsec = (long)(xorshift(&x) % 200000);
			nanosleep(&pause, NULL);
		} else if (n % 64 == 0) {
			sched_yield();
		}
	}
	atomic_store(&w->writes, n);
	return 0;
}

static void
writer_stop(struct writer *w, pid_t pid)
{
	atomic_store(&w->stop, 1);
	ck_assert_int_eq(reap(pid), 0);
}

/*
 * Verify a word that another process keeps moving between BOUND and
 * WAITING, as no peer moves it: the untimed receive gives up with
 * ENOTRECOVERABLE rather than chase it for ever, timed receives end by
 * their deadline, and send and close finish or give up.
 */
START_TEST(test_pshared_moving_word_bounded)
{
	char *page = guarded_page();
	once_event_t *ev = edge_event(page, 1);
	struct writer *w = shared_map(sizeof(*w));
	struct timespec ts, t0;
	once_sender_t tx;
	once_receiver_t rx;
	once_attr_t a;
	pid_t pid;
	void *v;
	int err, pat;

	attr_shared(&a, 0);
	for (pat = 0; pat < 2; pat++) {
		memset(w, 0, sizeof(*w));
		w->evs[0] = ev;
		w->nevs = 1;
		w->pattern[0] = ST_BOUND;
		w->pattern[1] = pat ? ST_WAITING : ST_BOUND;
		fresh(ev, &a, &tx, &rx);
		pid = spawn(writer_child, w);
		while (atomic_load(&w->writes) == 0)
			sched_yield();
		t0 = mono_now();
		err = once_recv(&rx, &v);
		ck_assert_msg(err == ENOTRECOVERABLE,
			      "pattern %d: recv %d after %ld ms", pat, err,
			      ms_since(&t0));
		fresh(ev, &a, &tx, &rx);
		ts = deadline_in(CLOCK_MONOTONIC, 50000000L);
		t0 = mono_now();
		err = once_clockrecv(&rx, &v, CLOCK_MONOTONIC, &ts);
		ck_assert_msg((err == ETIMEDOUT && ms_since(&t0) >= 49) ||
			      err == ENOTRECOVERABLE,
			      "pattern %d: clockrecv %d", pat, err);
		ck_assert_int_le(ms_since(&t0), 5000);
		fresh(ev, &a, &tx, &rx);
		err = once_send(&tx, BITS);
		ck_assert_msg(err == 0 || err == ENOTRECOVERABLE,
			      "pattern %d: send %d", pat, err);
		err = once_receiver_close(&rx);
		ck_assert_msg(err == 0 || err == ENOTRECOVERABLE ||
			      err == EINVAL,
			      "pattern %d: receiver_close %d", pat, err);
		writer_stop(w, pid);
	}
	ck_assert_int_eq(munmap(w, sizeof(*w)), 0);
	unmap_guarded(page);
}
END_TEST

/* The fuzzer's operations, and the results each may give. */
enum { OP_SEND, OP_SENDER_CLOSE, OP_SENDER_CLOSED, OP_TRYRECV, OP_RECV,
       OP_TIMEDRECV, OP_CLOCKRECV, OP_RECEIVER_READY, OP_RECEIVER_CLOSE,
       OP_NOTIFY, OP_DESTROY, OP_BIND, OP_ATTACH, OP_INIT, NOPS };

static const char *const op_names[NOPS] = {
	"send", "sender_close", "sender_closed", "tryrecv", "recv",
	"timedrecv", "clockrecv", "receiver_ready", "receiver_close",
	"notify", "destroy", "bind", "attach", "init" };

/* Results, as indexes into the tallies: the value 1 is the queries'. */
static const int results[] = { 0, 1, EPIPE, EAGAIN, EINVAL, ETIMEDOUT,
			       ENOTRECOVERABLE, ENOTSUP, EBUSY, EALREADY };
#define NRESULTS ((int)(sizeof(results) / sizeof(results[0])))

static const char *const result_names[NRESULTS] = {
	"0", "1", "EPIPE", "EAGAIN", "EINVAL", "ETIMEDOUT",
	"ENOTRECOVERABLE", "ENOTSUP", "EBUSY", "EALREADY" };

#define R(i)	(1u << (i))
static const unsigned int allowed[NOPS] = {
	[OP_SEND] = R(0) | R(2) | R(4) | R(6),
	[OP_SENDER_CLOSE] = R(0) | R(4) | R(6),
	[OP_SENDER_CLOSED] = R(0) | R(1),
	[OP_TRYRECV] = R(0) | R(2) | R(3) | R(4),
	[OP_RECV] = R(0) | R(2) | R(4) | R(6),
	[OP_TIMEDRECV] = R(0) | R(2) | R(4) | R(5) | R(6),
	[OP_CLOCKRECV] = R(0) | R(2) | R(4) | R(5) | R(6),
	[OP_RECEIVER_READY] = R(0) | R(1),
	[OP_RECEIVER_CLOSE] = R(0) | R(4) | R(6),
	[OP_NOTIFY] = R(4) | R(7),
	[OP_DESTROY] = R(0) | R(4) | R(8),
	[OP_BIND] = R(0) | R(4) | R(9),
	[OP_ATTACH] = R(0) | R(4),
	[OP_INIT] = R(0),
};

static int
result_index(int r)
{
	int i;

	for (i = 0; i < NRESULTS; i++)
		if (results[i] == r)
			return i;
	return -1;
}

struct fuzz_state {
	once_event_t *ev;
	once_attr_t attr;
	once_sender_t tx;
	once_receiver_t rx;
	unsigned long tally[NOPS][NRESULTS];
	long max_ms[NOPS];
	struct timespec deadline;	/* of the last timed receive */
};

static int
fuzz_op(struct fuzz_state *f, int op, unsigned long i)
{
	once_sender_t btx;
	once_receiver_t brx;
	void *v = NULL;

	switch (op) {
	case OP_SEND:
		return once_send(&f->tx, (void *)(uintptr_t)i);
	case OP_SENDER_CLOSE:
		return once_sender_close(&f->tx);
	case OP_SENDER_CLOSED:
		return once_sender_closed(&f->tx);
	case OP_TRYRECV:
		return once_tryrecv(&f->rx, i & 1 ? &v : NULL);
	case OP_RECV:
		return once_recv(&f->rx, i & 1 ? &v : NULL);
	case OP_TIMEDRECV:
		f->deadline = deadline_in(CLOCK_REALTIME, 1000000L);
		return once_timedrecv(&f->rx, &v, &f->deadline);
	case OP_CLOCKRECV:
		f->deadline = deadline_in(CLOCK_MONOTONIC, 1000000L);
		return once_clockrecv(&f->rx, &v, CLOCK_MONOTONIC,
				      &f->deadline);
	case OP_RECEIVER_READY:
		return once_receiver_ready(&f->rx);
	case OP_RECEIVER_CLOSE:
		return once_receiver_close(&f->rx);
	case OP_NOTIFY:
		return once_receiver_notify(&f->rx, never_called, f);
	case OP_DESTROY:
		return once_event_destroy(f->ev);
	case OP_BIND:
		/*
		 * Endpoints that bind makes from garbage trust what it read
		 * (once.h): they are not used.
		 */
		return once_event_bind(f->ev, &btx, &brx);
	case OP_ATTACH:
		return once_event_attach(f->ev, &f->tx, &f->rx);
	default:
		return once_event_init(f->ev, &f->attr);
	}
}

/* Is now past the deadline of the timed receive op just made? */
static int
deadline_passed(const struct fuzz_state *f, int op)
{
	struct timespec now;

	clock_gettime(op == OP_TIMEDRECV ? CLOCK_REALTIME : CLOCK_MONOTONIC,
		      &now);
	return !(now.tv_sec < f->deadline.tv_sec ||
		 (now.tv_sec == f->deadline.tv_sec &&
		  now.tv_nsec < f->deadline.tv_nsec));
}

static void
fuzz_report(struct fuzz_state *f, unsigned long iters, unsigned long calls,
	    const struct writer *w, long ms)
{
	int op, r;

	fprintf(stderr, "# fuzz: %lu iterations, %lu calls in %ld ms; the "
		"writer wrote %lu words, woke %lu times\n", iters, calls, ms,
		atomic_load(&w->writes), atomic_load(&w->wakes));
	for (op = 0; op < NOPS; op++) {
		fprintf(stderr, "#   %-15s max %4ld ms:", op_names[op],
			f->max_ms[op]);
		for (r = 0; r < NRESULTS; r++)
			if (f->tally[op][r])
				fprintf(stderr, " %s=%lu", result_names[r],
					f->tally[op][r]);
		fputc('\n', stderr);
	}
}

/*
 * Verify, for thousands of iterations, that while another process writes
 * random words over two events (state, flags, value, destructor and
 * callback slots; states and kinds favoured) at the edges of a guarded
 * page, every call on their endpoints returns one of its documented
 * results within a bounded time (timed receives: ETIMEDOUT only once the
 * deadline has passed): no crash, no hang, no callback.
 */
START_TEST(test_pshared_garbage_fuzz)
{
	char *page = guarded_page();
	struct writer *w = shared_map(sizeof(*w));
	struct fuzz_state *f = calloc(1, sizeof(*f));
	unsigned long i, iters = (unsigned long)race_rounds() * 5, calls = 0;
	uint64_t x = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	struct timespec t0, start = mono_now();
	pid_t pid;
	int k, op, r, ri;
	long ms;

	ck_assert_ptr_nonnull(f);
	atomic_store(&notify_calls, 0);
	attr_shared(&f->attr, ONCE_SPIN_DEFAULT);
	memset(w, 0, sizeof(*w));
	w->evs[0] = edge_event(page, 0);
	w->evs[1] = edge_event(page, 1);
	w->nevs = 2;
	w->fuzz = 1;
	w->seed = x;
	ck_assert_int_eq(once_event_init(w->evs[0], &f->attr), 0);
	ck_assert_int_eq(once_event_init(w->evs[1], &f->attr), 0);
	pid = spawn(writer_child, w);
	for (i = 0; i < iters; i++) {
		f->ev = w->evs[xorshift(&x) & 1];
		if (xorshift(&x) % 4 == 0)
			once_event_init(f->ev, &f->attr);
		for (k = 0; k < 4; k++) {
			/* Mostly live endpoints; now and then spent ones. */
			if (xorshift(&x) % 4)
				once_event_attach(f->ev, &f->tx, &f->rx);
			op = (int)(xorshift(&x) % NOPS);
			t0 = mono_now();
			r = fuzz_op(f, op, i);
			ms = ms_since(&t0);
			calls++;
			ri = result_index(r);
			ck_assert_msg(ri >= 0 && (allowed[op] & R(ri)),
				      "iteration %lu: %s returned %d (%s)", i,
				      op_names[op], r, strerror(r));
			ck_assert_msg(ms <= LOCKED_LIMIT_MS + 4000,
				      "iteration %lu: %s took %ld ms", i,
				      op_names[op], ms);
			if (r == ETIMEDOUT)
				ck_assert_msg(deadline_passed(f, op),
					      "iteration %lu: %s timed out "
					      "early", i, op_names[op]);
			f->tally[op][ri]++;
			if (ms > f->max_ms[op])
				f->max_ms[op] = ms;
		}
	}
	writer_stop(w, pid);
	ck_assert_int_eq(atomic_load(&notify_calls), 0);
	ck_assert_uint_gt(atomic_load(&w->writes), iters);
	fuzz_report(f, iters, calls, w, ms_since(&start));
	free(f);
	ck_assert_int_eq(munmap(w, sizeof(*w)), 0);
	unmap_guarded(page);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pshared");
	TCase *api = tcase_create("api");
	TCase *procs = tcase_create("processes");
	TCase *garbage = tcase_create("garbage");

	tcase_add_test(api, test_pshared_attr_setpshared_einval);
	tcase_add_test(api, test_pshared_attr_private_restores_default);
	tcase_add_test(api, test_pshared_init_refuses_destructor);
	tcase_add_test(api, test_pshared_other_storage_refuses);
	tcase_add_test(api, test_pshared_attach_einval);
	tcase_add_test(api, test_pshared_attach_binds_then_joins);
	tcase_add_test(api, test_pshared_one_process_round_trips);
	tcase_add_test(api, test_pshared_notify_enotsup);
	suite_add_tcase(s, api);

	tcase_set_timeout(procs, 60);
	tcase_add_test(procs, test_pshared_fork_child_sends);
	tcase_add_test(procs, test_pshared_fork_parent_sends);
	tcase_add_test(procs, test_pshared_fork_child_closes_sender_epipe);
	tcase_add_test(procs, test_pshared_fork_child_closes_receiver_epipe);
	tcase_add_test(procs,
		       test_pshared_fork_child_exits_timedrecv_etimedout);
	tcase_add_test(procs, test_pshared_shm_open_two_mappings);
	suite_add_tcase(s, procs);

	/* The watchdog: a call that spins or sleeps for ever fails here. */
	tcase_set_timeout(garbage, 120);
	tcase_add_test(garbage, test_pshared_bind_destroy_attach_any_word);
	tcase_add_test(garbage, test_pshared_frozen_locked_enotrecoverable);
	tcase_add_test(garbage, test_pshared_frozen_kind_ignored);
	tcase_add_test(garbage, test_pshared_frozen_slots_and_notify_state);
	tcase_add_test(garbage, test_pshared_frozen_spin_budget_clamped);
	tcase_add_test(garbage, test_pshared_frozen_garbage_state_einval);
	tcase_add_test(garbage, test_pshared_moving_word_bounded);
	tcase_add_test(garbage, test_pshared_garbage_fuzz);
	suite_add_tcase(s, garbage);
	return run_suite(s);
}
