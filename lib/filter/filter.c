/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The list builder and the compiled matcher.
 *
 * The builder inserts every exact/subtree rule straight into the table the
 * matcher will use (see filter_private.h), so compiling is a few linear
 * passes and there is never a second copy of a million names in memory.
 * Each name's rules are four list bit masks (block exact, block subtree,
 * allow exact, allow subtree); the set of masks is interned, because most
 * names of a big list carry the same one, and a slot stores its 24-bit id.
 *
 * Memory comes from libc, not the EAL: the builder runs on the control
 * thread and the compiled filter is read-only shared data, so the library
 * works (and is tested) without the EAL. A list reserves its table and name
 * space from its line count up front, so a million names are not rehashed
 * or copied while loading; the big arrays sit on transparent huge pages.
 *
 * Patterns ('*' inside AdBlock rules) are few in real lists; they live in
 * small per-list arrays and are only tried for the lists that have some,
 * after the table lookup, on the presentation form of the name.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_errno.h>

#include "filter_private.h"

#define TABLE_MIN	1024u
#define INTERN_MIN	64u
#define HUGE_SZ		(2u << 20)

struct list_info {
	char *name;
	struct hd_filter_response response;
	uint32_t rules;			/* after dedup, set by build */
	uint32_t block_pat[2];		/* [start, end) in the pattern array */
	uint32_t allow_pat[2];
	uint8_t allow;			/* an allowlist */
};

/* A name table: the builder's, then the filter's (same layout). */
struct table {
	uint64_t *slots;
	uint32_t mask;			/* capacity - 1, capacity a power of two */
	uint32_t n;
	uint8_t *arena;			/* records: [wire length][wire bytes] */
	size_t alen;
	size_t acap;
	struct filter_masks *combos;
	uint32_t n_combos;
	uint32_t combos_cap;
	uint64_t *bloom;		/* see BLOOM_BITS */
	uint32_t bloom_mask;		/* words - 1 */
	/* Bit k: some name has k labels. Lookups skip other suffix lengths (most lists have no TLDs). */
	uint64_t label_counts[2];
};

struct pat_rec {
	uint32_t off;			/* in the pattern text buffer */
	uint8_t list;
	uint8_t allow;
	uint8_t dead;			/* disabled by a $badfilter rule */
};

struct bf_rec {
	uint32_t off;			/* name or pattern in the pattern text buffer */
	uint8_t kind;
	uint8_t allow;
};

struct hd_filter_builder {
	struct table t;
	uint32_t *intern;		/* combo id + 1, 0 = empty */
	uint32_t intern_mask;
	char *ptext;			/* patterns and badfilter names, NUL-separated */
	size_t ptext_len, ptext_cap;
	struct pat_rec *pats;
	size_t n_pats, pats_cap;
	struct bf_rec *bfs;
	size_t n_bfs, bfs_cap;
	struct list_info lists[HD_FILTER_LISTS_MAX];
	unsigned int n_lists;
	struct filter_groups *groups;
	int failed;			/* an allocation failed: build refuses */
	/* Last mask-set transition: a big list repeats one (none -> its bit). */
	uint32_t memo_from, memo_to;
	uint64_t memo_bit;
	int memo_which;			/* which of the four masks, -1: none */
};

struct hd_filter {
	struct table t;
	uint64_t all_lists;		/* every list index in use */
	uint64_t table_lists;		/* lists with exact/subtree rules */
	uint64_t allow_lists;		/* lists with allow rules of any kind */
	uint64_t block_pat_lists;	/* lists with block patterns */
	uint64_t allow_pat_lists;
	const char **pats;
	char *ptext;
	struct filter_groups *groups;
	unsigned int n_lists;
	struct list_info lists[HD_FILTER_LISTS_MAX];
	size_t memory;
};

/* ---- growable arrays -------------------------------------------------------- */

static int
grow(void **p, size_t *cap, size_t need, size_t elem, size_t min)
{
	size_t nc = *cap != 0 ? *cap : min;
	void *np;

	if (need <= *cap)
		return 0;
	while (nc < need)
		nc *= 2;
	np = realloc(*p, nc * elem);
	if (np == NULL)
		return -ENOMEM;
	*p = np;
	*cap = nc;
	return 0;
}

static int
ptext_add(struct hd_filter_builder *b, const char *s, uint32_t *off)
{
	size_t l = strlen(s) + 1;

	if (b->ptext_len + l > UINT32_MAX ||
	    grow((void **)&b->ptext, &b->ptext_cap, b->ptext_len + l, 1, 4096) < 0)
		return -ENOMEM;
	memcpy(b->ptext + b->ptext_len, s, l);
	*off = (uint32_t)b->ptext_len;
	b->ptext_len += l;
	return 0;
}

/* ---- interned mask sets ----------------------------------------------------- */

