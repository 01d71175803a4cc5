// A webhook endpoint that verifies deliveries (Standard Webhooks by default; webhook.scheme=github
// etc.) and prints the valid ones; Tidewire answers forged ones 401 and never hands them over.
//
//   tw_example_cpp_webhook_receiver http://127.0.0.1:0/hooks whsec_... [key=value ...] [--max N]
#include <iostream>
#include <string>

#include <tidewire/tidewire.hpp>

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " <listen-url> <secret[,secret...]> [key=value ...] [--max N]\n";
    return 2;
  }
  tidewire::Config config;
  config.set("transport", "webhook").set("url", argv[1]).set("webhook.secret", argv[2]);
  long max = -1;
  for (int i = 3; i < argc; i++) {
    const std::string arg = argv[i];
    if (arg == "--max" && i + 1 < argc) {
      max = std::stol(argv[++i]);
      continue;
    }
    const size_t eq = arg.find('=');
    if (eq == std::string::npos) throw std::invalid_argument("expected key=value, got \"" + arg + "\"");
    config.set(arg.substr(0, eq), arg.substr(eq + 1));
  }
  tidewire::Runtime runtime;
  tidewire::Stream stream(runtime, config);
  std::cout << "listening on " << stream.url() << std::endl;

  long printed = 0;
  for (auto& delivery : stream) {
    std::cout << "delivery id=" << delivery.id() << " type=" << delivery.type() << " body=" << delivery.data()
              << std::endl;
    if (++printed == max) break;
  }
  if (auto failure = stream.failure()) {
    std::cerr << "receiver failed: " << failure->data() << '\n';
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << e.what() << '\n';
  return 2;
}
