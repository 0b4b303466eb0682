/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Names: every way a name in a message can be malformed must be refused
 * without reading outside the message, compression must only ever point
 * backwards, and presentation form must round-trip.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include "hd_dns.h"
#include "dns_test.h"

static struct tmsg m;

/* Read the name at @p pos of m. @return as hd_dns_name_read; *end = cursor. */
static int
read_at(size_t pos, uint8_t *out, size_t *end)
{
	struct hd_wire w;
	int rc;

	hd_wire_init(&w, m.b, m.n);
	hd_wire_seek(&w, pos);
	rc = hd_dns_name_read(&w, out);
	if (rc < 0)
		CU_ASSERT_EQUAL(w.err, rc);	/* the sticky error is set too */
	if (end != NULL)
		*end = w.pos;
	return rc;
}

/* 12 bytes of header, then www.example.com at 12 (example at 16, com at 24). */
static void
msg_with_qname(void)
{
	tm_init(&m);
	tm_hdr(&m, 1, 0, 1, 0, 0, 0);
	tm_name(&m, "www.example.com");
}

static const uint8_t www_example_com[] =
	"\3www\7example\3com";	/* plus the implicit NUL = root */

static void
test_read_plain(void)
{
	uint8_t out[HD_DNS_NAME_MAX];
	size_t end;

	msg_with_qname();
	tm_u16(&m, 1);
	CU_ASSERT_EQUAL(read_at(12, out, &end), 17);
	CU_ASSERT_EQUAL(memcmp(out, www_example_com, 17), 0);
	CU_ASSERT_EQUAL(end, 29);
}

static void
test_read_compressed(void)
{
	uint8_t out[HD_DNS_NAME_MAX];
	size_t end, p1, p2;

	msg_with_qname();
	p1 = m.n;
	tm_labels(&m, "mail");
	tm_ptr(&m, 16);			/* mail.example.com */
	p2 = m.n;
	tm_labels(&m, "a");
	tm_ptr(&m, (uint16_t)p1);	/* a.mail.example.com: two hops */
	tm_u8(&m, 0xee);

	CU_ASSERT_EQUAL(read_at(p1, out, &end), 18);
	CU_ASSERT_EQUAL(memcmp(out, "\4mail\7example\3com", 18), 0);
	CU_ASSERT_EQUAL(end, p1 + 7);	/* just after the pointer */
	CU_ASSERT_EQUAL(read_at(p2, out, &end), 20);
	CU_ASSERT_EQUAL(memcmp(out, "\1a\4mail\7example\3com", 20), 0);
	CU_ASSERT_EQUAL(end, p2 + 4);
	/* A name that is only a pointer. */
	size_t p3 = m.n;

	tm_ptr(&m, 12);
	CU_ASSERT_EQUAL(read_at(p3, out, &end), 17);
	CU_ASSERT_EQUAL(end, p3 + 2);
}

static void
test_root(void)
{
	uint8_t out[HD_DNS_NAME_MAX];
	size_t end;

	tm_init(&m);
	tm_u8(&m, 0);
	CU_ASSERT_EQUAL(read_at(0, out, &end), 1);
	CU_ASSERT_EQUAL(out[0], 0);
	CU_ASSERT_EQUAL(end, 1);
}

static void
test_forward_pointer(void)
{
	uint8_t out[HD_DNS_NAME_MAX];

	msg_with_qname();
	size_t p = m.n;

	tm_ptr(&m, (uint16_t)(p + 2));
	tm_name(&m, "later");
	CU_ASSERT_EQUAL(read_at(p, out, NULL), -EBADMSG);
}

static void
test_self_pointer(void)
{
	uint8_t out[HD_DNS_NAME_MAX];

	msg_with_qname();
	size_t p = m.n;

	tm_ptr(&m, (uint16_t)p);
	CU_ASSERT_EQUAL(read_at(p, out, NULL), -EBADMSG);
}

