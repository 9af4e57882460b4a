/*
 * once-bench.c - libonce side by side with the primitives it replaces.
 *
 * Every mechanism (a raw futex word, pthread mutex+cond, sem_t, eventfd, a
 * pipe, libonce in each of its storage kinds, and two reference rows) goes
 * through the same create / send / recv / destroy interface on the same
 * caller-provided 64-byte-aligned slot, in the same process, so that the
 * harness costs every row the same. The method follows the anchor numbers
 * measured before libonce existed (shared/research/anchor-numbers.md):
 *  - one run lasts about -t ms, and the iteration count is recalibrated
 *    after each run;
 *  - -r runs per row, interleaved round-robin across the rows of a
 *    scenario, so that a noisy spell of the (shared, virtual) machine hits
 *    every row alike; a row reports the median, min and max of its runs;
 *  - the ratio column divides a row's median by the raw futex median of
 *    the same invocation: absolute numbers move between invocations far
 *    more than ratios do;
 *  - every receive checks that it got the value that was sent;
 *  - malloc and friends are interposed, so each row also reports the
 *    allocations it made per operation.
 *
 * Sections: allocation counting, utilities, mechanisms (raw futex, the
 * other alternatives, libonce), the measuring driver, the scenarios,
 * output (Markdown, JSON, SVG), main.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/futex.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <once.h>

#include "once-bench.h"

#define SLOT_BYTES	128	/* largest state: mutex+cond, 104 bytes */
#define MAX_RUNS	99
#define MAX_ROWS	40
#define MAX_CPUS	64
#define SPIN_NS		5000	/* libonce's default spin budget */
#define LIVE_EVENTS	10000	/* the live scenario's standing set */
#define LIVE_BATCH	15
#define LIVE_SEED	0x9e3779b97f4a7c15ull
#define PP_RING		4	/* slots per direction in pingpong */
#define SIZE_EVENTS	1000	/* live events the size scenario counts */

struct slot {
	alignas(64) unsigned char bytes[SLOT_BYTES];
};

/* ---------------------------------------------------------------------
 * Allocation counting.
 *
 * The tool defines malloc and friends and forwards them to glibc, so
 * libonce's allocations (and libc's on its behalf) are counted too. The
 * counter is per thread: a shared atomic would add a locked instruction
 * to every allocation and make the threads of pool-mt fight over one
 * cache line, which would slow down exactly the rows being measured. A
 * thread reads its own counter before and after its timed loop.
 * Sanitizers bring their own malloc: their builds count nothing and
 * report allocations as unknown.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define COUNT_ALLOCS	0
#else
#define COUNT_ALLOCS	1
#endif

static __thread unsigned long tls_allocs;

#if COUNT_ALLOCS
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void __libc_free(void *ptr);

void *
malloc(size_t size)
{
	tls_allocs++;
	return __libc_malloc(size);
}

void *
calloc(size_t n, size_t size)
{
	tls_allocs++;
	return __libc_calloc(n, size);
}

void *
realloc(void *ptr, size_t size)
{
	tls_allocs++;
	return __libc_realloc(ptr, size);
}

void
free(void *ptr)
{
	__libc_free(ptr);
}

void *
memalign(size_t align, size_t size)
{
	tls_allocs++;
	return __libc_memalign(align, size);
}

void *
aligned_alloc(size_t align, size_t size)
{
	tls_allocs++;
	return __libc_memalign(align, size);
}

int
posix_memalign(void **ptr, size_t align, size_t size)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	tls_allocs++;
	if (!(p = __libc_memalign(align, size)))
		return ENOMEM;
	*ptr = p;
	return 0;
}
#endif /* COUNT_ALLOCS */

/* ---------------------------------------------------------------------
 * Utilities.
 */
static int cpus[MAX_CPUS];	/* the CPUs this process may run on */
static int ncpus;
static int progress;		/* stderr is a terminal */

