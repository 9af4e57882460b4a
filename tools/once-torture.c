/*
 * once-torture.c - a stress tester for libonce, in the spirit of the
 * kernel's locktorture.
 *
 * Threads run random mixes of every operation on thread-safe events:
 * bind from caller storage, the heap, channels and pools; send and sender
 * close; blocking, try, timed and clock receives (some time out and wait
 * again); receiver close; completion callbacks; pool trim and stats; heap
 * pools dropped while their events are out; fork, whose child must find
 * the pools usable. Most events cross threads:
 * the thread that binds keeps one endpoint and hands the other, or both,
 * to other threads through mailboxes, so sends and receives race.
 *
 * Every value sent is a token: an index into a table of fates and the
 * generation of that entry. Whoever ends a token's flight records how
 * (received, handed back by EPIPE, passed to the destructor) with one
 * CAS, so a second fate is caught where it happens; when both endpoints of
 * an event are done, the last one checks that the fate is the one their
 * results call for, so a value that vanished is caught at once. A counting
 * allocator behind every event and pool proves at the end that nothing
 * leaked; a watchdog reports an operation that never returns.
 *
 * Built against the test copy of the library (tests/libonce-broken.la,
 * ONCE_TEST_BROKEN), --broken=KIND makes that copy misbehave on purpose:
 * the torture must then fail, which is what makes its success mean
 * something (locktorture's lock_busted).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <once.h>

#ifdef ONCE_TEST_BROKEN
#include "internal.h"
#endif

#define MAX_THREADS		256
#define JOBS_PER_THREAD		32	/* events out, per thread on average */
#define REPORT_MAX		20	/* "!!!" lines printed, at most */

/* Exit statuses (once-torture(1)). */
#define EXIT_FAIL		1	/* lost, duplicated, leaked, misbehaved */
#define EXIT_USAGE		2
#define EXIT_HANG		3	/* the watchdog found a stuck operation */

/*
 * The fate table: entry i holds (gen << 3) | state. A token is the value
 * (gen << TOKEN_BITS) | i; gen starts at 1, so no token is NULL.
 */
#define TOKEN_BITS		20
#define NTOKENS			(1u << TOKEN_BITS)
#define TOKEN_GEN_MASK		((UINT64_C(1) << (64 - TOKEN_BITS)) - 1)

enum fate {
	F_FREE,			/* not in use */
	F_FLYING,		/* given to a job: sent or about to be */
	F_RECEIVED,		/* a receive returned it */
	F_EPIPE,		/* once_send() handed it back */
	F_DESTRUCTOR,		/* passed to the destructor */
};

static const char *const fate_names[] = {
	"free", "in flight", "received", "handed back by EPIPE",
	"passed to the destructor",
};

/* Where a job's event comes from. */
enum store {
	S_CALLER,		/* once_event_init() on memory the job owns */
	S_HEAP,			/* once_event_create() */
	S_CHANNEL,		/* once_channel() */
	S_POOL,			/* a caller-storage once_pool_t */
	S_HEAP_POOL,		/* once_pool_create(), replaced now and then */
	NSTORES
};

static const char *const store_names[] = {
	"caller-storage", "heap", "channel", "pool", "heap-pool",
};

/* Attribute sets: the spin budget varies, destructor and allocator not. */
#define NATTRS			3
static const unsigned int attr_spin[NATTRS] = { ONCE_SPIN_DEFAULT, 0, 2000 };
static const char *const spin_names[NATTRS] = {
	"default spin", "spin 0", "spin 2 us",
};

/* Operations, as the watchdog names them and the statistics count them. */
enum op {
	OP_IDLE,
	OP_BIND, OP_CREATE, OP_CHANNEL, OP_POOL_BIND,
	OP_SEND, OP_SENDER_CLOSE, OP_SENDER_CLOSED,
	OP_RECV, OP_TRYRECV, OP_TIMEDRECV, OP_CLOCKRECV, OP_RECEIVER_READY,
	OP_RECEIVER_CLOSE, OP_NOTIFY,
	OP_DESTROY, OP_UNREF,
	OP_POOL_TRIM, OP_POOL_STATS, OP_POOL_SWAP, OP_POOL_UNREF,
	OP_POOL_DESTROY, OP_FORK,
	NOPS
};

static const char *const op_names[] = {
	"nothing",
	"once_event_bind", "once_event_create", "once_channel",
	"once_pool_bind",
	"once_send", "once_sender_close", "once_sender_closed",
	"once_recv", "once_tryrecv", "once_timedrecv", "once_clockrecv",
	"once_receiver_ready", "once_receiver_close", "once_receiver_notify",
	"once_event_destroy", "once_event_unref",
	"once_pool_trim", "once_pool_stats", "once_pool_create",
	"once_pool_unref", "once_pool_destroy", "fork",
};
_Static_assert(sizeof(op_names) / sizeof(op_names[0]) == NOPS,
	       "a name for every operation");

/* How each endpoint ended. */
enum tx_end { TX_LIVE, TX_SENT, TX_EPIPE, TX_CLOSED, TX_BAD };
enum rx_end { RX_LIVE, RX_RECEIVED, RX_DESTRUCTOR, RX_EPIPE, RX_CLOSED,
	      RX_BAD };

/*
 * One event and its two endpoints, from bind to the end of the second
 * endpoint. parts counts what is still to come (sender, receiver, and the
 * callback once one is registered); whoever drops the last part checks
 * the outcome and frees the job.
 */
struct job {
	once_sender_t tx;		/* the sender's holder only */
	once_receiver_t rx;		/* the receiver's holder only */
	once_event_t *ev;		/* S_CALLER storage, or the creator's
					   reference of S_HEAP; else NULL */
	uintptr_t value;		/* the token this job sends */
	uint64_t id;
	enum store store;
	unsigned int attr;
	atomic_int parts;
	atomic_int callbacks;		/* runs of the notify callback */
	int tx_holder, rx_holder;	/* set before the job is handed over */
	atomic_int tx_done;		/* the sender is consumed */
	atomic_uint_fast64_t tx_done_ns;
	enum tx_end tx_end;		/* by the sender's holder */
	enum rx_end rx_end;		/* by the receiver's holder */
	bool notify;			/* by the receiver's holder */
	size_t tx_idx, rx_idx;		/* in the holders' arrays, or NONE */
	struct job *tx_next, *rx_next, *ready_next;	/* mailbox links */
};

#define NONE			SIZE_MAX

struct held {
	struct job **v;
	size_t n, cap;
};

/* A thread of the torture. The watchdog reads the op_* fields. */
struct worker {
	pthread_t thread;
	int id;
	uint64_t rng;
	struct job *_Atomic tx_box;	/* senders handed to this thread */
	struct job *_Atomic rx_box;	/* receivers handed to this thread */
	struct job *_Atomic ready;	/* receivers whose callback ran */
	struct held tx, rx;
	size_t tok_first, tok_count, tok_next;
	once_pool_t *heap_pool;		/* this thread's reference */
	unsigned int heap_pool_uses;
	unsigned int heap_pool_attr;
	atomic_int op;
	atomic_int op_store, op_attr;
	atomic_uint_fast64_t op_job;
	struct job *_Atomic op_jobp;	/* for the hang report only */
	atomic_uint_fast64_t op_since;
	atomic_ulong progress;
	atomic_ulong count[NOPS];
	atomic_ulong timeouts;
	atomic_ulong callbacks;
} __attribute__((aligned(64)));

/* The counting allocator behind every event and pool. */
struct counting {
	atomic_long live_bytes;
	atomic_ulong allocs, frees;
};

