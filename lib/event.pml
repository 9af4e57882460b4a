/*
 * event.pml - a Promela model of the thread-safe event (lib/event.c), as
 * implemented, for spin. tests/model.sh runs it under make check.
 *
 * The state table at the top of lib/event.c is the single source of truth.
 * This model encodes the code that implements it, every statement that
 * touches the event: the table, the code and the model change together.
 * The parts, by the function they model (grep '^name(' in lib/event.c;
 * the line numbers are those of the commit that added this file):
 *
 *  load, cas, publish, unlocked  the atomics on the state word, and
 *                                once__unlocked() (event.c 236-250).
 *  rx_unlocked                   the same as the receiver calls it, and
 *                                once__unlocked_shared() for -DPSHARED.
 *  release                       once__release() (175-188): the side that
 *                                moves the event to DONE frees it.
 *  futex_wait, futex_wake        once__futex_wait(), once__futex_wake()
 *                                in lib/futex.h.
 *  Sender                        once__tx_finish() (258-311), behind
 *                                once_send() and once_sender_close(). The
 *                                fast path once__send_fast() (once-inline.h)
 *                                is its BOUND -> LOCKED -> SENT row, the
 *                                same transitions.
 *  take                          once__take() (339-349) and once__deliver()
 *                                (internal.h); once__take_fast() is the
 *                                same.
 *  rx_tryrecv                    once_tryrecv() (351-369).
 *  rx_close                      once_receiver_close() (377-432).
 *  rx_notify                     once_receiver_notify() (439-478).
 *  rx_wait                       once__spin() (493-524) and once__wait()
 *                                (530-588), behind once_recv() (590-606:
 *                                its first load is once__wait's), and
 *                                once_clockrecv() and once_timedrecv().
 *  rx_any, any_retract           once_recv_any() (lib/any.c), seen from
 *                                one of its events, and its take-back
 *                                (once__any_retract()).
 *  Receiver                      the receiver's owner: any sequence of
 *                                these calls that ends with the endpoint
 *                                consumed.
 *
 * What is checked. Safety (assertions, valid end states): the value is
 * received, returned to the sender with EPIPE, or passed to the
 * destructor, exactly once when one was sent, and never otherwise; the
 * event is released exactly once, and nobody touches it afterwards but a
 * FUTEX_WAKE (recorded in late_wake: lib/futex.h lets it land on reused
 * memory); value_ and notify_ are written only under LOCKED, and read only
 * under LOCKED or after the state that published them; the callback runs
 * exactly once per successful notify, with its own argument; no run ends
 * with a process blocked. Liveness (LTL, under weak fairness): a receiver
 * in once_recv() returns, and every run releases the event. Coverage
 * (-DCOVER): the runs reach each interleaving marked with saw().
 *
 * What is abstracted away. One event, one sender, one receiver, bound
 * before either runs. The word is sequentially consistent: every access
 * is one atomic step of one interleaving. That is what C11 promises for a
 * single location (one modification order, read-modify-writes read its
 * latest value), and every decision in event.c is taken on this one word,
 * by a CAS or on a state only the loading side can leave; a load that
 * reads an older value is the same run with the load earlier. The model
 * does not check the orderings that carry value_ and notify_ with the
 * word (release stores, acquire loads and CASes): "mine" and "readable"
 * assert where the code relies on them, and the memory orders in event.c
 * must provide them; TSan checks those. A weak CAS never fails spuriously
 * here (that failure reloads the word and goes round, a state reached
 * anyway). Time is nondeterminism: a spin stops after any number of loads,
 * and a timed wait times out at any point. Spurious wake-ups (NSPURIOUS
 * per run) and the cancellation of a waiter (once per run) are bounded:
 * unbounded, weak fairness would let them rescue a receiver whose wake-up
 * was lost. The owner makes at most MAXTRIES calls that leave the
 * receiver live before one that consumes it. Heap reference counts, pool
 * generations and storage kinds are not modelled: the event counts as
 * freed the moment DONE is stored, the earliest any kind may free it.
 *
 * Deliberately broken variants, which tests/model.sh expects spin to
 * reject: -DBROKEN_SKIP_WAKE (the sender leaves WAITING without a
 * FUTEX_WAKE), -DBROKEN_RX_CLOSE_STORE (receiver_close stores RX_CLOSED
 * instead of a CAS), -DBROKEN_TIMEOUT_STORE (a timed-out wait stores BOUND
 * instead of a CAS), -DBROKEN_LATE_CB_READ (the sender reads the callback
 * after publishing the state, when the receiver may have freed the event),
 * -DBROKEN_ANY_RETRACT_STORE (once_recv_any() takes its announcement back
 * with a store of BOUND instead of a CAS).
 *
 * Process-shared events (-DPSHARED): the same code on the same word, with
 * what differs for them. The sender's process may die between any two of
 * its steps, LOCKED held included (a Killer process, and an unless
 * around the sender). The receiver registers no callback (notify is
 * ENOTSUP) and waits only with a deadline: without one it would wait for
 * ever on a dead sender, as documented. Its waits for LOCKED to end are
 * bounded (once__unlocked_shared()): it gives up with ENOTRECOVERABLE,
 * which consumes rx, or a timed receive times out there, rx live. The
 * bound is modelled as long enough for a live holder: the receiver gives
 * up only on a dead one, the assumption behind ONCE__PSHARED_LOCKED_
 * LIMIT_NS. Checked: no run ends with the receiver blocked, and with a
 * dead sender the value still arrives at most once and the event is
 * released at most once (maybe never: a dead endpoint is never consumed).
 * What the limits on garbage add (the moves cap, the checks of the word's
 * values) is not modelled: no other process writes the word here.
 * -DCOVER_PSHARED asserts that the receiver never gave up on a dead
 * sender's LOCKED, which some run must violate; -DBROKEN_UNBOUNDED_LOCKED
 * (the private, unbounded wait) must leave a receiver blocked.
 *
 * By hand: spin -a event.pml; cc -DSAFETY -o pan pan.c; ./pan. Liveness:
 * spin -DLIVENESS -a event.pml; cc -o pan pan.c; ./pan -a -f -N NAME.
 */

