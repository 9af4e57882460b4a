/*
 * check_local.c - the single-threaded event: every storage kind, every
 * documented error, and the seed's single-threaded scenarios.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "testutil.h"

static void
bind_new(once_local_event_t *ev, once_local_sender_t *tx,
	 once_local_receiver_t *rx, const once_attr_t *attr)
{
	ck_assert_int_eq(once_local_event_init(ev, attr), 0);
	ck_assert_int_eq(once_local_event_bind(ev, tx, rx), 0);
}

/* A callback that counts its calls and may collect the value. */
struct notified {
	once_local_receiver_t *rx;	/* NULL: do not collect */
	int calls;
	int rc;
	void *value;
};

static void
count_notify(void *arg)
{
	struct notified *n = arg;

	n->calls++;
	if (n->rx)
		n->rc = once_local_tryrecv(n->rx, &n->value);
}

/*
 * Verify that all-zero storage (the initializer) is a usable event: ready
 * only once sent, and the value crosses
 * (seed: local_event_default_creates_valid_event, local_event_by_ref_works).
 */
START_TEST(test_local_initializer_round_trip)
{
	once_local_event_t ev = ONCE_LOCAL_EVENT_INITIALIZER;
	once_local_event_t ev2 = ONCE_LOCAL_EVENT_INITIALIZER;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	void *v = NULL;
	int x = 123;

	ck_assert_int_eq(once_local_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_local_receiver_ready(&rx), 0);
	ck_assert_int_eq(once_local_send(&tx, &x), 0);
	ck_assert_int_eq(once_local_receiver_ready(&rx), 1);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(*(int *)v, 123);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	/* The seed's "test" string through a second zeroed event. */
	ck_assert_int_eq(once_local_event_bind(&ev2, &tx, &rx), 0);
	ck_assert_int_eq(once_local_send(&tx, "test"), 0);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
	ck_assert_str_eq(v, "test");
	ck_assert_int_eq(once_local_event_destroy(&ev2), 0);
}
END_TEST

/*
 * Verify init/bind/destroy: init refuses NULL, an unbound event may be
 * destroyed, a bound one is destroyed once used up, and the storage can
 * be initialised and bound again (seed: local_event_by_ref_unchecked_works).
 */
START_TEST(test_local_init_bind_destroy)
{
	once_attr_t a;
	once_local_event_t ev;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	void *v = NULL;
	int x, round;

	ck_assert_int_eq(once_local_event_init(NULL, NULL), EINVAL);
	ck_assert_int_eq(once_local_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);
	ck_assert_int_eq(once_local_event_destroy(NULL), EINVAL);

	attr_counting(&a, NULL);
	for (round = 0; round < 3; round++) {
		bind_new(&ev, &tx, &rx, round == 1 ? &a : NULL);
		ck_assert_ptr_nonnull(tx.ev_);
		ck_assert_ptr_nonnull(rx.ev_);
		ck_assert_int_eq(once_local_send(&tx, &x), 0);
		ck_assert_ptr_null(tx.ev_);
		ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
		ck_assert_ptr_null(rx.ev_);
		ck_assert_msg(v == &x, "round %d: wrong value", round);
		ck_assert_msg(once_local_event_destroy(&ev) == 0,
			      "round %d: destroy after use not 0", round);
	}
	ck_assert_int_eq(once_attr_destroy(&a), 0);
}
END_TEST

/*
 * Verify that an event is bound once: the second bind is EALREADY, and
 * still EALREADY after the event is used up
 * (seed: local_event_by_ref_panics_on_second_call,
 * local_event_by_ref_checked_returns_none_after_use).
 */
START_TEST(test_local_bind_twice_ealready)
{
	once_local_event_t ev;
	once_local_sender_t tx, tx2;
	once_local_receiver_t rx, rx2;
	void *v;
	int x;

	bind_new(&ev, &tx, &rx, NULL);
	memset(&tx2, 0, sizeof(tx2));
	memset(&rx2, 0, sizeof(rx2));
	ck_assert_int_eq(once_local_event_bind(&ev, &tx2, &rx2), EALREADY);
	ck_assert_ptr_null(tx2.ev_);
	ck_assert_ptr_null(rx2.ev_);
	ck_assert_int_eq(once_local_send(&tx, &x), 0);
	ck_assert_int_eq(once_local_event_bind(&ev, &tx2, &rx2), EALREADY);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
	ck_assert_int_eq(once_local_event_bind(&ev, &tx2, &rx2), EALREADY);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	/* Closed both ways, then bound again. */
	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_local_sender_close(&tx), 0);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(once_local_event_bind(&ev, &tx2, &rx2), EALREADY);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify bind's argument checks: NULL arguments, tx and rx at the same
 * address, and storage whose state word is garbage.
 */