static struct {
	unsigned int threads;
	double duration;
	double stat_interval;
	double watchdog;
	uint64_t seed;
	int broken;
	const char *broken_name;
} opt = { 0, 30, 10, 10, 0, 0, "none" };

static struct worker *workers;
static struct worker main_status;	/* the main thread, for the watchdog */
static _Atomic uint64_t *tokens;
static once_attr_t attrs[NATTRS];
static struct counting counting;
static once_pool_t pools[2];		/* default spin, spin 0 */
static once_pool_t *heap_pool;		/* the current one, under heap_lock */
static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;

static atomic_int stopping;		/* no new jobs; drain and leave */
static atomic_int failed;
static atomic_int watchdog_stop;
static atomic_long jobs_out;
static atomic_uint_fast64_t next_job_id;
static atomic_uint_fast64_t last_job_end_ns;
static uint64_t start_ns;

/* The outcome. */
static atomic_ulong n_received, n_epipe, n_destructor, n_closed;
static atomic_ulong n_lost, n_duplicated, n_errors, n_reports;
static atomic_ulong n_dtor_calls;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* How long ago t was; other threads' clocks may be a little ahead. */
static uint64_t
age(uint64_t now, uint64_t t)
{
	return now > t ? now - t : 0;
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "once-torture: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

/*
 * A failure: count it, print it (the first REPORT_MAX of them, marked
 * "!!!" as locktorture marks its own) and end the run early.
 */
static void
report(atomic_ulong *counter, const char *fmt, ...)
{
	va_list ap;
	char line[512];

	atomic_fetch_add(counter, 1);
	atomic_store(&failed, 1);
	if (atomic_fetch_add(&n_reports, 1) >= REPORT_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("once-torture: !!! %s\n", line);
}

static const char *
err_name(int err)
{
	switch (err) {
	case 0: return "0";
	case EAGAIN: return "EAGAIN";
	case EALREADY: return "EALREADY";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	case EPIPE: return "EPIPE";
	case ETIMEDOUT: return "ETIMEDOUT";
	default: return strerror(err);
	}
}

/* xorshift64*: each thread draws its own choices from the seed. */
static uint64_t
rnd(struct worker *w)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * UINT64_C(2685821657736338717);
}

static unsigned int
pick(struct worker *w, unsigned int n)
{
	return (unsigned int)((rnd(w) >> 32) % n);
}

/* ---------------------------------------------------------------------
 * The counting allocator: a header keeps the size, so that a free with
 * another size than was asked for is caught too.
 */
#define HDR			16

static void *
count_alloc(size_t size, void *ctx)
{
	struct counting *c = ctx;
	char *p = malloc(size + HDR);

	if (!p)
		return NULL;
	memcpy(p, &size, sizeof(size));
	atomic_fetch_add(&c->live_bytes, (long)size);
	atomic_fetch_add(&c->allocs, 1);
	return p + HDR;
}

static void
count_free(void *ptr, size_t size, void *ctx)
{
	struct counting *c = ctx;
	char *p = (char *)ptr - HDR;
	size_t asked;

	memcpy(&asked, p, sizeof(asked));
	if (asked != size)
		report(&n_errors, "allocator: %zu bytes freed as %zu", asked,
		       size);
	memset(p, 0x5a, asked + HDR);
	free(p);
	atomic_fetch_sub(&c->live_bytes, (long)asked);
	atomic_fetch_add(&c->frees, 1);
}

/* ---------------------------------------------------------------------
 * Tokens and their fates.
 */
static uintptr_t
token_get(struct worker *w)
{
	size_t k, i;
	uint64_t t;

	for (k = 0; k < w->tok_count; k++) {
		i = w->tok_first + w->tok_next++ % w->tok_count;
		t = atomic_load_explicit(&tokens[i], memory_order_acquire);
		if ((t & 7) != F_FREE)
			continue;
		atomic_store_explicit(&tokens[i], (t & ~UINT64_C(7)) | F_FLYING,
				      memory_order_relaxed);
		return (uintptr_t)(((t >> 3) & TOKEN_GEN_MASK) << TOKEN_BITS |
				   i);
	}
	return 0;
}

static void
token_put(uintptr_t v)
{
	size_t i = v & (NTOKENS - 1);
	uint64_t gen = (uint64_t)v >> TOKEN_BITS;

	atomic_store_explicit(&tokens[i], (gen + 1) << 3 | F_FREE,
			      memory_order_release);
}

static enum fate
token_fate(uintptr_t v)
{
	return atomic_load_explicit(&tokens[v & (NTOKENS - 1)],
				    memory_order_acquire) & 7;
}

/*
 * Record that value v met fate f, from where. One CAS takes the entry
 * out of flight: a value that arrives twice finds it taken, or finds a
 * later generation if its job is over.
 */
static bool
record_fate(void *value, enum fate f, const char *where)
{
	uintptr_t v = (uintptr_t)value;
	size_t i = v & (NTOKENS - 1);
	uint64_t gen = (uint64_t)v >> TOKEN_BITS, t, tgen;

	t = atomic_load_explicit(&tokens[i], memory_order_acquire);
	for (;;) {
		tgen = (t >> 3) & TOKEN_GEN_MASK;
		if (tgen != gen || gen == 0) {
			report(tgen > gen && gen ? &n_duplicated : &n_errors,
			       "%s: value %#" PRIxPTR " %s", where, v,
			       tgen > gen && gen ?
			       "again, after its event was over (duplicated)" :
			       "was never sent");
			return false;
		}
		if ((t & 7) != F_FLYING) {
			report(&n_duplicated, "%s: value %#" PRIxPTR " was %s"
			       " already (duplicated)", where, v,
			       fate_names[t & 7]);
			return false;
		}
		if (atomic_compare_exchange_weak_explicit(&tokens[i], &t,
				(t & ~UINT64_C(7)) | f, memory_order_acq_rel,
				memory_order_acquire))
			return true;
	}
}

static void
on_destroy(void *value)
{
	atomic_fetch_add_explicit(&n_dtor_calls, 1, memory_order_relaxed);
	record_fate(value, F_DESTRUCTOR, "destructor");
}

/* ---------------------------------------------------------------------
 * What each thread is doing, for the watchdog and the statistics.
 */
static void
op_begin(struct worker *w, enum op op, struct job *j)
{
	atomic_store_explicit(&w->op_since, now_ns(), memory_order_relaxed);
	atomic_store_explicit(&w->op_job, j ? j->id : 0, memory_order_relaxed);
	atomic_store_explicit(&w->op_jobp, j, memory_order_relaxed);
	atomic_store_explicit(&w->op_store, j ? (int)j->store : -1,
			      memory_order_relaxed);
	atomic_store_explicit(&w->op_attr, j ? (int)j->attr : -1,
			      memory_order_relaxed);
	atomic_store_explicit(&w->op, op, memory_order_release);
}

static void
op_end(struct worker *w, enum op op)
{
	atomic_store_explicit(&w->op, OP_IDLE, memory_order_release);
	atomic_fetch_add_explicit(&w->count[op], 1, memory_order_relaxed);
}

/* ---------------------------------------------------------------------
 * Mailboxes and holdings. A mailbox is a stack that anyone pushes onto
 * and only its owner empties, whole: no pop of one node, so no ABA.
 */
#define BOX_PUSH(box, j, link)						\
	do {								\
		struct job *old_ = atomic_load_explicit(box,		\
						memory_order_relaxed);	\
		do								\
			(j)->link = old_;				\
		while (!atomic_compare_exchange_weak_explicit(box, &old_, \
				(j), memory_order_release,		\
				memory_order_relaxed));			\
	} while (0)

static void
held_add(struct held *h, struct job *j, size_t *idx)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->v = realloc(h->v, h->cap * sizeof(*h->v));
		if (!h->v)
			die("out of memory");
	}
	*idx = h->n;
	h->v[h->n++] = j;
}

