/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_CLOCK_H
#define HD_CLOCK_H

/**
 * @file
 * The one clock of the data path: seconds and milliseconds from the TSC,
 * the same on every lcore, so entries stored by the slow path age the same
 * way for the workers. Needs the EAL (rte_get_tsc_hz()).
 */

#include <stdint.h>

#include <rte_cycles.h>

/** Seconds on the data-path clock. */
static inline uint32_t
hd_clock_sec(void)
{
	return (uint32_t)(rte_get_tsc_cycles() / rte_get_tsc_hz());
}

/** Milliseconds on the data-path clock. */
static inline uint64_t
hd_clock_ms(void)
{
	return rte_get_tsc_cycles() / (rte_get_tsc_hz() / 1000);
}

#endif /* HD_CLOCK_H */
