# Warnings for the project's own targets (not for third-party code).
function(tidewire_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor>
                                           $<$<COMPILE_LANGUAGE:CXX>:-Wold-style-cast>)
  if(TIDEWIRE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
