/*
 * once-demo.c - worker threads answer requests through one-shot events.
 *
 * This is the job libonce exists for: a client hands a request to a pool
 * of workers and waits for "the reply, when it is ready". Each request
 * carries the sender of a fresh one-shot event; the client keeps the
 * receiver. The queue that carries requests to the workers is an ordinary
 * mutex and condition variable: it is not what the demo is about.
 *
 * The demo runs the same load with the default spin budget and with none,
 * and reports how long each reply took from once_send() to the return of
 * once_recv(). It then shows the ways a reply can fail to reach its
 * client, and proves that every reply sent was received, handed back by
 * EPIPE, or freed by the destructor: exactly one of the three.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <once.h>

#define DEFAULT_WORKERS		2
#define DEFAULT_CLIENTS		2
#define DEFAULT_REQUESTS	20000
#define MAX_THREADS		64
#define MAX_REQUESTS		10000000

/*
 * Each way of waiting runs in this many rounds, alternating with the
 * other, so that a noisy spell of the machine hits both.
 */
#define ROUNDS			4

/* The give-up demonstrations, in milliseconds. */
#define PATIENCE_MS		10	/* how long a client waits */
#define SLOW_MS			100	/* how long a slow request takes */

/* How a client waits for its reply: the two rows of the table. */
enum mode {
	MODE_SPIN,		/* the default spin budget, then the futex */
	MODE_SLEEP,		/* spin 0: straight to the futex */
	MODES
};

/* How a client stores the event behind a reply. */
enum storage {
	STORE_STACK,		/* once_event_init() on the client's stack */
	STORE_CHANNEL,		/* once_channel(): owned by its endpoints */
	STORE_HEAP,		/* once_event_create(): reference counted */
	STORE_KINDS
};

enum job {
	JOB_SUM,		/* answer at once */
	JOB_SLOW_POLL,		/* slow, but gives up when the client does */
	JOB_SLOW_BLIND,		/* slow, and never looks back */
};

/* Counters shared by all threads; only read after they are joined. */
struct stats {
	atomic_ulong sent;	/* replies passed to once_send() */
	atomic_ulong received;	/* replies a client received */
	atomic_ulong returned;	/* replies once_send() gave back: EPIPE */
	atomic_ulong destroyed;	/* replies freed by the destructor */
	atomic_long live;	/* replies allocated and not yet freed */
	atomic_int skipped_ms;	/* when a worker saw its client go, or -1 */
	atomic_int epipe_ms;	/* when a worker's send met EPIPE, or -1 */
};

struct reply {
	uint64_t id;
	uint64_t sum;
	uint64_t sent_ns;	/* CLOCK_MONOTONIC, just before once_send() */
	struct stats *stats;	/* for the destructor, which gets only this */
};

/* Owned by the queue, then by the worker that takes it, which frees it. */
struct request {
	struct request *next;
	once_sender_t reply_tx;
	uint64_t id;
	uint32_t n;
	enum job job;
};

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t nonempty;
	struct request *head;
	struct request **tailp;
	bool closing;
};

struct demo {
	struct queue queue;
	struct stats stats;
	once_attr_t attr[MODES];
	const once_attr_t *attr_now; /* for the reply events of this round */
	unsigned int workers;
	unsigned int clients;
	unsigned long requests;
	bool quiet;
};

/* One request in flight, as its client sees it. */
struct slot {
	once_event_t event;	/* STORE_STACK: the event itself */
	once_event_t *heap_event; /* STORE_HEAP: the client's reference */
	once_receiver_t rx;
	uint64_t id;
	uint32_t n;
	enum storage kind;
};

struct client {
	pthread_t thread;
	struct demo *demo;
	uint64_t first_id;
	unsigned long count;
	uint64_t *latency_ns;	/* one per request */
};

/* The measurements of one mode, over all its rounds. */
struct result {
	uint64_t *latency_ns;
	unsigned long count;
	double seconds;
};

static void
die(const char *what, int err)
{
	fprintf(stderr, "once-demo: %s: %s\n", what, strerror(err));
	exit(1);
}

static void
check(const char *what, int err)
{
	if (err)
		die(what, err);
}

static void *
xmalloc(size_t size)
{
	void *p = malloc(size);

	if (!p)
		die("malloc", ENOMEM);
	return p;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static struct timespec
deadline_ms(clockid_t clock, unsigned int ms)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	ts.tv_nsec += (long)ms * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	return ts;
}

