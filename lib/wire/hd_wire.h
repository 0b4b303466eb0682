/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_WIRE_H
#define HD_WIRE_H

/**
 * @file
 * Bounds-checked cursor over a byte buffer, used for every packet and DNS
 * message access in heimdall.
 *
 * The error is sticky: the first read or write that would cross the end of
 * the buffer sets @c err to -EMSGSIZE and every later call becomes a no-op
 * (reads return 0). Callers do a run of reads or writes and check
 * hd_wire_ok() once at the end. Multi-byte values are in network order on
 * the wire and are accessed with memcpy, never through casts of packet
 * pointers, so buffers need no alignment.
 *
 * Ownership: the cursor never owns its buffer.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>

struct hd_wire {
	uint8_t *buf;	/**< start of the buffer */
	size_t len;	/**< bytes readable (reader) or writable (writer) */
	size_t pos;	/**< current offset */
	int err;	/**< 0, or a negative errno; sticky */
};

/** Start a cursor over @p len bytes at @p buf, positioned at 0. */
static inline void
hd_wire_init(struct hd_wire *w, void *buf, size_t len)
{
	w->buf = buf;
	w->len = len;
	w->pos = 0;
	w->err = 0;
}

/** @return 1 while no access has failed. */
static inline int
hd_wire_ok(const struct hd_wire *w)
{
	return w->err == 0;
}

/** @return bytes between the position and the end (0 after an error). */
static inline size_t
hd_wire_left(const struct hd_wire *w)
{
	return w->err ? 0 : w->len - w->pos;
}

/** Set the sticky error if it is not set yet. */
static inline void
hd_wire_fail(struct hd_wire *w, int err)
{
	if (w->err == 0)
		w->err = err;
}

/** @return 1 and leave the state alone if @p n bytes fit; else set -EMSGSIZE. */
static inline int
hd_wire_need(struct hd_wire *w, size_t n)
{
	if (unlikely(w->err != 0))
		return 0;
	if (unlikely(n > w->len - w->pos)) {
		w->err = -EMSGSIZE;
		return 0;
	}
	return 1;
}

/** Move to absolute offset @p pos (which may equal len). */
static inline void
hd_wire_seek(struct hd_wire *w, size_t pos)
{
	if (unlikely(w->err != 0))
		return;
	if (unlikely(pos > w->len)) {
		w->err = -EMSGSIZE;
		return;
	}
	w->pos = pos;
}

/** Advance by @p n bytes. */
static inline void
hd_wire_skip(struct hd_wire *w, size_t n)
{
	if (hd_wire_need(w, n))
		w->pos += n;
}

/**
 * @return a pointer to the next @p n bytes and advance past them, or NULL
 * (and the error set) when fewer are left.
 */
static inline uint8_t *
hd_wire_take(struct hd_wire *w, size_t n)
{
	uint8_t *p;

	if (!hd_wire_need(w, n))
		return NULL;
	p = w->buf + w->pos;
	w->pos += n;
	return p;
}

static inline uint8_t
hd_wire_read_u8(struct hd_wire *w)
{
	if (!hd_wire_need(w, 1))
		return 0;
	return w->buf[w->pos++];
}

/** @return the next byte without advancing (0 when none is left). */
static inline uint8_t
hd_wire_peek_u8(struct hd_wire *w)
{
	if (!hd_wire_need(w, 1))
		return 0;
	return w->buf[w->pos];
}

static inline uint16_t
hd_wire_read_u16(struct hd_wire *w)
{
	rte_be16_t v;

	if (!hd_wire_need(w, 2))
		return 0;
	memcpy(&v, w->buf + w->pos, 2);
	w->pos += 2;
	return rte_be_to_cpu_16(v);
}

static inline uint32_t
hd_wire_read_u32(struct hd_wire *w)
{
	rte_be32_t v;

	if (!hd_wire_need(w, 4))
		return 0;
	memcpy(&v, w->buf + w->pos, 4);
	w->pos += 4;
	return rte_be_to_cpu_32(v);
}

static inline void
hd_wire_read_bytes(struct hd_wire *w, void *dst, size_t n)
{
	if (!hd_wire_need(w, n))
		return;
	memcpy(dst, w->buf + w->pos, n);
	w->pos += n;
}

static inline void
hd_wire_write_u8(struct hd_wire *w, uint8_t v)
{
	if (!hd_wire_need(w, 1))
		return;
	w->buf[w->pos++] = v;
}

static inline void
hd_wire_write_u16(struct hd_wire *w, uint16_t v)
{
	rte_be16_t b = rte_cpu_to_be_16(v);

	if (!hd_wire_need(w, 2))
		return;
	memcpy(w->buf + w->pos, &b, 2);
	w->pos += 2;
}

static inline void
hd_wire_write_u32(struct hd_wire *w, uint32_t v)
{
	rte_be32_t b = rte_cpu_to_be_32(v);

	if (!hd_wire_need(w, 4))
		return;
	memcpy(w->buf + w->pos, &b, 4);
	w->pos += 4;
}

static inline void
hd_wire_write_bytes(struct hd_wire *w, const void *src, size_t n)
{
	if (!hd_wire_need(w, n))
		return;
	memmove(w->buf + w->pos, src, n);
	w->pos += n;
}

/** Read a 16-bit value at absolute offset @p off without moving. */
static inline uint16_t
hd_wire_get_u16_at(struct hd_wire *w, size_t off)
{
	rte_be16_t v;

	if (unlikely(w->err != 0))
		return 0;
	if (unlikely(off > w->len || w->len - off < 2)) {
		w->err = -EMSGSIZE;
		return 0;
	}
	memcpy(&v, w->buf + off, 2);
	return rte_be_to_cpu_16(v);
}

/** Overwrite a 16-bit value at absolute offset @p off without moving. */
static inline void
hd_wire_put_u16_at(struct hd_wire *w, size_t off, uint16_t v)
{
	rte_be16_t b = rte_cpu_to_be_16(v);

	if (unlikely(w->err != 0))
		return;
	if (unlikely(off > w->len || w->len - off < 2)) {
		w->err = -EMSGSIZE;
		return;
	}
	memcpy(w->buf + off, &b, 2);
}

/** Overwrite a 32-bit value at absolute offset @p off without moving. */
static inline void
hd_wire_put_u32_at(struct hd_wire *w, size_t off, uint32_t v)
{
	rte_be32_t b = rte_cpu_to_be_32(v);

	if (unlikely(w->err != 0))
		return;
	if (unlikely(off > w->len || w->len - off < 4)) {
		w->err = -EMSGSIZE;
		return;
	}
	memcpy(w->buf + off, &b, 4);
}

/** Read a 32-bit value at absolute offset @p off without moving. */
static inline uint32_t
hd_wire_get_u32_at(struct hd_wire *w, size_t off)
{
	rte_be32_t v;

	if (unlikely(w->err != 0))
		return 0;
	if (unlikely(off > w->len || w->len - off < 4)) {
		w->err = -EMSGSIZE;
		return 0;
	}
	memcpy(&v, w->buf + off, 4);
	return rte_be_to_cpu_32(v);
}

#endif /* HD_WIRE_H */
