/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hd_wire: the bounds-checked cursor every packet access goes through.
 * The properties that matter: values in network order, no access past the
 * end at any offset, and a sticky first error.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <CUnit/Basic.h>

/* hd_wire.h uses likely/unlikely without including their header. */
#include <rte_branch_prediction.h>

#include "hd_wire.h"
#include "../hd_test.h"

static void
test_read_values(void)
{
	uint8_t buf[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b };
	uint8_t out[3];
	struct hd_wire w;

	hd_wire_init(&w, buf, sizeof(buf));
	CU_ASSERT_EQUAL(hd_wire_peek_u8(&w), 0x01);
	CU_ASSERT_EQUAL(w.pos, 0);
	CU_ASSERT_EQUAL(hd_wire_read_u8(&w), 0x01);
	CU_ASSERT_EQUAL(hd_wire_read_u16(&w), 0x0203);
	CU_ASSERT_EQUAL(hd_wire_read_u32(&w), 0x04050607);
	hd_wire_read_bytes(&w, out, 3);
	CU_ASSERT_EQUAL(memcmp(out, buf + 7, 3), 0);
	CU_ASSERT_EQUAL(w.pos, 10);
	CU_ASSERT_EQUAL(hd_wire_left(&w), 1);
	CU_ASSERT_PTR_EQUAL(hd_wire_take(&w, 1), buf + 10);
	CU_ASSERT_EQUAL(hd_wire_left(&w), 0);
	CU_ASSERT(hd_wire_ok(&w));
}

static void
test_write_values(void)
{
	uint8_t buf[12];
	const uint8_t want[] = { 0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 'x', 'y', 'z' };
	struct hd_wire w;

	memset(buf, 0, sizeof(buf));
	hd_wire_init(&w, buf, sizeof(buf));
	hd_wire_write_u8(&w, 0xab);
	hd_wire_write_u16(&w, 0x1234);
	hd_wire_write_u32(&w, 0xdeadbeef);
	hd_wire_write_bytes(&w, "xyz", 3);
	CU_ASSERT(hd_wire_ok(&w));
	CU_ASSERT_EQUAL(w.pos, sizeof(want));
	CU_ASSERT_EQUAL(memcmp(buf, want, sizeof(want)), 0);
	/* A failing write must not touch the buffer. */
	hd_wire_write_u32(&w, 0x11223344);
	CU_ASSERT_EQUAL(w.err, -EMSGSIZE);
	CU_ASSERT_EQUAL(buf[10], 0);
	CU_ASSERT_EQUAL(buf[11], 0);
}

static void
test_sticky_error(void)
{
	uint8_t buf[5] = { 1, 2, 3, 4, 5 };
	struct hd_wire w;

	hd_wire_init(&w, buf, sizeof(buf));
	hd_wire_skip(&w, 2);
	CU_ASSERT_EQUAL(hd_wire_read_u32(&w), 0);	/* 3 left: fails */
	CU_ASSERT_FALSE(hd_wire_ok(&w));
	CU_ASSERT_EQUAL(w.err, -EMSGSIZE);
	CU_ASSERT_EQUAL(w.pos, 2);
	/* Everything after is a no-op, even what would fit. */
	CU_ASSERT_EQUAL(hd_wire_read_u8(&w), 0);
	CU_ASSERT_EQUAL(hd_wire_peek_u8(&w), 0);
	CU_ASSERT_EQUAL(hd_wire_read_u16(&w), 0);
	CU_ASSERT_PTR_NULL(hd_wire_take(&w, 1));
	hd_wire_write_u8(&w, 9);
	CU_ASSERT_EQUAL(buf[2], 3);
	hd_wire_seek(&w, 0);
	CU_ASSERT_EQUAL(w.pos, 2);
	CU_ASSERT_EQUAL(hd_wire_left(&w), 0);
	CU_ASSERT_EQUAL(hd_wire_get_u16_at(&w, 0), 0);
	hd_wire_put_u16_at(&w, 0, 0xffff);
	CU_ASSERT_EQUAL(buf[0], 1);
	/* The first error is kept. */
	hd_wire_fail(&w, -EBADMSG);
	CU_ASSERT_EQUAL(w.err, -EMSGSIZE);

	hd_wire_init(&w, buf, sizeof(buf));
	hd_wire_fail(&w, -EBADMSG);
	hd_wire_fail(&w, -EINVAL);
	CU_ASSERT_EQUAL(w.err, -EBADMSG);
}

