/*
 * inspect.c - the registry of waiters, and what inspection reads off it.
 *
 * A waiter (see once.h) is recorded only by a receive that is about to
 * sleep and by a callback's registration, never on a path that completes
 * at once. Thread-safe records sit in one of ONCE__REG_BUCKETS lists,
 * chosen by the event's address, each under its own mutex: a wait or a
 * callback pays one uncontended lock to be listed and one to leave, next
 * to a futex sleep or a callback. Inspection copies what it finds under
 * the lock and calls back after dropping it, so that the callback may use
 * libonce freely; a copy may describe a wait that has just ended.
 *
 * fork: the child keeps the callbacks' records (their events live on in
 * its copy of memory) and drops the sleeping threads' ones (those threads
 * do not exist in the child).
 */
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/*
 * fork holds every bucket's lock: ThreadSanitizer gives up past 64 locks
 * held by one thread, which 64 buckets reached.
 */
#define ONCE__REG_BITS		4
#define ONCE__REG_BUCKETS	(1 << ONCE__REG_BITS)

static struct once__bucket {
	pthread_mutex_t lock;
	struct once__wrec *head;
} __attribute__((aligned(64))) once__reg_buckets[ONCE__REG_BUCKETS];

static atomic_int once__backtraces;

/*
 * The thread's id, asked of the kernel once per thread (and again in a
 * child after fork), so that recording a single-threaded callback makes
 * no system call after the first.
 */
static __thread pid_t once__tid;

static pid_t
once__gettid(void)
{
	if (!once__tid)
		once__tid = gettid();
	return once__tid;
}

static struct once__bucket *
once__bucket_of(const void *ev)
{
	uintptr_t h = (uintptr_t)ev;

	/* Events are 32 bytes or more apart: drop the low bits, then mix. */
	h = (h >> 5) * 0x9e3779b97f4a7c15ull;
	return &once__reg_buckets[h >> (sizeof(h) * 8 - ONCE__REG_BITS)];
}

static void
once__unlink(struct once__bucket *b, struct once__wrec *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		b->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
}

static void
once__reg_prefork(void)
{
	int i;

	for (i = 0; i < ONCE__REG_BUCKETS; i++)
		pthread_mutex_lock(&once__reg_buckets[i].lock);
}

static void
once__reg_postfork_parent(void)
{
	int i;

	for (i = 0; i < ONCE__REG_BUCKETS; i++)
		pthread_mutex_unlock(&once__reg_buckets[i].lock);
}

static void
once__reg_postfork_child(void)
{
	struct once__bucket *b;
	struct once__wrec *r, *next;
	int i;

	once__tid = 0;
	for (i = 0; i < ONCE__REG_BUCKETS; i++) {
		b = &once__reg_buckets[i];
		for (r = b->head; r; r = next) {
			next = r->next;
			if (r->info->how != ONCE_WAIT_NOTIFY)
				once__unlink(b, r);
		}
		pthread_mutex_unlock(&b->lock);
	}
}

__attribute__((constructor)) static void
once__inspect_ctor(void)
{
	const char *bt = getenv("ONCE_BACKTRACE");
	int i;

	for (i = 0; i < ONCE__REG_BUCKETS; i++)
		pthread_mutex_init(&once__reg_buckets[i].lock, NULL);
	pthread_atfork(once__reg_prefork, once__reg_postfork_parent,
		       once__reg_postfork_child);
	if (bt && !strcmp(bt, "1"))
		once_inspect_setbacktrace(1);
}

int
once_inspect_setbacktrace(int enable)
{
	void *frame;

	/* The first backtrace() loads libgcc_s: do it now, not mid-wait. */
	if (enable)
		backtrace(&frame, 1);
	atomic_store_explicit(&once__backtraces, !!enable,
			      memory_order_relaxed);
	return 0;
}

void
once__winfo_init(struct once__winfo *i, int how)
{
	i->tid = once__gettid();
	i->how = how;
	clock_gettime(CLOCK_MONOTONIC, &i->since);
	i->nframes = 0;
	if (atomic_load_explicit(&once__backtraces, memory_order_relaxed))
		i->nframes = backtrace(i->frames, ONCE_BACKTRACE_MAX);
}

