#include "io/ca_store.h"

#include <openssl/x509.h>
#include <sys/stat.h>

#include <cstdlib>

namespace tidewire::detail::io {

namespace {

// Where Linux distributions keep their CA bundle, most common first (the list Go's crypto/x509
// searches): Debian, Ubuntu, Arch, Gentoo; Fedora, RHEL 6; openSUSE; OpenELEC; CentOS, RHEL 7+;
// Alpine.
const char* const kBundles[] = {
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
};
const char* const kDirectories[] = {"/etc/ssl/certs", "/etc/pki/tls/certs"};

}  // namespace

std::optional<CaLocation> fallback_ca_location(const std::string& default_file, const std::string& default_dir,
                                               const std::function<bool(const std::string&)>& exists,
                                               const std::function<const char*(const char*)>& env) {
  for (const char* name : {X509_get_default_cert_file_env(), X509_get_default_cert_dir_env()}) {
    const char* value = env(name);
    if (value != nullptr && *value != '\0') return std::nullopt;
  }
  if (exists(default_file) || exists(default_dir)) return std::nullopt;
  for (const char* bundle : kBundles)
    if (exists(bundle)) return CaLocation{bundle, {}};
  for (const char* dir : kDirectories)
    if (exists(dir)) return CaLocation{{}, dir};
  return std::nullopt;
}

std::optional<CaLocation> system_fallback_ca_location() {
  auto exists = [](const std::string& path) {
    struct stat info;
    return !path.empty() && ::stat(path.c_str(), &info) == 0;
  };
  return fallback_ca_location(X509_get_default_cert_file(), X509_get_default_cert_dir(), exists,
                              [](const char* name) { return std::getenv(name); });
}

}  // namespace tidewire::detail::io
