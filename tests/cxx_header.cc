// Verify that once.h compiles and links as C++ (-std=c++11 -pedantic
// -Werror) and that the types have the sizes the C side promises.
#include <once.h>

#include <cstdio>

static_assert(sizeof(once_event_t) <= 32, "once_event_t is at most 32 bytes");

int
main()
{
	once_event_t ev = ONCE_EVENT_INITIALIZER;
	once_sender_t tx;
	once_receiver_t rx;
	void *v = nullptr;
	int x = 42;

	std::printf("1..1\n");
	if (once_event_bind(&ev, &tx, &rx) || once_send(&tx, &x) ||
	    once_tryrecv(&rx, &v) || v != &x || once_event_destroy(&ev)) {
		std::printf("not ok 1 - once.h round trip from C++\n");
		return 0;
	}
	std::printf("ok 1 - once.h round trip from C++\n");
	return 0;
}
