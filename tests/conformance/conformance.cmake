# The provider conformance suite (tests/conformance/conformance.c, issue 17):
# one ctest test per provider, conformance.<provider>, each running the same
# program through tests/conformance/run.sh; and conformance.broken_local, a
# copy of the local provider built not to be idempotent on the execution id,
# which the suite must fail naming that contract.
set(cf_dir ${CMAKE_CURRENT_SOURCE_DIR}/conformance)
add_executable(mn_conformance ${cf_dir}/conformance.c ${cf_dir}/harness.c)
target_include_directories(mn_conformance PRIVATE ${cf_dir})
target_link_libraries(mn_conformance PRIVATE mn_core PkgConfig::CMOCKA)
add_dependencies(mn_conformance mn_all_plugins)

set(cf_env "MN_BIN_DIR=${PROJECT_BINARY_DIR}/bin;MN_PLUGIN_DIR=${MN_PLUGIN_BUILD_DIR};MN_SOURCE_DIR=${PROJECT_SOURCE_DIR};MN_BUILD_DIR=${PROJECT_BINARY_DIR};MULTINODE_PYTHON=/usr/bin/python3")
# One test per tests/conformance/providers/<name>.yaml whose provider is built.
file(GLOB cf_sections CONFIGURE_DEPENDS ${cf_dir}/providers/*.yaml)
foreach(section ${cf_sections})
  get_filename_component(p ${section} NAME_WE)
  if(TARGET mn_provider_${p})
    add_test(NAME conformance.${p}
      COMMAND bash ${cf_dir}/run.sh ${p} $<TARGET_FILE:mn_conformance>)
    set_tests_properties(conformance.${p} PROPERTIES TIMEOUT 180 LABELS conformance
      ENVIRONMENT "${cf_env}")
  endif()
endforeach()

if(TARGET mn_provider_local)
  get_target_property(cf_local_dir mn_provider_local SOURCE_DIR)
  get_target_property(cf_local_srcs mn_provider_local SOURCES)
  list(TRANSFORM cf_local_srcs PREPEND ${cf_local_dir}/)
  add_library(mn_conformance_broken_local MODULE ${cf_local_srcs})
  set_target_properties(mn_conformance_broken_local PROPERTIES PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib/test-plugins)
  target_include_directories(mn_conformance_broken_local PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_compile_definitions(mn_conformance_broken_local PRIVATE MN_LOCAL_BREAK_IDEMPOTENCY=1)
  target_link_libraries(mn_conformance_broken_local PRIVATE mn_common mn_plugin_support
    PkgConfig::JANSSON Threads::Threads)
  add_dependencies(mn_conformance mn_conformance_broken_local)
  add_test(NAME conformance.broken_local
    COMMAND bash ${cf_dir}/run.sh local $<TARGET_FILE:mn_conformance>
      --expect-failure "contract broken: launch is idempotent on the execution id")
  set_tests_properties(conformance.broken_local PROPERTIES TIMEOUT 180 LABELS conformance
    ENVIRONMENT "${cf_env};CONFORMANCE_PLUGIN=$<TARGET_FILE:mn_conformance_broken_local>")
endif()
