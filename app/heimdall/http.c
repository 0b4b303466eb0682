/* SPDX-License-Identifier: BSD-3-Clause */

#include "hd_app.h"
#include "hd_http.h"

int
hd_http_start(struct hd_app *app)
{
	(void)app;
	return 0;
}

void
hd_http_stop(void)
{
}
