/* vol_c_links_files FILE: links, objects and file operations of the nimbus VOL connector through
 * nothing but the HDF5 C API (tests/integration/test_h5py_links_files.py runs it on every store).
 *
 * Checks soft links (create, value, info, open through, dangling, intermediate paths), H5Lmove,
 * H5Ocopy, H5Ldelete, link creation order, object info and tokens across opens, H5Fget_obj_count
 * and H5Fget_obj_ids, H5Fget_name/intent, H5Fflush, exclusive create, read-only writes,
 * H5Fis_accessible (no error-stack noise for a missing file) and H5Fdelete; and what HDF5's API
 * test suite checks (NULL buffers, invalid property lists, capability flags; api_conformance).
 *
 * The connector is selected explicitly (H5Pset_vol); where FILE goes comes from the environment as
 * for vol_c_roundtrip. Prints one line per failed check and exits 1 if any failed. */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;
static int checks = 0;

#define EXPECT(cond)                                                            \
  do {                                                                          \
    ++checks;                                                                   \
    if (!(cond)) {                                                              \
      ++failures;                                                               \
      fprintf(stderr, "vol_c_links_files:%d: check failed: %s\n", __LINE__, #cond); \
    }                                                                           \
  } while (0)

/* A call that must succeed; on failure the HDF5 error stack is printed and the program stops. */
#define CALL(expr)                                                        \
  do {                                                                    \
    ++checks;                                                             \
    if ((expr) < 0) {                                                     \
      fprintf(stderr, "vol_c_links_files:%d: failed: %s\n", __LINE__, #expr); \
      H5Eprint2(H5E_DEFAULT, stderr);                                     \
      return 1;                                                           \
    }                                                                     \
  } while (0)

/* A call that must fail (its error stack is expected and kept quiet). */
#define REFUSED(expr)                       \
  do {                                      \
    long long refused_result_;              \
    H5E_BEGIN_TRY { refused_result_ = (long long)(expr); } \
    H5E_END_TRY                             \
    EXPECT(refused_result_ < 0);            \
    if (refused_result_ > 0) H5Idec_ref((hid_t)refused_result_); /* an ID opened by mistake */ \
  } while (0)

static herr_t collect_name(hid_t group, const char *name, const H5L_info2_t *info, void *data) {
  char *out = (char *)data;
  (void)group;
  strcat(out, name);
  strcat(out, info->type == H5L_TYPE_SOFT ? "~," : ",");
  return 0;
}

static int links(hid_t fapl, const char *name) {
  hid_t file, group, dset, space, obj, lcpl, gcpl;
  hsize_t n = 4;
  int values[4] = {1, 2, 3, 4}, got[4] = {0, 0, 0, 0};
  char buf[256];
  H5L_info2_t linfo;
  H5O_info2_t oinfo, oinfo2;
  int cmp = 1;

  CALL(file = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
  CALL(lcpl = H5Pcreate(H5P_LINK_CREATE));
  CALL(H5Pset_create_intermediate_group(lcpl, 1));
  CALL(group = H5Gcreate2(file, "a/b", lcpl, H5P_DEFAULT, H5P_DEFAULT));
  CALL(space = H5Screate_simple(1, &n, NULL));
  CALL(dset = H5Dcreate2(group, "d", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  CALL(H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values));
  CALL(H5Dclose(dset));
  CALL(H5Gclose(group));

  /* Soft links: absolute, relative, dangling, through intermediate links. */
  CALL(H5Lcreate_soft("/a/b", file, "to_b", H5P_DEFAULT, H5P_DEFAULT));
  CALL(H5Lcreate_soft("b/d", file, "a/rel", H5P_DEFAULT, H5P_DEFAULT));
  CALL(H5Lcreate_soft("/nowhere", file, "dangling", H5P_DEFAULT, H5P_DEFAULT));
  REFUSED(H5Lcreate_soft("/a", file, "to_b", H5P_DEFAULT, H5P_DEFAULT)); /* name taken */
  REFUSED(H5Gcreate2(file, "to_b", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  CALL(H5Lget_info2(file, "to_b", &linfo, H5P_DEFAULT));
  EXPECT(linfo.type == H5L_TYPE_SOFT && linfo.u.val_size == strlen("/a/b") + 1);
  CALL(H5Lget_val(file, "to_b", buf, sizeof buf, H5P_DEFAULT));
  EXPECT(strcmp(buf, "/a/b") == 0);
  CALL(H5Lget_info2(file, "a", &linfo, H5P_DEFAULT));
  EXPECT(linfo.type == H5L_TYPE_HARD);
  REFUSED(H5Lget_val(file, "a", buf, sizeof buf, H5P_DEFAULT)); /* hard links have no value */
  CALL(dset = H5Dopen2(file, "to_b/d", H5P_DEFAULT));
  CALL(H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, got));
  EXPECT(got[0] == 1 && got[3] == 4);
  CALL(H5Dclose(dset));
  CALL(obj = H5Oopen(file, "a/rel", H5P_DEFAULT));
  EXPECT(H5Iget_type(obj) == H5I_DATASET);
  CALL(H5Oget_info3(obj, &oinfo, H5O_INFO_BASIC));
  CALL(H5Oget_info_by_name3(file, "/a/b/d", &oinfo2, H5O_INFO_BASIC, H5P_DEFAULT));
  CALL(H5Otoken_cmp(file, &oinfo.token, &oinfo2.token, &cmp));
  EXPECT(cmp == 0 && oinfo.type == H5O_TYPE_DATASET && oinfo.rc == 1);
  EXPECT(H5Iget_name(obj, buf, sizeof buf) > 0 && strcmp(buf, "/a/rel") == 0);
  CALL(H5Oclose(obj));
  EXPECT(H5Lexists(file, "dangling", H5P_DEFAULT) > 0);
  EXPECT(H5Oexists_by_name(file, "dangling", H5P_DEFAULT) == 0);
  EXPECT(H5Lexists(file, "to_b/d", H5P_DEFAULT) > 0);
  EXPECT(H5Lexists(file, "missing/x/y", H5P_DEFAULT) == 0);
  REFUSED(H5Oopen(file, "dangling", H5P_DEFAULT));

  /* Iteration lists soft links (marked ~ by the operator), in name order. */
  buf[0] = '\0';
  CALL(H5Literate2(file, H5_INDEX_NAME, H5_ITER_INC, NULL, collect_name, buf));
  EXPECT(strcmp(buf, "a,dangling~,to_b~,") == 0);

  /* Move and rename: the subtree follows, open handles too. */
  CALL(group = H5Gopen2(file, "a/b", H5P_DEFAULT));
  CALL(H5Lmove(file, "a", file, "moved/a2", lcpl, H5P_DEFAULT));
  EXPECT(H5Lexists(file, "a", H5P_DEFAULT) == 0);
  EXPECT(H5Lexists(file, "moved/a2/b/d", H5P_DEFAULT) > 0);
  EXPECT(H5Iget_name(group, buf, sizeof buf) > 0 && strcmp(buf, "/moved/a2/b") == 0);
  CALL(H5Gclose(group));
  REFUSED(H5Lmove(file, "moved", file, "moved/inside", H5P_DEFAULT, H5P_DEFAULT));
  CALL(H5Lmove(file, "dangling", file, "moved/dangling2", H5P_DEFAULT, H5P_DEFAULT));
  CALL(H5Lget_val(file, "moved/dangling2", buf, sizeof buf, H5P_DEFAULT));
  EXPECT(strcmp(buf, "/nowhere") == 0);

  /* H5Ocopy: a deep copy; H5Lcopy of a soft link copies the link. */
  CALL(H5Ocopy(file, "moved/a2", file, "copy", H5P_DEFAULT, H5P_DEFAULT));
  CALL(dset = H5Dopen2(file, "copy/b/d", H5P_DEFAULT));
  memset(got, 0, sizeof got);
  CALL(H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, got));
  EXPECT(got[1] == 2 && got[2] == 3);
  CALL(H5Dclose(dset));
  CALL(H5Lcopy(file, "to_b", file, "to_b_copy", H5P_DEFAULT, H5P_DEFAULT));
  CALL(H5Lget_val(file, "to_b_copy", buf, sizeof buf, H5P_DEFAULT));
  EXPECT(strcmp(buf, "/a/b") == 0);
  REFUSED(H5Lcopy(file, "copy", file, "copy2", H5P_DEFAULT, H5P_DEFAULT)); /* second hard link */
  REFUSED(H5Lcreate_hard(file, "copy", file, "copy3", H5P_DEFAULT, H5P_DEFAULT));
  REFUSED(H5Lcreate_external("other.h5", "/x", file, "ext", H5P_DEFAULT, H5P_DEFAULT));

  /* Delete: a soft link goes alone, a hard link takes its subtree. */
  CALL(H5Ldelete(file, "to_b_copy", H5P_DEFAULT));
  CALL(H5Ldelete(file, "copy", H5P_DEFAULT));
  EXPECT(H5Lexists(file, "copy", H5P_DEFAULT) == 0 && H5Lexists(file, "to_b_copy", H5P_DEFAULT) == 0);
  REFUSED(H5Ldelete(file, "copy", H5P_DEFAULT));

  /* Link creation order, when the group asks for it. */
  CALL(gcpl = H5Pcreate(H5P_GROUP_CREATE));
  CALL(H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED));
  CALL(group = H5Gcreate2(file, "ordered", H5P_DEFAULT, gcpl, H5P_DEFAULT));
  CALL(H5Gclose(H5Gcreate2(group, "zz", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)));
  CALL(H5Gclose(H5Gcreate2(group, "aa", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)));
  CALL(H5Lcreate_soft("/moved", group, "mm", H5P_DEFAULT, H5P_DEFAULT));
  buf[0] = '\0';
  CALL(H5Literate2(group, H5_INDEX_CRT_ORDER, H5_ITER_INC, NULL, collect_name, buf));
  EXPECT(strcmp(buf, "zz,aa,mm~,") == 0);
  CALL(H5Lget_info2(group, "aa", &linfo, H5P_DEFAULT));
  EXPECT(linfo.corder_valid && linfo.corder == 1);
  buf[0] = '\0';
  REFUSED(H5Literate2(file, H5_INDEX_CRT_ORDER, H5_ITER_INC, NULL, collect_name, buf));
  CALL(H5Gclose(group));
  CALL(H5Pclose(gcpl));

  CALL(H5Sclose(space));
  CALL(H5Pclose(lcpl));
  CALL(H5Oget_info_by_name3(file, "/moved/a2/b/d", &oinfo, H5O_INFO_BASIC, H5P_DEFAULT));
  EXPECT(H5Oexists_by_name(file, "to_b", H5P_DEFAULT) == 0); /* its target moved away */
  CALL(H5Fclose(file));

  /* Tokens are the same after reopening, and reach the same object. */
  CALL(file = H5Fopen(name, H5F_ACC_RDONLY, fapl));
  CALL(H5Oget_info_by_name3(file, "/moved/a2/b/d", &oinfo2, H5O_INFO_BASIC, H5P_DEFAULT));
  CALL(H5Otoken_cmp(file, &oinfo.token, &oinfo2.token, &cmp));
  EXPECT(cmp == 0);
  CALL(obj = H5Oopen_by_token(file, oinfo.token));
  EXPECT(H5Iget_type(obj) == H5I_DATASET);
  CALL(H5Oclose(obj));
  CALL(H5Fclose(file));
  return 0;
}

static int files(hid_t fapl, const char *name) {
  hid_t file, file2, group, dset, space, ids[8];
  hsize_t n = 2;
  unsigned intent = 0;
  ssize_t count;
  char buf[4096];
  char missing[4096];

  /* Exclusive create of an existing file fails; the file is intact. */
  REFUSED(H5Fcreate(name, H5F_ACC_EXCL, H5P_DEFAULT, fapl));
  CALL(file = H5Fopen(name, H5F_ACC_RDWR, fapl));
  EXPECT(H5Lexists(file, "moved", H5P_DEFAULT) > 0);
  EXPECT(H5Fget_name(file, NULL, 0) == (ssize_t)strlen(name));
  EXPECT(H5Fget_name(file, buf, sizeof buf) > 0 && strcmp(buf, name) == 0);
  CALL(H5Fget_intent(file, &intent));
  EXPECT(intent & H5F_ACC_RDWR);

  /* Open objects are counted per file and listed. */
  EXPECT(H5Fget_obj_count(file, H5F_OBJ_ALL) == 1);
  CALL(group = H5Gopen2(file, "moved", H5P_DEFAULT));
  CALL(space = H5Screate_simple(1, &n, NULL));
  CALL(dset = H5Dcreate2(group, "fresh", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT));
  EXPECT(H5Fget_obj_count(file, H5F_OBJ_ALL) == 3);
  EXPECT(H5Fget_obj_count(file, H5F_OBJ_DATASET) == 1);
  EXPECT(H5Fget_obj_count(file, H5F_OBJ_GROUP) == 1);
  EXPECT(H5Fget_obj_count(file, H5F_OBJ_FILE) == 1);
  count = H5Fget_obj_ids(file, H5F_OBJ_DATASET | H5F_OBJ_GROUP, 8, ids);
  EXPECT(count == 2);
  EXPECT((ids[0] == dset && ids[1] == group) || (ids[0] == group && ids[1] == dset));
  CALL(H5Fflush(file, H5F_SCOPE_GLOBAL));

  /* The same file opened twice: separate counts, both work. */
  CALL(file2 = H5Fopen(name, H5F_ACC_RDONLY, fapl));
  EXPECT(H5Fget_obj_count(file2, H5F_OBJ_ALL) == 1);
  EXPECT(H5Lexists(file2, "moved/fresh", H5P_DEFAULT) > 0);
  CALL(H5Fget_intent(file2, &intent));
  EXPECT(!(intent & H5F_ACC_RDWR));
  REFUSED(H5Gcreate2(file2, "nope", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  REFUSED(H5Lcreate_soft("/moved", file2, "nope", H5P_DEFAULT, H5P_DEFAULT));
  REFUSED(H5Ldelete(file2, "moved", H5P_DEFAULT));
  REFUSED(H5Lmove(file2, "moved", file2, "moved2", H5P_DEFAULT, H5P_DEFAULT));
  CALL(H5Fclose(file2));

  /* Closing the file with objects open: they keep working until closed (HDF5's weak close). */
  CALL(H5Fclose(file));
  EXPECT(H5Lexists(group, "fresh", H5P_DEFAULT) > 0);
  CALL(H5Dclose(dset));
  CALL(H5Gclose(group));
  CALL(H5Sclose(space));

  /* H5Fis_accessible: true, false for a missing file, with nothing on the error stack. */
  EXPECT(H5Fis_accessible(name, fapl) > 0);
  snprintf(missing, sizeof missing, "%s.never-created", name);
  H5Eclear2(H5E_DEFAULT);
  EXPECT(H5Fis_accessible(missing, fapl) == 0);
  EXPECT(H5Eget_num(H5E_DEFAULT) == 0);
  REFUSED(H5Fopen(missing, H5F_ACC_RDONLY, fapl));
  REFUSED(H5Fdelete(missing, fapl));

  /* H5Fdelete removes everything; the name can be created again, empty. */
  CALL(H5Fdelete(name, fapl));
  EXPECT(H5Fis_accessible(name, fapl) == 0);
  REFUSED(H5Fopen(name, H5F_ACC_RDONLY, fapl));
  CALL(file = H5Fcreate(name, H5F_ACC_EXCL, H5P_DEFAULT, fapl));
  EXPECT(H5Lexists(file, "moved", H5P_DEFAULT) == 0);
  CALL(H5Fclose(file));
  CALL(H5Fdelete(name, fapl));
  return 0;
}

/* What HDF5's API test suite (scripts/hdf5-api-tests) found: NULL buffers, datasets created through
 * soft links, invalid property lists, property lists that round-trip, resizing non-chunked
 * datasets, and the capability flags claimed. */
static int api_conformance(hid_t fapl, const char *name) {
  hid_t file, dset, space, scalar, dcpl, dapl, dapl2, acpl, acpl2, attr, none_space;
  hsize_t n = 4, one = 1, big = 8, unlimited = H5S_UNLIMITED;
  uint64_t flags = 0;
  int values[4] = {5, 6, 7, 8};
  H5T_cset_t cset = H5T_CSET_ERROR;
  char prefix[64];

  CALL(H5Pget_vol_cap_flags(fapl, &flags));
  EXPECT(!(flags & H5VL_CAP_FLAG_HARD_LINKS)); /* extra hard links are refused */
  EXPECT(flags & H5VL_CAP_FLAG_SOFT_LINKS);
  EXPECT(flags & H5VL_CAP_FLAG_DATASET_MORE);
  EXPECT(flags & H5VL_CAP_FLAG_GROUP_MORE);

  CALL(file = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
  CALL(H5Gclose(H5Gcreate2(file, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)));
  CALL(H5Lcreate_soft("/g", file, "link", H5P_DEFAULT, H5P_DEFAULT));
  CALL(space = H5Screate_simple(1, &n, NULL));
  CALL(scalar = H5Screate(H5S_SCALAR));

  /* A dataset created through a soft link lands in the link's target group. */
  CALL(dset = H5Dcreate2(file, "link/x", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT));
  EXPECT(H5Lexists(file, "g/x", H5P_DEFAULT) > 0);
  CALL(H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values));

  /* NULL buffers: refused when elements are selected (no crash), fine when none are. */
  REFUSED(H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, NULL));
  REFUSED(H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, NULL));
  CALL(none_space = H5Screate_simple(1, &n, NULL));
  CALL(H5Sselect_none(none_space));
  CALL(H5Dread(dset, H5T_NATIVE_INT, none_space, none_space, H5P_DEFAULT, NULL));
  CALL(H5Sclose(none_space));
  CALL(H5Dclose(dset));

  /* Invalid access and creation property lists are refused. */
  REFUSED(H5Dcreate2(file, "bad", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT,
                     H5I_INVALID_HID));
  EXPECT(H5Lexists(file, "bad", H5P_DEFAULT) == 0);
  REFUSED(H5Dopen2(file, "g/x", H5I_INVALID_HID));
  CALL(dset = H5Dopen2(file, "g/x", H5P_DEFAULT));
  REFUSED(H5Acreate2(dset, "a", H5T_NATIVE_INT, scalar, H5I_INVALID_HID, H5P_DEFAULT));
  CALL(dcpl = H5Pcreate(H5P_DATASET_CREATE));
  REFUSED(H5Acreate2(dset, "a", H5T_NATIVE_INT, scalar, dcpl, H5P_DEFAULT)); /* wrong class */
  REFUSED(H5Acreate2(dset, "a", H5T_NATIVE_INT, scalar, H5P_DEFAULT, H5I_INVALID_HID));
  EXPECT(H5Aexists(dset, "a") == 0);

  /* H5Aget_create_plist: the name encoding as created (ASCII by default), also after re-opening. */
  CALL(acpl = H5Pcreate(H5P_ATTRIBUTE_CREATE));
  CALL(H5Pset_char_encoding(acpl, H5T_CSET_UTF8));
  CALL(H5Aclose(H5Acreate2(dset, "utf8", H5T_NATIVE_INT, scalar, acpl, H5P_DEFAULT)));
  CALL(H5Aclose(H5Acreate2(dset, "plain", H5T_NATIVE_INT, scalar, H5P_DEFAULT, H5P_DEFAULT)));
  CALL(H5Pclose(acpl));
  REFUSED(H5Aopen(dset, "plain", H5I_INVALID_HID));
  REFUSED(H5Aopen_by_name(file, "g/x", "plain", H5I_INVALID_HID, H5P_DEFAULT));
  REFUSED(H5Aopen_by_idx(file, "g/x", H5_INDEX_NAME, H5_ITER_INC, 0, H5I_INVALID_HID, H5P_DEFAULT));
  REFUSED(H5Aopen_by_idx(file, "g/x", H5_INDEX_NAME, H5_ITER_INC, 0, H5P_DEFAULT, H5I_INVALID_HID));
  CALL(attr = H5Aopen_by_idx(file, "link/x", H5_INDEX_NAME, H5_ITER_INC, 1, H5P_DEFAULT,
                             H5P_DEFAULT)); /* "plain" < "utf8", through the soft link */
  CALL(acpl2 = H5Aget_create_plist(attr));
  CALL(H5Pget_char_encoding(acpl2, &cset));
  EXPECT(cset == H5T_CSET_UTF8);
  CALL(H5Pclose(acpl2));
  CALL(H5Aclose(attr));
  CALL(attr = H5Aopen(dset, "plain", H5P_DEFAULT));
  CALL(acpl2 = H5Aget_create_plist(attr));
  CALL(H5Pget_char_encoding(acpl2, &cset));
  EXPECT(cset == H5T_CSET_ASCII);
  CALL(H5Pclose(acpl2));
  CALL(H5Aclose(attr));
  CALL(H5Dclose(dset));

  /* H5Dget_access_plist returns the list the dataset was opened with. */
  CALL(dapl = H5Pcreate(H5P_DATASET_ACCESS));
  CALL(H5Pset_efile_prefix(dapl, "/some/prefix"));
  CALL(dset = H5Dopen2(file, "g/x", dapl));
  CALL(dapl2 = H5Dget_access_plist(dset));
  EXPECT(H5Pget_efile_prefix(dapl2, prefix, sizeof prefix) > 0 &&
         strcmp(prefix, "/some/prefix") == 0);
  CALL(H5Pclose(dapl2));
  CALL(H5Dclose(dset));
  CALL(dset = H5Dopen2(file, "g/x", H5P_DEFAULT));
  CALL(dapl2 = H5Dget_access_plist(dset));
  EXPECT(H5Pget_efile_prefix(dapl2, prefix, sizeof prefix) == 0);
  CALL(H5Pclose(dapl2));
  CALL(H5Pclose(dapl));

  /* Only chunked datasets change their extent, as in HDF5. */
  REFUSED(H5Dset_extent(dset, &one));
  CALL(H5Dclose(dset));
  CALL(H5Sclose(space));
  CALL(space = H5Screate_simple(1, &n, &unlimited));
  CALL(H5Pset_chunk(dcpl, 1, &n));
  CALL(dset = H5Dcreate2(file, "chunked", H5T_NATIVE_INT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
  CALL(H5Dset_extent(dset, &big));
  CALL(H5Dclose(dset));

  CALL(H5Pclose(dcpl));
  CALL(H5Sclose(space));
  CALL(H5Sclose(scalar));
  CALL(H5Fclose(file));
  CALL(H5Fdelete(name, fapl));
  return 0;
}

int main(int argc, char **argv) {
  hid_t vol, fapl;
  if (argc != 2) {
    fprintf(stderr, "usage: vol_c_links_files FILE\n");
    return 2;
  }
  CALL(vol = H5VLregister_connector_by_name("nimbus", H5P_DEFAULT));
  CALL(fapl = H5Pcreate(H5P_FILE_ACCESS));
  CALL(H5Pset_vol(fapl, vol, NULL));
  if (links(fapl, argv[1]) != 0 || files(fapl, argv[1]) != 0 ||
      api_conformance(fapl, argv[1]) != 0) {
    return 1;
  }
  CALL(H5Pclose(fapl));
  CALL(H5VLclose(vol));
  if (failures != 0) {
    fprintf(stderr, "vol_c_links_files: %d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("vol_c_links_files: %d checks passed on %s\n", checks, argv[1]);
  return 0;
}