START_TEST(test_local_bind_einval)
{
	once_local_event_t ev;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	union {
		once_local_sender_t tx;
		once_local_receiver_t rx;
	} both;

	ck_assert_int_eq(once_local_event_init(&ev, NULL), 0);
	ck_assert_int_eq(once_local_event_bind(NULL, &tx, &rx), EINVAL);
	ck_assert_int_eq(once_local_event_bind(&ev, NULL, &rx), EINVAL);
	ck_assert_int_eq(once_local_event_bind(&ev, &tx, NULL), EINVAL);
	ck_assert_int_eq(once_local_event_bind(&ev, &both.tx, &both.rx),
			 EINVAL);
	/* The refused binds left the event unbound. */
	ck_assert_int_eq(once_local_event_bind(&ev, &tx, &rx), 0);
	ck_assert_int_eq(once_local_sender_close(&tx), 0);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	/* Garbage in the state word is not an event. */
	memset(&ev, 0x5a, sizeof(ev));
	ck_assert_int_eq(once_local_event_bind(&ev, &tx, &rx), EINVAL);
}
END_TEST

/*
 * Verify destroy: EBUSY while either endpoint is live, 0 once both are
 * consumed; the storage may then be initialised and used again.
 */
START_TEST(test_local_destroy_ebusy_while_live)
{
	once_local_event_t ev;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	void *v;
	int x;

	/* Sent, then received. */
	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_local_event_destroy(&ev), EBUSY);
	ck_assert_int_eq(once_local_send(&tx, &x), 0);
	ck_assert_int_eq(once_local_event_destroy(&ev), EBUSY);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	/* Receiver gone first, sender still live. */
	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(once_local_event_destroy(&ev), EBUSY);
	ck_assert_int_eq(once_local_sender_close(&tx), 0);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	/* Sender gone first, receiver still live. */
	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_local_sender_close(&tx), 0);
	ck_assert_int_eq(once_local_event_destroy(&ev), EBUSY);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), EPIPE);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	/* The storage is reusable: a full cycle after the last destroy. */
	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_local_send(&tx, &x), 0);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify that a send to a closed receiver is EPIPE, leaves the value with
 * the caller (no destructor call) and consumes the sender.
 */
START_TEST(test_local_send_epipe_after_receiver_close)
{
	once_attr_t a;
	once_local_event_t ev;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	long before = atomic_load(&dtor_calls);
	int x;

	attr_counting(&a, NULL);
	bind_new(&ev, &tx, &rx, &a);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(once_local_send(&tx, &x), EPIPE);
	ck_assert_int_eq(atomic_load(&dtor_calls), before);
	ck_assert_ptr_null(tx.ev_);
	ck_assert_int_eq(once_local_send(&tx, &x), EINVAL);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify that every use of a consumed, zeroed or NULL endpoint is EINVAL,
 * and that the queries answer 1 for them.
 */
START_TEST(test_local_consumed_endpoint_einval)
{
	once_local_event_t ev;
	once_local_sender_t tx, zero_tx;
	once_local_receiver_t rx, zero_rx;
	struct notified n = { NULL, 0, -1, NULL };
	void *v = &v;
	int x;

	memset(&zero_tx, 0, sizeof(zero_tx));
	memset(&zero_rx, 0, sizeof(zero_rx));
	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_local_send(&tx, &x), 0);
	ck_assert_int_eq(once_local_send(&tx, &x), EINVAL);
	ck_assert_int_eq(once_local_sender_close(&tx), EINVAL);
	ck_assert_int_eq(once_local_sender_closed(&tx), 1);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), EINVAL);
	ck_assert_int_eq(once_local_receiver_close(&rx), EINVAL);
	ck_assert_int_eq(once_local_receiver_notify(&rx, count_notify, &n),
			 EINVAL);
	ck_assert_int_eq(once_local_receiver_ready(&rx), 1);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	/* Consumed by close rather than by send/receive. */
	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_local_sender_close(&tx), 0);
	ck_assert_int_eq(once_local_sender_close(&tx), EINVAL);
	ck_assert_int_eq(once_local_send(&tx, &x), EINVAL);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(once_local_receiver_close(&rx), EINVAL);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), EINVAL);
	ck_assert_int_eq(once_local_receiver_notify(&rx, count_notify, &n),
			 EINVAL);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	ck_assert_int_eq(once_local_send(&zero_tx, &x), EINVAL);
	ck_assert_int_eq(once_local_sender_close(&zero_tx), EINVAL);
	ck_assert_int_eq(once_local_sender_closed(&zero_tx), 1);
	ck_assert_int_eq(once_local_tryrecv(&zero_rx, &v), EINVAL);
	ck_assert_int_eq(once_local_receiver_close(&zero_rx), EINVAL);
	ck_assert_int_eq(once_local_receiver_notify(&zero_rx, count_notify,
						    &n), EINVAL);
	ck_assert_int_eq(once_local_receiver_ready(&zero_rx), 1);

	ck_assert_int_eq(once_local_send(NULL, &x), EINVAL);
	ck_assert_int_eq(once_local_sender_close(NULL), EINVAL);
	ck_assert_int_eq(once_local_sender_closed(NULL), 1);
	ck_assert_int_eq(once_local_tryrecv(NULL, &v), EINVAL);
	ck_assert_int_eq(once_local_receiver_close(NULL), EINVAL);
	ck_assert_int_eq(once_local_receiver_notify(NULL, count_notify, &n),
			 EINVAL);
	ck_assert_int_eq(once_local_receiver_ready(NULL), 1);

	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(n.calls, 0);
}
END_TEST