static void __attribute__((noreturn, cold, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "once-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void
bench_fail(const char *what, int err)
{
	die("%s: %s", what, strerror(err));
}

/* A libonce call that must succeed: it returns 0 or an error number. */
static inline void
ck(int err, const char *what)
{
	if (__builtin_expect(err != 0, 0))
		bench_fail(what, err);
}

static inline uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

static int
pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Start fn(arg) on a thread that is born pinned to cpu. */
static void
start_pinned(pthread_t *t, int cpu, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	cpu_set_t set;
	int err;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if ((err = pthread_attr_init(&attr)) ||
	    (err = pthread_attr_setaffinity_np(&attr, sizeof(set), &set)) ||
	    (err = pthread_create(t, &attr, fn, arg)))
		die("starting a thread on CPU %d: %s", cpu, strerror(err));
	pthread_attr_destroy(&attr);
}

static void
join(pthread_t t)
{
	int err = pthread_join(t, NULL);

	if (err)
		die("pthread_join: %s", strerror(err));
}

static void
read_cpus(void)
{
	cpu_set_t set;
	int i;

	if (sched_getaffinity(0, sizeof(set), &set))
		die("sched_getaffinity: %s", strerror(errno));
	for (i = 0; i < CPU_SETSIZE && ncpus < MAX_CPUS; i++)
		if (CPU_ISSET(i, &set))
			cpus[ncpus++] = i;
	if (!ncpus)
		die("no CPU to run on");
}

static long
voluntary_switches(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		die("getrusage: %s", strerror(errno));
	return ru.ru_nvcsw;
}

static inline uint64_t
xorshift(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

/* Open file descriptors; the directory's own fd is in every count. */
static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		die("/proc/self/fd: %s", strerror(errno));
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static size_t
heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* Steal and total jiffies from the first line of /proc/stat. */
static int
read_steal(unsigned long long *steal, unsigned long long *total)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n, i;

	if (!f)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != 8)
		return -1;
	*total = 0;
	for (i = 0; i < 8; i++)
		*total += v[i];
	*steal = v[7];
	return 0;
}

/* ---------------------------------------------------------------------
 * Mechanisms.
 *
 * create() makes the event in the slot, send() delivers value, recv()
 * blocks until the value is there and returns it, destroy() ends the
 * event. Failures cannot be handled inside a timed loop, so they end the
 * program (exit status 1).
 */
enum {
	M_TS = 0x1,		/* thread-safe, with a blocking receive */
	M_LOCAL = 0x2,		/* single-threaded: one-thread scenarios */
	M_REF = 0x4,		/* a reference row, not a primitive */
	M_NOSPIN = 0x8,		/* the spin-0 twin: pingpong only */
	M_LIBONCE = 0x10,
	M_FLOOR = 0x20,		/* the raw futex every ratio divides by */
};

struct mech {
	const char *name;
	unsigned int flags;
	size_t size;		/* state bytes in the slot */
	int fds;		/* file descriptors per event */
	void (*create)(void *slot);
	void (*send)(void *slot, void *value);
	void *(*recv)(void *slot);
	void (*destroy)(void *slot);
};

/* destroy() of the mechanisms whose event needs no ending. */
static void
no_op(void *slot)
{
	(void)slot;
}

static void __attribute__((noreturn, cold))
bad_value(const struct mech *m, const void *want, const void *got)
{
	die("%s: received %p, but %p was sent", m->name, got, want);
}

/* --- The raw futex: the floor. ---
 * The word is 0 (empty), 1 (set) or 2 (the receiver may sleep). Only the
 * receiver moves 0 -> 2, so a sender whose exchange returns 2 knows it
 * owes a wake-up, and one that finds 0 knows nobody sleeps.
 */
struct futex_ev {
	_Atomic uint32_t word;
	void *value;
};

static unsigned long spin_rounds;	/* pause rounds in SPIN_NS */
static double pause_ns;

static void
futex_wait(_Atomic uint32_t *word, uint32_t val)
{
	/* The word, not the return value, says whether to wait again. */
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void
futex_create(void *slot)
{
	struct futex_ev *f = slot;

	atomic_store_explicit(&f->word, 0, memory_order_relaxed);
	f->value = NULL;
}

static void
futex_send(void *slot, void *value)
{
	struct futex_ev *f = slot;

	f->value = value;
	if (atomic_exchange_explicit(&f->word, 1, memory_order_acq_rel) == 2)
		syscall(SYS_futex, &f->word, FUTEX_WAKE_PRIVATE, 1, NULL,
			NULL, 0);
}

static void *
futex_park(struct futex_ev *f, uint32_t w)
{
	while (w != 1) {
		if (w == 0 && !atomic_compare_exchange_weak_explicit(&f->word,
				&w, 2, memory_order_acquire,
				memory_order_acquire))
			continue;
		futex_wait(&f->word, 2);
		w = atomic_load_explicit(&f->word, memory_order_acquire);
	}
	return f->value;
}

static void *
futex_recv(void *slot)
{
	struct futex_ev *f = slot;

	return futex_park(f, atomic_load_explicit(&f->word,
						  memory_order_acquire));
}

static void *
futex_spin_recv(void *slot)
{
	struct futex_ev *f = slot;
	uint32_t w = atomic_load_explicit(&f->word, memory_order_acquire);
	unsigned long i;

	for (i = 0; w == 0 && i < spin_rounds; i++) {
		cpu_relax();
		w = atomic_load_explicit(&f->word, memory_order_acquire);
	}
	return futex_park(f, w);
}

/* The budget in pause rounds, so that the spin loop reads no clock. */
static void
calibrate_pause(void)
{
	_Atomic uint32_t word = 0;
	double best = 1e9;
	uint64_t t0;
	int i, k;

	for (k = 0; k < 5; k++) {
		t0 = now_ns();
		for (i = 0; i < 20000; i++) {
			cpu_relax();
			if (atomic_load_explicit(&word, memory_order_acquire))
				break;
		}
		if ((now_ns() - t0) / 20000.0 < best)
			best = (now_ns() - t0) / 20000.0;
	}
	pause_ns = best > 0.1 ? best : 0.1;
	spin_rounds = (unsigned long)(SPIN_NS / pause_ns) + 1;
}

/* --- pthread mutex + condition variable. --- */
struct mutex_ev {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int set;
	void *value;
};

static void
mutex_create(void *slot)
{
	struct mutex_ev *e = slot;

	if (pthread_mutex_init(&e->lock, NULL) ||
	    pthread_cond_init(&e->cond, NULL))
		die("pthread_mutex_init or pthread_cond_init failed");
	e->set = 0;
	e->value = NULL;
}

static void
mutex_send(void *slot, void *value)
{
	struct mutex_ev *e = slot;

	pthread_mutex_lock(&e->lock);
	e->value = value;
	e->set = 1;
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->lock);
}

static void *
mutex_recv(void *slot)
{
	struct mutex_ev *e = slot;
	void *value;

	pthread_mutex_lock(&e->lock);
	while (!e->set)
		pthread_cond_wait(&e->cond, &e->lock);
	value = e->value;
	pthread_mutex_unlock(&e->lock);
	return value;
}

static void
mutex_destroy(void *slot)
{
	struct mutex_ev *e = slot;

	if (pthread_cond_destroy(&e->cond) || pthread_mutex_destroy(&e->lock))
		die("pthread_cond_destroy or pthread_mutex_destroy failed");
}

/* --- POSIX semaphore. --- */
struct sem_ev {
	sem_t sem;
	void *value;
};

static void
sem_create(void *slot)
{
	struct sem_ev *e = slot;

	if (sem_init(&e->sem, 0, 0))
		die("sem_init: %s", strerror(errno));
	e->value = NULL;
}

static void
sem_send(void *slot, void *value)
{
	struct sem_ev *e = slot;

	e->value = value;
	if (sem_post(&e->sem))
		die("sem_post: %s", strerror(errno));
}

static void *
sem_recv(void *slot)
{
	struct sem_ev *e = slot;

	while (sem_wait(&e->sem))
		if (errno != EINTR)
			die("sem_wait: %s", strerror(errno));
	return e->value;
}

static void
sem_destroy_ev(void *slot)
{
	sem_destroy(&((struct sem_ev *)slot)->sem);
}

/* --- eventfd: the value rides in the slot, the fd carries the signal. */
struct efd_ev {
	int fd;
	void *value;
};

static void
efd_create(void *slot)
{
	struct efd_ev *e = slot;

	if ((e->fd = eventfd(0, EFD_CLOEXEC)) < 0)
		die("eventfd: %s", strerror(errno));
	e->value = NULL;
}

static void
efd_send(void *slot, void *value)
{
	struct efd_ev *e = slot;
	uint64_t one = 1;

	e->value = value;
	while (write(e->fd, &one, sizeof(one)) != sizeof(one))
		if (errno != EINTR)
			die("eventfd write: %s", strerror(errno));
}

static void *
efd_recv(void *slot)
{
	struct efd_ev *e = slot;
	uint64_t n;

	while (read(e->fd, &n, sizeof(n)) != sizeof(n))
		if (errno != EINTR)
			die("eventfd read: %s", strerror(errno));
	return e->value;
}

static void
efd_destroy(void *slot)
{
	close(((struct efd_ev *)slot)->fd);
}

/* --- pipe: the value itself goes through the pipe. --- */
struct pipe_ev {
	int fd[2];
};

static void
pipe_create(void *slot)
{
	if (pipe2(((struct pipe_ev *)slot)->fd, O_CLOEXEC))
		die("pipe2: %s", strerror(errno));
}

static void
pipe_send(void *slot, void *value)
{
	struct pipe_ev *e = slot;

	while (write(e->fd[1], &value, sizeof(value)) != sizeof(value))
		if (errno != EINTR)
			die("pipe write: %s", strerror(errno));
}

static void *
pipe_recv(void *slot)
{
	struct pipe_ev *e = slot;
	void *value;

	/* Writes of 8 bytes are atomic (PIPE_BUF): one read gets them all. */
	while (read(e->fd[0], &value, sizeof(value)) != sizeof(value))
		if (errno != EINTR)
			die("pipe read: %s", strerror(errno));
	return value;
}

static void
pipe_destroy(void *slot)
{
	struct pipe_ev *e = slot;

	close(e->fd[0]);
	close(e->fd[1]);
}

/* --- Reference rows: one heap block per event, and nothing at all. --- */
struct malloc_ev {
	void **block;
};

static void
malloc_create(void *slot)
{
	struct malloc_ev *e = slot;

	if (!(e->block = malloc(64)))
		die("malloc: out of memory");
}

static void
malloc_send(void *slot, void *value)
{
	*((struct malloc_ev *)slot)->block = value;
}

static void *
malloc_recv(void *slot)
{
	return *((struct malloc_ev *)slot)->block;
}

static void
malloc_destroy(void *slot)
{
	free(((struct malloc_ev *)slot)->block);
}

static void
nop_send(void *slot, void *value)
{
	*(void **)slot = value;
}

static void *
nop_recv(void *slot)
{
	return *(void **)slot;
}

/* --- libonce, thread-safe. ---
 * One slot layout for every kind, so that send and receive are shared:
 * the endpoints, then the event (caller storage) or its address (heap).
 */
struct lo_slot {
	once_sender_t tx;
	once_receiver_t rx;
	union {
		once_event_t ev;
		once_event_t *hev;
	};
};

static once_attr_t attr_nospin;	/* once_attr_setspin(&a, 0) */
static once_pool_t pool_store[2];
static once_pool_t *pool_spin = &pool_store[0];
static once_pool_t *pool_nospin = &pool_store[1];

static void
lo_send(void *slot, void *value)
{
	ck(once_send(&((struct lo_slot *)slot)->tx, value), "once_send");
}

static void *
lo_recv(void *slot)
{
	void *value;

	ck(once_recv(&((struct lo_slot *)slot)->rx, &value), "once_recv");
	return value;
}

static inline void
lo_event_make(struct lo_slot *s, const once_attr_t *attr)
{
	ck(once_event_init(&s->ev, attr), "once_event_init");
	ck(once_event_bind(&s->ev, &s->tx, &s->rx), "once_event_bind");
}

static void
lo_event_create(void *slot)
{
	lo_event_make(slot, NULL);
}

static void
lo_event_create0(void *slot)
{
	lo_event_make(slot, &attr_nospin);
}

static void
lo_event_destroy(void *slot)
{
	ck(once_event_destroy(&((struct lo_slot *)slot)->ev),
	   "once_event_destroy");
}

static inline void
lo_heap_make(struct lo_slot *s, const once_attr_t *attr)
{
	ck(once_event_create(&s->hev, attr), "once_event_create");
	ck(once_event_bind(s->hev, &s->tx, &s->rx), "once_event_bind");
}

static void
lo_heap_create(void *slot)
{
	lo_heap_make(slot, NULL);
}

static void
lo_heap_create0(void *slot)
{
	lo_heap_make(slot, &attr_nospin);
}

static void
lo_heap_destroy(void *slot)
{
	ck(once_event_unref(((struct lo_slot *)slot)->hev),
	   "once_event_unref");
}

static void
lo_channel_create(void *slot)
{
	struct lo_slot *s = slot;

	ck(once_channel(&s->tx, &s->rx, NULL), "once_channel");
}

static void
lo_channel_create0(void *slot)
{
	struct lo_slot *s = slot;

	ck(once_channel(&s->tx, &s->rx, &attr_nospin), "once_channel");
}

static void
lo_pool_create(void *slot)
{
	struct lo_slot *s = slot;

	ck(once_pool_bind(pool_spin, &s->tx, &s->rx), "once_pool_bind");
}

static void
lo_pool_create0(void *slot)
{
	struct lo_slot *s = slot;

	ck(once_pool_bind(pool_nospin, &s->tx, &s->rx), "once_pool_bind");
}

/* --- libonce, single-threaded: no blocking receive, so tryrecv. --- */
struct ll_slot {
	once_local_sender_t tx;
	once_local_receiver_t rx;
	once_local_event_t ev;
};

static once_local_pool_t lpool_store;
static once_local_pool_t *lpool = &lpool_store;

static void
ll_send(void *slot, void *value)
{
	ck(once_local_send(&((struct ll_slot *)slot)->tx, value),
	   "once_local_send");
}

static void *
ll_recv(void *slot)
{
	void *value;

	ck(once_local_tryrecv(&((struct ll_slot *)slot)->rx, &value),
	   "once_local_tryrecv");
	return value;
}

static void
ll_event_create(void *slot)
{
	struct ll_slot *s = slot;

	ck(once_local_event_init(&s->ev, NULL), "once_local_event_init");
	ck(once_local_event_bind(&s->ev, &s->tx, &s->rx),
	   "once_local_event_bind");
}

static void
ll_event_destroy(void *slot)
{
	ck(once_local_event_destroy(&((struct ll_slot *)slot)->ev),
	   "once_local_event_destroy");
}

static void
ll_channel_create(void *slot)
{
	struct ll_slot *s = slot;

	ck(once_local_channel(&s->tx, &s->rx, NULL), "once_local_channel");
}

static void
ll_pool_create(void *slot)
{
	struct ll_slot *s = slot;

	ck(once_local_pool_bind(lpool, &s->tx, &s->rx),
	   "once_local_pool_bind");
}

#define LO_SIZE(member)	(offsetof(struct lo_slot, member) + \
			 sizeof(((struct lo_slot *)0)->member))