/* The work a request asks for: the sum of the squares below n. */
static uint64_t
sum_squares(uint32_t n)
{
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		sum += (uint64_t)i * i;
	return sum;
}

/* The client checks the worker's loop against the closed form. */
static uint64_t
sum_squares_expected(uint32_t n)
{
	uint64_t m = n;

	return m == 0 ? 0 : (m - 1) * m * (2 * m - 1) / 6;
}

static void
queue_init(struct queue *q)
{
	check("pthread_mutex_init", pthread_mutex_init(&q->lock, NULL));
	check("pthread_cond_init", pthread_cond_init(&q->nonempty, NULL));
	q->head = NULL;
	q->tailp = &q->head;
	q->closing = false;
}

static void
queue_destroy(struct queue *q)
{
	pthread_cond_destroy(&q->nonempty);
	pthread_mutex_destroy(&q->lock);
}

static void
queue_push(struct queue *q, struct request *req)
{
	req->next = NULL;
	pthread_mutex_lock(&q->lock);
	*q->tailp = req;
	q->tailp = &req->next;
	pthread_cond_signal(&q->nonempty);
	pthread_mutex_unlock(&q->lock);
}

/* Take the oldest request; NULL once the queue is closing and empty. */
static struct request *
queue_pop(struct queue *q)
{
	struct request *req;

	pthread_mutex_lock(&q->lock);
	while (!q->head && !q->closing)
		pthread_cond_wait(&q->nonempty, &q->lock);
	req = q->head;
	if (req) {
		q->head = req->next;
		if (!q->head)
			q->tailp = &q->head;
	}
	pthread_mutex_unlock(&q->lock);
	return req;
}

static void
queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closing = true;
	pthread_cond_broadcast(&q->nonempty);
	pthread_mutex_unlock(&q->lock);
}

static void
reply_free(struct reply *rep)
{
	atomic_fetch_sub_explicit(&rep->stats->live, 1, memory_order_relaxed);
	free(rep);
}

/* The destructor attribute: called for a reply sent but never received. */
static void
reply_destroy(void *value)
{
	struct reply *rep = value;

	atomic_fetch_add_explicit(&rep->stats->destroyed, 1,
				  memory_order_relaxed);
	reply_free(rep);
}

static int
ms_since(uint64_t start_ns)
{
	return (int)((now_ns() - start_ns) / 1000000);
}

/* Send the reply, or take it back if the client has gone. */
static void
worker_reply(struct demo *d, struct request *req, uint64_t start_ns)
{
	struct reply *rep = xmalloc(sizeof(*rep));
	int err;

	atomic_fetch_add_explicit(&d->stats.live, 1, memory_order_relaxed);
	rep->id = req->id;
	rep->sum = sum_squares(req->n);
	rep->stats = &d->stats;
	atomic_fetch_add_explicit(&d->stats.sent, 1, memory_order_relaxed);
	rep->sent_ns = now_ns();
	err = once_send(&req->reply_tx, rep);
	if (err == EPIPE) {
		/* The value stays ours: nobody else will free it. */
		atomic_fetch_add_explicit(&d->stats.returned, 1,
					  memory_order_relaxed);
		atomic_store(&d->stats.epipe_ms, ms_since(start_ns));
		reply_free(rep);
		return;
	}
	check("once_send", err);
}

static void
worker_serve(struct demo *d, struct request *req)
{
	uint64_t start_ns = now_ns();
	unsigned int ms;

	switch (req->job) {
	case JOB_SUM:
		break;
	case JOB_SLOW_POLL:
		/*
		 * Long work goes in slices, asking between them whether
		 * anyone still waits for the answer.
		 */
		for (ms = 0; ms < SLOW_MS; ms++) {
			if (once_sender_closed(&req->reply_tx)) {
				atomic_store(&d->stats.skipped_ms,
					     ms_since(start_ns));
				/* Consuming the sender frees the event. */
				check("once_sender_close",
				      once_sender_close(&req->reply_tx));
				return;
			}
			sleep_ms(1);
		}
		break;
	case JOB_SLOW_BLIND:
		sleep_ms(SLOW_MS);
		break;
	}
	worker_reply(d, req, start_ns);
}

