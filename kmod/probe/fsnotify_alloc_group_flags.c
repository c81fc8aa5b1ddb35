// SPDX-License-Identifier: GPL-2.0
/* 5.19: fsnotify_alloc_group() takes flags (some distributions backported). */
#include <linux/fsnotify_backend.h>

static __maybe_unused struct fsnotify_group *
cpa_probe(const struct fsnotify_ops *ops)
{
	return fsnotify_alloc_group(ops, 0);
}
