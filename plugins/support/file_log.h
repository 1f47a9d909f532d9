/* file_log.h — paging a worker's log file by line, for providers whose
 * workers write their log to a file (part of the provider toolkit,
 * plugins/support; the local provider uses it).
 *
 * The offset is the byte offset in the file as decimal text ("" or NULL:
 * the start); the next_offset it sets continues after the last line handed
 * out, so offsets round-trip across calls and across a growing file. A last
 * line without its newline is served only when the log is final (the
 * worker can write no more); before that it may still grow. Lines longer
 * than line_max bytes are served in pieces, each cut before a UTF-8
 * sequence that would not fit whole (no character is split between two
 * lines). Bytes need not be valid UTF-8 (provider.h, struct mn_log_page).
 *
 *     int fd = open(path, O_RDONLY | O_CLOEXEC);
 *     int final = worker_has_exited(...); // before reading: a later exit adds no unseen bytes
 *     int rc = mn_file_log_page(fd, offset, max_lines, final, 0, page, why, sizeof why);
 *     close(fd);
 */
#ifndef MN_SUPPORT_FILE_LOG_H
#define MN_SUPPORT_FILE_LOG_H

#include <stddef.h>

#include <multinode/provider.h>

#define MN_FILE_LOG_LINE_MAX (64 * 1024)

/* Hands at most max_lines lines of the file open at fd, from offset, to
 * page, and sets page->next_offset. line_max 0: MN_FILE_LOG_LINE_MAX.
 * Returns 0; MN_PROVIDER_E_INVALID when offset is not one this pager
 * issues for the file (not decimal, or past its end); MN_PROVIDER_E_TRANSIENT
 * when the file cannot be read or memory runs out. why says what failed. */
int mn_file_log_page(int fd, const char *offset, int max_lines, int final, size_t line_max,
                     struct mn_log_page *page, char *why, size_t why_size);

#endif
