/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_FILTER_TEST_H
#define HD_FILTER_TEST_H

/*
 * Helpers for the lib/filter suites: names to wire form written here, not
 * taken from the library, so a bug there cannot check its own output; and
 * one-call "build a filter from these lists" for the matcher tests.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hd_filter.h"
#include "../hd_test.h"

/* "www.Example.com." -> lowercase wire form with the root label. @return length. */
static inline size_t
t_wire(const char *name, uint8_t *out)
{
	size_t o = 0, lp = 0;

	out[o++] = 0;
	for (; *name != '\0'; name++) {
		if (*name == '.') {
			if (name[1] == '\0')
				break;
			lp = o;
			out[o++] = 0;
			continue;
		}
		out[o++] = (uint8_t)(*name >= 'A' && *name <= 'Z' ? *name + 32 : *name);
		out[lp]++;
	}
	out[o++] = 0;
	return o;
}

/* Blocked for the lists in @p lists? -1 on a name that does not fit. */
static inline int
t_match(const struct hd_filter *f, const char *name, uint64_t lists, unsigned int *list)
{
	uint8_t w[300];
	unsigned int dummy;

	if (strlen(name) > 253)
		return -1;
	return hd_filter_match(f, w, t_wire(name, w), lists, list != NULL ? list : &dummy);
}

static inline int
t_add(struct hd_filter_builder *b, const char *name, enum hd_filter_syntax syntax, int allow,
      const char *text, struct hd_filter_report *rep)
{
	struct hd_filter_list_spec spec = {
		.name = name,
		.source = name,
		.syntax = syntax,
		.allow = allow,
		.response = { .mode = HD_FILTER_MODE_NXDOMAIN, .ttl = 60 },
	};

	return hd_filter_builder_add_list(b, &spec, text, strlen(text), rep);
}

/* Read a whole file; NULL when it cannot be read. */
static inline char *
t_slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf != NULL && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else if (buf != NULL) {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(fp);
	return buf;
}

#endif /* HD_FILTER_TEST_H */
