/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_PORT_H
#define HD_PORT_H

/**
 * @file
 * What sits under heimdall's DPDK ports: queue and mempool setup per port
 * mode, the XDP steering program of af_xdp ports (stale program clean-up
 * before the EAL starts, map configuration after the port starts), and the
 * listen addresses heimdall puts on an interface it shares with the kernel.
 *
 * Thread safety: everything from the main lcore, at start-up and shutdown.
 */

#include <net/if.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#include "hd_config.h"

/** How a port reaches the wire; decides ARP/NDP and address handling. */
enum hd_port_mode {
	HD_PORT_PCI = 0,	/**< a NIC bound to vfio-pci (or any other physical PMD) */
	HD_PORT_AF_XDP,		/**< net_af_xdp: shares a kernel interface through XDP */
	HD_PORT_AF_PACKET,	/**< net_af_packet: test mode on a kernel interface */
	HD_PORT_TAP,		/**< net_tap */
	HD_PORT_VIRTIO_USER,	/**< net_virtio_user */
	HD_PORT_RING,		/**< net_ring: benchmarks, no wire */
	HD_PORT_OTHER,		/**< any other vdev (pcap, null, ...) */
	/**
	 * net_tap vdev named HD_PORT_EXCEPTION_PREFIX...: not a DNS port but the
	 * kernel's way in and out of a data port (the exception path).
	 */
	HD_PORT_EXCEPTION,
};

/** Device-name prefix that makes a net_tap vdev an exception port. */
#define HD_PORT_EXCEPTION_PREFIX "net_tap_exc"

/** Name of the XDP program inside heimdall_xdp.o (as the kernel shows it). */
#define HD_PORT_XDP_PROG_NAME "heimdall_xdp"

/** Largest number of addresses hd_port_addr_add() can remember. */
#define HD_PORT_ADDR_MAX HD_CONFIG_LISTEN_MAX

struct hd_port_params {
	uint16_t n_workers;	/**< RX/TX queue pairs wanted (one per worker) */
	uint32_t n_mbufs;	/**< mempool size for this port */
	uint16_t n_rxd;		/**< RX descriptors, 0: the PMD's default */
	uint16_t n_txd;		/**< TX descriptors, 0: the PMD's default */
};

struct hd_port {
	uint16_t port_id;
	enum hd_port_mode mode;
	char name[64];			/**< ethdev name ("net_af_xdp0", "0000:01:00.0") */
	char driver[32];		/**< PMD name ("net_af_xdp") */
	char ifname[IF_NAMESIZE];	/**< bound kernel interface, "" if none */
	unsigned int ifindex;		/**< 0 if none */
	int socket_id;
	struct rte_ether_addr mac;
	uint16_t n_rxq;			/**< queue pairs in use: workers served on this port */
	uint16_t n_txq;			/**< n_rxq, or n_rxq + 1 when the slow path has a queue */
	int slow_txq;			/**< the slow path's own TX queue, -1 when none */
	struct rte_mempool *pool;
	int started;
	/** Listen addresses hd_port_addr_add() put on ifname; removed at close. */
	struct hd_config_addr added[HD_PORT_ADDR_MAX];
	unsigned int n_added;
	/**
	 * Exception path pairing, set by the application after hd_port_init()
	 * (which sets both to -1): on a data port, its exception port; on an
	 * exception port, the data port it serves.
	 */
	int exc_port;
	int data_port;
};

/** @return a short name for @p m ("af_xdp", "pci", ...). */
const char *hd_port_mode_name(enum hd_port_mode m);

/** @return the mode of a port driven by PMD @p driver_name. */
enum hd_port_mode hd_port_mode_from_driver(const char *driver_name);

/**
 * @return the mode of ethdev @p dev_name driven by @p driver_name: as
 *   hd_port_mode_from_driver(), except HD_PORT_EXCEPTION for a net_tap
 *   device whose name starts with HD_PORT_EXCEPTION_PREFIX.
 */
enum hd_port_mode hd_port_mode_from_names(const char *driver_name, const char *dev_name);

/**
 * Give the kernel side of exception port @p exc the MAC of the data port
 * @p data, so the kernel's frames leave with the data port's source MAC
 * and the frames handed to it are addressed to it.
 * @return 0 or a negative errno (logged).
 */
int hd_port_exception_pair(struct hd_port *exc, const struct hd_port *data);

/**
 * Probe, configure and start ethdev @p port_id: one mempool on the port's
 * socket, min(n_workers, what the PMD offers) RX/TX queue pairs, and one
 * more TX queue for the slow path when the PMD accepts it (never on af_xdp,
 * whose queues come in pairs bound to NIC queues).
 * @return 0, or a negative errno (logged with the port's name).
 */
int hd_port_init(struct hd_port *p, uint16_t port_id, const struct hd_port_params *params);

/**
 * Stop and close the port (the af_xdp PMD detaches its XDP program), free
 * the mempool, and take back the addresses hd_port_addr_add() added.
 * Safe on a port that never started.
 */
void hd_port_close(struct hd_port *p);

/**
 * af_xdp, before rte_eal_init(): make @p ifname ready for the PMD to attach
 * heimdall's program. A heimdall program left behind by a killed heimdall
 * is detached (the caller must hold the interface's lock, so no live
 * heimdall owns it); any other program is refused.
 * @return 0, -ENODEV (no such interface), -EBUSY (a foreign XDP program is
 *   attached; the message says how to remove it), or another negative errno.
 */
int hd_port_xdp_prepare(const char *ifname);

/**
 * af_xdp, after the port started: find heimdall's program on the port's
 * interface (directly attached, or a component of a libxdp dispatcher) and
 * fill its maps: hd_v4 / hd_v6 with @p addrs, hd_conf with @p dns_port.
 * Until this is done the program passes every packet to the kernel.
 * @return 0, -ENOENT (no heimdall program attached), or a negative errno.
 */
int hd_port_xdp_configure(const struct hd_port *p, const struct hd_config_addr *addrs,
			  unsigned int n, uint16_t dns_port);

/**
 * af_xdp: put every address of @p addrs missing from the port's interface
 * on it (IPv6 without duplicate address detection so it is usable at once)
 * and remember the ones added, so hd_port_addr_remove() takes back exactly
 * those. Addresses already present are left alone.
 * @return 0 or a negative errno (what was added so far stays remembered).
 */
int hd_port_addr_add(struct hd_port *p, const struct hd_config_addr *addrs, unsigned int n);

/** Remove the addresses hd_port_addr_add() added. */
void hd_port_addr_remove(struct hd_port *p);

#endif /* HD_PORT_H */
