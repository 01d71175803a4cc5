// Prints the events of one stream; the C++ counterpart of examples/c/stream.c.
//
//   tw_example_cpp_stream <transport> <url> [key=value ...] [--max N]
//   tw_example_cpp_stream sse http://127.0.0.1:8000/sse reconnect.max_ms=2000
//   tw_example_cpp_stream poll http://127.0.0.1:8000/poll poll.interval_ms=1000 --max 5
//
// Stops after N messages (default: when the stream ends) and exits non-zero if the stream failed.
#include <iostream>
#include <string>
#include <string_view>

#include <tidewire/tidewire.hpp>

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " <poll|longpoll|sse> <url> [key=value ...] [--max N]\n";
    return 2;
  }
  tidewire::Config config;
  config.set("transport", argv[1]).set("url", argv[2]);
  long max = -1;
  for (int i = 3; i < argc; i++) {
    const std::string_view arg = argv[i];
    if (arg == "--max" && i + 1 < argc) {
      max = std::stol(argv[++i]);
      continue;
    }
    const size_t eq = arg.find('=');
    if (eq == std::string_view::npos) {
      std::cerr << "expected key=value, got \"" << arg << "\"\n";
      return 2;
    }
    config.set(std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1)));
  }

  tidewire::Runtime runtime;
  tidewire::Stream stream(runtime, config);
  long received = 0;
  if (max != 0) {
    for (auto& event : stream) {
      std::cout << tw_kind_name(event.kind()) << " id=" << event.id() << " type=" << event.type()
                << " data=" << event.data() << std::endl;
      if (event.kind() == TW_KIND_MESSAGE && ++received == max) break;
    }
  }

  if (auto failure = stream.failure()) {
    std::cerr << "stream failed: " << tw_err_name(failure->error()) << " (HTTP " << failure->http_status()
              << "): " << failure->data() << '\n';
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << e.what() << '\n';
  return 2;
}
