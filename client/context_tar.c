/* A project folder as a build context (context_tar.h). */
#include "context_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

/* Copies the file behind ENTRY into the archive. */
static int copy_data(struct archive *out, struct archive_entry *entry, char *why,
                     size_t why_size) {
  const char *src = archive_entry_sourcepath(entry);
  char buf[65536];
  ssize_t n;
  int fd = open(src, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(why, why_size, "cannot read %s", src);
    return -1;
  }
  while ((n = read(fd, buf, sizeof buf)) > 0)
    if (archive_write_data(out, buf, (size_t)n) != n) {
      snprintf(why, why_size, "cannot write the build context: %s", archive_error_string(out));
      close(fd);
      return -1;
    }
  close(fd);
  if (n < 0) {
    snprintf(why, why_size, "cannot read %s", src);
    return -1;
  }
  return 0;
}

static int hash_file(const char *path, char hash[25]) {
  unsigned char md[EVP_MAX_MD_SIZE], buf[65536];
  unsigned int len = 0;
  size_t n;
  FILE *f = fopen(path, "rb");
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int rc = -1;
  if (f && ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1) {
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
      EVP_DigestUpdate(ctx, buf, n);
    if (!ferror(f) && EVP_DigestFinal_ex(ctx, md, &len) == 1 && len >= 12) {
      for (int i = 0; i < 12; i++)
        snprintf(hash + 2 * i, 3, "%02x", md[i]);
      rc = 0;
    }
  }
  EVP_MD_CTX_free(ctx);
  if (f)
    fclose(f);
  return rc;
}

int mn_context_tar(const char *dir, const char *out_tar, char hash[25], char *why,
                   size_t why_size) {
  struct archive *disk = archive_read_disk_new(), *out = archive_write_new();
  struct archive_entry *entry = NULL;
  size_t prefix = strlen(dir);
  int rc = -1, r;
  while (prefix > 1 && dir[prefix - 1] == '/')
    prefix--;
  if (!disk || !out || !(entry = archive_entry_new())) {
    snprintf(why, why_size, "out of memory");
    goto done;
  }
  archive_read_disk_set_symlink_physical(disk); /* links stay links */
  archive_write_set_format_pax_restricted(out);
  if (archive_write_open_filename(out, out_tar) != ARCHIVE_OK) {
    snprintf(why, why_size, "cannot write %s: %s", out_tar, archive_error_string(out));
    goto done;
  }
  if (archive_read_disk_open(disk, dir) != ARCHIVE_OK) {
    snprintf(why, why_size, "cannot read %s: %s", dir, archive_error_string(disk));
    goto done;
  }
  while ((r = archive_read_next_header2(disk, entry)) == ARCHIVE_OK) {
    const char *path = archive_entry_pathname(entry);
    const char *rel = path + prefix;
    while (*rel == '/')
      rel++;
    if (strcmp(rel, ".git") == 0)
      continue; /* not descended into */
    archive_read_disk_descend(disk);
    if (!*rel)
      continue; /* the folder itself */
    char name[4096];
    snprintf(name, sizeof name, "%s", rel);
    archive_entry_set_pathname(entry, name);
    archive_entry_set_mtime(entry, 0, 0);
    archive_entry_unset_atime(entry);
    archive_entry_unset_ctime(entry);
    archive_entry_unset_birthtime(entry);
    archive_entry_set_uid(entry, 0);
    archive_entry_set_gid(entry, 0);
    archive_entry_set_uname(entry, NULL);
    archive_entry_set_gname(entry, NULL);
    if (archive_write_header(out, entry) != ARCHIVE_OK) {
      snprintf(why, why_size, "cannot add %s: %s", path, archive_error_string(out));
      goto done;
    }
    if (archive_entry_filetype(entry) == AE_IFREG && archive_entry_size(entry) > 0 &&
        copy_data(out, entry, why, why_size) != 0)
      goto done;
  }
  if (r != ARCHIVE_EOF) {
    snprintf(why, why_size, "cannot read %s: %s", dir, archive_error_string(disk));
    goto done;
  }
  if (archive_write_close(out) != ARCHIVE_OK) {
    snprintf(why, why_size, "cannot write %s: %s", out_tar, archive_error_string(out));
    goto done;
  }
  if (hash_file(out_tar, hash) != 0) {
    snprintf(why, why_size, "cannot hash %s", out_tar);
    goto done;
  }
  rc = 0;
done:
  if (entry)
    archive_entry_free(entry);
  if (disk)
    archive_read_free(disk);
  if (out)
    archive_write_free(out);
  return rc;
}