static void
test_pointer_loop(void)
{
	uint8_t out[HD_DNS_NAME_MAX];

	/* A label followed by a pointer back to that label. */
	msg_with_qname();
	size_t p = m.n;

	tm_labels(&m, "a");
	tm_ptr(&m, (uint16_t)p);
	CU_ASSERT_EQUAL(read_at(p, out, NULL), -EBADMSG);
	/* Entering the loop through its pointer. */
	CU_ASSERT_EQUAL(read_at(p + 2, out, NULL), -EBADMSG);

	/* Two pointers pointing at each other, entered from a third. */
	msg_with_qname();
	size_t a = m.n;

	tm_ptr(&m, (uint16_t)(a + 2));	/* a -> b (forward) */
	tm_ptr(&m, (uint16_t)a);	/* b -> a */
	size_t c = m.n;

	tm_ptr(&m, (uint16_t)(a + 2));	/* c -> b -> a -> b ... */
	CU_ASSERT_EQUAL(read_at(c, out, NULL), -EBADMSG);
	CU_ASSERT_EQUAL(read_at(a, out, NULL), -EBADMSG);
}

static void
test_pointer_into_header_forward(void)
{
	uint8_t out[HD_DNS_NAME_MAX];

	/*
	 * The header holds a pointer (bytes 2-3 -> offset 8) that points
	 * forward from where it sits, though still before the name.
	 */
	tm_init(&m);
	tm_hdr(&m, 0, 0xc008, 1, 0, 0, 0);
	size_t p = m.n;

	tm_ptr(&m, 2);
	CU_ASSERT_EQUAL(read_at(p, out, NULL), -EBADMSG);
}

/* A chain of @p hops pointers, each to the previous, ending at a name. */
static size_t
pointer_chain(unsigned int hops)
{
	size_t prev, i;

	msg_with_qname();
	prev = 12;
	for (i = 0; i < hops; i++) {
		size_t here = m.n;

		tm_ptr(&m, (uint16_t)prev);
		prev = here;
	}
	return prev;
}

static void
test_too_many_hops(void)
{
	uint8_t out[HD_DNS_NAME_MAX];

	CU_ASSERT_EQUAL(read_at(pointer_chain(HD_DNS_PTR_HOPS_MAX), out, NULL), 17);
	CU_ASSERT_EQUAL(read_at(pointer_chain(HD_DNS_PTR_HOPS_MAX + 1), out, NULL), -EBADMSG);
}

static void
fill_label(uint8_t len)
{
	tm_u8(&m, len);
	for (uint8_t i = 0; i < len; i++)
		tm_u8(&m, 'x');
}

static void
test_label_64_and_reserved_types(void)
{
	uint8_t out[HD_DNS_NAME_MAX];

	tm_init(&m);
	fill_label(63);
	tm_u8(&m, 0);
	CU_ASSERT_EQUAL(read_at(0, out, NULL), 65);

	tm_init(&m);
	fill_label(64);		/* 0x40: also the extended label type */
	tm_u8(&m, 0);
	CU_ASSERT_EQUAL(read_at(0, out, NULL), -EBADMSG);

	tm_init(&m);
	tm_u8(&m, 0x80);	/* reserved label type */
	tm_u8(&m, 0);
	CU_ASSERT_EQUAL(read_at(0, out, NULL), -EBADMSG);

	tm_init(&m);
	tm_labels(&m, "ok");
	tm_u8(&m, 0x41);	/* extended type after a good label */
	tm_u8(&m, 0);
	CU_ASSERT_EQUAL(read_at(0, out, NULL), -EBADMSG);
}

