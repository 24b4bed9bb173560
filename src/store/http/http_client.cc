#include "store/http/http_client.h"
