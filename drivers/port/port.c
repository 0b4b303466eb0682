/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "hd_port.h"
#include "port_private.h"

RTE_LOG_REGISTER_DEFAULT(hd_port_logtype, INFO);

#define POOL_CACHE 256

static const struct {
	const char *driver;
	enum hd_port_mode mode;
} drivers[] = {
	{ "net_af_xdp", HD_PORT_AF_XDP },
	{ "net_af_packet", HD_PORT_AF_PACKET },
	{ "net_tap", HD_PORT_TAP },
	{ "net_virtio_user", HD_PORT_VIRTIO_USER },
	{ "net_ring", HD_PORT_RING },
};

const char *
hd_port_mode_name(enum hd_port_mode m)
{
	switch (m) {
	case HD_PORT_PCI: return "pci";
	case HD_PORT_AF_XDP: return "af_xdp";
	case HD_PORT_AF_PACKET: return "af_packet";
	case HD_PORT_TAP: return "tap";
	case HD_PORT_VIRTIO_USER: return "virtio_user";
	case HD_PORT_RING: return "ring";
	case HD_PORT_OTHER: return "other";
	case HD_PORT_EXCEPTION: return "exception";
	}
	return "unknown";
}

enum hd_port_mode
hd_port_mode_from_driver(const char *driver_name)
{
	unsigned int i;

	if (driver_name == NULL)
		return HD_PORT_OTHER;
	for (i = 0; i < RTE_DIM(drivers); i++)
		if (strcmp(driver_name, drivers[i].driver) == 0)
			return drivers[i].mode;
	/* Every other vdev PMD is called net_<something>; physical ones are not. */
	if (strncmp(driver_name, "net_", 4) == 0)
		return HD_PORT_OTHER;
	return HD_PORT_PCI;
}

enum hd_port_mode
hd_port_mode_from_names(const char *driver_name, const char *dev_name)
{
	enum hd_port_mode m = hd_port_mode_from_driver(driver_name);

	if (m == HD_PORT_TAP && dev_name != NULL &&
	    strncmp(dev_name, HD_PORT_EXCEPTION_PREFIX, strlen(HD_PORT_EXCEPTION_PREFIX)) == 0)
		return HD_PORT_EXCEPTION;
	return m;
}

int
hd_port_exception_pair(struct hd_port *exc, const struct hd_port *data)
{
	struct rte_ether_addr mac = data->mac;
	int ret;

	/* The tap PMD sets the MAC of its kernel interface too (SIOCSIFHWADDR). */
	ret = rte_eth_dev_default_mac_addr_set(exc->port_id, &mac);
	if (ret < 0) {
		PORT_LOG(ERR, "%s: cannot take the MAC of %s: %s", exc->name, data->name,
			 rte_strerror(-ret));
		return ret;
	}
	exc->mac = data->mac;
	exc->data_port = data->port_id;
	PORT_LOG(INFO, "%s%s%s: exception port of %s (" RTE_ETHER_ADDR_PRT_FMT "): what is not "
		 "DNS for heimdall goes to the kernel there, and the kernel's frames leave through %s",
		 exc->name, exc->ifname[0] ? " on " : "", exc->ifname, data->name,
		 RTE_ETHER_ADDR_BYTES(&data->mac), data->name);
	return 0;
}