/* The states: the values of include/once-inline.h. */
#define UNBOUND		0
#define BOUND		1
#define WAITING		2
#define SENT		3
#define TX_CLOSED	4
#define RX_CLOSED	5
#define DONE		6
#define NOTIFY		7
#define LOCKED		8

/* What value_ holds: it is shared by the value and the callback's arg. */
#define NONE		0
#define VAL		1
#define ARG		2

/* Results. */
#define OK		0
#define EPIPE		1
#define EAGAIN		2
#define ETIMEDOUT	3
#define EBUSY		4
#define ECANCELED	5
#define ENOTRECOVERABLE	6
#define OTHER		7	/* once_recv_any() took another entry */

#ifndef MAXTRIES
#define MAXTRIES	2
#endif
#ifndef NSPURIOUS
#define NSPURIOUS	1
#endif

/* The event: the futex word and the fields the state machine moves. */
byte st = BOUND;
byte value_ = NONE;
bit notify_;

/* Ghost state: what happened, for the assertions. */
bit freed;		/* the event was released: no access from now on */
byte releases;		/* moves to DONE */
bit late_wake;		/* a FUTEX_WAKE landed after the free (allowed) */
byte locker;		/* the _pid that holds LOCKED */
bit sent;		/* the sender chose once_send(): a value exists */
byte received;		/* the value's fates: received by rx, */
byte returned;		/* returned to the sender with EPIPE, */
byte destroyed;		/* or passed to the destructor */
byte registered;	/* once_receiver_notify() calls that returned 0 */
byte cb_runs;		/* callbacks run */
bit sleeping;		/* the receiver sleeps in FUTEX_WAIT */
byte spurious;		/* spurious wake-ups so far */
bit cancelled;		/* the one cancellation has happened */
bit tx_live = 1;	/* the endpoints */
bit rx_live = 1;
bit rx_blocked;		/* the receiver is inside once_recv() */
#ifdef PSHARED
bit tx_die;		/* the sender's process is to die */
bit tx_dead;		/* ... and died, at any step */
bit gave_up;		/* a receiver gave up on a dead sender's LOCKED */
#endif

