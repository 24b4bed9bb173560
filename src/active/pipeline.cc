#include "active/pipeline.h"

#include "active/cbor.h"
#include "active/decode.h"
#include "active/problem.h"
#include "core/strings.h"

namespace nimbus::active {
namespace {

std::string CompactList(const auto& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(values[i]);
  }
  return out + "]";
}

bool KeepsWholeSelection(const ActiveRequest& r) {
  return r.operation == Operation::kSelect || (r.axis && r.axis->empty());
}

// Bytes held at the peak per decoded byte, besides the decoded buffer itself.
uint64_t PeakPerDecodedByte(const ActiveRequest& r) {
  uint64_t factor = 1;                            // the decoded array
  if (!r.filters.empty()) factor += 1;            // unshuffle writes a second buffer
  if (r.dtype == DType::kFloat16) factor += 2;    // widened to float32
  if (KeepsWholeSelection(r)) factor += r.dtype == DType::kFloat16 ? 3 : 1;  // the result
  return factor;
}

}  // namespace

HttpAnswer ProblemAnswer(const Status& status) {
  Problem problem = ToProblem(status);
  HttpAnswer answer;
  answer.status = problem.http_status;
  answer.content_type = "application/json";
  answer.body = ProblemBody(problem);
  if (answer.status == 503) answer.headers.emplace_back("retry-after", "1");
  return answer;
}

uint64_t PeakBytesEstimate(const ActiveRequest& r) {
  uint64_t peak = 0;
  if (auto decoded = r.ExpectedDecodedSize()) peak += *decoded * PeakPerDecodedByte(r);
  // A compressed download lives beside its decoded bytes until decompression ends.
  if (r.compression != Compression::kNone && r.size) peak += *r.size;
  if (!r.ExpectedDecodedSize() && r.compression == Compression::kNone && r.size) {
    peak += *r.size * PeakPerDecodedByte(r);
  }
  return peak;
}

Result<ReductionResult> Compute(const ActiveRequest& r, Buffer fetched,
                                MemoryReservation& reservation, uint64_t memory_limit,
                                Metrics* metrics) {
  const size_t itemsize = DTypeSize(r.dtype);
  const bool decoded_known = r.ExpectedDecodedSize().has_value() ||
                             (r.compression == Compression::kNone && r.size.has_value());
  auto grow = [&](uint64_t bytes) -> Status {
    if (reservation.TryGrow(bytes)) return Status::Ok();
    if (reservation.bytes() + bytes > memory_limit) {
      return MakeProblem(400, "Insufficient memory to process request (" +
                                  std::to_string(reservation.bytes() + bytes) + " > " +
                                  std::to_string(memory_limit) + ")");
    }
    return MakeProblem(503, "server busy: memory budget exhausted",
                       {"the decoded data needs " + std::to_string(bytes) +
                        " more bytes than were reserved; retry later"});
  };
  if (!decoded_known && r.compression != Compression::kNone && !r.size) {
    NIMBUS_RETURN_IF_ERROR(grow(fetched.size()));  // the download was of unknown size
  }

  // 1. Decompress.
  Buffer data;
  if (r.compression != Compression::kNone) {
    NIMBUS_ASSIGN_OR_RETURN(data, Decompress(r.compression, std::move(fetched),
                                             r.ExpectedDecodedSize(), memory_limit));
  } else {
    data = std::move(fetched);
  }
  if (!decoded_known) NIMBUS_RETURN_IF_ERROR(grow(data.size() * PeakPerDecodedByte(r)));

  // 2. Undo the filters, last first.
  for (auto it = r.filters.rbegin(); it != r.filters.rend(); ++it) {
    NIMBUS_ASSIGN_OR_RETURN(data, Unshuffle(std::move(data), it->element_size));
  }
  if (metrics) metrics->BytesDecoded(data.size());

  // 3. The decoded size must match the shape (or be whole elements without one).
  std::vector<uint64_t> shape;
  if (r.shape) {
    shape = *r.shape;
    if (data.size() != *r.ExpectedDecodedSize()) {
      return MakeProblem(400, "failed to create array from shape",
                         {"decoded data has " + std::to_string(data.size()) +
                          " bytes; shape and dtype need " +
                          std::to_string(*r.ExpectedDecodedSize())});
    }
  } else {
    if (data.size() % itemsize != 0) {
      return MakeProblem(400, "failed to create array from shape",
                         {"decoded data has " + std::to_string(data.size()) +
                          " bytes, not a whole number of " + std::string(DTypeName(r.dtype)) +
                          " elements"});
    }
    shape = {data.size() / itemsize};
  }

  // 4. Native byte order.
  if (r.byte_order != kNativeByteOrder) ByteSwapInPlace(data, itemsize);

  // 5. Select and reduce.
  StridedView view = MakeView(shape, r.fortran_order, r.selection);
  return Reduce(r.operation, r.dtype, data.data(), data.size() / itemsize, view, r.axis,
                r.fortran_order, r.missing);
}

