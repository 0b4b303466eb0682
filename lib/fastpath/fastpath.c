/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's per-frame work on a plain buffer: classify L2-L4 once, answer
 * ARP/NDP for our addresses, parse the DNS query and answer it from the
 * cache in the same buffer, or report a miss with the frame untouched.
 *
 * Every read and write of the frame goes through struct hd_wire. The
 * functions past hd_fastpath_classify() rely on the offsets it produced
 * (struct hd_pkt) and say so with RTE_ASSERT.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_debug.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "hd_fastpath.h"
#include "hd_filter.h"
#include "hd_localzone.h"
#include "hd_wire.h"

#define ETH_ADDRS_LEN	12	/* destination + source MAC */
#define VLAN_TCI_LEN	2
#define IPV4_HLEN	20	/* without options */
#define IPV4_VER_IHL	0x45
#define IPV4_FRAG_MASK	0x3fff	/* MF flag + fragment offset; DF may be set */
#define IPV6_HLEN	40
#define UDP_HLEN	8
#define REPLY_TTL	64

#define ARP_HTYPE_ETHER	1
#define ARP_OP_REQUEST	1
#define ARP_OP_REPLY	2
#define ARP_LEN		28

#define ND_HOP_LIMIT	255	/* RFC 4861: anything else was forwarded, ignore it */
#define ICMP6_NS	135
#define ICMP6_NA	136
#define ND_NS_LEN	24	/* type, code, checksum, reserved, target */
#define ND_NA_LEN	32	/* the same + one target link-layer address option */
#define ND_OPT_SRC_LL	1
#define ND_OPT_TGT_LL	2
#define ND_NA_SOLICITED	0x40000000u
#define ND_NA_OVERRIDE	0x20000000u

/* Offsets inside the headers we rewrite. */
#define IPV4_TOTLEN_OFF	2
#define IPV4_TTL_OFF	8
#define IPV4_CSUM_OFF	10
#define IPV4_SRC_OFF	12
#define IPV6_PLEN_OFF	4
#define IPV6_HOP_OFF	7
#define IPV6_SRC_OFF	8
#define UDP_LEN_OFF	4
#define UDP_CSUM_OFF	6

#define LIST_NONE	UINT32_MAX	/* hd_filter_match() left the list unset */
/* "blocked: CNAME to a blocked name by list " + a 63-character list name. */
#define EDE_TEXT_MAX	112

static const uint8_t mac_all_nodes[RTE_ETHER_ADDR_LEN] = { 0x33, 0x33, 0, 0, 0, 1 };
static const uint8_t ip6_all_nodes[16] = { 0xff, 0x02, [15] = 1 };
static const uint8_t ip6_unspecified[16];

/* A reader over a frame we only look at: the cursor type is not const. */
static inline void
reader_init(struct hd_wire *w, const uint8_t *pkt, size_t len)
{
	hd_wire_init(w, (void *)(uintptr_t)pkt, len);
}

static inline void
count(struct hd_stats_lcore *st, enum hd_stat k)
{
	if (st != NULL)
		hd_stats_inc(st, k);
}

static void
count_rcode(struct hd_stats_lcore *st, int rcode)
{
	switch (rcode) {
	case HD_DNS_RCODE_FORMERR:
		count(st, HD_STAT_formerr);
		break;
	case HD_DNS_RCODE_SERVFAIL:
		count(st, HD_STAT_servfail);
		break;
	case HD_DNS_RCODE_NOTIMPL:
		count(st, HD_STAT_notimpl);
		break;
	case HD_DNS_RCODE_REFUSED:
		count(st, HD_STAT_refused);
		break;
	case HD_DNS_RCODE_BADVERS:
		count(st, HD_STAT_badvers);
		break;
	default:
		break;
	}
}

static inline int
v4_ours(const struct hd_fastpath_conf *conf, const uint8_t *addr)
{
	unsigned int i, n = RTE_MIN(conf->n_v4, HD_FP_ADDR_MAX);

	for (i = 0; i < n; i++)
		if (memcmp(&conf->v4[i], addr, 4) == 0)
			return 1;
	return 0;
}

static inline int
v6_ours(const struct hd_fastpath_conf *conf, const uint8_t *addr)
{
	unsigned int i, n = RTE_MIN(conf->n_v6, HD_FP_ADDR_MAX);

	for (i = 0; i < n; i++)
		if (memcmp(conf->v6[i], addr, 16) == 0)
			return 1;
	return 0;
}

/* Folded one's complement sum of two buffers, as the checksum to store. */
static uint16_t
cksum2(const void *a, size_t alen, const void *b, size_t blen)
{
	uint32_t sum;

	/* Both parts are summed separately so @p a may have any even length. */
	sum = (uint32_t)rte_raw_cksum(a, alen) + rte_raw_cksum(b, blen);
	return (uint16_t)~__rte_raw_cksum_reduce(sum);
}

/* @return the ethertype after at most one VLAN tag, the cursor at L3; 0 if short. */
static uint16_t
l2_parse(struct hd_wire *w)
{
	uint16_t et;

	hd_wire_skip(w, ETH_ADDRS_LEN);
	et = hd_wire_read_u16(w);
	if (et == RTE_ETHER_TYPE_VLAN || et == RTE_ETHER_TYPE_QINQ) {
		hd_wire_skip(w, VLAN_TCI_LEN);
		et = hd_wire_read_u16(w);
	}
	return hd_wire_ok(w) ? et : 0;
}