/*
 * Verify that a sender closed without sending makes the receiver ready
 * and tryrecv EPIPE, without writing *value, and consumes the receiver
 * (seed: local_event_receiver_gets_disconnected_when_sender_dropped,
 * local_receiver_into_value_sender_disconnected).
 */
START_TEST(test_local_sender_close_tryrecv_epipe)
{
	once_attr_t a;
	once_local_event_t ev;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	long before = atomic_load(&dtor_calls);
	void *v = &v;

	attr_counting(&a, NULL);
	bind_new(&ev, &tx, &rx, &a);
	ck_assert_int_eq(once_local_receiver_ready(&rx), 0);
	ck_assert_int_eq(once_local_sender_close(&tx), 0);
	ck_assert_ptr_null(tx.ev_);
	ck_assert_int_eq(once_local_receiver_ready(&rx), 1);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), EPIPE);
	ck_assert_ptr_eq(v, &v);
	ck_assert_ptr_null(rx.ev_);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), EINVAL);
	ck_assert_int_eq(atomic_load(&dtor_calls), before);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	/* Closing the receiver after the sender's close: nothing to destroy. */
	bind_new(&ev, &tx, &rx, &a);
	ck_assert_int_eq(once_local_sender_close(&tx), 0);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls), before);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify that a value sent but never received goes to the destructor
 * exactly once, NULL included, and that NULL is delivered as NULL
 * (seed: local_event_send_succeeds_without_receiver).
 */
START_TEST(test_local_dtor_unreceived_value_once)
{
	once_attr_t a;
	once_local_event_t ev;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	long before = atomic_load(&dtor_calls);
	void *v = &v;
	int x;

	attr_counting(&a, NULL);
	bind_new(&ev, &tx, &rx, &a);
	ck_assert_int_eq(once_local_send(&tx, &x), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls), before);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &x);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);

	/* NULL unreceived: the destructor gets NULL. */
	atomic_store(&dtor_last, (void *)&v);
	bind_new(&ev, &tx, &rx, &a);
	ck_assert_int_eq(once_local_send(&tx, NULL), 0);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 2);
	ck_assert_ptr_null(atomic_load(&dtor_last));
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	/* NULL received: delivered as NULL, no destructor call. */
	bind_new(&ev, &tx, &rx, &a);
	ck_assert_int_eq(once_local_send(&tx, NULL), 0);
	ck_assert_int_eq(once_local_receiver_ready(&rx), 1);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 2);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);
}
END_TEST

/* Verify that receiving into a NULL pointer hands the value to dtor. */
START_TEST(test_local_tryrecv_null_value_pointer_runs_dtor)
{
	once_attr_t a;
	once_local_event_t ev;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	long before = atomic_load(&dtor_calls);
	int x;

	attr_counting(&a, NULL);
	bind_new(&ev, &tx, &rx, &a);
	ck_assert_int_eq(once_local_send(&tx, &x), 0);
	ck_assert_int_eq(once_local_tryrecv(&rx, NULL), 0);
	ck_assert_ptr_null(rx.ev_);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &x);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	/* EPIPE into NULL: no value, no destructor call. */
	bind_new(&ev, &tx, &rx, &a);
	ck_assert_int_eq(once_local_sender_close(&tx), 0);
	ck_assert_int_eq(once_local_tryrecv(&rx, NULL), EPIPE);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify tryrecv: EAGAIN while pending with rx still usable, then the
 * value, then EINVAL (seed: local_receiver_into_value_no_value_sent,
 * local_receiver_into_value_with_sent_value,
 * local_receiver_into_value_panics_after_poll).
 */
START_TEST(test_local_tryrecv_eagain_then_value)
{
	once_local_event_t ev;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	void *v = &v;
	int x;

	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), EAGAIN);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), EAGAIN);
	ck_assert_ptr_eq(v, &v);
	ck_assert_ptr_nonnull(rx.ev_);
	ck_assert_int_eq(once_local_receiver_ready(&rx), 0);
	ck_assert_int_eq(once_local_sender_closed(&tx), 0);
	ck_assert_int_eq(once_local_event_destroy(&ev), EBUSY);
	ck_assert_int_eq(once_local_send(&tx, &x), 0);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), EINVAL);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	/* EAGAIN, then the receiver may still be closed. */
	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), EAGAIN);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(once_local_send(&tx, &x), EPIPE);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify sender_closed: 0 while the receiver may take a value, 1 once it
 * is closed; it does not consume tx, which still closes with 0.
 */