#define LO	(M_TS | M_LIBONCE)
#define LO0	(M_TS | M_LIBONCE | M_NOSPIN)
#define LL	(M_LOCAL | M_LIBONCE)

/* Table order is row order: the floor, libonce, the alternatives. */
static const struct mech mechs[] = {
	{ "futex (raw floor)", M_TS | M_FLOOR, sizeof(struct futex_ev), 0,
	  futex_create, futex_send, futex_recv, no_op },
	{ "futex+spin", M_TS, sizeof(struct futex_ev), 0,
	  futex_create, futex_send, futex_spin_recv, no_op },
	{ "libonce event", LO, LO_SIZE(ev), 0,
	  lo_event_create, lo_send, lo_recv, lo_event_destroy },
	{ "libonce event, inline", LO, LO_SIZE(ev), 0, inline_event_create,
	  inline_send, inline_recv, inline_event_destroy },
	{ "libonce event, spin 0", LO0, LO_SIZE(ev), 0,
	  lo_event_create0, lo_send, lo_recv, lo_event_destroy },
	{ "libonce heap", LO, LO_SIZE(hev), 0,
	  lo_heap_create, lo_send, lo_recv, lo_heap_destroy },
	{ "libonce heap, spin 0", LO0, LO_SIZE(hev), 0,
	  lo_heap_create0, lo_send, lo_recv, lo_heap_destroy },
	{ "libonce channel", LO, LO_SIZE(rx), 0,
	  lo_channel_create, lo_send, lo_recv, no_op },
	{ "libonce channel, spin 0", LO0, LO_SIZE(rx), 0,
	  lo_channel_create0, lo_send, lo_recv, no_op },
	{ "libonce pool", LO, LO_SIZE(rx), 0,
	  lo_pool_create, lo_send, lo_recv, no_op },
	{ "libonce pool, spin 0", LO0, LO_SIZE(rx), 0,
	  lo_pool_create0, lo_send, lo_recv, no_op },
	{ "libonce local event", LL, sizeof(struct ll_slot), 0,
	  ll_event_create, ll_send, ll_recv, ll_event_destroy },
	{ "libonce local event, inline", LL, sizeof(struct ll_slot), 0,
	  inline_local_create, inline_local_send, inline_local_recv,
	  inline_local_destroy },
	{ "libonce local channel", LL, offsetof(struct ll_slot, ev), 0,
	  ll_channel_create, ll_send, ll_recv, no_op },
	{ "libonce local pool", LL, offsetof(struct ll_slot, ev), 0,
	  ll_pool_create, ll_send, ll_recv, no_op },
	{ "pthread mutex+cond", M_TS, sizeof(struct mutex_ev), 0,
	  mutex_create, mutex_send, mutex_recv, mutex_destroy },
	{ "sem_t", M_TS, sizeof(struct sem_ev), 0,
	  sem_create, sem_send, sem_recv, sem_destroy_ev },
	{ "eventfd", M_TS, sizeof(struct efd_ev), 1,
	  efd_create, efd_send, efd_recv, efd_destroy },
	{ "pipe", M_TS, sizeof(struct pipe_ev), 2,
	  pipe_create, pipe_send, pipe_recv, pipe_destroy },
	{ "malloc(64)+free", M_REF, sizeof(struct malloc_ev), 0,
	  malloc_create, malloc_send, malloc_recv, malloc_destroy },
	{ "nop (harness overhead)", M_REF, sizeof(void *), 0,
	  no_op, nop_send, nop_recv, no_op },
};

#define NMECHS	(sizeof(mechs) / sizeof(mechs[0]))

_Static_assert(sizeof(struct mutex_ev) <= SLOT_BYTES, "slot too small");
_Static_assert(sizeof(struct lo_slot) <= SLOT_BYTES, "slot too small");
_Static_assert(sizeof(struct ll_slot) <= SLOT_BYTES, "slot too small");

static const struct mech *
find_mech(const char *name)
{
	size_t i;

	for (i = 0; i < NMECHS; i++)
		if (!strcmp(mechs[i].name, name))
			return &mechs[i];
	die("no mechanism named %s", name);
}

/* Slots of one mechanism sit this far apart in an array. */
static size_t
stride(const struct mech *m)
{
	return (m->size + 63) & ~(size_t)63;
}

/* ---------------------------------------------------------------------
 * The measuring driver.
 */
struct sample {
	uint64_t elapsed;	/* ns of the timed loop */
	double value;		/* the row's number for this run */
	double csw;		/* voluntary context switches per op */
	unsigned long long ops, allocs;
};

struct row {
	const struct mech *m;
	char name[64];
	int threads;			/* pool-mt */
	unsigned int spin_ns, delay_ns;	/* spin */
	const struct row *base;		/* the ratio's denominator */
	char skip[128];			/* why the row did not run */
	unsigned long iters;
	int nruns;
	double val[MAX_RUNS], csw[MAX_RUNS];
	unsigned long long ops, allocs;
	double median, min, max, csw_median;
	/* size */
	double heap, fds, allocs_per_event;
};

struct scen {
	const char *name;
	const char *what;		/* what one number is */
	const char *unit;
	const char *ratio_label;
	unsigned long start_iters;
	int (*setup)(struct scen *sc);
	void (*run)(struct row *r, unsigned long iters, struct sample *s);
	void (*teardown)(struct scen *sc);
	struct row rows[MAX_ROWS];
	int nrows;
	int done;
	double steal;			/* % of CPU time, or -1 */
};

static struct {
	int runs;
	int ms;
	int quick;
	int json;
	const char *svg;
} opt = { 7, 200, 0, 0, NULL };

