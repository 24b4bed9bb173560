/* vol_c_roundtrip FILE: writes FILE through the nimbus VOL connector using nothing but the HDF5 C
 * API, then reads it back and checks it. tests/integration/test_h5py_basic.py runs it and then
 * reads the same file with h5py.
 *
 * The connector is selected explicitly (H5VLregister_connector_by_name + H5Pset_vol), so only
 * HDF5_PLUGIN_PATH is needed; where the file goes comes from the environment (STORAGE_PLATFORM,
 * BUCKET_NAME, NIMBUS_STORE_URL, AWS_*) or from an s3:// / file:// FILE name. (H5Fis_accessible
 * consults remote stores only when nimbus is configured, e.g. HDF5_VOL_CONNECTOR=nimbus; see
 * docs/format.md 1.1.)
 *
 * Contents:
 *   /grid       int32 6x8, chunked 4x4, deflate 3, values r*100 + c, attribute "units" = "m"
 *   /meta/temps float64 big-endian [5], written from native doubles (converted by the library)
 *   /meta       attribute "count" = int64 42, attribute "scale" = float32[3] {0.5, 1.5, 2.5}
 * It also creates, checks (H5Fis_accessible) and deletes (H5Fdelete) FILE.scratch.
 * Exit status 0 when everything round-trips. */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

#define CHECK(expr)                                              \
  do {                                                           \
    if ((expr) < 0) {                                            \
      fprintf(stderr, "vol_c_roundtrip: failed: %s\n", #expr);  \
      H5Eprint2(H5E_DEFAULT, stderr);                            \
      return 1;                                                  \
    }                                                            \
  } while (0)

static int write_file(hid_t fapl, const char *name) {
  hid_t file, space, dcpl, dset, attr, type, group, lcpl;
  hsize_t dims[2] = {6, 8}, chunk[2] = {4, 4}, one = 5, three = 3;
  int grid[6][8];
  double temps[5] = {-1.5, 0.0, 2.25, 1e300, -3e-300};
  long long count = 42;
  float scale[3] = {0.5f, 1.5f, 2.5f};
  int r, c;

  for (r = 0; r < 6; ++r)
    for (c = 0; c < 8; ++c) grid[r][c] = r * 100 + c;

  CHECK(file = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl));

  CHECK(space = H5Screate_simple(2, dims, NULL));
  CHECK(dcpl = H5Pcreate(H5P_DATASET_CREATE));
  CHECK(H5Pset_chunk(dcpl, 2, chunk));
  CHECK(H5Pset_deflate(dcpl, 3));
  CHECK(dset = H5Dcreate2(file, "grid", H5T_STD_I32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
  CHECK(H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, grid));
  CHECK(type = H5Tcopy(H5T_C_S1));
  CHECK(H5Tset_size(type, 1));
  CHECK(H5Tset_strpad(type, H5T_STR_NULLPAD));
  CHECK(H5Sclose(space));
  CHECK(space = H5Screate(H5S_SCALAR));
  CHECK(attr = H5Acreate2(dset, "units", type, space, H5P_DEFAULT, H5P_DEFAULT));
  CHECK(H5Awrite(attr, type, "m"));
  CHECK(H5Aclose(attr));
  CHECK(H5Tclose(type));
  CHECK(H5Sclose(space));
  CHECK(H5Pclose(dcpl));
  CHECK(H5Dclose(dset));

  /* An intermediate group created on the way, as h5py does. */
  CHECK(lcpl = H5Pcreate(H5P_LINK_CREATE));
  CHECK(H5Pset_create_intermediate_group(lcpl, 1));
  CHECK(space = H5Screate_simple(1, &one, NULL));
  CHECK(dset = H5Dcreate2(file, "meta/temps", H5T_IEEE_F64BE, space, lcpl, H5P_DEFAULT,
                          H5P_DEFAULT));
  CHECK(H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, temps));
  CHECK(H5Dclose(dset));
  CHECK(H5Sclose(space));
  CHECK(H5Pclose(lcpl));

  CHECK(group = H5Gopen2(file, "meta", H5P_DEFAULT));
  CHECK(space = H5Screate(H5S_SCALAR));
  CHECK(attr = H5Acreate2(group, "count", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT));
  CHECK(H5Awrite(attr, H5T_NATIVE_LLONG, &count));
  CHECK(H5Aclose(attr));
  CHECK(H5Sclose(space));
  CHECK(space = H5Screate_simple(1, &three, NULL));
  CHECK(attr = H5Acreate2(group, "scale", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT));
  CHECK(H5Awrite(attr, H5T_NATIVE_FLOAT, scale));
  CHECK(H5Aclose(attr));
  CHECK(H5Sclose(space));
  CHECK(H5Gclose(group));
  CHECK(H5Fclose(file));
  return 0;
}

