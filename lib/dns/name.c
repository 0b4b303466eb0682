/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Domain names: reading with decompression (the only place upstream names
 * are resolved, so every pointer rule lives here), compressed writing,
 * comparison and presentation form.
 */

#include <errno.h>
#include <string.h>

/* hd_wire.h uses likely/unlikely without including their header. */
#include <rte_branch_prediction.h>

#include "hd_dns.h"
#include "dns_private.h"

/* A name of 255 bytes holds at most 127 labels besides the root. */
#define LABELS_MAX 128

int
hd_dns_name_read(struct hd_wire *w, uint8_t *out)
{
	const uint8_t *msg = w->buf;
	size_t len = w->len;
	size_t pos, limit, after = 0;
	size_t n = 0;
	unsigned int hops = 0;
	int rc;

	if (w->err != 0)
		return w->err;
	pos = w->pos;
	/*
	 * Every pointer must go strictly below the lowest offset this name has
	 * reached so far; offsets only decrease, so a loop cannot form.
	 */
	limit = pos;
	for (;;) {
		size_t target;
		uint8_t c;

		if (unlikely(pos >= len)) {
			rc = -EMSGSIZE;
			goto fail;
		}
		c = msg[pos];
		if (c == 0) {
			out[n++] = 0;
			pos++;
			break;
		}
		if (c < 0x40) {
			/* The label and at least the root byte must still fit. */
			if (unlikely(n + 1 + c + 1 > HD_DNS_NAME_MAX)) {
				rc = -EBADMSG;
				goto fail;
			}
			if (unlikely(len - pos - 1 < c)) {
				rc = -EMSGSIZE;
				goto fail;
			}
			memcpy(out + n, msg + pos, 1 + (size_t)c);
			n += 1 + (size_t)c;
			pos += 1 + (size_t)c;
			continue;
		}
		if (unlikely(c < 0xc0)) {
			/* 0x40 (extended) and 0x80 (reserved) label types. */
			rc = -EBADMSG;
			goto fail;
		}
		if (unlikely(len - pos < 2)) {
			rc = -EMSGSIZE;
			goto fail;
		}
		target = ((size_t)(c & 0x3f) << 8) | msg[pos + 1];
		if (hops == 0)
			after = pos + 2;
		if (unlikely(target >= limit || ++hops > HD_DNS_PTR_HOPS_MAX)) {
			rc = -EBADMSG;
			goto fail;
		}
		limit = target;
		pos = target;
	}
	w->pos = hops ? after : pos;
	return (int)n;
fail:
	hd_wire_fail(w, rc);
	return rc;
}

int
hd_dns_name_skip(struct hd_wire *w)
{
	size_t total = 0;

	for (;;) {
		uint8_t c = hd_wire_read_u8(w);

		if (!hd_wire_ok(w))
			return w->err;
		if (c == 0)
			return 0;
		if (c >= 0xc0) {
			hd_wire_skip(w, 1);
			return hd_wire_ok(w) ? 0 : w->err;
		}
		total += 1 + (size_t)c;
		if (c >= 0x40 || total + 1 > HD_DNS_NAME_MAX) {
			hd_wire_fail(w, -EBADMSG);
			return -EBADMSG;
		}
		hd_wire_skip(w, c);
	}
}

void
hd_dns_name_lower(uint8_t *name, size_t len)
{
	size_t i;

	/* Length bytes are <= 63, never in 'A'..'Z', so no need to skip them. */
	for (i = 0; i < len; i++)
		name[i] = hd_dns_lower(name[i]);
}

int
hd_dns_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++)
		if (hd_dns_lower(a[i]) != hd_dns_lower(b[i]))
			return 0;
	return 1;
}

/*
 * Offsets of the labels of an uncompressed wire name, root excluded.
 * @return the label count, or -1 when the name is not well formed.
 */
static int
name_labels(const uint8_t *name, size_t len, uint8_t *lab)
{
	size_t pos = 0;
	int n = 0;

	if (len == 0 || len > HD_DNS_NAME_MAX)
		return -1;
	while (pos < len && name[pos] != 0) {
		if (name[pos] > HD_DNS_LABEL_MAX || n >= LABELS_MAX)
			return -1;
		lab[n++] = (uint8_t)pos;
		pos += 1 + (size_t)name[pos];
	}
	return pos + 1 == len ? n : -1;
}

/*
 * Label offsets of a name already written into our own message, following
 * its pointers. Only bytes below @p end are looked at.
 * @return the label count, or -1 when it cannot be walked.
 */
static int
msg_labels(const uint8_t *msg, size_t end, size_t off, uint16_t *lab)
{
	unsigned int hops = 0;
	int n = 0;

	while (off < end) {
		uint8_t c = msg[off];

		if (c == 0)
			return n;
		if (c >= 0xc0) {
			size_t t;

			if (off + 1 >= end || ++hops > HD_DNS_PTR_HOPS_MAX)
				return -1;
			t = ((size_t)(c & 0x3f) << 8) | msg[off + 1];
			if (t >= off)
				return -1;
			off = t;
			continue;
		}
		if (c > HD_DNS_LABEL_MAX || n >= LABELS_MAX || off + 1 + c >= end)
			return -1;
		lab[n++] = (uint16_t)off;
		off += 1 + (size_t)c;
	}
	return -1;
}

