// SPDX-License-Identifier: GPL-2.0
/* 6.1: directory actors return bool. */
#include <linux/fs.h>

static bool cpa_probe_actor(struct dir_context *ctx, const char *name,
			    int len, loff_t pos, u64 ino, unsigned int type)
{
	return true;
}

static __maybe_unused int cpa_probe(struct file *dir)
{
	struct dir_context ctx = { .actor = cpa_probe_actor };

	return iterate_dir(dir, &ctx);
}
