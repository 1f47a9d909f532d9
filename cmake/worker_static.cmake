# Whether multinode-worker is linked statically with a minimal libcurl
# (bench/README.md, "Worker CPU"; scripts/curl-minimal.sh builds it once into
# MN_CURL_MINIMAL_DIR). Sets MN_WORKER_STATIC_LINK and, when it is ON,
# MN_CURL_MINIMAL_DIR and MN_STATIC_{SSL,CRYPTO,JANSSON}. Without the minimal
# libcurl (offline, another libcurl version) or in a sanitizer build, the
# worker links Debian's shared libcurl as before, and configure says so.
option(MN_WORKER_STATIC "Link multinode-worker statically with a minimal libcurl" ON)
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
if(MN_WORKER_STATIC AND NOT MN_SANITIZE)
  execute_process(COMMAND dpkg-query -W -f=\${Version} libcurl4-openssl-dev
    OUTPUT_VARIABLE mn_curl_deb_version ERROR_QUIET RESULT_VARIABLE mn_rc)
  if(NOT mn_rc EQUAL 0 OR mn_curl_deb_version STREQUAL "")
    set(mn_curl_deb_version ${CURL_VERSION})
  endif()
  set(MN_CURL_MINIMAL_DIR "$ENV{HOME}/.cache/multinode/curl-minimal-${mn_curl_deb_version}"
    CACHE PATH "Where scripts/curl-minimal.sh leaves the worker's static libcurl")
  # A failed attempt is not repeated by this build directory's later
  # configures (unset MN_CURL_MINIMAL_FAILED to try again).
  if(NOT EXISTS ${MN_CURL_MINIMAL_DIR}/lib/libcurl.a AND NOT MN_CURL_MINIMAL_FAILED)
    message(STATUS "multinode-worker: building a minimal static libcurl into ${MN_CURL_MINIMAL_DIR} (once)")
    execute_process(COMMAND ${PROJECT_SOURCE_DIR}/scripts/curl-minimal.sh ${MN_CURL_MINIMAL_DIR}
      RESULT_VARIABLE mn_rc ERROR_VARIABLE mn_err OUTPUT_QUIET)
    if(NOT mn_rc EQUAL 0)
      string(STRIP "${mn_err}" mn_err)
      message(STATUS "multinode-worker: ${mn_err}")
      set(MN_CURL_MINIMAL_FAILED ON CACHE INTERNAL "scripts/curl-minimal.sh failed")
    endif()
  endif()
  find_library(MN_STATIC_SSL libssl.a)
  find_library(MN_STATIC_CRYPTO libcrypto.a)
  find_library(MN_STATIC_JANSSON libjansson.a)
  if(EXISTS ${MN_CURL_MINIMAL_DIR}/lib/libcurl.a AND MN_STATIC_SSL AND MN_STATIC_CRYPTO
     AND MN_STATIC_JANSSON)
    set(MN_WORKER_STATIC_LINK ON CACHE INTERNAL "multinode-worker is linked statically")
    message(STATUS "multinode-worker: static-pie with the minimal libcurl of ${MN_CURL_MINIMAL_DIR}")
  else()
    message(WARNING "multinode-worker: no minimal static libcurl or static OpenSSL/jansson: "
      "linking the shared libcurl instead (about 3x the worker's CPU per attempt, bench/README.md)")
  endif()
endif()
