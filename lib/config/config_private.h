/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_CONFIG_PRIVATE_H
#define HD_CONFIG_PRIVATE_H

/*
 * Shared between the option table (options.c), the YAML loader (yaml.c)
 * and the whole-config checks (config.c). Never installed.
 */

#include <stddef.h>

#include "hd_config.h"

/* Upper bound on the number of settings, for the loader's per-key state. */
#define CFG_OPTIONS_MAX 32

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

#endif /* HD_CONFIG_PRIVATE_H */
