// The I/O thread and signals: a peer that is gone makes a write fail, never ends the process.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <future>

#include "runtime.h"

namespace tidewire::detail {
namespace {

// gtest leaves SIGPIPE at its default (end the process), as a C program does: a write from the
// I/O thread to a socket whose peer has closed must come back as EPIPE.
TEST(RuntimeSignals, AWriteToAPeerThatIsGoneFailsWithEpipeAndRaisesNoSigpipe) {
  // At its default action for this test, whatever another test of this process may have set.
  struct DefaultSigpipe {
    void (*previous)(int) = signal(SIGPIPE, SIG_DFL);
    ~DefaultSigpipe() { signal(SIGPIPE, previous); }
  } default_sigpipe;
  auto runtime = Runtime::start();
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  close(pair[1]);
  std::promise<int> error;
  ASSERT_TRUE(runtime->post([&] {
    ssize_t written = ::write(pair[0], "x", 1);
    error.set_value(written < 0 ? errno : 0);
  }));
  EXPECT_EQ(error.get_future().get(), EPIPE);
  close(pair[0]);
}

TEST(RuntimeSignals, TheApplicationsSignalsGoToItsOwnThreads) {
  auto runtime = Runtime::start();
  std::promise<sigset_t> mask;
  ASSERT_TRUE(runtime->post([&] {
    sigset_t current;
    pthread_sigmask(SIG_BLOCK, nullptr, &current);
    mask.set_value(current);
  }));
  sigset_t io = mask.get_future().get();
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGUSR1, SIGCHLD}) EXPECT_TRUE(sigismember(&io, sig)) << sig;
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGPROF}) EXPECT_FALSE(sigismember(&io, sig)) << sig;
  sigset_t here;
  pthread_sigmask(SIG_BLOCK, nullptr, &here);
  EXPECT_FALSE(sigismember(&here, SIGINT)) << "the creating thread's mask is restored";
}

}  // namespace
}  // namespace tidewire::detail
