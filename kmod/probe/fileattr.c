// SPDX-License-Identifier: GPL-2.0
/* 5.13: inodes have ->fileattr_get() and ->fileattr_set(). */
#include <linux/fs.h>
#include <linux/fileattr.h>

static __maybe_unused int cpa_probe(struct dentry *dentry)
{
	struct fileattr fa = { .flags_valid = true };

	return vfs_fileattr_get(dentry, &fa);
}
