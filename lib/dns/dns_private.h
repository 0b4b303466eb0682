/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_DNS_PRIVATE_H
#define HD_DNS_PRIVATE_H

/*
 * Helpers shared by the files of lib/dns; never installed, never included
 * outside lib/dns.
 */

#include <stdint.h>

#include "hd_dns.h"

/* Length of an RR after its owner name: type, class, ttl, rdlength. */
#define HD_DNS_RR_FIXED_LEN 10

/* Largest DNS message (TCP length prefix). */
#define HD_DNS_MSG_MAX 65535

/* Compression pointers carry a 14-bit offset. */
#define HD_DNS_PTR_MAX 0x3fff

static inline uint8_t
hd_dns_lower(uint8_t c)
{
	return (uint8_t)(c - 'A') < 26 ? (uint8_t)(c | 0x20) : c;
}

/** @return 1 when two labels (length byte first) are equal ignoring ASCII case. */
static inline int
hd_dns_label_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t i;

	if (a[0] != b[0])
		return 0;
	for (i = 1; i <= a[0]; i++)
		if (hd_dns_lower(a[i]) != hd_dns_lower(b[i]))
			return 0;
	return 1;
}

/**
 * Step over a name at the cursor without following pointers (a pointer ends
 * the name). Used where only the name's extent matters.
 * @return 0, -EBADMSG (reserved label type) or -EMSGSIZE (truncated); the
 *   cursor's sticky error is set on failure.
 */
int hd_dns_name_skip(struct hd_wire *w);

/**
 * Copy the RDATA of one RR of @p type from @p in (positioned at the RDATA,
 * whose buffer is the whole upstream message so pointers resolve) to @p out,
 * decompressing every name the type is known to hold and re-compressing it
 * through @p comp for RFC 1035 types. The parsed fields must use exactly
 * @p rdlen bytes.
 * @return 0 or -EBADMSG (bad name, fields inconsistent with @p rdlen),
 *   -EMSGSIZE (@p out full).
 */
int hd_dns_rdata_copy(struct hd_wire *in, uint16_t type, uint16_t rdlen,
		      struct hd_wire *out, struct hd_dns_compressor *comp);

/**
 * Write an OPT RR without options at the cursor: our payload size, the
 * extended rcode bits @p ext_rcode, and the DO bit of @p q echoed. A caller
 * adding options patches the RDLENGTH (the last two bytes written).
 */
void hd_dns_opt_write(struct hd_wire *w, const struct hd_dns_query *q, uint8_t ext_rcode);

/** Seek to 0 and write a header: @p id, @p flags and the four counts. */
void hd_dns_header_write(struct hd_wire *w, uint16_t id, uint16_t flags, uint16_t qd,
			 uint16_t an, uint16_t ns, uint16_t ar);

#endif /* HD_DNS_PRIVATE_H */
