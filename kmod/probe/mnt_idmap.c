// SPDX-License-Identifier: GPL-2.0
/* 6.3: idmapped mounts are described by struct mnt_idmap. */
#include <linux/fs.h>
#include <linux/mnt_idmapping.h>

static __maybe_unused struct mnt_idmap *cpa_probe(void)
{
	return &nop_mnt_idmap;
}
