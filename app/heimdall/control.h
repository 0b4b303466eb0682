/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_APP_CONTROL_PRIV_H
#define HD_APP_CONTROL_PRIV_H

/*
 * Between the REST API (api.c), the operator state (state.c) and the policy
 * builder (policy.c). Private to app/heimdall; hd_control.h is the part the
 * cluster uses.
 *
 * Threads: the API runs on the HTTP server's thread, the cluster on its
 * own; the policy's control thread is the only one that builds and
 * publishes. A change is made by editing a copy of the state document
 * between hd_state_begin() and hd_state_end() (one writer at a time),
 * checking it with hd_policy_state_check(), committing it (persisted), then
 * asking the control thread for a rebuild and waiting for it.
 */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hd_config.h"

/* Names of the per-node lists the API edits one domain at a time. */
#define HD_STATE_CUSTOM_BLOCK	"custom-block"
#define HD_STATE_CUSTOM_ALLOW	"custom-allow"
#define HD_STATE_WHERE		"api"

/* ---- state.c ---- */

/** Load <state-dir>/state.json (a bad one is renamed .bad and logged). Before the policy. */
int hd_state_init(const struct hd_config *cfg);
void hd_state_fini(void);
/** A copy of the document (json_decref() it); any thread. */
json_t *hd_state_get(uint64_t *version);
/** Start a change: lock out other writers, return a copy to edit. */
json_t *hd_state_begin(void);
/**
 * Make @p doc (from hd_state_begin(), reference stolen) the document: a new
 * version, persisted atomically, then in memory. Between begin and end.
 * @return 0, or a negative errno with @p err saying why (nothing changed).
 */
int hd_state_commit(json_t *doc, uint64_t *version, char *err, size_t errlen);
/** End a change begun with hd_state_begin(). */
void hd_state_end(void);
/** Check the document's shape. @return 0 or -EINVAL with @p err naming the field. */
int hd_state_doc_check(const json_t *doc, char *err, size_t errlen);
/**
 * Add the document's records, lists, domain entries and groups to @p c
 * (a copy of the configuration). @p strict: stop at the first item that
 * does not apply (-EINVAL, @p err names it); otherwise such an item is
 * logged and skipped. @return 0 or -EINVAL.
 */
int hd_state_merge(const json_t *doc, struct hd_config *c, int strict, char *err,
		   size_t errlen);
/** After a publish on the control thread: tell the cluster about a local change. */
void hd_state_announce_applied(uint64_t applied_version, int lists_refreshed);

/* ---- policy.c ---- */

#define HD_POLICY_REQ_STATE	0x01	/**< the state changed: rebuild, read new lists */
#define HD_POLICY_REQ_REFRESH	0x02	/**< re-read every list, then rebuild */
#define HD_POLICY_REQ_RELOAD	0x04	/**< re-read the configuration, then refresh */
#define HD_POLICY_REQ_PAUSE	0x08	/**< the pause changed: rebuild */
#define HD_POLICY_REQ_ANNOUNCE	0x10	/**< with REFRESH/RELOAD: announce "lists" */

/** Ask the control thread for work. @return a ticket for hd_policy_wait(). */
uint64_t hd_policy_request(unsigned int what);
/** Wait until the work of @p ticket is published. @return 0 or -ETIMEDOUT. */
int hd_policy_wait(uint64_t ticket, unsigned int timeout_ms);
/** Would @p doc apply over the running configuration? (records compiled too) */
int hd_policy_state_check(const json_t *doc, char *err, size_t errlen);

struct hd_policy_reload_info {
	uint64_t ok;			/**< reloads applied */
	uint64_t failed;		/**< reloads refused (the running config stayed) */
	int64_t last_at;		/**< unix time of the last attempt, 0: none */
	char last_error[HD_CONFIG_ERR_LEN]; /**< "" when the last one worked */
	char needs_restart[512];	/**< keys changed in the file that need a restart */
};
void hd_policy_reload_info(struct hd_policy_reload_info *r);

/** Pause blocking for @p seconds (0: resume). @return a ticket. */
uint64_t hd_policy_pause(uint32_t seconds);
/** Milliseconds of pause left, 0 when blocking is on. */
uint64_t hd_policy_pause_left_ms(void);

/** Every list in use: config's, the API's and the domain entries', with their state. */
json_t *hd_policy_lists_json(void);
/** The configuration's records and groups (read-only to the API). */
json_t *hd_policy_config_records_json(void);
json_t *hd_policy_config_groups_json(void);
/** Names of the configuration's lists (for conflicts). @return 1 when @p name is one. */
int hd_policy_config_has_list(const char *name);
int hd_policy_config_has_group(const char *name);

/**
 * --check-config: compile the records, local zones and zone files of
 * @p cfg and read (not download) its local list files.
 * @return 0, or -EINVAL with @p err naming the file, line and problem.
 */
int hd_policy_check(const struct hd_config *cfg, int read_lists, char *err, size_t errlen);

/* ---- params.c ---- */

/** Read the configuration again as at start (file, then the same flags). */
int hd_params_reload(struct hd_config *cfg, char *err, size_t errlen);
/** The --config file, or NULL. */
const char *hd_params_config_file(void);

#endif /* HD_APP_CONTROL_PRIV_H */
