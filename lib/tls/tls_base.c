/* SPDX-License-Identifier: BSD-3-Clause */

#include <stdio.h>
#include <string.h>

#include "hd_tls_base.h"

int
hd_tls_creds_init(struct hd_tls_creds *c, const char *ca_file, char *err, size_t errlen)
{
	const char *what;
	int rc;

	memset(c, 0, sizeof(*c));
	rc = gnutls_certificate_allocate_credentials(&c->cred);
	if (rc < 0) {
		snprintf(err, errlen, "TLS credentials: %s", gnutls_strerror(rc));
		return rc;
	}
	if (ca_file != NULL && ca_file[0] != '\0') {
		what = ca_file;
		rc = gnutls_certificate_set_x509_trust_file(c->cred, ca_file, GNUTLS_X509_FMT_PEM);
	} else {
		what = "the system trust store";
		rc = gnutls_certificate_set_x509_system_trust(c->cred);
	}
	if (rc <= 0) {
		snprintf(err, errlen, "no CA certificate loaded from %s: %s", what,
			 rc < 0 ? gnutls_strerror(rc) : "empty");
		gnutls_certificate_free_credentials(c->cred);
		return rc < 0 ? rc : GNUTLS_E_FILE_ERROR;
	}
	rc = gnutls_priority_init(&c->prio, HD_TLS_PRIORITIES, NULL);
	if (rc < 0) {
		snprintf(err, errlen, "TLS priorities: %s", gnutls_strerror(rc));
		gnutls_certificate_free_credentials(c->cred);
		return rc;
	}
	return 0;
}

void
hd_tls_creds_fini(struct hd_tls_creds *c)
{
	gnutls_priority_deinit(c->prio);
	gnutls_certificate_free_credentials(c->cred);
}

void
hd_tls_verify_error(gnutls_session_t s, char *err, size_t errlen)
{
	unsigned int status = gnutls_session_get_verify_cert_status(s);
	gnutls_datum_t txt = { NULL, 0 };
	size_t n;

	if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &txt, 0) == 0 &&
	    txt.data != NULL) {
		snprintf(err, errlen, "certificate verify failed: %s", (const char *)txt.data);
		/* GnuTLS ends its text with blanks. */
		n = strlen(err);
		while (n > 0 && err[n - 1] == ' ')
			err[--n] = '\0';
	} else {
		snprintf(err, errlen, "certificate verify failed: status 0x%x", status);
	}
	gnutls_free(txt.data);
}
