/*
 * futex.h - internal: the futex calls libonce makes.
 *
 * The word, not the return value, is the truth: a wait may return for a
 * wake that was meant for an earlier life of the same memory, or for none.
 * Callers loop on the word.
 */
#ifndef ONCE_FUTEX_H
#define ONCE_FUTEX_H

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * The futex operation on an event's word: private futexes key on the
 * address in this process; a process-shared event's word is found by
 * every process that maps it, wherever, only without FUTEX_PRIVATE_FLAG.
 */
static inline int
once__futex_op(int op, int shared)
{
	return shared ? op : op | FUTEX_PRIVATE_FLAG;
}

/*
 * Sleep while *word == expected, until abstime on clock (NULL: no limit).
 * Returns 0 (woken, spuriously perhaps), EAGAIN (the word had moved
 * before the sleep) or ETIMEDOUT. errno is left as the caller had it.
 */
static inline int
once__futex_wait(_Atomic uint32_t *word, uint32_t expected, int shared,
		 clockid_t clock, const struct timespec *abstime)
{
	int op = once__futex_op(FUTEX_WAIT_BITSET, shared);
	int saved = errno, err = 0, oldtype, rc;

	/* The kernel calls a negative tv_sec EINVAL; to us it is the past. */
	if (abstime && abstime->tv_sec < 0)
		return ETIMEDOUT;
	if (abstime && clock == CLOCK_REALTIME)
		op |= FUTEX_CLOCK_REALTIME;
	/*
	 * A cancellation point, as sem_wait() is: syscall() is not one, so
	 * cancellation is made asynchronous for the sleep alone, as glibc
	 * does around its own cancellable system calls. A cancelled waiter
	 * leaves the word WAITING, which every transition handles.
	 */
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &oldtype);
	rc = syscall(SYS_futex, word, op, expected, abstime, NULL,
		     FUTEX_BITSET_MATCH_ANY);
	if (rc != 0)
		err = errno;
	pthread_setcanceltype(oldtype, NULL);
	if (rc != 0) {
		/*
		 * EINTR: a signal handler ran; the deadline is absolute, so
		 * going round again does not stretch it. Anything but EAGAIN
		 * and ETIMEDOUT means the arguments we built are wrong, which
		 * a correct program cannot cause.
		 */
		if (err == EINTR)
			err = 0;
		else if (err != EAGAIN && err != ETIMEDOUT)
			abort();
	}
	errno = saved;
	return err;
}

/*
 * Sleep for at most ns nanoseconds while *word == expected: a pause in a
 * polling loop, for a word nobody will wake us on. Not a cancellation
 * point (syscall() is none), unlike nanosleep(2): the calls that poll
 * must not become ones.
 */
static inline void
once__futex_nap(_Atomic uint32_t *word, uint32_t expected, int shared,
		long ns)
{
	struct timespec rel = { 0, ns };
	int saved = errno;

	syscall(SYS_futex, word, once__futex_op(FUTEX_WAIT, shared), expected,
		&rel, NULL, 0);
	errno = saved;
}

/*
 * Wake one sleeper on word. The memory may already have been freed and
 * reused by the time this runs (the caller published the state that let
 * the other side free it): a wake there is harmless to futex users, which
 * all re-check their word, and EFAULT is ignored for the same reason.
 */
static inline void
once__futex_wake(_Atomic uint32_t *word, int shared)
{
	int saved = errno;

	syscall(SYS_futex, word, once__futex_op(FUTEX_WAKE, shared), 1, NULL,
		NULL, 0);
	errno = saved;
}

#endif /* ONCE_FUTEX_H */
