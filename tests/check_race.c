/*
 * check_race.c - races between the two endpoints, each pair run for
 * ONCE_TEST_ROUNDS rounds (default 10,000) with both threads released
 * together by a spin barrier. Every round is accounted for exactly once:
 * the value was received, returned by EPIPE, or given to the destructor.
 * Rounds rotate over the storage kinds (caller storage, refcounted heap,
 * channel) and over spinning and parking receivers.
 *
 * The seed's 0.4 code had races at these places (seed-spec.md section
 * 2.5); each has a test named after it:
 *  1 receiver close vs a sender in the middle of its send,
 *  2 receiver close after a timed-out wait vs send,
 *  3 sender close vs a sleeping receiver,
 *  4 re-wait after a timeout vs send,
 *  7 "ready" while the value cannot be taken yet.
 */
#include <errno.h>
#include <string.h>

#include "testutil.h"

enum kind { KIND_CALLER, KIND_HEAP, KIND_CHANNEL, KIND_COUNT };

struct payload {
	long round;
	long words[7];
};

struct rctx {
	once_attr_t attr_spin, attr_park;
	struct count_alloc ca;
	once_event_t ev;
	once_event_t *hev;
	enum kind kind;
	once_sender_t tx;
	once_receiver_t rx;
	struct payload payload;
	void *got;
	int ra, rb;
	long dtor_before;
	long received, epipe, destroyed;
};

static struct rctx *
rctx_new(void)
{
	struct rctx *c = calloc(1, sizeof(*c));

	ck_assert_ptr_nonnull(c);
	attr_counting(&c->attr_spin, &c->ca);
	attr_counting(&c->attr_park, &c->ca);
	ck_assert_int_eq(once_attr_setspin(&c->attr_park, 0), 0);
	return c;
}

/* Bind a fresh event of the round's kind; spin on odd triples of rounds. */
static void
setup_event(struct race *r, long round)
{
	struct rctx *c = r->ctx;
	const once_attr_t *a = (round / KIND_COUNT) % 2 ? &c->attr_spin :
							 &c->attr_park;

	c->kind = (enum kind)(round % KIND_COUNT);
	c->got = NULL;
	c->ra = c->rb = -1;
	c->dtor_before = atomic_load(&dtor_calls);
	switch (c->kind) {
	case KIND_CALLER:
		ck_assert_int_eq(once_event_init(&c->ev, a), 0);
		ck_assert_int_eq(once_event_bind(&c->ev, &c->tx, &c->rx), 0);
		break;
	case KIND_HEAP:
		ck_assert_int_eq(once_event_create(&c->hev, a), 0);
		ck_assert_int_eq(once_event_bind(c->hev, &c->tx, &c->rx), 0);
		ck_assert_int_eq(once_event_unref(c->hev), 0);
		break;
	default:
		ck_assert_int_eq(once_channel(&c->tx, &c->rx, a), 0);
		break;
	}
}

/*
 * After the round: the caller-storage event must be destroyable, every
 * heap block freed, and the round counted exactly once.
 */
static void
account(struct race *r, long round, int received, int epipe)
{
	struct rctx *c = r->ctx;
	long destroyed = atomic_load(&dtor_calls) - c->dtor_before;

	ck_assert_msg(received + epipe + destroyed == 1,
		      "round %ld (kind %d): received %d, EPIPE %d, destroyed "
		      "%ld", round, c->kind, received, epipe, destroyed);
	if (destroyed)
		ck_assert_ptr_eq(atomic_load(&dtor_last), &c->payload);
	if (c->kind == KIND_CALLER)
		ck_assert_int_eq(once_event_destroy(&c->ev), 0);
	ck_assert_msg(atomic_load(&c->ca.live_bytes) == 0,
		      "round %ld: heap event not freed", round);
	c->received += received;
	c->epipe += epipe;
	c->destroyed += destroyed;
}

static void
side_send(struct race *r, long round)
{
	struct rctx *c = r->ctx;
	long i;

	/* The receiver must see these plain writes after its receive. */
	c->payload.round = round;
	for (i = 0; i < 7; i++)
		c->payload.words[i] = round * 7 + i;
	c->ra = once_send(&c->tx, &c->payload);
}

static int
payload_ok(const struct payload *p, long round)
{
	long i;

	if (p->round != round)
		return 0;
	for (i = 0; i < 7; i++)
		if (p->words[i] != round * 7 + i)
			return 0;
	return 1;
}

