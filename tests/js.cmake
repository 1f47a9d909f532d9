# The JavaScript client (js/): its tests run with Node's test runner against
# real daemons they start themselves (js/test/daemon.js), plus the packed
# package's TypeScript check (js/test/types.test.js: TypeScript from npm,
# installed once into /tmp/mn-ts when missing). include()d from
# tests/CMakeLists.txt; skipped when there is no `node`.
find_program(MN_NODE node)
if(MN_NODE)
  add_test(NAME e2e.js COMMAND ${MN_NODE} --test ${PROJECT_SOURCE_DIR}/js/test/)
  set_tests_properties(e2e.js PROPERTIES TIMEOUT 600 LABELS e2e
    ENVIRONMENT "MN_BIN_DIR=${PROJECT_BINARY_DIR}/bin;MN_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endif()
