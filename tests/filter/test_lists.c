/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shared-data test: real lists (AdAway, uBlock badware/privacy), each
 * published by the same maintainer in six syntaxes. Whichever one of the
 * six files of a list a user loads, every name of that list's hosts file
 * must be blocked, with no line of any file refused; and the hagezi
 * allow-referral list (AdBlock exceptions, some with '*') used as an
 * allowlist must unblock exactly the names its rules cover.
 *
 * The data folder comes from meson as argv[1]
 * (<repo>/../shared/data/blocklists). When it is missing the suite fails
 * and says so: a skipped data test would hide a loader that lost a syntax.
 */

#include <errno.h>
#include <fnmatch.h>
#include <string.h>
#include <sys/stat.h>

#include "filter_test.h"

static const char *dir;

struct names {
	char **v;
	size_t n, cap;
};

static void
names_add(struct names *s, const char *p, size_t n)
{
	size_t i;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		CU_ASSERT_PTR_NOT_NULL_FATAL(s->v);
	}
	s->v[s->n] = strndup(p, n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s->v[s->n]);
	for (i = 0; i < n; i++)
		if (s->v[s->n][i] >= 'A' && s->v[s->n][i] <= 'Z')
			s->v[s->n][i] += 32;
	s->n++;
}

static void
names_free(struct names *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
load(const char *file, size_t *len)
{
	char path[4096];
	char *text;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	text = t_slurp(path, len);
	if (text == NULL)
		fprintf(stderr, "\n  cannot read %s\n", path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	return text;
}

/*
 * The names of a hosts file (@p field 1) or domain file (@p field 0), read
 * with a parser of its own: comments start with '#', fields are blank-separated.
 */
static void
read_names(const char *file, int field, struct names *out)
{
	size_t len, pos = 0;
	char *text = load(file, &len);

	memset(out, 0, sizeof(*out));
	while (pos < len) {
		char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		int f = 0;

		pos += n + 1;
		while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' '))
			n--;
		if (n == 0 || s[0] == '#')
			continue;
		while (n > 0) {
			size_t t = strcspn(s, " \t");

			if (t > n)
				t = n;
			if (t > 0 && f++ == field) {
				names_add(out, s, t);
				break;
			}
			s += t + (t < n);
			n -= t + (t < n);
		}
	}
	free(text);
	qsort(out->v, out->n, sizeof(*out->v), str_cmp);
}

static const char *const lists[] = { "adaway", "ublock" };
static const size_t list_names[] = { 7648, 2584 };	/* per the data's README */

static void
test_domains_same_as_hosts(void)
{
	size_t i, j;

	for (i = 0; i < T_DIM(lists); i++) {
		struct names hosts, domains;
		char file[64];

		snprintf(file, sizeof(file), "%s.hosts.txt", lists[i]);
		read_names(file, 1, &hosts);
		snprintf(file, sizeof(file), "%s.domains.txt", lists[i]);
		read_names(file, 0, &domains);
		CU_ASSERT_EQUAL(hosts.n, list_names[i]);
		CU_ASSERT_EQUAL_FATAL(domains.n, hosts.n);
		for (j = 0; j < hosts.n; j++)
			CU_ASSERT_STRING_EQUAL(domains.v[j], hosts.v[j]);
		names_free(&hosts);
		names_free(&domains);
	}
}

static const struct {
	const char *suffix;
	enum hd_filter_syntax syntax;
	int exact;		/* lists every name: one rule per hosts name */
} files[] = {
	{ "hosts.txt", HD_FILTER_SYNTAX_HOSTS, 1 },
	{ "domains.txt", HD_FILTER_SYNTAX_DOMAINS, 1 },
	{ "adblock.txt", HD_FILTER_SYNTAX_ADBLOCK, 0 },
	{ "wildcard.txt", HD_FILTER_SYNTAX_WILDCARD, 0 },
	{ "dnsmasq.txt", HD_FILTER_SYNTAX_DNSMASQ, 0 },
	{ "unbound.conf", HD_FILTER_SYNTAX_UNBOUND, 0 },
};