static uint64_t
masks_hash(const struct filter_masks *m)
{
	uint64_t h = HASH_SEED;

	h = (h ^ m->block_exact) * HASH_K;
	h = (h ^ (h >> 29) ^ m->block_subtree) * HASH_K;
	h = (h ^ (h >> 29) ^ m->allow_exact) * HASH_K;
	h = (h ^ (h >> 29) ^ m->allow_subtree) * HASH_K;
	return hash_final(h);
}

static int
intern_rehash(struct hd_filter_builder *b, uint32_t cap)
{
	uint32_t *n = calloc(cap, sizeof(*n));
	uint32_t id;

	if (n == NULL)
		return -ENOMEM;
	for (id = 0; id < b->t.n_combos; id++) {
		uint32_t i = HASH_IDX(masks_hash(&b->t.combos[id]), cap - 1);

		while (n[i] != 0)
			i = (i + 1) & (cap - 1);
		n[i] = id + 1;
	}
	free(b->intern);
	b->intern = n;
	b->intern_mask = cap - 1;
	return 0;
}

/* @return the id of @p m (added when new), or -ENOMEM. */
static int64_t
intern(struct hd_filter_builder *b, const struct filter_masks *m)
{
	uint32_t i = HASH_IDX(masks_hash(m), b->intern_mask);
	size_t cap = b->t.combos_cap;

	while (b->intern[i] != 0) {
		uint32_t id = b->intern[i] - 1;

		if (memcmp(&b->t.combos[id], m, sizeof(*m)) == 0)
			return id;
		i = (i + 1) & b->intern_mask;
	}
	if (b->t.n_combos >= COMBO_MAX ||
	    grow((void **)&b->t.combos, &cap, b->t.n_combos + 1, sizeof(*m), INTERN_MIN) < 0)
		return -ENOMEM;
	b->t.combos_cap = (uint32_t)cap;
	b->t.combos[b->t.n_combos] = *m;
	b->intern[i] = ++b->t.n_combos;
	if ((uint64_t)b->t.n_combos * 2 > (uint64_t)b->intern_mask + 1 &&
	    intern_rehash(b, (b->intern_mask + 1) * 2) < 0)
		return -ENOMEM;
	return b->t.n_combos - 1;
}

/* ---- the name table ----------------------------------------------------------- */

static inline uint32_t
table_find(const struct table *t, const uint8_t *w, size_t wl, uint64_t h, int *found)
{
	uint32_t i = HASH_IDX(h, t->mask);
	uint8_t tag = HASH_TAG(h);

	for (;;) {
		uint64_t s = t->slots[i];
		const uint8_t *r;

		if (s == 0) {
			*found = 0;
			return i;
		}
		r = t->arena + SLOT_OFF(s) - 1;
		if (SLOT_TAG(s) == tag && r[0] == wl && memcmp(r + 1, w, wl) == 0) {
			*found = 1;
			return i;
		}
		i = (i + 1) & t->mask;
	}
}

/*
 * Zeroed memory for the big arrays the fast path reads at random (slots,
 * names): from 2 MB up, 2 MB aligned and advised for transparent huge
 * pages, so a lookup in a table larger than the caches does not also pay a
 * TLB miss per probe (measured: docs/PERFORMANCE.md, "Blocklist load").
 */
static void *
big_zalloc(size_t size)
{
	void *p;

	if (size < HUGE_SZ)
		return calloc(1, size);
	size = (size + HUGE_SZ - 1) & ~(size_t)(HUGE_SZ - 1);
	if (posix_memalign(&p, HUGE_SZ, size) != 0)
		return NULL;
	(void)madvise(p, size, MADV_HUGEPAGE);	/* advice only; fine where unsupported */
	memset(p, 0, size);
	return p;
}

/* Rehash into @p cap slots (a power of two) and rebuild the Bloom filter. */
static int
table_resize(struct table *t, uint32_t cap)
{
	uint32_t words = cap / 16 > 0 ? cap / 16 : 1;
	uint64_t *n = big_zalloc((size_t)cap * sizeof(*n));
	uint64_t *bloom = calloc(words, sizeof(*bloom));
	uint32_t i;

	if (n == NULL || bloom == NULL) {
		free(n);
		free(bloom);
		return -ENOMEM;
	}
	for (i = 0; t->slots != NULL && i <= t->mask; i++) {
		uint64_t s = t->slots[i], h;
		const uint8_t *r;
		uint32_t j;

		if (s == 0)
			continue;
		r = t->arena + SLOT_OFF(s) - 1;
		h = hash_wire(r + 1, r[0]);
		bloom[BLOOM_IDX(h, words - 1)] |= BLOOM_BITS(h);
		j = HASH_IDX(h, cap - 1);
		while (n[j] != 0)
			j = (j + 1) & (cap - 1);
		n[j] = s;
	}
	free(t->slots);
	free(t->bloom);
	t->slots = n;
	t->mask = cap - 1;
	t->bloom = bloom;
	t->bloom_mask = words - 1;
	return 0;
}

