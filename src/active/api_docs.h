// The service's self-description: the OpenAPI 3 document of both API versions (/openapi.json) and
// a self-contained HTML reference rendered from it (/redoc/: no scripts, no external resources).
#pragma once

#include <string>

namespace nimbus::active {

const std::string& OpenApiJson();
const std::string& ApiReferenceHtml();

}  // namespace nimbus::active