void
once__wrec_add(struct once__wrec *r, const void *ev, const void *pool,
	       const struct once__winfo *i)
{
	struct once__bucket *b = once__bucket_of(ev);

	r->ev = ev;
	r->pool = pool;
	r->info = i;

	pthread_mutex_lock(&b->lock);
	r->prev = NULL;
	r->next = b->head;
	if (b->head)
		b->head->prev = r;
	b->head = r;
	pthread_mutex_unlock(&b->lock);
}

void
once__wrec_del(struct once__wrec *r)
{
	struct once__bucket *b = once__bucket_of(r->ev);

	pthread_mutex_lock(&b->lock);
	once__unlink(b, r);
	pthread_mutex_unlock(&b->lock);
}

/*
 * The callback of ev was taken (or never registered): free its record.
 * An event has at most one callback registered at a time.
 */
void
once__wrec_drop(const void *ev)
{
	struct once__bucket *b = once__bucket_of(ev);
	struct once__wrec *r;

	pthread_mutex_lock(&b->lock);
	for (r = b->head; r; r = r->next)
		if (r->ev == ev && r->info->how == ONCE_WAIT_NOTIFY) {
			once__unlink(b, r);
			break;
		}
	pthread_mutex_unlock(&b->lock);
	free(r);
}

void
once__wlist_push(struct once__wlist *l, const void *ev,
		 const struct once__winfo *i)
{
	struct once_waiter *v, *w;
	size_t cap;

	if (l->err)
		return;
	if (l->n == l->cap) {
		cap = l->cap ? 2 * l->cap : 4;
		if (!(v = realloc(l->v, cap * sizeof(*v)))) {
			l->err = ENOMEM;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	w = &l->v[l->n++];
	w->event = ev;
	w->tid = i->tid;
	w->how = i->how;
	w->since = i->since;
	w->nframes = i->nframes;
	memcpy(w->frames, i->frames, (size_t)i->nframes * sizeof(void *));
}

int
once__wlist_report(struct once__wlist *l, once_inspect_fn *fn, void *arg)
{
	size_t i;
	int err = l->err;

	for (i = 0; !err && i < l->n; i++)
		fn(&l->v[i], arg);
	free(l->v);
	return err;
}

/* Copy the records of ev (pool NULL) or of pool's events. */
static int
once__inspect(const void *ev, const void *pool, once_inspect_fn *fn,
	      void *arg)
{
	struct once__wlist l = { NULL, 0, 0, 0 };
	struct once__bucket *b;
	struct once__wrec *r;
	int i;

	for (i = 0; i < ONCE__REG_BUCKETS; i++) {
		b = &once__reg_buckets[i];
		if (ev && b != once__bucket_of(ev))
			continue;
		pthread_mutex_lock(&b->lock);
		for (r = b->head; r; r = r->next)
			if (ev ? r->ev == ev : r->pool == pool)
				once__wlist_push(&l, r->ev, r->info);
		pthread_mutex_unlock(&b->lock);
	}
	return once__wlist_report(&l, fn, arg);
}

int
once_event_inspect(once_event_t *ev, once_inspect_fn *fn, void *arg)
{
	if (!ev || !fn)
		return EINVAL;
	return once__inspect(ev, NULL, fn, arg);
}

int
once_pool_inspect(once_pool_t *pool, once_inspect_fn *fn, void *arg)
{
	if (!pool || !fn)
		return EINVAL;
	return once__inspect(NULL, pool, fn, arg);
}

static const char *
once__how_name(int how)
{
	switch (how) {
	case ONCE_WAIT_BLOCKING:
		return "blocking receive";
	case ONCE_WAIT_TIMED:
		return "timed receive";
	case ONCE_WAIT_NOTIFY:
		return "callback";
	default:
		return "unknown wait";
	}
}

int
once_waiter_print(const struct once_waiter *w, int fd)
{
	struct timespec now;
	long long ns;

	if (!w)
		return EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(now.tv_sec - w->since.tv_sec) * 1000000000LL +
	     (now.tv_nsec - w->since.tv_nsec);
	dprintf(fd, "event %p: thread %d, %s, for %lld.%06lld s%s\n",
		w->event, (int)w->tid, once__how_name(w->how),
		ns / 1000000000LL, ns % 1000000000LL / 1000,
		w->nframes ? ", from:" : "");
	if (w->nframes > 0)
		backtrace_symbols_fd((void *const *)w->frames,
				     w->nframes < ONCE_BACKTRACE_MAX ?
				     w->nframes : ONCE_BACKTRACE_MAX, fd);
	return 0;
}