static int
port_pool_create(struct hd_port *p, uint32_t n_mbufs)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned int cache = POOL_CACHE;

	/* The mempool library wants the cache well below the pool size. */
	if (cache > n_mbufs / 4)
		cache = n_mbufs / 4;
	snprintf(name, sizeof(name), "hd_pool_p%u", p->port_id);
	p->pool = rte_pktmbuf_pool_create(name, n_mbufs, cache, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, p->socket_id);
	if (p->pool == NULL) {
		PORT_LOG(ERR, "%s: cannot create a pool of %u mbufs on socket %d: %s",
			 p->name, n_mbufs, p->socket_id, rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

/*
 * Spread clients over the workers' queues by address and port when the
 * PMD can hash; a PMD without RSS gets one queue's worth of traffic per
 * queue as it sees fit.
 */
static void
port_conf_fill(struct rte_eth_conf *conf, const struct rte_eth_dev_info *info, uint16_t n_rxq)
{
	uint64_t hf = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP;

	memset(conf, 0, sizeof(*conf));
	if (n_rxq > 1 && (info->flow_type_rss_offloads & hf) != 0) {
		conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf->rx_adv_conf.rss_conf.rss_hf = info->flow_type_rss_offloads & hf;
	}
}

/*
 * One TX queue more than RX queues lets the slow path send without going
 * through a worker. Not on af_xdp, whose queues are RX/TX pairs bound to
 * NIC queues, nor on af_packet, whose every queue pair is a socket opened
 * at probe time that the kernel fans packets out to whether we poll it or
 * not. Other PMDs may refuse the odd count; then the slow path hands its
 * replies to the workers instead.
 */
static int
port_configure(struct hd_port *p, const struct rte_eth_dev_info *info, uint16_t n)
{
	/* The slow path never sends to the kernel: an exception port needs no extra queue. */
	int extra_txq = p->mode != HD_PORT_AF_XDP && p->mode != HD_PORT_AF_PACKET &&
			p->mode != HD_PORT_EXCEPTION;
	struct rte_eth_conf conf;
	int ret;

	port_conf_fill(&conf, info, n);
	if (p->mode == HD_PORT_AF_PACKET && info->max_rx_queues > n)
		PORT_LOG(WARNING, "%s: %u queue pairs for %u worker(s): the kernel fans packets out "
			 "to all of them and those on unpolled ones are lost; use qpairs=%u",
			 p->name, info->max_rx_queues, n, n);
	if (p->mode == HD_PORT_AF_XDP && info->max_rx_queues > n)
		PORT_LOG(WARNING, "%s: queue_count=%u for %u worker(s): DNS arriving on the other "
			 "queues goes to the kernel", p->name, info->max_rx_queues, n);
	if (extra_txq && info->max_tx_queues > n) {
		ret = rte_eth_dev_configure(p->port_id, n, n + 1, &conf);
		if (ret == 0) {
			p->n_rxq = n;
			p->n_txq = n + 1;
			p->slow_txq = n;
			return 0;
		}
		PORT_LOG(INFO, "%s: %u RX + %u TX queues refused (%s), the slow path will reply through the workers",
			 p->name, n, n + 1, rte_strerror(-ret));
	}
	ret = rte_eth_dev_configure(p->port_id, n, n, &conf);
	if (ret < 0) {
		PORT_LOG(ERR, "%s: cannot configure %u queue pairs: %s", p->name, n,
			 rte_strerror(-ret));
		return ret;
	}
	p->n_rxq = n;
	p->n_txq = n;
	p->slow_txq = -1;
	return 0;
}

static int
port_queues_setup(struct hd_port *p, const struct hd_port_params *params)
{
	uint16_t nrxd = params->n_rxd, ntxd = params->n_txd, q;
	int ret;

	ret = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nrxd, &ntxd);
	if (ret < 0) {
		PORT_LOG(ERR, "%s: descriptor counts: %s", p->name, rte_strerror(-ret));
		return ret;
	}
	for (q = 0; q < p->n_rxq; q++) {
		ret = rte_eth_rx_queue_setup(p->port_id, q, nrxd, p->socket_id, NULL, p->pool);
		if (ret < 0) {
			PORT_LOG(ERR, "%s: RX queue %u: %s", p->name, q, rte_strerror(-ret));
			return ret;
		}
	}
	for (q = 0; q < p->n_txq; q++) {
		ret = rte_eth_tx_queue_setup(p->port_id, q, ntxd, p->socket_id, NULL);
		if (ret < 0) {
			PORT_LOG(ERR, "%s: TX queue %u: %s", p->name, q, rte_strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void
port_identify(struct hd_port *p, uint16_t port_id, const struct rte_eth_dev_info *info)
{
	int socket = rte_eth_dev_socket_id(port_id);

	p->port_id = port_id;
	p->slow_txq = -1;
	p->exc_port = -1;
	p->data_port = -1;
	if (rte_eth_dev_get_name_by_port(port_id, p->name) != 0)
		snprintf(p->name, sizeof(p->name), "port%u", port_id);
	snprintf(p->driver, sizeof(p->driver), "%s", info->driver_name ? info->driver_name : "?");
	p->mode = hd_port_mode_from_names(info->driver_name, p->name);
	p->ifindex = info->if_index;
	if (p->ifindex == 0 || if_indextoname(p->ifindex, p->ifname) == NULL) {
		p->ifindex = 0;
		p->ifname[0] = '\0';
	}
	/* Virtual devices have no NUMA node: take the main lcore's. */
	p->socket_id = socket >= 0 ? socket : (int)rte_socket_id();
}

int
hd_port_init(struct hd_port *p, uint16_t port_id, const struct hd_port_params *params)
{
	struct rte_eth_dev_info info;
	uint16_t n;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = rte_eth_dev_info_get(port_id, &info);
	if (ret < 0) {
		PORT_LOG(ERR, "port %u: no device info: %s", port_id, rte_strerror(-ret));
		return ret;
	}
	port_identify(p, port_id, &info);

	n = RTE_MIN(params->n_workers, RTE_MIN(info.max_rx_queues, info.max_tx_queues));
	if (n == 0) {
		PORT_LOG(ERR, "%s: the PMD offers no queue pair", p->name);
		return -ENODEV;
	}
	if (n < params->n_workers)
		PORT_LOG(WARNING, "%s offers %u queue pair(s) for %u workers: only %u worker(s) serve it%s",
			 p->name, n, params->n_workers, n,
			 p->mode == HD_PORT_AF_XDP ? " (add queue_count=N to the vdev)" : "");

	ret = rte_eth_macaddr_get(port_id, &p->mac);
	if (ret < 0)
		return ret;
	ret = port_pool_create(p, params->n_mbufs);
	if (ret < 0)
		return ret;
	ret = port_configure(p, &info, n);
	if (ret < 0)
		return ret;
	ret = port_queues_setup(p, params);
	if (ret < 0)
		return ret;
	ret = rte_eth_dev_start(port_id);
	if (ret < 0) {
		PORT_LOG(ERR, "%s: cannot start: %s", p->name, rte_strerror(-ret));
		return ret;
	}
	p->started = 1;
	PORT_LOG(INFO, "%s (%s, %s%s%s) " RTE_ETHER_ADDR_PRT_FMT ": %u RX / %u TX queues, slow path %s",
		 p->name, hd_port_mode_name(p->mode), p->driver,
		 p->ifname[0] ? " on " : "", p->ifname,
		 RTE_ETHER_ADDR_BYTES(&p->mac), p->n_rxq, p->n_txq,
		 p->mode == HD_PORT_EXCEPTION ? "does not use it" :
		 p->slow_txq >= 0 ? "has its own TX queue" : "replies through the workers");
	return 0;
}

void
hd_port_close(struct hd_port *p)
{
	int ret;

	if (p->started) {
		ret = rte_eth_dev_stop(p->port_id);
		if (ret < 0)
			PORT_LOG(WARNING, "%s: stop: %s", p->name, rte_strerror(-ret));
		p->started = 0;
	}
	/* Closing releases the PMD's hold on the pool and, on af_xdp, detaches the program. */
	if (rte_eth_dev_is_valid_port(p->port_id))
		rte_eth_dev_close(p->port_id);
	rte_mempool_free(p->pool);
	p->pool = NULL;
	hd_port_addr_remove(p);
}