/*
 * Coverage: with -DCOVER, init asserts that each of these never happened,
 * and tests/model.sh expects every one of those assertions to fail in
 * some run: the interleavings the table is about are reached, so the
 * checks above are not vacuous.
 */
#define LATE_WAKE	0	/* a FUTEX_WAKE after the free */
#define RETURNED	1	/* send: EPIPE, the value back to the sender */
#define DESTROYED	2	/* receiver_close: dtor(value) */
#define CB_TX		3	/* the sender ran the callback */
#define CB_CLOSE	4	/* receiver_close ran the callback */
#define CB_NOW		5	/* notify found the event complete */
#define TIMED_OUT	6	/* a timed wait returned ETIMEDOUT */
#define TIMEOUT_LOST	7	/* ... or its CAS failed and it took the value */
#define SPURIOUS_WAKE	8	/* a spurious wake-up */
#define WOKEN		9	/* a FUTEX_WAKE woke the sleeper */
#define MOVED		10	/* FUTEX_WAIT found the word moved (EAGAIN) */
#define LEFT_WAITING	11	/* notify or close found WAITING, no sleeper */
#define TX_WAITED	12	/* the sender waited out LOCKED */
#define RX_WAITED	13	/* the receiver waited out LOCKED */
#define SPIN_HIT	14	/* the spin saw the event complete */
#define ANY_OTHER	15	/* once_recv_any() ended by another entry */
#define ANY_LATE	16	/* its take-back CAS lost to the sender */
#define ANY_LEFT	17	/* it left this event complete, rx live */
#define POLLED		18	/* a timed wait's deadline passed before it announced */
#define NCOVER		19
#ifdef COVER
unsigned seen : NCOVER;
#define saw(b)		seen = seen | (1 << (b))
#else
#define saw(b)		/* nothing: no extra steps to search */
#endif

/* Any access to the event's memory. */
#define touch		assert(!freed)

inline load(s)
{
	atomic { touch; s = st }
}

/* Strong CAS; on failure exp takes the word's value, as in C11. */
inline cas(exp, new, ok)
{
	atomic {
		touch;
		if
		:: st == exp ->
			st = new;
			ok = 1;
			if
			:: new == LOCKED -> locker = _pid
			:: else
			fi
		:: else ->
			exp = st;
			ok = 0
		fi
	}
}

/* The release store that ends LOCKED. */
inline publish(new)
{
	atomic {
		touch;
		assert(st == LOCKED && locker == _pid);
		st = new
	}
}

/* once__unlocked(): wait until the other side leaves LOCKED. */
inline unlocked(s)
{
	atomic { st != LOCKED -> touch; s = st }
}

/*
 * The receiver's wait for LOCKED to end. On a shared event it is bounded:
 * it gives up on a holder that died (ENOTRECOVERABLE), and a timed
 * receive may reach its deadline there (ETIMEDOUT). r is OK otherwise.
 */
inline rx_unlocked(s, timed, r)
{
	r = OK;
#if defined(PSHARED) && !defined(BROKEN_UNBOUNDED_LOCKED)
	if
	:: atomic { st != LOCKED -> touch; s = st }
	:: atomic { tx_dead && st == LOCKED ->
		r = ENOTRECOVERABLE; gave_up = 1 }
	:: atomic { timed && st == LOCKED -> r = ETIMEDOUT }
	fi
#else
	unlocked(s)
#endif
}

