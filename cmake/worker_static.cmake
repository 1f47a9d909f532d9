# Whether multinode-worker is linked statically with a minimal libcurl
# (bench/README.md, "Worker CPU"; scripts/curl-minimal.sh builds it once into
# ~/.cache/multinode). Sets MN_WORKER_STATIC_LINK and, when it is ON,
# MN_WORKER_LIBC (musl or glibc), MN_WORKER_LIB_DIR (include/ and lib/ of
# the static libraries) and MN_WORKER_STATIC_LIBS (libcurl, libssl, libcrypto,
# jansson). With musl-gcc installed the worker is built against musl libc,
# with OpenSSL and jansson built for it too; else against glibc with Debian's
# static OpenSSL and jansson. Without the minimal libcurl (offline, another
# libcurl version) or in a sanitizer build, the worker links Debian's shared
# libcurl as before, and configure says so.
option(MN_WORKER_STATIC "Link multinode-worker statically with a minimal libcurl" ON)
# musl instead of glibc: glibc's start of a static program identifies the CPU
# (some thirty cpuid instructions, each a trap to the hypervisor in a virtual
# machine: 8-20 us each here) and reads /proc/self/exe; musl's start does
# neither. An empty static program: 0.48 ms of CPU with glibc, 0.11 ms with
# musl (bench/README.md, "Worker CPU").
option(MN_WORKER_MUSL "Link the static multinode-worker with musl libc when musl-gcc is installed" ON)
# A plain static executable by default: static-pie would keep the worker's
# own code at a random address, but relocates itself at every start (about
# 20,000 pointers, most in libcrypto's tables, ~100 pages copied): 0.3-0.5 ms
# of a 2 ms budget per attempt (bench/README.md, "Worker CPU"). What the
# fixed address gives up is little: the worker's stack, heap and mappings
# stay random, it talks only to the daemon's API, and the task it runs has
# its user and could read its memory anyway (docs/security.md). ON restores
# static-pie.
option(MN_WORKER_PIE "Link the static multinode-worker as static-pie (ASLR)" OFF)
set(MN_WORKER_STATIC_LINK OFF CACHE INTERNAL "multinode-worker is linked statically")
set(MN_WORKER_LIBC glibc CACHE INTERNAL "the libc of the static multinode-worker")
if(MN_WORKER_STATIC AND NOT MN_SANITIZE)
  execute_process(COMMAND dpkg-query -W -f=\${Version} libcurl4-openssl-dev
    OUTPUT_VARIABLE mn_curl_deb_version ERROR_QUIET RESULT_VARIABLE mn_rc)
  if(NOT mn_rc EQUAL 0 OR mn_curl_deb_version STREQUAL "")
    set(mn_curl_deb_version ${CURL_VERSION})
  endif()
  # Builds the static libraries once into DIR (scripts/curl-minimal.sh with
  # FLAGS); a failed attempt is not repeated by this build directory's later
  # configures (unset FAILED_VAR to try again).
  function(mn_worker_static_libs dir failed_var what)
    if(NOT EXISTS ${dir}/lib/libcurl.a AND NOT ${failed_var})
      message(STATUS "multinode-worker: building ${what} into ${dir} (once)")
      execute_process(COMMAND ${PROJECT_SOURCE_DIR}/scripts/curl-minimal.sh ${ARGN} ${dir}
        RESULT_VARIABLE mn_rc ERROR_VARIABLE mn_err OUTPUT_QUIET)
      if(NOT mn_rc EQUAL 0)
        string(STRIP "${mn_err}" mn_err)
        message(STATUS "multinode-worker: ${mn_err}")
        set(${failed_var} ON CACHE INTERNAL "scripts/curl-minimal.sh failed")
      endif()
    endif()
  endfunction()
  if(MN_WORKER_MUSL AND NOT MN_WORKER_PIE AND CMAKE_C_COMPILER_ID STREQUAL "GNU")
    find_program(MN_MUSL_GCC musl-gcc)
    find_file(MN_MUSL_SPECS musl-gcc.specs PATHS /usr/lib/x86_64-linux-musl /usr/lib/musl/lib
      /usr/local/musl/lib NO_DEFAULT_PATH)
  endif()
  if(MN_MUSL_GCC AND MN_MUSL_SPECS AND MN_WORKER_MUSL AND NOT MN_WORKER_PIE)
    set(MN_WORKER_MUSL_DIR "$ENV{HOME}/.cache/multinode/worker-musl-${mn_curl_deb_version}"
      CACHE PATH "Where scripts/curl-minimal.sh --musl leaves the worker's static libraries")
    mn_worker_static_libs(${MN_WORKER_MUSL_DIR} MN_WORKER_MUSL_FAILED
      "libcurl, OpenSSL and jansson for musl" --musl)
    set(mn_libs)
    set(mn_all ON)
    foreach(lib curl ssl crypto jansson)
      list(APPEND mn_libs ${MN_WORKER_MUSL_DIR}/lib/lib${lib}.a)
      if(NOT EXISTS ${MN_WORKER_MUSL_DIR}/lib/lib${lib}.a)
        set(mn_all OFF)
      endif()
    endforeach()
    if(mn_all)
      set(MN_WORKER_STATIC_LINK ON CACHE INTERNAL "multinode-worker is linked statically")
      set(MN_WORKER_LIBC musl CACHE INTERNAL "the libc of the static multinode-worker")
      set(MN_WORKER_LIB_DIR ${MN_WORKER_MUSL_DIR})
      set(MN_WORKER_STATIC_LIBS ${mn_libs})
      message(STATUS "multinode-worker: static, musl, with the libraries of ${MN_WORKER_MUSL_DIR}")
    else()
      message(STATUS "multinode-worker: no static libraries for musl: linking against glibc")
    endif()
  endif()
  if(NOT MN_WORKER_STATIC_LINK)
    set(MN_CURL_MINIMAL_DIR "$ENV{HOME}/.cache/multinode/curl-minimal-${mn_curl_deb_version}"
      CACHE PATH "Where scripts/curl-minimal.sh leaves the worker's static libcurl")
    mn_worker_static_libs(${MN_CURL_MINIMAL_DIR} MN_CURL_MINIMAL_FAILED "a minimal static libcurl")
    find_library(MN_STATIC_SSL libssl.a)
    find_library(MN_STATIC_CRYPTO libcrypto.a)
    find_library(MN_STATIC_JANSSON libjansson.a)
    if(EXISTS ${MN_CURL_MINIMAL_DIR}/lib/libcurl.a AND MN_STATIC_SSL AND MN_STATIC_CRYPTO
       AND MN_STATIC_JANSSON)
      set(MN_WORKER_STATIC_LINK ON CACHE INTERNAL "multinode-worker is linked statically")
      set(MN_WORKER_LIB_DIR ${MN_CURL_MINIMAL_DIR})
      set(MN_WORKER_STATIC_LIBS ${MN_CURL_MINIMAL_DIR}/lib/libcurl.a ${MN_STATIC_SSL}
        ${MN_STATIC_CRYPTO} ${MN_STATIC_JANSSON})
      message(STATUS "multinode-worker: static, glibc, with the minimal libcurl of ${MN_CURL_MINIMAL_DIR}")
    else()
      message(WARNING "multinode-worker: no minimal static libcurl or static OpenSSL/jansson: "
        "linking the shared libcurl instead (about 3x the worker's CPU per attempt, bench/README.md)")
    endif()
  endif()
endif()