std::optional<V1CountHeader> ParseV1CountHeader(std::string_view name) {
  if (name == "list") return V1CountHeader::kList;
  if (name == "scalar") return V1CountHeader::kScalar;
  return std::nullopt;
}

HttpAnswer EncodeResult(const ActiveRequest& r, const ReductionResult& result,
                        V1CountHeader v1_count_header) {
  HttpAnswer answer;
  if (r.version == ApiVersion::kV1) {
    // Scalar form: what 0.2-0.10 sent. Those versions had no `axis`, so every request their
    // clients make has one count; results with several (axis reductions) keep the list.
    const bool scalar = v1_count_header == V1CountHeader::kScalar && result.counts.size() == 1;
    answer.content_type = "application/octet-stream";
    answer.headers = {{"x-activestorage-dtype", std::string(DTypeName(result.dtype))},
                      {"x-activestorage-shape", CompactList(result.shape)},
                      {"x-activestorage-count", scalar ? std::to_string(result.counts[0])
                                                       : CompactList(result.counts)},
                      {"x-activestorage-byte-order", std::string(ByteOrderName(kNativeByteOrder))}};
    answer.body.assign(result.bytes.data(), result.bytes.size());
    return answer;
  }
  answer.content_type = "application/cbor";
  CborWriter cbor;
  cbor.Reserve(result.bytes.size() + 128 + 9 * (result.shape.size() + result.counts.size()));
  cbor.Map(7);
  cbor.Text("bytes");
  cbor.Bytes(result.bytes.view());
  cbor.Text("dtype");
  cbor.Text(DTypeName(result.dtype));
  cbor.Text("shape");
  if (r.option_shape_as_bytes) {
    cbor.Array(0);
  } else {
    cbor.Array(result.shape.size());
    for (uint64_t d : result.shape) cbor.Uint(d);
  }
  cbor.Text("shape_as_bytes");
  cbor.Bytes(r.option_shape_as_bytes
                 ? std::string_view(reinterpret_cast<const char*>(result.shape.data()),
                                    result.shape.size() * sizeof(uint64_t))
                 : std::string_view());
  cbor.Text("count");
  if (r.option_count_as_bytes) {
    cbor.Array(0);
  } else {
    cbor.Array(result.counts.size());
    for (int64_t c : result.counts) cbor.Int(c);
  }
  cbor.Text("count_as_bytes");
  cbor.Bytes(r.option_count_as_bytes
                 ? std::string_view(reinterpret_cast<const char*>(result.counts.data()),
                                    result.counts.size() * sizeof(int64_t))
                 : std::string_view());
  cbor.Text("byte_order");
  cbor.Text(ByteOrderName(kNativeByteOrder));
  answer.body = cbor.Take();
  return answer;
}