static void
run(struct rctx *c, void (*a)(struct race *, long),
    void (*b)(struct race *, long), void (*check)(struct race *, long))
{
	struct race r = { .setup = setup_event, .side_a = a, .side_b = b,
			  .check = check, .rounds = race_rounds(), .ctx = c };

	race_run(&r);
	ck_assert_int_eq(atomic_load(&c->ca.allocs),
			 atomic_load(&c->ca.frees));
	free(c);
}

/* 1: send vs receiver close. */
static void
side_rx_close(struct race *r, long round)
{
	struct rctx *c = r->ctx;

	(void)round;
	c->rb = once_receiver_close(&c->rx);
}

static void
check_send_vs_close(struct race *r, long round)
{
	struct rctx *c = r->ctx;

	ck_assert_int_eq(c->rb, 0);
	ck_assert_msg(c->ra == 0 || c->ra == EPIPE, "round %ld: send %d",
		      round, c->ra);
	account(r, round, 0, c->ra == EPIPE);
}

/* Verify seed race 1: a receiver closing while the sender sends. */
START_TEST(test_race_seed1_send_vs_receiver_close)
{
	struct rctx *c = rctx_new();

	run(c, side_send, side_rx_close, check_send_vs_close);
}
END_TEST

/* Send vs blocking receive. */
static void
side_recv(struct race *r, long round)
{
	struct rctx *c = r->ctx;

	(void)round;
	c->rb = once_recv(&c->rx, &c->got);
}

static void
check_send_vs_recv(struct race *r, long round)
{
	struct rctx *c = r->ctx;

	ck_assert_int_eq(c->ra, 0);
	ck_assert_int_eq(c->rb, 0);
	ck_assert_ptr_eq(c->got, &c->payload);
	ck_assert_msg(payload_ok(c->got, round),
		      "round %ld: receiver saw stale payload", round);
	account(r, round, 1, 0);
}

/* Verify send vs a blocking receive: delivered, and the writes visible. */
START_TEST(test_race_send_vs_recv)
{
	struct rctx *c = rctx_new();

	run(c, side_send, side_recv, check_send_vs_recv);
}
END_TEST

/* 3: sender close vs blocking receive. */
static void
side_tx_close(struct race *r, long round)
{
	struct rctx *c = r->ctx;

	(void)round;
	c->ra = once_sender_close(&c->tx);
}

static void
check_close_vs_recv(struct race *r, long round)
{
	struct rctx *c = r->ctx;

	ck_assert_int_eq(c->ra, 0);
	ck_assert_msg(c->rb == EPIPE, "round %ld: recv %d", round, c->rb);
	ck_assert_ptr_null(c->rx.ev_);
	/* Nothing was sent: count the EPIPE as this round's outcome. */
	account(r, round, 0, 1);
}

/* Verify seed race 3: sender close vs a receiver going to sleep. */
START_TEST(test_race_seed3_sender_close_vs_recv)
{
	struct rctx *c = rctx_new();

	run(c, side_tx_close, side_recv, check_close_vs_recv);
}
END_TEST

/*
 * 2 and 4: a timed receive whose deadline falls around the send. After a
 * timeout, even rounds close the receiver (2), odd ones wait again (4).
 */
static void
side_timedrecv(struct race *r, long round)
{
	struct rctx *c = r->ctx;
	struct timespec ts = deadline_in(CLOCK_MONOTONIC,
					 (round * 1237) % 20000);

	c->rb = once_clockrecv(&c->rx, &c->got, CLOCK_MONOTONIC, &ts);
	if (c->rb != ETIMEDOUT)
		return;
	if ((round / (2 * KIND_COUNT)) % 2 == 0)
		c->rb = once_receiver_close(&c->rx) ? -2 : ETIMEDOUT;
	else
		c->rb = once_recv(&c->rx, &c->got);
}

static void
check_send_vs_timedrecv(struct race *r, long round)
{
	struct rctx *c = r->ctx;
	int received = c->rb == 0;

	ck_assert_msg(c->rb == 0 || c->rb == ETIMEDOUT,
		      "round %ld: receive %d", round, c->rb);
	ck_assert_msg(c->ra == 0 || c->ra == EPIPE, "round %ld: send %d",
		      round, c->ra);
	if (received)
		ck_assert_msg(c->got == &c->payload &&
			      payload_ok(c->got, round),
			      "round %ld: wrong value", round);
	account(r, round, received, c->ra == EPIPE);
}

