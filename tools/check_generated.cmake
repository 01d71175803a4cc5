# Runs GENERATOR (a tool of tools/, with ARGS if given) into ACTUAL and fails, showing the
# difference, unless ACTUAL is identical to EXPECTED, the committed file it generates
# (docs/CONFIGURATION.md, bindings/node/config.d.ts, docs/STATISTICS.md).
execute_process(COMMAND ${GENERATOR} ${ARGS} OUTPUT_FILE ${ACTUAL} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${GENERATOR} failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${EXPECTED} ${ACTUAL} RESULT_VARIABLE differ)
if(differ)
  execute_process(COMMAND diff -u ${EXPECTED} ${ACTUAL})
  get_filename_component(tool ${GENERATOR} NAME)
  message(FATAL_ERROR "${EXPECTED} does not match the table it is generated from. Regenerate it from "
                      "the repository root with\n"
                      "  build/tools/${tool} ${ARGS} > <that file>\n"
                      "and commit it.")
endif()
message(STATUS "${EXPECTED} matches what ${GENERATOR} prints")
