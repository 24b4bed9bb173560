#include "active/api_docs.h"

#include <nlohmann/json.hpp>

#include "active/dtype.h"

namespace nimbus::active {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kOperations[] = {"count", "min", "max", "sum", "select"};

std::vector<std::string> DTypeNames() {
  std::vector<std::string> names;
  for (DType d : kAllDTypes) names.emplace_back(DTypeName(d));
  return names;
}

Json Nullable(Json schema) {
  schema["nullable"] = true;
  return schema;
}

Json CommonProperties() {
  Json slice = {{"oneOf",
                 Json::array({Json{{"type", "array"},
                                   {"items", {{"type", "integer"}}},
                                   {"minItems", 3},
                                   {"maxItems", 3},
                                   {"description", "[start, end, stride]"}},
                              Json{{"type", "object"},
                                   {"properties",
                                    {{"start", {{"type", "integer"}}},
                                     {"end", {{"type", "integer"}}},
                                     {"stride", {{"type", "integer"}}}}},
                                   {"required", {"start", "end", "stride"}},
                                   {"additionalProperties", false}}})}};
  return {
      {"dtype", {{"type", "string"}, {"enum", DTypeNames()},
                 {"description", "Element type. int8, int16, uint8, uint16 and float16 are nimbus "
                                 "extensions."}}},
      {"byte_order", Nullable({{"type", "string"}, {"enum", {"big", "little"}},
                               {"description", "Byte order of the stored data (default native)."}})},
      {"offset", Nullable({{"type", "integer"}, {"minimum", 0},
                           {"description", "First byte of the data in the object (default 0)."}})},
      {"size", Nullable({{"type", "integer"}, {"minimum", 1},
                         {"description", "Bytes to read, as stored (default: to the end)."}})},
      {"shape", Nullable({{"type", "array"}, {"items", {{"type", "integer"}, {"minimum", 1}}},
                          {"minItems", 1}})},
      {"order", Nullable({{"type", "string"}, {"enum", {"C", "F"}}})},
      {"selection", Nullable({{"type", "array"}, {"items", slice}, {"minItems", 1},
                              {"description", "NumPy basic slicing per dimension; needs shape."}})},
      {"axis", Nullable({{"oneOf", Json::array({Json{{"type", "integer"}, {"minimum", 0}},
                                                Json{{"type", "array"},
                                                     {"items", {{"type", "integer"},
                                                                {"minimum", 0}}}}})},
                         {"description", "Axes to reduce over (ascending); [] reduces none; "
                                         "absent or null reduces all. Needs shape."}})},
      {"compression", Nullable({{"type", "object"},
                                {"properties", {{"id", {{"type", "string"},
                                                        {"enum", {"gzip", "zlib", "blosc2",
                                                                  "zstd", "blosc"}}}}}},
                                {"required", {"id"}},
                                {"additionalProperties", false}})},
      {"filters", Nullable({{"type", "array"},
                            {"items", {{"type", "object"},
                                       {"properties",
                                        {{"id", {{"type", "string"},
                                                 {"enum", {"shuffle", "shuffle_simd"}}}},
                                         {"element_size", {{"type", "integer"}, {"minimum", 1}}}}},
                                       {"required", {"id", "element_size"}},
                                       {"additionalProperties", false}}}})},
      {"missing", Nullable({{"type", "object"},
                            {"description", "Exactly one of missing_value, missing_values, "
                                            "valid_min, valid_max, valid_range."},
                            {"properties", {{"missing_value", {{"type", "number"}}},
                                            {"missing_values", {{"type", "array"},
                                                                {"items", {{"type", "number"}}}}},
                                            {"valid_min", {{"type", "number"}}},
                                            {"valid_max", {{"type", "number"}}},
                                            {"valid_range", {{"type", "array"},
                                                             {"items", {{"type", "number"}}},
                                                             {"minItems", 2},
                                                             {"maxItems", 2}}}}},
                            {"minProperties", 1},
                            {"maxProperties", 1},
                            {"additionalProperties", false}})},
  };
}

Json BuildOpenApi() {
  Json v1 = {{"type", "object"}, {"additionalProperties", false},
             {"required", {"source", "bucket", "object", "dtype"}}};
  v1["properties"] = {{"source", {{"type", "string"}, {"format", "uri"},
                                  {"description", "S3 endpoint URL"}}},
                      {"bucket", {{"type", "string"}, {"minLength", 1}}},
                      {"object", {{"type", "string"}, {"minLength", 1}}}};
  const Json common = CommonProperties();
  for (auto it = common.begin(); it != common.end(); ++it) v1["properties"][it.key()] = it.value();

  Json v2 = {{"type", "object"}, {"additionalProperties", false},
             {"required", {"interface_type", "url", "dtype"}}};
  v2["properties"] = {
      {"interface_type", {{"type", "string"}, {"enum", {"s3", "http", "https"}}}},
      {"url", {{"type", "string"},
               {"description", "s3: http(s)://host[:port]/bucket/key (path style); "
                               "http/https: the object's URL"}}},
      {"option_disable_chunk_cache", Nullable({{"type", "boolean"}})},
      {"option_shape_as_bytes", Nullable({{"type", "boolean"}})},
      {"option_count_as_bytes", Nullable({{"type", "boolean"}})}};
  for (auto it = common.begin(); it != common.end(); ++it) v2["properties"][it.key()] = it.value();

  Json error = {{"type", "object"},
                {"properties",
                 {{"error", {{"type", "object"},
                             {"properties", {{"message", {{"type", "string"}}},
                                             {"caused_by", {{"type", "array"},
                                                            {"items", {{"type", "string"}}}}}}},
                             {"required", {"message"}}}}}}};
  Json cbor = {{"type", "object"},
               {"description", "CBOR map; every key always present"},
               {"properties", {{"bytes", {{"type", "string"}, {"format", "binary"}}},
                               {"dtype", {{"type", "string"}}},
                               {"shape", {{"type", "array"}, {"items", {{"type", "integer"}}}}},
                               {"shape_as_bytes", {{"type", "string"}, {"format", "binary"}}},
                               {"count", {{"type", "array"}, {"items", {{"type", "integer"}}}}},
                               {"count_as_bytes", {{"type", "string"}, {"format", "binary"}}},
                               {"byte_order", {{"type", "string"}, {"enum", {"little", "big"}}}}}}};

  Json doc = {{"openapi", "3.0.3"},
              {"info", {{"title", "nimbus-active"},
                        {"version", "1.0"},
                        {"description", "Active storage: reductions computed next to S3 data. "
                                        "Reductionist v1 (raw bytes + x-activestorage-* headers) "
                                        "and v2 (CBOR) APIs. Authenticate with HTTP Basic: the "
                                        "S3 access key and secret."}}},
              {"components",
               {{"schemas", {{"RequestV1", v1}, {"RequestV2", v2}, {"Error", error},
                             {"ResultV2", cbor}}},
                {"securitySchemes", {{"basic", {{"type", "http"}, {"scheme", "basic"}}}}}}},
              {"security", Json::array({Json{{"basic", Json::array()}}})}};
  Json errors = {
      {"400", {{"description", "Invalid request, upstream object missing, or undecodable data"},
               {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}},
      {"401", {{"description", "The store refused the credentials (Access Denied)"},
               {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}},
      {"503", {{"description", "Memory budget exhausted; retry later"},
               {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}},
      {"500", {{"description", "Upstream or internal fault"},
               {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}}};
  Json paths = Json::object();
  for (const char* op : kOperations) {
    for (int version = 1; version <= 2; ++version) {
      std::string path = "/v" + std::to_string(version) + "/" + op;
      Json responses = errors;
      if (version == 1) {
        responses["200"] = {
            {"description", "Raw little-endian result bytes"},
            {"headers", {{"x-activestorage-dtype", {{"schema", {{"type", "string"}}}}},
                         {"x-activestorage-shape", {{"schema", {{"type", "string"}}}}},
                         {"x-activestorage-count", {{"schema", {{"type", "string"}}}}},
                         {"x-activestorage-byte-order", {{"schema", {{"type", "string"}}}}}}},
            {"content", {{"application/octet-stream",
                          {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}};
      } else {
        responses["200"] = {{"description", "CBOR result map"},
                            {"content", {{"application/cbor",
                                          {{"schema", {{"$ref", "#/components/schemas/ResultV2"}}}}}}}};
      }
      paths[path] = {{"post",
                      {{"operationId", "v" + std::to_string(version) + "_" + op},
                       {"summary", std::string(op) + " (API v" + std::to_string(version) + ")"},
                       {"tags", {"v" + std::to_string(version)}},
                       {"requestBody",
                        {{"required", true},
                         {"content", {{"application/json",
                                       {{"schema", {{"$ref", "#/components/schemas/RequestV" +
                                                                 std::to_string(version)}}}}}}}}},
                       {"responses", responses}}}};
    }
  }
  auto get = [](const char* summary, const char* type) {
    return Json{{"get", {{"summary", summary},
                         {"responses", {{"200", {{"description", "OK"},
                                                 {"content", {{type, Json::object()}}}}}}}}}};
  };
  paths["/healthz"] = get("Liveness and readiness", "text/plain");
  paths["/.well-known/reductionist-schema"] = get("Readiness probe used by Reductionist tooling",
                                                  "text/plain");
  paths["/metrics"] = get("Prometheus metrics", "text/plain");
  paths["/openapi.json"] = get("This document", "application/json");
  paths["/redoc/"] = get("HTML API reference", "text/html");
  doc["paths"] = paths;
  return doc;
}

std::string Escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string SchemaTable(const Json& schema) {
  std::string html = "<table><thead><tr><th>field</th><th>required</th><th>schema</th>"
                     "<th>description</th></tr></thead><tbody>";
  const Json& properties = schema["properties"];
  for (auto it = properties.begin(); it != properties.end(); ++it) {
    const std::string& name = it.key();
    const Json& prop = it.value();
    bool required = false;
    if (schema.contains("required")) {
      for (const auto& r : schema.at("required")) required = required || r == name;
    }
    Json shown = prop;
    shown.erase("description");
    html += "<tr><td><code>" + Escape(name) + "</code></td><td>" + (required ? "yes" : "no") +
            "</td><td><code>" + Escape(shown.dump()) + "</code></td><td>" +
            Escape(prop.value("description", "")) + "</td></tr>";
  }
  return html + "</tbody></table>";
}

std::string BuildHtml(const Json& doc) {
  std::string html =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>nimbus-active API reference</title><style>"
      "body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em;color:#222}"
      "table{border-collapse:collapse;width:100%;margin:1em 0}"
      "td,th{border:1px solid #ccc;padding:.3em .5em;vertical-align:top;text-align:left}"
      "code{font-size:90%;word-break:break-word}.op{border-left:4px solid #36c;padding-left:1em;"
      "margin:2em 0}.method{font-weight:bold;color:#36c}</style></head><body>"
      "<h1>nimbus-active API reference</h1><p>" +
      Escape(doc["info"]["description"].get<std::string>()) +
      "</p><p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI 3).</p>"
      "<nav><h2>Operations</h2><ul>";
  const Json& paths = doc["paths"];
  for (auto p = paths.begin(); p != paths.end(); ++p) {
    const std::string& path = p.key();
    for (auto m = p.value().begin(); m != p.value().end(); ++m) {
      const std::string& method = m.key();
      const Json& op = m.value();
      std::string id = op.value("operationId", method + path);
      html += "<li><a href=\"#operation-" + Escape(id) + "\">" + Escape(method) + " " +
              Escape(path) + "</a></li>";
    }
  }
  html += "</ul></nav>";
  for (auto p = paths.begin(); p != paths.end(); ++p) {
    const std::string& path = p.key();
    for (auto m = p.value().begin(); m != p.value().end(); ++m) {
      const std::string& method = m.key();
      const Json& op = m.value();
      std::string id = op.value("operationId", method + path);
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      html += "<section class=\"op\" id=\"operation-" + Escape(id) + "\" data-method=\"" +
              Escape(upper) + "\" data-path=\"" + Escape(path) + "\"><h2><span class=\"method\">" +
              Escape(upper) + "</span> <code>" + Escape(path) + "</code></h2><p>" +
              Escape(op.value("summary", "")) + "</p>";
      if (op.contains("requestBody")) {
        std::string ref =
            op["requestBody"]["content"]["application/json"]["schema"]["$ref"].get<std::string>();
        std::string name = ref.substr(ref.rfind('/') + 1);
        html += "<h3>Request body (" + Escape(name) + ", application/json)</h3>" +
                SchemaTable(doc["components"]["schemas"][name]);
      }
      html += "<h3>Responses</h3><ul>";
      const Json& responses = op["responses"];
      for (auto r = responses.begin(); r != responses.end(); ++r) {
        const std::string& code = r.key();
        const Json& response = r.value();
        html += "<li><b>" + Escape(code) + "</b> " +
                Escape(response.value("description", "")) + "</li>";
      }
      html += "</ul></section>";
    }
  }
  html += "<section id=\"schema-ResultV2\"><h2>v2 result (CBOR map)</h2>" +
          SchemaTable(doc["components"]["schemas"]["ResultV2"]) +
          "</section><section id=\"schema-Error\"><h2>Error body</h2><p><code>"
          "{\"error\": {\"message\": \"...\", \"caused_by\": [\"...\"]}}</code></p></section>"
          "</body></html>";
  return html;
}

}  // namespace

const std::string& OpenApiJson() {
  static const std::string text = BuildOpenApi().dump(2);
  return text;
}

const std::string& ApiReferenceHtml() {
  static const std::string html = BuildHtml(Json::parse(OpenApiJson()));
  return html;
}

}  // namespace nimbus::active