/* value_ and notify_ belong to the side that holds LOCKED ... */
#define mine		(st == LOCKED && locker == _pid)
/* ... and are read by the other side after an acquire of SENT/TX_CLOSED. */
#define readable	(mine || st == SENT || st == TX_CLOSED)

/* once__release(): heap, pool and caller storage may all free at DONE. */
inline release()
{
	atomic {
		touch;
		st = DONE;
		freed = 1;
		releases++
	}
}

/* The callback: the user's code, which does not touch the event itself. */
inline run_cb(arg)
{
	atomic {
		assert(arg == ARG);
		cb_runs++;
		assert(cb_runs == 1)
	}
}

/*
 * FUTEX_WAKE: wakes the sleeper. Allowed on freed memory, where it would
 * wake whoever sleeps on the reused word: a spurious wake-up to them.
 */
inline futex_wake()
{
	atomic {
		if
		:: freed -> late_wake = 1; saw(LATE_WAKE)
		:: !freed && sleeping -> sleeping = 0; saw(WOKEN)
		:: !freed && !sleeping
		fi
	}
}

/*
 * FUTEX_WAIT(st, WAITING): the kernel compares the word and goes to sleep
 * atomically; a wake, a bounded number of spurious wake-ups or a timeout
 * (timed only, at any point) ends the sleep. The one cancellation may
 * come anywhere in the call (cancellation is asynchronous there): the
 * thread leaves, and the word stays as it is, WAITING perhaps.
 */
inline futex_wait(timed, r)
{
	r = OK;
	if
	:: timed -> r = ETIMEDOUT	/* the deadline passed before the call */
	:: true ->
		atomic {
			touch;
			if
			:: st == WAITING -> sleeping = 1
			:: else -> saw(MOVED)	/* EAGAIN */
			fi
		}
		if
		:: !sleeping		/* woken, or never slept */
		:: atomic { sleeping && spurious < NSPURIOUS ->
			spurious++; sleeping = 0; saw(SPURIOUS_WAKE) }
		:: atomic { sleeping && timed -> sleeping = 0; r = ETIMEDOUT }
		:: atomic { !cancelled ->
			cancelled = 1; sleeping = 0; r = ECANCELED }
		fi;
		if
		:: timed && r == OK -> r = ETIMEDOUT	/* woken as time ran out */
		:: true
		fi
	fi
}

/*
 * once__take(): s is SENT or TX_CLOSED; rx is the last endpoint. Reads
 * what it needs, clears rx, releases, then delivers (once__deliver()).
 */
inline take(s, want, r)
{
	atomic { touch; assert(readable); v = value_ }	/* and dtor_ */
	rx_live = 0;
	release();
	if
	:: s == TX_CLOSED ->
		assert(!sent && v == NONE);
		r = EPIPE
	:: s == SENT && want ->
		assert(sent && v == VAL);
		received++;
		r = OK
	:: s == SENT && !want ->	/* receiver_close: dtor(value) */
		assert(sent && v == VAL);
		destroyed++;
		saw(DESTROYED);
		r = OK
	fi
}

