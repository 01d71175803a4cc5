#include "level_fd.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace tidewire::detail {

LevelFd::~LevelFd() {
  if (fd_ >= 0) close(fd_);
}

int LevelFd::get(bool readable) {
  if (fd_ < 0) {
    fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd_ < 0) return -1;
    readable_ = false;
  }
  set(readable);
  return fd_;
}

void LevelFd::set(bool readable) {
  if (fd_ < 0 || readable == readable_) return;
  if (readable) {
    uint64_t one = 1;
    (void)!write(fd_, &one, sizeof one);
  } else {
    uint64_t drained;
    (void)!read(fd_, &drained, sizeof drained);
  }
  readable_ = readable;
}

}  // namespace tidewire::detail
