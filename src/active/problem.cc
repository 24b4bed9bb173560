#include "active/problem.h"

#include <nlohmann/json.hpp>

namespace nimbus::active {
namespace {

// Marks statuses made by MakeProblem: a lower layer's Status also carries an http_status (the
// upstream's), which must never be mistaken for the status to answer.
constexpr std::string_view kMarker = "\x1e";

ErrorKind KindFor(int http_status) {
  if (http_status == 401 || http_status == 403) return ErrorKind::kAccessDenied;
  if (http_status == 404) return ErrorKind::kNotFound;
  if (http_status == 429 || http_status == 503) return ErrorKind::kThrottled;
  if (http_status >= 500) return ErrorKind::kPermanent;
  return ErrorKind::kInvalidArgument;
}

std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

Status MakeProblem(int http_status, std::string_view message,
                   const std::vector<std::string>& causes) {
  std::string text(kMarker);
  text += OneLine(message);
  for (const auto& cause : causes) {
    text += '\n';
    text += OneLine(cause);
  }
  return Status(KindFor(http_status), std::move(text), http_status);
}

Status InvalidRequest(const std::vector<std::string>& causes) {
  return MakeProblem(400, "request data is not valid", causes);
}

Problem ToProblem(const Status& status) {
  Problem problem;
  std::string_view text = status.message();
  if (text.substr(0, kMarker.size()) != kMarker || status.http_status() == 0) {
    problem.http_status = 500;
    problem.message = "internal server error";
    problem.caused_by.push_back(status.ToString());
    return problem;
  }
  text.remove_prefix(kMarker.size());
  problem.http_status = status.http_status();
  size_t eol = text.find('\n');
  problem.message = std::string(text.substr(0, eol));
  while (eol != std::string_view::npos) {
    text.remove_prefix(eol + 1);
    eol = text.find('\n');
    problem.caused_by.emplace_back(text.substr(0, eol));
  }
  return problem;
}

std::string ProblemBody(const Problem& problem) {
  nlohmann::json error = {{"message", problem.message}};
  if (!problem.caused_by.empty()) {
    // Consecutive duplicates dropped. (Compared as strings: GCC 12 at -O3 reports a false
    // -Warray-bounds inside nlohmann::json's operator==.)
    nlohmann::json causes = nlohmann::json::array();
    const std::string* previous = nullptr;
    for (const auto& cause : problem.caused_by) {
      if (previous != nullptr && *previous == cause) continue;
      causes.push_back(cause);
      previous = &cause;
    }
    error["caused_by"] = std::move(causes);
  }
  return nlohmann::json{{"error", std::move(error)}}.dump(2, ' ', false,
                                                          nlohmann::json::error_handler_t::replace);
}

}  // namespace nimbus::active
