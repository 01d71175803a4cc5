// A level-triggered readiness fd: an eventfd that is readable exactly while its owner says it has
// something to read (a queue of events or of log records), so that asyncio's add_reader, Node's
// uv_poll and epoll can wait on it without a thread. Made on first use, since most owners are never
// waited on this way. Not thread-safe: the owner calls it under its own lock.
#pragma once

namespace tidewire::detail {

class LevelFd {
 public:
  LevelFd() = default;
  LevelFd(const LevelFd&) = delete;
  LevelFd& operator=(const LevelFd&) = delete;
  ~LevelFd();

  // The fd, made now if needed and set to `readable`; -1 if it cannot be made.
  int get(bool readable);
  // Makes the fd (if it exists) readable or not; no system call when nothing changes.
  void set(bool readable);

 private:
  int fd_ = -1;
  bool readable_ = false;
};

}  // namespace tidewire::detail
