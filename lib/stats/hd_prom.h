/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_PROM_H
#define HD_PROM_H

/**
 * @file
 * The Prometheus text exposition format 0.0.4, written into a growing
 * buffer: one HELP and one TYPE line per family, its samples grouped under
 * them, label values escaped. Pure string work, no DPDK; any thread.
 *
 * Mistakes by a writer (a family given twice, a sample that does not belong
 * to the current family, a name that is not a metric name) are dropped and
 * counted in hd_prom.dropped rather than producing text Prometheus refuses.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define HD_PROM_FAMILIES_MAX	256
#define HD_PROM_NAME_MAX	128

struct hd_prom {
	char *buf;		/**< NUL-terminated text (malloc) */
	size_t len, cap;
	int err;		/**< -ENOMEM once an allocation failed (sticky) */
	unsigned int dropped;	/**< families and samples refused */
	char family[HD_PROM_NAME_MAX];	/**< current family; "" when none or refused */
	char type[16];
	/** Families started so far (a hash of each name), to refuse a second start. */
	uint64_t seen[HD_PROM_FAMILIES_MAX];
	unsigned int n_seen;
};

/** Start an empty text. @return 0 or -ENOMEM. */
int hd_prom_init(struct hd_prom *p);

/** Free the text (no-op on a zeroed struct). */
void hd_prom_free(struct hd_prom *p);

/**
 * Start family @p name of @p type ("counter", "gauge", "histogram",
 * "summary", "untyped"). @return 0, or -EINVAL (bad name or type) or
 * -EEXIST (started before): its samples are then dropped.
 */
int hd_prom_family(struct hd_prom *p, const char *name, const char *type, const char *help);

/**
 * One sample of the current family: @p name is the family's name, or with
 * _bucket/_sum/_count (histogram, summary). @p labels: name and value
 * strings, alternating, ending with NULL. @return 0 or a negative errno
 * (the sample is dropped).
 */
int hd_prom_u64v(struct hd_prom *p, const char *name, uint64_t v, va_list labels);
int hd_prom_doublev(struct hd_prom *p, const char *name, double v, va_list labels);
int hd_prom_u64(struct hd_prom *p, const char *name, uint64_t v, ...);
int hd_prom_double(struct hd_prom *p, const char *name, double v, ...);

/**
 * Escape a label value: backslash, double quote and newline become \\, \"
 * and \n. @return the length the escaped text needs (without the NUL);
 * @p out holds it, truncated, when @p size is too small.
 */
size_t hd_prom_escape(char *out, size_t size, const char *in);

/** @return 1 when @p s is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*). */
int hd_prom_name_ok(const char *s);

#endif /* HD_PROM_H */