/* Every access at every offset of buffers of every small length. */
static void
test_bounds_every_edge(void)
{
	uint8_t buf[16], tmp[16];
	size_t len, pos, n;

	memset(buf, 0x5a, sizeof(buf));
	for (len = 0; len <= 9; len++) {
		for (pos = 0; pos <= len; pos++) {
			for (n = 0; n <= 9; n++) {
				int fits = pos + n <= len;
				struct hd_wire w;

				hd_wire_init(&w, buf, len);
				hd_wire_seek(&w, pos);
				CU_ASSERT(hd_wire_ok(&w));
				CU_ASSERT_EQUAL(hd_wire_left(&w), len - pos);
				hd_wire_read_bytes(&w, tmp, n);
				CU_ASSERT_EQUAL(hd_wire_ok(&w), fits);
				CU_ASSERT_EQUAL(w.pos, fits ? pos + n : pos);

				hd_wire_init(&w, buf, len);
				hd_wire_seek(&w, pos);
				CU_ASSERT_EQUAL(hd_wire_take(&w, n) != NULL, fits);

				hd_wire_init(&w, buf, len);
				hd_wire_seek(&w, pos);
				hd_wire_skip(&w, n);
				CU_ASSERT_EQUAL(hd_wire_ok(&w), fits);

				hd_wire_init(&w, buf, len);
				hd_wire_seek(&w, pos);
				hd_wire_write_bytes(&w, tmp, n);
				CU_ASSERT_EQUAL(hd_wire_ok(&w), fits);
			}
			for (n = 1; n <= 4; n *= 2) {
				int fits = pos + n <= len;
				struct hd_wire w;

				hd_wire_init(&w, buf, len);
				hd_wire_seek(&w, pos);
				if (n == 1)
					(void)hd_wire_read_u8(&w);
				else if (n == 2)
					(void)hd_wire_read_u16(&w);
				else
					(void)hd_wire_read_u32(&w);
				CU_ASSERT_EQUAL(hd_wire_ok(&w), fits);

				hd_wire_init(&w, buf, len);
				hd_wire_seek(&w, pos);
				if (n == 1)
					hd_wire_write_u8(&w, 1);
				else if (n == 2)
					hd_wire_write_u16(&w, 1);
				else
					hd_wire_write_u32(&w, 1);
				CU_ASSERT_EQUAL(hd_wire_ok(&w), fits);
			}
		}
		/* Seeking to the end is fine, one past is not. */
		struct hd_wire w;

		hd_wire_init(&w, buf, len);
		hd_wire_seek(&w, len + 1);
		CU_ASSERT_EQUAL(w.err, -EMSGSIZE);
	}
}

static void
test_skip_huge(void)
{
	uint8_t buf[4] = { 0 };
	struct hd_wire w;

	/* Lengths that would wrap a naive pos + n check. */
	hd_wire_init(&w, buf, sizeof(buf));
	hd_wire_skip(&w, 1);
	hd_wire_skip(&w, SIZE_MAX);
	CU_ASSERT_EQUAL(w.err, -EMSGSIZE);
	CU_ASSERT_EQUAL(w.pos, 1);
	hd_wire_init(&w, buf, sizeof(buf));
	CU_ASSERT_PTR_NULL(hd_wire_take(&w, SIZE_MAX - 1));
	hd_wire_init(&w, buf, sizeof(buf));
	hd_wire_seek(&w, SIZE_MAX);
	CU_ASSERT_FALSE(hd_wire_ok(&w));
}

static void
test_put_get_at(void)
{
	uint8_t buf[8];
	size_t len, off;

	for (len = 0; len <= 8; len++) {
		for (off = 0; off <= len + 2; off++) {
			struct hd_wire w;
			int fit2 = off + 2 <= len, fit4 = off + 4 <= len;

			memset(buf, 0, sizeof(buf));
			hd_wire_init(&w, buf, len);
			hd_wire_put_u16_at(&w, off, 0xbeef);
			CU_ASSERT_EQUAL(hd_wire_ok(&w), fit2);
			CU_ASSERT_EQUAL(w.pos, 0);
			if (fit2) {
				CU_ASSERT_EQUAL(buf[off], 0xbe);
				CU_ASSERT_EQUAL(buf[off + 1], 0xef);
				CU_ASSERT_EQUAL(hd_wire_get_u16_at(&w, off), 0xbeef);
			}

			hd_wire_init(&w, buf, len);
			hd_wire_put_u32_at(&w, off, 0x01020304);
			CU_ASSERT_EQUAL(hd_wire_ok(&w), fit4);
			if (fit4) {
				CU_ASSERT_EQUAL(buf[off], 1);
				CU_ASSERT_EQUAL(buf[off + 3], 4);
				CU_ASSERT_EQUAL(hd_wire_get_u32_at(&w, off), 0x01020304);
			}
			hd_wire_init(&w, buf, len);
			(void)hd_wire_get_u32_at(&w, off);
			CU_ASSERT_EQUAL(hd_wire_ok(&w), fit4);
			hd_wire_init(&w, buf, len);
			(void)hd_wire_get_u16_at(&w, off);
			CU_ASSERT_EQUAL(hd_wire_ok(&w), fit2);
		}
	}
	/* Offsets far past the end must not wrap. */
	struct hd_wire w;

	hd_wire_init(&w, buf, sizeof(buf));
	hd_wire_put_u32_at(&w, SIZE_MAX - 1, 1);
	CU_ASSERT_FALSE(hd_wire_ok(&w));
	hd_wire_init(&w, buf, sizeof(buf));
	(void)hd_wire_get_u16_at(&w, SIZE_MAX);
	CU_ASSERT_FALSE(hd_wire_ok(&w));
}

static void
test_unaligned(void)
{
	uint8_t buf[9] = { 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	struct hd_wire w;

	/* Odd offsets: memcpy access, no alignment faults under UBSan. */
	hd_wire_init(&w, buf, sizeof(buf));
	hd_wire_skip(&w, 1);
	CU_ASSERT_EQUAL(hd_wire_read_u32(&w), 0x11223344);
	CU_ASSERT_EQUAL(hd_wire_get_u32_at(&w, 3), 0x33445566);
	hd_wire_put_u16_at(&w, 5, 0xa1b2);
	CU_ASSERT_EQUAL(hd_wire_read_u16(&w), 0xa1b2);
}

int
main(void)
{
	static const struct t_case cases[] = {
		{ "read_values", test_read_values },
		{ "write_values", test_write_values },
		{ "sticky_error", test_sticky_error },
		{ "bounds_every_edge", test_bounds_every_edge },
		{ "skip_huge", test_skip_huge },
		{ "put_get_at", test_put_get_at },
		{ "unaligned", test_unaligned },
	};

	return t_run("wire", cases, T_DIM(cases));
}