static void
test_name_length_via_pointers(void)
{
	uint8_t out[HD_DNS_NAME_MAX];
	size_t base, p;

	/* base: 63 + 63 + root = 129 bytes */
	tm_init(&m);
	base = m.n;
	fill_label(63);
	fill_label(63);
	tm_u8(&m, 0);
	/* 64 + 62 + 129 = 255: the longest name */
	p = m.n;
	fill_label(63);
	fill_label(61);
	tm_ptr(&m, (uint16_t)base);
	CU_ASSERT_EQUAL(read_at(p, out, NULL), 255);
	/* 64 + 63 + 129 = 256: one too long, only visible after the pointer */
	p = m.n;
	fill_label(63);
	fill_label(62);
	tm_ptr(&m, (uint16_t)base);
	CU_ASSERT_EQUAL(read_at(p, out, NULL), -EBADMSG);
	/* Too long without pointers as well. */
	tm_init(&m);
	fill_label(63);
	fill_label(63);
	fill_label(63);
	fill_label(63);
	tm_u8(&m, 0);
	CU_ASSERT_EQUAL(read_at(0, out, NULL), -EBADMSG);
}

static void
test_truncated(void)
{
	uint8_t out[HD_DNS_NAME_MAX];
	size_t full, cut;

	/* Every prefix of a good compressed name is truncated, never malformed. */
	msg_with_qname();
	size_t p = m.n;

	tm_labels(&m, "mail");
	tm_ptr(&m, 16);
	full = m.n;
	for (cut = p; cut < full; cut++) {
		m.n = cut;
		CU_ASSERT_EQUAL(read_at(p, out, NULL), -EMSGSIZE);
	}
	m.n = full;
	CU_ASSERT_EQUAL(read_at(p, out, NULL), 18);

	/* A label running past the end of the message. */
	tm_init(&m);
	tm_u8(&m, 5);
	tm_bytes(&m, "ab", 2);
	CU_ASSERT_EQUAL(read_at(0, out, NULL), -EMSGSIZE);
	/* A pointer cut after its first byte. */
	tm_init(&m);
	tm_labels(&m, "a");
	tm_u8(&m, 0xc0);
	CU_ASSERT_EQUAL(read_at(0, out, NULL), -EMSGSIZE);
	/* A name missing its root. */
	tm_init(&m);
	tm_labels(&m, "abc");
	CU_ASSERT_EQUAL(read_at(0, out, NULL), -EMSGSIZE);
	/* Nothing at all. */
	tm_init(&m);
	CU_ASSERT_EQUAL(read_at(0, out, NULL), -EMSGSIZE);
}

static void
test_sticky(void)
{
	uint8_t out[HD_DNS_NAME_MAX];
	struct hd_wire w;

	tm_init(&m);
	tm_u8(&m, 0x80);
	tm_name(&m, "ok");
	hd_wire_init(&w, m.b, m.n);
	CU_ASSERT_EQUAL(hd_dns_name_read(&w, out), -EBADMSG);
	w.pos = 1;	/* even at a good name, the earlier error stands */
	CU_ASSERT_EQUAL(hd_dns_name_read(&w, out), -EBADMSG);
}

/* ---- compression writer ------------------------------------------------ */

static uint8_t wbuf[20000];

static size_t
write_name(struct hd_wire *w, struct hd_dns_compressor *c, const char *s)
{
	uint8_t name[HD_DNS_NAME_MAX];
	int n = hd_dns_name_from_str(s, name);
	size_t before = w->pos;

	CU_ASSERT_FATAL(n > 0);
	hd_dns_name_write(w, c, name, (size_t)n);
	CU_ASSERT(hd_wire_ok(w));
	return w->pos - before;
}

/* The name at @p pos of wbuf, read back with the library reader. */
static int
name_at_is(size_t pos, size_t len, const char *want)
{
	uint8_t got[HD_DNS_NAME_MAX], exp[HD_DNS_NAME_MAX];
	struct hd_wire r;
	int n, e = hd_dns_name_from_str(want, exp);

	hd_wire_init(&r, wbuf, len);
	hd_wire_seek(&r, pos);
	n = hd_dns_name_read(&r, got);
	return n == e && memcmp(got, exp, (size_t)n) == 0;
}