static void
held_remove_tx(struct held *h, struct job *j)
{
	struct job *last = h->v[--h->n];

	h->v[j->tx_idx] = last;
	last->tx_idx = j->tx_idx;
	j->tx_idx = NONE;
}

static void
held_remove_rx(struct held *h, struct job *j)
{
	struct job *last = h->v[--h->n];

	h->v[j->rx_idx] = last;
	last->rx_idx = j->rx_idx;
	j->rx_idx = NONE;
}

/* Scribble over what we free: a late access then reads garbage. */
static void
poison_free(void *p, size_t size)
{
	memset(p, 0x6b, size);
	free(p);
}

/* ---------------------------------------------------------------------
 * The end of a job: the last part checks that the token's fate is the
 * one the endpoints' results call for, and frees what the job owns.
 */
static enum fate
expected_fate(const struct job *j, const char **why)
{
	*why = NULL;
	switch (j->tx_end) {
	case TX_SENT:
		if (j->rx_end == RX_RECEIVED)
			return F_RECEIVED;
		if (j->rx_end == RX_DESTRUCTOR || j->rx_end == RX_CLOSED)
			return F_DESTRUCTOR;
		if (j->rx_end == RX_EPIPE)
			*why = "the receive returned EPIPE, the send 0";
		break;
	case TX_EPIPE:
		if (j->rx_end == RX_CLOSED)
			return F_EPIPE;
		*why = "the send returned EPIPE, but the receiver was not"
		       " closed";
		break;
	case TX_CLOSED:
		if (j->rx_end == RX_EPIPE || j->rx_end == RX_CLOSED)
			return F_FLYING;	/* never sent */
		*why = "a value arrived, but the sender was closed";
		break;
	default:
		break;
	}
	return F_FREE;		/* no verdict */
}

static void
job_check(struct job *j)
{
	const char *why;
	enum fate want = expected_fate(j, &why), got = token_fate(j->value);

	if (why)
		report(&n_errors, "job %" PRIu64 " (%s event): %s", j->id,
		       store_names[j->store], why);
	if (j->notify && atomic_load(&j->callbacks) != 1)
		report(&n_errors, "job %" PRIu64 " (%s event): the callback"
		       " ran %d times", j->id, store_names[j->store],
		       atomic_load(&j->callbacks));
	if (want == F_FREE || got == want) {
		if (got == F_RECEIVED)
			atomic_fetch_add(&n_received, 1);
		else if (got == F_EPIPE)
			atomic_fetch_add(&n_epipe, 1);
		else if (got == F_DESTRUCTOR)
			atomic_fetch_add(&n_destructor, 1);
		else
			atomic_fetch_add(&n_closed, 1);
		return;
	}
	if (got == F_FLYING)
		report(&n_lost, "job %" PRIu64 " (%s event, %s): value %#"
		       PRIxPTR " lost: should have been %s, but neither"
		       " endpoint reported it", j->id, store_names[j->store],
		       spin_names[j->attr], j->value, fate_names[want]);
	else
		report(&n_errors, "job %" PRIu64 " (%s event): value %#"
		       PRIxPTR " was %s, should have been %s", j->id,
		       store_names[j->store], j->value, fate_names[got],
		       fate_names[want]);
}

static void
job_end(struct worker *w, struct job *j)
{
	int err;

	job_check(j);
	token_put(j->value);
	if (j->ev && j->store == S_CALLER) {
		op_begin(w, OP_DESTROY, j);
		err = once_event_destroy(j->ev);
		op_end(w, OP_DESTROY);
		if (err)
			report(&n_errors, "job %" PRIu64 ": once_event_destroy"
			       " returned %s after both endpoints were done",
			       j->id, err_name(err));
		else
			poison_free(j->ev, sizeof(*j->ev));
		/* else leaked: something may still use it */
	} else if (j->ev) {
		op_begin(w, OP_UNREF, j);
		err = once_event_unref(j->ev);
		op_end(w, OP_UNREF);
		if (err)
			report(&n_errors, "job %" PRIu64 ": once_event_unref"
			       " returned %s", j->id, err_name(err));
	}
	poison_free(j, sizeof(*j));
	atomic_store_explicit(&last_job_end_ns, now_ns(), memory_order_relaxed);
	atomic_fetch_sub(&jobs_out, 1);
}

static void
part_done(struct worker *w, struct job *j)
{
	if (atomic_fetch_sub_explicit(&j->parts, 1, memory_order_acq_rel) == 1)
		job_end(w, j);
}

/* ---------------------------------------------------------------------
 * Binding: a job's event from one of the five stores.
 */
static int heap_pool_attr;		/* under heap_lock */

/* This thread's reference to the current heap pool, renewed now and then. */
static int
heap_pool_take(struct worker *w, unsigned int *attr)
{
	once_pool_t *p;
	int err, p_attr;

	if (w->heap_pool && w->heap_pool_uses++ < 500) {
		*attr = w->heap_pool_attr;
		return 0;
	}
	pthread_mutex_lock(&heap_lock);
	p = heap_pool;
	p_attr = heap_pool_attr;
	err = once_pool_ref(p);
	pthread_mutex_unlock(&heap_lock);
	if (err) {
		report(&n_errors, "once_pool_ref returned %s", err_name(err));
		return err;
	}
	if (w->heap_pool) {
		op_begin(w, OP_POOL_UNREF, NULL);
		err = once_pool_unref(w->heap_pool);
		op_end(w, OP_POOL_UNREF);
		if (err)
			report(&n_errors, "once_pool_unref returned %s",
			       err_name(err));
	}
	w->heap_pool = p;
	w->heap_pool_attr = (unsigned int)p_attr;
	w->heap_pool_uses = 0;
	*attr = w->heap_pool_attr;
	return 0;
}

static int
bind_caller(struct worker *w, struct job *j)
{
	once_sender_t tx;
	once_receiver_t rx;
	int err;

	if (!(j->ev = malloc(sizeof(*j->ev))))
		die("out of memory");
	op_begin(w, OP_BIND, j);
	err = once_event_init(j->ev, &attrs[j->attr]);
	if (!err)
		err = once_event_bind(j->ev, &j->tx, &j->rx);
	op_end(w, OP_BIND);
	if (err)
		return err;
	/* An event is bound once in its life. */
	if (pick(w, 16) == 0 && (err = once_event_bind(j->ev, &tx, &rx)) !=
	    EALREADY)
		report(&n_errors, "job %" PRIu64 ": a second once_event_bind"
		       " returned %s, not EALREADY", j->id, err_name(err));
	return 0;
}

static int
bind_heap(struct worker *w, struct job *j)
{
	int err;

	op_begin(w, OP_CREATE, j);
	err = once_event_create(&j->ev, &attrs[j->attr]);
	op_end(w, OP_CREATE);
	if (err)
		return err;
	if (pick(w, 4) == 0 && ((err = once_event_ref(j->ev)) ||
				(err = once_event_unref(j->ev))))
		report(&n_errors, "job %" PRIu64 ": once_event_ref/unref"
		       " returned %s", j->id, err_name(err));
	op_begin(w, OP_BIND, j);
	err = once_event_bind(j->ev, &j->tx, &j->rx);
	op_end(w, OP_BIND);
	if (err)
		return err;
	/* The bound pair holds a reference of its own. */
	if (pick(w, 2)) {
		op_begin(w, OP_UNREF, j);
		err = once_event_unref(j->ev);
		op_end(w, OP_UNREF);
		j->ev = NULL;
		if (err)
			report(&n_errors, "job %" PRIu64 ": once_event_unref"
			       " returned %s", j->id, err_name(err));
	}
	return 0;
}

