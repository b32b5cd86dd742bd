#ifndef CZSTD_SHIM_H
#define CZSTD_SHIM_H
#include <zstd.h>
#include <zstd_errors.h>
#include <zdict.h>

/// `ZSTD_CONTENTSIZE_UNKNOWN`, a macro expression that Swift does not import.
static inline unsigned long long czstd_contentsize_unknown(void) { return ZSTD_CONTENTSIZE_UNKNOWN; }

/// `ZSTD_CONTENTSIZE_ERROR`, a macro expression that Swift does not import.
static inline unsigned long long czstd_contentsize_error(void) { return ZSTD_CONTENTSIZE_ERROR; }

#endif
