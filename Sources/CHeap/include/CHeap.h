#ifndef CHEAP_H
#define CHEAP_H

#include <stddef.h>
#include <stdint.h>

/// The process's allocator is jemalloc (linked in place of glibc's malloc: measured, it cut
/// `refledger import`'s CPU per fact by ~10%, most of it in freeing memory allocated on other
/// threads). These functions give one jemalloc arena its memory from a region reserved up
/// front and handed out from its low end up, so that ``HeapPrefaulter`` can map in, on another
/// core, the pages that arena hands out next.

/// Binds the calling thread to the pre-faultable arena, creating it on first use: what the
/// thread allocates from now on comes from that region (and, once the region is used up, from
/// the system like any other arena's). Returns 0 on success, else a jemalloc error number.
int refledger_heap_bind_thread_to_prefaulted_arena(void);

/// The lowest address of the region not yet handed out to the arena (0 before it exists):
/// the memory allocated next lies at and above it.
uintptr_t refledger_heap_prefaulted_arena_frontier(void);

/// The top of the span to pre-fault: `span` bytes above the frontier, but not past the region's
/// end; 0 while there is no region.
uintptr_t refledger_heap_prefault_top(size_t span);

/// Whether `pointer` lies in the pre-faultable arena's region.
int refledger_heap_prefaulted_arena_contains(const void *pointer);

/// Whether the process's `malloc` is jemalloc's (tests check that the link put it first).
int refledger_heap_malloc_is_jemalloc(void);

#endif
