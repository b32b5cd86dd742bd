#define _GNU_SOURCE  // MAP_ANONYMOUS, MAP_NORESERVE
#include "CHeap.h"

#include <jemalloc/jemalloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/mman.h>

// The region's size: address space only (MAP_NORESERVE), mapped as it is touched. An import
// of a million facts grows its ledger by ~160 MB; past the region, extents come from the
// system as for any arena.
static const size_t region_bytes = (size_t)64 << 30;

static uintptr_t region_start;
static uintptr_t region_end;
static _Atomic uintptr_t frontier;
static unsigned arena_index;
static int create_error;
static pthread_once_t create_once = PTHREAD_ONCE_INIT;
// jemalloc's own hooks, for extents the region cannot give.
static extent_hooks_t *system_hooks;

static void *region_alloc(extent_hooks_t *hooks, void *new_addr, size_t size, size_t alignment, bool *zero,
                          bool *commit, unsigned index) {
    (void)hooks;
    if (alignment == 0) alignment = 1;
    uintptr_t current = atomic_load(&frontier);
    for (;;) {
        uintptr_t start = (current + alignment - 1) & ~(uintptr_t)(alignment - 1);
        if (new_addr != NULL && (uintptr_t)new_addr != start) break;
        if (start < current || start > region_end || size > region_end - start) break;
        if (atomic_compare_exchange_weak(&frontier, &current, start + size)) {
            // Handed out once and never purged: still as mmap left it, zero.
            *zero = true;
            *commit = true;
            return (void *)start;
        }
    }
    if (new_addr != NULL && (uintptr_t)new_addr >= region_start && (uintptr_t)new_addr < region_end) return NULL;
    // Committed (read-write) from the start: this arena's commit hook does nothing, so memory
    // the system hooks left uncommitted (where the OS does not overcommit, they map it
    // PROT_NONE) would stay unusable.
    *commit = true;
    return system_hooks->alloc(system_hooks, new_addr, size, alignment, zero, commit, index);
}

// Extents are kept, never given back (jemalloc reuses them): `true` opts out.
static bool region_dalloc(extent_hooks_t *hooks, void *addr, size_t size, bool committed, unsigned index) {
    (void)hooks, (void)addr, (void)size, (void)committed, (void)index;
    return true;
}

static void region_destroy(extent_hooks_t *hooks, void *addr, size_t size, bool committed, unsigned index) {
    (void)hooks, (void)addr, (void)size, (void)committed, (void)index;
}

// Memory is always committed (mapped read-write): committing succeeds, decommitting opts out.
static bool region_commit(extent_hooks_t *hooks, void *addr, size_t size, size_t offset, size_t length,
                          unsigned index) {
    (void)hooks, (void)addr, (void)size, (void)offset, (void)length, (void)index;
    return false;
}

static bool region_decommit(extent_hooks_t *hooks, void *addr, size_t size, size_t offset, size_t length,
                            unsigned index) {
    (void)hooks, (void)addr, (void)size, (void)offset, (void)length, (void)index;
    return true;
}

// Splitting and merging mapped memory needs nothing done.
static bool region_split(extent_hooks_t *hooks, void *addr, size_t size, size_t size_a, size_t size_b,
                         bool committed, unsigned index) {
    (void)hooks, (void)addr, (void)size, (void)size_a, (void)size_b, (void)committed, (void)index;
    return false;
}

static bool region_merge(extent_hooks_t *hooks, void *addr_a, size_t size_a, void *addr_b, size_t size_b,
                         bool committed, unsigned index) {
    (void)hooks, (void)addr_a, (void)size_a, (void)addr_b, (void)size_b, (void)committed, (void)index;
    return false;
}

static extent_hooks_t region_hooks = {
    .alloc = region_alloc,
    .dalloc = region_dalloc,
    .destroy = region_destroy,
    .commit = region_commit,
    .decommit = region_decommit,
    .purge_lazy = NULL,  // not purged: the pages stay as they are
    .purge_forced = NULL,
    .split = region_split,
    .merge = region_merge,
};

static void create_arena(void) {
    size_t length = sizeof(system_hooks);
    create_error = mallctl("arena.0.extent_hooks", &system_hooks, &length, NULL, 0);
    if (create_error != 0) return;
    void *mapped = mmap(NULL, region_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mapped != MAP_FAILED) {
        region_start = (uintptr_t)mapped;
        region_end = region_start + region_bytes;
        atomic_store(&frontier, region_start);
    }
    extent_hooks_t *hooks = &region_hooks;
    length = sizeof(arena_index);
    create_error = mallctl("arenas.create", &arena_index, &length, &hooks, sizeof(hooks));
    if (create_error != 0) return;
    // The arena takes memory from the region in steps of grow_limit, or of what one request
    // needs when that is more (by default its steps grow ever larger, up to gigabytes), so that
    // the frontier stays just above the memory in use and the pre-faulter's span above it is
    // what is used next.
    size_t grow_limit = (size_t)2 << 20;
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.retain_grow_limit", arena_index);
    create_error = mallctl(name, NULL, NULL, &grow_limit, sizeof(grow_limit));
    // Nothing to decay: its pages are never purged.
    ssize_t never = -1;
    snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", arena_index);
    if (create_error == 0) create_error = mallctl(name, NULL, NULL, &never, sizeof(never));
    snprintf(name, sizeof(name), "arena.%u.muzzy_decay_ms", arena_index);
    if (create_error == 0) create_error = mallctl(name, NULL, NULL, &never, sizeof(never));
}

int refledger_heap_bind_thread_to_prefaulted_arena(void) {
    pthread_once(&create_once, create_arena);
    if (create_error != 0) return create_error;
    unsigned index = arena_index;
    return mallctl("thread.arena", NULL, NULL, &index, sizeof(index));
}

uintptr_t refledger_heap_prefaulted_arena_frontier(void) { return atomic_load(&frontier); }

uintptr_t refledger_heap_prefault_top(size_t span) {
    uintptr_t current = atomic_load(&frontier);
    if (current == 0) return 0;
    return span > region_end - current ? region_end : current + span;
}

int refledger_heap_prefaulted_arena_contains(const void *pointer) {
    uintptr_t address = (uintptr_t)pointer;
    return region_start != 0 && address >= region_start && address < region_end;
}

int refledger_heap_malloc_is_jemalloc(void) {
    // jemalloc counts what the thread allocates through it; glibc's malloc would leave the
    // count as it was.
    uint64_t before = 0, after = 0;
    size_t length = sizeof(before);
    if (mallctl("thread.allocated", &before, &length, NULL, 0) != 0) return 0;
    void *volatile probe = malloc(4096);
    length = sizeof(after);
    int counted = mallctl("thread.allocated", &after, &length, NULL, 0) == 0 && after - before >= 4096;
    free(probe);
    return counted;
}