static void *
worker_main(void *arg)
{
	struct demo *d = arg;
	struct request *req;

	while ((req = queue_pop(&d->queue))) {
		worker_serve(d, req);
		free(req);
	}
	return NULL;
}

/* Bind a fresh event of the slot's kind; the request gets the sender. */
static void
slot_bind(struct demo *d, struct slot *s, struct request *req)
{
	switch (s->kind) {
	case STORE_STACK:
		check("once_event_init",
		      once_event_init(&s->event, d->attr_now));
		check("once_event_bind",
		      once_event_bind(&s->event, &req->reply_tx, &s->rx));
		break;
	case STORE_CHANNEL:
		check("once_channel",
		      once_channel(&req->reply_tx, &s->rx, d->attr_now));
		break;
	case STORE_HEAP:
		check("once_event_create",
		      once_event_create(&s->heap_event, d->attr_now));
		check("once_event_bind", once_event_bind(s->heap_event,
				&req->reply_tx, &s->rx));
		break;
	default:
		abort();
	}
}

/* End the slot's event once its receiver is consumed. */
static void
slot_release(struct slot *s)
{
	switch (s->kind) {
	case STORE_STACK:
		check("once_event_destroy", once_event_destroy(&s->event));
		break;
	case STORE_CHANNEL:
		break;
	case STORE_HEAP:
		check("once_event_unref", once_event_unref(s->heap_event));
		s->heap_event = NULL;
		break;
	default:
		abort();
	}
}

static void
slot_submit(struct demo *d, struct slot *s, uint64_t id, enum storage kind,
	    enum job job)
{
	struct request *req = xmalloc(sizeof(*req));

	req->id = id;
	req->n = 64 + (uint32_t)(id * 2654435761u >> 7) % 448;
	req->job = job;
	s->id = req->id;
	s->n = req->n;
	s->kind = kind;
	slot_bind(d, s, req);
	queue_push(&d->queue, req);
}

/* Check a received reply, free it and the slot's event. */
static void
slot_finish(struct demo *d, struct slot *s, struct reply *rep)
{
	if (rep->id != s->id || rep->sum != sum_squares_expected(s->n)) {
		fprintf(stderr, "once-demo: request %#llx: wrong reply"
			" %#llx, sum %llu\n", (unsigned long long)s->id,
			(unsigned long long)rep->id,
			(unsigned long long)rep->sum);
		exit(1);
	}
	atomic_fetch_add_explicit(&d->stats.received, 1, memory_order_relaxed);
	reply_free(rep);
	slot_release(s);
}

/* Wait for the slot's reply and return its hand-off time. */
static uint64_t
slot_collect(struct demo *d, struct slot *s)
{
	struct reply *rep;
	uint64_t latency;
	void *value;

	check("once_recv", once_recv(&s->rx, &value));
	latency = now_ns();
	rep = value;
	latency -= rep->sent_ns;
	slot_finish(d, s, rep);
	return latency;
}

/*
 * Each request waits for its reply before the next is sent, as a thread
 * serving one connection of a daemon would: the client is already in
 * once_recv() when the reply arrives, so the clock measures the hand-off.
 */
static void *
client_main(void *arg)
{
	struct client *c = arg;
	struct slot s;
	unsigned long i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < c->count; i++) {
		slot_submit(c->demo, &s, c->first_id + i,
			    (enum storage)(i % STORE_KINDS), JOB_SUM);
		c->latency_ns[i] = slot_collect(c->demo, &s);
	}
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static double
percentile_us(const uint64_t *sorted, unsigned long n, unsigned int pct)
{
	unsigned long i = n * pct / 100;

	return (double)sorted[i < n ? i : n - 1] / 1000.0;
}

/* Run one round of n requests in mode m; add its numbers to res. */
static void
run_round(struct demo *d, enum mode m, unsigned int round, unsigned long n,
	  struct result *res)
{
	struct client clients[MAX_THREADS];
	uint64_t start;
	unsigned int i;

	d->attr_now = &d->attr[m];
	start = now_ns();
	for (i = 0; i < d->clients; i++) {
		clients[i].demo = d;
		clients[i].first_id = ((uint64_t)round << 8 | i) << 32;
		clients[i].count = n / d->clients + (i < n % d->clients);
		clients[i].latency_ns = res->latency_ns + res->count;
		res->count += clients[i].count;
		check("pthread_create", pthread_create(&clients[i].thread,
				NULL, client_main, &clients[i]));
	}
	for (i = 0; i < d->clients; i++)
		check("pthread_join", pthread_join(clients[i].thread, NULL));
	res->seconds += (double)(now_ns() - start) / 1e9;
}