/*
 * Room for @p more bytes of names. From 2 MB up the arena lives on
 * huge-page-advised memory like the slots; a reservation larger than what
 * gets written costs address space, not resident memory.
 */
static int
arena_reserve(struct table *t, size_t more)
{
	size_t need = t->alen + more, cap;
	void *p;

	if (need <= t->acap)
		return 0;
	if (need >= UINT32_MAX)
		return -ENOMEM;
	cap = t->acap * 2 > need ? t->acap * 2 : need;
	if (cap < HUGE_SZ)
		return grow((void **)&t->arena, &t->acap, need, 1, 65536);
	cap = (cap + HUGE_SZ - 1) & ~(size_t)(HUGE_SZ - 1);
	if (posix_memalign(&p, HUGE_SZ, cap) != 0)
		return -ENOMEM;
	(void)madvise(p, cap, MADV_HUGEPAGE);
	if (t->alen > 0)
		memcpy(p, t->arena, t->alen);
	free(t->arena);
	t->arena = p;
	t->acap = cap;
	return 0;
}

/* Smallest capacity that holds @p n names under the 0.7 load limit. */
static uint32_t
table_cap_for(uint64_t n)
{
	uint64_t cap = TABLE_MIN;

	/* Keep the load under 0.7: linear probing stays within a cache line or two. */
	while (n * 10 > cap * 7)
		cap *= 2;
	return cap > (1ull << 31) ? 1u << 31 : (uint32_t)cap;
}

/* Make room for @p more names at once, so a big list is not rehashed as it loads. */
static int
table_reserve(struct table *t, uint64_t more)
{
	uint32_t cap = table_cap_for((uint64_t)t->n + more);

	return cap > t->mask + 1 ? table_resize(t, cap) : 0;
}

/* @return the slot of the wire name of hash @p h, inserted with no rules when new. */
static int64_t
table_upsert(struct table *t, const uint8_t *w, size_t wl, uint64_t h)
{
	uint32_t i, labels;
	size_t p;
	int found;

	if (table_reserve(t, 1) < 0)
		return -ENOMEM;
	i = table_find(t, w, wl, h, &found);
	if (found)
		return i;
	if (arena_reserve(t, 1 + wl) < 0)
		return -ENOMEM;
	t->arena[t->alen] = (uint8_t)wl;
	memcpy(t->arena + t->alen + 1, w, wl);
	t->slots[i] = SLOT_MAKE(t->alen + 1, 0, HASH_TAG(h));
	t->bloom[BLOOM_IDX(h, t->bloom_mask)] |= BLOOM_BITS(h);
	for (labels = 0, p = 0; p < wl; labels++)
		p += 1u + w[p];
	t->label_counts[labels >> 6] |= 1ull << (labels & 63);
	t->alen += 1 + wl;
	t->n++;
	return i;
}

static uint64_t *
mask_of(struct filter_masks *m, enum hd_filter_rule_kind kind, int allow)
{
	if (allow)
		return kind == HD_FILTER_RULE_EXACT ? &m->allow_exact : &m->allow_subtree;
	return kind == HD_FILTER_RULE_EXACT ? &m->block_exact : &m->block_subtree;
}

/* A rule on its way into the table: hashed, its slot prefetched. */
struct pending {
	uint64_t h;
	uint8_t kind;
	uint8_t allow;
	uint8_t wl;
	uint8_t w[255];
};

#define PENDING_MAX	16

static int
table_add_rule(struct hd_filter_builder *b, const struct pending *p, unsigned int list)
{
	int64_t slot = table_upsert(&b->t, p->w, p->wl, p->h), id;
	int which = (p->allow ? 2 : 0) + (p->kind == HD_FILTER_RULE_EXACT ? 0 : 1);
	uint64_t bit = 1ull << list, s;
	uint32_t from;
	struct filter_masks m;

	if (slot < 0)
		return (int)slot;
	s = b->t.slots[slot];
	from = SLOT_COMBO(s);
	if (from == b->memo_from && which == b->memo_which && bit == b->memo_bit) {
		id = b->memo_to;
	} else {
		m = b->t.combos[from];
		*mask_of(&m, (enum hd_filter_rule_kind)p->kind, p->allow) |= bit;
		id = intern(b, &m);
		if (id < 0)
			return (int)id;
		b->memo_from = from;
		b->memo_which = which;
		b->memo_bit = bit;
		b->memo_to = (uint32_t)id;
	}
	b->t.slots[slot] = SLOT_MAKE(SLOT_OFF(s), (uint32_t)id, SLOT_TAG(s));
	return 0;
}

/* ---- builder -------------------------------------------------------------------- */

struct hd_filter_builder *
hd_filter_builder_create(void)
{
	struct hd_filter_builder *b = calloc(1, sizeof(*b));
	static const struct filter_masks none;

	if (b == NULL)
		goto fail;
	b->groups = filter_groups_create();
	b->memo_which = -1;
	if (b->groups == NULL || table_resize(&b->t, TABLE_MIN) < 0 ||
	    intern_rehash(b, INTERN_MIN) < 0 || intern(b, &none) != 0)
		goto fail;
	return b;
fail:
	hd_filter_builder_free(b);
	errno = ENOMEM;
	rte_errno = ENOMEM;
	return NULL;
}

