#ifndef CHEAP_H
#define CHEAP_H

#include <malloc.h>

/// Asks glibc's allocator to keep `bytes` beyond what it needs at the top of the main heap
/// when it grows it (`M_TOP_PAD`), for ``HeapPrefaulter``. Swift's Glibc module does not
/// export `mallopt`. Returns 1 on success.
static inline int refledger_keep_heap_top_pad(int bytes) { return mallopt(M_TOP_PAD, bytes); }

#endif
