// SPDX-License-Identifier: GPL-2.0
/* 6.6: vfs_tmpfile_open() is called kernel_tmpfile_open(). */
#include <linux/fs.h>
#include <linux/mnt_idmapping.h>
#include <linux/cred.h>

static __maybe_unused struct file *cpa_probe(const struct path *dir)
{
	return kernel_tmpfile_open(&nop_mnt_idmap, dir, 0600, 0,
				   current_cred());
}
