/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_FILTER_H
#define HD_FILTER_H

/**
 * @file
 * Blocklists and allowlists, compiled off the fast path into one immutable
 * matcher, plus client groups (subnets -> which lists apply).
 *
 * Life cycle: a builder collects lists (text in any supported syntax) and
 * groups on a control thread; hd_filter_build() compiles them into a
 * struct hd_filter that is never modified afterwards, so any number of
 * worker lcores may read it while the control thread builds the next one.
 * The app publishes it by pointer swap and frees the old one after an RCU
 * grace period.
 *
 * Semantics (documented for users in docs/filtering.md):
 * - hosts files and plain domain lists block exactly the names they list:
 *   their maintainers publish every name (hagezi, AdAway, Pi-hole's own
 *   lists) and ship wildcard/adblock variants for subtree blocking;
 * - AdBlock `||x^` blocks x and its subdomains, `@@||x^` allows them,
 *   `*` inside a rule matches any run of characters within the name;
 * - wildcard `*.x` blocks the subdomains of x and x itself;
 * - dnsmasq `address=/x/...` and `local=/x/` block x and its subdomains,
 *   `server=/x/...` lines are forwarding rules and are skipped (counted);
 * - unbound `local-zone: "x." <type>` blocks x and its subdomains for the
 *   blocking types (always_null, always_nxdomain, refuse, static, deny,
 *   always_refuse, redirect, inform_deny), `transparent`/`typetransparent`
 *   entries allow.
 * An allow rule of any applicable list wins over every block rule.
 */

#include <stddef.h>
#include <stdint.h>

#define HD_FILTER_LISTS_MAX	64	/**< lists (block + allow) in one filter */
#define HD_FILTER_GROUPS_MAX	32
#define HD_FILTER_ERRORS_MAX	5	/**< bad lines reported per list */

enum hd_filter_syntax {
	HD_FILTER_SYNTAX_AUTO = 0,	/**< detect from the content */
	HD_FILTER_SYNTAX_HOSTS,
	HD_FILTER_SYNTAX_DOMAINS,
	HD_FILTER_SYNTAX_ADBLOCK,
	HD_FILTER_SYNTAX_WILDCARD,
	HD_FILTER_SYNTAX_DNSMASQ,
	HD_FILTER_SYNTAX_UNBOUND,
};

/** How a blocked query is answered. */
enum hd_filter_mode {
	HD_FILTER_MODE_NXDOMAIN = 0,
	HD_FILTER_MODE_NODATA,
	HD_FILTER_MODE_NULL,		/**< A 0.0.0.0 / AAAA ::, NODATA for other types */
	HD_FILTER_MODE_CUSTOM,		/**< A/AAAA from the configured addresses */
	HD_FILTER_MODE_REFUSED,
};

/** Block response of one list. */
struct hd_filter_response {
	enum hd_filter_mode mode;
	uint32_t ttl;			/**< TTL of synthesized records and SOA */
	uint8_t v4[4];			/**< custom mode; has_v4 = 0: NODATA for A */
	uint8_t v6[16];
	uint8_t has_v4;
	uint8_t has_v6;
};

/** One list handed to the builder. */
struct hd_filter_list_spec {
	const char *name;		/**< unique; groups refer to it */
	const char *source;		/**< path or URL, for messages */
	enum hd_filter_syntax syntax;
	int allow;			/**< 1: an allowlist */
	struct hd_filter_response response; /**< for blocklists */
};

/** What loading one list found. */
struct hd_filter_report {
	enum hd_filter_syntax syntax;	/**< detected or given */
	uint32_t lines;
	uint32_t rules;			/**< rules added */
	uint32_t skipped;		/**< comments, blank, cosmetic, localhost entries, server= */
	uint32_t rejected;		/**< bad lines */
	/** First bad lines: "SOURCE:LINE: expected ..., got '...'" */
	char errors[HD_FILTER_ERRORS_MAX][256];
	uint32_t n_errors;
};

/** Result of parsing one line (exposed for the unit tests). */
enum hd_filter_rule_kind {
	HD_FILTER_RULE_NONE = 0,	/**< nothing to add (comment, blank, skipped) */
	HD_FILTER_RULE_SUBTREE,		/**< name and every subdomain */
	HD_FILTER_RULE_EXACT,		/**< the name only */
	HD_FILTER_RULE_PATTERN,		/**< a pattern with '*' (AdBlock) */
};

struct hd_filter_rule {
	enum hd_filter_rule_kind kind;
	int allow;			/**< exception rule (@@, transparent) */
	/**
	 * Name, lowercase presentation form, no trailing dot. For PATTERN a
	 * glob ('*' = any run of characters, dots included) matched against
	 * the whole query name and against each of its parent names.
	 */
	char name[256];
	/** AdBlock `$badfilter`: the rule disables the same rule in every list. */
	int badfilter;
};

/**
 * Parse one line (without its newline; a trailing CR is ignored) in
 * @p syntax (not AUTO). A line naming several hosts (hosts files, dnsmasq
 * `address=/a/b/...`) yields its first rule here; hd_filter_parse_line_each()
 * yields all of them.
 * @return 0 with @p r filled (kind NONE for a line that adds nothing; then
 *   @p why is NULL for comments and blank lines, or says why a rule was
 *   skipped, e.g. a cosmetic or regex rule), or -EINVAL with @p why (a
 *   static string saying what was expected).
 */