static void
test_write_compress(void)
{
	struct hd_dns_compressor c;
	struct hd_wire w;
	size_t p[6];

	hd_wire_init(&w, wbuf, sizeof(wbuf));
	hd_dns_comp_init(&c, wbuf);
	hd_wire_seek(&w, 12);
	p[0] = w.pos;
	CU_ASSERT_EQUAL(write_name(&w, &c, "www.example.com"), 17);
	p[1] = w.pos;
	/* A shared suffix becomes a pointer to "example.com" at 16. */
	CU_ASSERT_EQUAL(write_name(&w, &c, "mail.example.com"), 7);
	CU_ASSERT_EQUAL(wbuf[p[1] + 5], 0xc0);
	CU_ASSERT_EQUAL(wbuf[p[1] + 6], 16);
	p[2] = w.pos;
	/* The whole name again, in other case: just a pointer. */
	CU_ASSERT_EQUAL(write_name(&w, &c, "WWW.Example.COM"), 2);
	CU_ASSERT_EQUAL(wbuf[p[2]], 0xc0);
	CU_ASSERT_EQUAL(wbuf[p[2] + 1], 12);
	p[3] = w.pos;
	/* Suffix of a name that was itself compressed. */
	CU_ASSERT_EQUAL(write_name(&w, &c, "x.mail.example.com"), 4);
	CU_ASSERT_EQUAL(wbuf[p[3] + 3], p[1]);
	p[4] = w.pos;
	/* Nothing in common: written whole. */
	CU_ASSERT_EQUAL(write_name(&w, &c, "example.org"), 13);
	p[5] = w.pos;
	CU_ASSERT_EQUAL(write_name(&w, &c, "."), 1);

	CU_ASSERT(name_at_is(p[0], w.pos, "www.example.com"));
	CU_ASSERT(name_at_is(p[1], w.pos, "mail.example.com"));
	CU_ASSERT(name_at_is(p[2], w.pos, "www.example.com"));
	CU_ASSERT(name_at_is(p[3], w.pos, "x.mail.example.com"));
	CU_ASSERT(name_at_is(p[4], w.pos, "example.org"));
	CU_ASSERT(name_at_is(p[5], w.pos, "."));
	/* "org" is now known too. */
	CU_ASSERT_EQUAL(write_name(&w, &c, "a.org"), 4);
}

static void
test_write_no_comp(void)
{
	struct hd_wire w;

	hd_wire_init(&w, wbuf, sizeof(wbuf));
	CU_ASSERT_EQUAL(write_name(&w, NULL, "www.example.com"), 17);
	CU_ASSERT_EQUAL(write_name(&w, NULL, "www.example.com"), 17);
	CU_ASSERT_EQUAL(memcmp(wbuf + 17, www_example_com, 17), 0);
}

static void
test_write_far_offsets(void)
{
	struct hd_dns_compressor c;
	struct hd_wire w;

	/* Names beyond offset 0x3fff cannot be pointer targets. */
	hd_wire_init(&w, wbuf, sizeof(wbuf));
	hd_dns_comp_init(&c, wbuf);
	hd_wire_seek(&w, 0x3ffe);
	CU_ASSERT_EQUAL(write_name(&w, &c, "ab.example.net"), 16);
	/* Its first label starts at 0x3ffe and could be used... */
	CU_ASSERT_EQUAL(write_name(&w, &c, "ab.example.net"), 2);
	/* ...but "example.net" starts at 0x4001: written whole. */
	CU_ASSERT_EQUAL(write_name(&w, &c, "example.net"), 13);
	CU_ASSERT(name_at_is(0x3ffe + 18, w.pos, "example.net"));
}

static void
test_write_errors(void)
{
	struct hd_dns_compressor c;
	struct hd_wire w;
	const uint8_t bad[] = { 3, 'a', 'b' };	/* label runs past the name */

	hd_wire_init(&w, wbuf, sizeof(wbuf));
	hd_dns_comp_init(&c, wbuf);
	hd_dns_name_write(&w, &c, bad, sizeof(bad));
	CU_ASSERT_FALSE(hd_wire_ok(&w));
	/* Out of space. */
	hd_wire_init(&w, wbuf, 10);
	hd_dns_comp_init(&c, wbuf);
	hd_dns_name_write(&w, &c, www_example_com, 17);
	CU_ASSERT_EQUAL(w.err, -EMSGSIZE);
	CU_ASSERT_EQUAL(c.n, 0);
}

