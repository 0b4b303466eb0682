/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Files heimdall writes for the operator (list copies in list-dir, the API's
 * state in state-dir): whole or not at all, and durable once written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hd_app.h"

int
hd_mkdirs(const char *dir, mode_t mode)
{
	char path[HD_CONFIG_SOURCE_LEN];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, mode) != 0 && errno != EEXIST)
			return -errno;
		path[i] = dir[i];
	}
	return 0;
}

/* A rename is only durable once the directory holding it is synced. */
static void
dir_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

int
hd_file_write_atomic(const char *dir, const char *path, const void *data, size_t len,
		     mode_t mode)
{
	char tmp[HD_CONFIG_SOURCE_LEN + 300];
	size_t off = 0;
	ssize_t w;
	int fd, rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	errno = 0;
	while (off < len) {
		w = write(fd, (const char *)data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	rc = off < len ? (errno != 0 ? errno : ENOSPC) : 0;
	if (rc == 0 && fsync(fd) != 0)
		rc = errno;
	if (close(fd) != 0 && rc == 0)
		rc = errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = errno;
	if (rc != 0) {
		unlink(tmp);
		return -rc;
	}
	dir_sync(dir);
	return 0;
}