static int
ipv4_parse(const struct hd_fastpath_conf *conf, struct hd_wire *w, struct hd_pkt *p,
	   size_t *l4_len)
{
	size_t l3 = w->pos, ihl;
	uint16_t totlen, frag;
	uint8_t vihl, proto;
	const uint8_t *src, *dst;

	vihl = hd_wire_read_u8(w);
	hd_wire_skip(w, 1);		/* TOS */
	totlen = hd_wire_read_u16(w);
	hd_wire_skip(w, 2);		/* ID */
	frag = hd_wire_read_u16(w);
	hd_wire_skip(w, 1);		/* TTL */
	proto = hd_wire_read_u8(w);
	hd_wire_skip(w, 2);		/* checksum */
	src = hd_wire_take(w, 4);
	dst = hd_wire_take(w, 4);
	if (!hd_wire_ok(w))
		return -EINVAL;
	ihl = (size_t)(vihl & 0x0f) * 4;
	if ((vihl >> 4) != 4 || ihl < IPV4_HLEN || totlen < ihl || totlen > w->len - l3)
		return -EINVAL;
	/* A fragment's UDP header and DNS message are not all here. */
	if ((frag & IPV4_FRAG_MASK) != 0 || proto != IPPROTO_UDP || !v4_ours(conf, dst))
		return -EINVAL;
	/* 0/8, loopback, multicast, class E and broadcast are nobody to answer. */
	if (src[0] == 0 || src[0] == 127 || src[0] >= 224)
		return -EINVAL;
	p->ipv6 = 0;
	p->l4_off = (uint16_t)(l3 + ihl);
	*l4_len = totlen - ihl;
	hd_wire_seek(w, p->l4_off);
	return 0;
}

static int
ipv6_parse(const struct hd_fastpath_conf *conf, struct hd_wire *w, struct hd_pkt *p,
	   size_t *l4_len)
{
	uint32_t vtcfl;
	uint16_t plen;
	uint8_t nh;
	const uint8_t *src, *dst;

	vtcfl = hd_wire_read_u32(w);
	plen = hd_wire_read_u16(w);
	nh = hd_wire_read_u8(w);
	hd_wire_skip(w, 1);		/* hop limit */
	src = hd_wire_take(w, 16);
	dst = hd_wire_take(w, 16);
	if (!hd_wire_ok(w))
		return -EINVAL;
	/* Extension headers (and jumbograms, which need one) are not ours. */
	if ((vtcfl >> 28) != 6 || nh != IPPROTO_UDP || plen > hd_wire_left(w) ||
	    !v6_ours(conf, dst))
		return -EINVAL;
	/* Multicast, unspecified and loopback sources cannot take a reply. */
	if (src[0] == 0xff || (memcmp(src, ip6_unspecified, 15) == 0 && src[15] <= 1))
		return -EINVAL;
	p->ipv6 = 1;
	p->l4_off = (uint16_t)w->pos;
	*l4_len = plen;
	return 0;
}

static int
udp_parse(const struct hd_fastpath_conf *conf, struct hd_wire *w, struct hd_pkt *p,
	  size_t l4_len)
{
	uint16_t sport, dport, ulen;

	if (l4_len < UDP_HLEN)
		return -EINVAL;
	sport = hd_wire_read_u16(w);
	dport = hd_wire_read_u16(w);
	ulen = hd_wire_read_u16(w);
	if (!hd_wire_ok(w))
		return -EINVAL;
	/* The IP payload may be longer than the datagram, never shorter. */
	if (ulen < UDP_HLEN || ulen > l4_len || dport != conf->dns_port)
		return -EINVAL;
	/* Port 0 cannot receive a reply; it only shows up in forged traffic. */
	if (sport == 0)
		return -EINVAL;
	p->dns_off = (uint16_t)(p->l4_off + UDP_HLEN);
	p->dns_len = (uint16_t)(ulen - UDP_HLEN);
	return 0;
}

/* hd_fastpath_classify() that also tells the ethertype, for ARP/NDP. */
static int
classify(const struct hd_fastpath_conf *conf, const uint8_t *pkt, uint16_t len,
	 struct hd_pkt *p, uint16_t *ethertype)
{
	struct hd_wire w;
	size_t l4_len = 0;
	int rc;

	reader_init(&w, pkt, len);
	*ethertype = l2_parse(&w);
	p->l3_off = (uint16_t)w.pos;
	/*
	 * A group source MAC is forged, and a unicast query never goes to a
	 * group address: swapping either would send the reply to every station.
	 */
	if (*ethertype != 0 && ((pkt[0] | pkt[RTE_ETHER_ADDR_LEN]) & 0x01) != 0)
		return -EINVAL;
	if (*ethertype == RTE_ETHER_TYPE_IPV4)
		rc = ipv4_parse(conf, &w, p, &l4_len);
	else if (*ethertype == RTE_ETHER_TYPE_IPV6)
		rc = ipv6_parse(conf, &w, p, &l4_len);
	else
		rc = -EINVAL;
	if (rc != 0)
		return rc;
	return udp_parse(conf, &w, p, l4_len);
}

int
hd_fastpath_classify(const struct hd_fastpath_conf *conf, const uint8_t *pkt,
		     uint16_t len, struct hd_pkt *p)
{
	uint16_t et;

	return classify(conf, pkt, len, p, &et);
}

static void
swap_at(struct hd_wire *w, size_t a, size_t b, size_t n)
{
	uint8_t t[16];

	RTE_ASSERT(n <= sizeof(t));
	if (!hd_wire_need(w, 0) || a + n > w->len || b + n > w->len)
		return;
	memcpy(t, w->buf + a, n);
	memcpy(w->buf + a, w->buf + b, n);
	memcpy(w->buf + b, t, n);
}

static void
put_u8_at(struct hd_wire *w, size_t off, uint8_t v)
{
	hd_wire_seek(w, off);
	hd_wire_write_u8(w, v);
}