static struct row *
add_row(struct scen *sc, const struct mech *m, int threads)
{
	struct row *r;

	if (sc->nrows == MAX_ROWS)
		die("too many rows in %s", sc->name);
	r = &sc->rows[sc->nrows++];
	memset(r, 0, sizeof(*r));
	r->m = m;
	r->threads = threads;
	snprintf(r->name, sizeof(r->name), "%s", m->name);
	return r;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median_of(const double *v, int n, double *min, double *max)
{
	double s[MAX_RUNS];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	if (min)
		*min = s[0];
	if (max)
		*max = s[n - 1];
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* n scaled so that the next run takes about want ns. */
static unsigned long
rescale(unsigned long n, uint64_t elapsed, uint64_t want, double limit)
{
	double f = elapsed ? (double)want / (double)elapsed : limit;

	if (f > limit)
		f = limit;
	if (f < 1 / limit)
		f = 1 / limit;
	f *= n;
	return f < 1 ? 1 : f > 1e12 ? 1000000000000ul : (unsigned long)f;
}

/* Warm the row up (pools fill, caches fill) and find its run length. */
static void
calibrate(struct scen *sc, struct row *r)
{
	uint64_t want = (uint64_t)opt.ms * 1000000u;
	unsigned long n = sc->start_iters;
	struct sample s;

	for (;;) {
		sc->run(r, n, &s);
		if (s.elapsed >= want / 10)
			break;
		n = rescale(n, s.elapsed, want / 5, 16);
	}
	r->iters = rescale(n, s.elapsed, want, 16);
}

static void
show_progress(const struct scen *sc, int run)
{
	if (!progress)
		return;
	if (run)
		fprintf(stderr, "\r%-10s run %d/%d    ", sc->name, run,
			opt.runs);
	else
		fprintf(stderr, "\r%-10s calibrating", sc->name);
}

static void
summarise(struct row *r)
{
	if (!r->nruns)
		return;
	r->median = median_of(r->val, r->nruns, &r->min, &r->max);
	r->csw_median = median_of(r->csw, r->nruns, NULL, NULL);
}

static void
measure(struct scen *sc)
{
	uint64_t want = (uint64_t)opt.ms * 1000000u;
	struct sample s;
	struct row *r;
	int i, k;

	show_progress(sc, 0);
	for (i = 0; i < sc->nrows; i++)
		if (!sc->rows[i].skip[0])
			calibrate(sc, &sc->rows[i]);
	for (k = 0; k < opt.runs; k++) {
		show_progress(sc, k + 1);
		for (i = 0; i < sc->nrows; i++) {
			r = &sc->rows[i];
			if (r->skip[0])
				continue;
			sc->run(r, r->iters, &s);
			r->val[r->nruns] = s.value;
			r->csw[r->nruns++] = s.csw;
			r->ops += s.ops;
			r->allocs += s.allocs;
			r->iters = rescale(r->iters, s.elapsed, want, 4);
		}
	}
	for (i = 0; i < sc->nrows; i++)
		summarise(&sc->rows[i]);
	if (progress)
		fprintf(stderr, "\r%40s\r", "");
}

static void
run_scenario(struct scen *sc)
{
	unsigned long long st0, tot0, st1, tot1;
	int have = !read_steal(&st0, &tot0);

	if (sc->setup && sc->setup(sc))
		die("%s: setup failed", sc->name);
	if (sc->run)
		measure(sc);
	if (sc->teardown)
		sc->teardown(sc);
	/* Under a second of CPU time, the jiffy counts say nothing. */
	sc->steal = -1;
	if (have && !read_steal(&st1, &tot1) &&
	    tot1 - tot0 >= (unsigned long long)sysconf(_SC_CLK_TCK))
		sc->steal = 100.0 * (st1 - st0) / (tot1 - tot0);
	sc->done = 1;
}

/* Point every row's ratio at the floor of the same scenario. */
static void
base_on_floor(struct scen *sc)
{
	const struct row *floor = NULL;
	int i;

	for (i = 0; i < sc->nrows; i++)
		if (sc->rows[i].m->flags & M_FLOOR)
			floor = &sc->rows[i];
	if (!floor)
		die("%s: the raw futex row is missing", sc->name);
	for (i = 0; i < sc->nrows; i++)
		sc->rows[i].base = floor;
}

/* ---------------------------------------------------------------------
 * Scenario churn: one thread, create / send / recv / destroy in a loop.
 * The value is always there when recv is called: nothing ever blocks.
 */
static struct slot churn_slot;

static void
churn_run(struct row *r, unsigned long iters, struct sample *s)
{
	const struct mech *m = r->m;
	void *slot = &churn_slot, *v, *got;
	unsigned long a0 = tls_allocs, i;
	uint64_t t0 = now_ns();

	for (i = 1; i <= iters; i++) {
		v = (void *)(uintptr_t)i;
		m->create(slot);
		m->send(slot, v);
		if ((got = m->recv(slot)) != v)
			bad_value(m, v, got);
		m->destroy(slot);
	}
	s->elapsed = now_ns() - t0;
	s->allocs = tls_allocs - a0;
	s->ops = iters;
	s->value = (double)s->elapsed / iters;
	s->csw = 0;
}

static int
single_thread_rows(struct scen *sc)
{
	size_t i;

	for (i = 0; i < NMECHS; i++)
		if (!(mechs[i].flags & M_NOSPIN))
			add_row(sc, &mechs[i], 1);
	base_on_floor(sc);
	return 0;
}

/* ---------------------------------------------------------------------
 * Scenario live: LIVE_EVENTS live events, made before the clock starts;
 * then batches of LIVE_BATCH creates and LIVE_BATCH completions (send,
 * recv, destroy) of live events picked at random and swap-removed. One
 * operation is one create plus one completion. Every run starts from a
 * fresh live set and the same seed.
 */
#define LIVE_SLOTS	(LIVE_EVENTS + LIVE_BATCH)

static struct {
	unsigned char *store;		/* LIVE_SLOTS slots of SLOT_BYTES */
	void **live;			/* the live set */
	void **spare;			/* a stack of free slots */
	size_t nlive, nspare;
	unsigned long seq;		/* the values sent */
} lv;

static void
live_complete(const struct mech *m, size_t idx)
{
	void *slot = lv.live[idx], *v = (void *)(uintptr_t)++lv.seq, *got;

	lv.live[idx] = lv.live[--lv.nlive];
	m->send(slot, v);
	if ((got = m->recv(slot)) != v)
		bad_value(m, v, got);
	m->destroy(slot);
	lv.spare[lv.nspare++] = slot;
}

static void
live_fill(const struct mech *m)
{
	size_t i, st = stride(m);

	lv.nlive = 0;
	lv.nspare = 0;
	for (i = 0; i < LIVE_SLOTS; i++)
		lv.spare[lv.nspare++] = lv.store + (LIVE_SLOTS - 1 - i) * st;
	while (lv.nlive < LIVE_EVENTS) {
		lv.live[lv.nlive] = lv.spare[--lv.nspare];
		m->create(lv.live[lv.nlive++]);
	}
}

static void
live_run(struct row *r, unsigned long batches, struct sample *s)
{
	const struct mech *m = r->m;
	uint64_t x = LIVE_SEED, t0;
	unsigned long a0, b;
	void *slot;
	int k;

	live_fill(m);
	a0 = tls_allocs;
	t0 = now_ns();
	for (b = 0; b < batches; b++) {
		for (k = 0; k < LIVE_BATCH; k++) {
			slot = lv.spare[--lv.nspare];
			m->create(slot);
			lv.live[lv.nlive++] = slot;
		}
		for (k = 0; k < LIVE_BATCH; k++)
			live_complete(m, (xorshift(&x) >> 32) * lv.nlive >> 32);
	}
	s->elapsed = now_ns() - t0;
	s->allocs = tls_allocs - a0;
	while (lv.nlive)
		live_complete(m, lv.nlive - 1);
	s->ops = batches * LIVE_BATCH;
	s->value = (double)s->elapsed / s->ops;
	s->csw = 0;
}

static int
live_setup(struct scen *sc)
{
	struct rlimit rl;
	struct row *r;
	long need;
	int i;

	lv.store = aligned_alloc(64, (size_t)LIVE_SLOTS * SLOT_BYTES);
	lv.live = calloc(LIVE_SLOTS, sizeof(void *));
	lv.spare = calloc(LIVE_SLOTS, sizeof(void *));
	if (!lv.store || !lv.live || !lv.spare || single_thread_rows(sc))
		return -1;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	for (i = 0; i < sc->nrows; i++) {
		r = &sc->rows[i];
		need = (long)r->m->fds * LIVE_SLOTS + count_fds() + 16;
		if (r->m->fds && rl.rlim_cur != RLIM_INFINITY &&
		    (rlim_t)need > rl.rlim_cur)
			snprintf(r->skip, sizeof(r->skip),
				 "skipped: %d live events need %ld fds, "
				 "over the limit of %lu",
				 LIVE_SLOTS, need, (unsigned long)rl.rlim_cur);
	}
	return 0;
}

static void
live_teardown(struct scen *sc)
{
	(void)sc;
	free(lv.store);
	free(lv.live);
	free(lv.spare);
	memset(&lv, 0, sizeof(lv));
}

/* Stand for work that takes ns: spin on the clock (a vDSO call). */
static void
busy_for(unsigned int ns)
{
	uint64_t end = now_ns() + ns;

	while (now_ns() < end)
		cpu_relax();
}

/* ---------------------------------------------------------------------
 * Scenario pingpong: thread A (first CPU) makes a reply event and sends
 * its address on the current request event; B (second CPU) receives it,
 * destroys the request, makes the next request and sends its address on
 * the reply; A receives it and destroys the reply. Each side reuses a
 * slot only PP_RING round trips later, when the other side has surely
 * left the send it made on it. The last reply carries NULL: no request
 * is left over.
 */
static struct pp {
	const struct mech *m;
	unsigned long iters;
	unsigned int delay_ns;		/* B works this long before replying */
	pthread_barrier_t start;
	uint64_t elapsed;
	long csw[2];
	unsigned long allocs[2];
	struct slot req[PP_RING], rep[PP_RING];
} pp;

static void *
pp_a(void *arg)
{
	const struct mech *m = pp.m;
	void *req = &pp.req[0], *rep, *want;
	unsigned long i, a0;
	uint64_t t0;
	long c0;

	(void)arg;
	pthread_barrier_wait(&pp.start);
	c0 = voluntary_switches();
	a0 = tls_allocs;
	t0 = now_ns();
	for (i = 0; i < pp.iters; i++) {
		rep = &pp.rep[i % PP_RING];
		m->create(rep);
		m->send(req, rep);
		want = i + 1 < pp.iters ? &pp.req[(i + 1) % PP_RING] : NULL;
		if ((req = m->recv(rep)) != want)
			bad_value(m, want, req);
		m->destroy(rep);
	}
	pp.elapsed = now_ns() - t0;
	pp.allocs[0] = tls_allocs - a0;
	pp.csw[0] = voluntary_switches() - c0;
	return NULL;
}

static void *
pp_b(void *arg)
{
	const struct mech *m = pp.m;
	void *req = &pp.req[0], *rep, *next;
	unsigned long i, a0;
	long c0;

	(void)arg;
	m->create(req);
	pthread_barrier_wait(&pp.start);
	c0 = voluntary_switches();
	a0 = tls_allocs;
	for (i = 0; i < pp.iters; i++) {
		if ((rep = m->recv(req)) != &pp.rep[i % PP_RING])
			bad_value(m, &pp.rep[i % PP_RING], rep);
		m->destroy(req);
		if (pp.delay_ns)
			busy_for(pp.delay_ns);
		next = NULL;
		if (i + 1 < pp.iters) {
			next = &pp.req[(i + 1) % PP_RING];
			m->create(next);
		}
		m->send(rep, next);
		req = next;
	}
	pp.allocs[1] = tls_allocs - a0;
	pp.csw[1] = voluntary_switches() - c0;
	return NULL;
}

static void
pp_run(struct row *r, unsigned long iters, struct sample *s)
{
	pthread_t a, b;
	int err;

	pp.m = r->m;
	pp.iters = iters;
	if ((err = pthread_barrier_init(&pp.start, NULL, 2)))
		die("pthread_barrier_init: %s", strerror(err));
	start_pinned(&b, cpus[1 % ncpus], pp_b, NULL);
	start_pinned(&a, cpus[0], pp_a, NULL);
	join(a);
	join(b);
	pthread_barrier_destroy(&pp.start);
	s->elapsed = pp.elapsed;
	s->ops = iters;
	s->allocs = pp.allocs[0] + pp.allocs[1];
	s->value = (double)pp.elapsed / iters;
	s->csw = (double)(pp.csw[0] + pp.csw[1]) / iters;
}

static int
pp_setup(struct scen *sc)
{
	size_t i;

	for (i = 0; i < NMECHS; i++)
		if (mechs[i].flags & M_TS)
			add_row(sc, &mechs[i], 2);
	base_on_floor(sc);
	return 0;
}

/* ---------------------------------------------------------------------
 * Scenario spin: the pingpong of a caller-storage event with a range of
 * spin budgets, while the replying thread works for a range of times
 * before it replies. It is the measurement behind the default budget and
 * what a user tunes once_attr_setspin() with: spinning pays while the
 * reply comes within the budget, and costs CPU time when it does not.
 * Each row's ratio divides by the spin-0 row of the same reply delay.
 */
static const unsigned int sweep_spins[] = { 0, 1000, 2000, 5000, 20000 };
static const unsigned int sweep_delays[] = { 0, 3000, 10000 };
static once_attr_t attr_sweep;

static void
sweep_create(void *slot)
{
	lo_event_make(slot, &attr_sweep);
}

static const struct mech sweep_mech = {
	"libonce event", LO, LO_SIZE(ev), 0,
	sweep_create, lo_send, lo_recv, lo_event_destroy
};

static void
sweep_run(struct row *r, unsigned long iters, struct sample *s)
{
	ck(once_attr_setspin(&attr_sweep, r->spin_ns), "once_attr_setspin");
	pp.delay_ns = r->delay_ns;
	pp_run(r, iters, s);
	pp.delay_ns = 0;
}

static int
sweep_setup(struct scen *sc)
{
	struct row *r, *base;
	size_t d, k;

	for (d = 0; d < sizeof(sweep_delays) / sizeof(sweep_delays[0]); d++) {
		base = NULL;
		for (k = 0; k < sizeof(sweep_spins) / sizeof(sweep_spins[0]);
		     k++) {
			r = add_row(sc, &sweep_mech, 2);
			r->spin_ns = sweep_spins[k];
			r->delay_ns = sweep_delays[d];
			snprintf(r->name, sizeof(r->name),
				 "reply after %u us, spin %u us",
				 r->delay_ns / 1000, r->spin_ns / 1000);
			base = base ? base : r;
			r->base = base;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * Scenario pool-mt: N threads, each pinned to its own CPU, each running
 * its own bind / send / recv cycles; for the pool, on one shared pool.
 * The number is the total throughput; the ratio divides it by the same
 * mechanism's throughput on one thread.
 */
struct mt_arg {
	const struct mech *m;
	unsigned long iters;
	pthread_barrier_t *start;
	uint64_t t0, t1;
	unsigned long allocs;
	struct slot slot;
};

static void *
mt_thread(void *arg)
{
	struct mt_arg *a = arg;
	const struct mech *m = a->m;
	unsigned long i, a0;
	void *v, *got;

	pthread_barrier_wait(a->start);
	a0 = tls_allocs;
	a->t0 = now_ns();
	for (i = 1; i <= a->iters; i++) {
		v = (void *)(uintptr_t)i;
		m->create(&a->slot);
		m->send(&a->slot, v);
		if ((got = m->recv(&a->slot)) != v)
			bad_value(m, v, got);
		m->destroy(&a->slot);
	}
	a->t1 = now_ns();
	a->allocs = tls_allocs - a0;
	return NULL;
}

static void
mt_run(struct row *r, unsigned long iters, struct sample *s)
{
	static struct mt_arg args[MAX_CPUS];
	pthread_barrier_t start;
	pthread_t t[MAX_CPUS];
	uint64_t t0 = UINT64_MAX, t1 = 0;
	int i, n = r->threads, err;

	if ((err = pthread_barrier_init(&start, NULL, n)))
		die("pthread_barrier_init: %s", strerror(err));
	s->allocs = 0;
	for (i = 0; i < n; i++) {
		args[i].m = r->m;
		args[i].iters = iters;
		args[i].start = &start;
		start_pinned(&t[i], cpus[i], mt_thread, &args[i]);
	}
	for (i = 0; i < n; i++) {
		join(t[i]);
		t0 = args[i].t0 < t0 ? args[i].t0 : t0;
		t1 = args[i].t1 > t1 ? args[i].t1 : t1;
		s->allocs += args[i].allocs;
	}
	pthread_barrier_destroy(&start);
	s->elapsed = t1 - t0;
	s->ops = (unsigned long long)iters * n;
	s->value = s->elapsed ? 1e3 * s->ops / s->elapsed : 0;
	s->csw = 0;
}

/* 1, 2, ..., nproc; past 8 CPUs, powers of two and nproc itself. */
static int
mt_next(int n)
{
	if (ncpus <= 8 || n == ncpus)
		return n + 1;
	return 2 * n < ncpus ? 2 * n : ncpus;
}

static int
mt_setup(struct scen *sc)
{
	static const char *const names[] = {
		"libonce pool", "libonce event", "futex (raw floor)",
	};
	struct row *r, *one;
	size_t k;
	int n;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		one = NULL;
		for (n = 1; n <= ncpus; n = mt_next(n)) {
			r = add_row(sc, find_mech(names[k]), n);
			snprintf(r->name, sizeof(r->name), "%s, %d thread%s",
				 names[k], n, n > 1 ? "s" : "");
			one = one ? one : r;
			r->base = one;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * Scenario size: what one live event costs. Heap bytes are malloc chunk
 * bytes (headers included) from mallinfo2() around SIZE_EVENTS live
 * events; fds are counted in /proc/self/fd. The pools are fresh for this,
 * so that the slabs they grow are counted.
 */
static void
size_row(struct row *r, unsigned char *store)
{
	const struct mech *m = r->m;
	size_t heap0, st = stride(m), i;
	unsigned long a0;
	int fd0;
	void *v, *got;

	heap0 = heap_in_use();
	fd0 = count_fds();
	a0 = tls_allocs;
	for (i = 0; i < SIZE_EVENTS; i++)
		m->create(store + i * st);
	r->allocs_per_event = COUNT_ALLOCS ?
		(double)(tls_allocs - a0) / SIZE_EVENTS : NAN;
	r->heap = ((double)heap_in_use() - heap0) / SIZE_EVENTS;
	r->fds = (double)(count_fds() - fd0) / SIZE_EVENTS;
	for (i = 0; i < SIZE_EVENTS; i++) {
		v = (void *)(uintptr_t)(i + 1);
		m->send(store + i * st, v);
		if ((got = m->recv(store + i * st)) != v)
			bad_value(m, v, got);
		m->destroy(store + i * st);
	}
}

static int
size_setup(struct scen *sc)
{
	once_pool_t *saved = pool_spin, fresh;
	once_local_pool_t *lsaved = lpool, lfresh;
	unsigned char *store;
	size_t i;

	if (single_thread_rows(sc))
		return -1;
	store = aligned_alloc(64, (size_t)SIZE_EVENTS * SLOT_BYTES);
	if (!store)
		return -1;
	ck(once_pool_init(&fresh, NULL), "once_pool_init");
	ck(once_local_pool_init(&lfresh, NULL), "once_local_pool_init");
	pool_spin = &fresh;
	lpool = &lfresh;
	for (i = 0; i < (size_t)sc->nrows; i++)
		size_row(&sc->rows[i], store);
	pool_spin = saved;
	lpool = lsaved;
	ck(once_pool_destroy(&fresh), "once_pool_destroy");
	ck(once_local_pool_destroy(&lfresh), "once_local_pool_destroy");
	free(store);
	return 0;
}

/* ---------------------------------------------------------------------
 * The scenarios, in the order they run.
 */
static struct scen scens[] = {
	{ .name = "churn", .unit = "ns/event", .ratio_label = "vs futex",
	  .what = "ns per event: create, send, receive, destroy on one "
		  "thread (first CPU); the value is always there",
	  .start_iters = 1000, .setup = single_thread_rows,
	  .run = churn_run },
	{ .name = "live", .unit = "ns/event", .ratio_label = "vs futex",
	  .what = "ns per event with 10,000 live: one create plus one "
		  "send, receive, destroy of a random live event (batches "
		  "of 15)",
	  .start_iters = 64, .setup = live_setup, .run = live_run,
	  .teardown = live_teardown },
	{ .name = "pingpong", .unit = "ns/round trip",
	  .ratio_label = "vs futex",
	  .what = "ns per round trip between two pinned threads, two "
		  "fresh events each, blocking receive (spinning first "
		  "where the row does); allocs/op and ctx sw/rt count "
		  "both threads per round trip",
	  .start_iters = 64, .setup = pp_setup, .run = pp_run },
	{ .name = "spin", .unit = "ns/round trip",
	  .ratio_label = "vs spin 0",
	  .what = "ns per round trip of a libonce event between two pinned "
		  "threads, for spin budgets (once_attr_setspin) against how "
		  "long the replying thread works before it replies; ctx "
		  "sw/rt: sleeps per round trip",
	  .start_iters = 64, .setup = sweep_setup, .run = sweep_run },
	{ .name = "pool-mt", .unit = "M cycles/s",
	  .ratio_label = "vs 1 thread",
	  .what = "million create/send/receive/destroy cycles per second, "
		  "all threads together (higher is better); each thread "
		  "pinned, the pool shared",
	  .start_iters = 1000, .setup = mt_setup, .run = mt_run },
	{ .name = "size", .unit = "bytes",
	  .what = "footprint of one live event: state bytes in the slot, "
		  "heap bytes (malloc chunks) and fds, over 1000 live",
	  .setup = size_setup },
};

#define NSCENS	(sizeof(scens) / sizeof(scens[0]))

/* ---------------------------------------------------------------------
 * Output: Markdown.
 */
static struct {
	char cpu[192];
	char kernel[128];
	char when[64];
} machine;

static void
read_machine(void)
{
	char line[256], model[128] = "unknown", fam[32] = "", mod[32] = "";
	FILE *f = fopen("/proc/cpuinfo", "r");
	struct utsname u;
	time_t t = time(NULL);
	char *p;

	while (f && fgets(line, sizeof(line), f)) {
		if (!(p = strchr(line, ':')))
			continue;
		p += 1 + (p[1] == ' ');
		p[strcspn(p, "\n")] = 0;
		if (!strncmp(line, "model name", 10) &&
		    !strcmp(model, "unknown"))
			snprintf(model, sizeof(model), "%s", p);
		else if (!strncmp(line, "cpu family", 10) && !fam[0])
			snprintf(fam, sizeof(fam), "%s", p);
		else if (!strncmp(line, "model\t", 6) && !mod[0])
			snprintf(mod, sizeof(mod), "%s", p);
	}
	if (f)
		fclose(f);
	if (fam[0])
		snprintf(machine.cpu, sizeof(machine.cpu),
			 "%.80s (family %s, model %s)", model, fam, mod);
	else
		snprintf(machine.cpu, sizeof(machine.cpu), "%s", model);
	if (!uname(&u))
		snprintf(machine.kernel, sizeof(machine.kernel), "%s %.60s",
			 u.sysname, u.release);
	strftime(machine.when, sizeof(machine.when), "%Y-%m-%d %H:%M UTC",
		 gmtime(&t));
}

/* Three significant digits; 0 exactly; a dash for a missing value. */
static const char *
num(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else if (v == 0)
		snprintf(buf, len, "0");
	else if (v >= 100)
		snprintf(buf, len, "%.0f", v);
	else if (v >= 10)
		snprintf(buf, len, "%.1f", v);
	else if (v >= 0.1)
		snprintf(buf, len, "%.2f", v);
	else
		snprintf(buf, len, "%.3g", v);
	return buf;
}

static double
ratio(const struct row *r)
{
	if (!r->nruns || !r->base || !r->base->nruns || !r->base->median)
		return NAN;
	return r->median / r->base->median;
}

static double
allocs_per_op(const struct row *r)
{
	return r->ops && COUNT_ALLOCS ? (double)r->allocs / r->ops : NAN;
}

static void
md_header(void)
{
	printf("# once-bench\n\n");
	printf("- machine: %s, %d CPUs, %s; a pause costs %.1f ns\n",
	       machine.cpu, ncpus, machine.kernel, pause_ns);
	printf("- method: %d runs of about %d ms per row, interleaved "
	       "across rows; median, min and max of the runs; ratios "
	       "against rows of this invocation\n", opt.runs, opt.ms);
	printf("- date: %s\n\n", machine.when);
}

static void
md_size(const struct scen *sc)
{
	char a[32], b[32], c[32];
	int i;

	printf("| mechanism | state bytes | heap bytes/event | fds/event "
	       "| allocs/event |\n|---|--:|--:|--:|--:|\n");
	for (i = 0; i < sc->nrows; i++) {
		const struct row *r = &sc->rows[i];

		printf("| %s | %zu | %s | %s | %s |\n", r->name, r->m->size,
		       num(a, sizeof(a), r->heap), num(b, sizeof(b), r->fds),
		       num(c, sizeof(c), r->allocs_per_event));
	}
}

static void
md_row(const struct row *r, int pp_cols)
{
	char a[32], b[32], c[32], d[32], e[32], f[32];

	if (r->skip[0]) {
		printf("| %s | %s | | | | |%s\n", r->name, r->skip,
		       pp_cols ? " |" : "");
		return;
	}
	printf("| %s | %s | %s | %s | %sx | %s |", r->name,
	       num(a, sizeof(a), r->median), num(b, sizeof(b), r->min),
	       num(c, sizeof(c), r->max), num(d, sizeof(d), ratio(r)),
	       num(e, sizeof(e), allocs_per_op(r)));
	if (pp_cols)
		printf(" %s |", num(f, sizeof(f), r->csw_median));
	putchar('\n');
}

/* The spin-0 twin of a spinning libonce row, if it ran. */
static const struct row *
spin0_twin(const struct scen *sc, const struct row *r)
{
	size_t len = strlen(r->name);
	int i;

	for (i = 0; i < sc->nrows; i++)
		if (sc->rows[i].m->flags & M_NOSPIN && sc->rows[i].nruns &&
		    !strncmp(sc->rows[i].name, r->name, len))
			return &sc->rows[i];
	return NULL;
}

/* How much the default spin saves against sleeping at once. */
static void
md_spin_gain(const struct scen *sc)
{
	const struct row *r, *z;
	const char *sep = "\ndefault spin against spin 0 (speed-up):";
	char a[32];
	int i;

	for (i = 0; i < sc->nrows; i++) {
		r = &sc->rows[i];
		if (!(r->m->flags & M_LIBONCE) || r->m->flags & M_NOSPIN ||
		    !r->nruns || !(z = spin0_twin(sc, r)))
			continue;
		printf("%s %s %sx", sep, r->name,
		       num(a, sizeof(a), z->median / r->median));
		sep = ",";
	}
	if (*sep == ',')
		putchar('\n');
}

static void
md_scenario(const struct scen *sc)
{
	int pp_cols = !strcmp(sc->name, "pingpong") ||
		      !strcmp(sc->name, "spin"), i;

	printf("## %s\n\n%s", sc->name, sc->what);
	if (sc->steal >= 0)
		printf("; steal %.1f %%", sc->steal);
	printf(".\n\n");
	if (!sc->run) {
		md_size(sc);
		putchar('\n');
		return;
	}
	printf("| mechanism | median | min | max | %s | allocs/op |%s\n",
	       sc->ratio_label, pp_cols ? " ctx sw/rt |" : "");
	printf("|---|--:|--:|--:|--:|--:|%s\n", pp_cols ? "--:|" : "");
	for (i = 0; i < sc->nrows; i++)
		md_row(&sc->rows[i], pp_cols);
	if (!strcmp(sc->name, "pingpong"))
		md_spin_gain(sc);
	putchar('\n');
	fflush(stdout);
}

/* ---------------------------------------------------------------------
 * Output: JSON.
 */
static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void
json_num(FILE *f, const char *key, double v)
{
	fprintf(f, ", \"%s\": ", key);
	if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fprintf(f, "null");
}

static void
json_row(FILE *f, const struct scen *sc, const struct row *r)
{
	int k;

	fprintf(f, "        {\"name\": ");
	json_str(f, r->name);
	fprintf(f, ", \"unit\": ");
	json_str(f, sc->unit);
	if (!sc->run) {
		fprintf(f, ", \"state_bytes\": %zu", r->m->size);
		json_num(f, "heap_bytes_per_event", r->heap);
		json_num(f, "fds_per_event", r->fds);
		json_num(f, "allocs_per_event", r->allocs_per_event);
		fprintf(f, "}");
		return;
	}
	if (r->skip[0]) {
		fprintf(f, ", \"skipped\": ");
		json_str(f, r->skip);
		fprintf(f, "}");
		return;
	}
	json_num(f, "median", r->median);
	json_num(f, "min", r->min);
	json_num(f, "max", r->max);
	json_num(f, "ratio", ratio(r));
	json_num(f, "allocs_per_op", allocs_per_op(r));
	if (!strcmp(sc->name, "pingpong") || !strcmp(sc->name, "spin"))
		json_num(f, "ctx_switches_per_rt", r->csw_median);
	if (!strcmp(sc->name, "spin")) {
		fprintf(f, ", \"spin_ns\": %u", r->spin_ns);
		fprintf(f, ", \"reply_delay_ns\": %u", r->delay_ns);
	}
	if (!strcmp(sc->name, "pool-mt"))
		fprintf(f, ", \"threads\": %d", r->threads);
	fprintf(f, ", \"runs\": [");
	for (k = 0; k < r->nruns; k++)
		fprintf(f, "%s%.6g", k ? ", " : "", r->val[k]);
	fprintf(f, "]}");
}

static void
json_out(FILE *f)
{
	size_t s;
	int i, first = 1;

	fprintf(f, "{\n  \"tool\": \"once-bench\",\n  \"machine\": {\"cpu\": ");
	json_str(f, machine.cpu);
	fprintf(f, ", \"nproc\": %d, \"kernel\": ", ncpus);
	json_str(f, machine.kernel);
	fprintf(f, ", \"pause_ns\": %.3g},\n  \"date\": ", pause_ns);
	json_str(f, machine.when);
	fprintf(f, ",\n  \"runs\": %d,\n  \"ms_per_run\": %d,\n"
		"  \"scenarios\": [", opt.runs, opt.ms);
	for (s = 0; s < NSCENS; s++) {
		if (!scens[s].done)
			continue;
		fprintf(f, "%s\n    {\"name\": ", first ? "" : ",");
		json_str(f, scens[s].name);
		fprintf(f, ", \"what\": ");
		json_str(f, scens[s].what);
		json_num(f, "steal_pct", scens[s].steal >= 0 ?
			 scens[s].steal : NAN);
		fprintf(f, ",\n      \"rows\": [\n");
		for (i = 0; i < scens[s].nrows; i++) {
			json_row(f, &scens[s], &scens[s].rows[i]);
			fprintf(f, "%s\n", i + 1 < scens[s].nrows ? "," : "");
		}
		fprintf(f, "      ]}");
		first = 0;
	}
	fprintf(f, "\n  ]\n}\n");
}

/* ---------------------------------------------------------------------
 * Output: SVG. Horizontal bars of the ratio against the raw futex, on a
 * log scale, drawn from the 1x line: right of it is slower than the
 * floor, left of it faster.
 */
#define SVG_W		800
#define SVG_X0		250	/* the plot's left edge */
#define SVG_X1		720	/* its right edge; values to the right */
#define SVG_BAR		16
#define SVG_STEP	22

struct svg_scale {
	int lo, hi;		/* decades: log10 of the axis ends */
};

/*
 * log10 of x > 0, written out so that the tool needs no libm: the decade
 * by division, the rest as 2 atanh((m - 1) / (m + 1)) / ln 10. *decade
 * gets the integer part.
 */
static double
log10_of(double x, int *decade)
{
	double y, y2, t, sum = 0;
	int e = 0, k;

	if (!(x > 0 && isfinite(x)))
		x = 1;
	for (; x >= 10; e++)
		x /= 10;
	for (; x < 1; e--)
		x *= 10;
	y = (x - 1) / (x + 1);
	y2 = y * y;
	for (t = y, k = 1; k < 400; k += 2, t *= y2)
		sum += t / k;
	if (decade)
		*decade = e;
	return e + 2 * sum / 2.302585092994046;
}

static double
pow10_of(int d)
{
	double v = 1;

	for (; d > 0; d--)
		v *= 10;
	for (; d < 0; d++)
		v /= 10;
	return v;
}

static double
dabs(double v)
{
	return v < 0 ? -v : v;
}

static double
svg_x(const struct svg_scale *sc, double ratio)
{
	return SVG_X0 + (log10_of(ratio, NULL) - sc->lo) /
	       (sc->hi - sc->lo) * (SVG_X1 - SVG_X0);
}

static void
svg_text(FILE *f, double x, double y, const char *anchor, const char *s)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", x, y,
		anchor);
	for (; *s; s++) {
		if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else
			fputc(*s, f);
	}
	fputs("</text>\n", f);
}

static const char *
svg_colour(const struct row *r)
{
	if (r->m->flags & M_FLOOR)
		return "#333333";
	return r->m->flags & M_LIBONCE ? "#1f6feb" : "#9aa0a6";
}

/* One panel: a title, a decade grid, a bar per row. Returns its height. */
static int
svg_panel(FILE *f, const struct scen *sc, const struct svg_scale *s, int y)
{
	char buf[160], v[32];
	int i, d, top = y + 30, n = 0;
	double x, x1;

	snprintf(buf, sizeof(buf), "%s: %s relative to the raw futex",
		 sc->name, sc->unit);
	fprintf(f, "<g font-weight=\"bold\">");
	svg_text(f, 10, y + 18, "start", buf);
	fprintf(f, "</g>\n");
	for (i = 0; i < sc->nrows; i++)
		n += sc->rows[i].nruns && ratio(&sc->rows[i]) > 0;
	for (d = s->lo; d <= s->hi; d++) {
		x = svg_x(s, pow10_of(d));
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
			"stroke=\"%s\"/>\n", x, top - 4, x,
			top + n * SVG_STEP, d ? "#dddddd" : "#555555");
		snprintf(buf, sizeof(buf), "%gx", pow10_of(d));
		svg_text(f, x, top + n * SVG_STEP + 14, "middle", buf);
	}
	x1 = svg_x(s, 1);
	for (i = 0; i < sc->nrows; i++) {
		const struct row *r = &sc->rows[i];
		double rx;

		if (!r->nruns || !(ratio(r) > 0))
			continue;
		rx = svg_x(s, ratio(r));
		svg_text(f, SVG_X0 - 8, top + SVG_BAR - 3, "end", r->name);
		fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
			"height=\"%d\" fill=\"%s\"/>\n", rx < x1 ? rx : x1,
			top, dabs(rx - x1) < 2 ? 2 : dabs(rx - x1), SVG_BAR,
			svg_colour(r));
		num(v, sizeof(v), ratio(r));
		snprintf(buf, sizeof(buf), "%sx", v);
		svg_text(f, SVG_W - 8, top + SVG_BAR - 3, "end", buf);
		top += SVG_STEP;
	}
	return top + 24 - y;
}

static void
svg_range(const struct scen *sc, struct svg_scale *s)
{
	double r, l;
	int i, d;

	for (i = 0; i < sc->nrows; i++) {
		r = ratio(&sc->rows[i]);
		if (!isfinite(r) || r <= 0)
			continue;
		l = log10_of(r, &d);
		s->lo = d < s->lo ? d : s->lo;
		d += l > d;
		s->hi = d > s->hi ? d : s->hi;
	}
}

static int
svg_out(FILE *f)
{
	const struct scen *panels[2] = { &scens[0], &scens[2] };
	struct svg_scale s = { -1, 1 };
	int i, h = 72, y;
	char sub[512];

	for (i = 0; i < 2; i++)
		if (panels[i]->done)
			svg_range(panels[i], &s);
	for (i = 0; i < 2; i++)
		if (panels[i]->done)
			h += 60 + panels[i]->nrows * SVG_STEP;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		SVG_W, h, SVG_W, h);
	fprintf(f, "<g font-size=\"14\" font-weight=\"bold\">");
	svg_text(f, 10, 22, "start", "once-bench: median time against a "
		 "raw futex (log scale; shorter than 1x is faster)");
	fprintf(f, "</g>\n");
	snprintf(sub, sizeof(sub), "%s, %d CPUs, %s, %s; median of %d runs "
		 "of %d ms", machine.cpu, ncpus, machine.kernel, machine.when,
		 opt.runs, opt.ms);
	svg_text(f, 10, 40, "start", sub);
	fprintf(f, "<rect x=\"10\" y=\"48\" width=\"12\" height=\"10\" "
		"fill=\"#1f6feb\"/>\n<rect x=\"80\" y=\"48\" width=\"12\" "
		"height=\"10\" fill=\"#9aa0a6\"/>\n");
	svg_text(f, 26, 57, "start", "libonce");
	svg_text(f, 96, 57, "start", "the alternatives (and the floor, "
		 "dark, at 1x)");
	y = 62;
	for (i = 0; i < 2; i++)
		if (panels[i]->done)
			y += svg_panel(f, panels[i], &s, y);
	fprintf(f, "</svg>\n");
	return fclose(f) ? -1 : 0;
}

/* ---------------------------------------------------------------------
 * main.
 */
static void
usage(FILE *f)
{
	fprintf(f,
"usage: once-bench [-s SCENARIO[,...]] [-r RUNS] [-t MS] [--quick]\n"
"                  [--json] [--svg FILE]\n"
"  -s SCENARIO  churn, live, pingpong, spin, pool-mt, size (repeatable\n"
"               or a comma list; default: all)\n"
"  -r RUNS      runs per row, interleaved across rows (default 7)\n"
"  -t MS        length of one run in milliseconds (default 200)\n"
"  --quick      5 runs of 40 ms: the whole set in well under 20 s\n"
"  --json       machine-readable output instead of Markdown tables\n"
"  --svg FILE   also write a bar chart of the churn and pingpong ratios\n"
"  -h, --help   this text\n");
}

static void
select_scenarios(char *list, int *chosen)
{
	char *tok, *save = NULL;
	size_t s;

	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (s = 0; s < NSCENS; s++)
			if (!strcmp(tok, scens[s].name))
				break;
		if (s == NSCENS)
			die("unknown scenario %s (try -h)", tok);
		chosen[s] = 1;
	}
}

static int
int_arg(const char *s, int lo, int hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		die("%s must be a number from %d to %d", what, lo, hi);
	return (int)v;
}

static void
parse_args(int argc, char **argv, int *chosen)
{
	static const struct option longs[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "svg", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, runs = 0, ms = 0;

	while ((c = getopt_long(argc, argv, "s:r:t:h", longs, NULL)) != -1) {
		switch (c) {
		case 's': select_scenarios(optarg, chosen); break;
		case 'r': runs = int_arg(optarg, 1, MAX_RUNS, "-r"); break;
		case 't': ms = int_arg(optarg, 1, 60000, "-t"); break;
		case 'q': opt.quick = 1; break;
		case 'j': opt.json = 1; break;
		case 'g': opt.svg = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(1);
		}
	}
	if (optind < argc)
		die("unexpected argument %s (try -h)", argv[optind]);
	if (opt.quick) {
		opt.runs = 5;
		opt.ms = 40;
	}
	opt.runs = runs ? runs : opt.runs;
	opt.ms = ms ? ms : opt.ms;
}

/* Pipes and eventfds need many fds in the live scenario. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
libonce_setup(void)
{
	ck(once_attr_init(&attr_nospin), "once_attr_init");
	ck(once_attr_setspin(&attr_nospin, 0), "once_attr_setspin");
	ck(once_attr_init(&attr_sweep), "once_attr_init");
	ck(once_pool_init(pool_spin, NULL), "once_pool_init");
	ck(once_pool_init(pool_nospin, &attr_nospin), "once_pool_init");
	ck(once_local_pool_init(lpool, NULL), "once_local_pool_init");
}

static void
libonce_teardown(void)
{
	ck(once_pool_destroy(pool_spin), "once_pool_destroy");
	ck(once_pool_destroy(pool_nospin), "once_pool_destroy");
	ck(once_local_pool_destroy(lpool), "once_local_pool_destroy");
	ck(once_attr_destroy(&attr_nospin), "once_attr_destroy");
	ck(once_attr_destroy(&attr_sweep), "once_attr_destroy");
}

int
main(int argc, char **argv)
{
	int chosen[NSCENS] = { 0 }, any = 0;
	FILE *svg = NULL;
	size_t s;

	parse_args(argc, argv, chosen);
	/* Before the measurements: a bad path should not cost a minute. */
	if (opt.svg && !(svg = fopen(opt.svg, "w")))
		die("%s: %s", opt.svg, strerror(errno));
	for (s = 0; s < NSCENS; s++)
		any |= chosen[s];
	progress = isatty(STDERR_FILENO);
	/* The inline rows report the sizes of these slots: keep them equal. */
	if (inline_event_size != LO_SIZE(ev) ||
	    inline_local_size != sizeof(struct ll_slot))
		die("once-bench-inline.c's slots differ from once-bench.c's");
	read_cpus();
	read_machine();
	raise_fd_limit();
	if (pin_self(cpus[0]))
		die("cannot pin to CPU %d", cpus[0]);
	calibrate_pause();
	libonce_setup();
	if (!opt.json)
		md_header();
	for (s = 0; s < NSCENS; s++) {
		if (any && !chosen[s])
			continue;
		run_scenario(&scens[s]);
		if (!opt.json)
			md_scenario(&scens[s]);
	}
	libonce_teardown();
	if (opt.json)
		json_out(stdout);
	if (svg && svg_out(svg))
		die("%s: %s", opt.svg, strerror(errno));
	if (fflush(stdout) || ferror(stdout))
		die("writing the output failed");
	return 0;
}