static void
lists_free(struct list_info *l, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		free(l[i].name);
}

void
hd_filter_builder_free(struct hd_filter_builder *b)
{
	if (b == NULL)
		return;
	free(b->t.slots);
	free(b->t.arena);
	free(b->t.combos);
	free(b->t.bloom);
	free(b->intern);
	free(b->ptext);
	free(b->pats);
	free(b->bfs);
	lists_free(b->lists, b->n_lists);
	filter_groups_free(b->groups);
	free(b);
}

/*
 * Rules are inserted in batches: each one's slot is prefetched when it is
 * parsed and written a few rules later, so a list bigger than the caches
 * does not wait for memory once per name.
 */
struct add_ctx {
	struct hd_filter_builder *b;
	unsigned int list;
	int allow;
	unsigned int n_pending;
	struct pending pending[PENDING_MAX];
};

static int
flush_pending(struct add_ctx *c)
{
	unsigned int i;
	int rc = 0;

	for (i = 0; i < c->n_pending && rc == 0; i++)
		rc = table_add_rule(c->b, &c->pending[i], c->list);
	c->n_pending = 0;
	return rc;
}

static int
queue_rule(struct add_ctx *c, const struct hd_filter_rule *r, int allow)
{
	struct pending *p = &c->pending[c->n_pending++];
	const struct table *t = &c->b->t;

	p->wl = (uint8_t)filter_name_to_wire(r->name, p->w);
	p->h = hash_wire(p->w, p->wl);
	p->kind = (uint8_t)r->kind;
	p->allow = (uint8_t)allow;
	__builtin_prefetch(&t->slots[HASH_IDX(p->h, t->mask)], 1);
	return c->n_pending == PENDING_MAX ? flush_pending(c) : 0;
}

static int
add_rule(void *arg, const struct hd_filter_rule *r)
{
	struct add_ctx *c = arg;
	struct hd_filter_builder *b = c->b;
	int allow = r->allow || c->allow;
	uint32_t off;

	if (r->badfilter) {
		if (grow((void **)&b->bfs, &b->bfs_cap, b->n_bfs + 1, sizeof(*b->bfs), 16) < 0 ||
		    ptext_add(b, r->name, &off) < 0)
			return -ENOMEM;
		b->bfs[b->n_bfs++] = (struct bf_rec){ .off = off, .kind = (uint8_t)r->kind,
						      .allow = (uint8_t)allow };
		return 0;
	}
	if (r->kind != HD_FILTER_RULE_PATTERN)
		return queue_rule(c, r, allow);
	if (grow((void **)&b->pats, &b->pats_cap, b->n_pats + 1, sizeof(*b->pats), 16) < 0 ||
	    ptext_add(b, r->name, &off) < 0)
		return -ENOMEM;
	b->pats[b->n_pats++] = (struct pat_rec){ .off = off, .list = (uint8_t)c->list,
						 .allow = (uint8_t)allow };
	return 0;
}

static void
report_error(struct hd_filter_report *rep, const char *source, uint32_t line,
	     const char *why, const char *s, size_t n)
{
	char got[81];
	size_t i, gl;

	if (rep->n_errors >= HD_FILTER_ERRORS_MAX)
		return;
	while (n > 0 && s[n - 1] == '\r')
		n--;
	gl = n < sizeof(got) - 1 ? n : sizeof(got) - 1;
	/* The line is operator input of any bytes: show it printable. */
	for (i = 0; i < gl; i++)
		got[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	got[gl] = '\0';
	snprintf(rep->errors[rep->n_errors++], sizeof(rep->errors[0]), "%s:%u: %s, got '%s%s'",
		 source, line, why, got, n > gl ? "..." : "");
}

static uint64_t
count_lines(const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	uint64_t n = 1;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

static int
add_lines(struct hd_filter_builder *b, struct add_ctx *c, enum hd_filter_syntax syntax,
	  const char *source, const char *text, size_t len, struct hd_filter_report *rep)
{
	uint64_t lines = count_lines(text, len);
	size_t pos = 0;

	/*
	 * One name a line is the common case, and a name's record is at most
	 * its line plus one byte; build() trims an overestimate of slots.
	 */
	if (table_reserve(&b->t, lines) < 0 || arena_reserve(&b->t, len + lines) < 0) {
		b->failed = 1;
		return -ENOMEM;
	}
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - s) : len - pos;
		const char *why = NULL;
		int rc;

		pos += n + 1;
		rep->lines++;
		rc = hd_filter_parse_line_each(syntax, s, n, add_rule, c, &why);
		if (rc > 0) {
			rep->rules += (uint32_t)rc;
		} else if (rc == 0) {
			rep->skipped++;
		} else if (rc == -EINVAL) {
			rep->rejected++;
			report_error(rep, source, rep->lines, why != NULL ? why : "expected a rule",
				     s, n);
		} else {
			b->failed = 1;
			return rc;
		}
	}
	if (flush_pending(c) < 0) {
		b->failed = 1;
		return -ENOMEM;
	}
	return 0;
}

