#pragma once
// The portal's web files (web/portal/*), compiled into the binary by embed_files.cmake so the gateway
// serves its page with no files on disk and no external tools at build time.
//
// Thread rules: the table is immutable static data; every function here is safe from any thread.
#include <span>
#include <string_view>

namespace webstream::portal {

struct EmbeddedFile {
  std::string_view name;     // path relative to web/portal/, e.g. "app.js"
  std::string_view content;  // the file's bytes, exactly
  std::string_view etag;     // strong validator, quoted: "\"<hex of SHA-256 prefix>\""
};

// Every embedded file, sorted by name. Defined in the generated portal_embedded_files.cpp.
std::span<const EmbeddedFile> embedded_files();

// The file called `name`, or null.
const EmbeddedFile* find_embedded_file(std::string_view name);

// The Content-Type for a file name, from its extension; application/octet-stream when unknown.
std::string_view content_type_for(std::string_view name);

}  // namespace webstream::portal
