/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_QUERYLOG_H
#define HD_QUERYLOG_H

/**
 * @file
 * The query log's records, rings and summaries (filled in by the query log work).
 */

#endif /* HD_QUERYLOG_H */