/* The sender: once_send() or once_sender_close() through once__tx_finish(). */
proctype Sender()
{
	byte s, target, val, arg;
	bit ok, fn;

#ifdef PSHARED
	{
#endif
	if
	:: target = SENT; val = VAL; sent = 1
	:: target = TX_CLOSED; val = NONE
	fi;
	tx_live = 0;	/* consumed before the event moves on */
	load(s);
	do
	:: s == LOCKED -> unlocked(s); saw(TX_WAITED)
	:: s == RX_CLOSED ->
		release();
		if
		:: sent -> returned++; saw(RETURNED)	/* EPIPE */
		:: else
		fi;
		goto out
	:: s == BOUND || s == WAITING || s == NOTIFY ->
		cas(s, LOCKED, ok);
		if
		:: ok -> break
		:: else
		fi
	:: else -> assert(0)	/* EINVAL: not for a live tx */
	od;
#ifndef BROKEN_LATE_CB_READ
	if
	:: s == NOTIFY ->
		atomic { touch; assert(readable); fn = notify_; arg = value_ };
		assert(fn)
	:: else
	fi;
#endif
	atomic { touch; assert(mine); value_ = val };
	publish(target);
#ifdef BROKEN_LATE_CB_READ
	if
	:: s == NOTIFY ->
		atomic { touch; fn = notify_; arg = value_ }
	:: else
	fi;
#endif
	if
	:: s == WAITING ->
#ifndef BROKEN_SKIP_WAKE
		futex_wake()
#else
		skip
#endif
	:: s != WAITING && fn -> run_cb(arg); saw(CB_TX)
	:: else
	fi;
out:
	skip
#ifdef PSHARED
	} unless { tx_die -> tx_dead = 1; tx_live = 0 }
#endif
}

#ifdef PSHARED
/* The sender's process dies now, or after the sender has returned. */
proctype Killer()
{
	tx_die = 1
}
#endif

/* once_tryrecv() */
inline rx_tryrecv(r)
{
	load(s);
	if
	:: s == SENT || s == TX_CLOSED -> take(s, 1, r)
	:: s == BOUND || s == WAITING || s == NOTIFY || s == LOCKED -> r = EAGAIN
	:: else -> assert(0)	/* EINVAL: not for a live rx */
	fi
}

/* once_receiver_close() */
inline rx_close()
{
	rx_live = 0;	/* *rx may be freed by the sender once it sees RX_CLOSED */
	load(s);
	do
	:: s == BOUND || s == WAITING ->
#ifndef BROKEN_RX_CLOSE_STORE
		cas(s, RX_CLOSED, ok);
		if
		:: ok ->
			if
			:: s == WAITING -> saw(LEFT_WAITING)
			:: else
			fi;
			break
		:: else
		fi
#else
		atomic { touch; st = RX_CLOSED };
		break
#endif
	:: s == NOTIFY ->	/* the callback is ours to run */
		cas(s, LOCKED, ok);
		if
		:: ok ->
			atomic { touch; assert(mine); fn = notify_; arg = value_ };
			publish(RX_CLOSED);
			run_cb(arg); saw(CB_CLOSE);
			break
		:: else
		fi
	:: s == LOCKED ->
		rx_unlocked(s, 0, r); saw(RX_WAITED);
		if
		:: r == ENOTRECOVERABLE -> break	/* rx is consumed */
		:: else
		fi
	:: s == SENT || s == TX_CLOSED -> take(s, 0, r); break
	:: else -> assert(0)
	od
}

/* once_receiver_notify(): only called while not registered (else EBUSY). */
inline rx_notify()
{
	load(s);
	do
	:: s == BOUND || s == WAITING ->
		cas(s, LOCKED, ok);
		if
		:: ok ->
			atomic { touch; assert(mine); notify_ = 1 };
			atomic { touch; assert(mine); value_ = ARG };
			publish(NOTIFY);
			registered++;
			if
			:: s == WAITING -> saw(LEFT_WAITING)
			:: else
			fi;
			break
		:: else
		fi
	:: s == LOCKED -> unlocked(s); saw(RX_WAITED)
	:: s == SENT || s == TX_CLOSED ->	/* complete: the callback runs now */
		registered++;
		arg = ARG;
		run_cb(arg); saw(CB_NOW);
		break
	:: else -> assert(0)	/* NOTIFY (EBUSY) is excluded by the caller */
	od
}

