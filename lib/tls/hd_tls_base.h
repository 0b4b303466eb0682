/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_TLS_BASE_H
#define HD_TLS_BASE_H

/**
 * @file
 * What heimdall's two TLS clients share (DNS over TLS upstreams in
 * lib/upstream, rediss:// in lib/replica): the trust store and protocol
 * versions, and how a failed certificate check is put into words.
 */

#include <stddef.h>

#include <gnutls/gnutls.h>

/** TLS 1.2 and 1.3 only. */
#define HD_TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/** The CA certificates servers are verified against, and the priorities. */
struct hd_tls_creds {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
};

/**
 * Load @p ca_file (PEM), or the system trust store when it is NULL or "".
 * A store that yields no CA is an error now rather than a failed handshake
 * at every connection later.
 * @return 0, or a negative value with @p err saying what failed.
 */
int hd_tls_creds_init(struct hd_tls_creds *c, const char *ca_file, char *err, size_t errlen);

/** Free what hd_tls_creds_init() loaded. */
void hd_tls_creds_fini(struct hd_tls_creds *c);

/** "certificate verify failed: <why>" for session @p s into @p err. */
void hd_tls_verify_error(gnutls_session_t s, char *err, size_t errlen);

#endif /* HD_TLS_BASE_H */
