// SPDX-License-Identifier: GPL-2.0
/* 6.17: struct fileattr is called struct file_kattr. */
#include <linux/fs.h>
#include <linux/fileattr.h>

static __maybe_unused int cpa_probe(struct dentry *dentry)
{
	struct file_kattr fa = { .flags_valid = true };

	return vfs_fileattr_get(dentry, &fa);
}
