#pragma once

#include <functional>
#include <optional>
#include <string>

namespace tidewire::detail::io {

// A place holding the system's trusted CA certificates: a PEM bundle or a hashed directory.
struct CaLocation {
  std::string file;  // empty when only a directory was found
  std::string dir;   // empty when a bundle was found
};

// OpenSSL looks for the system's trusted certificates under the directory it was built for
// (OPENSSLDIR). A copy of OpenSSL bundled in a package — the Python wheel carries the build
// machine's — keeps that directory on a distribution that keeps its certificates elsewhere
// (Debian builds say /usr/lib/ssl; Fedora keeps them in /etc/pki/tls). Returns the first
// well-known location that exists, or nothing when OpenSSL's own default exists or the user chose
// with SSL_CERT_FILE / SSL_CERT_DIR (OpenSSL reads those itself). Pure: the file system and the
// environment are asked through `exists` and `env`.
std::optional<CaLocation> fallback_ca_location(const std::string& default_file, const std::string& default_dir,
                                               const std::function<bool(const std::string&)>& exists,
                                               const std::function<const char*(const char*)>& env);

// fallback_ca_location() for the OpenSSL linked in, the real file system and environment.
std::optional<CaLocation> system_fallback_ca_location();

}  // namespace tidewire::detail::io
