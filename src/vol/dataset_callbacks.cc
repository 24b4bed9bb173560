// Dataset callbacks. A dataset is a Zarr array; the HDF5 facts Zarr lacks (exact type, maxshape,
// requested layout, filters, fill value status) are its "_nimbus" attribute (docs/format.md).
//
// Reads and writes: the file-side selection becomes a zarr::Selection (orthogonal for "all" and
// regular hyperslabs, points for point lists and, element by element, for irregular hyperslab
// unions). The engine moves elements in the type's engine form; H5Tconvert converts to and from
// the application's memory type; the memory selection is either one contiguous run (read/written
// in place) or walked with HDF5's selection iterator.
#include <algorithm>
#include <cstring>
#include <atomic>
#include <iterator>
#include <numeric>

#include "store/store_factory.h"

#include "vol/callbacks.h"
#include "vol/errors.h"
#include "vol/memory_selection.h"

namespace nimbus::vol {
namespace {

using nlohmann::json;

constexpr uint64_t kChunkTargetBytes = 4ull << 20;

// ---------------------------------------------------------------------------------------------
// Creation

// docs/format.md "Chunking": contiguous and compact datasets, which HDF5 does not chunk, are stored
// in chunks found by halving the longest chunk dimension (rounding up) until a chunk holds at most
// 4 MiB.
std::vector<uint64_t> HeuristicChunks(const std::vector<uint64_t>& shape, size_t item_size) {
  std::vector<uint64_t> chunk;
  for (uint64_t d : shape) chunk.push_back(std::max<uint64_t>(d, 1));
  auto bytes = [&] {
    uint64_t n = item_size;
    for (uint64_t c : chunk) n *= c;
    return n;
  };
  while (!chunk.empty() && bytes() > kChunkTargetBytes) {
    auto longest = std::max_element(chunk.begin(), chunk.end());
    if (*longest == 1) break;
    *longest = (*longest + 1) / 2;
  }
  return chunk;
}

struct FilterPlan {
  json codecs = json::array();   // after the "bytes" codec
  json recorded = json::array();  // the "_nimbus" filters entry
};

// Registered HDF5 filter ids of the plugins nimbus maps (hdf5plugin / HDF Group registry).
constexpr H5Z_filter_t kBloscFilter = 32001;
constexpr H5Z_filter_t kLz4Filter = 32004;
constexpr H5Z_filter_t kZstdFilter = 32015;

// One filter of the dataset creation property list, as the application set it.
struct RequestedFilter {
  H5Z_filter_t id = 0;
  unsigned flags = 0;
  std::vector<unsigned> cd_values;
  std::string name;
  unsigned value(size_t i, unsigned fallback) const {
    return i < cd_values.size() ? cd_values[i] : fallback;
  }
};

Result<std::vector<RequestedFilter>> RequestedFilters(hid_t dcpl) {
  int n = H5Pget_nfilters(dcpl);
  if (n < 0) return Hdf5CallFailed("reading the dataset's filters");
  std::vector<RequestedFilter> out;
  for (int i = 0; i < n; ++i) {
    RequestedFilter f;
    unsigned filter_config = 0;
    size_t cd_nelmts = 32;
    f.cd_values.resize(cd_nelmts);
    char name[256] = {};
    f.id = H5Pget_filter2(dcpl, static_cast<unsigned>(i), &f.flags, &cd_nelmts, f.cd_values.data(),
                          sizeof name, name, &filter_config);
    if (f.id < 0) return Hdf5CallFailed("reading the dataset's filters");
    f.cd_values.resize(std::min<size_t>(cd_nelmts, 32));
    f.name = name;
    out.push_back(std::move(f));
  }
  return out;
}

// hdf5-blosc's cd_values: [4] level, [5] shuffle (0 none, 1 byte, 2 bit), [6] compressor code.
Result<json> BloscCodecFor(const RequestedFilter& f, size_t item_size, bool hdf5_shuffle_before) {
  static const char* const kCompressors[] = {"blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"};
  const unsigned code = f.value(6, 0);
  if (code >= std::size(kCompressors)) {
    return UnimplementedError("blosc compressor code " + std::to_string(code) +
                              " is unknown (0-5: blosclz, lz4, lz4hc, snappy, zlib, zstd)");
  }
  unsigned shuffle = f.value(5, 1);
  if (shuffle > 2) return InvalidArgumentError("blosc shuffle mode " + std::to_string(shuffle) + " is unknown");
  if (hdf5_shuffle_before) shuffle = 1;  // HDF5's shuffle becomes blosc's own (see PlanFilters)
  return json{{"name", "blosc"},
              {"configuration",
               {{"cname", kCompressors[code]},
                {"clevel", std::min(f.value(4, 5), 9u)},
                {"shuffle", shuffle == 0 ? "noshuffle" : shuffle == 1 ? "shuffle" : "bitshuffle"},
                {"typesize", item_size},
                {"blocksize", 0}}}};
}

// HDF5 filter pipeline -> Zarr codecs (docs/format.md "Filters"), filter by filter in pipeline
// order. Zarr core codecs where one does the same job (deflate -> gzip, fletcher32 -> crc32c),
// numcodecs' codecs (which zarr-python reads) where none does (lz4, a shuffle nothing absorbs).
// A byte shuffle directly before deflate, zstd or blosc becomes blosc's own shuffle: blosc with
// zlib/zstd is byte shuffle + that compressor, readable by every Zarr implementation.
Result<FilterPlan> PlanFilters(hid_t dcpl, size_t item_size, bool variable_length) {
  FilterPlan plan;
  NIMBUS_ASSIGN_OR_RETURN(std::vector<RequestedFilter> filters, RequestedFilters(dcpl));
  for (size_t i = 0; i < filters.size(); ++i) {
    const RequestedFilter& f = filters[i];
    json recorded = {{"id", f.id}, {"flags", f.flags}, {"cd_values", f.cd_values}};
    const RequestedFilter* next = i + 1 < filters.size() ? &filters[i + 1] : nullptr;
    switch (f.id) {
      case H5Z_FILTER_SHUFFLE: {
        recorded["name"] = "shuffle";
        plan.recorded.push_back(recorded);
        // Variable-length values have no element size to shuffle by: their bytes stay as they
        // are (the filter is still recorded and reported).
        if (variable_length || item_size <= 1) continue;
        if (next != nullptr && (next->id == H5Z_FILTER_DEFLATE || next->id == kZstdFilter)) {
          const bool deflate = next->id == H5Z_FILTER_DEFLATE;
          const int level = static_cast<int>(next->value(0, deflate ? 6 : 3));
          plan.codecs.push_back({{"name", "blosc"},
                                 {"configuration",
                                  {{"cname", deflate ? "zlib" : "zstd"},
                                   {"clevel", std::clamp(level, 0, 9)},
                                   {"shuffle", "shuffle"},
                                   {"typesize", item_size},
                                   {"blocksize", 0}}}});
          ++i;
          json merged = {{"id", next->id},
                         {"flags", next->flags},
                         {"cd_values", next->cd_values},
                         {"name", deflate ? "deflate" : "zstd"},
                         {"level", level}};
          plan.recorded.push_back(merged);
          continue;
        }
        if (next != nullptr && next->id == kBloscFilter && next->value(5, 1) == 0) {
          continue;  // blosc below shuffles (BloscCodecFor with hdf5_shuffle_before)
        }
        plan.codecs.push_back(
            {{"name", "numcodecs.shuffle"}, {"configuration", {{"elementsize", item_size}}}});
        continue;
      }
      case H5Z_FILTER_DEFLATE: {
        const unsigned level = f.value(0, 6);
        if (level > 9) return InvalidArgumentError("deflate level " + std::to_string(level) + " is not 0-9");
        recorded["name"] = "deflate";
        recorded["level"] = level;
        plan.codecs.push_back({{"name", "gzip"}, {"configuration", {{"level", level}}}});
        break;
      }
      case kZstdFilter: {
        const int level = static_cast<int>(f.value(0, 3));
        recorded["name"] = "zstd";
        recorded["level"] = level;
        plan.codecs.push_back(
            {{"name", "zstd"}, {"configuration", {{"level", level}, {"checksum", false}}}});
        break;
      }
      case kBloscFilter: {
        recorded["name"] = "blosc";
        const bool shuffled_before = i > 0 && filters[i - 1].id == H5Z_FILTER_SHUFFLE &&
                                     f.value(5, 1) == 0 && !variable_length && item_size > 1;
        NIMBUS_ASSIGN_OR_RETURN(json codec, BloscCodecFor(f, item_size, shuffled_before));
        plan.codecs.push_back(std::move(codec));
        break;
      }
      case kLz4Filter:
        recorded["name"] = "lz4";
        plan.codecs.push_back({{"name", "numcodecs.lz4"}, {"configuration", {{"acceleration", 1}}}});
        break;
      case H5Z_FILTER_FLETCHER32:
        // Zarr's core checksum: every reader verifies it, as HDF5 verifies fletcher32.
        recorded["name"] = "fletcher32";
        plan.codecs.push_back({{"name", "crc32c"}});
        break;
      default:
        return UnimplementedError(
            "HDF5 filter '" + f.name + "' (id " + std::to_string(f.id) +
            ") has no Zarr codec in nimbus; supported: deflate (gzip), shuffle, fletcher32, "
            "zstd (32015), blosc (32001), lz4 (32004)");
    }
    plan.recorded.push_back(recorded);
  }
  return plan;
}

Result<Dataset*> CreateDataset(Object& base, const H5VL_loc_params_t* loc, const char* name,
                               hid_t lcpl, hid_t type_id, hid_t space_id, hid_t dcpl) {
  File& file = base.file();
  const bool anonymous = name == nullptr;  // H5Dcreate_anon (h5py: group[name] = data)
  NIMBUS_RETURN_IF_ERROR(file.CheckWritable(anonymous ? "create an anonymous dataset"
                                                      : "create dataset '" + std::string(name) + "'"));
  std::string path;
  if (!anonymous) {
    NIMBUS_ASSIGN_OR_RETURN(std::string where, LocatedPath(base, loc));
    // Soft links in the name lead to where the new link goes (H5Dcreate2(file, "link/x")).
    NIMBUS_ASSIGN_OR_RETURN(path, ResolveLinkPath(file, where, name));
    if (path.empty()) return InvalidArgumentError("a dataset cannot replace the root group");
    NIMBUS_RETURN_IF_ERROR(CheckNodeName(LastComponent(path)));
    NIMBUS_ASSIGN_OR_RETURN(NodeKind existing, LookupNode(file, path));
    if (existing != NodeKind::kMissing) {
      return Status(ErrorKind::kPreconditionFailed, "name already exists: '/" + path + "'");
    }
  }
  const std::string what = anonymous ? "anonymous dataset" : "dataset '/" + path + "'";

  auto type = StoredTypeOf(type_id);
  if (!type.ok()) return type.status().WithContext(what);
  NIMBUS_ASSIGN_OR_RETURN(ZarrEncoding encoding, ZarrEncodingOf(type->description));

  DatasetFacts facts;
  facts.type_description = type->description;
  std::vector<uint64_t> shape;
  H5S_class_t space_class = H5Sget_simple_extent_type(space_id);
  if (space_class == H5S_NULL) {
    return UnimplementedError(what + ": datasets with a null dataspace are not supported");
  }
  if (space_class == H5S_SIMPLE) {
    int rank = H5Sget_simple_extent_ndims(space_id);
    std::vector<hsize_t> dims(rank), maxdims(rank);
    if (rank < 0 || H5Sget_simple_extent_dims(space_id, dims.data(), maxdims.data()) < 0) {
      return Hdf5CallFailed("reading the dataspace of " + what);
    }
    for (int d = 0; d < rank; ++d) {
      shape.push_back(dims[d]);
      facts.maxshape.push_back(maxdims[d] == H5S_UNLIMITED ? std::nullopt
                                                           : std::optional<uint64_t>(maxdims[d]));
    }
  } else if (space_class != H5S_SCALAR) {
    return Hdf5CallFailed("reading the dataspace of " + what);
  }

  hid_t plist = dcpl >= 0 && dcpl != H5P_DEFAULT ? dcpl : H5P_DATASET_CREATE_DEFAULT;
  H5D_layout_t layout = H5Pget_layout(plist);
  std::vector<uint64_t> chunk;
  if (layout == H5D_CHUNKED && !shape.empty()) {
    facts.layout = "chunked";
    std::vector<hsize_t> dims(shape.size());
    if (H5Pget_chunk(plist, static_cast<int>(shape.size()), dims.data()) !=
        static_cast<int>(shape.size())) {
      return InvalidArgumentError(what + ": the chunk rank differs from the dataspace rank");
    }
    chunk.assign(dims.begin(), dims.end());
  } else if (layout == H5D_CONTIGUOUS || layout == H5D_COMPACT || shape.empty()) {
    facts.layout = layout == H5D_COMPACT ? "compact" : "contiguous";
    for (const auto& m : facts.maxshape) {
      if (!m) return InvalidArgumentError(what + ": unlimited dimensions need a chunked layout");
    }
    chunk = HeuristicChunks(shape, type->size);
  } else {
    return UnimplementedError(what + ": virtual datasets are not supported");
  }

  auto filters = PlanFilters(plist, type->size, type->variable_string);
  if (!filters.ok()) return filters.status().WithContext(what);
  facts.filters = filters->recorded;

  // Zarr fill values: the element's native-order bytes, or the string itself for vlen strings.
  std::string fill(type->variable_string ? 0 : type->size, '\0');
  H5D_fill_value_t fill_status = H5D_FILL_VALUE_DEFAULT;
  if (H5Pfill_value_defined(plist, &fill_status) < 0) {
    return Hdf5CallFailed("reading the fill value of " + what);
  }
  if (fill_status == H5D_FILL_VALUE_USER_DEFINED) {
    // Asked for in the engine type, so the bytes come out in native order.
    std::vector<char> value(type->size);
    if (H5Pget_fill_value(plist, type->engine_type.get(), value.data()) < 0) {
      return Hdf5CallFailed("reading the fill value of " + what);
    }
    if (type->variable_string) {
      char* p;
      std::memcpy(&p, value.data(), sizeof p);
      if (p != nullptr) fill = p;
      H5free_memory(p);
    } else {
      fill.assign(value.data(), value.size());
    }
    facts.fill_value = "user";
  } else {
    facts.fill_value = fill_status == H5D_FILL_VALUE_UNDEFINED ? "undefined" : "default";
  }

  unsigned intermediate = 0;
  if (lcpl >= 0 && lcpl != H5P_DEFAULT) H5Pget_create_intermediate_group(lcpl, &intermediate);
  if (!anonymous) {
    NIMBUS_RETURN_IF_ERROR(EnsureParent(file, path, intermediate != 0).WithContext(what));
  }

  zarr::ArrayMetadata md;
  md.shape = shape;
  md.data_type = encoding.data_type;
  md.chunk_shape = chunk;
  md.fill_value = fill;
  json bytes_codec = {{"name", encoding.data_type.type_class == zarr::TypeClass::kString ? "vlen-utf8"
                              : encoding.data_type.type_class == zarr::TypeClass::kBytes ? "vlen-bytes"
                                                                                          : "bytes"}};
  if (!encoding.endian.empty()) bytes_codec["configuration"] = {{"endian", encoding.endian}};
  md.codecs = json::array({bytes_codec});
  for (const json& c : filters->codecs) md.codecs.push_back(c);
  md.attributes = {{kReservedAttribute, facts.ToJson()}};
  std::shared_ptr<store::ObjectStore> target = file.store_ptr();
  if (anonymous) {
    // Its own in-memory store until H5Olink gives it a name (LinkAnonymousDataset).
    static std::atomic<uint64_t> counter{0};
    NIMBUS_ASSIGN_OR_RETURN(
        target, store::OpenStore("memory://nimbus-anonymous-" + std::to_string(++counter)));
  }
  // An anonymous dataset's staging store is not the file's: none of its options apply.
  auto array = zarr::ZarrArray::Create(target, path, std::move(md),
                                       zarr::ZarrArray::CreateMode::kExclusive,
                                       anonymous ? zarr::ArrayOptions{} : file.array_options());
  if (!array.ok()) {
    if (array.status().kind() == ErrorKind::kPreconditionFailed) {
      return Status(ErrorKind::kPreconditionFailed, "name already exists: '/" + path + "'");
    }
    return array.status().WithContext("creating " + what);
  }
  if (!anonymous) file.AdoptArray(path, *array);
  auto* dataset = new Dataset(file.shared_file(), path, std::move(array).value(),
                              std::move(type).value(), std::move(facts), anonymous);
  if (anonymous) dataset->set_staging(std::move(target));
  return dataset;
}

// ---------------------------------------------------------------------------------------------
// Selections

// Linear element offsets (row-major over the space's extent) of the selection, in HDF5's own
// iteration order, from the public selection iterator.
Result<std::vector<uint64_t>> SelectedOffsets(hid_t space) {
  Hid iter(H5Ssel_iter_create(space, 1, 0));
  if (!iter.valid()) return Hdf5CallFailed("iterating a selection");
  std::vector<uint64_t> out;
  constexpr size_t kMaxSeq = 1024;
  std::vector<hsize_t> off(kMaxSeq);
  std::vector<size_t> len(kMaxSeq);
  for (;;) {
    size_t nseq = 0, nbytes = 0;
    if (H5Ssel_iter_get_seq_list(iter.get(), kMaxSeq, SIZE_MAX, &nseq, &nbytes, off.data(),
                                 len.data()) < 0) {
      return Hdf5CallFailed("iterating a selection");
    }
    if (nseq == 0) break;
    for (size_t i = 0; i < nseq; ++i) {
      for (size_t k = 0; k < len[i]; ++k) out.push_back(off[i] + k);
    }
  }
  return out;
}

Result<zarr::Selection> FileSelection(hid_t file_space, const std::vector<uint64_t>& shape) {
  if (file_space == H5S_ALL) return zarr::Selection::All(shape);
  if (file_space == H5S_BLOCK || file_space == H5S_PLIST) {
    return UnimplementedError("H5S_BLOCK and H5S_PLIST are not supported as the file dataspace");
  }
  const size_t rank = shape.size();
  int space_rank = H5Sget_simple_extent_ndims(file_space);
  if (space_rank < 0) return Hdf5CallFailed("reading the file dataspace");
  if (static_cast<size_t>(space_rank) != rank) {
    return InvalidArgumentError("the file dataspace has rank " + std::to_string(space_rank) +
                                " but the dataset has rank " + std::to_string(rank));
  }
  const H5S_sel_type sel_type = H5Sget_select_type(file_space);
  if (sel_type == H5S_SEL_NONE) return zarr::Selection::Points(rank, {});
  if (sel_type == H5S_SEL_ALL) return zarr::Selection::All(shape);
  // H5Soffset_simple shifts a selection (h5py's broadcasting writes use it) and only the bounds
  // report it: work on an unshifted copy and add the shift to every coordinate.
  std::vector<int64_t> shift(rank, 0);
  Hid unshifted(H5Scopy(file_space));
  if (!unshifted.valid()) return Hdf5CallFailed("copying the file selection");
  if (H5Sget_select_npoints(file_space) > 0) {
    std::vector<hsize_t> lo(rank), hi(rank), lo0(rank), hi0(rank);
    std::vector<hssize_t> zero(rank, 0);
    if (H5Sget_select_bounds(file_space, lo.data(), hi.data()) < 0 ||
        H5Soffset_simple(unshifted.get(), zero.data()) < 0 ||
        H5Sget_select_bounds(unshifted.get(), lo0.data(), hi0.data()) < 0) {
      return Hdf5CallFailed("reading the file selection's offset");
    }
    for (size_t d = 0; d < rank; ++d) {
      shift[d] = static_cast<int64_t>(lo[d]) - static_cast<int64_t>(lo0[d]);
    }
  }
  file_space = unshifted.get();
  auto shifted = [&](size_t d, hsize_t v) -> uint64_t { return static_cast<uint64_t>(v + shift[d]); };
  switch (sel_type) {
    case H5S_SEL_POINTS: {
      hssize_t n = H5Sget_select_elem_npoints(file_space);
      if (n < 0) return Hdf5CallFailed("reading a point selection");
      std::vector<hsize_t> coords(static_cast<size_t>(n) * rank);
      if (n > 0 && H5Sget_select_elem_pointlist(file_space, 0, static_cast<hsize_t>(n),
                                                coords.data()) < 0) {
        return Hdf5CallFailed("reading a point selection");
      }
      std::vector<uint64_t> points(coords.size());
      for (size_t i = 0; i < coords.size(); ++i) points[i] = shifted(i % rank, coords[i]);
      return zarr::Selection::Points(rank, std::move(points));
    }
    case H5S_SEL_HYPERSLABS: {
      htri_t regular = H5Sis_regular_hyperslab(file_space);
      if (regular < 0) return Hdf5CallFailed("reading a hyperslab selection");
      if (regular > 0) {
        std::vector<hsize_t> start(rank), stride(rank), count(rank), block(rank);
        if (H5Sget_regular_hyperslab(file_space, start.data(), stride.data(), count.data(),
                                     block.data()) < 0) {
          return Hdf5CallFailed("reading a hyperslab selection");
        }
        std::vector<zarr::DimSelection> dims;
        for (size_t d = 0; d < rank; ++d) {
          dims.push_back(
              zarr::DimSelection::Hyperslab(shifted(d, start[d]), stride[d], count[d], block[d]));
        }
        return zarr::Selection::Orthogonal(std::move(dims));
      }
      // A union of blocks that is not a product: its elements, in HDF5's order, as points.
      NIMBUS_ASSIGN_OR_RETURN(std::vector<uint64_t> offsets, SelectedOffsets(file_space));
      std::vector<hsize_t> extent(rank);
      if (H5Sget_simple_extent_dims(file_space, extent.data(), nullptr) < 0) {
        return Hdf5CallFailed("reading the file dataspace");
      }
      std::vector<uint64_t> coords(offsets.size() * rank);
      for (size_t i = 0; i < offsets.size(); ++i) {
        uint64_t rest = offsets[i];
        for (size_t d = rank; d-- > 0;) {
          coords[i * rank + d] = shifted(d, rest % extent[d]);
          rest /= extent[d];
        }
      }
      return zarr::Selection::Points(rank, std::move(coords));
    }
    default:
      return Hdf5CallFailed("reading the file selection");
  }
}

// Variable-length strings: the engine holds std::string values, HDF5 memory holds char*.
// Converts n elements in `buf` from the dataset's stored type to `mem_type` in place (the buffer
// holds room for the larger of the two).
// `background`: for types holding compounds, the destination's values that members the source
// lacks are kept from (HDF5 requires the buffer for every compound conversion).
Status ConvertToMemory(const StoredType& type, hid_t mem_type, uint64_t n, void* buf, hid_t dxpl,
                       void* background = nullptr) {
  if (H5Tconvert(type.engine_type.get(), mem_type, n, buf, background, dxpl) < 0) {
    return Status(ErrorKind::kInvalidArgument, "cannot convert " + TypeSummary(type.description) +
                                                   " to the requested memory type");
  }
  return Status::Ok();
}


Status ReadStrings(Dataset& d, const zarr::Selection& selection, const MemoryPlan& plan,
                   hid_t mem_type, hid_t dxpl, char* out) {
  const uint64_t n = selection.num_elements();
  const StoredType& type = d.type();
  std::vector<std::string> values(n);
  NIMBUS_RETURN_IF_ERROR(d.array().ReadValues(selection, values.data()));
  const size_t dst_size = H5Tget_size(mem_type);
  htri_t same = H5Tequal(type.engine_type.get(), mem_type);
  if (same < 0 || dst_size == 0) return Hdf5CallFailed("reading the memory type");
  // Allocated with HDF5's allocator: when the types are equal the application owns (and frees,
  // e.g. with H5Treclaim) them; otherwise the conversion makes its own copies and ours go.
  std::vector<char*> ours(n);
  for (uint64_t i = 0; i < n; ++i) {
    ours[i] = static_cast<char*>(H5allocate_memory(values[i].size() + 1, false));
    if (ours[i] == nullptr) {
      for (uint64_t k = 0; k < i; ++k) H5free_memory(ours[k]);
      return PermanentError("out of memory for " + std::to_string(n) + " strings");
    }
    std::memcpy(ours[i], values[i].c_str(), values[i].size() + 1);
  }
  std::vector<char> temp(n * std::max(sizeof(char*), dst_size));
  std::memcpy(temp.data(), ours.data(), n * sizeof(char*));
  if (!same) {
    Status converted = ConvertToMemory(type, mem_type, n, temp.data(), dxpl);
    for (char* p : ours) H5free_memory(p);
    NIMBUS_RETURN_IF_ERROR(converted);
  }
  return Scatter(plan, dst_size, n, temp.data(), out);
}

Status WriteStrings(Dataset& d, const zarr::Selection& selection, const MemoryPlan& plan,
                    hid_t mem_type, hid_t dxpl, const char* in) {
  const uint64_t n = selection.num_elements();
  const StoredType& type = d.type();
  const size_t src_size = H5Tget_size(mem_type);
  htri_t same = H5Tequal(type.engine_type.get(), mem_type);
  if (same < 0 || src_size == 0) return Hdf5CallFailed("reading the memory type");
  std::vector<char> temp(n * std::max(sizeof(char*), src_size));
  NIMBUS_RETURN_IF_ERROR(Gather(plan, src_size, n, in, temp.data()));
  if (!same && H5Tconvert(mem_type, type.engine_type.get(), n, temp.data(), nullptr, dxpl) < 0) {
    return Status(ErrorKind::kInvalidArgument, "cannot convert the memory type to " +
                                                   TypeSummary(type.description));
  }
  std::vector<std::string> values(n);
  Status valid = Status::Ok();
  const bool utf8 = type.description.value("charset", "ascii") == "utf-8";
  for (uint64_t i = 0; i < n; ++i) {
    char* p;
    std::memcpy(&p, temp.data() + i * sizeof p, sizeof p);
    if (p != nullptr) values[i] = p;  // HDF5's null string is stored as ""
    if (utf8 && valid.ok() && !IsValidUtf8(values[i])) {
      valid = InvalidArgumentError("element " + std::to_string(i) +
                                   " is not valid UTF-8 but the dataset's strings are UTF-8");
    }
  }
  if (!same) {  // the conversion allocated the char* strings
    hsize_t dims[1] = {n};
    Hid space(H5Screate_simple(1, dims, nullptr));
    H5Treclaim(type.engine_type.get(), space.get(), H5P_DEFAULT, temp.data());
  }
  NIMBUS_RETURN_IF_ERROR(valid);
  return d.array().WriteValues(selection, values.data());
}

Status ReadOne(Dataset& d, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl,
               void* buf) {
  NIMBUS_ASSIGN_OR_RETURN(zarr::Selection selection, FileSelection(file_space, d.array().shape()));
  const uint64_t n = selection.num_elements();
  // HDF5 does not check the buffer in its API layer (native refuses it in H5D__read); the chunk
  // decoders would write through it.
  if (n > 0 && buf == nullptr) return InvalidArgumentError("H5Dread: buffer is NULL");
  NIMBUS_ASSIGN_OR_RETURN(MemoryPlan plan, PlanMemory(mem_space, file_space, n));
  if (n == 0) return Status::Ok();
  const StoredType& type = d.type();
  if (type.variable_string) {
    return ReadStrings(d, selection, plan, mem_type, dxpl, static_cast<char*>(buf));
  }
  htri_t same = H5Tequal(type.engine_type.get(), mem_type);
  if (same < 0) return Hdf5CallFailed("comparing the memory type with the dataset's type");
  const size_t src_size = type.size;
  const size_t dst_size = H5Tget_size(mem_type);
  if (dst_size == 0) return Hdf5CallFailed("reading the memory type");
  char* out = static_cast<char*>(buf);
  if (!same && type.has_compound) {
    // Members the memory type has and the dataset lacks keep the application's values, as in
    // HDF5: they are the conversion's background.
    std::vector<char> background(n * dst_size);
    NIMBUS_RETURN_IF_ERROR(Gather(plan, dst_size, n, out, background.data()));
    std::vector<char> temp(n * std::max(src_size, dst_size));
    NIMBUS_RETURN_IF_ERROR(d.array().Read(selection, temp.data()));
    NIMBUS_RETURN_IF_ERROR(
        ConvertToMemory(type, mem_type, n, temp.data(), dxpl, background.data()));
    return Scatter(plan, dst_size, n, temp.data(), out);
  }
  if (plan.contiguous && (same || dst_size >= src_size)) {
    // In place: read, then (if needed) widen in the application's buffer.
    char* target = out + plan.offset * dst_size;
    NIMBUS_RETURN_IF_ERROR(d.array().Read(selection, target));
    return same ? Status::Ok() : ConvertToMemory(type, mem_type, n, target, dxpl);
  }
  std::vector<char> temp(n * std::max(src_size, dst_size));
  NIMBUS_RETURN_IF_ERROR(d.array().Read(selection, temp.data()));
  if (!same) NIMBUS_RETURN_IF_ERROR(ConvertToMemory(type, mem_type, n, temp.data(), dxpl));
  return Scatter(plan, dst_size, n, temp.data(), out);
}

Status WriteOne(Dataset& d, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl,
                const void* buf) {
  NIMBUS_RETURN_IF_ERROR(d.file().CheckWritable("write dataset '/" + d.path() + "'"));
  NIMBUS_ASSIGN_OR_RETURN(zarr::Selection selection, FileSelection(file_space, d.array().shape()));
  const uint64_t n = selection.num_elements();
  if (n > 0 && buf == nullptr) return InvalidArgumentError("H5Dwrite: buffer is NULL");
  NIMBUS_ASSIGN_OR_RETURN(MemoryPlan plan, PlanMemory(mem_space, file_space, n));
  if (n == 0) return Status::Ok();
  const StoredType& type = d.type();
  if (type.variable_string) {
    return WriteStrings(d, selection, plan, mem_type, dxpl, static_cast<const char*>(buf));
  }
  htri_t same = H5Tequal(type.engine_type.get(), mem_type);
  if (same < 0) return Hdf5CallFailed("comparing the memory type with the dataset's type");
  const size_t dst_size = type.size;
  const size_t src_size = H5Tget_size(mem_type);
  const char* in = static_cast<const char*>(buf);
  if (plan.contiguous && same) {
    return d.array().Write(selection, in + plan.offset * src_size);
  }
  std::vector<char> temp(n * std::max(src_size, dst_size));
  NIMBUS_RETURN_IF_ERROR(Gather(plan, src_size, n, in, temp.data()));
  std::vector<char> background;
  if (!same && type.has_compound) {
    // Writing some members of a record (h5py: dset["field"] = ...) keeps the others: start from
    // the stored values.
    background.assign(n * dst_size, '\0');
    if (ConversionNeedsOldValues(mem_type, type.engine_type.get())) {
      NIMBUS_RETURN_IF_ERROR(d.array().Read(selection, background.data()));
    }
  }
  if (!same && H5Tconvert(mem_type, type.engine_type.get(), n, temp.data(),
                          background.empty() ? nullptr : background.data(), dxpl) < 0) {
    return Status(ErrorKind::kInvalidArgument, "cannot convert the memory type to " +
                                                   TypeSummary(type.description));
  }
  return d.array().Write(selection, temp.data());
}

// ---------------------------------------------------------------------------------------------
// Property lists reported back

Result<hid_t> MakeDcpl(Dataset& d) {
  Hid dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (!dcpl.valid()) return Hdf5CallFailed("creating a dataset creation property list");
  const DatasetFacts& facts = d.facts();
  const auto& md = d.array().metadata();
  herr_t ok = 0;
  if (facts.layout == "chunked" && !md.shape.empty()) {
    std::vector<hsize_t> chunk(md.chunk_shape.begin(), md.chunk_shape.end());
    ok = H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
  } else {
    ok = H5Pset_layout(dcpl.get(), facts.layout == "compact" ? H5D_COMPACT : H5D_CONTIGUOUS);
  }
  if (ok < 0) return Hdf5CallFailed("describing the dataset layout");
  for (const json& f : facts.filters) {
    const auto id = static_cast<H5Z_filter_t>(f.value("id", 0));
    if (f.contains("cd_values")) {
      // Exactly what the application set (flags and client data), so H5Pget_filter (h5py's
      // compression, compression_opts, shuffle, fletcher32) reports it back unchanged.
      std::vector<unsigned> cd_values = f["cd_values"].get<std::vector<unsigned>>();
      ok = H5Pset_filter(dcpl.get(), id, f.value("flags", 0u), cd_values.size(),
                         cd_values.empty() ? nullptr : cd_values.data());
    } else if (id == H5Z_FILTER_DEFLATE) {  // format 1 records before cd_values were kept
      ok = H5Pset_deflate(dcpl.get(), static_cast<unsigned>(f.value("level", 6)));
    } else if (id == H5Z_FILTER_SHUFFLE) {
      ok = H5Pset_shuffle(dcpl.get());
    } else {
      unsigned level = static_cast<unsigned>(f.value("level", 0));
      ok = H5Pset_filter(dcpl.get(), id, H5Z_FLAG_OPTIONAL, 1, &level);
    }
    if (ok < 0) return Hdf5CallFailed("describing the dataset's filters");
  }
  if (facts.fill_value == "user") {
    const char* text = md.fill_value.c_str();  // vlen strings: the value is a char*
    const void* value = d.type().variable_string ? static_cast<const void*>(&text)
                                                 : static_cast<const void*>(md.fill_value.data());
    if (H5Pset_fill_value(dcpl.get(), d.type().engine_type.get(), value) < 0) {
      return Hdf5CallFailed("describing the fill value");
    }
  } else if (facts.fill_value == "undefined") {
    H5Pset_fill_value(dcpl.get(), d.type().engine_type.get(), nullptr);
  }
  H5Pset_obj_track_times(dcpl.get(), false);  // nimbus records no object times
  return dcpl.release();
}

// H5Dget_storage_size: the bytes of the chunk objects the dataset has in the store (encoded, so
// after compression), i.e. every object under the array's prefix but its zarr.json. Chunks never
// written, or entirely fill, have no object and count nothing, as unallocated chunks in HDF5.
Result<hsize_t> StoredChunkBytes(Dataset& d) {
  store::ObjectStore& store = d.anonymous() ? *d.staging() : d.file().store();
  const std::string prefix = d.path().empty() ? "" : d.path() + "/";
  auto listed = store.ListSync(store::ListOptions{prefix, "", 1000});
  if (!listed.ok()) {
    return listed.status().WithContext("listing the chunks of dataset '/" + d.path() + "'");
  }
  hsize_t total = 0;
  for (const store::ObjectInfo& o : listed->objects) {
    if (o.key != prefix + "zarr.json") total += o.size;
  }
  return total;
}

Result<hid_t> MakeSpace(Dataset& d) {
  const auto& shape = d.array().shape();
  if (shape.empty()) {
    hid_t s = H5Screate(H5S_SCALAR);
    if (s < 0) return Hdf5CallFailed("creating a dataspace");
    return s;
  }
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  std::vector<hsize_t> maxdims;
  for (size_t i = 0; i < shape.size(); ++i) {
    const auto& m = i < d.facts().maxshape.size() ? d.facts().maxshape[i]
                                                  : std::optional<uint64_t>(shape[i]);
    maxdims.push_back(m ? std::max<hsize_t>(*m, dims[i]) : H5S_UNLIMITED);
  }
  hid_t s = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxdims.data());
  if (s < 0) return Hdf5CallFailed("creating a dataspace");
  return s;
}

Status SetExtent(Dataset& d, const hsize_t* size) {
  NIMBUS_RETURN_IF_ERROR(d.file().CheckWritable("resize dataset '/" + d.path() + "'"));
  if (d.facts().layout != "chunked") {
    // As in HDF5 (H5D__set_extent): only chunked datasets change their extent.
    return InvalidArgumentError("cannot resize dataset '/" + d.path() + "': it has " +
                                d.facts().layout + " storage; only chunked datasets can be resized");
  }
  const auto& shape = d.array().shape();
  std::vector<uint64_t> new_shape(size, size + shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    const auto& m = d.facts().maxshape[i];
    if (m && new_shape[i] > *m) {
      return InvalidArgumentError("cannot resize dataset '/" + d.path() + "': dimension " +
                                  std::to_string(i) + " would be " + std::to_string(new_shape[i]) +
                                  ", beyond its maximum " + std::to_string(*m));
    }
  }
  return d.array().Resize(new_shape);
}

// A copy of the application's dataset access property list, kept for H5Dget_access_plist
// (none for H5P_DEFAULT).
Result<Hid> CopyDapl(hid_t dapl_id) {
  if (dapl_id == H5P_DEFAULT || dapl_id == H5P_DATASET_ACCESS_DEFAULT) return Hid();
  Hid copy(H5Pcopy(dapl_id));
  if (!copy.valid()) return Hdf5CallFailed("copying the dataset access property list");
  return copy;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Callbacks

void* DatasetCreate(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t lcpl_id,
                    hid_t type_id, hid_t space_id, hid_t dcpl_id, hid_t dapl_id, hid_t, void**) {
  return GuardPointer<Object>(__func__, {H5E_DATASET, H5E_CANTCREATE}, [&]() -> Result<Object*> {
    NIMBUS_RETURN_IF_ERROR(CheckAccessList(dapl_id, "dataset access"));
    NIMBUS_ASSIGN_OR_RETURN(Hid dapl, CopyDapl(dapl_id));
    NIMBUS_ASSIGN_OR_RETURN(Dataset * d, CreateDataset(AsObject(obj), loc, name, lcpl_id, type_id,
                                                       space_id, dcpl_id));
    d->set_dapl(std::move(dapl));
    return static_cast<Object*>(d);
  });
}

void* DatasetOpen(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t dapl_id, hid_t,
                  void**) {
  return GuardPointer<Object>(__func__, {H5E_DATASET, H5E_CANTOPENOBJ}, [&]() -> Result<Object*> {
    NIMBUS_RETURN_IF_ERROR(CheckAccessList(dapl_id, "dataset access"));
    NIMBUS_ASSIGN_OR_RETURN(Hid dapl, CopyDapl(dapl_id));
    Object& base = AsObject(obj);
    NIMBUS_ASSIGN_OR_RETURN(std::string where, LocatedPath(base, loc));
    NIMBUS_ASSIGN_OR_RETURN(std::string path, ResolvePath(where, name));
    NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, LookupNode(base.file(), path));
    if (kind == NodeKind::kMissing) {
      return Status(ErrorKind::kNotFound, "dataset '/" + path + "' doesn't exist");
    }
    if (kind == NodeKind::kGroup) return InvalidArgumentError("'/" + path + "' is a group");
    NIMBUS_ASSIGN_OR_RETURN(Dataset * d, OpenDataset(base.file(), path));
    d->set_dapl(std::move(dapl));
    return static_cast<Object*>(d);
  });
}

herr_t DatasetRead(size_t count, void* dset[], hid_t mem_type_id[], hid_t mem_space_id[],
                   hid_t file_space_id[], hid_t dxpl_id, void* buf[], void**) {
  return GuardStatus(__func__, {H5E_DATASET, H5E_READERROR}, [&]() -> Status {
    for (size_t i = 0; i < count; ++i) {
      auto& d = static_cast<Dataset&>(AsObject(dset[i]));
      NIMBUS_RETURN_IF_ERROR(
          ReadOne(d, mem_type_id[i], mem_space_id[i], file_space_id[i], dxpl_id, buf[i])
              .WithContext("reading dataset '/" + d.path() + "' of file '" + d.file().name() +
                           "'"));
    }
    return Status::Ok();
  });
}

herr_t DatasetWrite(size_t count, void* dset[], hid_t mem_type_id[], hid_t mem_space_id[],
                    hid_t file_space_id[], hid_t dxpl_id, const void* buf[], void**) {
  return GuardStatus(__func__, {H5E_DATASET, H5E_WRITEERROR}, [&]() -> Status {
    for (size_t i = 0; i < count; ++i) {
      auto& d = static_cast<Dataset&>(AsObject(dset[i]));
      NIMBUS_RETURN_IF_ERROR(
          WriteOne(d, mem_type_id[i], mem_space_id[i], file_space_id[i], dxpl_id, buf[i])
              .WithContext("writing dataset '/" + d.path() + "' of file '" + d.file().name() +
                           "'"));
    }
    return Status::Ok();
  });
}

herr_t DatasetGet(void* obj, H5VL_dataset_get_args_t* args, hid_t, void**) {
  return GuardStatus(__func__, {H5E_DATASET, H5E_CANTGET}, [&]() -> Status {
    auto& d = static_cast<Dataset&>(AsObject(obj));
    switch (args->op_type) {
      case H5VL_DATASET_GET_DAPL: {
        // The list the dataset was created or opened with, as native does.
        hid_t dapl = d.dapl() >= 0 ? H5Pcopy(d.dapl()) : H5Pcreate(H5P_DATASET_ACCESS);
        if (dapl < 0) return Hdf5CallFailed("creating a dataset access property list");
        args->args.get_dapl.dapl_id = dapl;
        return Status::Ok();
      }
      case H5VL_DATASET_GET_DCPL: {
        NIMBUS_ASSIGN_OR_RETURN(args->args.get_dcpl.dcpl_id, MakeDcpl(d));
        return Status::Ok();
      }
      case H5VL_DATASET_GET_SPACE: {
        NIMBUS_ASSIGN_OR_RETURN(args->args.get_space.space_id, MakeSpace(d));
        return Status::Ok();
      }
      case H5VL_DATASET_GET_SPACE_STATUS:
        // Chunks exist only where data was written; reads elsewhere give the fill value.
        *args->args.get_space_status.status = H5D_SPACE_STATUS_ALLOCATED;
        return Status::Ok();
      case H5VL_DATASET_GET_STORAGE_SIZE: {
        NIMBUS_ASSIGN_OR_RETURN(*args->args.get_storage_size.storage_size, StoredChunkBytes(d));
        return Status::Ok();
      }
      case H5VL_DATASET_GET_TYPE: {
        hid_t t = H5Tcopy(d.type().file_type.get());
        if (t < 0) return Hdf5CallFailed("copying the dataset's datatype");
        args->args.get_type.type_id = t;
        return Status::Ok();
      }
    }
    return UnimplementedError("dataset get operation not supported by nimbus");
  });
}

herr_t DatasetSpecific(void* obj, H5VL_dataset_specific_args_t* args, hid_t, void**) {
  return GuardStatus(__func__, {H5E_DATASET, H5E_CANTSET}, [&]() -> Status {
    auto& d = static_cast<Dataset&>(AsObject(obj));
    switch (args->op_type) {
      case H5VL_DATASET_SET_EXTENT:
        return SetExtent(d, args->args.set_extent.size);
      case H5VL_DATASET_FLUSH:
        return Status::Ok();
      case H5VL_DATASET_REFRESH:
        return d.array().Refresh();
    }
    return UnimplementedError("dataset operation not supported by nimbus");
  });
}

herr_t DatasetOptional(void*, H5VL_optional_args_t* args, hid_t, void**) {
  return GuardStatus(__func__, {H5E_DATASET, H5E_UNSUPPORTED}, [&]() -> Status {
    return UnimplementedError("native-only dataset operation " + std::to_string(args->op_type) +
                              " (direct chunk I/O, chunk queries, H5Dget_offset) is not "
                              "supported by nimbus");
  });
}

herr_t DatasetClose(void* dset, hid_t, void**) {
  return GuardStatus(__func__, {H5E_DATASET, H5E_CLOSEERROR}, [&]() -> Status {
    delete &AsObject(dset);
    return Status::Ok();
  });
}

}  // namespace nimbus::vol
