/* hdf5_probe: prints, as one JSON object, the HDF5 library version this executable runs against
 * (H5get_libversion) and the absolute path of the libhdf5 shared object actually loaded (dladdr on
 * H5open). Used by tests/integration/test_environment.py. Exit status 0 on success. */
#include <dlfcn.h>
#include <hdf5.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

static void print_json_string(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; ++p) {
    if (*p == '"' || *p == '\\') {
      printf("\\%c", *p);
    } else if (*p < 0x20) {
      printf("\\u%04x", *p);
    } else {
      putchar(*p);
    }
  }
  putchar('"');
}

int main(void) {
  unsigned maj = 0, min = 0, rel = 0;
  if (H5open() < 0 || H5get_libversion(&maj, &min, &rel) < 0) {
    fprintf(stderr, "hdf5_probe: H5open/H5get_libversion failed\n");
    return 1;
  }

  Dl_info info;
  /* Cast through a union: ISO C forbids converting a function pointer to void * directly. */
  union {
    herr_t (*fn)(void);
    void *ptr;
  } sym = {.fn = H5open};
  if (dladdr(sym.ptr, &info) == 0 || info.dli_fname == NULL) {
    fprintf(stderr, "hdf5_probe: dladdr(H5open) failed\n");
    return 1;
  }
  char resolved[PATH_MAX];
  const char *real = realpath(info.dli_fname, resolved) ? resolved : info.dli_fname;

  char version[64];
  snprintf(version, sizeof version, "%u.%u.%u", maj, min, rel);
  printf("{\"version\": \"%s\", \"major\": %u, \"minor\": %u, \"release\": %u, \"header_version\": ",
         version, maj, min, rel);
  print_json_string(H5_VERS_INFO);
  printf(", \"library\": ");
  print_json_string(info.dli_fname);
  printf(", \"library_realpath\": ");
  print_json_string(real);
  printf("}\n");
  return H5close() < 0 ? 1 : 0;
}
