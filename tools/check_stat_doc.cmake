# Runs GENERATOR (tw_stat_doc) into ACTUAL and fails, showing the difference, unless ACTUAL is
# identical to EXPECTED (the committed docs/STATISTICS.md).
execute_process(COMMAND ${GENERATOR} OUTPUT_FILE ${ACTUAL} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${GENERATOR} failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${EXPECTED} ${ACTUAL} RESULT_VARIABLE differ)
if(differ)
  execute_process(COMMAND diff -u ${EXPECTED} ${ACTUAL})
  message(FATAL_ERROR "docs/STATISTICS.md does not match the statistics table (core/src/stream.cc). "
                      "Regenerate it from the repository root with\n"
                      "  build/tools/tw_stat_doc > docs/STATISTICS.md\n"
                      "and commit it.")
endif()
message(STATUS "docs/STATISTICS.md matches the statistics table")