START_TEST(test_local_sender_closed_after_receiver_close)
{
	once_local_event_t ev;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	int x;

	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_local_sender_closed(&tx), 0);
	ck_assert_int_eq(once_local_sender_closed(&tx), 0);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(once_local_sender_closed(&tx), 1);
	ck_assert_ptr_nonnull(tx.ev_);
	ck_assert_int_eq(once_local_event_destroy(&ev), EBUSY);
	ck_assert_int_eq(once_local_sender_close(&tx), 0);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	/* The same, with the worker sending anyway: EPIPE. */
	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(once_local_sender_closed(&tx), 1);
	ck_assert_int_eq(once_local_send(&tx, &x), EPIPE);
	ck_assert_int_eq(once_local_sender_closed(&tx), 1);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify that endpoints are plain values: copies made by assignment work
 * from their new storage, and the copy left behind is refused (EINVAL)
 * once the event has moved on.
 */
START_TEST(test_local_endpoints_copy_by_assignment)
{
	once_local_event_t ev;
	once_local_sender_t tx, tx_copy;
	once_local_receiver_t rx, rx_copy;
	void *v = &v;
	int x;

	bind_new(&ev, &tx, &rx, NULL);
	tx_copy = tx;
	rx_copy = rx;
	ck_assert_int_eq(once_local_send(&tx_copy, &x), 0);
	ck_assert_int_eq(once_local_send(&tx, &x), EINVAL);
	ck_assert_int_eq(once_local_sender_close(&tx), EINVAL);
	ck_assert_int_eq(once_local_tryrecv(&rx_copy, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), EINVAL);
	ck_assert_int_eq(once_local_receiver_close(&rx), EINVAL);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	/* A stale receiver copy does not pose as the sender's peer. */
	bind_new(&ev, &tx, &rx, NULL);
	rx_copy = rx;
	ck_assert_int_eq(once_local_receiver_close(&rx_copy), 0);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), EINVAL);
	ck_assert_ptr_null(rx.ev_);
	ck_assert_int_eq(once_local_send(&tx, &x), EPIPE);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	/* A stale sender copy after the other copy closed. */
	bind_new(&ev, &tx, &rx, NULL);
	tx_copy = tx;
	ck_assert_int_eq(once_local_sender_close(&tx_copy), 0);
	ck_assert_int_eq(once_local_send(&tx, &x), EINVAL);
	ck_assert_ptr_null(tx.ev_);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), EPIPE);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);

	/* A stale receiver copy after the value was taken and closed. */
	bind_new(&ev, &tx, &rx, NULL);
	rx_copy = rx;
	ck_assert_int_eq(once_local_send(&tx, &x), 0);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(once_local_receiver_close(&rx_copy), EINVAL);
	ck_assert_ptr_null(rx_copy.ev_);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify that a registered callback runs exactly once when the sender is
 * closed, and that tryrecv then gives EPIPE
 * (seed: sender_dropped_when_awaiting_signals_disconnected).
 */
START_TEST(test_local_notify_sender_close_runs_callback)
{
	once_local_event_t ev;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	struct notified n = { NULL, 0, -1, NULL };
	void *v = &v;

	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_local_receiver_notify(&rx, count_notify, &n), 0);
	ck_assert_int_eq(n.calls, 0);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), EAGAIN);
	ck_assert_int_eq(once_local_sender_close(&tx), 0);
	ck_assert_int_eq(n.calls, 1);
	ck_assert_int_eq(once_local_receiver_ready(&rx), 1);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), EPIPE);
	ck_assert_ptr_eq(v, &v);
	ck_assert_int_eq(n.calls, 1);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify the notify smoke path: a callback registered before the send
 * runs once, on the send, and collects the value with tryrecv.
 */
START_TEST(test_local_notify_then_send_callback_collects)
{
	once_local_event_t ev;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	struct notified n = { &rx, 0, -1, NULL };
	int x;

	bind_new(&ev, &tx, &rx, NULL);
	ck_assert_int_eq(once_local_receiver_notify(&rx, count_notify, &n), 0);
	ck_assert_int_eq(once_local_receiver_ready(&rx), 0);
	ck_assert_int_eq(once_local_send(&tx, &x), 0);
	ck_assert_int_eq(n.calls, 1);
	ck_assert_int_eq(n.rc, 0);
	ck_assert_ptr_eq(n.value, &x);
	ck_assert_ptr_null(rx.ev_);
	ck_assert_int_eq(once_local_event_destroy(&ev), 0);
}
END_TEST

