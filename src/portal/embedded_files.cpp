#include "portal/embedded_files.hpp"

#include <array>
#include <utility>

namespace webstream::portal {

const EmbeddedFile* find_embedded_file(std::string_view name) {
  for (const auto& file : embedded_files()) {
    if (file.name == name) return &file;
  }
  return nullptr;
}

std::string_view content_type_for(std::string_view name) {
  // Text types carry their charset: the portal's files are UTF-8.
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".webmanifest", "application/manifest+json"},
  }};
  for (const auto& [extension, type] : kTypes) {
    if (name.size() > extension.size() && name.ends_with(extension)) return type;
  }
  return "application/octet-stream";
}

}  // namespace webstream::portal