int
hd_filter_builder_add_list(struct hd_filter_builder *b,
			   const struct hd_filter_list_spec *spec,
			   const char *text, size_t len, struct hd_filter_report *rep)
{
	struct hd_filter_report local;
	struct list_info *l;
	struct add_ctx *c;
	enum hd_filter_syntax syntax;
	unsigned int i;
	int rc;

	if (rep == NULL)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	if (b == NULL || spec == NULL || spec->name == NULL || (text == NULL && len != 0))
		return -EINVAL;
	if (b->n_lists >= HD_FILTER_LISTS_MAX)
		return -ENOSPC;
	for (i = 0; i < b->n_lists; i++)
		if (strcmp(b->lists[i].name, spec->name) == 0)
			return -EEXIST;
	syntax = spec->syntax;
	if (syntax == HD_FILTER_SYNTAX_AUTO)
		syntax = hd_filter_detect(text, len);
	if (hd_filter_syntax_name(syntax) == NULL)
		return -EINVAL;
	rep->syntax = syntax;
	l = &b->lists[b->n_lists];
	memset(l, 0, sizeof(*l));
	l->name = strdup(spec->name);
	if (l->name == NULL)
		return -ENOMEM;
	l->response = spec->response;
	l->allow = spec->allow != 0;
	b->n_lists++;
	if (len == 0)
		return (int)b->n_lists - 1;
	c = malloc(sizeof(*c));		/* 4 KB of pending rules: not on the stack */
	if (c == NULL) {
		b->failed = 1;
		return -ENOMEM;
	}
	c->b = b;
	c->list = b->n_lists - 1;
	c->allow = spec->allow != 0;
	c->n_pending = 0;
	rc = add_lines(b, c, syntax, spec->source != NULL ? spec->source : spec->name, text,
		       len, rep);
	free(c);
	return rc < 0 ? -ENOMEM : (int)b->n_lists - 1;
}

int
hd_filter_builder_add_group(struct hd_filter_builder *b, const char *name,
			    const char *const *subnets, unsigned int n_subnets,
			    const char *const *lists, unsigned int n_lists,
			    char *err, size_t errlen)
{
	uint64_t mask = 0;
	unsigned int i, j;
	char dummy[8];

	if (err == NULL) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (errlen > 0)
		err[0] = '\0';
	if (b == NULL || (subnets == NULL && n_subnets != 0) || (lists == NULL && n_lists != 0)) {
		snprintf(err, errlen, "bad arguments");
		return -EINVAL;
	}
	for (i = 0; i < n_lists; i++) {
		for (j = 0; j < b->n_lists; j++)
			if (lists[i] != NULL && strcmp(lists[i], b->lists[j].name) == 0)
				break;
		if (j == b->n_lists) {
			snprintf(err, errlen, "group '%s': unknown list '%s' (add lists first)",
				 name != NULL ? name : "", lists[i] != NULL ? lists[i] : "(null)");
			return -EINVAL;
		}
		mask |= 1ull << j;
	}
	return filter_groups_add(b->groups, name, subnets, n_subnets, mask, err, errlen);
}

/* ---- compile ---------------------------------------------------------------------- */

/* `$badfilter`: the named rule is disabled in every list. */
static int
apply_badfilters(struct hd_filter_builder *b)
{
	size_t i, j;

	for (i = 0; i < b->n_bfs; i++) {
		const struct bf_rec *bf = &b->bfs[i];
		const char *name = b->ptext + bf->off;

		if (bf->kind == HD_FILTER_RULE_PATTERN) {
			for (j = 0; j < b->n_pats; j++)
				if (b->pats[j].allow == bf->allow &&
				    strcmp(b->ptext + b->pats[j].off, name) == 0)
					b->pats[j].dead = 1;
			continue;
		}
		uint8_t w[256];
		size_t wl = filter_name_to_wire(name, w);
		int found;
		uint32_t slot = table_find(&b->t, w, wl, hash_wire(w, wl), &found);
		struct filter_masks m;
		int64_t id;
		uint64_t s;

		if (!found)
			continue;
		s = b->t.slots[slot];
		m = b->t.combos[SLOT_COMBO(s)];
		*mask_of(&m, (enum hd_filter_rule_kind)bf->kind, bf->allow) = 0;
		id = intern(b, &m);
		if (id < 0)
			return (int)id;
		b->t.slots[slot] = SLOT_MAKE(SLOT_OFF(s), (uint32_t)id, SLOT_TAG(s));
	}
	return 0;
}

