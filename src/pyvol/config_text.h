// The connector string after the connector name: "module=m;class=C;path=/dir;python=...;
// libpython=...". Items are split on ';', keys on the first '='; surrounding blanks are ignored.
// Unknown keys are kept (and ignored), so newer strings still work with older builds.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace nimbus::pyvol {

class ConfigText {
 public:
  explicit ConfigText(std::string_view text) {
    while (!text.empty()) {
      size_t end = text.find(';');
      std::string_view item = text.substr(0, end);
      text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
      size_t eq = item.find('=');
      if (eq == std::string_view::npos) continue;
      items_[Trim(item.substr(0, eq))] = Trim(item.substr(eq + 1));
    }
  }
  std::string Get(const std::string& key) const {
    auto it = items_.find(key);
    return it == items_.end() ? std::string() : it->second;
  }
  void Set(const std::string& key, const std::string& value) { items_[key] = value; }

 private:
  static std::string Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
  }
  std::map<std::string, std::string> items_;
};

}  // namespace nimbus::pyvol
