/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Memory per cached entry, and what persistence costs, for N typical
 * entries (default 1,000,000): half A, half AAAA, one record each, names
 * like "h123456.example.com". Run with `meson test --benchmark
 * cache_memory` or directly: bench_memory [N].
 *
 * Counted: the DPDK heap the cache takes (rte_hash buckets, key store and
 * free-slot ring, the reclaim FIFO) and the libc heap of the answers
 * (mallinfo2, so allocator overhead is included).
 */

#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "hd_cache.h"
#include "hd_dns.h"

#define T0 1000u

static double
secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
dpdk_heap(void)
{
	struct rte_malloc_socket_stats s;
	size_t total = 0;
	int sock;

	for (sock = 0; sock < RTE_MAX_NUMA_NODES; sock++)
		if (rte_malloc_get_socket_stats(sock, &s) == 0)
			total += s.heap_allocsz_bytes;
	return total;
}

static void
put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* Query and upstream reply for entry @p i; @return the reply length. */
static size_t
make(unsigned int i, uint8_t *qm, size_t *ql, uint8_t *rm)
{
	uint16_t qtype = (i & 1) ? HD_DNS_TYPE_AAAA : HD_DNS_TYPE_A;
	uint16_t rdlen = qtype == HD_DNS_TYPE_AAAA ? 16 : 4;
	char label[16];
	size_t n = 12, l;

	l = (size_t)snprintf(label, sizeof(label), "h%u", i / 2);
	memset(qm, 0, 12);
	put16(qm + 4, 1);
	qm[n++] = (uint8_t)l;
	memcpy(qm + n, label, l);
	n += l;
	memcpy(qm + n, "\7example\3com", 13);	/* with the root label */
	n += 13;
	put16(qm + n, qtype);
	put16(qm + n + 2, HD_DNS_CLASS_IN);
	n += 4;
	*ql = n;
	memcpy(rm, qm, n);
	put16(rm + 2, HD_DNS_QR | HD_DNS_RD | HD_DNS_RA);
	put16(rm + 6, 1);
	put16(rm + n, 0xc00c);
	put16(rm + n + 2, qtype);
	put16(rm + n + 4, HD_DNS_CLASS_IN);
	put16(rm + n + 6, 0);
	put16(rm + n + 8, 3600);
	put16(rm + n + 10, rdlen);
	memset(rm + n + 12, (int)(i & 0xff), rdlen);
	return n + 12 + rdlen;
}

int
main(int argc, char **argv)
{
	char *eal_args[] = { "bench", "--no-huge", "-m", "2048", "--no-pci", "--no-shconf",
			     "--log-level=lib.*:error", "-l", "0", "--file-prefix=bench_cache_mem" };
	unsigned int n = argc > 1 ? (unsigned int)strtoul(argv[1], NULL, 10) : 1000000;
	struct hd_dns_answer_limits lim = { .stale_ttl = 86400 };
	struct hd_cache_params cp = { .name = "bench_mem", .socket_id = SOCKET_ID_ANY };
	struct hd_cache_stats st;
	struct hd_cache *c, *d;
	struct rte_rcu_qsbr *qsv;
	struct mallinfo2 m0, m1;
	size_t h0, h1, h2, ql, rl;
	uint8_t qm[512], rm[512];
	char path[] = "/tmp/hd_bench_cacheXXXXXX";
	double t, t_ins, t_snap, t_write, t_load;
	struct hd_cache_image img;
	struct stat sb;
	unsigned int i;
	int fd, err, loaded;

	if (rte_eal_init(RTE_DIM(eal_args), eal_args) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	qsv = rte_zmalloc("qsv", rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	if (qsv == NULL || rte_rcu_qsbr_init(qsv, 1) != 0)
		return 1;
	cp.max_entries = n;
	cp.qsv = qsv;
	h0 = dpdk_heap();
	c = hd_cache_create(&cp);
	if (c == NULL) {
		fprintf(stderr, "hd_cache_create: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	h1 = dpdk_heap();
	m0 = mallinfo2();
	t = secs();
	for (i = 0; i < n; i++) {
		struct hd_cache_key k __rte_aligned(8);
		struct hd_dns_answer *a;
		struct hd_dns_query q;

		rl = make(i, qm, &ql, rm);
		if (hd_dns_query_parse(qm, ql, &q) != 0)
			return 1;
		a = hd_dns_answer_build(rm, rl, &q, T0, &lim, &err);
		if (a == NULL)
			return 1;
		hd_cache_key_from_query(&k, &q);
		if (hd_cache_insert(c, &k, a, T0) != 0)
			return 1;
	}
	t_ins = secs() - t;
	m1 = mallinfo2();
	h2 = dpdk_heap();
	hd_cache_stats_get(c, &st);

	printf("entries                 %u (capacity %u, evictions %" PRIu64 ")\n",
	       st.entries, st.capacity, st.evictions);
	printf("DPDK heap (hash, FIFO)  %zu bytes = %.1f per entry\n", h1 - h0,
	       (double)(h1 - h0) / st.entries);
	printf("  of which after inserts %zu more\n", h2 - h1);
	printf("answers (cache bytes)   %" PRIu64 " bytes = %.1f per entry\n", st.bytes,
	       (double)st.bytes / st.entries);
	printf("answers (libc heap)     %zu bytes = %.1f per entry\n",
	       m1.uordblks - m0.uordblks, (double)(m1.uordblks - m0.uordblks) / st.entries);
	printf("total                   %.1f bytes per entry\n",
	       (double)(h2 - h0 + m1.uordblks - m0.uordblks) / st.entries);
	printf("insert                  %.0f ns per entry (answer build included)\n",
	       t_ins * 1e9 / n);

	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	t = secs();
	if (hd_cache_snapshot(c, 1700000000, T0 + 10, &img) != 0)
		return 1;
	t_snap = secs() - t;
	t = secs();
	if (hd_cache_image_write(&img, path) != 0)
		return 1;
	t_write = secs() - t;
	stat(path, &sb);
	printf("snapshot (slow path)    %.1f ms for %u entries\n", t_snap * 1e3, img.entries);
	printf("write+fsync+rename      %.1f ms, file %lld bytes = %.1f per entry\n",
	       t_write * 1e3, (long long)sb.st_size, (double)sb.st_size / img.entries);
	hd_cache_image_free(&img);
	hd_cache_free(c);

	cp.name = "bench_mem2";
	d = hd_cache_create(&cp);
	if (d == NULL)
		return 1;
	t = secs();
	loaded = hd_cache_load(d, path, 1700000100, 5);
	t_load = secs() - t;
	printf("load (checked, aged)    %.1f ms for %d entries\n", t_load * 1e3, loaded);
	hd_cache_free(d);
	unlink(path);
	rte_free(qsv);
	rte_eal_cleanup();
	return loaded == (int)n ? 0 : 1;
}