static int
bind_job(struct worker *w, struct job *j)
{
	unsigned int attr;
	int err;

	switch (j->store) {
	case S_CALLER:
		return bind_caller(w, j);
	case S_HEAP:
		return bind_heap(w, j);
	case S_CHANNEL:
		op_begin(w, OP_CHANNEL, j);
		err = once_channel(&j->tx, &j->rx, &attrs[j->attr]);
		op_end(w, OP_CHANNEL);
		return err;
	case S_POOL:
		j->attr = pick(w, 2);
		op_begin(w, OP_POOL_BIND, j);
		err = once_pool_bind(&pools[j->attr], &j->tx, &j->rx);
		op_end(w, OP_POOL_BIND);
		return err;
	default:
		if ((err = heap_pool_take(w, &attr)))
			return err;
		j->attr = attr;
		op_begin(w, OP_POOL_BIND, j);
		err = once_pool_bind(w->heap_pool, &j->tx, &j->rx);
		op_end(w, OP_POOL_BIND);
		return err;
	}
}

static struct job *
job_new(struct worker *w)
{
	struct job *j;
	uintptr_t v;
	int err;

	if (atomic_load_explicit(&jobs_out, memory_order_relaxed) >=
	    (long)(JOBS_PER_THREAD * opt.threads) || !(v = token_get(w)))
		return NULL;
	if (!(j = calloc(1, sizeof(*j))))
		die("out of memory");
	j->id = atomic_fetch_add_explicit(&next_job_id, 1,
					  memory_order_relaxed) + 1;
	j->value = v;
	j->store = pick(w, NSTORES);
	j->attr = pick(w, NATTRS);
	j->tx_idx = j->rx_idx = NONE;
	atomic_init(&j->parts, 2);
	if ((err = bind_job(w, j))) {
		report(&n_errors, "job %" PRIu64 ": binding a %s event"
		       " returned %s", j->id, store_names[j->store],
		       err_name(err));
		token_put(v);
		free(j);	/* and its event, if any, leaks */
		return NULL;
	}
	atomic_fetch_add(&jobs_out, 1);
	return j;
}

/*
 * Keep both endpoints, or hand one or both to other threads. The job may
 * be gone once the last endpoint has left this thread. Returns whether
 * this thread kept both.
 */
static bool
job_hand_out(struct worker *w, struct job *j)
{
	int n = (int)opt.threads, to_tx = w->id, to_rx = w->id;

	switch (n > 1 ? pick(w, 4) : 0) {
	case 0:
		break;
	case 1:
		to_tx = (w->id + 1 + (int)pick(w, n - 1)) % n;
		break;
	case 2:
		to_rx = (w->id + 1 + (int)pick(w, n - 1)) % n;
		break;
	default:
		to_tx = (int)pick(w, n);
		to_rx = (int)pick(w, n);
		break;
	}
	j->tx_holder = to_tx;
	j->rx_holder = to_rx;
	if (to_tx == w->id)
		held_add(&w->tx, j, &j->tx_idx);
	if (to_rx == w->id)
		held_add(&w->rx, j, &j->rx_idx);
	if (to_tx != w->id)
		BOX_PUSH(&workers[to_tx].tx_box, j, tx_next);
	if (to_rx != w->id)
		BOX_PUSH(&workers[to_rx].rx_box, j, rx_next);
	return to_tx == w->id && to_rx == w->id;
}

/* ---------------------------------------------------------------------
 * The sender's side.
 */
static void
act_tx(struct worker *w, struct job *j)
{
	const char *what = "once_send";
	int closed = -1, err;

	held_remove_tx(&w->tx, j);
	if (pick(w, 4) == 0) {
		op_begin(w, OP_SENDER_CLOSED, j);
		closed = once_sender_closed(&j->tx);
		op_end(w, OP_SENDER_CLOSED);
	}
	if (pick(w, 10) == 0) {
		what = "once_sender_close";
		op_begin(w, OP_SENDER_CLOSE, j);
		err = once_sender_close(&j->tx);
		op_end(w, OP_SENDER_CLOSE);
		j->tx_end = err ? TX_BAD : TX_CLOSED;
	} else {
		op_begin(w, OP_SEND, j);
		err = once_send(&j->tx, (void *)j->value);
		op_end(w, OP_SEND);
		if (err == 0 && closed != 1) {
			j->tx_end = TX_SENT;
		} else if (err == EPIPE) {
			j->tx_end = TX_EPIPE;
			record_fate((void *)j->value, F_EPIPE,
				    "once_send (EPIPE)");
		} else {
			j->tx_end = TX_BAD;
		}
	}
	if (j->tx_end == TX_BAD)
		report(&n_errors, "job %" PRIu64 " (%s event, %s): %s returned"
		       " %s%s", j->id, store_names[j->store],
		       spin_names[j->attr], what, err_name(err),
		       closed == 1 ? " after once_sender_closed said 1" :
		       " for a live sender");
	if (j->tx.ev_)
		report(&n_errors, "job %" PRIu64 ": the sender was not cleared",
		       j->id);
	atomic_store_explicit(&j->tx_done_ns, now_ns(), memory_order_relaxed);
	atomic_store_explicit(&j->tx_done, 1, memory_order_release);
	part_done(w, j);
}

/* ---------------------------------------------------------------------
 * The receiver's side.
 */
static void on_arrival(void *arg);

/*
 * The receiver is done: caller storage may go at once, even if the sender
 * has not left once_send() yet (once_event_destroy(3)).
 */
static void
rx_finish(struct worker *w, struct job *j)
{
	int err;

	held_remove_rx(&w->rx, j);
	if (j->rx.ev_)
		report(&n_errors, "job %" PRIu64 ": the receiver was not"
		       " cleared", j->id);
	if (j->store == S_CALLER && j->rx_end != RX_CLOSED &&
	    j->rx_end != RX_BAD && pick(w, 2)) {
		op_begin(w, OP_DESTROY, j);
		err = once_event_destroy(j->ev);
		op_end(w, OP_DESTROY);
		if (err)
			report(&n_errors, "job %" PRIu64 ": once_event_destroy"
			       " returned %s after a receive returned",
			       j->id, err_name(err));
		else
			poison_free(j->ev, sizeof(*j->ev));
		j->ev = NULL;
	}
	part_done(w, j);
}

/*
 * What a receive returned. Returns false while the receiver stays live
 * (nothing yet, a timeout, EBUSY under a callback), unless something must
 * have arrived already (a callback ran, receiver_ready said so).
 */
