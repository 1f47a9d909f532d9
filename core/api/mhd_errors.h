/* JSON bodies for the errors libmicrohttpd answers by itself (see
 * mhd_errors.c: the library's HTML pages are replaced where they are made). */
#ifndef MN_API_MHD_ERRORS_H
#define MN_API_MHD_ERRORS_H

#include <microhttpd.h>
#include <stdbool.h>

/* Whether the library's own error pages come out as JSON in this process. */
bool mn_mhd_errors_interposed(void);

#endif
