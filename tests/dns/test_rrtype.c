/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which RR types have their RDATA names decompressed, and which of those may
 * be compressed again: getting this wrong either leaks upstream pointers to
 * clients or corrupts RDATA of types we do not understand.
 */

#include <stdint.h>

#include <rte_branch_prediction.h>

#include "hd_dns.h"
#include "dns_test.h"

static void
test_rfc1035_types_compress(void)
{
	static const uint16_t t[] = {
		HD_DNS_TYPE_NS, HD_DNS_TYPE_MD, HD_DNS_TYPE_MF, HD_DNS_TYPE_CNAME,
		HD_DNS_TYPE_SOA, HD_DNS_TYPE_MB, HD_DNS_TYPE_MG, HD_DNS_TYPE_MR,
		HD_DNS_TYPE_PTR, HD_DNS_TYPE_MINFO, HD_DNS_TYPE_MX,
	};

	for (size_t i = 0; i < RTE_DIM(t); i++)
		CU_ASSERT_EQUAL(hd_dns_rdata_names(t[i]), HD_DNS_RDATA_COMPRESS);
}

static void
test_rfc3597_types_decompress(void)
{
	static const uint16_t t[] = {
		HD_DNS_TYPE_RP, HD_DNS_TYPE_AFSDB, HD_DNS_TYPE_RT, HD_DNS_TYPE_SIG,
		HD_DNS_TYPE_PX, HD_DNS_TYPE_NXT, HD_DNS_TYPE_NAPTR, HD_DNS_TYPE_SRV,
		HD_DNS_TYPE_KX, HD_DNS_TYPE_DNAME,
	};

	for (size_t i = 0; i < RTE_DIM(t); i++)
		CU_ASSERT_EQUAL(hd_dns_rdata_names(t[i]), HD_DNS_RDATA_DECOMPRESS);
}

static void
test_others_opaque(void)
{
	static const uint16_t t[] = {
		HD_DNS_TYPE_A, HD_DNS_TYPE_AAAA, HD_DNS_TYPE_TXT, HD_DNS_TYPE_NULL,
		HD_DNS_TYPE_WKS, HD_DNS_TYPE_HINFO, HD_DNS_TYPE_DS, HD_DNS_TYPE_RRSIG,
		HD_DNS_TYPE_NSEC, HD_DNS_TYPE_DNSKEY, HD_DNS_TYPE_SVCB, HD_DNS_TYPE_HTTPS,
		HD_DNS_TYPE_CAA, HD_DNS_TYPE_OPT, 0, 65280, 65535,
	};
	unsigned int v, compress = 0, decompress = 0;

	for (size_t i = 0; i < RTE_DIM(t); i++)
		CU_ASSERT_EQUAL(hd_dns_rdata_names(t[i]), HD_DNS_RDATA_OPAQUE);
	/* Exactly the 21 listed types carry names, no others. */
	for (v = 0; v <= 0xffff; v++) {
		enum hd_dns_rdata_names k = hd_dns_rdata_names((uint16_t)v);

		compress += k == HD_DNS_RDATA_COMPRESS;
		decompress += k == HD_DNS_RDATA_DECOMPRESS;
	}
	CU_ASSERT_EQUAL(compress, 11);
	CU_ASSERT_EQUAL(decompress, 10);
}

static const struct t_case cases[] = {
	T_CASE(test_rfc1035_types_compress),
	T_CASE(test_rfc3597_types_decompress),
	T_CASE(test_others_opaque),
};

int
main(void)
{
	return t_run("dns_rrtype", cases, RTE_DIM(cases));
}