static bool
rx_result(struct worker *w, struct job *j, enum op op, int err,
	  void **valuep, void *got, bool must_arrive)
{
	switch (err) {
	case 0:
		if (!valuep) {
			j->rx_end = RX_DESTRUCTOR;
		} else if ((uintptr_t)got != j->value) {
			report(&n_errors, "job %" PRIu64 " (%s event): %s"
			       " returned value %#" PRIxPTR ", sent %#" PRIxPTR,
			       j->id, store_names[j->store], op_names[op],
			       (uintptr_t)got, j->value);
			record_fate(got, F_RECEIVED, op_names[op]);
			j->rx_end = RX_BAD;
		} else {
			record_fate(got, F_RECEIVED, op_names[op]);
			j->rx_end = RX_RECEIVED;
		}
		break;
	case EPIPE:
		j->rx_end = RX_EPIPE;
		break;
	case EAGAIN:
	case ETIMEDOUT:
	case EBUSY:
		if (err == ETIMEDOUT)
			atomic_fetch_add_explicit(&w->timeouts, 1,
						  memory_order_relaxed);
		if (!must_arrive &&
		    ((err == EAGAIN && op == OP_TRYRECV) ||
		     (err == ETIMEDOUT && (op == OP_TIMEDRECV ||
					   op == OP_CLOCKRECV)) ||
		     (err == EBUSY && j->notify && op != OP_TRYRECV)))
			return false;
		/* fall through */
	default:
		report(&n_errors, "job %" PRIu64 " (%s event, %s): %s returned"
		       " %s%s", j->id, store_names[j->store],
		       spin_names[j->attr], op_names[op], err_name(err),
		       must_arrive ? " after the value or close had arrived" :
		       "");
		j->rx_end = RX_BAD;
		if (j->rx.ev_)
			once_receiver_close(&j->rx);
		break;
	}
	rx_finish(w, j);
	return true;
}

static struct timespec
deadline(clockid_t clock, long ns)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	ts.tv_nsec += ns;
	while (ts.tv_nsec >= 1000000000L) {
		ts.tv_nsec -= 1000000000L;
		ts.tv_sec++;
	}
	return ts;
}

/* A timed receive; after a timeout, sometimes wait again at once. */
static void
rx_timed(struct worker *w, struct job *j, clockid_t clock, bool past)
{
	enum op op = clock == CLOCK_REALTIME ? OP_TIMEDRECV : OP_CLOCKRECV;
	void *got = NULL, **vp = pick(w, 8) ? &got : NULL;
	struct timespec ts;
	int err, tries = 1 + (int)pick(w, 3);

	while (tries--) {
		ts = past ? (struct timespec){ 0, 0 } :
		     deadline(clock, (long)pick(w, pick(w, 4) ? 20000 :
						       200000));
		op_begin(w, op, j);
		err = clock == CLOCK_REALTIME ?
		      once_timedrecv(&j->rx, vp, &ts) :
		      once_clockrecv(&j->rx, vp, clock, &ts);
		op_end(w, op);
		if (rx_result(w, j, op, err, vp, got, false))
			return;
	}
}

/* Arguments are checked first: EINVAL, and the receiver stays live. */
static void
rx_bad_clock(struct worker *w, struct job *j)
{
	struct timespec ts = { 0, 0 };
	void *got;
	int err;

	op_begin(w, OP_CLOCKRECV, j);
	err = once_clockrecv(&j->rx, &got, CLOCK_PROCESS_CPUTIME_ID, &ts);
	op_end(w, OP_CLOCKRECV);
	if (err != EINVAL || !j->rx.ev_)
		report(&n_errors, "job %" PRIu64 ": once_clockrecv on a bad"
		       " clock returned %s%s", j->id, err_name(err),
		       j->rx.ev_ ? "" : " and consumed the receiver");
	if (!j->rx.ev_) {
		j->rx_end = RX_BAD;
		rx_finish(w, j);
	}
}

static void
rx_try(struct worker *w, struct job *j, bool must_arrive)
{
	void *got = NULL, **vp = pick(w, 8) ? &got : NULL;
	int err;

	op_begin(w, OP_TRYRECV, j);
	err = once_tryrecv(&j->rx, vp);
	op_end(w, OP_TRYRECV);
	rx_result(w, j, OP_TRYRECV, err, vp, got, must_arrive);
}

/*
 * A receive without a deadline may wait only for a sender that is done,
 * or held by a thread of higher number: that thread waits the same way
 * only on higher numbers still, so the waits cannot close a cycle.
 */
static void
rx_blocking(struct worker *w, struct job *j)
{
	void *got = NULL, **vp = pick(w, 8) ? &got : NULL;
	int err;

	if (!j->notify &&
	    !atomic_load_explicit(&j->tx_done, memory_order_acquire) &&
	    j->tx_holder <= w->id) {
		rx_timed(w, j, CLOCK_MONOTONIC, false);
		return;
	}
	op_begin(w, OP_RECV, j);
	err = once_recv(&j->rx, vp);
	op_end(w, OP_RECV);
	rx_result(w, j, OP_RECV, err, vp, got, false);
}

static void
rx_ready(struct worker *w, struct job *j)
{
	int ready;

	op_begin(w, OP_RECEIVER_READY, j);
	ready = once_receiver_ready(&j->rx);
	op_end(w, OP_RECEIVER_READY);
	if (ready)
		rx_try(w, j, true);
}

static void
rx_close(struct worker *w, struct job *j)
{
	int err;

	op_begin(w, OP_RECEIVER_CLOSE, j);
	err = once_receiver_close(&j->rx);
	op_end(w, OP_RECEIVER_CLOSE);
	if (err)
		report(&n_errors, "job %" PRIu64 " (%s event):"
		       " once_receiver_close returned %s", j->id,
		       store_names[j->store], err_name(err));
	j->rx_end = err ? RX_BAD : RX_CLOSED;
	rx_finish(w, j);
}

/* The callback is a part of the job, from before it can run. */
static void
rx_notify(struct worker *w, struct job *j)
{
	int err;

	j->notify = true;
	atomic_fetch_add_explicit(&j->parts, 1, memory_order_relaxed);
	op_begin(w, OP_NOTIFY, j);
	err = once_receiver_notify(&j->rx, on_arrival, j);
	op_end(w, OP_NOTIFY);
	if (err) {
		report(&n_errors, "job %" PRIu64 ": once_receiver_notify"
		       " returned %s", j->id, err_name(err));
		j->notify = false;
		atomic_fetch_sub_explicit(&j->parts, 1, memory_order_relaxed);
	}
}

static void
act_rx(struct worker *w, struct job *j)
{
	unsigned int r = pick(w, 100);

	if (j->notify) {
		/* The callback will tell; meanwhile look now and then. */
		if (r < 10)
			rx_try(w, j, false);
		else if (r < 15)
			rx_ready(w, j);
		else if (r < 20)
			rx_timed(w, j, CLOCK_MONOTONIC, true);
		else if (r < 23)
			rx_blocking(w, j);
		else if (r < 26)
			rx_close(w, j);
		return;
	}
	if (r < 25)
		rx_try(w, j, false);
	else if (r < 38)
		rx_timed(w, j, CLOCK_REALTIME, false);
	else if (r < 51)
		rx_timed(w, j, CLOCK_MONOTONIC, pick(w, 10) == 0);
	else if (r < 52)
		rx_bad_clock(w, j);
	else if (r < 75)
		rx_blocking(w, j);
	else if (r < 80)
		rx_ready(w, j);
	else if (r < 90)
		rx_close(w, j);
	else
		rx_notify(w, j);
}

/*
 * The callback: on the thread that sent or closed, or on the receiver's
 * own in notify or close. It wakes nobody; it posts the job to the
 * receiver's thread, which collects with once_tryrecv().
 */
static void
on_arrival(void *arg)
{
	struct job *j = arg;
	struct worker *w = &workers[j->rx_holder];

	if (atomic_fetch_add(&j->callbacks, 1) != 0) {
		report(&n_duplicated, "job %" PRIu64 ": the callback ran"
		       " again", j->id);
		return;
	}
	atomic_fetch_add_explicit(&w->callbacks, 1, memory_order_relaxed);
	BOX_PUSH(&w->ready, j, ready_next);
}

static void
take_ready(struct worker *w)
{
	struct job *j, *next;

	j = atomic_exchange_explicit(&w->ready, NULL, memory_order_acquire);
	for (; j; j = next) {
		next = j->ready_next;
		if (j->rx_idx != NONE)
			rx_try(w, j, true);
		part_done(w, j);	/* the callback's part */
	}
}