static void
run_load(struct demo *d, struct result res[MODES])
{
	unsigned long n = d->requests;
	unsigned int r;
	enum mode m;

	for (m = 0; m < MODES; m++) {
		res[m].latency_ns = xmalloc(n * sizeof(*res[m].latency_ns));
		res[m].count = 0;
		res[m].seconds = 0;
	}
	for (r = 0; r < ROUNDS * MODES; r++) {
		m = (enum mode)(r % MODES);
		run_round(d, m, r, n / ROUNDS + (r / MODES < n % ROUNDS),
			  &res[m]);
	}
}

static void
print_results(struct result res[MODES])
{
	static const char *const label[MODES] = {
		[MODE_SPIN] = "spin, then sleep (default)",
		[MODE_SLEEP] = "sleep at once (spin 0)",
	};
	unsigned long n;
	uint64_t *lat;
	enum mode m;

	printf("%46s%s\n", "", "send-to-receive (us)");
	printf("%-26s %7s %8s %7s %6s %6s %7s\n", "receiver", "replies",
	       "req/s", "median", "p90", "p99", "max");
	for (m = 0; m < MODES; m++) {
		n = res[m].count;
		lat = res[m].latency_ns;
		qsort(lat, n, sizeof(*lat), cmp_u64);
		printf("%-26s %7lu %8.0f %7.1f %6.1f %6.1f %7.1f\n",
		       label[m], n, (double)n / res[m].seconds,
		       percentile_us(lat, n, 50), percentile_us(lat, n, 90),
		       percentile_us(lat, n, 99), percentile_us(lat, n, 100));
	}
}

/* What happened to the replies of the clients that gave up. */
static void
print_give_ups(struct stats *st)
{
	int skipped_ms = atomic_load(&st->skipped_ms);
	int epipe_ms = atomic_load(&st->epipe_ms);

	printf("client gave up at %d ms: ", PATIENCE_MS);
	if (skipped_ms >= 0)
		printf("worker saw the close at %d ms, skipped the work\n",
		       skipped_ms);
	else
		printf("the reply came first\n");
	printf("client gave up at %d ms: ", PATIENCE_MS);
	if (epipe_ms >= 0)
		printf("worker's send at %d ms got EPIPE, freed the reply\n",
		       epipe_ms);
	else
		printf("the reply came first\n");
	printf("replies nobody received: %lu, freed by the destructor\n",
	       (unsigned long)atomic_load(&st->destroyed));
}

/*
 * A client that stops waiting. Its request is on a heap event: after the
 * receiver is closed the sender is still live, so a caller-storage event
 * could not be destroyed (EBUSY) until the worker let go of it.
 */
static void
give_up(struct demo *d, uint64_t id, enum storage kind, enum job job)
{
	struct slot s;
	struct timespec deadline;
	void *value;
	int err;

	memset(&s, 0, sizeof(s));
	slot_submit(d, &s, id, kind, job);
	deadline = deadline_ms(CLOCK_REALTIME, PATIENCE_MS);
	err = once_timedrecv(&s.rx, &value, &deadline);
	if (err == 0) {
		/* This thread was stalled for longer than the job took. */
		slot_finish(d, &s, value);
		return;
	}
	if (err != ETIMEDOUT)
		die("once_timedrecv", err);
	/* A reply that slipped in after the timeout goes to the destructor. */
	check("once_receiver_close", once_receiver_close(&s.rx));
	slot_release(&s);
}

/*
 * A client that no longer wants a reply once it has arrived: closing the
 * receiver hands the value to the destructor. A receive into NULL does the
 * same.
 */
