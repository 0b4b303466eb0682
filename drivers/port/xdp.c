/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * heimdall's XDP program seen from user space: find it on an interface,
 * detach one a killed heimdall left behind, and fill its maps.
 *
 * Debian's af_xdp PMD (22.11) attaches an xdp_prog= object directly with
 * libbpf, not through a libxdp dispatcher; when built with libxdp, a
 * dispatcher is looked through as well, for PMDs that do use one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#ifdef HD_HAVE_LIBXDP
#include <xdp/libxdp.h>
#endif

#include "hd_port.h"
#include "port_private.h"

#define MAPS_MAX 16

struct xdp_attached {
	int fd;		/**< the attached program (maybe a dispatcher) */
	__u32 id;
	__u32 flags;	/**< XDP_FLAGS_*_MODE it is attached with */
	char name[BPF_OBJ_NAME_LEN];
};

static int
prog_name(int fd, char name[BPF_OBJ_NAME_LEN])
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	memcpy(name, info.name, BPF_OBJ_NAME_LEN);
	name[BPF_OBJ_NAME_LEN - 1] = '\0';
	return 0;
}

/* @return 1 and @p x filled, 0 when nothing is attached, or a negative errno. */
static int
xdp_attached_get(int ifindex, struct xdp_attached *x)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int ret;

	memset(x, 0, sizeof(*x));
	x->fd = -1;
	ret = bpf_xdp_query(ifindex, 0, &q);
	if (ret < 0)
		return ret;
	switch (q.attach_mode) {
	case XDP_ATTACHED_NONE:
		return 0;
	case XDP_ATTACHED_DRV:
		x->id = q.drv_prog_id;
		x->flags = XDP_FLAGS_DRV_MODE;
		break;
	case XDP_ATTACHED_SKB:
		x->id = q.skb_prog_id;
		x->flags = XDP_FLAGS_SKB_MODE;
		break;
	case XDP_ATTACHED_HW:
		x->id = q.hw_prog_id;
		x->flags = XDP_FLAGS_HW_MODE;
		break;
	default:
		/* Several modes at once: not something heimdall sets up. */
		x->id = q.prog_id ? q.prog_id : q.drv_prog_id;
		x->flags = 0;
		break;
	}
	x->fd = bpf_prog_get_fd_by_id(x->id);
	if (x->fd < 0)
		return -errno;
	ret = prog_name(x->fd, x->name);
	if (ret < 0) {
		close(x->fd);
		return ret;
	}
	return 1;
}

/*
 * @return a new fd of heimdall's program on @p ifindex (attached itself or
 * inside a libxdp dispatcher), -ENOENT when it is not there.
 */
static int
our_prog_fd(int ifindex, const struct xdp_attached *x)
{
	if (strcmp(x->name, HD_PORT_XDP_PROG_NAME) == 0)
		return dup(x->fd);
#ifdef HD_HAVE_LIBXDP
	{
		struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
		struct xdp_program *prog = NULL;
		int fd = -ENOENT;

		if (libxdp_get_error(mp) != 0 || mp == NULL)
			return -ENOENT;
		while ((prog = xdp_multiprog__next_prog(prog, mp)) != NULL) {
			if (strcmp(xdp_program__name(prog), HD_PORT_XDP_PROG_NAME) == 0) {
				fd = dup(xdp_program__fd(prog));
				break;
			}
		}
		xdp_multiprog__close(mp);
		return fd;
	}
#else
	RTE_SET_USED(ifindex);
	return -ENOENT;
#endif
}

int
hd_port_xdp_prepare(const char *ifname)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	struct xdp_attached x;
	unsigned int ifindex = if_nametoindex(ifname);
	int ret;

	if (ifindex == 0) {
		PORT_LOG(ERR, "af_xdp: no interface %s", ifname);
		return -ENODEV;
	}
	ret = xdp_attached_get((int)ifindex, &x);
	if (ret <= 0)
		return ret;
	if (strcmp(x.name, HD_PORT_XDP_PROG_NAME) != 0 || x.flags == 0) {
		PORT_LOG(ERR, "af_xdp: %s already runs XDP program \"%s\" (id %u); heimdall needs its own. "
			 "Remove it with: ip link set dev %s xdp off", ifname, x.name, x.id, ifname);
		close(x.fd);
		return -EBUSY;
	}
	/* Detach exactly the program seen, so a racing attach is never undone. */
	opts.old_prog_fd = x.fd;
	ret = bpf_xdp_detach((int)ifindex, x.flags | XDP_FLAGS_REPLACE, &opts);
	close(x.fd);
	if (ret < 0) {
		PORT_LOG(ERR, "af_xdp: cannot detach the stale heimdall XDP program (id %u) from %s: %s",
			 x.id, ifname, strerror(-ret));
		return ret;
	}
	PORT_LOG(WARNING, "af_xdp: detached XDP program %s (id %u) left on %s by a heimdall that did not stop cleanly",
		 x.name, x.id, ifname);
	return 0;
}

