// Verify that once.h with ONCE_INLINE (once-inline.h's fast paths) also
// compiles as C++ (-std=c++11 -pedantic -Werror): the same round trip.
#define ONCE_INLINE
#include "cxx_header.cc"