/*
 * Verify create/ref/unref on a heap event: one allocation, freed by the
 * last reference; destroy refuses a heap event
 * (seed: local_event_works_in_rc).
 */
START_TEST(test_local_heap_create_ref_unref)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_event_t *ev = NULL;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	void *v;
	int x;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_local_event_create(NULL, &a), EINVAL);
	ck_assert_int_eq(atomic_load(&ca.allocs), 0);
	ck_assert_int_eq(once_local_event_create(&ev, &a), 0);
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(atomic_load(&ca.allocs), 1);
	ck_assert_int_eq(once_local_event_destroy(ev), EINVAL);
	ck_assert_int_eq(once_local_event_ref(ev), 0);
	ck_assert_int_eq(once_local_event_unref(ev), 0);
	ck_assert_int_eq(atomic_load(&ca.frees), 0);
	/* Still usable through the remaining reference. */
	ck_assert_int_eq(once_local_event_bind(ev, &tx, &rx), 0);
	ck_assert_int_eq(once_local_send(&tx, &x), 0);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_local_event_destroy(ev), EINVAL);
	ck_assert_int_eq(atomic_load(&ca.frees), 0);
	ck_assert_int_eq(once_local_event_unref(ev), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), 1);
	ck_assert_int_eq(atomic_load(&ca.frees), 1);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);

	/* Never bound: the owner's unref frees it. */
	ck_assert_int_eq(once_local_event_create(&ev, &a), 0);
	ck_assert_int_eq(once_local_event_unref(ev), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), 2);
	ck_assert_int_eq(atomic_load(&ca.frees), 2);

	/* Default allocator (LeakSanitizer checks the free). */
	ck_assert_int_eq(once_local_event_create(&ev, NULL), 0);
	ck_assert_int_eq(once_local_event_destroy(ev), EINVAL);
	ck_assert_int_eq(once_local_event_unref(ev), 0);
}
END_TEST

/* Verify that ref/unref refuse caller-storage events and NULL. */
START_TEST(test_local_heap_ref_caller_storage_einval)
{
	once_local_event_t ev = ONCE_LOCAL_EVENT_INITIALIZER;
	once_local_event_t bound;
	once_local_sender_t tx;
	once_local_receiver_t rx;

	ck_assert_int_eq(once_local_event_ref(&ev), EINVAL);
	ck_assert_int_eq(once_local_event_unref(&ev), EINVAL);
	ck_assert_int_eq(once_local_event_ref(NULL), EINVAL);
	ck_assert_int_eq(once_local_event_unref(NULL), EINVAL);
	bind_new(&bound, &tx, &rx, NULL);
	ck_assert_int_eq(once_local_event_ref(&bound), EINVAL);
	ck_assert_int_eq(once_local_event_unref(&bound), EINVAL);
	ck_assert_int_eq(once_local_sender_close(&tx), 0);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(once_local_event_destroy(&bound), 0);
}
END_TEST

/*
 * Verify that a heap event is freed exactly when the last of owner and
 * endpoints lets go, whatever the order, and that it is bound only once
 * (seed: local_event_by_rc_basic, local_event_by_rc_unchecked_works,
 * local_event_by_rc_panics_on_second_call,
 * local_event_by_rc_checked_returns_none_after_use,
 * local_receiver_into_value_with_rc_event).
 */
START_TEST(test_local_heap_freed_by_last_of_owner_and_endpoints)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_event_t *ev;
	once_local_sender_t tx, tx2;
	once_local_receiver_t rx, rx2;
	void *v;
	int x, order;

	attr_counting(&a, &ca);
	for (order = 0; order < 3; order++) {
		long frees = atomic_load(&ca.frees);

		ck_assert_int_eq(once_local_event_create(&ev, &a), 0);
		ck_assert_int_eq(once_local_event_bind(ev, &tx, &rx), 0);
		ck_assert_int_eq(once_local_event_bind(ev, &tx2, &rx2),
				 EALREADY);
		if (order == 0)
			ck_assert_int_eq(once_local_event_unref(ev), 0);
		ck_assert_int_eq(once_local_send(&tx, &x), 0);
		if (order == 1)
			ck_assert_int_eq(once_local_event_unref(ev), 0);
		ck_assert_msg(atomic_load(&ca.frees) == frees,
			      "order %d: freed while the receiver is live",
			      order);
		ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
		ck_assert_ptr_eq(v, &x);
		if (order == 2) {
			ck_assert_int_eq(atomic_load(&ca.frees), frees);
			/* Used up, still bound once only. */
			ck_assert_int_eq(once_local_event_bind(ev, &tx2, &rx2),
					 EALREADY);
			ck_assert_int_eq(once_local_event_unref(ev), 0);
		}
		ck_assert_msg(atomic_load(&ca.frees) == frees + 1,
			      "order %d: not freed exactly once", order);
	}
	ck_assert_int_eq(atomic_load(&ca.allocs), 3);
	ck_assert_int_eq(atomic_load(&ca.allocs), atomic_load(&ca.frees));
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/*
 * Verify that a heap event released with its value unreceived hands the
 * value to the destructor exactly once.
 */
