#ifndef CPREFETCH_H
#define CPREFETCH_H

/// Asks the CPU to bring the cache line holding `address` in, without waiting for it (a hint:
/// it never faults and changes nothing visible). Swift has no spelling of its own for this.
static inline void refledger_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