static void
add_bits(uint32_t *rules, uint64_t mask, uint32_t n)
{
	while (mask != 0) {
		rules[__builtin_ctzll(mask)] += n;
		mask &= mask - 1;
	}
}

/*
 * Drop mask sets no name uses any more (intermediate ones from building),
 * count each list's rules, and note which lists have table rules.
 */
static int
compact_combos(struct hd_filter *f, struct hd_filter_builder *b)
{
	uint32_t *remap = calloc(b->t.n_combos, sizeof(*remap));
	uint32_t *refs = calloc(b->t.n_combos, sizeof(*refs));
	uint32_t rules[HD_FILTER_LISTS_MAX] = { 0 };
	struct filter_masks *nc;
	uint32_t i, next = 1;

	if (remap == NULL || refs == NULL)
		goto nomem;
	for (i = 0; i <= b->t.mask; i++) {
		uint64_t s = b->t.slots[i];
		uint32_t c = SLOT_COMBO(s);

		if (s == 0)
			continue;
		if (c != 0 && remap[c] == 0)
			remap[c] = next++;
		refs[remap[c]]++;
		b->t.slots[i] = SLOT_MAKE(SLOT_OFF(s), remap[c], SLOT_TAG(s));
	}
	nc = calloc(next, sizeof(*nc));
	if (nc == NULL)
		goto nomem;
	for (i = 1; i < b->t.n_combos; i++) {
		const struct filter_masks *m = &b->t.combos[i];

		if (remap[i] == 0)
			continue;
		nc[remap[i]] = *m;
		add_bits(rules, m->block_exact, refs[remap[i]]);
		add_bits(rules, m->block_subtree, refs[remap[i]]);
		add_bits(rules, m->allow_exact, refs[remap[i]]);
		add_bits(rules, m->allow_subtree, refs[remap[i]]);
		f->table_lists |= m->block_exact | m->block_subtree | m->allow_exact |
				  m->allow_subtree;
		f->allow_lists |= m->allow_exact | m->allow_subtree;
	}
	for (i = 0; i < b->n_lists; i++)
		b->lists[i].rules = rules[i];
	free(b->t.combos);
	b->t.combos = nc;
	b->t.n_combos = next;
	b->t.combos_cap = next;
	free(remap);
	free(refs);
	return 0;
nomem:
	free(remap);
	free(refs);
	return -ENOMEM;
}

struct pat_sort {
	const char *s;
	uint8_t list;
	uint8_t allow;
};

static int
pat_cmp(const void *a, const void *b)
{
	const struct pat_sort *x = a, *y = b;

	if (x->list != y->list)
		return x->list < y->list ? -1 : 1;
	if (x->allow != y->allow)
		return x->allow < y->allow ? -1 : 1;
	return strcmp(x->s, y->s);
}

/* Lay the live patterns out per list (block ones, then allow ones), deduplicated. */
static int
compile_patterns(struct hd_filter *f, struct hd_filter_builder *b)
{
	struct pat_sort *ps;
	size_t i, n = 0, o = 0;

	if (b->n_pats == 0)
		return 0;
	ps = malloc(b->n_pats * sizeof(*ps));
	f->pats = malloc(b->n_pats * sizeof(*f->pats));
	if (ps == NULL || f->pats == NULL) {
		free(ps);
		return -ENOMEM;
	}
	for (i = 0; i < b->n_pats; i++)
		if (!b->pats[i].dead)
			ps[n++] = (struct pat_sort){ b->ptext + b->pats[i].off, b->pats[i].list,
						     b->pats[i].allow };
	qsort(ps, n, sizeof(*ps), pat_cmp);
	for (i = 0; i < n; i++) {
		struct list_info *l = &b->lists[ps[i].list];
		uint32_t *range = ps[i].allow ? l->allow_pat : l->block_pat;

		if (i > 0 && pat_cmp(&ps[i - 1], &ps[i]) == 0)
			continue;
		if (range[1] == 0)
			range[0] = (uint32_t)o;
		range[1] = (uint32_t)o + 1;
		f->pats[o++] = ps[i].s;
		l->rules++;
		if (ps[i].allow) {
			f->allow_pat_lists |= 1ull << ps[i].list;
			f->allow_lists |= 1ull << ps[i].list;
		}
		else
			f->block_pat_lists |= 1ull << ps[i].list;
	}
	free(ps);
	f->ptext = b->ptext;
	b->ptext = NULL;
	f->memory += o * sizeof(*f->pats) + b->ptext_cap;
	return 0;
}

/*
 * Give back a small arena's growth slack. A huge-page one stays: its
 * untouched tail is address space only, and moving it would copy it.
 */
static void
shrink_arena(struct table *t)
{
	uint8_t *p;

	if (t->alen == 0 || t->acap >= HUGE_SZ)
		return;
	p = realloc(t->arena, t->alen);
	if (p != NULL) {
		t->arena = p;
		t->acap = t->alen;
	}
}

