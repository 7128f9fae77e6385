#include "licence/file_text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace webstream::licence {
namespace {

std::string why(const std::string& path, int err) { return path + ": " + std::strerror(err); }

}  // namespace

FileText read_file_text(const std::string& path, std::size_t max_bytes) {
  FileText out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    out.problem = errno == ENOENT ? ReadProblem::kMissing : ReadProblem::kUnreadable;
    out.detail = why(path, errno);
    return out;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    out.problem = ReadProblem::kUnreadable;
    out.detail = path + ": not a regular file";
    ::close(fd);
    return out;
  }
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      out.problem = ReadProblem::kUnreadable;
      out.detail = why(path, errno);
      break;
    }
    if (n == 0) break;
    if (out.text.size() + static_cast<std::size_t>(n) > max_bytes) {
      out.problem = ReadProblem::kUnreadable;
      out.detail = path + ": larger than " + std::to_string(max_bytes) + " bytes";
      break;
    }
    out.text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (out.problem != ReadProblem::kNone) out.text.clear();
  return out;
}

Status write_file_text(const std::string& path, const std::string& text, unsigned mode, bool exclusive) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
  const int fd = ::open(path.c_str(), flags, static_cast<mode_t>(mode));
  if (fd < 0) return Error::invalid(why(path, errno));
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Error::invalid(why(path, err));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return Error::invalid(why(path, errno));
  return Status::success();
}

}  // namespace webstream::licence