struct our_maps {
	int v4, v6, conf;
};

static void
maps_close(struct our_maps *m)
{
	if (m->v4 >= 0)
		close(m->v4);
	if (m->v6 >= 0)
		close(m->v6);
	if (m->conf >= 0)
		close(m->conf);
}

static void
map_take(struct our_maps *m, int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int *slot = NULL;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
		if (strcmp(info.name, "hd_v4") == 0)
			slot = &m->v4;
		else if (strcmp(info.name, "hd_v6") == 0)
			slot = &m->v6;
		else if (strcmp(info.name, "hd_conf") == 0)
			slot = &m->conf;
	}
	if (slot != NULL && *slot < 0)
		*slot = fd;
	else
		close(fd);
}

static int
maps_find(int prog_fd, struct our_maps *m)
{
	__u32 ids[MAPS_MAX], len, i, n;
	struct bpf_prog_info info;
	int fd;

	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0)
		return -errno;
	n = RTE_MIN(info.nr_map_ids, (__u32)MAPS_MAX);
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = n;
	info.map_ids = (__u64)(uintptr_t)ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd >= 0)
			map_take(m, fd);
	}
	if (m->v4 < 0 || m->v6 < 0 || m->conf < 0)
		return -ENOENT;
	return 0;
}

static int
maps_fill(const struct our_maps *m, const struct hd_config_addr *addrs, unsigned int n,
	  uint16_t dns_port)
{
	__u32 zero = 0, port = dns_port;
	__u8 one = 1;
	unsigned int i;

	for (i = 0; i < n; i++) {
		int fd = addrs[i].family == AF_INET ? m->v4 : m->v6;

		/* IPv4 keys are the 4 address bytes as they are on the wire. */
		if (bpf_map_update_elem(fd, addrs[i].addr, &one, BPF_ANY) < 0)
			return -errno;
	}
	/* The port goes last: it is what turns steering on. */
	if (bpf_map_update_elem(m->conf, &zero, &port, BPF_ANY) < 0)
		return -errno;
	return 0;
}

int
hd_port_xdp_configure(const struct hd_port *p, const struct hd_config_addr *addrs,
		      unsigned int n, uint16_t dns_port)
{
	struct our_maps m = { .v4 = -1, .v6 = -1, .conf = -1 };
	struct xdp_attached x;
	int ret, fd;

	if (p->ifindex == 0)
		return -ENODEV;
	ret = xdp_attached_get((int)p->ifindex, &x);
	if (ret <= 0) {
		PORT_LOG(ERR, "%s: no XDP program attached to %s after start", p->name, p->ifname);
		return ret < 0 ? ret : -ENOENT;
	}
	fd = our_prog_fd((int)p->ifindex, &x);
	close(x.fd);
	if (fd < 0) {
		PORT_LOG(ERR, "%s: %s runs XDP program \"%s\", not heimdall's %s", p->name,
			 p->ifname, x.name, HD_PORT_XDP_PROG_NAME);
		return -ENOENT;
	}
	ret = maps_find(fd, &m);
	close(fd);
	if (ret == 0)
		ret = maps_fill(&m, addrs, n, dns_port);
	maps_close(&m);
	if (ret < 0)
		PORT_LOG(ERR, "%s: cannot configure the XDP program's maps: %s", p->name,
			 strerror(-ret));
	else
		PORT_LOG(INFO, "%s: XDP program %s (id %u) on %s steers UDP port %u of %u address(es)",
			 p->name, HD_PORT_XDP_PROG_NAME, x.id, p->ifname, dns_port, n);
	return ret;
}
