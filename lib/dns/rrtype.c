/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RR types whose RDATA holds domain names. Upstreams may compress those
 * names (RFC 1035 types) or, against the rules, others listed in RFC 3597
 * section 4; either way a pointer into the upstream's message must never
 * reach a client, so every such name is decompressed here. Types not listed
 * are copied byte for byte (RFC 3597: names in new types are never
 * compressed).
 */

#include <errno.h>

/* hd_wire.h uses likely/unlikely without including their header. */
#include <rte_branch_prediction.h>

#include "hd_dns.h"
#include "dns_private.h"

/*
 * RDATA layout: a string of field codes. 1..32 is a fixed field of that many
 * bytes; the others are below. The string ends at F_END.
 */
enum {
	F_END = 0,
	F_NAME = 0x80,	/* a domain name */
	F_STR = 0x81,	/* a <character-string>: length byte + bytes */
	F_REST = 0x82,	/* everything up to the end of the RDATA */
};

static const uint8_t lay_name[] = { F_NAME, F_END };
static const uint8_t lay_soa[] = { F_NAME, F_NAME, 20, F_END };
static const uint8_t lay_2names[] = { F_NAME, F_NAME, F_END };
static const uint8_t lay_pref_name[] = { 2, F_NAME, F_END };
static const uint8_t lay_px[] = { 2, F_NAME, F_NAME, F_END };
static const uint8_t lay_srv[] = { 6, F_NAME, F_END };
static const uint8_t lay_naptr[] = { 4, F_STR, F_STR, F_STR, F_NAME, F_END };
static const uint8_t lay_sig[] = { 18, F_NAME, F_REST, F_END };
static const uint8_t lay_nxt[] = { F_NAME, F_REST, F_END };

static const uint8_t *
rdata_layout(uint16_t type)
{
	switch (type) {
	case HD_DNS_TYPE_NS:
	case HD_DNS_TYPE_MD:
	case HD_DNS_TYPE_MF:
	case HD_DNS_TYPE_CNAME:
	case HD_DNS_TYPE_MB:
	case HD_DNS_TYPE_MG:
	case HD_DNS_TYPE_MR:
	case HD_DNS_TYPE_PTR:
	case HD_DNS_TYPE_DNAME:
		return lay_name;
	case HD_DNS_TYPE_SOA:
		return lay_soa;
	case HD_DNS_TYPE_MINFO:
	case HD_DNS_TYPE_RP:
		return lay_2names;
	case HD_DNS_TYPE_MX:
	case HD_DNS_TYPE_AFSDB:
	case HD_DNS_TYPE_RT:
	case HD_DNS_TYPE_KX:
		return lay_pref_name;
	case HD_DNS_TYPE_PX:
		return lay_px;
	case HD_DNS_TYPE_SRV:
		return lay_srv;
	case HD_DNS_TYPE_NAPTR:
		return lay_naptr;
	case HD_DNS_TYPE_SIG:
		return lay_sig;
	case HD_DNS_TYPE_NXT:
		return lay_nxt;
	default:
		return NULL;
	}
}

enum hd_dns_rdata_names
hd_dns_rdata_names(uint16_t type)
{
	switch (type) {
	case HD_DNS_TYPE_NS:
	case HD_DNS_TYPE_MD:
	case HD_DNS_TYPE_MF:
	case HD_DNS_TYPE_CNAME:
	case HD_DNS_TYPE_SOA:
	case HD_DNS_TYPE_MB:
	case HD_DNS_TYPE_MG:
	case HD_DNS_TYPE_MR:
	case HD_DNS_TYPE_PTR:
	case HD_DNS_TYPE_MINFO:
	case HD_DNS_TYPE_MX:
		return HD_DNS_RDATA_COMPRESS;
	case HD_DNS_TYPE_RP:
	case HD_DNS_TYPE_AFSDB:
	case HD_DNS_TYPE_RT:
	case HD_DNS_TYPE_SIG:
	case HD_DNS_TYPE_PX:
	case HD_DNS_TYPE_NXT:
	case HD_DNS_TYPE_NAPTR:
	case HD_DNS_TYPE_SRV:
	case HD_DNS_TYPE_KX:
	case HD_DNS_TYPE_DNAME:
		return HD_DNS_RDATA_DECOMPRESS;
	default:
		return HD_DNS_RDATA_OPAQUE;
	}
}

/* Copy @p n bytes from @p in to @p out, staying below @p end. */
static int
copy_fixed(struct hd_wire *in, size_t end, size_t n, struct hd_wire *out)
{
	const uint8_t *p;

	if (n > end - in->pos)
		return -EBADMSG;
	p = hd_wire_take(in, n);
	if (p == NULL)
		return -EBADMSG;
	hd_wire_write_bytes(out, p, n);
	return 0;
}

static int
copy_field(struct hd_wire *in, size_t end, uint8_t code, struct hd_wire *out,
	   struct hd_dns_compressor *comp)
{
	uint8_t name[HD_DNS_NAME_MAX];
	int n;

	switch (code) {
	case F_NAME:
		n = hd_dns_name_read(in, name);
		/* A name running past the RDATA is a length lie, not truncation. */
		if (n < 0 || in->pos > end)
			return -EBADMSG;
		hd_dns_name_write(out, comp, name, (size_t)n);
		return 0;
	case F_STR:
		if (in->pos >= end)
			return -EBADMSG;
		return copy_fixed(in, end, 1 + (size_t)in->buf[in->pos], out);
	case F_REST:
		return copy_fixed(in, end, end - in->pos, out);
	default:
		return copy_fixed(in, end, code, out);
	}
}

int
hd_dns_rdata_copy(struct hd_wire *in, uint16_t type, uint16_t rdlen,
		  struct hd_wire *out, struct hd_dns_compressor *comp)
{
	const uint8_t *lay = rdata_layout(type);
	size_t end;
	int rc;

	if (!hd_wire_need(in, rdlen))
		return -EBADMSG;
	end = in->pos + rdlen;
	if (lay == NULL)
		return copy_fixed(in, end, rdlen, out);
	if (hd_dns_rdata_names(type) != HD_DNS_RDATA_COMPRESS)
		comp = NULL;
	for (; *lay != F_END; lay++) {
		rc = copy_field(in, end, *lay, out, comp);
		if (rc < 0)
			return rc;
	}
	if (in->pos != end)
		return -EBADMSG;
	return hd_wire_ok(out) ? 0 : out->err;
}
