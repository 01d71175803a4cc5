# TIDEWIRE_SANITIZE=ON instruments every target of the build with ASan and UBSan; any UBSan report
# aborts, so a test that triggers one fails.
if(TIDEWIRE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()

# TIDEWIRE_TSAN=ON instruments every target of the build with ThreadSanitizer. It cannot share a
# build with ASan (or with the fuzzers, which use ASan): each sanitizer needs the whole process.
# System libraries (libuv, OpenSSL) stay uninstrumented; tests/tsan.supp says what
# that costs.
if(TIDEWIRE_TSAN)
  if(TIDEWIRE_SANITIZE OR TIDEWIRE_FUZZ)
    message(FATAL_ERROR "TIDEWIRE_TSAN cannot be combined with TIDEWIRE_SANITIZE or TIDEWIRE_FUZZ (ASan): use separate build directories")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=thread)
endif()

# Fuzzing instruments the core for coverage; each fuzz target adds libFuzzer's main.
if(TIDEWIRE_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()
