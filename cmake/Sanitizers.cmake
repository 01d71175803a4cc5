# TIDEWIRE_SANITIZE=ON instruments every target of the build with ASan and UBSan; any UBSan report
# aborts, so a test that triggers one fails.
if(TIDEWIRE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()

# Fuzzing instruments the core for coverage; each fuzz target adds libFuzzer's main.
if(TIDEWIRE_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()
