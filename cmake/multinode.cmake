# Shared build settings: warnings and sanitizers live on interface targets,
# never in the global flags.
# -Wno-format-truncation: snprintf into a bounded buffer is the idiom for
# messages and paths here; where a cut would matter the result is checked.
add_library(mn_warnings INTERFACE)
target_compile_options(mn_warnings INTERFACE -Wall -Wextra -Werror -Wshadow
  -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
  $<$<C_COMPILER_ID:GNU>:-Wno-format-truncation>)
target_compile_definitions(mn_warnings INTERFACE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)

add_library(mn_sanitize INTERFACE)
if(MN_SANITIZE)
  target_compile_definitions(mn_sanitize INTERFACE MN_SANITIZER_BUILD=1)
  target_compile_options(mn_sanitize INTERFACE -fsanitize=address,undefined
    -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(mn_sanitize INTERFACE -fsanitize=address,undefined)
endif()

add_library(mn_common INTERFACE)
target_link_libraries(mn_common INTERFACE mn_warnings mn_sanitize)

# mn_add_provider(NAME <name> SOURCES <files...> [LIBS <targets...>])
# Builds mn_provider_<name>.so into build/lib/multinode and installs it.
function(mn_add_provider)
  cmake_parse_arguments(P "" "NAME" "SOURCES;LIBS" ${ARGN})
  string(TOUPPER "${P_NAME}" upper)
  option(MN_PROVIDER_${upper} "Build the ${P_NAME} provider" ON)
  if(NOT MN_PROVIDER_${upper})
    return()
  endif()
  set(target mn_provider_${P_NAME})
  add_library(${target} MODULE ${P_SOURCES})
  set_target_properties(${target} PROPERTIES PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY ${MN_PLUGIN_BUILD_DIR})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(${target} PRIVATE mn_common mn_plugin_support multinode-common ${P_LIBS})
  install(TARGETS ${target} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/multinode)
endfunction()