static void
test_write_many_names(void)
{
	struct hd_dns_compressor c;
	struct hd_wire w;
	char s[32];
	size_t i;

	/* More names than the compressor remembers: still correct. */
	hd_wire_init(&w, wbuf, sizeof(wbuf));
	hd_dns_comp_init(&c, wbuf);
	for (i = 0; i < 3 * HD_DNS_COMP_MAX; i++) {
		size_t at = w.pos;

		snprintf(s, sizeof(s), "h%zu.zone%zu.test", i, i % 7);
		write_name(&w, &c, s);
		CU_ASSERT(name_at_is(at, w.pos, s));
	}
	CU_ASSERT(c.n <= HD_DNS_COMP_MAX);
}

/* ---- helpers and presentation form ------------------------------------- */

static void
test_lower_equal(void)
{
	uint8_t a[] = "\3WwW\7ExAmPlE\3cOm";
	uint8_t b[] = "\3www\7example\3com";

	CU_ASSERT(hd_dns_name_equal(a, 17, b, 17));
	CU_ASSERT_FALSE(hd_dns_name_equal(a, 17, b, 16));
	b[1] = 'v';
	CU_ASSERT_FALSE(hd_dns_name_equal(a, 17, b, 17));
	hd_dns_name_lower(a, 17);
	CU_ASSERT_EQUAL(memcmp(a, www_example_com, 17), 0);
}

static void
test_from_str(void)
{
	uint8_t out[HD_DNS_NAME_MAX];
	char s[400];

	CU_ASSERT_EQUAL(hd_dns_name_from_str("www.example.com", out), 17);
	CU_ASSERT_EQUAL(memcmp(out, www_example_com, 17), 0);
	CU_ASSERT_EQUAL(hd_dns_name_from_str("www.example.com.", out), 17);
	CU_ASSERT_EQUAL(hd_dns_name_from_str(".", out), 1);
	CU_ASSERT_EQUAL(out[0], 0);
	CU_ASSERT_EQUAL(hd_dns_name_from_str("a\\.b.c", out), 7);
	CU_ASSERT_EQUAL(memcmp(out, "\3a.b\1c", 7), 0);
	CU_ASSERT_EQUAL(hd_dns_name_from_str("\\065\\000z", out), 5);
	CU_ASSERT_EQUAL(memcmp(out, "\3A\0z", 5), 0);
	CU_ASSERT_EQUAL(hd_dns_name_from_str("\\\\.x", out), 5);
	CU_ASSERT_EQUAL(out[1], '\\');

	CU_ASSERT_EQUAL(hd_dns_name_from_str("", out), -EINVAL);
	CU_ASSERT_EQUAL(hd_dns_name_from_str("..", out), -EINVAL);
	CU_ASSERT_EQUAL(hd_dns_name_from_str("a..b", out), -EINVAL);
	CU_ASSERT_EQUAL(hd_dns_name_from_str(".a", out), -EINVAL);
	CU_ASSERT_EQUAL(hd_dns_name_from_str("a\\", out), -EINVAL);
	CU_ASSERT_EQUAL(hd_dns_name_from_str("\\256", out), -EINVAL);
	CU_ASSERT_EQUAL(hd_dns_name_from_str("\\12", out), -EINVAL);

	memset(s, 'a', 63);
	s[63] = '\0';
	CU_ASSERT_EQUAL(hd_dns_name_from_str(s, out), 65);
	s[63] = 'a';
	s[64] = '\0';
	CU_ASSERT_EQUAL(hd_dns_name_from_str(s, out), -EINVAL);

	/* 63.63.63.61 is 255 bytes on the wire; one more letter is 256. */
	memset(s, 'b', sizeof(s));
	s[63] = s[127] = s[191] = '.';
	s[253] = '\0';
	CU_ASSERT_EQUAL(hd_dns_name_from_str(s, out), 255);
	s[253] = '.';
	s[254] = '\0';
	CU_ASSERT_EQUAL(hd_dns_name_from_str(s, out), 255);
	s[253] = 'b';
	s[254] = '\0';
	CU_ASSERT_EQUAL(hd_dns_name_from_str(s, out), -EINVAL);
}

