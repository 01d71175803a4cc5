// Where the system's CA certificates are looked for when OpenSSL's compiled-in default is missing
// (an OpenSSL bundled in a package, built for another distribution's layout).
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "io/ca_store.h"

using tidewire::detail::io::fallback_ca_location;

namespace {

// A Debian-built OpenSSL's defaults.
const std::string kDefaultFile = "/usr/lib/ssl/cert.pem";
const std::string kDefaultDir = "/usr/lib/ssl/certs";

struct Machine {
  std::set<std::string> files;
  std::map<std::string, std::string> env;

  auto exists() const {
    return [this](const std::string& path) { return files.count(path) > 0; };
  }
  auto getenv() const {
    return [this](const char* name) -> const char* {
      auto found = env.find(name);
      return found == env.end() ? nullptr : found->second.c_str();
    };
  }
};

}  // namespace

TEST(CaStore, OpenSslsOwnDefaultIsKeptWhenItExists) {
  Machine debian{{kDefaultDir, "/etc/ssl/certs", "/etc/ssl/certs/ca-certificates.crt"}, {}};
  EXPECT_FALSE(fallback_ca_location(kDefaultFile, kDefaultDir, debian.exists(), debian.getenv()));
}

TEST(CaStore, FedorasBundleIsFoundWhenTheDefaultIsMissing) {
  Machine fedora{{"/etc/pki/tls/certs/ca-bundle.crt", "/etc/pki/tls/certs", "/etc/ssl/certs"}, {}};
  auto found = fallback_ca_location(kDefaultFile, kDefaultDir, fedora.exists(), fedora.getenv());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->file, "/etc/pki/tls/certs/ca-bundle.crt");
  EXPECT_EQ(found->dir, "");
}

TEST(CaStore, ADirectoryIsTheLastResort) {
  Machine bare{{"/etc/ssl/certs"}, {}};
  auto found = fallback_ca_location(kDefaultFile, kDefaultDir, bare.exists(), bare.getenv());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->file, "");
  EXPECT_EQ(found->dir, "/etc/ssl/certs");
}

TEST(CaStore, SslCertFileOrDirLeavesTheChoiceToOpenSsl) {
  for (const char* variable : {"SSL_CERT_FILE", "SSL_CERT_DIR"}) {
    Machine chosen{{"/etc/pki/tls/certs/ca-bundle.crt"}, {{variable, "/opt/my-ca.pem"}}};
    EXPECT_FALSE(fallback_ca_location(kDefaultFile, kDefaultDir, chosen.exists(), chosen.getenv())) << variable;
  }
}

TEST(CaStore, NothingKnownMeansNothingAdded) {
  Machine empty{{}, {{"SSL_CERT_FILE", ""}}};
  EXPECT_FALSE(fallback_ca_location(kDefaultFile, kDefaultDir, empty.exists(), empty.getenv()));
}
