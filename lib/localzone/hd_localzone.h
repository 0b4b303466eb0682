/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_LOCALZONE_H
#define HD_LOCALZONE_H

/**
 * @file
 * Custom local domains: records from the config and from RFC 1035 zone
 * files (read with Knot DNS's libzscanner), compiled into an immutable
 * structure answered by the worker lcores without touching the upstream.
 *
 * Semantics:
 * - A zone (a zone file's apex, or a name given with
 *   hd_localzone_builder_add_zone()) is authoritative: names under it that
 *   have no records get NXDOMAIN with the zone's SOA in the authority
 *   section and AA set; a name with records but not of the asked type gets
 *   NODATA with the SOA; wildcards (`*.lab.home.arpa`) answer names that do
 *   not exist otherwise (RFC 4592 closest-encloser rules); a CNAME is
 *   followed inside the local data (bounded) and the chain is answered.
 *   A zone given without a SOA gets a synthesized one.
 * - A record outside every zone answers only its own name: other types of
 *   that name get NODATA, and other names are not local (forwarded). A
 *   wildcard outside every zone answers, without AA, the names below its
 *   parent that have no records of their own.
 * - A CNAME chain whose target is not local ends with the CNAME: the
 *   client resolves the target (a forwarded query of its own).
 * - Automatic PTR records: every A/AAAA gets the matching PTR under
 *   in-addr.arpa / ip6.arpa (unless turned off), answered for that exact
 *   reverse name only.
 *
 * Life cycle as lib/filter: build on a control thread, publish by pointer
 * swap, free after an RCU grace period.
 */

#include <stddef.h>
#include <stdint.h>

#include "hd_dns.h"

struct hd_localzone_builder;
struct hd_localzone;

/** @return a builder or NULL (ENOMEM). */
struct hd_localzone_builder *hd_localzone_builder_create(void);

/** Free a builder that was not built; NULL is a no-op. */
void hd_localzone_builder_free(struct hd_localzone_builder *b);

/**
 * Add one record in zone-file presentation form:
 * "NAME [TTL] [CLASS] TYPE RDATA", e.g. "nas.lab.home.arpa A 192.168.1.10"
 * or "lab.home.arpa 300 MX 10 mail.lab.home.arpa". Relative names are not
 * allowed (no origin): names are absolute, a trailing dot is optional.
 * Default TTL 300. Types: any type libzscanner knows (A, AAAA, CNAME, MX, TXT,
 * SRV, PTR, NS, CAA, SOA, HTTPS, ...).
 * @param where  "--record", "heimdall.yaml:12" — for the error message
 * @return 0, or -EINVAL with @p err saying what was expected.
 */
int hd_localzone_add_record(struct hd_localzone_builder *b, const char *text,
			    const char *where, char *err, size_t errlen);

/**
 * Add an RFC 1035 zone file (with $ORIGIN / $TTL / $INCLUDE as libzscanner
 * supports them). Its apex (the owner of its SOA, or @p origin) becomes an
 * authoritative zone.
 * @param origin  NULL: taken from the SOA / $ORIGIN
 * @return 0, or a negative errno with @p err naming file, line and problem.
 */
int hd_localzone_add_zone_file(struct hd_localzone_builder *b, const char *path,
			       const char *origin, char *err, size_t errlen);

/** Make @p name (presentation form) an authoritative zone. @return 0 or -EINVAL. */
int hd_localzone_builder_add_zone(struct hd_localzone_builder *b, const char *name,
				  char *err, size_t errlen);

/** Generate PTR records for A/AAAA (default on). */
void hd_localzone_builder_auto_ptr(struct hd_localzone_builder *b, int on);

/**
 * Compile. Consumes @p b in every case.
 * @return the local data, or NULL with @p err filled (e.g. a CNAME beside
 *   other data at one name).
 */
struct hd_localzone *hd_localzone_build(struct hd_localzone_builder *b, char *err, size_t errlen);

/** Free; NULL is a no-op. */
void hd_localzone_free(struct hd_localzone *lz);

/**
 * Answer @p q from local data if it is local. Fast path: no allocation.
 * @param msg    the client's query at offset 0, rewritten into the reply
 * @param limit  the largest reply allowed (TC beyond it)
 * @param len    the reply length when 1 is returned
 * @return 1 answered (reply in @p msg), 0 not local (untouched),
 *   or -ENOSPC when the reply does not fit in @p cap.
 */
int hd_localzone_answer(const struct hd_localzone *lz, const struct hd_dns_query *q,
			uint8_t *msg, size_t cap, size_t limit, size_t *len);

/** Records and zones held (telemetry). */
uint32_t hd_localzone_n_records(const struct hd_localzone *lz);
uint32_t hd_localzone_n_zones(const struct hd_localzone *lz);

#endif /* HD_LOCALZONE_H */
