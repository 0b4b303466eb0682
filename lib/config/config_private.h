/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_CONFIG_PRIVATE_H
#define HD_CONFIG_PRIVATE_H

/*
 * Shared between the option table (options.c), the YAML loader (yaml.c)
 * and the whole-config checks (config.c). Never installed.
 */

#include <stddef.h>
#include <stdint.h>

#include "hd_config.h"

/* Upper bound on the number of settings, for the loader's per-key state. */
#define CFG_OPTIONS_MAX 48

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
/** Drop the block (allow 0) or allow (allow 1) lists. */
void cfg_clear_lists(struct hd_config *c, int allow);
/** Cross-setting checks of lists and groups. */
int cfg_validate_lists(const struct hd_config *c, char *err, size_t errlen);

#endif /* HD_CONFIG_PRIVATE_H */
