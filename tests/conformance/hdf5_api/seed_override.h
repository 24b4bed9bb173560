/* Force-included into H5_api_test.c only (see CMakeLists.txt). The suite seeds its random shapes and
 * datatypes with time(NULL) and has no override in 1.14.5; NIMBUS_API_TEST_SEED=<unsigned> pins the
 * seed so that a run is reproducible. Unset or empty: upstream behaviour (the current time). */
#ifndef NIMBUS_API_TEST_SEED_OVERRIDE_H
#define NIMBUS_API_TEST_SEED_OVERRIDE_H
#include <stdlib.h>
#include <time.h>

static time_t nimbus_api_test_time(time_t *t)
{
    const char *s = getenv("NIMBUS_API_TEST_SEED");
    if (s != NULL && *s != '\0') {
        time_t v = (time_t)strtoul(s, NULL, 10);
        if (t != NULL)
            *t = v;
        return v;
    }
    return time(t);
}
#define time(t) nimbus_api_test_time(t)
#endif