/* Resident bytes of the arena: whole huge pages once it is on them. */
static size_t
arena_resident(const struct table *t)
{
	if (t->acap < HUGE_SZ)
		return t->acap;
	return (t->alen + HUGE_SZ - 1) & ~(size_t)(HUGE_SZ - 1);
}

struct hd_filter *
hd_filter_build(struct hd_filter_builder *b)
{
	struct hd_filter *f = NULL;
	int rc = -EINVAL;

	if (b == NULL)
		goto fail;
	rc = -ENOMEM;
	if (b->failed)
		goto fail;
	f = calloc(1, sizeof(*f));
	/* A list with many comment lines reserved more slots than names: trim. */
	if (f == NULL || (table_cap_for(b->t.n) < b->t.mask + 1 &&
			  table_resize(&b->t, table_cap_for(b->t.n)) < 0))
		goto fail;
	if (apply_badfilters(b) < 0 || compact_combos(f, b) < 0 ||
	    compile_patterns(f, b) < 0 || filter_groups_finish(b->groups) < 0)
		goto fail;
	shrink_arena(&b->t);
	f->t = b->t;
	memset(&b->t, 0, sizeof(b->t));
	f->groups = b->groups;
	b->groups = NULL;
	f->n_lists = b->n_lists;
	memcpy(f->lists, b->lists, sizeof(f->lists));
	b->n_lists = 0;
	f->all_lists = f->n_lists == 64 ? UINT64_MAX : (1ull << f->n_lists) - 1;
	f->memory += sizeof(*f) + ((size_t)f->t.mask + 1) * sizeof(*f->t.slots) +
		     arena_resident(&f->t) + (size_t)f->t.n_combos * sizeof(*f->t.combos) +
		     ((size_t)f->t.bloom_mask + 1) * sizeof(*f->t.bloom) +
		     filter_groups_memory(f->groups);
	for (unsigned int i = 0; i < f->n_lists; i++)
		f->memory += strlen(f->lists[i].name) + 1;
	hd_filter_builder_free(b);
	return f;
fail:
	hd_filter_free(f);
	hd_filter_builder_free(b);
	errno = -rc;
	rte_errno = -rc;
	return NULL;
}

void
hd_filter_free(struct hd_filter *f)
{
	if (f == NULL)
		return;
	free(f->t.slots);
	free(f->t.arena);
	free(f->t.combos);
	free(f->t.bloom);
	free(f->pats);
	free(f->ptext);
	filter_groups_free(f->groups);
	lists_free(f->lists, f->n_lists);
	free(f);
}

/* ---- fast path -------------------------------------------------------------------- */