START_TEST(test_local_heap_unreceived_value_destroyed_once)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_event_t *ev;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	long before = atomic_load(&dtor_calls);
	int x;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_local_event_create(&ev, &a), 0);
	ck_assert_int_eq(once_local_event_bind(ev, &tx, &rx), 0);
	ck_assert_int_eq(once_local_send(&tx, &x), 0);
	ck_assert_int_eq(once_local_event_unref(ev), 0);
	ck_assert_int_eq(atomic_load(&ca.frees), 0);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &x);
	ck_assert_int_eq(atomic_load(&ca.frees), 1);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/* Verify ENOMEM from create and channel, then success once it is cleared. */
START_TEST(test_local_heap_enomem)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_event_t *ev = NULL;
	once_local_sender_t tx;
	once_local_receiver_t rx;

	attr_counting(&a, &ca);
	atomic_store(&ca.fail, 1);
	ck_assert_int_eq(once_local_event_create(&ev, &a), ENOMEM);
	ck_assert_ptr_null(ev);
	ck_assert_int_eq(once_local_channel(&tx, &rx, &a), ENOMEM);
	ck_assert_int_eq(atomic_load(&ca.allocs), 0);
	atomic_store(&ca.fail, 0);
	ck_assert_int_eq(once_local_event_create(&ev, &a), 0);
	ck_assert_int_eq(once_local_channel(&tx, &rx, &a), 0);
	ck_assert_int_eq(atomic_load(&ca.allocs), 2);
	ck_assert_int_eq(once_local_sender_close(&tx), 0);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(once_local_event_unref(ev), 0);
	ck_assert_int_eq(atomic_load(&ca.frees), 2);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/*
 * Verify that a channel is freed when both endpoints are done, in every
 * way they can finish, with the destructor run only for an unreceived
 * value (seed: local_event_new_managed_basic,
 * local_event_new_managed_without_receiver,
 * local_event_new_managed_receiver_gets_disconnected_when_sender_dropped).
 */
START_TEST(test_local_channel_freed_when_both_done)
{
	struct count_alloc ca = { 0 };
	once_attr_t a;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	long before = atomic_load(&dtor_calls);
	void *v;
	int x, way;

	attr_counting(&a, &ca);
	ck_assert_int_eq(once_local_channel(NULL, &rx, &a), EINVAL);
	ck_assert_int_eq(once_local_channel(&tx, NULL, &a), EINVAL);
	ck_assert_int_eq(once_local_channel((once_local_sender_t *)&rx, &rx,
					    &a), EINVAL);
	ck_assert_int_eq(atomic_load(&ca.allocs), 0);
	for (way = 0; way < 5; way++) {
		ck_assert_int_eq(once_local_channel(&tx, &rx, &a), 0);
		switch (way) {
		case 0:	/* sent and received */
			ck_assert_int_eq(once_local_send(&tx, &x), 0);
			ck_assert_int_eq(atomic_load(&ca.frees), way);
			ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
			ck_assert_ptr_eq(v, &x);
			break;
		case 1:	/* receiver gone first */
			ck_assert_int_eq(once_local_receiver_close(&rx), 0);
			ck_assert_int_eq(atomic_load(&ca.frees), way);
			ck_assert_int_eq(once_local_send(&tx, &x), EPIPE);
			break;
		case 2:	/* sender closed, receiver sees EPIPE */
			ck_assert_int_eq(once_local_sender_close(&tx), 0);
			ck_assert_int_eq(atomic_load(&ca.frees), way);
			ck_assert_int_eq(once_local_tryrecv(&rx, &v), EPIPE);
			break;
		case 3:	/* sent, never received */
			ck_assert_int_eq(once_local_send(&tx, &x), 0);
			ck_assert_int_eq(atomic_load(&ca.frees), way);
			ck_assert_int_eq(once_local_receiver_close(&rx), 0);
			break;
		case 4:	/* both closed */
			ck_assert_int_eq(once_local_receiver_close(&rx), 0);
			ck_assert_int_eq(atomic_load(&ca.frees), way);
			ck_assert_int_eq(once_local_sender_close(&tx), 0);
			break;
		}
		ck_assert_msg(atomic_load(&ca.frees) == way + 1,
			      "way %d: channel not freed once", way);
	}
	ck_assert_int_eq(atomic_load(&ca.allocs), 5);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &x);
	ck_assert_int_eq(atomic_load(&ca.live_bytes), 0);
}
END_TEST

