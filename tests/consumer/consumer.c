/*
 * A program written against an *installed* Tidewire: it sees only what `cmake --install` put in
 * the prefix (tidewire.h, the shared library, tidewire.pc, the CMake package). scripts/check-install.sh
 * builds it twice, with pkg-config and with find_package(Tidewire), and runs it.
 * Exits 0 when the library behaves as documented, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tidewire/tidewire.h>

static int failures = 0;

static void expect(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "consumer: FAILED: %s\n", what);
    failures++;
  }
}

int main(void) {
  printf("tidewire %s\n", tw_version_str());
  expect(tw_version() == TW_VERSION, "run-time version matches the header's TW_VERSION");

  tw_config *config = NULL;
  tw_err err = tw_config_create(&config);
  expect(err == TW_OK && config != NULL, "tw_config_create");
  if (!config) return 1;

  err = tw_config_set(config, "reconnect.max_ms", "2500");
  expect(err == TW_OK, "tw_config_set reconnect.max_ms=2500");
  char *value = NULL;
  err = tw_config_get(&value, config, "reconnect.max_ms");
  expect(err == TW_OK && value && strcmp(value, "2500") == 0, "tw_config_get returns the value set");
  printf("reconnect.max_ms = %s\n", value ? value : "(null)");
  tw_free(value);

  err = tw_config_set(config, "no.such.key", "1");
  printf("no.such.key: %s: %s\n", tw_err_name(err), tw_last_error_message());
  expect(err == TW_ERR_UNKNOWN_KEY, "an unknown key answers TW_ERR_UNKNOWN_KEY");
  expect(strstr(tw_last_error_message(), "no.such.key") != NULL, "the error message names the key");

  err = tw_config_set(config, "reconnect.max_ms", "-1");
  expect(err == TW_ERR_INVALID_VALUE, "an out-of-range value answers TW_ERR_INVALID_VALUE");

  expect(tw_config_key_count() > 0, "the key table is not empty");
  tw_config_destroy(config);
  tw_config_destroy(NULL);

  if (failures) return 1;
  printf("consumer: ok\n");
  return 0;
}
