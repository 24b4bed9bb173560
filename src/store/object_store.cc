#include "store/object_store.h"
