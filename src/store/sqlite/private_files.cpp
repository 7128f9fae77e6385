#include "store/sqlite/private_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace webstream::store {
namespace {

std::string why(const std::string& path, int err) { return path + ": " + std::strerror(err); }

}  // namespace

Status create_private_directories(const std::string& dir) {
  if (dir.empty()) return Status::success();
  std::filesystem::path partial;
  for (const auto& part : std::filesystem::path(dir)) {
    partial /= part;
    const std::string p = partial.string();
    if (::mkdir(p.c_str(), 0700) == 0) {
      // mkdir's mode is filtered by the umask: set it exactly.
      if (::chmod(p.c_str(), 0700) != 0) return Error::internal("cannot set the mode of " + why(p, errno));
      continue;
    }
    if (errno != EEXIST) return Error::internal("cannot create directory " + why(p, errno));
  }
  return Status::success();
}

Result<bool> create_private_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) {
    const int rc = ::fchmod(fd, 0600);  // exact, whatever the umask
    const int err = errno;
    ::close(fd);
    if (rc != 0) return Error::internal("cannot set the mode of " + why(path, err));
    return false;
  }
  if (errno != EEXIST) return Error::internal("cannot create " + why(path, errno));
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error::internal("cannot examine " + why(path, errno));
  return (st.st_mode & 077) != 0;
}

bool readable_by_others(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0;
}

}  // namespace webstream::store
