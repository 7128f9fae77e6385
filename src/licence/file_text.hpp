#pragma once
// Small whole-file reads and writes for licence and key files (a few KiB each).
//
// Thread rules: pure functions over the file system.
#include <string>

#include "core/error.hpp"

namespace webstream::licence {

enum class ReadProblem { kNone, kMissing, kUnreadable };

struct FileText {
  ReadProblem problem = ReadProblem::kNone;
  std::string text;    // the content when problem == kNone
  std::string detail;  // why not, naming the path
};

// Reads `path` whole. kMissing: it does not exist (ENOENT); kUnreadable: anything else that stops a read,
// including a directory and a file over `max_bytes`.
FileText read_file_text(const std::string& path, std::size_t max_bytes);

// Writes `text` to `path` with permission bits `mode` (e.g. 0600 for a private key). `exclusive`: fail when
// the file exists. Error names the path.
Status write_file_text(const std::string& path, const std::string& text, unsigned mode, bool exclusive);

}  // namespace webstream::licence