static int read_back(hid_t fapl, const char *name) {
  hid_t file, dset, mem, fspace;
  hsize_t start[2] = {1, 2}, stride[2] = {2, 3}, count[2] = {3, 2}, mdims[1] = {6};
  int got[6], expect[6] = {102, 105, 302, 305, 502, 505};
  double temps[5];
  int i;

  CHECK(file = H5Fopen(name, H5F_ACC_RDONLY, fapl));
  CHECK(dset = H5Dopen2(file, "grid", H5P_DEFAULT));
  CHECK(fspace = H5Dget_space(dset));
  CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, stride, count, NULL));
  CHECK(mem = H5Screate_simple(1, mdims, NULL));
  CHECK(H5Dread(dset, H5T_NATIVE_INT, mem, fspace, H5P_DEFAULT, got));
  for (i = 0; i < 6; ++i) {
    if (got[i] != expect[i]) {
      fprintf(stderr, "vol_c_roundtrip: grid element %d is %d, expected %d\n", i, got[i],
              expect[i]);
      return 1;
    }
  }
  CHECK(H5Sclose(mem));
  CHECK(H5Sclose(fspace));
  CHECK(H5Dclose(dset));
  CHECK(dset = H5Dopen2(file, "/meta/temps", H5P_DEFAULT));
  CHECK(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, temps));
  if (temps[3] != 1e300 || temps[0] != -1.5) {
    fprintf(stderr, "vol_c_roundtrip: temps read back wrong\n");
    return 1;
  }
  CHECK(H5Dclose(dset));
  /* Writing through a read-only handle must fail. */
  H5E_BEGIN_TRY {
    hid_t g = H5Gcreate2(file, "nope", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0) {
      fprintf(stderr, "vol_c_roundtrip: created a group in a read-only file\n");
      return 1;
    }
  }
  H5E_END_TRY
  CHECK(H5Fclose(file));
  return 0;
}

/* H5Fis_accessible and H5Fdelete on a scratch file next to FILE. */
static int accessible_and_delete(hid_t fapl, const char *name) {
  char scratch[4096];
  hid_t file;
  snprintf(scratch, sizeof scratch, "%s.scratch", name);
  CHECK(file = H5Fcreate(scratch, H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
  CHECK(H5Fclose(file));
  if (H5Fis_accessible(scratch, fapl) <= 0) {
    fprintf(stderr, "vol_c_roundtrip: %s is not accessible after create\n", scratch);
    return 1;
  }
  CHECK(H5Fdelete(scratch, fapl));
  if (H5Fis_accessible(scratch, fapl) != 0) {
    fprintf(stderr, "vol_c_roundtrip: %s still accessible after H5Fdelete\n", scratch);
    return 1;
  }
  H5E_BEGIN_TRY { file = H5Fopen(scratch, H5F_ACC_RDONLY, fapl); }
  H5E_END_TRY
  if (file >= 0) {
    fprintf(stderr, "vol_c_roundtrip: opened %s after H5Fdelete\n", scratch);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  hid_t vol, fapl;
  if (argc != 2) {
    fprintf(stderr, "usage: vol_c_roundtrip FILE\n");
    return 2;
  }
  CHECK(vol = H5VLregister_connector_by_name("nimbus", H5P_DEFAULT));
  CHECK(fapl = H5Pcreate(H5P_FILE_ACCESS));
  CHECK(H5Pset_vol(fapl, vol, NULL));
  if (write_file(fapl, argv[1]) != 0 || read_back(fapl, argv[1]) != 0 ||
      accessible_and_delete(fapl, argv[1]) != 0) {
    return 1;
  }
  CHECK(H5Pclose(fapl));
  CHECK(H5VLclose(vol));
  printf("vol_c_roundtrip: wrote and verified %s\n", argv[1]);
  return 0;
}