/* IPv4 header of the reply, and the UDP pseudo-header into @p pseudo. */
static void
finish_ipv4(struct hd_wire *w, size_t l3, uint16_t udp_len, uint8_t *pseudo)
{
	uint16_t csum;

	swap_at(w, l3 + IPV4_SRC_OFF, l3 + IPV4_SRC_OFF + 4, 4);
	hd_wire_put_u16_at(w, l3 + IPV4_TOTLEN_OFF, IPV4_HLEN + udp_len);
	put_u8_at(w, l3 + IPV4_TTL_OFF, REPLY_TTL);
	hd_wire_put_u16_at(w, l3 + IPV4_CSUM_OFF, 0);
	if (!hd_wire_need(w, 0))
		return;
	/* A raw sum over native words is stored as is: no byte swap. */
	csum = (uint16_t)~rte_raw_cksum(w->buf + l3, IPV4_HLEN);
	memcpy(w->buf + l3 + IPV4_CSUM_OFF, &csum, 2);

	/* Pseudo-header: source, destination, zero, protocol, UDP length. */
	memcpy(pseudo, w->buf + l3 + IPV4_SRC_OFF, 8);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_UDP;
	pseudo[10] = (uint8_t)(udp_len >> 8);
	pseudo[11] = (uint8_t)udp_len;
}

static void
finish_ipv6(struct hd_wire *w, size_t l3, uint16_t udp_len, uint8_t *pseudo)
{
	swap_at(w, l3 + IPV6_SRC_OFF, l3 + IPV6_SRC_OFF + 16, 16);
	hd_wire_put_u16_at(w, l3 + IPV6_PLEN_OFF, udp_len);
	put_u8_at(w, l3 + IPV6_HOP_OFF, REPLY_TTL);
	if (!hd_wire_need(w, 0))
		return;
	/* Pseudo-header: source, destination, 32-bit length, zeros, next header. */
	memcpy(pseudo, w->buf + l3 + IPV6_SRC_OFF, 32);
	memset(pseudo + 32, 0, 8);
	pseudo[34] = (uint8_t)(udp_len >> 8);
	pseudo[35] = (uint8_t)udp_len;
	pseudo[39] = IPPROTO_UDP;
}

uint16_t
hd_fastpath_finish(uint8_t *pkt, const struct hd_pkt *p, uint16_t dns_len)
{
	struct hd_wire w;
	uint8_t pseudo[40];
	size_t l3 = p->l3_off, l4 = p->l4_off, plen;
	uint16_t udp_len = (uint16_t)(UDP_HLEN + dns_len), csum;

	RTE_ASSERT(l4 > l3 && p->dns_off == l4 + UDP_HLEN);
	hd_wire_init(&w, pkt, l4 + udp_len);
	swap_at(&w, 0, RTE_ETHER_ADDR_LEN, RTE_ETHER_ADDR_LEN);
	if (p->ipv6) {
		finish_ipv6(&w, l3, udp_len, pseudo);
		plen = 40;
	} else {
		/* IP options are the client's business, not to be echoed back. */
		if (l4 > l3 + IPV4_HLEN) {
			memmove(pkt + l3 + IPV4_HLEN, pkt + l4, udp_len);
			l4 = l3 + IPV4_HLEN;
			hd_wire_init(&w, pkt, l4 + udp_len);
			put_u8_at(&w, l3, IPV4_VER_IHL);
		}
		finish_ipv4(&w, l3, udp_len, pseudo);
		plen = 12;
	}
	swap_at(&w, l4, l4 + 2, 2);
	hd_wire_put_u16_at(&w, l4 + UDP_LEN_OFF, udp_len);
	hd_wire_put_u16_at(&w, l4 + UDP_CSUM_OFF, 0);
	RTE_ASSERT(hd_wire_ok(&w));
	csum = cksum2(pseudo, plen, pkt + l4, udp_len);
	/* Zero means "no checksum" in UDP; its one's complement twin is sent. */
	if (csum == 0)
		csum = 0xffff;
	memcpy(pkt + l4 + UDP_CSUM_OFF, &csum, 2);
	return (uint16_t)(l4 + udp_len);
}

/* Ethernet: reply to the sender, from @p mac. */
static void
eth_reply(uint8_t *pkt, const uint8_t *dst, const struct rte_ether_addr *mac)
{
	memmove(pkt, dst, RTE_ETHER_ADDR_LEN);
	memcpy(pkt + RTE_ETHER_ADDR_LEN, mac->addr_bytes, RTE_ETHER_ADDR_LEN);
}

