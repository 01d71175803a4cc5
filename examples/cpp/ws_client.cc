// A WebSocket client: sends each line of standard input, prints every message received, and closes
// (1000) at the end of input once the server has gone quiet for half a second.
//
//   tw_example_cpp_ws_client ws://127.0.0.1:8000/chat [key=value ...]
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include <tidewire/tidewire.hpp>

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " <ws://...|wss://...> [key=value ...]\n";
    return 2;
  }
  tidewire::Config config;
  config.set("url", argv[1]);
  for (int i = 2; i < argc; i++) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (eq == std::string::npos) throw std::invalid_argument("expected key=value, got \"" + arg + "\"");
    config.set(arg.substr(0, eq), arg.substr(eq + 1));
  }
  tidewire::Runtime runtime;
  tidewire::Stream stream(runtime, config);

  // The reader runs on its own thread; streams are thread-safe, events belong to their receiver.
  std::thread reader([&stream] {
    for (auto& event : stream) std::cout << event.type() << ": " << event.data() << std::endl;
  });
  std::string line;
  while (std::getline(std::cin, line)) stream.send(line);
  // Let the last answers arrive: wait until half a second passes with no new message.
  uint64_t seen;
  do {
    seen = stream.stat("messages");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  } while (stream.stat("messages") != seen && !stream.ended());
  stream.close();
  reader.join();

  if (auto failure = stream.failure()) {
    std::cerr << "stream failed (close code " << failure->close_code() << "): " << failure->data() << '\n';
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << e.what() << '\n';
  return 2;
}
