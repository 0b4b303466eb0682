/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Listen addresses on an interface heimdall shares with the kernel (af_xdp):
 * the kernel must own them so that it answers ARP/NDP, ICMP and DNS over TCP
 * for them while the XDP program steers UDP to the fast path.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <linux/if_addr.h>
#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>

#include "hd_port.h"
#include "port_private.h"

static size_t
addr_len(const struct hd_config_addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

static const char *
addr_str(const struct hd_config_addr *a, char *buf, size_t len)
{
	if (inet_ntop(a->family, a->addr, buf, len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

static struct nl_sock *
route_socket(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (sk == NULL)
		return NULL;
	if (nl_connect(sk, NETLINK_ROUTE) < 0) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

struct present_arg {
	const struct hd_config_addr *want;
	int ifindex;
	int found;
};

static void
present_cb(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *ra = (struct rtnl_addr *)obj;
	struct present_arg *pa = arg;
	struct nl_addr *local = rtnl_addr_get_local(ra);

	if (rtnl_addr_get_ifindex(ra) != pa->ifindex || local == NULL ||
	    nl_addr_get_family(local) != pa->want->family ||
	    nl_addr_get_len(local) != addr_len(pa->want))
		return;
	if (memcmp(nl_addr_get_binary_addr(local), pa->want->addr, addr_len(pa->want)) == 0)
		pa->found = 1;
}

/* Present with any prefix length counts: the operator's setting wins. */
static int
addr_present(struct nl_sock *sk, int ifindex, const struct hd_config_addr *a)
{
	struct present_arg pa = { .want = a, .ifindex = ifindex, .found = 0 };
	struct nl_cache *cache;

	if (rtnl_addr_alloc_cache(sk, &cache) < 0)
		return -EIO;
	nl_cache_foreach(cache, present_cb, &pa);
	nl_cache_free(cache);
	return pa.found;
}

static struct rtnl_addr *
rtnl_addr_from(int ifindex, const struct hd_config_addr *a)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *local;
	uint8_t prefix = a->prefix;

	if (ra == NULL)
		return NULL;
	local = nl_addr_build(a->family, a->addr, addr_len(a));
	if (local == NULL) {
		rtnl_addr_put(ra);
		return NULL;
	}
	if (prefix == 0)
		prefix = a->family == AF_INET ? 24 : 64;
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_family(ra, a->family);
	if (rtnl_addr_set_local(ra, local) < 0) {
		nl_addr_put(local);
		rtnl_addr_put(ra);
		return NULL;
	}
	nl_addr_put(local);
	/* After set_local, which takes the prefix length of the (host) address given. */
	rtnl_addr_set_prefixlen(ra, prefix);
	/* Without NODAD an IPv6 address is tentative for a second or more and drops replies. */
	if (a->family == AF_INET6)
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
	return ra;
}

static int
addr_add_one(struct nl_sock *sk, struct hd_port *p, const struct hd_config_addr *a)
{
	struct rtnl_addr *ra;
	char buf[INET6_ADDRSTRLEN];
	int ret;

	ret = addr_present(sk, (int)p->ifindex, a);
	if (ret < 0)
		return ret;
	if (ret == 1) {
		PORT_LOG(INFO, "%s already holds %s: left as it is", p->ifname,
			 addr_str(a, buf, sizeof(buf)));
		return 0;
	}
	ra = rtnl_addr_from((int)p->ifindex, a);
	if (ra == NULL)
		return -ENOMEM;
	ret = rtnl_addr_add(sk, ra, NLM_F_EXCL);
	rtnl_addr_put(ra);
	if (ret < 0) {
		PORT_LOG(ERR, "cannot add %s to %s: %s", addr_str(a, buf, sizeof(buf)),
			 p->ifname, nl_geterror(ret));
		return -EIO;
	}
	p->added[p->n_added++] = *a;
	PORT_LOG(INFO, "added %s/%u to %s (removed again at exit)", addr_str(a, buf, sizeof(buf)),
		 a->prefix ? a->prefix : (a->family == AF_INET ? 24 : 64), p->ifname);
	return 0;
}

int
hd_port_addr_add(struct hd_port *p, const struct hd_config_addr *addrs, unsigned int n)
{
	struct nl_sock *sk;
	unsigned int i;
	int ret = 0;

	if (p->ifindex == 0)
		return -ENODEV;
	sk = route_socket();
	if (sk == NULL)
		return -ENOMEM;
	for (i = 0; i < n && ret == 0; i++) {
		if (p->n_added >= HD_PORT_ADDR_MAX) {
			ret = -ENOSPC;
			break;
		}
		ret = addr_add_one(sk, p, &addrs[i]);
	}
	nl_socket_free(sk);
	return ret;
}

void
hd_port_addr_remove(struct hd_port *p)
{
	char buf[INET6_ADDRSTRLEN];
	struct rtnl_addr *ra;
	struct nl_sock *sk;
	unsigned int i;
	int ret;

	if (p->n_added == 0)
		return;
	sk = route_socket();
	if (sk == NULL) {
		PORT_LOG(ERR, "%s: no netlink socket: the addresses heimdall added stay", p->ifname);
		return;
	}
	for (i = 0; i < p->n_added; i++) {
		ra = rtnl_addr_from((int)p->ifindex, &p->added[i]);
		if (ra == NULL)
			continue;
		ret = rtnl_addr_delete(sk, ra, 0);
		rtnl_addr_put(ra);
		addr_str(&p->added[i], buf, sizeof(buf));
		/* Gone already (the operator removed it, or the interface went away) is fine. */
		if (ret < 0 && ret != -NLE_NOADDR && ret != -NLE_OBJ_NOTFOUND && ret != -NLE_NODEV)
			PORT_LOG(WARNING, "cannot remove %s from %s: %s", buf, p->ifname,
				 nl_geterror(ret));
		else
			PORT_LOG(INFO, "removed %s from %s", buf, p->ifname);
	}
	p->n_added = 0;
	nl_socket_free(sk);
}
