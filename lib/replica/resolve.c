/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Host names of Redis servers and Sentinels, resolved without blocking the
 * slow path: an address literal at once, a name through glibc's
 * getaddrinfo_a() (its own helper thread), polled with gai_error().
 *
 * A lookup given up while glibc's thread still works on it cannot be freed
 * (the thread writes into it): it is parked on a list and freed once glibc
 * is done with it, at a later start or give-up.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replica_private.h"

struct rresolve {
	struct gaicb cb;
	struct gaicb *list[1];
	struct addrinfo hints;
	char host[256];
	char port[8];
	int async;		/* getaddrinfo_a() under way or finished */
	int rc;			/* literal: 0 or the EAI_ error */
	struct sockaddr_storage sa;
	socklen_t salen;
	struct rresolve *next;	/* parked */
};

/* Given up while glibc was still busy with them. */
static struct rresolve *parked;

static void
take(struct rresolve *q, const struct addrinfo *ai)
{
	q->salen = (socklen_t)RTE_MIN((size_t)ai->ai_addrlen, sizeof(q->sa));
	memcpy(&q->sa, ai->ai_addr, q->salen);
}

static void
reap(void)
{
	struct rresolve **pp = &parked;

	while (*pp != NULL) {
		struct rresolve *q = *pp;

		if (gai_error(&q->cb) == EAI_INPROGRESS) {
			pp = &q->next;
			continue;
		}
		*pp = q->next;
		if (q->cb.ar_result != NULL)
			freeaddrinfo(q->cb.ar_result);
		free(q);
	}
}

struct rresolve *
rresolve_start(const char *host, uint16_t port)
{
	struct rresolve *q;
	struct addrinfo *ai = NULL;
	struct sigevent sev;

	reap();
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	snprintf(q->host, sizeof(q->host), "%s", host);
	snprintf(q->port, sizeof(q->port), "%u", port);
	q->hints.ai_socktype = SOCK_STREAM;
	q->hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	q->rc = getaddrinfo(q->host, q->port, &q->hints, &ai);
	if (q->rc == 0) {
		take(q, ai);
		freeaddrinfo(ai);
		return q;
	}
	/* Not an address: ask glibc's resolver thread. */
	q->hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	q->cb.ar_name = q->host;
	q->cb.ar_service = q->port;
	q->cb.ar_request = &q->hints;
	q->list[0] = &q->cb;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_NONE;
	q->rc = getaddrinfo_a(GAI_NOWAIT, q->list, 1, &sev);
	if (q->rc == 0)
		q->async = 1;
	return q;
}

int
rresolve_poll(struct rresolve *q, struct sockaddr_storage *sa, socklen_t *salen, char *err,
	      size_t errlen)
{
	int rc = q->rc;

	if (q->async) {
		rc = gai_error(&q->cb);
		if (rc == EAI_INPROGRESS)
			return 0;
		if (rc == 0 && q->cb.ar_result == NULL)
			rc = EAI_NONAME;
		if (rc == 0 && q->salen == 0)
			take(q, q->cb.ar_result);
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", q->host,
			 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	memcpy(sa, &q->sa, q->salen);
	*salen = q->salen;
	return 1;
}

void
rresolve_free(struct rresolve *q)
{
	if (q == NULL)
		return;
	if (q->async && gai_cancel(&q->cb) == EAI_NOTCANCELED) {
		q->next = parked;
		parked = q;
		reap();
		return;
	}
	if (q->async && q->cb.ar_result != NULL)
		freeaddrinfo(q->cb.ar_result);
	free(q);
	reap();
}
