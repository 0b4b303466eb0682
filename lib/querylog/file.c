/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The query log file: JSON lines appended through a 64 KiB buffer (one
 * write(2) per drain pass or per full buffer), rotated by size
 * (FILE -> FILE.1 -> FILE.2 ..., the oldest beyond `keep` removed).
 *
 * A failure (disk full, directory gone, permissions) is logged once, the
 * lines buffered at that moment are lost and counted, and the file is
 * reopened at most once a second until it works again, which is logged too.
 * Only the drain thread calls these functions.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "hd_querylog.h"

RTE_LOG_REGISTER_DEFAULT(hd_querylog_logtype, NOTICE);
#define QL_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, hd_querylog_logtype, "querylog: " fmt "\n", ##__VA_ARGS__)

#define BUF_SIZE	(64 * 1024)
#define RETRY_MS	1000

struct hd_querylog_file {
	char path[PATH_MAX];
	uint64_t max_size;
	unsigned int keep;
	int fd;
	uint64_t size;			/* bytes in the open file */
	uint64_t errors;
	uint64_t retry_at;		/* ms: no open attempt before */
	int failing;			/* an error was logged; log the recovery */
	size_t used;
	char buf[BUF_SIZE];
};

int
hd_querylog_rotate_name(char *out, size_t cap, const char *base, unsigned int i)
{
	int n = i == 0 ? snprintf(out, cap, "%s", base) : snprintf(out, cap, "%s.%u", base, i);

	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return n;
}

struct hd_querylog_file *
hd_querylog_file_create(const char *path, uint64_t max_size, unsigned int keep)
{
	struct hd_querylog_file *f;

	if (path == NULL || path[0] == '\0' || strlen(path) + 8 >= PATH_MAX) {
		rte_errno = EINVAL;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	memcpy(f->path, path, strlen(path) + 1);
	f->max_size = max_size;
	f->keep = keep;
	f->fd = -1;
	return f;
}

static void
fail(struct hd_querylog_file *f, const char *what, int err, uint64_t now_ms)
{
	f->errors++;
	if (!f->failing)
		QL_LOG(ERR, "%s %s: %s; lines are lost until it works again (retried every %d ms)",
		       what, f->path, strerror(err), RETRY_MS);
	f->failing = 1;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->retry_at = now_ms + RETRY_MS;
}

static int
file_open(struct hd_querylog_file *f, uint64_t now_ms)
{
	struct stat st;

	if (f->fd >= 0)
		return 0;
	if (now_ms < f->retry_at)
		return -EAGAIN;
	f->fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (f->fd < 0) {
		int err = errno;

		fail(f, "cannot open", err, now_ms);
		return -err;
	}
	f->size = fstat(f->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	if (f->failing) {
		QL_LOG(NOTICE, "writing %s again", f->path);
		f->failing = 0;
	}
	return 0;
}

/* FILE.keep goes, FILE.i becomes FILE.i+1, FILE becomes FILE.1. */
static void
rotate(struct hd_querylog_file *f, uint64_t now_ms)
{
	char from[PATH_MAX], to[PATH_MAX];
	unsigned int i;

	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (hd_querylog_rotate_name(to, sizeof(to), f->path, f->keep) > 0)
		(void)unlink(to);
	for (i = f->keep; i >= 1; i--) {
		if (hd_querylog_rotate_name(from, sizeof(from), f->path, i - 1) < 0 ||
		    hd_querylog_rotate_name(to, sizeof(to), f->path, i) < 0)
			continue;
		if (rename(from, to) != 0 && errno != ENOENT && i == 1) {
			/* The live file stays: it keeps growing rather than losing lines. */
			fail(f, "cannot rotate", errno, now_ms);
			return;
		}
	}
	f->retry_at = 0;
	(void)file_open(f, now_ms);
}

int
hd_querylog_file_flush(struct hd_querylog_file *f, uint64_t now_ms)
{
	size_t off = 0;
	ssize_t n;
	int rc;

	if (f->used == 0)
		return 0;
	rc = file_open(f, now_ms);
	if (rc < 0) {
		/* Lost: nothing can hold them without stalling the drain. */
		if (rc == -EAGAIN)
			f->errors++;
		f->used = 0;
		return rc;
	}
	while (off < f->used) {
		n = write(f->fd, f->buf + off, f->used - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;

			fail(f, "cannot write", err, now_ms);
			f->used = 0;
			return -err;
		}
		off += (size_t)n;
	}
	f->size += f->used;
	f->used = 0;
	return 0;
}

int
hd_querylog_file_write(struct hd_querylog_file *f, const char *line, size_t len,
		       uint64_t now_ms)
{
	int rc = 0;

	if (len > BUF_SIZE)
		return -EMSGSIZE;
	/* Open early: the size of a file left by an earlier run counts. */
	if (f->fd < 0)
		(void)file_open(f, now_ms);
	if (f->used + len > BUF_SIZE)
		rc = hd_querylog_file_flush(f, now_ms);
	/* Rotate before the line that would cross the limit, so no file passes it. */
	if (f->size + f->used + len > f->max_size && f->size + f->used > 0) {
		rc = hd_querylog_file_flush(f, now_ms);
		if (f->fd >= 0)
			rotate(f, now_ms);
	}
	memcpy(f->buf + f->used, line, len);
	f->used += len;
	return rc;
}

void
hd_querylog_file_free(struct hd_querylog_file *f)
{
	if (f == NULL)
		return;
	(void)hd_querylog_file_flush(f, UINT64_MAX / 2);
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

uint64_t
hd_querylog_file_errors(const struct hd_querylog_file *f)
{
	return f->errors;
}