/* once__spin() then once__wait(); timed: once_clockrecv(). */
inline rx_wait(timed, r)
{
	load(s);
	if
	:: s == BOUND ->
		do
		:: load(s);
			if
			:: s != BOUND && s != LOCKED -> saw(SPIN_HIT); break
			:: else
			fi
		:: break	/* the spin budget or the deadline ran out */
		od
	:: else
	fi;
	/*
	 * once__wait(): a timed wait that finds BOUND with its deadline
	 * passed, before its spin (which may end at once) or after,
	 * returns without announcing.
	 */
	if
	:: timed && s == BOUND -> r = ETIMEDOUT; saw(POLLED)
	:: true ->
		do
		:: s == NOTIFY -> r = EBUSY; break
		:: s == LOCKED ->
			rx_unlocked(s, timed, r); saw(RX_WAITED);
			if
			:: r == ENOTRECOVERABLE -> rx_live = 0; break
			:: r == ETIMEDOUT -> break	/* rx stays usable */
			:: else
			fi
		:: s == SENT || s == TX_CLOSED -> take(s, 1, r); break
		:: s == BOUND ->	/* announce the sleep: the sender then owes a wake */
			cas(s, WAITING, ok);
			if
			:: ok -> s = WAITING
			:: else
			fi
		:: s == WAITING ->
			futex_wait(timed, r);
			if
			:: r == ETIMEDOUT ->	/* take the announcement back */
				s = WAITING;
#ifndef BROKEN_TIMEOUT_STORE
				cas(s, BOUND, ok);
				if
				:: ok -> saw(TIMED_OUT); break
				:: else -> r = OK; saw(TIMEOUT_LOST)	/* it arrived: take it */
				fi
#else
				atomic { touch; st = BOUND };
				break
#endif
			:: r == ECANCELED -> break	/* WAITING stays behind */
			:: else -> load(s)
			fi
		:: else -> assert(0)
		od
	fi
}

/*
 * once__any_retract(), on this event: take the announcement back. If the
 * CAS fails, the value or the close arrived: the call takes it (this is
 * the lowest complete entry, or the deadline passed) or, with others,
 * may leave it complete for a later call (a lower entry is taken).
 */
inline any_retract(others, r)
{
	load(s);
	ok = 0;
	if
	:: s == WAITING ->
#ifndef BROKEN_ANY_RETRACT_STORE
		cas(s, BOUND, ok)
#else
		atomic { touch; st = BOUND };
		ok = 1
#endif
	:: else
	fi;
	if
	:: !ok && s == LOCKED -> unlocked(s)
	:: else
	fi;
	if
	:: !ok && (s == SENT || s == TX_CLOSED) ->
		saw(ANY_LATE);
		if
		:: take(s, 1, r)
		:: others -> r = OTHER; saw(ANY_LEFT)
		fi
	:: else
	fi
}

/*
 * once_recv_any() (lib/any.c), seen from one of its events. The events
 * of the array share nothing but the calling thread: each has its own
 * word and sender, and the call couples them only in choosing which
 * entry to take and when to stop. So the other entries are
 * nondeterminism here (others): the call may find one complete whenever
 * it looks at the words, and end with it; a wake-up meant for another
 * entry is, to this event, a spurious one. Each look at this word is a
 * load, its spin any number of them, its announcement the CAS of
 * once__wait(), and its sleep the same futex wait (futex_waitv compares
 * each word under the kernel's lock, as FUTEX_WAIT does). Timed: a
 * deadline already past is found before the sleep, as futex_wait()
 * allows. Untimed and alone (others 0), it is a blocking receive that
 * must return.
 */
inline rx_any(timed, others, r)
{
	r = OK;
	load(s);
	do
	:: s == LOCKED -> unlocked(s); saw(RX_WAITED)
	:: s == NOTIFY -> r = EBUSY; break
	:: s == SENT || s == TX_CLOSED ->
		if
		:: take(s, 1, r)
		:: others -> r = OTHER; saw(ANY_LEFT)
		fi;
		break
	:: s == BOUND -> load(s)	/* the spin */
	:: s == BOUND ->		/* announce */
		cas(s, WAITING, ok);
		if
		:: ok -> s = WAITING
		:: else
		fi
	:: s == WAITING ->
		futex_wait(timed, r);
		if
		:: r == ECANCELED -> break	/* WAITING stays behind */
		:: r == ETIMEDOUT -> any_retract(others, r); break
		:: else -> load(s)
		fi
	:: others && (s == BOUND || s == WAITING) ->
		r = OTHER;
		saw(ANY_OTHER);
		any_retract(others, r);
		break
	:: else -> assert(0)
	od
}