int hd_filter_parse_line(enum hd_filter_syntax syntax, const char *line, size_t len,
			 struct hd_filter_rule *r, const char **why);

/** Called once per rule of a line; a non-zero return stops the parse. */
typedef int (*hd_filter_rule_fn)(void *arg, const struct hd_filter_rule *r);

/**
 * Parse one line and call @p fn for each of its rules. A line is taken
 * whole or not at all: when one of its names is bad, @p fn is not called.
 * @return the number of rules delivered (0: nothing to add, @p why as for
 *   hd_filter_parse_line()), -EINVAL with @p why, or what @p fn returned
 *   when it returned non-zero.
 */
int hd_filter_parse_line_each(enum hd_filter_syntax syntax, const char *line, size_t len,
			      hd_filter_rule_fn fn, void *arg, const char **why);

/** Guess the syntax of a list from its first non-comment lines. */
enum hd_filter_syntax hd_filter_detect(const char *text, size_t len);

/** @return "hosts", "domains", ... or "auto"; NULL for an unknown value. */
const char *hd_filter_syntax_name(enum hd_filter_syntax s);

/** @return the syntax named @p name, or -EINVAL. */
int hd_filter_syntax_parse(const char *name, enum hd_filter_syntax *s);

/** @return the mode named @p name ("nxdomain", "nodata", "null", "custom", "refused"), or -EINVAL. */
int hd_filter_mode_parse(const char *name, enum hd_filter_mode *m);

struct hd_filter_builder;
struct hd_filter;

/** @return a builder, or NULL (ENOMEM). */
struct hd_filter_builder *hd_filter_builder_create(void);

/** Free a builder that was not built; NULL is a no-op. */
void hd_filter_builder_free(struct hd_filter_builder *b);

/**
 * Add a list from its text (a BOM, CRLF and a missing final newline are
 * fine). Bad lines are counted and reported in @p rep and the good ones kept.
 * Every rule of an allowlist (spec->allow) is an allow rule. @p rep may be
 * NULL; @p rep->rules counts rules as read (a hosts line with three names
 * adds three), hd_filter_list_rules() counts them after dedup.
 * @return the list's index (0..HD_FILTER_LISTS_MAX-1), or -ENOSPC (too many
 *   lists), -EEXIST (name taken), -EINVAL (bad arguments or syntax), -ENOMEM
 *   (the builder then refuses to build: free it).
 */
int hd_filter_builder_add_list(struct hd_filter_builder *b,
			       const struct hd_filter_list_spec *spec,
			       const char *text, size_t len, struct hd_filter_report *rep);

/**
 * Add a client group: clients in any of @p subnets ("10.0.0.0/24",
 * "fd00::/64", a bare address) use the lists named in @p lists (n_lists 0:
 * no list, the group bypasses blocking). Queries from clients in no group
 * use every list. The most specific subnet wins.
 * @return 0, or -EINVAL with @p err naming the bad subnet or list.
 */
int hd_filter_builder_add_group(struct hd_filter_builder *b, const char *name,
				const char *const *subnets, unsigned int n_subnets,
				const char *const *lists, unsigned int n_lists,
				char *err, size_t errlen);

/**
 * Compile. Consumes @p b in every case.
 * @return the filter, or NULL (ENOMEM) with rte_errno / errno set.
 */
struct hd_filter *hd_filter_build(struct hd_filter_builder *b);

/** Free; NULL is a no-op. No reader may still use it. */
void hd_filter_free(struct hd_filter *f);

/**
 * Lists that apply to a client.
 * @param addr  4 (IPv4) or 16 (IPv6) bytes, network order
 * @return a bit mask of list indexes.
 */
uint64_t hd_filter_client_lists(const struct hd_filter *f, const uint8_t *addr, int ipv6);

/**
 * Match a lowercase wire-form name against the lists in @p lists.
 * @param lname  the name in wire form; a root label ends it (it may be
 *   left out); a malformed name matches nothing
 * @param list  set to the index of the list that decided (block or allow);
 *   left unchanged when no rule matched
 * @return 1 blocked, 0 not blocked (no rule, or an allow rule won).
 * Fast path: no allocation, no locks; one hash probe per label of the name,
 * plus the patterns of the lists that have any.
 */
int hd_filter_match(const struct hd_filter *f, const uint8_t *lname, size_t len,
		    uint64_t lists, unsigned int *list);

/** @return the block response of list @p i (NULL for a bad index). */
const struct hd_filter_response *hd_filter_response(const struct hd_filter *f, unsigned int i);

/** Number of lists and the name of list @p i (for telemetry). */
unsigned int hd_filter_n_lists(const struct hd_filter *f);
const char *hd_filter_list_name(const struct hd_filter *f, unsigned int i);
/** Rules of list @p i after dedup. */
uint32_t hd_filter_list_rules(const struct hd_filter *f, unsigned int i);
/** Bytes the compiled filter takes (for telemetry and docs/PERFORMANCE.md). */
size_t hd_filter_memory(const struct hd_filter *f);

#endif /* HD_FILTER_H */
