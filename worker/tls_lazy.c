/* Lazy TLS for the statically linked worker (bench/README.md, "Worker CPU").
 *
 * libcurl initialises OpenSSL in curl_global_init, whether or not a transfer
 * will ever use TLS: with its built-in engines (each probing the CPU) and
 * all of its ciphers, digests and error strings, about a quarter of an
 * exec'd worker's CPU. A worker whose API URL is plain http:// never makes
 * a TLS connection, so libcurl's call is skipped there. The static link
 * (worker/CMakeLists.txt) routes every call of OPENSSL_init_ssl through
 * this function with the linker's --wrap; only the first one is skipped,
 * so should anything later start TLS after all, OpenSSL's own call from
 * SSL_CTX_new initialises it then. An https URL initialises as libcurl
 * asks. The shared-library build keeps skip_tls_config_for_http (main.c). */
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>

#include <openssl/ssl.h>

#include "multinode/common/worker_env.h"

int __real_OPENSSL_init_ssl(uint64_t opts, const OPENSSL_INIT_SETTINGS *settings);
int __wrap_OPENSSL_init_ssl(uint64_t opts, const OPENSSL_INIT_SETTINGS *settings);

int __wrap_OPENSSL_init_ssl(uint64_t opts, const OPENSSL_INIT_SETTINGS *settings) {
  static int first = 1;
  if (first) {
    first = 0;
    const char *url = getenv(MN_WORKER_ENV_API_URL);
    if (url && strncasecmp(url, "http://", 7) == 0)
      return 1;
  }
  return __real_OPENSSL_init_ssl(opts, settings);
}

/* OpenSSL identifies the CPU (cpuid, a trap to the hypervisor in a virtual
 * machine) from the .init section of every program that links libcrypto,
 * before main. With a plain-HTTP API URL that first call is skipped too
 * (the worker's CPU per attempt, bench/README.md "Worker CPU"); OpenSSL's
 * own initialisation (OPENSSL_init_crypto, which TLS would start) calls it
 * again and it runs then. Until it has run, OpenSSL's capability vector is
 * zero: its portable code paths, never wrong. */
void __real_OPENSSL_cpuid_setup(void);
void __wrap_OPENSSL_cpuid_setup(void);

void __wrap_OPENSSL_cpuid_setup(void) {
  static int first = 1;
  if (first) {
    first = 0;
    const char *url = getenv(MN_WORKER_ENV_API_URL);
    if (url && strncasecmp(url, "http://", 7) == 0)
      return;
  }
  __real_OPENSSL_cpuid_setup();
}
