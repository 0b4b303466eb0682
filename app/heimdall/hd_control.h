/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_APP_CONTROL_H
#define HD_APP_CONTROL_H

/*
 * The operator's state: what the REST API changed (local records, lists,
 * allowlist entries, client groups), kept as one versioned JSON document in
 * state-dir and applied over the configuration file's settings. Owned by
 * the control side (api.c / policy.c); the cluster (cluster.c) carries it
 * between nodes through Redis so that every node runs the same version.
 *
 * Versions are unix milliseconds of the change (raised to last + 1 when the
 * clock did not move), so the newest change wins across nodes.
 */

#include <stddef.h>
#include <stdint.h>

/**
 * Copy the current document. @p json is malloc()ed text (free()).
 * Any thread. @return 0 or -ENOMEM.
 */
int hd_control_state_export(char **json, size_t *len, uint64_t *version);

/**
 * Apply a document another node announced: validate it, persist it and
 * rebuild the policy from it, off the caller's thread. Any thread; does not
 * block on the rebuild.
 * @return 0 when accepted, -EALREADY when @p version is not newer than the
 *   running one, -EINVAL when the document does not validate (logged).
 */
int hd_control_state_import(const char *json, size_t len, uint64_t version);

/**
 * What a local change calls, after it took effect: @p kind is "state" (the
 * document changed; @p version is its new version) or "lists" (the lists
 * were reloaded or refreshed; @p version is the time of that). Runs on the
 * thread that made the change; must not block.
 */
typedef void (*hd_control_announce_t)(const char *kind, uint64_t version);

/** Set the announcer (the cluster's), or NULL. Before the HTTP server starts. */
void hd_control_announcer_set(hd_control_announce_t fn);

/**
 * Re-read every list and rebuild, as POST /api/lists/refresh does, without
 * announcing it again (another node's "lists" announcement). Any thread.
 */
void hd_control_lists_refresh(void);

#endif /* HD_APP_CONTROL_H */