Pipeline::Pipeline(PipelineOptions options, std::shared_ptr<Fetcher> fetcher,
                   std::shared_ptr<MemoryBudget> budget, std::shared_ptr<ThreadPool> workers,
                   std::shared_ptr<Metrics> metrics)
    : options_(options),
      fetcher_(std::move(fetcher)),
      budget_(std::move(budget)),
      workers_(std::move(workers)),
      metrics_(std::move(metrics)) {}

void Pipeline::Run(ApiVersion version, std::string_view operation_name,
                   std::string_view content_type, std::string_view authorization,
                   std::string body, std::function<void(HttpAnswer)> done) {
  std::optional<Operation> operation = ParseOperation(operation_name);
  if (!operation) {
    // The body is not parsed for an unknown operation (Reductionist).
    return done(ProblemAnswer(
        MakeProblem(404, "unsupported operation " + std::string(operation_name),
                    {"supported operations are count, min, max, sum and select"})));
  }
  const std::string_view api = version == ApiVersion::kV1 ? "v1" : "v2";
  const auto started = std::chrono::steady_clock::now();
  metrics_->RequestStarted(api, operation_name);
  // Every answer from here on goes through `finish`, which records the latency.
  auto finish = [metrics = metrics_, api, started, done = std::move(done)](HttpAnswer answer) {
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    metrics->RequestFinished(api, elapsed.count());
    done(std::move(answer));
  };

  std::string_view media_type = TrimWhitespace(content_type.substr(0, content_type.find(';')));
  if (AsciiLower(media_type) != "application/json") {
    return finish(ProblemAnswer(InvalidRequest(
        {"Content-Type: expected `application/json`, got `" + std::string(content_type) + "`"})));
  }
  Result<ActiveRequest> parsed = ParseRequest(body, version, *operation);
  if (!parsed.ok()) return finish(ProblemAnswer(parsed.status()));
  auto credentials = ParseBasicAuthorization(authorization);
  if (!credentials.ok()) return finish(ProblemAnswer(credentials.status()));

  auto request = std::make_shared<const ActiveRequest>(std::move(*parsed));
  auto creds = std::make_shared<const std::optional<BasicCredentials>>(std::move(*credentials));
  const uint64_t peak = PeakBytesEstimate(*request);
  auto finish_shared = std::make_shared<decltype(finish)>(std::move(finish));
  auto deadline = std::chrono::steady_clock::now() + options_.memory_wait;

  // The continuations own what they use (never `this`), so a request still running when the
  // server stops cannot reach a destroyed pipeline.
  const V1CountHeader count_form = options_.v1_count_header;
  budget_->Acquire(peak, deadline, [fetcher = fetcher_, workers = workers_, metrics = metrics_,
                                    budget = budget_, request, creds, finish_shared, count_form](
                                       Result<MemoryReservation> granted) {
    if (!granted.ok()) return (*finish_shared)(ProblemAnswer(granted.status()));
    auto reservation = std::make_shared<MemoryReservation>(std::move(*granted));
    fetcher->Fetch(*request, *creds)
        .Then([workers, metrics, budget, request, reservation, finish_shared, count_form](
                  Result<Buffer>& fetched) {
          if (!fetched.ok()) return (*finish_shared)(ProblemAnswer(fetched.status()));
          metrics->BytesFetched(fetched->size());
          auto data = std::make_shared<Buffer>(std::move(*fetched));
          // Off the HTTP client's loop: decoding and reducing are the CPU-heavy part.
          workers->Submit([metrics, budget, request, reservation, finish_shared, data,
                           count_form]() {
            Result<ReductionResult> result =
                Compute(*request, std::move(*data), *reservation, budget->limit(), metrics.get());
            HttpAnswer answer = result.ok() ? EncodeResult(*request, *result, count_form)
                                            : ProblemAnswer(result.status());
            if (result.ok()) metrics->BytesReturned(result->bytes.size());
            answer.hold = reservation;  // released once the response is on the wire
            (*finish_shared)(std::move(answer));
          });
        });
  });
}

}  // namespace nimbus::active
