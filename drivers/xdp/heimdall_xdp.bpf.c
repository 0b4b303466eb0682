// SPDX-License-Identifier: BSD-3-Clause
/*
 * Heimdall's XDP steering program for af_xdp ports.
 *
 * UDP datagrams to the DNS port of one of heimdall's addresses go to the
 * AF_XDP socket bound to the receiving queue; everything else (ARP, NDP,
 * ICMP, TCP including DNS over TCP, SSH, other UDP) passes to the kernel,
 * which shares the interface. Until heimdall has filled hd_conf (port 0),
 * nothing is redirected, so a program loaded but not yet configured never
 * swallows traffic.
 *
 * Loaded by the DPDK af_xdp PMD through its xdp_prog= devarg; the PMD puts
 * the sockets into xsks_map (the name it looks for), heimdall fills the
 * other maps once the port has started.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define HD_XDP_QUEUES	256
#define HD_XDP_ADDRS	64

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, HD_XDP_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

/* Our IPv4 addresses, network order -> 1. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HD_XDP_ADDRS);
	__type(key, __u32);
	__type(value, __u8);
} hd_v4 SEC(".maps");

/* Our IPv6 addresses, 16 bytes -> 1. */
struct hd_v6_key {
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HD_XDP_ADDRS);
	__type(key, struct hd_v6_key);
	__type(value, __u8);
} hd_v6 SEC(".maps");

/* Index 0: the DNS port in host order; 0 while heimdall configures. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} hd_conf SEC(".maps");

#define ETH_HLEN_	14
#define VLAN_HLEN_	4
#define IPV4_HLEN_MIN	20
#define IPV6_HLEN_	40
#define UDP_HLEN_	8
#define IPV4_MF		0x2000
#define IPV4_OFFSET	0x1fff

/* Bytes are read one by one or as __be16: no struct casts, every read is bounded. */
static __always_inline int
read_be16(const __u8 *p, const void *end, __u16 *out)
{
	if ((const void *)(p + 2) > end)
		return -1;
	*out = (__u16)((__u16)p[0] << 8 | p[1]);
	return 0;
}

static __always_inline int
udp_to_port(const __u8 *udp, const void *end, __u32 port)
{
	__u16 dport;

	if ((const void *)(udp + UDP_HLEN_) > end)
		return 0;
	if (read_be16(udp + 2, end, &dport) < 0)
		return 0;
	return dport == port;
}

static __always_inline int
ipv4_is_ours(const __u8 *ip, const void *end, __u32 port)
{
	__u16 frag;
	__u32 dst;
	__u8 ihl;

	if ((const void *)(ip + IPV4_HLEN_MIN) > end)
		return 0;
	if ((ip[0] >> 4) != 4 || ip[9] != IPPROTO_UDP)
		return 0;
	ihl = (ip[0] & 0x0f) * 4;
	if (ihl < IPV4_HLEN_MIN)
		return 0;
	/* Fragments stay with the kernel: only the first carries the UDP header. */
	if (read_be16(ip + 6, end, &frag) < 0 || (frag & (IPV4_MF | IPV4_OFFSET)) != 0)
		return 0;
	__builtin_memcpy(&dst, ip + 16, sizeof(dst));
	if (bpf_map_lookup_elem(&hd_v4, &dst) == NULL)
		return 0;
	/* ihl is at most 60: bound it so the verifier sees a fixed range. */
	if (ihl > 60)
		return 0;
	return udp_to_port(ip + ihl, end, port);
}

static __always_inline int
ipv6_is_ours(const __u8 *ip, const void *end, __u32 port)
{
	struct hd_v6_key key;

	if ((const void *)(ip + IPV6_HLEN_) > end)
		return 0;
	/* Extension headers (fragments among them) stay with the kernel. */
	if ((ip[0] >> 4) != 6 || ip[6] != IPPROTO_UDP)
		return 0;
	__builtin_memcpy(key.addr, ip + 24, sizeof(key.addr));
	if (bpf_map_lookup_elem(&hd_v6, &key) == NULL)
		return 0;
	return udp_to_port(ip + IPV6_HLEN_, end, port);
}

SEC("xdp")
int heimdall_xdp(struct xdp_md *ctx)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const void *end = (const void *)(long)ctx->data_end;
	const __u8 *l3 = data + ETH_HLEN_;
	__u32 zero = 0, *port;
	__u16 proto;
	int ours = 0;

	port = bpf_map_lookup_elem(&hd_conf, &zero);
	if (port == NULL || *port == 0)
		return XDP_PASS;
	if (read_be16(data + 12, end, &proto) < 0)
		return XDP_PASS;
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
		if (read_be16(data + 16, end, &proto) < 0)
			return XDP_PASS;
		l3 += VLAN_HLEN_;
	}
	if (proto == ETH_P_IP)
		ours = ipv4_is_ours(l3, end, *port);
	else if (proto == ETH_P_IPV6)
		ours = ipv6_is_ours(l3, end, *port);
	if (!ours)
		return XDP_PASS;
	/* No socket on this queue (fewer workers than NIC queues): the kernel gets it. */
	return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "Dual BSD/GPL";
