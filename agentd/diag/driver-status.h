/* kefu-agentd: driver-status rules and the problems found. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_DRIVER_STATUS_H
#define KF_AGENTD_DRIVER_STATUS_H

#include "agentd/diag/kernel-log.h"
#include "agentd/diag/report.h"

/*
 * The fixed vocabulary, in the report's "status":
 *   works       a driver is bound and nothing says it is in trouble
 *   limited     a driver is bound but runs without something (firmware, some interfaces)
 *   detected    the device is there and no driver is bound to it
 *   failed      a driver tried and failed (probe error, missing firmware, unbound)
 *   malfunction a driver is bound (or the bus saw the device) but it reports errors
 */
#define KF_STATUS_WORKS       "works"
#define KF_STATUS_LIMITED     "limited"
#define KF_STATUS_DETECTED    "detected"
#define KF_STATUS_FAILED      "failed"
#define KF_STATUS_MALFUNCTION "malfunction"

/*
 * Sets status and evidence on every device of the report from its facts
 * (driver, module, interfaces) and the kernel-log events, and adds a problem in
 * plain words for each device that needs attention. Then adds the problems the
 * other sections show (full disks, failing SMART, worn batteries, stopped
 * printers, no route, DNS failing).
 */
void kf_driver_status_apply(struct kf_report *report, const struct kf_kernel_events *events);

#endif