/* A payload of another shape than a scalar. */
struct reply {
	char text[32];
	long n;
};

enum storage { ST_CALLER, ST_HEAP, ST_CHANNEL, ST_MALLOC, ST_COUNT };

/*
 * A bound event of the given storage kind. *heap and *mem receive what
 * the caller must release afterwards (NULL when nothing).
 */
static void
bind_kind(enum storage kind, once_local_event_t *caller,
	  once_local_event_t **heap, once_local_event_t **mem,
	  once_local_sender_t *tx, once_local_receiver_t *rx)
{
	*heap = NULL;
	*mem = NULL;
	switch (kind) {
	case ST_CALLER:
		bind_new(caller, tx, rx, NULL);
		break;
	case ST_HEAP:
		ck_assert_int_eq(once_local_event_create(heap, NULL), 0);
		ck_assert_int_eq(once_local_event_bind(*heap, tx, rx), 0);
		break;
	case ST_CHANNEL:
		ck_assert_int_eq(once_local_channel(tx, rx, NULL), 0);
		break;
	default:
		*mem = malloc(sizeof(**mem));
		ck_assert_ptr_nonnull(*mem);
		bind_new(*mem, tx, rx, NULL);
		break;
	}
}

static void
unbind_kind(enum storage kind, once_local_event_t *caller,
	    once_local_event_t *heap, once_local_event_t *mem)
{
	switch (kind) {
	case ST_CALLER:
		ck_assert_int_eq(once_local_event_destroy(caller), 0);
		break;
	case ST_HEAP:
		ck_assert_int_eq(once_local_event_unref(heap), 0);
		break;
	case ST_CHANNEL:
		break;
	default:
		ck_assert_int_eq(once_local_event_destroy(mem), 0);
		free(mem);
		break;
	}
}

/*
 * Verify payloads of other types (a struct, a string, a long cast to a
 * pointer) on every storage kind (seed: local_event_by_rc_string,
 * local_event_new_managed_different_types,
 * local_event_new_in_place_by_ptr_different_types,
 * local_receiver_into_value_multiple_event_types).
 */
START_TEST(test_local_payload_types)
{
	once_local_event_t caller, *heap, *mem;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	struct reply *r;
	char *s;
	void *v;
	int kind;

	for (kind = 0; kind < ST_COUNT; kind++) {
		/* A struct the receiver takes ownership of. */
		bind_kind(kind, &caller, &heap, &mem, &tx, &rx);
		r = malloc(sizeof(*r));
		ck_assert_ptr_nonnull(r);
		strcpy(r->text, "reply");
		r->n = 42;
		ck_assert_int_eq(once_local_send(&tx, r), 0);
		v = NULL;
		ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
		r = v;
		ck_assert_msg(r && strcmp(r->text, "reply") == 0 && r->n == 42,
			      "kind %d: struct payload garbled", kind);
		free(r);
		unbind_kind(kind, &caller, heap, mem);

		/* A string. */
		bind_kind(kind, &caller, &heap, &mem, &tx, &rx);
		ck_assert_int_eq(once_local_send(&tx, "hello, world"), 0);
		ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
		s = v;
		ck_assert_msg(strcmp(s, "hello, world") == 0,
			      "kind %d: string payload garbled", kind);
		unbind_kind(kind, &caller, heap, mem);

		/* An integer carried in the pointer itself. */
		bind_kind(kind, &caller, &heap, &mem, &tx, &rx);
		ck_assert_int_eq(once_local_send(&tx,
				 (void *)(intptr_t)-123456789L), 0);
		ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
		ck_assert_msg((long)(intptr_t)v == -123456789L,
			      "kind %d: long payload garbled", kind);
		unbind_kind(kind, &caller, heap, mem);
	}
}
END_TEST

/*
 * Verify tryrecv's answers (EAGAIN, value, EINVAL after) on every
 * storage kind (seed: local_receiver_into_value_with_ref_event,
 * local_receiver_into_value_with_rc_event,
 * local_receiver_into_value_with_ptr_event).
 */
START_TEST(test_local_tryrecv_every_kind)
{
	once_local_event_t caller, *heap, *mem;
	once_local_sender_t tx;
	once_local_receiver_t rx;
	void *v;
	int x, kind;

	for (kind = 0; kind < ST_COUNT; kind++) {
		bind_kind(kind, &caller, &heap, &mem, &tx, &rx);
		v = &v;
		ck_assert_msg(once_local_tryrecv(&rx, &v) == EAGAIN,
			      "kind %d: not EAGAIN while pending", kind);
		ck_assert_ptr_eq(v, &v);
		ck_assert_int_eq(once_local_send(&tx, &x), 0);
		ck_assert_msg(once_local_tryrecv(&rx, &v) == 0 && v == &x,
			      "kind %d: value not received", kind);
		ck_assert_msg(once_local_tryrecv(&rx, &v) == EINVAL,
			      "kind %d: second receive not EINVAL", kind);
		unbind_kind(kind, &caller, heap, mem);
	}
}
END_TEST

