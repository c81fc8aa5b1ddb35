// SPDX-License-Identifier: GPL-2.0
/* 5.12: vfs_rename() takes a struct renamedata. */
#include <linux/fs.h>

static __maybe_unused int cpa_probe(struct renamedata *rd)
{
	return vfs_rename(rd);
}
