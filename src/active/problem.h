// How a failed request is answered: Reductionist's error body
//   {"error": {"message": "<top level>", "caused_by": ["<cause>", ..., "<root cause>"]}}
// with Content-Type exactly application/json. Inside the server errors travel as core Status
// values; a Status made by MakeProblem carries the HTTP status to answer (Status::http_status)
// and its message is the top-level message followed by the causes, one per line. Statuses from
// lower layers (store, codecs) are turned into problems at the stage that called them
// (FetchProblem, ...), so each stage names what failed in Reductionist's words.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace nimbus::active {

struct Problem {
  int http_status = 500;
  std::string message;
  std::vector<std::string> caused_by;
};

// A Status that the edge answers with `http_status`, `message` and `causes`.
Status MakeProblem(int http_status, std::string_view message,
                   const std::vector<std::string>& causes = {});

// 400 "request data is not valid" with the validation messages as causes.
Status InvalidRequest(const std::vector<std::string>& causes);

// The problem a Status stands for: MakeProblem statuses as made; any other Status is an internal
// fault (500) whose message becomes the cause.
Problem ToProblem(const Status& status);

// The JSON body (pretty-printed as Reductionist does; consecutive duplicate causes removed).
std::string ProblemBody(const Problem& problem);

}  // namespace nimbus::active