/*
 * Verify a local event in malloc'd storage (the seed's in-place and ptr
 * models): value, no receiver, sender gone, bound once; the storage is
 * freed after destroy (seed: local_event_by_ptr_basic,
 * local_event_by_ptr_unchecked_works,
 * local_event_by_ptr_checked_returns_none_after_use,
 * local_event_new_in_place_by_ptr_{basic, without_receiver,
 * receiver_gets_disconnected_when_sender_dropped}).
 */
START_TEST(test_local_malloc_storage_in_place)
{
	once_attr_t a;
	once_local_event_t *ev;
	once_local_sender_t tx, tx2;
	once_local_receiver_t rx, rx2;
	long before = atomic_load(&dtor_calls);
	void *v = &v;
	int x, y;

	attr_counting(&a, NULL);

	/* basic; bound once */
	ev = malloc(sizeof(*ev));
	ck_assert_ptr_nonnull(ev);
	bind_new(ev, &tx, &rx, &a);
	ck_assert_int_eq(once_local_event_bind(ev, &tx2, &rx2), EALREADY);
	ck_assert_int_eq(once_local_send(&tx, &x), 0);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), 0);
	ck_assert_ptr_eq(v, &x);
	ck_assert_int_eq(once_local_event_bind(ev, &tx2, &rx2), EALREADY);
	ck_assert_int_eq(once_local_event_destroy(ev), 0);
	free(ev);

	/* without receiver: the value goes to the destructor */
	ev = malloc(sizeof(*ev));
	ck_assert_ptr_nonnull(ev);
	bind_new(ev, &tx, &rx, &a);
	ck_assert_int_eq(once_local_send(&tx, &y), 0);
	ck_assert_int_eq(once_local_receiver_close(&rx), 0);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);
	ck_assert_ptr_eq(atomic_load(&dtor_last), &y);
	ck_assert_int_eq(once_local_event_destroy(ev), 0);
	free(ev);

	/* receiver gets disconnected when the sender goes */
	ev = malloc(sizeof(*ev));
	ck_assert_ptr_nonnull(ev);
	memset(ev, 0, sizeof(*ev));
	ck_assert_int_eq(once_local_event_bind(ev, &tx, &rx), 0);
	ck_assert_int_eq(once_local_sender_close(&tx), 0);
	ck_assert_int_eq(once_local_tryrecv(&rx, &v), EPIPE);
	ck_assert_int_eq(once_local_event_destroy(ev), 0);
	free(ev);
	ck_assert_int_eq(atomic_load(&dtor_calls) - before, 1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("local");
	TCase *tc = tcase_create("local");
	TCase *heap = tcase_create("heap");

	tcase_add_test(tc, test_local_initializer_round_trip);
	tcase_add_test(tc, test_local_init_bind_destroy);
	tcase_add_test(tc, test_local_bind_twice_ealready);
	tcase_add_test(tc, test_local_bind_einval);
	tcase_add_test(tc, test_local_destroy_ebusy_while_live);
	tcase_add_test(tc, test_local_send_epipe_after_receiver_close);
	tcase_add_test(tc, test_local_consumed_endpoint_einval);
	tcase_add_test(tc, test_local_sender_close_tryrecv_epipe);
	tcase_add_test(tc, test_local_dtor_unreceived_value_once);
	tcase_add_test(tc, test_local_tryrecv_null_value_pointer_runs_dtor);
	tcase_add_test(tc, test_local_tryrecv_eagain_then_value);
	tcase_add_test(tc, test_local_sender_closed_after_receiver_close);
	tcase_add_test(tc, test_local_endpoints_copy_by_assignment);
	tcase_add_test(tc, test_local_notify_sender_close_runs_callback);
	tcase_add_test(tc, test_local_notify_then_send_callback_collects);
	tcase_add_test(tc, test_local_malloc_storage_in_place);
	suite_add_tcase(s, tc);

	tcase_add_test(heap, test_local_heap_create_ref_unref);
	tcase_add_test(heap, test_local_heap_ref_caller_storage_einval);
	tcase_add_test(heap,
		       test_local_heap_freed_by_last_of_owner_and_endpoints);
	tcase_add_test(heap, test_local_heap_unreceived_value_destroyed_once);
	tcase_add_test(heap, test_local_heap_enomem);
	tcase_add_test(heap, test_local_channel_freed_when_both_done);
	tcase_add_test(heap, test_local_payload_types);
	tcase_add_test(heap, test_local_tryrecv_every_kind);
	suite_add_tcase(s, heap);
	return run_suite(s);
}
