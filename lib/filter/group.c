/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Client groups: subnets -> the lists that apply, with a longest-prefix
 * match. Configurations hold tens to a few hundred subnets, so prefixes are
 * kept in one sorted array per address family, grouped by prefix length
 * (longest first); a lookup masks the address once per distinct length and
 * binary-searches that length's run. A home network with a /24 and a few
 * /32s costs two or three searches. No EAL (rte_lpm needs it), so the unit
 * tests need none either.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter_private.h"

struct prefix {
	uint8_t addr[16];		/* masked; IPv4 in the first 4 bytes */
	uint8_t len;
	uint8_t v6;
	uint16_t group;
};

struct len_run {
	uint32_t start;
	uint32_t end;
	uint8_t len;
};

struct family {
	struct prefix *p;
	uint32_t n;
	struct len_run runs[129];
	unsigned int n_runs;
};

struct filter_groups {
	char *names[HD_FILTER_GROUPS_MAX];
	uint64_t lists[HD_FILTER_GROUPS_MAX];
	unsigned int n;
	struct prefix *all;		/* while building */
	size_t n_all, cap_all;
	struct family fam[2];		/* [0] IPv4, [1] IPv6, after finish */
};

struct filter_groups *
filter_groups_create(void)
{
	return calloc(1, sizeof(struct filter_groups));
}

void
filter_groups_free(struct filter_groups *g)
{
	unsigned int i;

	if (g == NULL)
		return;
	for (i = 0; i < g->n; i++)
		free(g->names[i]);
	free(g->all);
	free(g->fam[0].p);
	free(g->fam[1].p);
	free(g);
}

static void
apply_mask(uint8_t *a, unsigned int len, unsigned int bytes)
{
	unsigned int i;

	for (i = 0; i < bytes; i++) {
		if (len >= 8) {
			len -= 8;
			continue;
		}
		a[i] &= (uint8_t)(0xff00u >> len);
		len = 0;
	}
}

/* "10.0.0.0/24", "fd00::/64" or a bare address. */
static int
parse_subnet(const char *s, struct prefix *p)
{
	char buf[64];
	char *slash, *end;
	unsigned long len;
	unsigned int max;

	if (s == NULL || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	memset(p, 0, sizeof(*p));
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		max = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		max = 128;
		p->v6 = 1;
	} else {
		return -EINVAL;
	}
	len = max;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || len > max)
			return -EINVAL;
	}
	p->len = (uint8_t)len;
	/* Host bits are cleared: "192.168.1.7/24" means the /24. */
	apply_mask(p->addr, p->len, p->v6 ? 16 : 4);
	return 0;
}

static int
same_prefix(const struct prefix *a, const struct prefix *b)
{
	return a->v6 == b->v6 && a->len == b->len && memcmp(a->addr, b->addr, 16) == 0;
}

int
filter_groups_add(struct filter_groups *g, const char *name,
		  const char *const *subnets, unsigned int n_subnets, uint64_t lists,
		  char *err, size_t errlen)
{
	struct prefix *np;
	unsigned int i;
	size_t j, added = 0, need = g->n_all + n_subnets;

	if (name == NULL || name[0] == '\0') {
		snprintf(err, errlen, "a group needs a name");
		return -EINVAL;
	}
	for (i = 0; i < g->n; i++) {
		if (strcmp(g->names[i], name) == 0) {
			snprintf(err, errlen, "group '%s' is defined twice", name);
			return -EINVAL;
		}
	}
	if (g->n >= HD_FILTER_GROUPS_MAX) {
		snprintf(err, errlen, "group '%s': too many groups (at most %d)", name,
			 HD_FILTER_GROUPS_MAX);
		return -EINVAL;
	}
	if (need > g->cap_all) {
		size_t cap = g->cap_all ? g->cap_all * 2 : 16;

		while (cap < need)
			cap *= 2;
		np = realloc(g->all, cap * sizeof(*np));
		if (np == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		g->all = np;
		g->cap_all = cap;
	}
	/* Check every subnet before keeping any: a bad group changes nothing. */
	for (i = 0; i < n_subnets; i++) {
		struct prefix *p = &g->all[g->n_all + added];

		if (parse_subnet(subnets[i], p) < 0) {
			snprintf(err, errlen, "group '%s': bad subnet '%s': expected an address "
				 "or address/prefix-length", name, subnets[i] ? subnets[i] : "");
			return -EINVAL;
		}
		p->group = (uint16_t)g->n;
		for (j = 0; j < g->n_all + added; j++) {
			if (!same_prefix(&g->all[j], p))
				continue;
			if (j >= g->n_all)
				break;		/* listed twice in this group */
			snprintf(err, errlen, "group '%s': subnet '%s' is already in group '%s'",
				 name, subnets[i], g->names[g->all[j].group]);
			return -EINVAL;
		}
		if (j == g->n_all + added)
			added++;
	}
	g->names[g->n] = strdup(name);
	if (g->names[g->n] == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	g->lists[g->n] = lists;
	g->n++;
	g->n_all += added;
	return 0;
}

static int
prefix_cmp(const void *a, const void *b)
{
	const struct prefix *x = a, *y = b;

	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;	/* longest first */
	return memcmp(x->addr, y->addr, 16);
}

int
filter_groups_finish(struct filter_groups *g)
{
	size_t i;
	int f;

	for (f = 0; f < 2; f++) {
		struct family *fam = &g->fam[f];
		uint32_t n = 0, j;

		for (i = 0; i < g->n_all; i++)
			n += g->all[i].v6 == f;
		if (n == 0)
			continue;
		fam->p = malloc(n * sizeof(*fam->p));
		if (fam->p == NULL)
			return -ENOMEM;
		for (i = 0; i < g->n_all; i++)
			if (g->all[i].v6 == f)
				fam->p[fam->n++] = g->all[i];
		qsort(fam->p, fam->n, sizeof(*fam->p), prefix_cmp);
		for (j = 0; j < fam->n; j++) {
			if (fam->n_runs == 0 || fam->runs[fam->n_runs - 1].len != fam->p[j].len) {
				fam->runs[fam->n_runs].start = j;
				fam->runs[fam->n_runs].len = fam->p[j].len;
				fam->n_runs++;
			}
			fam->runs[fam->n_runs - 1].end = j + 1;
		}
	}
	free(g->all);
	g->all = NULL;
	g->n_all = g->cap_all = 0;
	return 0;
}

int
filter_groups_lookup(const struct filter_groups *g, const uint8_t *addr, int ipv6,
		     uint64_t *lists)
{
	const struct family *fam;
	unsigned int r, bytes = ipv6 ? 16 : 4;

	if (g == NULL)
		return 0;
	fam = &g->fam[ipv6 ? 1 : 0];
	for (r = 0; r < fam->n_runs; r++) {
		const struct len_run *run = &fam->runs[r];
		uint8_t key[16] = { 0 };
		uint32_t lo = run->start, hi = run->end;

		memcpy(key, addr, bytes);
		apply_mask(key, run->len, bytes);
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			int c = memcmp(fam->p[mid].addr, key, 16);

			if (c == 0) {
				*lists = g->lists[fam->p[mid].group];
				return 1;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return 0;
}

size_t
filter_groups_memory(const struct filter_groups *g)
{
	size_t m;
	unsigned int i;

	if (g == NULL)
		return 0;
	m = sizeof(*g) + ((size_t)g->fam[0].n + g->fam[1].n) * sizeof(struct prefix);
	for (i = 0; i < g->n; i++)
		m += strlen(g->names[i]) + 1;
	return m;
}