/* Verify seed races 2 and 4: close or re-wait after a timeout vs send. */
START_TEST(test_race_seed2_seed4_send_vs_timedrecv_timeout)
{
	struct rctx *c = rctx_new();

	run(c, side_send, side_timedrecv, check_send_vs_timedrecv);
}
END_TEST

/* 7: ready must mean the receive succeeds at once. */
static void
side_ready_then_take(struct race *r, long round)
{
	struct rctx *c = r->ctx;

	(void)round;
	while (!once_receiver_ready(&c->rx))
		;
	c->rb = once_tryrecv(&c->rx, &c->got);
}

static void
check_ready_then_take(struct race *r, long round)
{
	struct rctx *c = r->ctx;

	ck_assert_int_eq(c->ra, 0);
	ck_assert_msg(c->rb == 0, "round %ld: ready, yet tryrecv %d", round,
		      c->rb);
	account(r, round, 1, 0);
}

/* Verify seed race 7: ready never precedes a value that can be taken. */
START_TEST(test_race_seed7_ready_implies_take)
{
	struct rctx *c = rctx_new();

	run(c, side_send, side_ready_then_take, check_ready_then_take);
}
END_TEST

/* Both endpoints closing at once: freed once, nothing delivered. */
static void
check_close_vs_close(struct race *r, long round)
{
	struct rctx *c = r->ctx;

	ck_assert_int_eq(c->ra, 0);
	ck_assert_int_eq(c->rb, 0);
	account(r, round, 0, 1);
}

/* Verify sender close vs receiver close: one release, no leak. */
START_TEST(test_race_sender_close_vs_receiver_close)
{
	struct rctx *c = rctx_new();

	run(c, side_tx_close, side_rx_close, check_close_vs_close);
}
END_TEST

/*
 * Destroy right after the receive returned is 0 even though the sender may
 * still be inside once_send (its wake lands on the re-initialised event).
 */
static void
setup_caller_only(struct race *r, long round)
{
	setup_event(r, round - round % KIND_COUNT);
}

static void
side_recv_destroy(struct race *r, long round)
{
	struct rctx *c = r->ctx;

	(void)round;
	c->rb = once_recv(&c->rx, &c->got);
	if (c->rb == 0)
		c->rb = once_event_destroy(&c->ev) == 0 ? 0 : -2;
}

static void
check_recv_destroy(struct race *r, long round)
{
	struct rctx *c = r->ctx;

	ck_assert_int_eq(c->ra, 0);
	ck_assert_msg(c->rb == 0, "round %ld: destroy after recv %d", round,
		      c->rb);
	account(r, round, 1, 0);
}

/* Verify destroy right after once_recv returns, sender still sending. */
START_TEST(test_race_destroy_right_after_recv)
{
	struct rctx *c = rctx_new();
	struct race r = { .setup = setup_caller_only, .side_a = side_send,
			  .side_b = side_recv_destroy,
			  .check = check_recv_destroy,
			  .rounds = race_rounds(), .ctx = c };

	race_run(&r);
	free(c);
}
END_TEST

/*
 * The endpoint's own storage belongs to the peer's data structure: the
 * sender sits in a request that the receiving side frees as soon as its
 * receive returns, and the receiver sits in a reply record that the
 * sending side frees as soon as its send returns EPIPE. Neither call may
 * touch its endpoint after the transition that lets the peer go on.
 */
struct request {
	once_sender_t tx;
	long round;
};

struct embed_ctx {
	struct request *req;
	once_receiver_t *rx;
	void *got;
	int ra, rb;
};

static void
setup_embedded(struct race *r, long round)
{
	struct embed_ctx *e = r->ctx;

	e->req = malloc(sizeof(*e->req));
	e->rx = malloc(sizeof(*e->rx));
	ck_assert(e->req && e->rx);
	e->req->round = round;
	ck_assert_int_eq(once_channel(&e->req->tx, e->rx, NULL), 0);
}

static void
side_send_embedded(struct race *r, long round)
{
	struct embed_ctx *e = r->ctx;

	if (round % 3 == 2)
		e->ra = once_sender_close(&e->req->tx);
	else
		e->ra = once_send(&e->req->tx, (void *)round);
	/* EPIPE: the receiver is gone, its record is ours to free. */
	if (e->ra == EPIPE)
		free(e->rx);
}

static void
side_recv_embedded(struct race *r, long round)
{
	struct embed_ctx *e = r->ctx;

	if (round % 3 == 1) {
		e->rb = once_receiver_close(e->rx);
		return;
	}
	/* The sender is done once we see its value or close: free it. */
	e->rb = once_recv(e->rx, &e->got);
	free(e->req);
}