static void
test_to_str(void)
{
	uint8_t name[HD_DNS_NAME_MAX];
	char s[1100];
	int n;

	CU_ASSERT_EQUAL(hd_dns_name_to_str(www_example_com, 17, s, sizeof(s)), 16);
	CU_ASSERT_STRING_EQUAL(s, "www.example.com.");
	CU_ASSERT_EQUAL(hd_dns_name_to_str((const uint8_t *)"", 1, s, sizeof(s)), 1);
	CU_ASSERT_STRING_EQUAL(s, ".");
	/* Escapes for anything but letters, digits, '-' and '_'. */
	CU_ASSERT_EQUAL(hd_dns_name_to_str((const uint8_t *)"\5a.b\0_\3x-y", 11, s,
					   sizeof(s)), 16);
	CU_ASSERT_STRING_EQUAL(s, "a\\046b\\000_.x-y.");
	/* Exactly fitting capacity, then one byte short. */
	CU_ASSERT_EQUAL(hd_dns_name_to_str(www_example_com, 17, s, 17), 16);
	CU_ASSERT_EQUAL(hd_dns_name_to_str(www_example_com, 17, s, 16), -ENOSPC);
	CU_ASSERT_EQUAL(hd_dns_name_to_str((const uint8_t *)"", 1, s, 1), -ENOSPC);
	/* Malformed input is refused, not overrun. */
	CU_ASSERT(hd_dns_name_to_str((const uint8_t *)"\7ab", 3, s, sizeof(s)) < 0);
	/* Round trip through both forms, with every byte value. */
	for (unsigned int v = 0; v < 256; v++) {
		uint8_t wire[4] = { 2, (uint8_t)v, 'z', 0 };

		CU_ASSERT_FATAL(hd_dns_name_to_str(wire, 4, s, sizeof(s)) > 0);
		n = hd_dns_name_from_str(s, name);
		CU_ASSERT_EQUAL(n, 4);
		CU_ASSERT_EQUAL(memcmp(name, wire, 4), 0);
	}
	/* The longest name, all escaped, fits in 4 * 255 + 1. */
	memset(name, 0xff, sizeof(name));
	name[0] = name[64] = name[128] = 63;
	name[192] = 61;
	name[254] = 0;
	n = hd_dns_name_to_str(name, 255, s, sizeof(s));
	CU_ASSERT(n > 0 && (size_t)n < sizeof(s));
}

static const struct t_case cases[] = {
	T_CASE(test_read_plain),
	T_CASE(test_read_compressed),
	T_CASE(test_root),
	T_CASE(test_forward_pointer),
	T_CASE(test_self_pointer),
	T_CASE(test_pointer_loop),
	T_CASE(test_pointer_into_header_forward),
	T_CASE(test_too_many_hops),
	T_CASE(test_label_64_and_reserved_types),
	T_CASE(test_name_length_via_pointers),
	T_CASE(test_truncated),
	T_CASE(test_sticky),
	T_CASE(test_write_compress),
	T_CASE(test_write_no_comp),
	T_CASE(test_write_far_offsets),
	T_CASE(test_write_errors),
	T_CASE(test_write_many_names),
	T_CASE(test_lower_equal),
	T_CASE(test_from_str),
	T_CASE(test_to_str),
};

int
main(void)
{
	return t_run("dns_name", cases, RTE_DIM(cases));
}