/*
 * The receiver's owner: up to MAXTRIES calls that may leave rx live, then
 * calls that consume it. After a notify, the callback's continuation calls
 * once_tryrecv(), which must find the event complete.
 */
proctype Receiver()
{
	byte s, r, v, arg, tries;
	bit ok, fn, notified;

	do
	:: !rx_live -> break
	:: rx_live && tries < MAXTRIES ->
		tries++;
		if
		:: rx_tryrecv(r)
		:: rx_wait(1, r)
#ifndef PSHARED
		:: rx_any(1, 1, r)		/* timed, among others */
		:: !notified -> rx_notify(); notified = 1
		:: notified -> rx_wait(0, r)	/* EBUSY while registered */
#endif
		fi
#ifndef PSHARED
	:: rx_live && !notified ->
		rx_blocked = 1;
		rx_wait(0, r);
		rx_blocked = 0
	:: rx_live && !notified ->	/* once_recv_any(), alone */
		rx_blocked = 1;
		rx_any(0, 0, r);
		rx_blocked = 0
#endif
	:: rx_live -> rx_close()
	:: rx_live && notified && cb_runs > 0 ->
		rx_tryrecv(r);
		assert(r != EAGAIN && !rx_live)
	od
}

init {
	atomic {
		run Sender();
		run Receiver();
#ifdef PSHARED
		run Killer()
#endif
	}
	_nr_pr == 1;
	assert(!tx_live && !rx_live);
#ifdef PSHARED
	if
	:: !tx_dead ->
#endif
	assert(freed && releases == 1 && st == DONE);
	assert(sent && received + returned + destroyed == 1 ||
	       !sent && received + returned + destroyed == 0);
#ifdef PSHARED
	:: tx_dead ->	/* delivered at most once, released at most once */
		assert(releases <= 1 && (!freed || st == DONE));
		assert(received + returned + destroyed <= 1);
		assert(sent || received + returned + destroyed == 0)
	fi;
#endif
	assert(cb_runs == registered && registered <= 1);
	assert(!sleeping);
#ifdef COVER_PSHARED
	assert(!gave_up);
#endif
#ifdef COVER
	assert(!(seen & (1 << LATE_WAKE)));
	assert(!(seen & (1 << RETURNED)));
	assert(!(seen & (1 << DESTROYED)));
	assert(!(seen & (1 << CB_TX)));
	assert(!(seen & (1 << CB_CLOSE)));
	assert(!(seen & (1 << CB_NOW)));
	assert(!(seen & (1 << TIMED_OUT)));
	assert(!(seen & (1 << TIMEOUT_LOST)));
	assert(!(seen & (1 << SPURIOUS_WAKE)));
	assert(!(seen & (1 << WOKEN)));
	assert(!(seen & (1 << MOVED)));
	assert(!(seen & (1 << LEFT_WAITING)));
	assert(!(seen & (1 << TX_WAITED)));
	assert(!(seen & (1 << RX_WAITED)));
	assert(!(seen & (1 << SPIN_HIT)));
	assert(!(seen & (1 << ANY_OTHER)));
	assert(!(seen & (1 << ANY_LATE)));
	assert(!(seen & (1 << ANY_LEFT)));
	assert(!(seen & (1 << POLLED)))
#endif
}

#ifdef LIVENESS
/* Under weak fairness (pan -a -f): a receiver in once_recv() returns ... */
ltl recv_returns { [] (rx_blocked -> <> !rx_blocked) }
/* ... and every run releases the event. */
ltl released { <> freed }
#endif
