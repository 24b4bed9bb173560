// CborWriter is header-only; this unit keeps the library's source list stable.
#include "active/cbor.h"
