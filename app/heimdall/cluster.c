/* SPDX-License-Identifier: BSD-3-Clause */

#include "hd_app.h"

int
hd_cluster_register(struct hd_app *app)
{
	(void)app;
	return 0;
}