void
hd_dns_comp_init(struct hd_dns_compressor *c, const uint8_t *msg)
{
	c->msg = msg;
	c->n = 0;
}

/*
 * Longest suffix of @p name (given by its labels) already present in the
 * message at a pointable offset.
 * @return the number of labels matched; *ptr gets the offset.
 */
static int
comp_lookup(const struct hd_dns_compressor *comp, const struct hd_wire *w,
	    const uint8_t *name, const uint8_t *lab, int n, uint16_t *ptr)
{
	uint16_t sp[LABELS_MAX];
	int best = 0;
	unsigned int e;

	for (e = 0; e < comp->n && best < n; e++) {
		int m = msg_labels(w->buf, w->pos, comp->off[e], sp);
		int i = n - 1, j = m - 1;

		while (i >= 0 && j >= 0 && hd_dns_label_equal(name + lab[i], w->buf + sp[j])) {
			i--;
			j--;
		}
		/* Shorten the match until its start fits in a pointer. */
		for (j++, i++; j < m && sp[j] > HD_DNS_PTR_MAX; j++, i++)
			;
		if (j < m && n - i > best) {
			best = n - i;
			*ptr = sp[j];
		}
	}
	return best;
}

void
hd_dns_name_write(struct hd_wire *w, struct hd_dns_compressor *comp,
		  const uint8_t *name, size_t len)
{
	uint8_t lab[LABELS_MAX];
	uint16_t ptr = 0;
	size_t start;
	int n, best;

	if (comp == NULL || comp->msg != w->buf) {
		hd_wire_write_bytes(w, name, len);
		return;
	}
	n = name_labels(name, len, lab);
	if (n < 0) {
		hd_wire_fail(w, -EINVAL);
		return;
	}
	if (!hd_wire_ok(w))
		return;
	best = comp_lookup(comp, w, name, lab, n, &ptr);
	start = w->pos;
	if (best == 0) {
		hd_wire_write_bytes(w, name, len);
	} else {
		if (best < n)
			hd_wire_write_bytes(w, name, lab[n - best]);
		hd_wire_write_u16(w, (uint16_t)(0xc000 | ptr));
	}
	if (hd_wire_ok(w) && best < n && start <= HD_DNS_PTR_MAX &&
	    comp->n < HD_DNS_COMP_MAX)
		comp->off[comp->n++] = (uint16_t)start;
}

static int
plain_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int
hd_dns_name_to_str(const uint8_t *name, size_t len, char *out, size_t cap)
{
	size_t pos = 0, o = 0;

	if (len == 0)
		return -EINVAL;
	if (name[0] == 0) {
		if (cap < 2)
			return -ENOSPC;
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	while (pos < len && name[pos] != 0) {
		uint8_t l = name[pos], i;

		if (l > HD_DNS_LABEL_MAX || len - pos - 1 < l)
			return -EINVAL;
		for (i = 1; i <= l; i++) {
			uint8_t c = name[pos + i];

			if (plain_char(c)) {
				if (o + 1 >= cap)
					return -ENOSPC;
				out[o++] = (char)c;
			} else {
				if (o + 4 >= cap)
					return -ENOSPC;
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + c / 10 % 10);
				out[o++] = (char)('0' + c % 10);
			}
		}
		if (o + 1 >= cap)
			return -ENOSPC;
		out[o++] = '.';
		pos += 1 + (size_t)l;
	}
	if (pos + 1 != len)
		return -EINVAL;
	out[o] = '\0';
	return (int)o;
}

/* @return the byte an escape at @p s stands for, advancing *s; -1 if bad. */
static int
unescape(const char **s)
{
	const char *p = *s;
	int v;

	if (p[0] == '\0')
		return -1;
	if (p[0] >= '0' && p[0] <= '9') {
		if (p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9')
			return -1;
		v = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		if (v > 255)
			return -1;
		*s = p + 3;
		return v;
	}
	*s = p + 1;
	return (uint8_t)p[0];
}

int
hd_dns_name_from_str(const char *str, uint8_t *out)
{
	const char *s = str;
	size_t n = 0, lab = 0;

	if (str[0] == '.' && str[1] == '\0') {
		out[0] = 0;
		return 1;
	}
	if (str[0] == '\0')
		return -EINVAL;
	out[0] = 0;
	while (*s != '\0') {
		int c;

		if (*s == '.') {
			if (out[lab] == 0)
				return -EINVAL;
			s++;
			if (*s == '\0')
				break;
			lab = ++n;
			if (n >= HD_DNS_NAME_MAX)
				return -EINVAL;
			out[lab] = 0;
			continue;
		}
		if (*s == '\\') {
			s++;
			c = unescape(&s);
			if (c < 0)
				return -EINVAL;
		} else {
			c = (uint8_t)*s++;
		}
		if (out[lab] == HD_DNS_LABEL_MAX || n + 1 >= HD_DNS_NAME_MAX - 1)
			return -EINVAL;
		out[++n] = (uint8_t)c;
		out[lab]++;
	}
	if (out[lab] == 0)
		return -EINVAL;
	/* n is the offset of the last byte of the last label; root follows. */
	n++;
	if (n >= HD_DNS_NAME_MAX)
		return -EINVAL;
	out[n++] = 0;
	return (int)n;
}
