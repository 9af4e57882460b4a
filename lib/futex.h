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
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * AddressSanitizer poisons the redzones around a function's locals and
 * clears them when the function returns. A thread cancelled in one of
 * the sleeps below leaves its frames through the unwinder instead, and
 * the redzones stay: ASan's own code, run further on by the unwinding
 * (a cleanup handler's return), trips on them and reports a false
 * stack-buffer-overflow (seen with once_recv_any(), whose frames hold
 * arrays). Functions whose frames are on the stack during such a sleep
 * are therefore not instrumented in an ASan build: these sleeps, and
 * their callers that have locals in memory (once__wait(), any.c).
 */
#if defined(__SANITIZE_ADDRESS__)
#define ONCE__NO_ASAN __attribute__((no_sanitize_address))
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ONCE__NO_ASAN __attribute__((no_sanitize_address))
#endif
#endif
#ifndef ONCE__NO_ASAN
#define ONCE__NO_ASAN
#endif

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
ONCE__NO_ASAN static inline int
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

/*
 * futex_waitv(2), Linux 5.16: sleep until any of several words is woken.
 * The kernel's structures are spelt out here, so that libonce builds with
 * older headers; the layouts are the kernel's ABI (struct futex_waitv of
 * <linux/futex.h>, struct __kernel_timespec of <linux/time_types.h>).
 * Since Linux 5.1 a new system call has one number on every architecture
 * but alpha; 449 is this one's.
 */
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#define ONCE__FUTEX_32 0x02u	/* FUTEX_32: the word is 32 bits */
#define ONCE__WAITV_MAX 128	/* FUTEX_WAITV_MAX */

struct once__waitv {
	uint64_t val;
	uint64_t uaddr;
	uint32_t flags;
	uint32_t reserved;
};

struct once__kernel_timespec {
	int64_t tv_sec;
	int64_t tv_nsec;
};

#ifdef FUTEX_WAITV_MAX
_Static_assert(sizeof(struct once__waitv) == sizeof(struct futex_waitv) &&
	       offsetof(struct once__waitv, flags) ==
	       offsetof(struct futex_waitv, flags) &&
	       FUTEX_WAITV_MAX == ONCE__WAITV_MAX && FUTEX_32 == ONCE__FUTEX_32,
	       "struct once__waitv is the kernel's struct futex_waitv");
#endif

/*
 * Sleep until one of the n words of w is woken or no longer holds its
 * val, or until abstime on clock (NULL: no limit). Returns 0 (woken,
 * spuriously perhaps, a word had moved, or a signal handler ran),
 * ETIMEDOUT, ENOSYS when the kernel has no futex_waitv (before 5.16, or
 * a seccomp filter or valgrind that refuses the call: EPERM counts as
 * ENOSYS), or ENOMEM when the kernel could not allocate the vector.
 * A cancellation point, as once__futex_wait() is. errno is left as the
 * caller had it.
 */
ONCE__NO_ASAN static inline int
once__futex_waitv(struct once__waitv *w, unsigned int n, clockid_t clock,
		  const struct timespec *abstime)
{
	struct once__kernel_timespec kts, *k = NULL;
	int saved = errno, err = 0, oldtype;
	long rc;

	/* The kernel calls a negative tv_sec EINVAL; to us it is the past. */
	if (abstime && abstime->tv_sec < 0)
		return ETIMEDOUT;
	if (abstime) {
		kts.tv_sec = abstime->tv_sec;
		kts.tv_nsec = abstime->tv_nsec;
		k = &kts;
	}
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &oldtype);
	rc = syscall(SYS_futex_waitv, w, n, 0, k, clock);
	if (rc < 0)
		err = errno;
	pthread_setcanceltype(oldtype, NULL);
	if (rc < 0) {
		/*
		 * rc >= 0 is the index of a woken word, which the caller does
		 * not need: it looks at every word. EAGAIN and EINTR are as
		 * for once__futex_wait(). Anything else is an argument we
		 * built wrong.
		 */
		if (err == EAGAIN || err == EINTR)
			err = 0;
		else if (err == EPERM)
			err = ENOSYS;
		else if (err != ETIMEDOUT && err != ENOSYS && err != ENOMEM)
			abort();
	}
	errno = saved;
	return err;
}

#endif /* ONCE_FUTEX_H */