static void
take_mail(struct worker *w)
{
	struct job *j, *next;

	j = atomic_exchange_explicit(&w->tx_box, NULL, memory_order_acquire);
	for (; j; j = next) {
		next = j->tx_next;
		held_add(&w->tx, j, &j->tx_idx);
	}
	j = atomic_exchange_explicit(&w->rx_box, NULL, memory_order_acquire);
	for (; j; j = next) {
		next = j->rx_next;
		held_add(&w->rx, j, &j->rx_idx);
	}
}

/* ---------------------------------------------------------------------
 * Pool upkeep: trim, stats, and a new heap pool while the old one's
 * events are out (the last of them frees it).
 */
static void
pool_stats(struct worker *w, once_pool_t *p)
{
	struct once_pool_stats st;
	int err;

	op_begin(w, OP_POOL_STATS, NULL);
	err = once_pool_stats(p, &st);
	op_end(w, OP_POOL_STATS);
	if (err || st.capacity != st.slabs * 64 || st.live > st.capacity ||
	    st.free != st.capacity - st.live)
		report(&n_errors, "once_pool_stats returned %s: live %zu,"
		       " free %zu, capacity %zu, slabs %zu", err_name(err),
		       st.live, st.free, st.capacity, st.slabs);
}

static void
pool_swap(struct worker *w)
{
	once_pool_t *p, *old;
	int err, attr = (int)pick(w, NATTRS);

	op_begin(w, OP_POOL_SWAP, NULL);
	err = once_pool_create(&p, &attrs[attr]);
	op_end(w, OP_POOL_SWAP);
	if (err) {
		report(&n_errors, "once_pool_create returned %s",
		       err_name(err));
		return;
	}
	pthread_mutex_lock(&heap_lock);
	old = heap_pool;
	heap_pool = p;
	heap_pool_attr = attr;
	pthread_mutex_unlock(&heap_lock);
	op_begin(w, OP_POOL_UNREF, NULL);
	err = once_pool_unref(old);
	op_end(w, OP_POOL_UNREF);
	if (err)
		report(&n_errors, "once_pool_unref returned %s",
		       err_name(err));
}

/*
 * The child of fork_check(): no pool lock may have stayed held, and
 * liburcu must work, so a pool can bind, send, receive and trim. The
 * alarm ends a child that hangs; the parent's watchdog names the fork.
 */
static int
fork_child(once_pool_t *p)
{
	once_sender_t tx;
	once_receiver_t rx;
	void *v;
	int x;

	alarm(60);
	if (once_pool_bind(p, &tx, &rx) || once_send(&tx, &x) ||
	    once_recv(&rx, &v) || v != &x)
		return 1;
	return once_pool_trim(p, 0) ? 2 : 0;
}

/* fork() while the other threads work on the pools. */
static void
fork_check(struct worker *w, once_pool_t *p)
{
	pid_t pid;
	int status = 0;

	op_begin(w, OP_FORK, NULL);
	pid = fork();
	if (pid == 0)
		_exit(fork_child(p));
	if (pid > 0 && waitpid(pid, &status, 0) != pid)
		status = -1;
	op_end(w, OP_FORK);
	if (pid < 0)
		report(&n_errors, "fork: %s", strerror(errno));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		report(&n_errors, "a fork child could not use its pool: "
		       "status %#x", status);
}

/*
 * May the pools' memory be freed while the threads work? Not under
 * --broken=recycle-early: its stale endpoints outlive their events'
 * release, and the library refuses a stale endpoint (EINVAL, which the
 * torture must catch) only while the event's slab exists. A trim or a
 * heap pool's end would turn that into a read of freed memory, which
 * crashes, or a sanitizer stops, before the torture can report.
 */
static bool
may_free_slabs(void)
{
#ifdef ONCE_TEST_BROKEN
	return opt.broken != ONCE__BROKEN_RECYCLE_EARLY;
#else
	return true;
#endif
}

static void
admin(struct worker *w)
{
	unsigned int r = pick(w, 1000);
	once_pool_t *p;
	int err;

	p = pick(w, 3) ? &pools[pick(w, 2)] : w->heap_pool;
	if (!p)
		return;
	if (r < 2 && may_free_slabs()) {
		op_begin(w, OP_POOL_TRIM, NULL);
		err = once_pool_trim(p, pick(w, 130));
		op_end(w, OP_POOL_TRIM);
		if (err)
			report(&n_errors, "once_pool_trim returned %s",
			       err_name(err));
	} else if (r < 10) {
		pool_stats(w, p);
	} else if (r == 10 && pick(w, 4) == 0 && may_free_slabs()) {
		pool_swap(w);
	} else if (r == 11 && pick(w, 8) == 0) {
		fork_check(w, p);
	}
}

/* ---------------------------------------------------------------------
 * The threads.
 */
