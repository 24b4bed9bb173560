/* LD_PRELOAD helper for experiments with h5_api_test (scripts/hdf5-api-tests --cap-flags and
 * --guard-null-buffers); never used for recorded counts, the connector itself is untouched.
 *
 * - What WOULD the suite say if the connector advertised other capability flags? Interposes
 *   H5Pget_vol_cap_flags, which h5_api_test calls once at startup, and adds/removes the bits in
 *   NIMBUS_API_TEST_CAP_FLAGS_ADD / NIMBUS_API_TEST_CAP_FLAGS_REMOVE (unsigned 64-bit numbers, any
 *   base strtoull accepts).
 * - What is behind a crash on a NULL data buffer? With NIMBUS_API_TEST_GUARD_NULL_BUFFERS=1,
 *   H5Dread/H5Dwrite with a NULL buffer fail before reaching the connector, as HDF5's native
 *   connector makes them fail ("no output buffer"), so the rest of the area runs. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>

#include <hdf5.h>
#include <string.h>

static int guard_null_buffers(void)
{
    const char *g = getenv("NIMBUS_API_TEST_GUARD_NULL_BUFFERS");
    return g != NULL && strcmp(g, "1") == 0;
}

herr_t H5Dread(hid_t dset_id, hid_t mem_type_id, hid_t mem_space_id, hid_t file_space_id, hid_t dxpl_id,
               void *buf)
{
    herr_t (*real)(hid_t, hid_t, hid_t, hid_t, hid_t, void *) =
        (herr_t(*)(hid_t, hid_t, hid_t, hid_t, hid_t, void *))dlsym(RTLD_NEXT, "H5Dread");
    if (buf == NULL && guard_null_buffers())
        return -1;
    return real(dset_id, mem_type_id, mem_space_id, file_space_id, dxpl_id, buf);
}

herr_t H5Dwrite(hid_t dset_id, hid_t mem_type_id, hid_t mem_space_id, hid_t file_space_id, hid_t dxpl_id,
                const void *buf)
{
    herr_t (*real)(hid_t, hid_t, hid_t, hid_t, hid_t, const void *) =
        (herr_t(*)(hid_t, hid_t, hid_t, hid_t, hid_t, const void *))dlsym(RTLD_NEXT, "H5Dwrite");
    if (buf == NULL && guard_null_buffers())
        return -1;
    return real(dset_id, mem_type_id, mem_space_id, file_space_id, dxpl_id, buf);
}

herr_t H5Pget_vol_cap_flags(hid_t plist_id, uint64_t *cap_flags)
{
    herr_t (*real)(hid_t, uint64_t *) = (herr_t(*)(hid_t, uint64_t *))dlsym(RTLD_NEXT, "H5Pget_vol_cap_flags");
    const char *add = getenv("NIMBUS_API_TEST_CAP_FLAGS_ADD");
    const char *rem = getenv("NIMBUS_API_TEST_CAP_FLAGS_REMOVE");
    herr_t ret;
    if (real == NULL)
        return -1;
    ret = real(plist_id, cap_flags);
    if (ret >= 0 && cap_flags != NULL) {
        if (add != NULL && *add != '\0')
            *cap_flags |= (uint64_t)strtoull(add, NULL, 0);
        if (rem != NULL && *rem != '\0')
            *cap_flags &= ~(uint64_t)strtoull(rem, NULL, 0);
    }
    return ret;
}
