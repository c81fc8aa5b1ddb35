// SPDX-License-Identifier: GPL-2.0
/* 6.17: system_wq got the name system_percpu_wq (the old one is deprecated). */
#include <linux/workqueue.h>

static __maybe_unused struct workqueue_struct *cpa_probe(void)
{
	return system_percpu_wq;
}
