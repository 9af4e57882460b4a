/*
 * check_notify.c - completion callbacks, in both variants: when they run,
 * how often (exactly once, always), what they may do (reentrancy), and,
 * for the thread-safe event, on which thread and under races.
 *
 * Most tests run twice through a table of operations, once for the
 * thread-safe event and once for its single-threaded twin (Check loop
 * tests: _i is the variant).
 */
#include <errno.h>
#include <string.h>

#include "testutil.h"

/* One variant's operations, on type-erased events and endpoints. */
struct variant {
	const char *name;
	int (*init)(void *ev, const once_attr_t *attr);
	int (*bind)(void *ev, void *tx, void *rx);
	int (*destroy)(void *ev);
	int (*channel)(void *tx, void *rx, const once_attr_t *attr);
	int (*send)(void *tx, void *value);
	int (*sender_close)(void *tx);
	int (*tryrecv)(void *rx, void **value);
	int (*ready)(const void *rx);
	int (*receiver_close)(void *rx);
	int (*notify)(void *rx, once_notify_fn *fn, void *arg);
};

/* The wrappers for one variant; v is its infix: "" or "local_". */
#define OPS(v) \
	static int v##_init(void *e, const once_attr_t *a) \
	{ return once_##v##event_init(e, a); } \
	static int v##_bind(void *e, void *t, void *r) \
	{ return once_##v##event_bind(e, t, r); } \
	static int v##_destroy(void *e) \
	{ return once_##v##event_destroy(e); } \
	static int v##_channel(void *t, void *r, const once_attr_t *a) \
	{ return once_##v##channel(t, r, a); } \
	static int v##_send(void *t, void *x) { return once_##v##send(t, x); } \
	static int v##_sender_close(void *t) \
	{ return once_##v##sender_close(t); } \
	static int v##_tryrecv(void *r, void **x) \
	{ return once_##v##tryrecv(r, x); } \
	static int v##_ready(const void *r) \
	{ return once_##v##receiver_ready(r); } \
	static int v##_receiver_close(void *r) \
	{ return once_##v##receiver_close(r); } \
	static int v##_notify(void *r, once_notify_fn *f, void *a) \
	{ return once_##v##receiver_notify(r, f, a); }

OPS()
OPS(local_)

#define VARIANT(v, label) { label, v##_init, v##_bind, v##_destroy, \
	v##_channel, v##_send, v##_sender_close, v##_tryrecv, v##_ready, \
	v##_receiver_close, v##_notify }

static const struct variant variants[] = {
	VARIANT(, "thread-safe"),
	VARIANT(local_, "single-threaded"),
};

/* Storage big enough for either variant. */
union any_event {
	once_event_t ts;
	once_local_event_t lc;
};

union any_sender {
	once_sender_t ts;
	once_local_sender_t lc;
};

union any_receiver {
	once_receiver_t ts;
	once_local_receiver_t lc;
};

/* What a callback saw, and what it is to do when it runs. */
struct cb {
	const struct variant *v;
	atomic_int calls;
	pthread_t thread;
	void (*then)(struct cb *c);
	union any_event *ev;
	union any_sender *tx;
	union any_receiver *rx;
	void *got;
	int rc, rc2;
};

static void
cb_fn(void *arg)
{
	struct cb *c = arg;

	c->thread = pthread_self();
	atomic_fetch_add(&c->calls, 1);
	if (c->then)
		c->then(c);
}

/* The scenario: one caller-storage event with its endpoints. */
struct scene {
	const struct variant *v;
	once_attr_t attr;
	union any_event ev;
	union any_sender tx;
	union any_receiver rx;
	struct cb cb;
	long dtor_before;
	int x;
};

static void
scene_init(struct scene *sc, int variant)
{
	memset(sc, 0, sizeof(*sc));
	sc->v = &variants[variant];
	attr_counting(&sc->attr, NULL);
	ck_assert_int_eq(sc->v->init(&sc->ev, &sc->attr), 0);
	ck_assert_int_eq(sc->v->bind(&sc->ev, &sc->tx, &sc->rx), 0);
	sc->cb.v = sc->v;
	sc->cb.ev = &sc->ev;
	sc->cb.tx = &sc->tx;
	sc->cb.rx = &sc->rx;
	sc->dtor_before = atomic_load(&dtor_calls);
}

static long
scene_dtors(const struct scene *sc)
{
	return atomic_load(&dtor_calls) - sc->dtor_before;
}

/*
 * Verify that a callback registered on a receiver that is already complete
 * runs at once, on the calling thread, and that tryrecv then collects.
 */
START_TEST(test_notify_runs_at_once_when_complete)
{
	struct scene sc;
	void *v;

	scene_init(&sc, _i);
	ck_assert_int_eq(sc.v->send(&sc.tx, &sc.x), 0);
	ck_assert_int_eq(sc.v->notify(&sc.rx, cb_fn, &sc.cb), 0);
	ck_assert_int_eq(atomic_load(&sc.cb.calls), 1);
	ck_assert(pthread_equal(sc.cb.thread, pthread_self()));
	ck_assert_int_eq(sc.v->tryrecv(&sc.rx, &v), 0);
	ck_assert_ptr_eq(v, &sc.x);
	ck_assert_int_eq(sc.v->destroy(&sc.ev), 0);

	scene_init(&sc, _i);
	ck_assert_int_eq(sc.v->sender_close(&sc.tx), 0);
	ck_assert_int_eq(sc.v->notify(&sc.rx, cb_fn, &sc.cb), 0);
	ck_assert_int_eq(atomic_load(&sc.cb.calls), 1);
	ck_assert_int_eq(sc.v->tryrecv(&sc.rx, &v), EPIPE);
	ck_assert_int_eq(sc.v->destroy(&sc.ev), 0);
}
END_TEST

/* Verify that send and sender close each run a pending callback once. */
START_TEST(test_notify_runs_on_send_and_on_sender_close)
{
	struct scene sc;
	void *v;

	scene_init(&sc, _i);
	ck_assert_int_eq(sc.v->notify(&sc.rx, cb_fn, &sc.cb), 0);
	ck_assert_int_eq(atomic_load(&sc.cb.calls), 0);
	ck_assert_int_eq(sc.v->send(&sc.tx, &sc.x), 0);
	ck_assert_int_eq(atomic_load(&sc.cb.calls), 1);
	ck_assert_int_eq(sc.v->tryrecv(&sc.rx, &v), 0);
	ck_assert_ptr_eq(v, &sc.x);
	ck_assert_int_eq(atomic_load(&sc.cb.calls), 1);
	ck_assert_int_eq(sc.v->destroy(&sc.ev), 0);

	scene_init(&sc, _i);
	ck_assert_int_eq(sc.v->notify(&sc.rx, cb_fn, &sc.cb), 0);
	ck_assert_int_eq(sc.v->sender_close(&sc.tx), 0);
	ck_assert_int_eq(atomic_load(&sc.cb.calls), 1);
	ck_assert_int_eq(sc.v->tryrecv(&sc.rx, &v), EPIPE);
	ck_assert_int_eq(sc.v->destroy(&sc.ev), 0);
}
END_TEST

/*
 * Verify that closing a receiver with a pending callback runs it, once, on
 * the closing thread; the sender then gets EPIPE and no destructor runs.
 */
START_TEST(test_notify_runs_from_receiver_close)
{
	struct scene sc;

	scene_init(&sc, _i);
	ck_assert_int_eq(sc.v->notify(&sc.rx, cb_fn, &sc.cb), 0);
	ck_assert_int_eq(sc.v->receiver_close(&sc.rx), 0);
	ck_assert_int_eq(atomic_load(&sc.cb.calls), 1);
	ck_assert(pthread_equal(sc.cb.thread, pthread_self()));
	ck_assert_int_eq(sc.v->send(&sc.tx, &sc.x), EPIPE);
	ck_assert_int_eq(atomic_load(&sc.cb.calls), 1);
	ck_assert_int_eq(scene_dtors(&sc), 0);
	ck_assert_int_eq(sc.v->destroy(&sc.ev), 0);
}
END_TEST

/*
 * Verify registering twice: EBUSY while the first is pending (which stays
 * and runs once); after it ran, a new registration runs at once.
 */
START_TEST(test_notify_twice)
{
	struct scene sc;
	struct cb second;
	void *v;

	scene_init(&sc, _i);
	memset(&second, 0, sizeof(second));
	ck_assert_int_eq(sc.v->notify(&sc.rx, cb_fn, &sc.cb), 0);
	ck_assert_int_eq(sc.v->notify(&sc.rx, cb_fn, &second), EBUSY);
	ck_assert_int_eq(sc.v->send(&sc.tx, &sc.x), 0);
	ck_assert_int_eq(atomic_load(&sc.cb.calls), 1);
	ck_assert_int_eq(atomic_load(&second.calls), 0);
	ck_assert_int_eq(sc.v->notify(&sc.rx, cb_fn, &second), 0);
	ck_assert_int_eq(atomic_load(&second.calls), 1);
	ck_assert_int_eq(atomic_load(&sc.cb.calls), 1);
	ck_assert_int_eq(sc.v->tryrecv(&sc.rx, &v), 0);
	ck_assert_int_eq(sc.v->destroy(&sc.ev), 0);
}
END_TEST

/* Verify notify's argument checks. */
START_TEST(test_notify_einval)
{
	struct scene sc;
	union any_receiver zero;
	void *v;

	scene_init(&sc, _i);
	memset(&zero, 0, sizeof(zero));
	ck_assert_int_eq(sc.v->notify(&sc.rx, NULL, &sc.cb), EINVAL);
	ck_assert_int_eq(sc.v->notify(&zero, cb_fn, &sc.cb), EINVAL);
	ck_assert_int_eq(sc.v->notify(NULL, cb_fn, &sc.cb), EINVAL);
	ck_assert_int_eq(sc.v->send(&sc.tx, &sc.x), 0);
	ck_assert_int_eq(sc.v->tryrecv(&sc.rx, &v), 0);
	/* Consumed: no callback, not even at once. */
	ck_assert_int_eq(sc.v->notify(&sc.rx, cb_fn, &sc.cb), EINVAL);
	ck_assert_int_eq(atomic_load(&sc.cb.calls), 0);
	ck_assert_int_eq(sc.v->destroy(&sc.ev), 0);
}
END_TEST

/*
 * Verify that a pending callback does not change the non-blocking calls:
 * tryrecv EAGAIN, ready 0, sender_closed 0, destroy EBUSY.
 */
START_TEST(test_notify_pending_queries)
{
	struct scene sc;
	void *v;

	scene_init(&sc, _i);
	ck_assert_int_eq(sc.v->notify(&sc.rx, cb_fn, &sc.cb), 0);
	ck_assert_int_eq(sc.v->tryrecv(&sc.rx, &v), EAGAIN);
	ck_assert_int_eq(sc.v->ready(&sc.rx), 0);
	ck_assert_int_eq(sc.v->destroy(&sc.ev), EBUSY);
	if (_i == 0)
		ck_assert_int_eq(once_sender_closed(&sc.tx.ts), 0);
	else
		ck_assert_int_eq(once_local_sender_closed(&sc.tx.lc), 0);
	ck_assert_int_eq(sc.v->send(&sc.tx, &sc.x), 0);
	ck_assert_int_eq(sc.v->ready(&sc.rx), 1);
	ck_assert_int_eq(sc.v->tryrecv(&sc.rx, &v), 0);
	ck_assert_int_eq(sc.v->destroy(&sc.ev), 0);
}
END_TEST

/* Reentrancy: what a callback may do. */
static void
then_take_and_destroy(struct cb *c)
{
	c->rc = c->v->tryrecv(c->rx, &c->got);
	c->rc2 = c->v->destroy(c->ev);
	/* As if the storage were reused: the caller must not touch it. */
	memset(c->ev, 0xa5, sizeof(*c->ev));
	memset(c->tx, 0xa5, sizeof(*c->tx));
}

static int
poisoned(const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		if (*b++ != 0xa5)
			return 0;
	return 1;
}

/*
 * Verify that a callback run by send may take the value and destroy the
 * event at once, and that send touches neither afterwards.
 */
START_TEST(test_notify_reentrant_take_and_destroy)
{
	struct scene sc;

	scene_init(&sc, _i);
	sc.cb.then = then_take_and_destroy;
	ck_assert_int_eq(sc.v->notify(&sc.rx, cb_fn, &sc.cb), 0);
	ck_assert_int_eq(sc.v->send(&sc.tx, &sc.x), 0);
	ck_assert_int_eq(atomic_load(&sc.cb.calls), 1);
	ck_assert_int_eq(sc.cb.rc, 0);
	ck_assert_ptr_eq(sc.cb.got, &sc.x);
	ck_assert_int_eq(sc.cb.rc2, 0);
	ck_assert_msg(poisoned(&sc.ev, sizeof(sc.ev)),
		      "%s: send touched the event after the callback",
		      sc.v->name);
	ck_assert_msg(poisoned(&sc.tx, sizeof(sc.tx)),
		      "%s: send touched its sender after the callback",
		      sc.v->name);
}
END_TEST

static void
then_take(struct cb *c)
{
	c->rc = c->v->tryrecv(c->rx, &c->got);
}

/*
 * Verify that with a channel the callback may release the event (its
 * tryrecv frees it) while send is still on the stack: ASan and the counting
 * allocator see any later touch or a leak.
 */
START_TEST(test_notify_reentrant_channel_freed_inside)
{
	const struct variant *v = &variants[_i];
	struct count_alloc ca = { 0 };
	once_attr_t a;
	union any_sender tx;
	union any_receiver rx;
	struct cb c;
	int x, how;

	attr_counting(&a, &ca);
	for (how = 0; how < 2; how++) {
		memset(&c, 0, sizeof(c));
		c.v = v;
		c.rx = &rx;
		c.then = then_take;
		ck_assert_int_eq(v->channel(&tx, &rx, &a), 0);
		ck_assert_int_eq(v->notify(&rx, cb_fn, &c), 0);
		if (how == 0) {
			ck_assert_int_eq(v->send(&tx, &x), 0);
			ck_assert_int_eq(c.rc, 0);
			ck_assert_ptr_eq(c.got, &x);
		} else {
			ck_assert_int_eq(v->sender_close(&tx), 0);
			ck_assert_int_eq(c.rc, EPIPE);
		}
		ck_assert_int_eq(atomic_load(&c.calls), 1);
		ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
	}
	ck_assert_int_eq(atomic_load(&ca.allocs), atomic_load(&ca.frees));
}
END_TEST

/* A chain: event A's callback sends on event B, whose callback records. */
struct chain {
	struct scene a, b;
};

static void
then_send_on_b(struct cb *c)
{
	struct chain *ch = (struct chain *)((char *)c -
					    offsetof(struct chain, a.cb));

	c->rc = ch->b.v->send(&ch->b.tx, &ch->b.x);
}

/* Verify that a callback may complete another event, running its callback. */
START_TEST(test_notify_reentrant_sends_on_another_event)
{
	struct chain ch;
	void *v;

	scene_init(&ch.a, _i);
	scene_init(&ch.b, _i);
	ch.a.cb.then = then_send_on_b;
	ck_assert_int_eq(ch.b.v->notify(&ch.b.rx, cb_fn, &ch.b.cb), 0);
	ck_assert_int_eq(ch.a.v->notify(&ch.a.rx, cb_fn, &ch.a.cb), 0);
	ck_assert_int_eq(ch.a.v->send(&ch.a.tx, &ch.a.x), 0);
	ck_assert_int_eq(atomic_load(&ch.a.cb.calls), 1);
	ck_assert_int_eq(ch.a.cb.rc, 0);
	ck_assert_int_eq(atomic_load(&ch.b.cb.calls), 1);
	ck_assert_int_eq(ch.b.v->tryrecv(&ch.b.rx, &v), 0);
	ck_assert_ptr_eq(v, &ch.b.x);
	ck_assert_int_eq(ch.a.v->tryrecv(&ch.a.rx, &v), 0);
	ck_assert_int_eq(ch.a.v->destroy(&ch.a.ev), 0);
	ck_assert_int_eq(ch.b.v->destroy(&ch.b.ev), 0);
}
END_TEST

static struct cb nested;

static void
then_register_again(struct cb *c)
{
	c->rc = c->v->notify(c->rx, cb_fn, &nested);
}

/*
 * Verify that a callback may register again on its own receiver: the event
 * is complete, so the new callback runs at once, inside the first.
 */
START_TEST(test_notify_reentrant_registers_again)
{
	struct scene sc;
	void *v;

	scene_init(&sc, _i);
	memset(&nested, 0, sizeof(nested));
	sc.cb.then = then_register_again;
	ck_assert_int_eq(sc.v->notify(&sc.rx, cb_fn, &sc.cb), 0);
	ck_assert_int_eq(sc.v->send(&sc.tx, &sc.x), 0);
	ck_assert_int_eq(sc.cb.rc, 0);
	ck_assert_int_eq(atomic_load(&sc.cb.calls), 1);
	ck_assert_int_eq(atomic_load(&nested.calls), 1);
	ck_assert_int_eq(sc.v->tryrecv(&sc.rx, &v), 0);
	ck_assert_int_eq(sc.v->destroy(&sc.ev), 0);
}
END_TEST

static void
then_close_receiver(struct cb *c)
{
	c->rc = c->v->receiver_close(c->rx);
}

/*
 * Verify that a callback may close its receiver: the value it did not take
 * goes to the destructor, once, and the event is released inside.
 */
START_TEST(test_notify_reentrant_closes_receiver)
{
	struct scene sc;

	scene_init(&sc, _i);
	sc.cb.then = then_close_receiver;
	ck_assert_int_eq(sc.v->notify(&sc.rx, cb_fn, &sc.cb), 0);
	ck_assert_int_eq(sc.v->send(&sc.tx, &sc.x), 0);
	ck_assert_int_eq(sc.cb.rc, 0);
	ck_assert_int_eq(scene_dtors(&sc), 1);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &sc.x);
	ck_assert_int_eq(sc.v->destroy(&sc.ev), 0);
}
END_TEST

static void
then_send_and_destroy(struct cb *c)
{
	c->rc = c->v->send(c->tx, &c->rc2);
	c->rc2 = c->v->destroy(c->ev);
	memset(c->ev, 0xa5, sizeof(*c->ev));
	memset(c->rx, 0xa5, sizeof(*c->rx));
}

/*
 * Verify that the callback run by receiver close sees the close published:
 * a send from it is EPIPE and releases the event, which the callback then
 * destroys; close touches neither event nor receiver afterwards.
 */
START_TEST(test_notify_reentrant_send_from_close_callback)
{
	struct scene sc;

	scene_init(&sc, _i);
	sc.cb.then = then_send_and_destroy;
	ck_assert_int_eq(sc.v->notify(&sc.rx, cb_fn, &sc.cb), 0);
	ck_assert_int_eq(sc.v->receiver_close(&sc.rx), 0);
	ck_assert_int_eq(atomic_load(&sc.cb.calls), 1);
	ck_assert_int_eq(sc.cb.rc, EPIPE);
	ck_assert_int_eq(sc.cb.rc2, 0);
	ck_assert_int_eq(scene_dtors(&sc), 0);
	ck_assert_msg(poisoned(&sc.ev, sizeof(sc.ev)),
		      "%s: close touched the event after the callback",
		      sc.v->name);
	ck_assert_msg(poisoned(&sc.rx, sizeof(sc.rx)),
		      "%s: close touched its receiver after the callback",
		      sc.v->name);
}
END_TEST

static void
free_arg(void *arg)
{
	free(arg);
}

/*
 * Verify that the argument may be freed by the callback in every way it
 * can run (LeakSanitizer reports the way that would leak it).
 */
START_TEST(test_notify_callback_owns_its_argument)
{
	struct scene sc;
	void *v;
	int way;

	for (way = 0; way < 4; way++) {
		scene_init(&sc, _i);
		if (way == 3)
			ck_assert_int_eq(sc.v->send(&sc.tx, &sc.x), 0);
		ck_assert_int_eq(sc.v->notify(&sc.rx, free_arg, malloc(16)),
				 0);
		switch (way) {
		case 0:
			ck_assert_int_eq(sc.v->send(&sc.tx, &sc.x), 0);
			break;
		case 1:
			ck_assert_int_eq(sc.v->sender_close(&sc.tx), 0);
			break;
		case 2:
			ck_assert_int_eq(sc.v->receiver_close(&sc.rx), 0);
			ck_assert_int_eq(sc.v->send(&sc.tx, &sc.x), EPIPE);
			break;
		}
		if (way != 2)
			sc.v->tryrecv(&sc.rx, &v);
		ck_assert_int_eq(sc.v->destroy(&sc.ev), 0);
	}
}
END_TEST

/* Thread-safe only: blocking receives and other threads. */

/*
 * Verify that a blocking or timed receive refuses a receiver with a pending
 * callback (EBUSY), after checking its arguments, and leaves it as it was.
 */
START_TEST(test_notify_blocking_receive_ebusy)
{
	struct scene sc;
	struct timespec ts = deadline_in(CLOCK_MONOTONIC, 1000000000L);
	struct timespec bad = { 0, 1000000000L };
	void *v;

	scene_init(&sc, 0);
	ck_assert_int_eq(once_receiver_notify(&sc.rx.ts, cb_fn, &sc.cb), 0);
	ck_assert_int_eq(once_recv(&sc.rx.ts, &v), EBUSY);
	ck_assert_int_eq(once_clockrecv(&sc.rx.ts, &v, CLOCK_MONOTONIC, &ts),
			 EBUSY);
	ck_assert_int_eq(once_timedrecv(&sc.rx.ts, &v, &bad), EINVAL);
	ck_assert_int_eq(once_send(&sc.tx.ts, &sc.x), 0);
	ck_assert_int_eq(atomic_load(&sc.cb.calls), 1);
	/* The callback has run: a blocking receive now returns at once. */
	ck_assert_int_eq(once_recv(&sc.rx.ts, &v), 0);
	ck_assert_ptr_eq(v, &sc.x);
	ck_assert_int_eq(once_event_destroy(&sc.ev.ts), 0);
}
END_TEST

struct remote {
	struct scene *sc;
	int close_it;
	pthread_t self;
	int rc;
};

static void *
remote_complete(void *arg)
{
	struct remote *r = arg;

	r->self = pthread_self();
	r->rc = r->close_it ? once_sender_close(&r->sc->tx.ts) :
			      once_send(&r->sc->tx.ts, &r->sc->x);
	return NULL;
}

/* Verify that the callback runs on the thread that sent or closed. */
START_TEST(test_notify_runs_on_completing_thread)
{
	struct scene sc;
	struct remote r;
	pthread_t t;
	void *v;

	for (r.close_it = 0; r.close_it < 2; r.close_it++) {
		scene_init(&sc, 0);
		r.sc = &sc;
		ck_assert_int_eq(once_receiver_notify(&sc.rx.ts, cb_fn,
						      &sc.cb), 0);
		ck_assert_int_eq(pthread_create(&t, NULL, remote_complete, &r),
				 0);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
		ck_assert_int_eq(r.rc, 0);
		ck_assert_int_eq(atomic_load(&sc.cb.calls), 1);
		ck_assert(pthread_equal(sc.cb.thread, r.self));
		ck_assert_int_eq(once_tryrecv(&sc.rx.ts, &v),
				 r.close_it ? EPIPE : 0);
		ck_assert_int_eq(once_event_destroy(&sc.ev.ts), 0);
	}
}
END_TEST

/*
 * Races (thread-safe): registration against completion, and close with a
 * callback pending against send. Each round: the callback ran exactly
 * once, and the value was received, returned (EPIPE) or destroyed once.
 */
struct nrace {
	struct scene sc;
	int mode;		/* 0 notify|send, 1 notify|close, 2 close|send */
	int ra, rb;
	long received, epipe, destroyed, cb_from_close;
};

static void
nrace_setup(struct race *r, long round)
{
	struct nrace *n = r->ctx;

	(void)round;
	scene_init(&n->sc, 0);
	n->ra = n->rb = -1;
	if (n->mode == 2)
		ck_assert_int_eq(once_receiver_notify(&n->sc.rx.ts, cb_fn,
						      &n->sc.cb), 0);
}

static void
nrace_a(struct race *r, long round)
{
	struct nrace *n = r->ctx;

	(void)round;
	n->ra = n->mode == 1 ? once_sender_close(&n->sc.tx.ts) :
			       once_send(&n->sc.tx.ts, &n->sc.x);
}

static void
nrace_b(struct race *r, long round)
{
	struct nrace *n = r->ctx;

	(void)round;
	n->rb = n->mode == 2 ? once_receiver_close(&n->sc.rx.ts) :
			       once_receiver_notify(&n->sc.rx.ts, cb_fn,
						    &n->sc.cb);
}

static void
nrace_check(struct race *r, long round)
{
	struct nrace *n = r->ctx;
	void *v = NULL;
	long destroyed;
	int rc;

	ck_assert_msg(atomic_load(&n->sc.cb.calls) == 1,
		      "round %ld mode %d: callback ran %d times", round,
		      n->mode, atomic_load(&n->sc.cb.calls));
	ck_assert_int_eq(n->rb, 0);
	if (n->mode == 2) {
		ck_assert_msg(n->ra == 0 || n->ra == EPIPE,
			      "round %ld: send %d", round, n->ra);
		destroyed = scene_dtors(&n->sc);
		ck_assert_msg((n->ra == EPIPE) + destroyed == 1,
			      "round %ld: EPIPE %d, destroyed %ld", round,
			      n->ra == EPIPE, destroyed);
		n->epipe += n->ra == EPIPE;
		n->destroyed += destroyed;
	} else {
		ck_assert_int_eq(n->ra, 0);
		rc = once_tryrecv(&n->sc.rx.ts, &v);
		ck_assert_int_eq(rc, n->mode == 1 ? EPIPE : 0);
		if (n->mode == 0) {
			ck_assert_ptr_eq(v, &n->sc.x);
			n->received++;
		}
	}
	ck_assert_int_eq(once_event_destroy(&n->sc.ev.ts), 0);
}

static void
nrace_run(int mode)
{
	struct nrace n;
	struct race r = { .setup = nrace_setup, .side_a = nrace_a,
			  .side_b = nrace_b, .check = nrace_check,
			  .rounds = race_rounds(), .ctx = &n };

	memset(&n, 0, sizeof(n));
	n.mode = mode;
	race_run(&r);
}

/* Verify notify racing send: callback once, value once. */
START_TEST(test_race_notify_vs_send)
{
	nrace_run(0);
}
END_TEST

/* Verify notify racing sender close: callback once, EPIPE. */
START_TEST(test_race_notify_vs_sender_close)
{
	nrace_run(1);
}
END_TEST

/* Verify close with a callback pending racing send: each once. */
START_TEST(test_race_receiver_close_with_callback_vs_send)
{
	nrace_run(2);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("notify");
	TCase *both = tcase_create("both");
	TCase *ts = tcase_create("threads");

	tcase_add_loop_test(both, test_notify_runs_at_once_when_complete, 0, 2);
	tcase_add_loop_test(both, test_notify_runs_on_send_and_on_sender_close,
			    0, 2);
	tcase_add_loop_test(both, test_notify_runs_from_receiver_close, 0, 2);
	tcase_add_loop_test(both, test_notify_twice, 0, 2);
	tcase_add_loop_test(both, test_notify_einval, 0, 2);
	tcase_add_loop_test(both, test_notify_pending_queries, 0, 2);
	tcase_add_loop_test(both, test_notify_reentrant_take_and_destroy, 0, 2);
	tcase_add_loop_test(both, test_notify_reentrant_channel_freed_inside,
			    0, 2);
	tcase_add_loop_test(both, test_notify_reentrant_sends_on_another_event,
			    0, 2);
	tcase_add_loop_test(both, test_notify_reentrant_registers_again, 0, 2);
	tcase_add_loop_test(both, test_notify_reentrant_closes_receiver, 0, 2);
	tcase_add_loop_test(both, test_notify_reentrant_send_from_close_callback,
			    0, 2);
	tcase_add_loop_test(both, test_notify_callback_owns_its_argument, 0, 2);
	suite_add_tcase(s, both);

	tcase_set_timeout(ts, 600);
	tcase_add_test(ts, test_notify_blocking_receive_ebusy);
	tcase_add_test(ts, test_notify_runs_on_completing_thread);
	tcase_add_test(ts, test_race_notify_vs_send);
	tcase_add_test(ts, test_race_notify_vs_sender_close);
	tcase_add_test(ts, test_race_receiver_close_with_callback_vs_send);
	suite_add_tcase(s, ts);
	return run_suite(s);
}