static void
check_embedded(struct race *r, long round)
{
	struct embed_ctx *e = r->ctx;

	if (round % 3 == 1) {
		ck_assert_int_eq(e->rb, 0);
		ck_assert_msg(e->ra == 0 || e->ra == EPIPE,
			      "round %ld: send %d", round, e->ra);
		free(e->req);
		if (e->ra == 0)
			free(e->rx);
		return;
	}
	ck_assert_int_eq(e->ra, 0);
	if (round % 3 == 0) {
		ck_assert_int_eq(e->rb, 0);
		ck_assert_ptr_eq(e->got, (void *)round);
	} else {
		ck_assert_int_eq(e->rb, EPIPE);
	}
	free(e->rx);
}

/*
 * Verify that send, close and receive never write to their endpoint after
 * the peer may have freed it (ASan reports the write otherwise).
 */
START_TEST(test_race_endpoint_storage_freed_by_peer)
{
	struct embed_ctx e;
	struct race r = { .setup = setup_embedded,
			  .side_a = side_send_embedded,
			  .side_b = side_recv_embedded,
			  .check = check_embedded,
			  .rounds = race_rounds(), .ctx = &e };

	memset(&e, 0, sizeof(e));
	race_run(&r);
}
END_TEST

/* Concurrent binds of one event: exactly one wins. */
struct bind_ctx {
	once_event_t ev;
	once_event_t *hev;
	once_sender_t tx[2];
	once_receiver_t rx[2];
	int res[2];
	long wins[2];
};

static once_event_t *
bind_target(struct bind_ctx *b, long round)
{
	return round % 2 ? b->hev : &b->ev;
}

static void
setup_bind(struct race *r, long round)
{
	struct bind_ctx *b = r->ctx;

	if (round % 2)
		ck_assert_int_eq(once_event_create(&b->hev, NULL), 0);
	else
		ck_assert_int_eq(once_event_init(&b->ev, NULL), 0);
}

static void
side_bind0(struct race *r, long round)
{
	struct bind_ctx *b = r->ctx;

	b->res[0] = once_event_bind(bind_target(b, round), &b->tx[0],
				    &b->rx[0]);
}

static void
side_bind1(struct race *r, long round)
{
	struct bind_ctx *b = r->ctx;

	b->res[1] = once_event_bind(bind_target(b, round), &b->tx[1],
				    &b->rx[1]);
}

static void
check_bind(struct race *r, long round)
{
	struct bind_ctx *b = r->ctx;
	int w = b->res[0] == 0 ? 0 : 1;
	void *v;
	int x;

	ck_assert_msg((b->res[0] == 0 && b->res[1] == EALREADY) ||
		      (b->res[1] == 0 && b->res[0] == EALREADY),
		      "round %ld: binds returned %d and %d", round,
		      b->res[0], b->res[1]);
	b->wins[w]++;
	ck_assert_int_eq(once_send(&b->tx[w], &x), 0);
	ck_assert_int_eq(once_recv(&b->rx[w], &v), 0);
	ck_assert_ptr_eq(v, &x);
	if (round % 2)
		ck_assert_int_eq(once_event_unref(b->hev), 0);
	else
		ck_assert_int_eq(once_event_destroy(&b->ev), 0);
}

/* Verify that of two concurrent binds exactly one returns 0. */
START_TEST(test_race_concurrent_binds)
{
	struct bind_ctx b;
	struct race r = { .setup = setup_bind, .side_a = side_bind0,
			  .side_b = side_bind1, .check = check_bind,
			  .rounds = race_rounds(), .ctx = &b };

	memset(&b, 0, sizeof(b));
	race_run(&r);
	ck_assert_int_eq(b.wins[0] + b.wins[1], r.rounds);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("race");
	TCase *tc = tcase_create("race");

	/* Generous: sanitizer builds and a loaded machine are slow. */
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_race_seed1_send_vs_receiver_close);
	tcase_add_test(tc, test_race_send_vs_recv);
	tcase_add_test(tc, test_race_seed3_sender_close_vs_recv);
	tcase_add_test(tc, test_race_seed2_seed4_send_vs_timedrecv_timeout);
	tcase_add_test(tc, test_race_seed7_ready_implies_take);
	tcase_add_test(tc, test_race_sender_close_vs_receiver_close);
	tcase_add_test(tc, test_race_destroy_right_after_recv);
	tcase_add_test(tc, test_race_concurrent_binds);
	tcase_add_test(tc, test_race_endpoint_storage_freed_by_peer);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
