/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hd_prom.h"

int
hd_prom_init(struct hd_prom *p)
{
	memset(p, 0, sizeof(*p));
	p->cap = 64 * 1024;
	p->buf = malloc(p->cap);
	if (p->buf == NULL) {
		p->cap = 0;
		p->err = -ENOMEM;
		return -ENOMEM;
	}
	p->buf[0] = '\0';
	return 0;
}

void
hd_prom_free(struct hd_prom *p)
{
	free(p->buf);
	p->buf = NULL;
	p->len = p->cap = 0;
}

static int
reserve(struct hd_prom *p, size_t more)
{
	size_t cap = p->cap != 0 ? p->cap : 4096;
	char *b;

	if (p->err != 0)
		return p->err;
	if (p->len + more + 1 <= p->cap)
		return 0;
	while (cap < p->len + more + 1)
		cap *= 2;
	b = realloc(p->buf, cap);
	if (b == NULL) {
		p->err = -ENOMEM;
		return p->err;
	}
	p->buf = b;
	p->cap = cap;
	return 0;
}

static void
put(struct hd_prom *p, const char *s, size_t n)
{
	if (reserve(p, n) != 0)
		return;
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void
puts_(struct hd_prom *p, const char *s)
{
	put(p, s, strlen(s));
}

size_t
hd_prom_escape(char *out, size_t size, const char *in)
{
	size_t n = 0;

	for (; *in != '\0'; in++) {
		const char *rep = NULL;
		char one[2] = { *in, '\0' };
		size_t k;

		if (*in == '\\')
			rep = "\\\\";
		else if (*in == '"')
			rep = "\\\"";
		else if (*in == '\n')
			rep = "\\n";
		else
			rep = one;
		for (k = 0; rep[k] != '\0'; k++, n++)
			if (n + 1 < size)
				out[n] = rep[k];
	}
	if (size > 0)
		out[n < size ? n : size - 1] = '\0';
	return n;
}

/* HELP text: only backslash and newline are escaped there. */
static void
put_help(struct hd_prom *p, const char *help)
{
	for (; *help != '\0'; help++) {
		if (*help == '\\')
			put(p, "\\\\", 2);
		else if (*help == '\n')
			put(p, "\\n", 2);
		else
			put(p, help, 1);
	}
}

int
hd_prom_name_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || strlen(s) >= HD_PROM_NAME_MAX)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];
		int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			    c == ':';

		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return 0;
	}
	return 1;
}

/* Label names have no ':' and do not start with "__" (reserved). */
static int
label_name_ok(const char *s)
{
	return hd_prom_name_ok(s) && strchr(s, ':') == NULL && strncmp(s, "__", 2) != 0;
}

/* FNV-1a: only to tell family names apart, collisions are harmless enough. */
static uint64_t
name_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

int
hd_prom_family(struct hd_prom *p, const char *name, const char *type, const char *help)
{
	static const char *const types[] = {
		"counter", "gauge", "histogram", "summary", "untyped",
	};
	uint64_t h;
	unsigned int i;
	int type_ok = 0;

	p->family[0] = '\0';
	for (i = 0; type != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		type_ok |= strcmp(type, types[i]) == 0;
	if (!hd_prom_name_ok(name) || !type_ok) {
		p->dropped++;
		return -EINVAL;
	}
	h = name_hash(name);
	for (i = 0; i < p->n_seen; i++) {
		if (p->seen[i] == h) {
			p->dropped++;
			return -EEXIST;
		}
	}
	if (p->n_seen < HD_PROM_FAMILIES_MAX)
		p->seen[p->n_seen++] = h;
	snprintf(p->family, sizeof(p->family), "%s", name);
	snprintf(p->type, sizeof(p->type), "%s", type);
	puts_(p, "# HELP ");
	puts_(p, name);
	puts_(p, " ");
	put_help(p, help != NULL ? help : "");
	puts_(p, "\n# TYPE ");
	puts_(p, name);
	puts_(p, " ");
	puts_(p, type);
	puts_(p, "\n");
	return 0;
}

/* The sample's name is the family's, or family_{bucket,sum,count} where allowed. */
static int
sample_belongs(const struct hd_prom *p, const char *name)
{
	size_t n = strlen(p->family);
	const char *suffix;

	if (n == 0 || strncmp(name, p->family, n) != 0)
		return 0;
	suffix = name + n;
	if (*suffix == '\0')
		return strcmp(p->type, "histogram") != 0;
	if (strcmp(p->type, "histogram") == 0)
		return strcmp(suffix, "_bucket") == 0 || strcmp(suffix, "_sum") == 0 ||
		       strcmp(suffix, "_count") == 0;
	if (strcmp(p->type, "summary") == 0)
		return strcmp(suffix, "_sum") == 0 || strcmp(suffix, "_count") == 0;
	return 0;
}

static int
sample(struct hd_prom *p, const char *name, const char *value, va_list labels)
{
	char esc[512], line[2048];
	const char *k, *v;
	size_t off;
	int first = 1, n;

	if (name == NULL || !sample_belongs(p, name)) {
		p->dropped++;
		return -EINVAL;
	}
	off = (size_t)snprintf(line, sizeof(line), "%s", name);
	while ((k = va_arg(labels, const char *)) != NULL) {
		v = va_arg(labels, const char *);
		if (v == NULL || !label_name_ok(k) ||
		    hd_prom_escape(esc, sizeof(esc), v) >= sizeof(esc)) {
			p->dropped++;
			return -EINVAL;
		}
		n = snprintf(line + off, sizeof(line) - off, "%s%s=\"%s\"", first ? "{" : ",", k,
			     esc);
		if (n < 0 || (size_t)n >= sizeof(line) - off) {
			p->dropped++;
			return -ENOSPC;
		}
		off += (size_t)n;
		first = 0;
	}
	n = snprintf(line + off, sizeof(line) - off, "%s %s\n", first ? "" : "}", value);
	if (n < 0 || (size_t)n >= sizeof(line) - off) {
		p->dropped++;
		return -ENOSPC;
	}
	put(p, line, off + (size_t)n);
	return p->err;
}

int
hd_prom_u64v(struct hd_prom *p, const char *name, uint64_t v, va_list labels)
{
	char value[32];

	snprintf(value, sizeof(value), "%" PRIu64, v);
	return sample(p, name, value, labels);
}

int
hd_prom_doublev(struct hd_prom *p, const char *name, double v, va_list labels)
{
	char value[32];

	if (isnan(v))
		snprintf(value, sizeof(value), "NaN");
	else if (isinf(v))
		snprintf(value, sizeof(value), "%s", v > 0 ? "+Inf" : "-Inf");
	else
		snprintf(value, sizeof(value), "%.10g", v);
	return sample(p, name, value, labels);
}

int
hd_prom_u64(struct hd_prom *p, const char *name, uint64_t v, ...)
{
	va_list ap;
	int ret;

	va_start(ap, v);
	ret = hd_prom_u64v(p, name, v, ap);
	va_end(ap);
	return ret;
}

int
hd_prom_double(struct hd_prom *p, const char *name, double v, ...)
{
	va_list ap;
	int ret;

	va_start(ap, v);
	ret = hd_prom_doublev(p, name, v, ap);
	va_end(ap);
	return ret;
}
