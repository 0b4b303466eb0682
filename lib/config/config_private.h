/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_CONFIG_PRIVATE_H
#define HD_CONFIG_PRIVATE_H

/*
 * Shared between the option table (options.c), the YAML loader (yaml.c)
 * and the whole-config checks (config.c). Never installed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hd_config.h"

/* Upper bound on the number of settings, for the loader's per-key state. */
#define CFG_OPTIONS_MAX 64

/* Longest key accepted, dotted form included; longer ones are unknown. */
#define CFG_KEY_MAX 128

/** @return the index of @p key in hd_config_options(), or -1. */
int cfg_option_index(const char *key);

/** @return 1 when some key starts with @p prefix followed by '.'. */
int cfg_is_prefix(const char *prefix);

/**
 * Write "WHERE: unknown key 'KEY'" with a did-you-mean suggestion when a
 * key is close enough to be a likely typo.
 */
void cfg_unknown_key(char *err, size_t errlen, const char *where, const char *key);

/** snprintf into @p err when the caller gave a buffer. */
void cfg_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * "WHERE: KEY: 'VALUE' WHAT": the message for a rejected value. A flag
 * ("--listen") names the setting already, so the key is left out after it.
 */
void cfg_value_err(char *err, size_t errlen, const char *where, const char *key,
		   const char *value, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

#define CFG_BOOL_EXPECTED "is not a boolean (expected true/false, yes/no, on/off or 1/0)"

/** @return 1 or 0 for a boolean's spellings (true/yes/on/1, false/no/off/0), else -1. */
int cfg_parse_bool(const char *value);

/** An IPv4 or IPv6 address in text form. @return 0 or -EINVAL. */
int cfg_parse_ip(const char *s, int *family, uint8_t addr[16]);

/** Not unspecified, multicast, IPv4 class E/broadcast or IPv4-mapped IPv6. */
bool cfg_usable_unicast(int family, const uint8_t *a);

/* servers.c: upstreams, their strategy, and forward zones. */
int cfg_set_upstream(struct hd_config *c, const char *key, const char *value,
		     const char *where, char *err, size_t errlen);
int cfg_set_strategy(struct hd_config *c, const char *key, const char *value,
		     const char *where, char *err, size_t errlen);
int cfg_set_forward(struct hd_config *c, const char *key, const char *value,
		    const char *where, char *err, size_t errlen);
/** upstream given as a YAML mapping {address, port, tls, tls-name}. */
int cfg_set_upstream_item(struct hd_config *c, const char *key, const char *const *fields,
			  const char *const *values, const char *const *fwhere, unsigned int n,
			  const char *where, char *err, size_t errlen);
/** forward-zone given as a YAML mapping {domain, servers}. */
int cfg_set_forward_item(struct hd_config *c, const char *key, const char *const *fields,
			 const char *const *values, const char *const *fwhere, unsigned int n,
			 const char *where, char *err, size_t errlen);

/* lists.c: blocking and local data settings. */
int cfg_set_list(struct hd_config *c, int allow, const char *key, const char *value,
		 const char *where, char *err, size_t errlen);
int cfg_set_group(struct hd_config *c, const char *key, const char *value,
		  const char *where, char *err, size_t errlen);
int cfg_set_record(struct hd_config *c, const char *key, const char *value,
		   const char *where, char *err, size_t errlen);
int cfg_set_zone_file(struct hd_config *c, const char *key, const char *value,
		      const char *where, char *err, size_t errlen);
int cfg_set_local_zone(struct hd_config *c, const char *key, const char *value,
		       const char *where, char *err, size_t errlen);
int cfg_set_block_mode(struct hd_config *c, const char *key, const char *value,
		       const char *where, char *err, size_t errlen);
int cfg_set_duration(uint32_t *out, uint32_t max, const char *key, const char *value,
		     const char *where, char *err, size_t errlen);
/** A domain name in presentation form (labels of 1..63, at most 253 in all). */
bool cfg_dname_ok(const char *s, size_t len);
/** @return the index of field @p name of a mapping item, or -1. */
int cfg_field_index(const char *const *fields, unsigned int n, const char *name);
/** Where field @p i of an item came from: its own line, else the item's. */
const char *cfg_field_where(const char *const *fwhere, unsigned int i, const char *where);
/** Copy @p where (or @p key when there is none) into a HD_CONFIG_WHERE_LEN buffer. */
void cfg_where_copy(char *dst, const char *where, const char *key);
/** Drop the block (allow 0) or allow (allow 1) lists. */
void cfg_clear_lists(struct hd_config *c, int allow);
/** Cross-setting checks of lists and groups. */
int cfg_validate_lists(const struct hd_config *c, char *err, size_t errlen);

/** The host name, cut to a valid node-id ("heimdall" when there is none). */
void cfg_node_id_default(char *out, size_t len);

#endif /* HD_CONFIG_PRIVATE_H */
