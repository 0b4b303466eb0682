# SPDX-License-Identifier: BSD-3-Clause
"""Helpers of the Heimdall end-to-end suites (dts/tests/)."""
