/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TESTS_REPLICA_REDIS_SRV_H
#define TESTS_REPLICA_REDIS_SRV_H

/*
 * A redis-server of the tests' own on 127.0.0.1, started in the foreground
 * of a child process so that the suite can kill it (SIGKILL: a crash, as
 * far as the client can tell) and start it again.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>

#include "hd_clock.h"
#include "hd_replica.h"

/* The EAL gives the TSC clock hd_clock_ms() reads. */
static inline int
t_eal(const char *prefix)
{
	char fp[64];
	char *argv[] = { "test", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			 "--log-level=lib.*:error", "-l", "0-1", fp, NULL };

	snprintf(fp, sizeof(fp), "--file-prefix=%s", prefix);
	return rte_eal_init(10, argv) < 0 ? -1 : 0;
}

static inline int
t_port_open(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc == 0;
}

/* Start redis-server with @p argv (NULL-terminated, after the program name)
 * and wait (at most 5 s) until @p port accepts. @return the pid or -1. */
static inline pid_t
t_redis_start(uint16_t port, const char *const *argv)
{
	const char *full[40] = { "redis-server" };
	pid_t pid;
	int i;

	for (i = 0; argv[i] != NULL && i < 38; i++)
		full[i + 1] = argv[i];
	full[i + 1] = NULL;
	pid = fork();
	if (pid == 0) {
		execvp("redis-server", (char *const *)(uintptr_t)full);
		_exit(127);
	}
	for (i = 0; i < 500 && pid > 0; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (t_port_open(port))
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		nanosleep(&ts, NULL);
	}
	return -1;
}

static inline void
t_redis_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static inline void
t_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Poll client @p r until @p cond holds or @p ms pass. */
#define POLL_UNTIL(r, cond, ms) do {					\
	uint64_t end_ = hd_clock_ms() + (ms);				\
	while (!(cond) && hd_clock_ms() < end_) {			\
		hd_replica_poll((r), hd_clock_ms());			\
		t_sleep_ms(1);						\
	}								\
} while (0)

static inline enum hd_replica_state
state_of(const struct hd_replica *r)
{
	struct hd_replica_stats s;

	hd_replica_stats_get(r, &s);
	return s.state;
}

#endif /* TESTS_REPLICA_REDIS_SRV_H */
