/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Blocklist load benchmark (not a test): load and compile a list of
 * 1,000,000 distinct names, then look names up.
 *
 *   bench_filter_load [--names N] [--syntax hosts|domains|...] [FILE]
 *
 * Without FILE it generates N (default 1,000,000) distinct names shaped like
 * the ones in real lists: 1-3 labels of tracker-ish words and digits under
 * a registrable domain of 4-14 letters and a TLD from a realistic mix
 * (average length about 26 characters, as in the hagezi and OISD lists),
 * written as a hosts file ("0.0.0.0 name"), the most common syntax.
 *
 * Prints: load time (parse + insert, hd_filter_builder_add_list), compile
 * time (hd_filter_build), lookups per second for names in the list and for
 * names not in it (hd_filter_match on wire names prepared beforehand),
 * hd_filter_memory(), and the resident memory growth from /proc/self/status
 * (VmRSS after the build minus before the load, the list text excluded, and
 * the peak during load+compile from VmHWM after resetting it).
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hd_filter.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* VmRSS or VmHWM in kB, -1 when /proc is not there. */
static long
status_kb(const char *key)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	size_t kl = strlen(key);

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, key, kl) == 0 && line[kl] == ':')
			kb = strtol(line + kl + 1, NULL, 10);
	fclose(fp);
	return kb;
}

/* Reset VmHWM to the current RSS (Linux >= 4.0); 0 when it worked. */
static int
reset_peak(void)
{
	FILE *fp = fopen("/proc/self/clear_refs", "w");
	int rc;

	if (fp == NULL)
		return -1;
	rc = fputs("5", fp) < 0;
	return fclose(fp) != 0 || rc ? -1 : 0;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)((rng >> 11) % n);
}

static const char *const words[] = {
	"ads", "ad", "track", "tracker", "pixel", "metrics", "stats", "analytics", "cdn",
	"static", "img", "beacon", "tag", "tags", "click", "log", "telemetry", "sync",
	"match", "bid", "rtb", "serve", "banner", "promo", "collect", "events", "api",
	"mobile", "app", "sdk", "push", "notify", "data", "insight", "counter", "geo",
	"eu", "us", "asia", "www", "m", "s", "t", "px", "js", "media", "video", "popup",
};
static const char *const tlds[] = {
	"com", "com", "com", "com", "com", "net", "net", "org", "io", "info", "xyz", "ru",
	"de", "co", "biz", "top", "online", "site", "co.uk", "com.br", "cn", "fr", "pl", "in",
};

static size_t
gen_name(char *out, size_t cap, uint32_t i)
{
	size_t o = 0;
	unsigned int labels = 1 + rnd(3), k, dl;

	for (k = 0; k < labels; k++) {
		o += (size_t)snprintf(out + o, cap - o, "%s", words[rnd(sizeof(words) /
								      sizeof(words[0]))]);
		if (rnd(3) == 0)
			o += (size_t)snprintf(out + o, cap - o, "%u", rnd(100));
		out[o++] = rnd(5) == 0 ? '-' : '.';
	}
	if (out[o - 1] == '-')
		out[o - 1] = '.';
	dl = 4 + rnd(11);
	for (k = 0; k < dl; k++)
		out[o++] = (char)('a' + rnd(26));
	/* The index makes every name distinct; base 36 keeps it name-like. */
	do {
		out[o++] = "0123456789abcdefghijklmnopqrstuvwxyz"[i % 36];
		i /= 36;
	} while (i != 0);
	o += (size_t)snprintf(out + o, cap - o, ".%s", tlds[rnd(sizeof(tlds) / sizeof(tlds[0]))]);
	return o;
}

static size_t
to_wire(const char *s, size_t n, uint8_t *w)
{
	size_t o = 1, lp = 0, i;

	w[0] = 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			lp = o++;
			w[lp] = 0;
			continue;
		}
		w[o++] = (uint8_t)s[i];
		w[lp]++;
	}
	w[o++] = 0;
	return o;
}

/* Names packed one after another, as a stream of queries would bring them. */
struct wire_set {
	uint8_t *buf;
	uint32_t *off;
	uint16_t *len;
	size_t n, used;
};

static void
ws_add(struct wire_set *ws, const char *name)
{
	ws->off[ws->n] = (uint32_t)ws->used;
	ws->len[ws->n] = (uint16_t)to_wire(name, strlen(name), ws->buf + ws->used);
	ws->used += ws->len[ws->n];
	ws->n++;
}

static int
lookups(const struct hd_filter *f, const struct wire_set *ws, double *rate)
{
	unsigned int list;
	size_t i, rounds = 0, hits = 0;
	double t0 = now(), t;

	do {
		for (i = 0; i < ws->n; i++) {
			/* The fast path has the name in L1, just parsed from the packet. */
			__builtin_prefetch(ws->buf + ws->off[i] + 256);
			hits += (size_t)hd_filter_match(f, ws->buf + ws->off[i], ws->len[i],
							UINT64_MAX, &list);
		}
		rounds++;
		t = now() - t0;
	} while (t < 0.5);
	*rate = (double)(rounds * ws->n) / t;
	return (int)(hits / rounds);
}