static void
discard(struct demo *d, uint64_t id, bool close_rx)
{
	struct slot s;

	memset(&s, 0, sizeof(s));
	slot_submit(d, &s, id, STORE_STACK, JOB_SUM);
	if (close_rx) {
		while (!once_receiver_ready(&s.rx))
			sleep_ms(1);
		check("once_receiver_close", once_receiver_close(&s.rx));
	} else {
		check("once_recv", once_recv(&s.rx, NULL));
	}
	slot_release(&s);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: once-demo [-w WORKERS] [-c CLIENTS]"
		" [-n REQUESTS] [-q]\n"
		"Worker threads answer client requests through one-shot"
		" events; the demo\n"
		"times the replies from send to receive, with and without"
		" spinning.\n"
		"  -w WORKERS   worker threads (default %d)\n"
		"  -c CLIENTS   client threads (default %d)\n"
		"  -n REQUESTS  requests for each way of waiting, all clients"
		" together\n"
		"               (default %d)\n"
		"  -q           print only the summary\n"
		"  -h           print this help\n",
		DEFAULT_WORKERS, DEFAULT_CLIENTS, DEFAULT_REQUESTS);
}

static unsigned long
parse_count(const char *arg, char opt, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v == 0 ||
	    v > max) {
		fprintf(stderr, "once-demo: -%c wants a number from 1 to %lu\n",
			opt, max);
		usage(stderr);
		exit(2);
	}
	return v;
}

static void
parse_args(struct demo *d, int argc, char **argv)
{
	int opt;

	d->workers = DEFAULT_WORKERS;
	d->clients = DEFAULT_CLIENTS;
	d->requests = DEFAULT_REQUESTS;
	d->quiet = false;
	while ((opt = getopt(argc, argv, "w:c:n:qh")) != -1) {
		switch (opt) {
		case 'w':
			d->workers = (unsigned int)parse_count(optarg, 'w',
							       MAX_THREADS);
			break;
		case 'c':
			d->clients = (unsigned int)parse_count(optarg, 'c',
							       MAX_THREADS);
			break;
		case 'n':
			d->requests = parse_count(optarg, 'n', MAX_REQUESTS);
			break;
		case 'q':
			d->quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
}

int
main(int argc, char **argv)
{
	struct demo d;
	pthread_t workers[MAX_THREADS];
	struct result res[MODES];
	enum mode m;
	unsigned long sent, received, returned, destroyed;
	long live;
	unsigned int i;

	memset(&d, 0, sizeof(d));
	parse_args(&d, argc, argv);
	if (!d.quiet)
		printf("once-demo: %u client threads send requests to %u"
		       " workers; replies come back in\none-shot events (on"
		       " the client's stack, once_channel(),"
		       " once_event_create()).\n", d.clients, d.workers);
	queue_init(&d.queue);
	atomic_init(&d.stats.skipped_ms, -1);
	atomic_init(&d.stats.epipe_ms, -1);
	for (i = 0; i < d.workers; i++)
		check("pthread_create",
		      pthread_create(&workers[i], NULL, worker_main, &d));

	for (m = 0; m < MODES; m++) {
		check("once_attr_init", once_attr_init(&d.attr[m]));
		check("once_attr_setdestructor",
		      once_attr_setdestructor(&d.attr[m], reply_destroy));
	}
	check("once_attr_setspin", once_attr_setspin(&d.attr[MODE_SLEEP], 0));
	run_load(&d, res);

	d.attr_now = &d.attr[MODE_SPIN];
	give_up(&d, 1, STORE_CHANNEL, JOB_SLOW_POLL);
	give_up(&d, 2, STORE_HEAP, JOB_SLOW_BLIND);
	discard(&d, 3, true);
	discard(&d, 4, false);

	queue_close(&d.queue);
	for (i = 0; i < d.workers; i++)
		check("pthread_join", pthread_join(workers[i], NULL));
	queue_destroy(&d.queue);
	for (m = 0; m < MODES; m++)
		check("once_attr_destroy", once_attr_destroy(&d.attr[m]));

	print_results(res);
	for (m = 0; m < MODES; m++)
		free(res[m].latency_ns);
	if (!d.quiet)
		print_give_ups(&d.stats);
	sent = atomic_load(&d.stats.sent);
	received = atomic_load(&d.stats.received);
	returned = atomic_load(&d.stats.returned);
	destroyed = atomic_load(&d.stats.destroyed);
	live = atomic_load(&d.stats.live);
	printf("sent %lu: received %lu, returned (EPIPE) %lu, destroyed %lu\n",
	       sent, received, returned, destroyed);
	if (sent != received + returned + destroyed || live != 0) {
		fprintf(stderr, "once-demo: replies unaccounted for"
			" (%ld still allocated)\n", live);
		return 1;
	}
	return 0;
}