/* '*' matches any run of characters, dots included; nothing else is special. */
static int
glob(const char *p, const char *s)
{
	const char *star = NULL, *retry = NULL;

	while (*s != '\0') {
		if (*p == '*') {
			star = p++;
			retry = s;
		} else if (*p == *s) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star + 1;
			s = ++retry;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* A pattern matches the name or one of its parents (AdBlock "||"). */
static int
pattern_match(const char *p, const char *name)
{
	if (glob(p, name))
		return 1;
	if (p[0] == '*')	/* a leading '*' already tried every start */
		return 0;
	for (; *name != '\0'; name++)
		if (*name == '.' && glob(p, name + 1))
			return 1;
	return 0;
}

/* @return the lowest list of @p lists with a pattern matching @p name, or -1. */
static int
patterns_match(const struct hd_filter *f, const char *name, uint64_t lists, int allow)
{
	while (lists != 0) {
		unsigned int l = (unsigned int)__builtin_ctzll(lists);
		const uint32_t *r = allow ? f->lists[l].allow_pat : f->lists[l].block_pat;
		uint32_t i;

		for (i = r[0]; i < r[1]; i++)
			if (pattern_match(f->pats[i], name))
				return (int)l;
		lists &= lists - 1;
	}
	return -1;
}

static void
wire_to_text(const uint8_t *w, size_t wl, char *out)
{
	size_t p = 0;

	while (p < wl) {
		uint8_t l = w[p];

		memcpy(out, w + p + 1, l);
		out += l;
		p += 1u + l;
		*out++ = p < wl ? '.' : '\0';
	}
}

static inline uint32_t
probe(const struct table *t, const uint8_t *w, size_t wl, uint64_t h)
{
	uint32_t i = HASH_IDX(h, t->mask);
	uint8_t tag = HASH_TAG(h);

	for (;;) {
		uint64_t s = t->slots[i];

		if (s == 0)
			return 0;
		if (SLOT_TAG(s) == tag) {
			const uint8_t *r = t->arena + SLOT_OFF(s) - 1;

			if (r[0] == wl && memcmp(r + 1, w, wl) == 0)
				return SLOT_COMBO(s);
		}
		i = (i + 1) & t->mask;
	}
}

/*
 * Table rules of every suffix of the name: blocks and allows of @p lists.
 * The hashes of all suffixes come out of one right-to-left pass and their
 * slots are prefetched together, so a table bigger than the CPU caches
 * costs about one memory latency, not one per label. Probes also go right
 * to left; when no applied list has allow rules, the first block decides.
 */
static void
table_match(const struct hd_filter *f, const uint8_t *w, size_t avail, const uint16_t *offs,
	    unsigned int nl, size_t wl, uint64_t lists, uint64_t *blk, uint64_t *alw)
{
	uint64_t hs[128], h = HASH_SEED, b = 0, a = 0, maybe[2] = { 0, 0 };
	int stop_on_block = (lists & f->allow_lists) == 0;
	unsigned int i, k;

	for (i = nl; i-- > 0;) {
		uint64_t bits;

		h = hash_label(h, w + offs[i], avail - offs[i]);
		k = nl - i;
		if (!(f->t.label_counts[k >> 6] & (1ull << (k & 63))))
			continue;
		hs[i] = hash_final(h);
		bits = BLOOM_BITS(hs[i]);
		if ((f->t.bloom[BLOOM_IDX(hs[i], f->t.bloom_mask)] & bits) != bits)
			continue;
		maybe[i >> 6] |= 1ull << (i & 63);
		__builtin_prefetch(&f->t.slots[HASH_IDX(hs[i], f->t.mask)]);
	}
	for (i = nl; i-- > 0;) {
		const struct filter_masks *m;
		uint32_t c;

		if (!(maybe[i >> 6] & (1ull << (i & 63))))
			continue;
		c = probe(&f->t, w + offs[i], wl - offs[i], hs[i]);
		if (c == 0)
			continue;
		m = &f->t.combos[c];
		if (i == 0) {
			b |= m->block_exact;
			a |= m->allow_exact;
		}
		b |= m->block_subtree;
		a |= m->allow_subtree;
		if (stop_on_block && (b & lists) != 0)
			break;
	}
	*blk = b & lists;
	*alw = a & lists;
}

int
hd_filter_match(const struct hd_filter *f, const uint8_t *lname, size_t len,
		uint64_t lists, unsigned int *list)
{
	uint16_t offs[128];
	unsigned int nl = 0;
	uint64_t blk = 0, alw = 0;
	char text[256];
	int l;
	size_t p = 0;

	if (f == NULL || lname == NULL)
		return 0;
	lists &= f->table_lists | f->block_pat_lists | f->allow_pat_lists;
	if (lists == 0)
		return 0;
	while (p < len && lname[p] != 0) {
		uint8_t ll = lname[p];

		if (ll > 63 || p + 1 + ll > len || nl == 128)
			return 0;
		offs[nl++] = (uint16_t)p;
		p += 1u + ll;
	}
	if (nl == 0 || p > 254)
		return 0;
	if (lists & f->table_lists) {
		table_match(f, lname, len, offs, nl, p, lists, &blk, &alw);
		if (alw != 0) {
			if (list != NULL)
				*list = (unsigned int)__builtin_ctzll(alw);
			return 0;
		}
	}
	if (blk == 0 && (lists & f->block_pat_lists) == 0)
		return 0;
	if ((lists & (f->block_pat_lists | f->allow_pat_lists)) != 0)
		wire_to_text(lname, p, text);
	if (blk == 0) {
		l = patterns_match(f, text, lists & f->block_pat_lists, 0);
		if (l < 0)
			return 0;
		blk = 1ull << l;
	}
	if (lists & f->allow_pat_lists) {
		l = patterns_match(f, text, lists & f->allow_pat_lists, 1);
		if (l >= 0) {
			if (list != NULL)
				*list = (unsigned int)l;
			return 0;
		}
	}
	if (list != NULL)
		*list = (unsigned int)__builtin_ctzll(blk);
	return 1;
}

uint64_t
hd_filter_client_lists(const struct hd_filter *f, const uint8_t *addr, int ipv6)
{
	uint64_t lists;

	if (f == NULL)
		return 0;
	if (addr != NULL && filter_groups_lookup(f->groups, addr, ipv6, &lists))
		return lists;
	return f->all_lists;
}

/* ---- telemetry accessors ------------------------------------------------------------ */

const struct hd_filter_response *
hd_filter_response(const struct hd_filter *f, unsigned int i)
{
	if (f == NULL || i >= f->n_lists)
		return NULL;
	return &f->lists[i].response;
}

unsigned int
hd_filter_n_lists(const struct hd_filter *f)
{
	return f != NULL ? f->n_lists : 0;
}

const char *
hd_filter_list_name(const struct hd_filter *f, unsigned int i)
{
	if (f == NULL || i >= f->n_lists)
		return NULL;
	return f->lists[i].name;
}

uint32_t
hd_filter_list_rules(const struct hd_filter *f, unsigned int i)
{
	if (f == NULL || i >= f->n_lists)
		return 0;
	return f->lists[i].rules;
}

size_t
hd_filter_memory(const struct hd_filter *f)
{
	return f != NULL ? f->memory : 0;
}
