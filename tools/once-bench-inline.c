/*
 * once-bench-inline.c - the libonce rows of once-bench compiled with
 * ONCE_INLINE, so that the tool shows both ways of calling the library:
 * through the exported functions (once-bench.c) and through the header's
 * fast paths (here). Same slot layout and same checks as the other rows.
 */
#define ONCE_INLINE
#include <once.h>

#include "once-bench.h"

struct li_slot {
	once_sender_t tx;
	once_receiver_t rx;
	once_event_t ev;
};

struct lli_slot {
	once_local_sender_t tx;
	once_local_receiver_t rx;
	once_local_event_t ev;
};

const size_t inline_event_size = sizeof(struct li_slot);
const size_t inline_local_size = sizeof(struct lli_slot);

static inline void
ck(int err, const char *what)
{
	if (__builtin_expect(err != 0, 0))
		bench_fail(what, err);
}

void
inline_event_create(void *slot)
{
	struct li_slot *s = slot;

	ck(once_event_init(&s->ev, NULL), "once_event_init");
	ck(once_event_bind(&s->ev, &s->tx, &s->rx), "once_event_bind");
}

void
inline_send(void *slot, void *value)
{
	ck(once_send(&((struct li_slot *)slot)->tx, value), "once_send");
}

void *
inline_recv(void *slot)
{
	void *value;

	ck(once_recv(&((struct li_slot *)slot)->rx, &value), "once_recv");
	return value;
}

void
inline_event_destroy(void *slot)
{
	ck(once_event_destroy(&((struct li_slot *)slot)->ev),
	   "once_event_destroy");
}

void
inline_local_create(void *slot)
{
	struct lli_slot *s = slot;

	ck(once_local_event_init(&s->ev, NULL), "once_local_event_init");
	ck(once_local_event_bind(&s->ev, &s->tx, &s->rx),
	   "once_local_event_bind");
}

void
inline_local_send(void *slot, void *value)
{
	ck(once_local_send(&((struct lli_slot *)slot)->tx, value),
	   "once_local_send");
}

void *
inline_local_recv(void *slot)
{
	void *value;

	ck(once_local_tryrecv(&((struct lli_slot *)slot)->rx, &value),
	   "once_local_tryrecv");
	return value;
}

void
inline_local_destroy(void *slot)
{
	ck(once_local_event_destroy(&((struct lli_slot *)slot)->ev),
	   "once_local_event_destroy");
}
