/*
 * once-bench.h - what once-bench.c and once-bench-inline.c share.
 */
#ifndef ONCE_BENCH_H
#define ONCE_BENCH_H

#include <stddef.h>

/* A libonce call failed inside a timed loop: report and exit 1. */
void bench_fail(const char *what, int err) __attribute__((noreturn, cold));

/* once-bench-inline.c: the event rows built with ONCE_INLINE. */
extern const size_t inline_event_size, inline_local_size;
void inline_event_create(void *slot);
void inline_send(void *slot, void *value);
void *inline_recv(void *slot);
void inline_event_destroy(void *slot);
void inline_local_create(void *slot);
void inline_local_send(void *slot, void *value);
void *inline_local_recv(void *slot);
void inline_local_destroy(void *slot);

#endif /* ONCE_BENCH_H */
