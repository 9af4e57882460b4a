/*
 * tsan_user.c - a program built with ThreadSanitizer that uses a libonce
 * built without it: payloads handed over by once_send/once_recv, by a
 * callback, by a pool and by a channel must not show as data races, nor
 * a request freed by its sender once a send to its closed receiver failed.
 */
#include <errno.h>
#include <once.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

struct msg {
	long words[8];
};

static once_pool_t pool;

static void *
send_thread(void *arg)
{
	once_sender_t *tx = arg;
	struct msg *m = malloc(sizeof(*m));
	int i;

	for (i = 0; i < 8; i++)
		m->words[i] = i;	/* plain writes, before the send */
	if (once_send(tx, m))
		abort();
	return NULL;
}

static struct msg cb_msg;
static once_receiver_t cb_rx;

static void
on_ready(void *arg)
{
	(void)arg;
	/* Runs on the sending thread: reads what main wrote before notify. */
	if (cb_msg.words[0] != 7)
		abort();
}

/* A request that carries its receiver, closed on another thread. */
struct request {
	once_receiver_t rx;
	long answer;
};

static void *
close_thread(void *arg)
{
	struct request *q = arg;

	q->answer = 42;		/* a plain write, before the close */
	if (once_receiver_close(&q->rx))
		abort();
	return NULL;
}

int
main(void)
{
	once_sender_t tx;
	once_receiver_t rx;
	pthread_t t;
	struct msg *m;
	int round, i;

	if (once_pool_init(&pool, NULL))
		return 1;
	for (round = 0; round < 300; round++) {
		if (round % 3 == 0 ? once_channel(&tx, &rx, NULL) :
		    once_pool_bind(&pool, &tx, &rx))
			return 1;
		if (round % 3 == 2) {
			cb_msg.words[0] = 7;	/* before notify */
			cb_rx = rx;
			if (once_receiver_notify(&cb_rx, on_ready, NULL))
				return 1;
		}
		if (pthread_create(&t, NULL, send_thread, &tx))
			return 1;
		if (round % 3 == 2) {
			pthread_join(t, NULL);
			rx = cb_rx;
		}
		if (once_recv(&rx, (void **)&m))
			return 1;
		for (i = 0; i < 8; i++)
			if (m->words[i] != i)	/* plain reads, after it */
				return 1;
		free(m);
		if (round % 3 != 2)
			pthread_join(t, NULL);
	}
	for (round = 0; round < 100; round++) {
		struct request *q = malloc(sizeof(*q));

		if (!q || once_channel(&tx, &q->rx, NULL) ||
		    pthread_create(&t, NULL, close_thread, q))
			return 1;
		while (!once_sender_closed(&tx))
			sched_yield();
		/* EPIPE: the receiver is done with q, its writes visible. */
		if (once_send(&tx, NULL) != EPIPE || q->answer != 42)
			return 1;
		free(q);
		pthread_join(t, NULL);
	}
	if (once_pool_destroy(&pool))
		return 1;
	puts("ok");
	return 0;
}
