# SPDX-License-Identifier: BSD-3-Clause
#
# Heimdall container image (docs/deploy.md).
#
#   docker build -t heimdall .
#
# Build stage: Debian 12 with the -dev packages of scripts/deps.sh, built by
# scripts/build-release.sh, the very script CI runs (scripts/check-packaging.sh
# also checks that every library the installed binary links is provided by
# the runtime packages below).
# Runtime stage: Debian 12 slim with only the shared libraries heimdall and
# the DPDK drivers it loads need.
#
# Run it with capabilities, not --privileged (measured; docs/deploy.md):
#   af_xdp:    --network host --cap-drop ALL --cap-add NET_ADMIN --cap-add NET_RAW
#              --cap-add SYS_ADMIN --cap-add IPC_LOCK --cap-add NET_BIND_SERVICE
#   af_packet: --network host --cap-drop ALL --cap-add NET_ADMIN --cap-add NET_RAW
#              --cap-add NET_BIND_SERVICE
#   vfio-pci:  --cap-drop ALL --cap-add IPC_LOCK --device /dev/vfio/vfio
#              --device /dev/vfio/<group>
# plus the host's hugepages: -v /dev/hugepages:/dev/hugepages
# and the config: -v /etc/heimdall:/etc/heimdall:ro

FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
	&& apt-get install -y -q --no-install-recommends \
		build-essential \
		ca-certificates \
		clang \
		libbpf-dev \
		libcurl4-openssl-dev \
		libdpdk-dev \
		libelf-dev \
		libgnutls28-dev \
		libhiredis-dev \
		libjansson-dev \
		libknot-dev \
		libmicrohttpd-dev \
		libnl-3-dev \
		libnl-route-3-dev \
		libpcap-dev \
		libxdp-dev \
		libyaml-dev \
		llvm \
		meson \
		ninja-build \
		pkg-config \
		zlib1g-dev \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . /src
RUN bash scripts/build-release.sh /src/build-release /opt/heimdall

FROM debian:12-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
# Shared libraries of /usr/bin/heimdall (ldd), and the DPDK drivers the EAL
# loads from its plugin directory: the mempool and bus drivers, the PMDs of
# every port mode (af_xdp, af_packet, tap, virtio_user, ring) and common
# NICs for vfio-pci. EXTRA_PMDS adds others (e.g. librte-net-bnxt23).
# curl: the HEALTHCHECK; libcurl4 is heimdall's own dependency already, so
# it costs only the small curl binary. ca-certificates: DoT and https lists.
ARG EXTRA_PMDS=""
RUN apt-get update \
	&& apt-get install -y -q --no-install-recommends \
		ca-certificates \
		curl \
		libbpf1 \
		libcurl4 \
		libgnutls30 \
		libhiredis0.14 \
		libjansson4 \
		libmicrohttpd12 \
		libnl-3-200 \
		libnl-route-3-200 \
		librte-bus-pci23 \
		librte-bus-vdev23 \
		librte-eal23 \
		librte-ethdev23 \
		librte-hash23 \
		librte-mbuf23 \
		librte-mempool-ring23 \
		librte-mempool23 \
		librte-net-af-packet23 \
		librte-net-af-xdp23 \
		librte-net-e1000-23 \
		librte-net-i40e23 \
		librte-net-iavf23 \
		librte-net-ice23 \
		librte-net-ixgbe23 \
		librte-net-mlx5-23 \
		librte-net-ring23 \
		librte-net-tap23 \
		librte-net-virtio23 \
		librte-net-vmxnet3-23 \
		librte-net23 \
		librte-pcapng23 \
		librte-pdump23 \
		librte-rcu23 \
		librte-ring23 \
		librte-telemetry23 \
		libxdp1 \
		libyaml-0-2 \
		libzscanner4 \
		${EXTRA_PMDS} \
	&& rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/heimdall/ /
# Root inside the container, with only the capabilities given at run time
# (--cap-drop ALL --cap-add ...): DPDK's runtime directory, the hugepage files
# and dpdk-dumpcap/dpdk-telemetry.py (secondary processes) agree on root's
# paths, and a non-root user would need file capabilities, which
# no_new_privileges and Kubernetes' allowPrivilegeEscalation: false disable.
USER root
EXPOSE 53/udp 53/tcp 8053/tcp
VOLUME ["/var/lib/heimdall"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
	CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8053/health"]
ENTRYPOINT ["/usr/bin/heimdall"]
CMD ["-l", "0-1", "--no-pci", "--vdev=net_af_xdp0,iface=eth0", "--", "--config", "/etc/heimdall/heimdall.yaml"]
