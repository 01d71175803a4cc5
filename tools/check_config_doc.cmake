# Runs GENERATOR (tw_config_doc, with ARGS if given) into ACTUAL and fails, showing the
# difference, unless ACTUAL is identical to EXPECTED (the committed docs/CONFIGURATION.md or
# bindings/node/config.d.ts).
execute_process(COMMAND ${GENERATOR} ${ARGS} OUTPUT_FILE ${ACTUAL} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${GENERATOR} failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${EXPECTED} ${ACTUAL} RESULT_VARIABLE differ)
if(differ)
  execute_process(COMMAND diff -u ${EXPECTED} ${ACTUAL})
  message(FATAL_ERROR "${EXPECTED} does not match the configuration key table "
                      "(core/src/config.cc). Regenerate it from the repository root with\n"
                      "  build/tools/tw_config_doc ${ARGS} > <that file>\n"
                      "and commit it.")
endif()
message(STATUS "${EXPECTED} matches the key table")
