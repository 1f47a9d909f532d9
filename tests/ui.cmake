# GET /metrics and the dashboard (/ui/) against real daemons started by
# js/test/daemon.js: tests/ui/metrics.test.js (needs `promtool`, Debian's
# prometheus package) and tests/ui/dashboard.test.js (Debian's chromium driven
# by npm puppeteer-core, installed once into /tmp/mn-pptr; the dashboard's
# JSDoc types checked with TypeScript from /tmp/mn-ts as the js/ tests do).
# include()d from tests/CMakeLists.txt; skipped when there is no `node`.
find_program(MN_NODE node)
if(MN_NODE)
  add_test(NAME e2e.ui_metrics COMMAND ${MN_NODE} --test ${PROJECT_SOURCE_DIR}/tests/ui/metrics.test.js)
  add_test(NAME e2e.ui_dashboard COMMAND ${MN_NODE} --test ${PROJECT_SOURCE_DIR}/tests/ui/dashboard.test.js)
  set_tests_properties(e2e.ui_metrics e2e.ui_dashboard PROPERTIES TIMEOUT 300 LABELS e2e
    ENVIRONMENT "MN_BIN_DIR=${PROJECT_BINARY_DIR}/bin;MN_SOURCE_DIR=${PROJECT_SOURCE_DIR};MN_UI_OUT=${CMAKE_CURRENT_BINARY_DIR}/ui-output")
endif()
