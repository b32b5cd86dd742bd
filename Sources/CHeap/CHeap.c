// CHeap is header-only (a static inline function); SwiftPM wants a source file in a C target.
#include "CHeap.h"