/* @return 0 and the reply in place, or -EINVAL when it is not a request for us. */
static int
arp_reply(const struct hd_fastpath_conf *conf, uint8_t *pkt, uint16_t len, size_t l3,
	  uint16_t *out_len)
{
	struct hd_wire w;
	uint8_t sha[RTE_ETHER_ADDR_LEN], spa[4], tpa[4];
	uint16_t htype, ptype, op;
	uint8_t hlen, plen;

	hd_wire_init(&w, pkt, len);
	hd_wire_seek(&w, l3);
	htype = hd_wire_read_u16(&w);
	ptype = hd_wire_read_u16(&w);
	hlen = hd_wire_read_u8(&w);
	plen = hd_wire_read_u8(&w);
	op = hd_wire_read_u16(&w);
	hd_wire_read_bytes(&w, sha, sizeof(sha));
	hd_wire_read_bytes(&w, spa, sizeof(spa));
	hd_wire_skip(&w, RTE_ETHER_ADDR_LEN);
	hd_wire_read_bytes(&w, tpa, sizeof(tpa));
	if (!hd_wire_ok(&w) || htype != ARP_HTYPE_ETHER || ptype != RTE_ETHER_TYPE_IPV4 ||
	    hlen != RTE_ETHER_ADDR_LEN || plen != 4 || op != ARP_OP_REQUEST)
		return -EINVAL;
	/* A gratuitous ARP announcing our address is not a question. */
	if (!v4_ours(conf, tpa) || memcmp(spa, tpa, 4) == 0)
		return -EINVAL;

	hd_wire_seek(&w, l3 + 6);
	hd_wire_write_u16(&w, ARP_OP_REPLY);
	hd_wire_write_bytes(&w, conf->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	hd_wire_write_bytes(&w, tpa, sizeof(tpa));
	hd_wire_write_bytes(&w, sha, sizeof(sha));
	hd_wire_write_bytes(&w, spa, sizeof(spa));
	if (!hd_wire_ok(&w))
		return -EINVAL;
	eth_reply(pkt, pkt + RTE_ETHER_ADDR_LEN, &conf->mac);
	*out_len = (uint16_t)(l3 + ARP_LEN);
	return 0;
}

/* RFC 4861 7.1.1: every option has a non-zero length; DAD carries no source LL. */
static int
nd_options_ok(struct hd_wire *w, size_t end, int from_unspecified)
{
	uint8_t type, olen;

	while (hd_wire_ok(w) && w->pos < end) {
		if (end - w->pos < 2)
			return 0;
		type = hd_wire_read_u8(w);
		olen = hd_wire_read_u8(w);
		if (olen == 0 || (from_unspecified && type == ND_OPT_SRC_LL))
			return 0;
		if ((size_t)olen * 8 > end - (w->pos - 2))
			return 0;
		hd_wire_skip(w, (size_t)olen * 8 - 2);
	}
	return hd_wire_ok(w);
}

static int
nd_dst_ok(const uint8_t *dst, const uint8_t *target)
{
	static const uint8_t sol_prefix[13] = { 0xff, 0x02, [11] = 1, [12] = 0xff };

	if (memcmp(dst, target, 16) == 0)
		return 1;
	return memcmp(dst, sol_prefix, sizeof(sol_prefix)) == 0 &&
	       memcmp(dst + 13, target + 13, 3) == 0;
}

static uint16_t
icmp6_cksum(const uint8_t *src, const uint8_t *dst, const uint8_t *msg, uint16_t len)
{
	uint8_t pseudo[40];

	memcpy(pseudo, src, 16);
	memcpy(pseudo + 16, dst, 16);
	memset(pseudo + 32, 0, 8);
	pseudo[34] = (uint8_t)(len >> 8);
	pseudo[35] = (uint8_t)len;
	pseudo[39] = IPPROTO_ICMPV6;
	return cksum2(pseudo, sizeof(pseudo), msg, len);
}

/* Parse a Neighbour Solicitation for one of our addresses (RFC 4861 7.1.1). */
static int
ns_parse(const struct hd_fastpath_conf *conf, struct hd_wire *w, size_t l3,
	 uint8_t *src, uint8_t *target)
{
	const uint8_t *dst, *t;
	uint32_t vtcfl;
	uint16_t plen;
	uint8_t nh, hop, type, code;
	int unspec;

	hd_wire_seek(w, l3);
	vtcfl = hd_wire_read_u32(w);
	plen = hd_wire_read_u16(w);
	nh = hd_wire_read_u8(w);
	hop = hd_wire_read_u8(w);
	hd_wire_read_bytes(w, src, 16);
	dst = hd_wire_take(w, 16);
	type = hd_wire_read_u8(w);
	code = hd_wire_read_u8(w);
	hd_wire_skip(w, 2 + 4);		/* checksum, reserved */
	t = hd_wire_take(w, 16);
	if (!hd_wire_ok(w) || (vtcfl >> 28) != 6 || nh != IPPROTO_ICMPV6 ||
	    hop != ND_HOP_LIMIT || plen < ND_NS_LEN || plen > w->len - l3 - IPV6_HLEN ||
	    type != ICMP6_NS || code != 0)
		return -EINVAL;
	memcpy(target, t, 16);
	if (!v6_ours(conf, target) || !nd_dst_ok(dst, target))
		return -EINVAL;
	if (icmp6_cksum(src, dst, w->buf + l3 + IPV6_HLEN, plen) != 0)
		return -EINVAL;
	unspec = memcmp(src, ip6_unspecified, 16) == 0;
	if (!nd_options_ok(w, l3 + IPV6_HLEN + plen, unspec))
		return -EINVAL;
	return unspec;
}

/* @return 0 and a Neighbour Advertisement in place, or -EINVAL. */
static int
nd_reply(const struct hd_fastpath_conf *conf, uint8_t *pkt, uint16_t len, uint16_t cap,
	 size_t l3, uint16_t *out_len)
{
	struct hd_wire w;
	uint8_t src[16], target[16], *icmp;
	const uint8_t *to;
	uint16_t csum;
	int unspec;

	hd_wire_init(&w, pkt, len);
	unspec = ns_parse(conf, &w, l3, src, target);
	if (unspec < 0 || (size_t)cap < l3 + IPV6_HLEN + ND_NA_LEN)
		return -EINVAL;
	/* A DAD probe (from ::) is answered to all nodes, not as solicited. */
	to = unspec ? ip6_all_nodes : src;

	hd_wire_init(&w, pkt, cap);
	hd_wire_seek(&w, l3);
	hd_wire_write_u32(&w, 0x60000000u);
	hd_wire_write_u16(&w, ND_NA_LEN);
	hd_wire_write_u8(&w, IPPROTO_ICMPV6);
	hd_wire_write_u8(&w, ND_HOP_LIMIT);
	hd_wire_write_bytes(&w, target, 16);
	hd_wire_write_bytes(&w, to, 16);
	hd_wire_write_u8(&w, ICMP6_NA);
	hd_wire_write_u8(&w, 0);
	hd_wire_write_u16(&w, 0);
	hd_wire_write_u32(&w, (unspec ? 0 : ND_NA_SOLICITED) | ND_NA_OVERRIDE);
	hd_wire_write_bytes(&w, target, 16);
	hd_wire_write_u8(&w, ND_OPT_TGT_LL);
	hd_wire_write_u8(&w, 1);
	hd_wire_write_bytes(&w, conf->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	if (!hd_wire_ok(&w))
		return -EINVAL;
	icmp = pkt + l3 + IPV6_HLEN;
	csum = icmp6_cksum(target, to, icmp, ND_NA_LEN);
	memcpy(icmp + 2, &csum, 2);
	eth_reply(pkt, unspec ? mac_all_nodes : pkt + RTE_ETHER_ADDR_LEN, &conf->mac);
	*out_len = (uint16_t)(l3 + IPV6_HLEN + ND_NA_LEN);
	return 0;
}

/*
 * What the kernel behind the exception port would accept: a whole Ethernet
 * header, to our MAC or a group address (broadcast ARP, NDP and DHCP
 * multicast). Unicast to other stations only reaches us on a promiscuous
 * port, and the kernel would drop it anyway.
 */
static inline int
for_kernel(const struct hd_fastpath_conf *conf, const uint8_t *pkt, uint16_t ethertype)
{
	if (ethertype == 0)
		return 0;
	return (pkt[0] & 0x01) != 0 ||
	       memcmp(pkt, conf->mac.addr_bytes, RTE_ETHER_ADDR_LEN) == 0;
}

/* A frame that is not a DNS query for us: ARP/NDP, the kernel's, or dropped. */
static enum hd_fp_verdict
not_dns(struct hd_fastpath_ctx *ctx, uint8_t *pkt, uint16_t len, uint16_t cap,
	uint16_t ethertype, size_t l3, uint16_t *out_len)
{
	const struct hd_fastpath_conf *conf = ctx->conf;

	if (!conf->answer_arp_nd)
		goto other;
	if (ethertype == RTE_ETHER_TYPE_ARP) {
		if (arp_reply(conf, pkt, len, l3, out_len) == 0) {
			count(ctx->stats, HD_STAT_arp_replies);
			return HD_FP_TX;
		}
	} else if (ethertype == RTE_ETHER_TYPE_IPV6) {
		if (nd_reply(conf, pkt, len, cap, l3, out_len) == 0) {
			count(ctx->stats, HD_STAT_nd_replies);
			return HD_FP_TX;
		}
	}
other:
	/* Untouched: arp_reply() and nd_reply() write only once they will answer. */
	if (conf->to_kernel && for_kernel(conf, pkt, ethertype)) {
		count(ctx->stats, HD_STAT_to_kernel);
		return HD_FP_KERNEL;
	}
	/* Everything neither answered nor handed on: other traffic included. */
	count(ctx->stats, HD_STAT_dropped);
	return HD_FP_DROP;
}

/* Room for the DNS reply: the buffer, and what the IP length fields can say. */
static inline size_t
dns_cap(const struct hd_pkt *p, uint16_t cap)
{
	size_t room = (size_t)cap - p->dns_off;
	size_t ip_max = UINT16_MAX - (size_t)(p->dns_off - p->l3_off);

	return RTE_MIN(room, ip_max);
}

static inline int
reply_has_tc(const uint8_t *pkt, const struct hd_pkt *p)
{
	return (pkt[p->dns_off + 2] & (HD_DNS_TC >> 8)) != 0;
}


/* ---- policy: local data, blocklists, CNAME cloaking ---- */

/* How the policy answered, for the query log. */
struct fp_out {
	uint8_t outcome;	/* enum hd_fp_outcome */
	uint16_t list;
};

static inline void
out_set(struct fp_out *o, enum hd_fp_outcome outcome, unsigned int list)
{
	if (o != NULL) {
		o->outcome = (uint8_t)outcome;
		o->list = list < UINT16_MAX ? (uint16_t)list : UINT16_MAX;
	}
}

static inline void
hit_count(uint64_t *hits, unsigned int list)
{
	/* One writer per array (the lcore); readers use relaxed loads. */
	if (hits != NULL && list < HD_FILTER_LISTS_MAX)
		__atomic_store_n(&hits[list], hits[list] + 1, __ATOMIC_RELAXED);
}

/* The EDE EXTRA-TEXT: why, and which list, for whoever reads a dig output. */
static void
ede_text(char *out, int cname, const char *list)
{
	static const char direct[] = "blocked by list ";
	static const char cloaked[] = "blocked: CNAME to a blocked name by list ";
	const char *head = cname ? cloaked : direct;
	size_t hl = cname ? sizeof(cloaked) - 1 : sizeof(direct) - 1;
	size_t ll = list != NULL ? strnlen(list, EDE_TEXT_MAX - 1 - hl) : 0;

	memcpy(out, head, hl);
	if (ll > 0)
		memcpy(out + hl, list, ll);
	out[hl + ll] = '\0';
}

/*
 * The block reply of list @p list for @p q, into @p msg (which holds the
 * client's query, or a reply we wrote to it: the question is in place).
 * @return the reply length, or a negative errno.
 */
static int
block_reply(const struct hd_filter *f, unsigned int list, int cname,
	    const struct hd_dns_query *q, uint8_t *msg, size_t cap, size_t limit)
{
	static const uint8_t zero[16];
	const struct hd_filter_response *r = hd_filter_response(f, list);
	struct hd_dns_synth s = { .rcode = HD_DNS_RCODE_NOERROR, .ede = HD_DNS_EDE_BLOCKED };
	struct hd_dns_rr rr = { .rclass = HD_DNS_CLASS_IN };
	char text[EDE_TEXT_MAX];
	int custom;

	if (unlikely(r == NULL))
		return -EINVAL;
	ede_text(text, cname, hd_filter_list_name(f, list));
	s.ede_text = text;
	switch (r->mode) {
	case HD_FILTER_MODE_NXDOMAIN:
		s.rcode = HD_DNS_RCODE_NXDOMAIN;
		break;
	case HD_FILTER_MODE_REFUSED:
		s.rcode = HD_DNS_RCODE_REFUSED;
		break;
	case HD_FILTER_MODE_NULL:
	case HD_FILTER_MODE_CUSTOM:
		/* An address record where the type has one to give; NODATA otherwise. */
		custom = r->mode == HD_FILTER_MODE_CUSTOM;
		if (q->qclass != HD_DNS_CLASS_IN)
			break;
		if (q->qtype == HD_DNS_TYPE_A && (!custom || r->has_v4)) {
			rr.rdata = custom ? r->v4 : zero;
			rr.rdlen = 4;
		} else if (q->qtype == HD_DNS_TYPE_AAAA && (!custom || r->has_v6)) {
			rr.rdata = custom ? r->v6 : zero;
			rr.rdlen = 16;
		} else {
			break;
		}
		rr.type = q->qtype;
		rr.ttl = r->ttl;
		s.an = &rr;
		s.n_an = 1;
		break;
	default:	/* NODATA */
		break;
	}
	return hd_dns_reply_synth(msg, cap, q, &s, limit);
}

static int
blocked_answer(const struct hd_filter *f, unsigned int list, int cname,
	       struct hd_stats_lcore *st, uint64_t *hits, const struct hd_dns_query *q,
	       uint8_t *msg, size_t cap, size_t limit)
{
	int n = block_reply(f, list, cname, q, msg, cap, limit);

	if (n < 0)
		return n;
	count(st, HD_STAT_blocked);
	if (cname)
		count(st, HD_STAT_cname_blocked);
	if (hd_filter_response(f, list)->mode == HD_FILTER_MODE_REFUSED)
		count(st, HD_STAT_refused);
	hit_count(hits, list);
	return n;
}

/*
 * Local data, then the lists that apply to the client, for query @p q held
 * in @p msg. @return the reply length when one of them answers, 0 when
 * neither does (msg untouched), or a negative errno.
 */
/* Out of line: the path without a policy stays as small as it was. */
static __rte_noinline int
policy_query(const struct hd_fastpath_policy *pol, uint64_t *hits, struct hd_stats_lcore *st,
	     const uint8_t *client, int ipv6, const struct hd_dns_query *q,
	     uint8_t *msg, size_t cap, size_t limit, struct fp_out *o)
{
	unsigned int list = LIST_NONE;
	uint64_t lists;
	size_t len = 0;
	int rc;

	if (pol->local != NULL) {
		rc = hd_localzone_answer(pol->local, q, msg, cap, limit, &len);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			count(st, HD_STAT_local_answers);
			out_set(o, HD_FP_OUT_LOCAL, LIST_NONE);
			return (int)len;
		}
	}
	if (pol->filter == NULL)
		return 0;
	lists = hd_filter_client_lists(pol->filter, client, ipv6);
	if (lists == 0)
		return 0;
	rc = hd_filter_match(pol->filter, q->lname, q->qname_len, lists, &list);
	if (rc == 0) {
		/* An allow rule decided: counted as that allowlist's hit. */
		if (list != LIST_NONE)
			hit_count(hits, list);
		return 0;
	}
	out_set(o, HD_FP_OUT_BLOCKED, list);
	return blocked_answer(pol->filter, list, 0, st, hits, q, msg, cap, limit);
}

struct cloak {
	const struct hd_filter *f;
	uint64_t lists;
	unsigned int list;
};

static int
cloak_target(void *arg, const uint8_t *name, size_t len)
{
	struct cloak *c = arg;
	unsigned int list = LIST_NONE;

	if (hd_filter_match(c->f, name, len, c->lists, &list) != 1)
		return 0;
	c->list = list;
	return 1;
}

/*
 * CNAME cloaking: our reply in @p msg (@p len bytes) answers @p q through
 * CNAMEs; when one of their targets is blocked for the client, rewrite it
 * as that list's block reply. A name the client's allowlists let through
 * is answered as it is, whatever it points at.
 * @return the new length, 0 when the reply stands, or a negative errno.
 */
static __rte_noinline int
policy_cloak(const struct hd_fastpath_policy *pol, uint64_t *hits, struct hd_stats_lcore *st,
	     const uint8_t *client, int ipv6, const struct hd_dns_query *q,
	     uint8_t *msg, size_t len, size_t cap, size_t limit, struct fp_out *o)
{
	struct cloak c = { .f = pol->filter, .list = LIST_NONE };
	unsigned int list = LIST_NONE;

	if (c.f == NULL)
		return 0;
	c.lists = hd_filter_client_lists(c.f, client, ipv6);
	if (c.lists == 0)
		return 0;
	if (hd_filter_match(c.f, q->lname, q->qname_len, c.lists, &list) == 0 &&
	    list != LIST_NONE)
		return 0;
	if (hd_dns_cname_foreach(msg, len, cloak_target, &c) != 1)
		return 0;
	out_set(o, HD_FP_OUT_CNAME_BLOCKED, c.list);
	return blocked_answer(c.f, c.list, 1, st, hits, q, msg, cap, limit);
}

int
hd_fastpath_policy_apply(const struct hd_fastpath_policy *pol, uint64_t *filter_hits,
			 struct hd_stats_lcore *stats, const uint8_t *client, int ipv6,
			 const struct hd_dns_query *q, uint8_t *msg, size_t reply_len,
			 size_t cap, size_t limit)
{
	if (pol == NULL || q->question_end == 0 || q->question_end > cap)
		return 0;
	if (reply_len == 0)
		return policy_query(pol, filter_hits, stats, client, ipv6, q, msg, cap, limit, NULL);
	return policy_cloak(pol, filter_hits, stats, client, ipv6, q, msg, reply_len, cap, limit,
			    NULL);
}

static inline const uint8_t *
client_addr(const uint8_t *pkt, const struct hd_pkt *p)
{
	return pkt + p->l3_off + (p->ipv6 ? IPV6_SRC_OFF : IPV4_SRC_OFF);
}

/*
 * Tell the query log about a query answered in @p pkt, before
 * hd_fastpath_finish() swaps the addresses. The reply's RCODE is read back
 * from the message just written. Out of line: with the log off only the
 * caller's test of ctx->log is on the hit path.
 */
static __rte_noinline void
log_query(const struct hd_fastpath_ctx *ctx, const uint8_t *pkt, const struct hd_pkt *p,
	  const struct hd_dns_query *q, enum hd_fp_outcome outcome, unsigned int list)
{
	struct hd_fp_log e = {
		.client = client_addr(pkt, p),
		.lname = q->lname,
		.lname_len = q->question_end != 0 ? q->qname_len : 0,
		.qtype = q->qtype,
		.list = list < UINT16_MAX ? (uint16_t)list : UINT16_MAX,
		.ipv6 = p->ipv6,
		.outcome = (uint8_t)outcome,
		/* RFC 1035 4.1.1: RCODE is the low nibble of the header's 4th byte. */
		.rcode = pkt[p->dns_off + 3] & 0x0f,
	};

	ctx->log(ctx->log_arg, &e);
}

/* ---- refresh requests: serve-stale and prefetch ---- */

/* FNV-1a of the key's question: only computed when a refresh is due. */
static uint32_t
refresh_hash(const struct hd_cache_key *k)
{
	uint32_t h = 2166136261u;
	unsigned int i;

	h = (h ^ (k->qtype & 0xff)) * 16777619u;
	h = (h ^ (k->qtype >> 8)) * 16777619u;
	h = (h ^ (k->qclass & 0xff)) * 16777619u;
	h = (h ^ k->flags) * 16777619u;
	for (i = 0; i < k->name_len; i++)
		h = (h ^ k->name[i]) * 16777619u;
	return h;
}

/*
 * Ask the slow path to refresh the entry of @p k, unless this context
 * asked for the same name during this second already: a name hit by a
 * thousand clients while stale costs one request per second and worker,
 * and the slow path joins identical outstanding questions across workers.
 * A colliding name only displaces the slot, so it never suppresses another.
 */
static __rte_noinline void
refresh_request(struct hd_fastpath_ctx *ctx, const struct hd_cache_key *k,
		const struct hd_dns_query *q)
{
	uint32_t h = refresh_hash(k);
	struct hd_fp_refresh_slot *s = &ctx->refresh_recent[h % HD_FP_REFRESH_SLOTS];

	if (s->hash == h && s->sec == ctx->now)
		return;
	s->hash = h;
	s->sec = ctx->now;
	ctx->refresh_q = *q;
	ctx->refresh_pending = 1;
	count(ctx->stats, HD_STAT_prefetches);
}

/*
 * Prefetch: an entry asked for during the last tenth of its TTL is popular
 * enough to refresh before it expires, so its next clients still hit. No
 * per-entry hit counter decides it: that would be a shared write per hit.
 */
static inline int
prefetch_due(const struct hd_dns_answer *a, uint32_t now)
{
	return a->ttl >= HD_FP_PREFETCH_MIN_TTL && (uint64_t)(a->expires - now) * 10 <= a->ttl;
}

/* The cache's answer for @p q in place, or a miss. @return the reply length, 0 (miss), < 0. */
static inline int
cache_answer(struct hd_fastpath_ctx *ctx, uint8_t *pkt, const struct hd_pkt *p, uint16_t cap,
	     const struct hd_dns_query *q, const struct hd_dns_answer **ap, int *stalep)
{
	/* rte_hash_crc() reads the key in 8-byte words. */
	struct hd_cache_key key __rte_aligned(8);
	const struct hd_fastpath_conf *conf = ctx->conf;
	const struct hd_dns_answer *a = NULL;
	uint32_t stale_ttl = 0;
	int stale = 0, n;

	if (likely(ctx->cache != NULL)) {
		hd_cache_key_from_query(&key, q);
		a = hd_cache_lookup(ctx->cache, &key, ctx->now,
				    conf->serve_stale ? &stale : NULL);
	}
	if (a == NULL) {
		count(ctx->stats, HD_STAT_cache_misses);
		return 0;
	}
	if (unlikely(stale)) {
		stale_ttl = conf->stale_ttl != 0 ? conf->stale_ttl : HD_FP_STALE_TTL;
		n = hd_dns_reply_answer_ede(pkt + p->dns_off, dns_cap(p, cap), q, a, ctx->now,
					    stale_ttl, HD_DNS_EDE_STALE,
					    hd_dns_udp_limit(q, conf->udp_size));
	} else {
		n = hd_dns_reply_answer(pkt + p->dns_off, dns_cap(p, cap), q, a, ctx->now, 0,
					hd_dns_udp_limit(q, conf->udp_size));
	}
	if (unlikely(n <= 0))
		return -ENOSPC;
	count(ctx->stats, HD_STAT_cache_hits);
	if (unlikely(stale)) {
		count(ctx->stats, HD_STAT_stale_answers);
		refresh_request(ctx, &key, q);
	} else if (conf->prefetch && unlikely(prefetch_due(a, ctx->now))) {
		refresh_request(ctx, &key, q);
	}
	*ap = a;
	*stalep = stale;
	return n;
}

static inline enum hd_fp_verdict
reply_tx(struct hd_fastpath_ctx *ctx, uint8_t *pkt, const struct hd_pkt *p, int n,
	 uint16_t *out_len)
{
	if (reply_has_tc(pkt, p))
		count(ctx->stats, HD_STAT_tc_replies);
	*out_len = hd_fastpath_finish(pkt, p, (uint16_t)n);
	return HD_FP_TX;
}

/*
 * A query when a policy is published: local data, the client's lists, the
 * cache, then the CNAME-cloaking check of a hit. Out of line so that the
 * path without a policy is the one it was before policies existed.
 */
static __rte_noinline enum hd_fp_verdict
handle_policy(struct hd_fastpath_ctx *ctx, uint8_t *pkt, const struct hd_pkt *p,
	      uint16_t cap, const struct hd_dns_query *q, uint16_t *out_len)
{
	const struct hd_fastpath_policy *pol = ctx->policy;
	const uint8_t *client = client_addr(pkt, p);
	size_t limit = hd_dns_udp_limit(q, ctx->conf->udp_size);
	const struct hd_dns_answer *a = NULL;
	struct fp_out o = { HD_FP_OUT_HIT, UINT16_MAX };
	int n, b, stale = 0;

	n = policy_query(pol, ctx->filter_hits, ctx->stats, client, p->ipv6, q,
			 pkt + p->dns_off, dns_cap(p, cap), limit, &o);
	if (n == 0) {
		n = cache_answer(ctx, pkt, p, cap, q, &a, &stale);
		if (n == 0)
			return HD_FP_MISS;
		o.outcome = stale ? HD_FP_OUT_STALE : HD_FP_OUT_HIT;
	}
	if (n > 0 && a != NULL && a->has_cname) {
		b = policy_cloak(pol, ctx->filter_hits, ctx->stats, client, p->ipv6, q,
				 pkt + p->dns_off, (size_t)n, dns_cap(p, cap), limit, &o);
		if (b != 0)
			n = b;
	}
	if (n < 0) {
		count(ctx->stats, HD_STAT_dropped);
		return HD_FP_DROP;
	}
	if (ctx->log != NULL)
		log_query(ctx, pkt, p, q, (enum hd_fp_outcome)o.outcome, o.list);
	return reply_tx(ctx, pkt, p, n, out_len);
}

enum hd_fp_verdict
hd_fastpath_handle(struct hd_fastpath_ctx *ctx, uint8_t *pkt, uint16_t len,
		   uint16_t cap, uint16_t *out_len)
{
	struct hd_stats_lcore *st = ctx->stats;
	const struct hd_dns_answer *a = NULL;
	struct hd_dns_query q;
	struct hd_pkt p;
	uint16_t et;
	int rc, n, stale = 0;

	ctx->refresh_pending = 0;
	count(st, HD_STAT_rx_packets);
	/* The frame itself is writable even if the caller under-reports the room. */
	if (cap < len)
		cap = len;
	if (unlikely(classify(ctx->conf, pkt, len, &p, &et) != 0))
		return not_dns(ctx, pkt, len, cap, et, p.l3_off, out_len);

	rc = hd_dns_query_parse(pkt + p.dns_off, p.dns_len, &q);
	if (unlikely(rc < 0))
		goto drop;
	if (unlikely(rc > 0)) {
		n = hd_dns_reply_rcode(pkt + p.dns_off, dns_cap(&p, cap), &q, rc);
		if (n < 0)
			goto drop;
		count_rcode(st, rc);
		if (unlikely(ctx->log != NULL))
			log_query(ctx, pkt, &p, &q, HD_FP_OUT_REJECTED, LIST_NONE);
		*out_len = hd_fastpath_finish(pkt, &p, (uint16_t)n);
		return HD_FP_TX;
	}

	count(st, HD_STAT_queries);
	if (unlikely(ctx->policy != NULL))
		return handle_policy(ctx, pkt, &p, cap, &q, out_len);
	n = cache_answer(ctx, pkt, &p, cap, &q, &a, &stale);
	if (n == 0)
		return HD_FP_MISS;
	if (unlikely(n < 0))
		goto drop;
	/* The query log's one test on the hit path when it is off. */
	if (ctx->log != NULL)
		log_query(ctx, pkt, &p, &q, stale ? HD_FP_OUT_STALE : HD_FP_OUT_HIT, LIST_NONE);
	return reply_tx(ctx, pkt, &p, n, out_len);

drop:
	count(st, HD_STAT_dropped);
	return HD_FP_DROP;
}

int
hd_fastpath_reply(const struct hd_fastpath_conf *conf, struct hd_stats_lcore *stats,
		  uint8_t *pkt, uint16_t len, uint16_t cap,
		  const struct hd_dns_answer *a, int rcode, uint32_t now,
		  uint32_t stale_ttl)
{
	return hd_fastpath_reply_policy(conf, stats, NULL, NULL, pkt, len, cap, a, rcode, now,
					stale_ttl);
}

int
hd_fastpath_reply_policy(const struct hd_fastpath_conf *conf, struct hd_stats_lcore *stats,
			 const struct hd_fastpath_policy *pol, uint64_t *filter_hits,
			 uint8_t *pkt, uint16_t len, uint16_t cap,
			 const struct hd_dns_answer *a, int rcode, uint32_t now,
			 uint32_t stale_ttl)
{
	struct hd_dns_query q;
	struct hd_pkt p;
	int rc, n;

	if (cap < len)
		cap = len;
	if (hd_fastpath_classify(conf, pkt, len, &p) != 0)
		return -EINVAL;
	rc = hd_dns_query_parse(pkt + p.dns_off, p.dns_len, &q);
	if (rc < 0)
		return -EINVAL;
	/* The frame was a valid query at the miss; be safe if it was not. */
	if (rc > 0) {
		a = NULL;
		rcode = rc;
	}
	/* A stale answer says so (RFC 8767 section 4, RFC 8914 code 3). */
	if (a != NULL)
		n = hd_dns_reply_answer_ede(pkt + p.dns_off, dns_cap(&p, cap), &q, a, now,
					    stale_ttl,
					    stale_ttl != 0 ? HD_DNS_EDE_STALE : HD_DNS_EDE_NONE,
					    hd_dns_udp_limit(&q, conf->udp_size));
	else
		n = hd_dns_reply_rcode(pkt + p.dns_off, dns_cap(&p, cap), &q, rcode);
	if (n < 0)
		return n;
	if (a == NULL)
		count_rcode(stats, rcode);
	if (pol != NULL && a != NULL && a->has_cname) {
		int b = policy_cloak(pol, filter_hits, stats, client_addr(pkt, &p), p.ipv6, &q,
				     pkt + p.dns_off, (size_t)n, dns_cap(&p, cap),
				     hd_dns_udp_limit(&q, conf->udp_size), NULL);

		if (b < 0)
			return b;
		if (b > 0)
			n = b;
	}
	if (reply_has_tc(pkt, &p))
		count(stats, HD_STAT_tc_replies);
	return hd_fastpath_finish(pkt, &p, (uint16_t)n);
}

int
hd_fastpath_query(const struct hd_fastpath_conf *conf, const uint8_t *pkt,
		  uint16_t len, struct hd_dns_query *q)
{
	struct hd_pkt p;
	int rc;

	if (hd_fastpath_classify(conf, pkt, len, &p) != 0)
		return -EINVAL;
	rc = hd_dns_query_parse(pkt + p.dns_off, p.dns_len, q);
	if (rc < 0)
		return rc;
	return rc > 0 ? -EBADMSG : 0;
}