static void
step(struct worker *w)
{
	bool stop = atomic_load_explicit(&stopping, memory_order_relaxed);
	unsigned int r = pick(w, 100);
	struct job *j;

	take_mail(w);
	take_ready(w);
	if (r < 30 && !stop && (j = job_new(w))) {
		/* Now and then a whole cycle on one thread, at once. */
		if (job_hand_out(w, j) && pick(w, 4) == 0) {
			act_tx(w, j);
			act_rx(w, j);
		}
		return;
	}
	if (r < 60 && w->tx.n) {
		act_tx(w, w->tx.v[pick(w, (unsigned int)w->tx.n)]);
		return;
	}
	if (r < 97 && w->rx.n) {
		act_rx(w, w->rx.v[pick(w, (unsigned int)w->rx.n)]);
		return;
	}
	if (!stop)
		admin(w);
	else if (!w->tx.n && !w->rx.n)
		sched_yield();
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	int err;

	/* Short deadlines mean short: no 50 us of timer slack. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
	while (!atomic_load(&stopping) || atomic_load(&jobs_out) > 0) {
		step(w);
		atomic_fetch_add_explicit(&w->progress, 1,
					  memory_order_relaxed);
	}
	if (w->heap_pool) {
		op_begin(w, OP_POOL_UNREF, NULL);
		err = once_pool_unref(w->heap_pool);
		op_end(w, OP_POOL_UNREF);
		if (err)
			report(&n_errors, "once_pool_unref returned %s",
			       err_name(err));
	}
	free(w->tx.v);
	free(w->rx.v);
	return NULL;
}

/* ---------------------------------------------------------------------
 * Statistics and the verdict.
 */
static unsigned long
sum_count(enum op op)
{
	unsigned long n = 0;
	unsigned int i;

	for (i = 0; i <= opt.threads; i++) {
		struct worker *w = i < opt.threads ? &workers[i] : &main_status;

		n += atomic_load_explicit(&w->count[op], memory_order_relaxed);
	}
	return n;
}

static unsigned long
sum_ops(void)
{
	unsigned long n = 0;
	int op;

	for (op = OP_IDLE + 1; op < NOPS; op++)
		n += sum_count(op);
	return n;
}

static void
print_stats(uint64_t now)
{
	unsigned long timeouts = 0, callbacks = 0, ops = sum_ops();
	double secs = (double)(now - start_ns) / 1e9;
	unsigned int i;

	for (i = 0; i < opt.threads; i++) {
		timeouts += atomic_load(&workers[i].timeouts);
		callbacks += atomic_load(&workers[i].callbacks);
	}
	printf("once-torture: %.0f s: ops %lu (%.0f/s): bind %lu, create %lu,"
	       " channel %lu, pool bind %lu; send %lu, sender close %lu;"
	       " recv %lu, tryrecv %lu, timedrecv %lu, clockrecv %lu"
	       " (timeouts %lu), receiver close %lu, notify %lu"
	       " (callbacks %lu); trim %lu, new heap pool %lu, fork %lu;"
	       " events out %ld\n", secs, ops, ops / (secs > 0 ? secs : 1),
	       sum_count(OP_BIND), sum_count(OP_CREATE), sum_count(OP_CHANNEL),
	       sum_count(OP_POOL_BIND), sum_count(OP_SEND),
	       sum_count(OP_SENDER_CLOSE), sum_count(OP_RECV),
	       sum_count(OP_TRYRECV), sum_count(OP_TIMEDRECV),
	       sum_count(OP_CLOCKRECV), timeouts,
	       sum_count(OP_RECEIVER_CLOSE), sum_count(OP_NOTIFY), callbacks,
	       sum_count(OP_POOL_TRIM), sum_count(OP_POOL_SWAP),
	       sum_count(OP_FORK), atomic_load(&jobs_out));
}

/* The last line: locktorture's SUCCESS or FAILURE. */
static bool
print_summary(int hung)
{
	long leaked = atomic_load(&counting.live_bytes);
	bool ok = !atomic_load(&failed) && !hung && leaked == 0;
	char leaks[32] = "unknown (hung)";

	/* Hung, the run cannot drain: what is out is not known to leak. */
	if (!hung)
		snprintf(leaks, sizeof(leaks), "%ld", leaked);
	printf("once-torture: ops %lu, threads %u, duration %.1f s, events %"
	       PRIu64 ": received %lu, epipe %lu, destructor %lu, no value"
	       " %lu; lost %lu, duplicated %lu, leaked %s, errors %lu: %s\n",
	       sum_ops(), opt.threads, (double)(now_ns() - start_ns) / 1e9,
	       (uint64_t)atomic_load(&next_job_id), atomic_load(&n_received),
	       atomic_load(&n_epipe), atomic_load(&n_destructor),
	       atomic_load(&n_closed), atomic_load(&n_lost),
	       atomic_load(&n_duplicated), leaks, atomic_load(&n_errors),
	       ok ? "SUCCESS" : "FAILURE");
	fflush(stdout);
	return ok;
}

/* ---------------------------------------------------------------------
 * The watchdog: an operation that has not returned for opt.watchdog
 * seconds, on a thread that has made no progress meanwhile, is a hang;
 * so is a run in which no event has ended for as long while some are
 * out. It reports every stuck thread and ends the process: a hung
 * thread cannot be joined.
 */
static void
hang_report(unsigned int i, uint64_t now)
{
	struct worker *w = i < opt.threads ? &workers[i] : &main_status;
	int op = atomic_load(&w->op), store = atomic_load(&w->op_store);
	int attr = atomic_load(&w->op_attr);
	uint64_t since = atomic_load(&w->op_since);
	struct job *j = atomic_load(&w->op_jobp);
	char who[32], what[160] = "";

	if (i < opt.threads)
		snprintf(who, sizeof(who), "thread %u", i);
	else
		snprintf(who, sizeof(who), "the main thread");
	if (store >= 0)
		snprintf(what, sizeof(what), " (%s event, %s, job %" PRIu64
			 ")", store_names[store],
			 spin_names[attr >= 0 ? attr : 0],
			 (uint64_t)atomic_load(&w->op_job));
	printf("once-torture: !!! hang: %s stuck in %s%s for %.1f s\n", who,
	       op_names[op], what, (double)age(now, since) / 1e9);
	if (!j || (op != OP_RECV && op != OP_TIMEDRECV && op != OP_CLOCKRECV))
		return;
	/* The thread is still inside the call: its job is alive. */
	if (atomic_load(&j->tx_done))
		printf("once-torture: !!!   its sender finished %.1f s ago"
		       " (%s): a wake-up was lost\n",
		       (double)age(now, atomic_load(&j->tx_done_ns)) / 1e9,
		       j->tx_end == TX_SENT ? "sent" :
		       j->tx_end == TX_CLOSED ? "closed" : "EPIPE");
	else
		printf("once-torture: !!!   its sender is still with thread"
		       " %d\n", j->tx_holder);
}

static void *
watchdog_main(void *arg)
{
	uint64_t limit = (uint64_t)(opt.watchdog * 1e9), now;
	uint64_t tick = limit / 10 < 100000000u ? limit / 10 : 100000000u;
	unsigned long *seen = arg;
	struct timespec ts = { 0, (long)tick };
	unsigned int i, stuck;
	unsigned long p;

	while (!atomic_load(&watchdog_stop)) {
		nanosleep(&ts, NULL);
		now = now_ns();
		stuck = 0;
		/* op is stored after op_since, and read before it. */
		for (i = 0; i <= opt.threads; i++) {
			struct worker *w = i < opt.threads ? &workers[i] :
					   &main_status;

			p = atomic_load(&w->progress);
			if (p == seen[i] && atomic_load(&w->op) != OP_IDLE &&
			    age(now, atomic_load(&w->op_since)) > limit) {
				hang_report(i, now);
				stuck++;
			}
			seen[i] = p;
		}
		if (!stuck && atomic_load(&jobs_out) > 0 &&
		    age(now, atomic_load(&last_job_end_ns)) > limit) {
			printf("once-torture: !!! hang: no event has ended for"
			       " %.1f s, %ld out\n", (double)age(now,
			       atomic_load(&last_job_end_ns)) / 1e9,
			       atomic_load(&jobs_out));
			stuck++;
		}
		if (stuck) {
			print_summary(1);
			_exit(EXIT_HANG);
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------------
 * Options.
 */
#ifdef ONCE_TEST_BROKEN
static const struct {
	const char *name;
	int kind;
} broken_kinds[] = {
	{ "none", ONCE__BROKEN_NONE },
	{ "skip-wake", ONCE__BROKEN_SKIP_WAKE },
	{ "deliver-twice", ONCE__BROKEN_DELIVER_TWICE },
	{ "lose-value", ONCE__BROKEN_LOSE_VALUE },
	{ "recycle-early", ONCE__BROKEN_RECYCLE_EARLY },
};
#endif

static void
usage(FILE *f)
{
	fprintf(f,
"usage: once-torture [-t THREADS] [-d SECONDS] [-s SEED] [-i SECONDS]\n"
"                    [-w SECONDS] [--broken=KIND]\n"
"Runs random mixes of every libonce operation on many threads and proves\n"
"that each value sent was received, handed back by EPIPE, or passed to the\n"
"destructor exactly once, and that nothing leaked.\n"
"  -t, --threads N          threads (default: twice the CPUs)\n"
"  -d, --duration SECONDS   how long to run (default 30)\n"
"  -s, --seed N             seed of the threads' choices (default: time)\n"
"  -i, --stat-interval SECONDS\n"
"                           statistics every SECONDS; 0: none (default 10)\n"
"  -w, --watchdog SECONDS   an operation stuck this long is a hang\n"
"                           (default 10)\n"
"      --broken=KIND        run on a deliberately broken libonce: skip-wake,\n"
"                           deliver-twice, lose-value or recycle-early\n"
"                           (tests/once-torture-broken only)\n"
"  -h, --help               this text\n"
"Exit status: 0 success, 1 failure, 2 usage, 3 hang.\n");
}

static double
seconds_arg(const char *s, const char *what, double min)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min) || v > 1e6)
		die("%s wants a number of seconds from %g (try -h)", what, min);
	return v;
}

static void
set_broken(const char *name)
{
#ifdef ONCE_TEST_BROKEN
	size_t i;

	for (i = 0; i < sizeof(broken_kinds) / sizeof(broken_kinds[0]); i++)
		if (!strcmp(name, broken_kinds[i].name)) {
			opt.broken = broken_kinds[i].kind;
			opt.broken_name = broken_kinds[i].name;
			return;
		}
	die("unknown --broken kind '%s' (try -h)", name);
#else
	die("--broken=%s: this once-torture runs on the real libonce, which"
	    " has no broken controls; they are in the build tree's"
	    " tests/once-torture-broken", name);
#endif
}

static void
parse_args(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "duration", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },
		{ "stat-interval", required_argument, NULL, 'i' },
		{ "watchdog", required_argument, NULL, 'w' },
		{ "broken", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cpu_set_t set;
	char *end;
	long n;
	int c;

	opt.seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	while ((c = getopt_long(argc, argv, "t:d:s:i:w:h", longs, NULL)) !=
	       -1) {
		switch (c) {
		case 't':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 ||
			    n > MAX_THREADS)
				die("-t wants a number from 1 to %d",
				    MAX_THREADS);
			opt.threads = (unsigned int)n;
			break;
		case 'd':
			opt.duration = seconds_arg(optarg, "-d", 0.001);
			break;
		case 's':
			errno = 0;
			opt.seed = strtoull(optarg, &end, 0);
			if (errno || *end || end == optarg)
				die("-s wants a number");
			break;
		case 'i':
			opt.stat_interval = seconds_arg(optarg, "-i", 0);
			break;
		case 'w':
			opt.watchdog = seconds_arg(optarg, "-w", 0.1);
			break;
		case 'b':
			set_broken(optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc)
		die("unexpected argument %s (try -h)", argv[optind]);
	if (!opt.threads) {
		n = sched_getaffinity(0, sizeof(set), &set) == 0 ?
		    CPU_COUNT(&set) : sysconf(_SC_NPROCESSORS_ONLN);
		n = n < 1 ? 2 : 2 * n;
		opt.threads = (unsigned int)(n > MAX_THREADS ? MAX_THREADS : n);
	}
}

/* ---------------------------------------------------------------------
 * main: set up, run, drain, tear down, judge.
 */
static void
setup(void)
{
	unsigned int i;
	uint64_t z;

	if (!(tokens = malloc(NTOKENS * sizeof(*tokens))) ||
	    !(workers = aligned_alloc(64, opt.threads * sizeof(*workers))))
		die("out of memory");
	for (i = 0; i < NTOKENS; i++)
		atomic_init(&tokens[i], UINT64_C(1) << 3 | F_FREE);
	for (i = 0; i < NATTRS; i++)
		if (once_attr_init(&attrs[i]) ||
		    once_attr_setdestructor(&attrs[i], on_destroy) ||
		    once_attr_setallocator(&attrs[i], count_alloc, count_free,
					   &counting) ||
		    once_attr_setspin(&attrs[i], attr_spin[i]))
			die("cannot set up the attributes");
	if (once_pool_init(&pools[0], &attrs[0]) ||
	    once_pool_init(&pools[1], &attrs[1]) ||
	    once_pool_create(&heap_pool, &attrs[2]))
		die("cannot set up the pools");
	heap_pool_attr = 2;
	memset(workers, 0, opt.threads * sizeof(*workers));
	for (i = 0; i < opt.threads; i++) {
		struct worker *w = &workers[i];

		w->id = (int)i;
		/* splitmix64 of the seed and the thread's number */
		z = opt.seed + (i + 1) * UINT64_C(0x9e3779b97f4a7c15);
		z = (z ^ z >> 30) * UINT64_C(0xbf58476d1ce4e5b9);
		z = (z ^ z >> 27) * UINT64_C(0x94d049bb133111eb);
		w->rng = (z ^ z >> 31) | 1;
		w->tok_count = NTOKENS / opt.threads;
		w->tok_first = i * w->tok_count;
	}
}

/* After the workers: the pools go, and every byte must be back. */
static void
teardown(void)
{
	struct worker *m = &main_status;
	size_t i, flying = 0;
	int err;

	op_begin(m, OP_POOL_UNREF, NULL);
	if ((err = once_pool_unref(heap_pool)))
		report(&n_errors, "once_pool_unref returned %s",
		       err_name(err));
	op_end(m, OP_POOL_UNREF);
	for (i = 0; i < 2; i++) {
		op_begin(m, OP_POOL_DESTROY, NULL);
		if ((err = once_pool_destroy(&pools[i])))
			report(&n_errors, "once_pool_destroy returned %s with"
			       " every event back", err_name(err));
		op_end(m, OP_POOL_DESTROY);
	}
	for (i = 0; i < NATTRS; i++)
		once_attr_destroy(&attrs[i]);
	for (i = 0; i < NTOKENS; i++)
		flying += (atomic_load(&tokens[i]) & 7) != F_FREE;
	if (flying)
		report(&n_lost, "%zu values never reached the end of their"
		       " event", flying);
	if (atomic_load(&n_dtor_calls) != atomic_load(&n_destructor))
		report(&n_errors, "the destructor ran %lu times for %lu values",
		       atomic_load(&n_dtor_calls), atomic_load(&n_destructor));
	if (atomic_load(&counting.live_bytes))
		report(&n_errors, "leaked: %ld bytes in %lu blocks not freed",
		       atomic_load(&counting.live_bytes),
		       atomic_load(&counting.allocs) -
		       atomic_load(&counting.frees));
}

static void
sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000u),
			       (long)(t % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

int
main(int argc, char **argv)
{
	char stats[48] = "no statistics";
	pthread_t watchdog;
	unsigned long *seen;
	uint64_t end, next_stat, now, step_ns;
	unsigned int i;
	int err;

	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	setup();
#ifdef ONCE_TEST_BROKEN
	once__test_broken = opt.broken;
#endif
	if (opt.stat_interval > 0)
		snprintf(stats, sizeof(stats), "statistics every %g s",
			 opt.stat_interval);
	printf("once-torture: threads %u, duration %g s, seed %#" PRIx64
	       ", watchdog %g s, %s, broken: %s\n", opt.threads, opt.duration,
	       opt.seed, opt.watchdog, stats, opt.broken_name);
	start_ns = now_ns();
	atomic_store(&last_job_end_ns, start_ns);
	if (!(seen = calloc(opt.threads + 1, sizeof(*seen))))
		die("out of memory");
	if ((err = pthread_create(&watchdog, NULL, watchdog_main, seen)))
		die("pthread_create: %s", strerror(err));
	for (i = 0; i < opt.threads; i++)
		if ((err = pthread_create(&workers[i].thread, NULL,
					  worker_main, &workers[i])))
			die("pthread_create: %s", strerror(err));
	end = start_ns + (uint64_t)(opt.duration * 1e9);
	step_ns = (uint64_t)(opt.stat_interval * 1e9);
	next_stat = step_ns ? start_ns + step_ns : UINT64_MAX;
	/* Wake every 20 ms: a failure ends the run early. */
	while ((now = now_ns()) < end && !atomic_load(&failed)) {
		if (now >= next_stat) {
			print_stats(now);
			next_stat += step_ns;
		}
		sleep_until(now + 20000000u < end ? now + 20000000u : end);
	}
	atomic_store(&stopping, 1);
	for (i = 0; i < opt.threads; i++)
		pthread_join(workers[i].thread, NULL);
	teardown();
	atomic_store(&watchdog_stop, 1);
	pthread_join(watchdog, NULL);
	if (step_ns)
		print_stats(now_ns());
	err = print_summary(0) ? 0 : EXIT_FAIL;
	free(seen);
	free(workers);
	free(tokens);
	return err;
}