int
main(int argc, char **argv)
{
	struct hd_filter_list_spec spec = { .name = "bench", .source = "generated" };
	struct hd_filter_report rep;
	struct hd_filter_builder *b;
	struct hd_filter *f;
	struct wire_set hit = { 0 }, miss = { 0 };
	const char *file = NULL;
	size_t n_names = 1000000, len = 0, cap, i, sample = 100000;
	char *text = NULL, name[300];
	long rss0, rss1, hwm;
	double t0, t_load, t_build, hit_rate, miss_rate;
	int a, hits_found, misses_found, peak_ok;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--names") == 0 && a + 1 < argc)
			n_names = strtoul(argv[++a], NULL, 10);
		else if (strcmp(argv[a], "--syntax") == 0 && a + 1 < argc) {
			if (hd_filter_syntax_parse(argv[++a], &spec.syntax) < 0) {
				fprintf(stderr, "unknown syntax %s\n", argv[a]);
				return 1;
			}
		} else
			file = argv[a];
	}
	if (file != NULL) {
		FILE *fp = fopen(file, "rb");
		long n;

		if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
		    fseek(fp, 0, SEEK_SET) != 0 || (text = malloc((size_t)n + 1)) == NULL ||
		    fread(text, 1, (size_t)n, fp) != (size_t)n) {
			fprintf(stderr, "cannot read %s: %s\n", file, strerror(errno));
			return 1;
		}
		fclose(fp);
		len = (size_t)n;
		spec.source = file;
	} else {
		cap = n_names * 64 + 64;
		text = malloc(cap);
		if (text == NULL)
			return 1;
		for (i = 0; i < n_names; i++) {
			memcpy(text + len, "0.0.0.0 ", 8);
			len += 8;
			len += gen_name(text + len, cap - len, (uint32_t)i);
			text[len++] = '\n';
		}
		spec.syntax = HD_FILTER_SYNTAX_HOSTS;
	}

	/* Lookup sets: names from the list, and the same names under another TLD. */
	hit.buf = malloc(sample * 256);
	hit.off = malloc(sample * sizeof(*hit.off));
	hit.len = malloc(sample * sizeof(*hit.len));
	miss.buf = malloc(sample * 256);
	miss.off = malloc(sample * sizeof(*miss.off));
	miss.len = malloc(sample * sizeof(*miss.len));
	if (hit.buf == NULL || hit.len == NULL || miss.buf == NULL || miss.len == NULL ||
	    hit.off == NULL || miss.off == NULL)
		return 1;

	rss0 = status_kb("VmRSS");
	peak_ok = reset_peak() == 0;
	t0 = now();
	b = hd_filter_builder_create();
	if (b == NULL || hd_filter_builder_add_list(b, &spec, text, len, &rep) < 0) {
		fprintf(stderr, "load failed\n");
		return 1;
	}
	t_load = now() - t0;
	t0 = now();
	f = hd_filter_build(b);
	t_build = now() - t0;
	if (f == NULL) {
		fprintf(stderr, "build failed: %s\n", strerror(errno));
		return 1;
	}
	rss1 = status_kb("VmRSS");
	hwm = status_kb("VmHWM");

	/* Pick lookup names by walking the text's lines with a stride. */
	{
		size_t stride = rep.lines / sample + 1, line = 0, pos = 0;

		while (pos < len && hit.n < sample) {
			char *s = text + pos, *nl = memchr(s, '\n', len - pos);
			size_t n = nl ? (size_t)(nl - s) : len - pos;
			struct hd_filter_rule r;
			const char *why;

			pos += n + 1;
			if (line++ % stride != 0 ||
			    hd_filter_parse_line(rep.syntax, s, n, &r, &why) < 0 ||
			    r.kind == HD_FILTER_RULE_NONE || r.kind == HD_FILTER_RULE_PATTERN)
				continue;
			ws_add(&hit, r.name);
			snprintf(name, sizeof(name), "%.200s.zz-not-a-tld", r.name);
			if (r.kind == HD_FILTER_RULE_SUBTREE)	/* a parent is not blocked */
				snprintf(name, sizeof(name), "zz-miss-%.200s", r.name);
			ws_add(&miss, name);
		}
	}
	hits_found = lookups(f, &hit, &hit_rate);
	misses_found = lookups(f, &miss, &miss_rate);

	printf("list: %s, syntax %s, %u lines, %u rules, %u skipped, %u rejected, "
	       "%u after dedup\n", spec.source, hd_filter_syntax_name(rep.syntax), rep.lines,
	       rep.rules, rep.skipped, rep.rejected, hd_filter_list_rules(f, 0));
	printf("load (parse+insert): %.3f s\n", t_load);
	printf("compile:             %.3f s\n", t_build);
	printf("load+compile:        %.3f s\n", t_load + t_build);
	printf("lookups, hits:   %.2f M/s (%.0f ns each; %d of %zu blocked)\n",
	       hit_rate / 1e6, 1e9 / hit_rate, hits_found, hit.n);
	printf("lookups, misses: %.2f M/s (%.0f ns each; %d of %zu blocked)\n",
	       miss_rate / 1e6, 1e9 / miss_rate, misses_found, miss.n);
	printf("filter memory (hd_filter_memory): %.1f MB\n",
	       (double)hd_filter_memory(f) / 1048576.0);
	printf("RSS delta after build: %.1f MB", (double)(rss1 - rss0) / 1024.0);
	if (peak_ok)
		printf(", peak during load+compile: %.1f MB", (double)(hwm - rss0) / 1024.0);
	printf(" (list text of %.1f MB not included)\n", (double)len / 1048576.0);
	hd_filter_free(f);
	free(text);
	free(hit.buf);
	free(hit.len);
	free(hit.off);
	free(miss.buf);
	free(miss.len);
	free(miss.off);
	return hits_found == (int)hit.n ? 0 : 1;
}