/* Build a filter from files, each detected; @p allow_file as an allowlist. */
static struct hd_filter *
build_files(const char *block_file, enum hd_filter_syntax want, const char *allow_file)
{
	struct hd_filter_builder *b = hd_filter_builder_create();
	struct hd_filter_list_spec spec = { .name = block_file, .source = block_file };
	struct hd_filter_report rep;
	size_t len;
	char *text = load(block_file, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(hd_filter_builder_add_list(b, &spec, text, len, &rep), 0);
	CU_ASSERT_EQUAL(rep.syntax, want);
	CU_ASSERT_EQUAL(rep.rejected, 0);
	CU_ASSERT(rep.rules > 1000);
	if (rep.rejected != 0 || rep.syntax != want)
		fprintf(stderr, "\n  %s: syntax %s, %u rejected, first: %s\n", block_file,
			hd_filter_syntax_name(rep.syntax), rep.rejected,
			rep.n_errors ? rep.errors[0] : "");
	free(text);
	if (allow_file != NULL) {
		spec.name = allow_file;
		spec.source = allow_file;
		spec.allow = 1;
		text = load(allow_file, &len);
		CU_ASSERT_EQUAL(hd_filter_builder_add_list(b, &spec, text, len, &rep), 1);
		CU_ASSERT_EQUAL(rep.syntax, HD_FILTER_SYNTAX_ADBLOCK);
		CU_ASSERT_EQUAL(rep.rejected, 0);
		CU_ASSERT(rep.rules >= 480);
		free(text);
	}
	return hd_filter_build(b);
}

static void
test_every_file_blocks_every_host(void)
{
	size_t i, k, j;

	for (i = 0; i < T_DIM(lists); i++) {
		struct names hosts;
		char file[64];

		snprintf(file, sizeof(file), "%s.hosts.txt", lists[i]);
		read_names(file, 1, &hosts);
		CU_ASSERT_FATAL(hosts.n > 1000);
		for (k = 0; k < T_DIM(files); k++) {
			struct hd_filter *f;
			size_t missed = 0;

			snprintf(file, sizeof(file), "%s.%s", lists[i], files[k].suffix);
			f = build_files(file, files[k].syntax, NULL);
			CU_ASSERT_PTR_NOT_NULL_FATAL(f);
			for (j = 0; j < hosts.n; j++) {
				if (t_match(f, hosts.v[j], UINT64_MAX, NULL) == 1)
					continue;
				if (missed++ < 3)
					fprintf(stderr, "\n  %s does not block %s\n", file,
						hosts.v[j]);
			}
			CU_ASSERT_EQUAL(missed, 0);
			if (files[k].exact) {
				CU_ASSERT_EQUAL(hd_filter_list_rules(f, 0), hosts.n);
			} else {
				CU_ASSERT(hd_filter_list_rules(f, 0) < hosts.n);
			}
			/* And not everything: names outside the list pass. */
			CU_ASSERT_EQUAL(t_match(f, "example.org", UINT64_MAX, NULL), 0);
			CU_ASSERT_EQUAL(t_match(f, "www.wikipedia.org", UINT64_MAX, NULL), 0);
			hd_filter_free(f);
		}
		names_free(&hosts);
	}
}

/* A hosts file blocks exactly: a subdomain of a listed name is not blocked. */
static void
test_hosts_file_is_exact(void)
{
	struct hd_filter *f = build_files("adaway.hosts.txt", HD_FILTER_SYNTAX_HOSTS, NULL);
	struct hd_filter *g = build_files("adaway.adblock.txt", HD_FILTER_SYNTAX_ADBLOCK, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(t_match(f, "15.taboola.com", UINT64_MAX, NULL), 1);
	CU_ASSERT_EQUAL(t_match(f, "zz-not-listed.15.taboola.com", UINT64_MAX, NULL), 0);
	CU_ASSERT_EQUAL(t_match(g, "zz-not-listed.15.taboola.com", UINT64_MAX, NULL), 1);
	hd_filter_free(f);
	hd_filter_free(g);
}

struct allow_rules {
	char **p;
	size_t n;
};

/* The allowlist's "@@||p^" rules, read here with a parser of its own. */
static void
read_allow(struct allow_rules *a)
{
	size_t len, pos = 0;
	char *text = load("hagezi-allow-referral.adblock.txt", &len);

	a->p = calloc(len / 4 + 1, sizeof(*a->p));
	a->n = 0;
	CU_ASSERT_PTR_NOT_NULL_FATAL(a->p);
	while (pos < len) {
		char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;

		pos += n + 1;
		if (n > 5 && strncmp(s, "@@||", 4) == 0 && s[n - 1] == '^')
			a->p[a->n++] = strndup(s + 4, n - 5);
	}
	free(text);
}

/* "@@||p^" covers a name when p matches it or one of its parents. */
static int
allowed(const struct allow_rules *a, const char *name)
{
	char sub[300];
	size_t i;

	for (i = 0; i < a->n; i++) {
		snprintf(sub, sizeof(sub), "*.%s", a->p[i]);
		if (fnmatch(a->p[i], name, 0) == 0 || fnmatch(sub, name, 0) == 0)
			return 1;
	}
	return 0;
}

static void
test_allowlist_unblocks(void)
{
	static const char *const blockfiles[] = {
		"adaway.hosts.txt", "adaway.adblock.txt", "ublock.hosts.txt",
	};
	static const enum hd_filter_syntax syn[] = {
		HD_FILTER_SYNTAX_HOSTS, HD_FILTER_SYNTAX_ADBLOCK, HD_FILTER_SYNTAX_HOSTS,
	};
	struct allow_rules a;
	size_t i, j;

	read_allow(&a);
	CU_ASSERT_FATAL(a.n >= 480);
	for (i = 0; i < T_DIM(blockfiles); i++) {
		struct names hosts;
		struct hd_filter *f;
		char file[64];
		size_t n_allowed = 0, wrong = 0;

		snprintf(file, sizeof(file), "%.6s.hosts.txt", blockfiles[i]);
		read_names(file, 1, &hosts);
		f = build_files(blockfiles[i], syn[i], "hagezi-allow-referral.adblock.txt");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		for (j = 0; j < hosts.n; j++) {
			int want = !allowed(&a, hosts.v[j]);
			unsigned int list = 99;
			int got = t_match(f, hosts.v[j], UINT64_MAX, &list);

			n_allowed += !want;
			if (got != want || list != (want ? 0u : 1u)) {
				if (wrong++ < 3)
					fprintf(stderr, "\n  %s + allowlist: %s got %d (list %u), "
						"want %d\n", blockfiles[i], hosts.v[j], got, list,
						want);
			}
			/* Without the allowlist applied, the block stands. */
			CU_ASSERT_EQUAL(t_match(f, hosts.v[j], 1, NULL), 1);
		}
		CU_ASSERT_EQUAL(wrong, 0);
		/* The data holds such names (83 for AdAway, 1 for uBlock), some by '*' rules. */
		CU_ASSERT(n_allowed > 0);
		if (i == 0) {
			CU_ASSERT(n_allowed >= 80);
			CU_ASSERT_EQUAL(t_match(f, "aax-fe-sin.amazon-adsystem.com", UINT64_MAX,
						NULL), 0);
		}
		hd_filter_free(f);
		names_free(&hosts);
	}
	for (i = 0; i < a.n; i++)
		free(a.p[i]);
	free(a.p);
}

static const struct t_case cases[] = {
	T_CASE(test_domains_same_as_hosts),
	T_CASE(test_every_file_blocks_every_host),
	T_CASE(test_hosts_file_is_exact),
	T_CASE(test_allowlist_unblocks),
};

int
main(int argc, char **argv)
{
	struct stat st;
	char probe[4096];

	if (argc < 2) {
		fprintf(stderr, "FAIL: usage: %s BLOCKLIST_DATA_DIR (meson passes "
			"<repo>/../shared/data/blocklists)\n", argv[0]);
		return 1;
	}
	dir = argv[1];
	snprintf(probe, sizeof(probe), "%s/adaway.hosts.txt", dir);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || stat(probe, &st) != 0) {
		fprintf(stderr, "FAIL: the shared blocklist data is missing: %s (expected the "
			"folder shared/data/blocklists beside the repository, with "
			"adaway.hosts.txt and the other lists of its README)\n", dir);
		return 1;
	}
	return t_run("filter_lists", cases, T_DIM(cases));
}
