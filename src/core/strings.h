// Small string helpers shared by the config parsers and the protocol drivers.
#pragma once

#include <string>
#include <string_view>

namespace nimbus {

// Without leading and trailing spaces, tabs, CR and LF.
inline std::string_view TrimWhitespace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// ASCII lower case (HTTP header names, config keys); other bytes unchanged, locale ignored.
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace nimbus
