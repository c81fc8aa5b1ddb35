// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: xino, the translation of branch inode numbers to union inode
 * numbers.
 *
 * Each branch maps its inode numbers to union numbers in an xarray; a new
 * number is handed out the first time a branch inode is seen, so union
 * numbers are unique within the mount and stable for as long as it lives,
 * across cache drops.  Hard links on a branch share one union number.
 */
#include <linux/slab.h>
#include <linux/string.h>
#include "cppaufs.h"

int cpa_xino_init(struct cpa_sb_info *sbi)
{
	struct cpa_branch *rw;

	/* Where the persistent table lives: the first writable branch. */
	if (sbi->rw_index < 0)
		return 0;
	rw = &sbi->branches[sbi->rw_index];
	sbi->xino_path = kasprintf(GFP_KERNEL, "%s%s%s", rw->name,
				   strcmp(rw->name, "/") ? "/" : "",
				   CPPAUFS_XINO_NAME);
	return sbi->xino_path ? 0 : -ENOMEM;
}

void cpa_xino_fini(struct cpa_sb_info *sbi)
{
}

/*
 * Union inode number of inode @h_ino of branch @bindex, allocated on first
 * use.  The root directory of the top branch is always CPA_ROOT_INO.
 */
int cpa_xino_ino(struct super_block *sb, int bindex, u64 h_ino,
		 unsigned long *ino)
{
	struct cpa_sb_info *sbi = CPA_SB(sb);
	struct cpa_branch *br = &sbi->branches[bindex];
	unsigned long fresh;
	void *old, *entry;

	entry = xa_load(&br->xino, h_ino);
	if (entry) {
		*ino = xa_to_value(entry);
		return 0;
	}

	if (bindex == 0 && h_ino == d_inode(br->path.dentry)->i_ino)
		fresh = CPA_ROOT_INO;
	else
		fresh = atomic64_inc_return(&sbi->next_ino);
	old = xa_cmpxchg(&br->xino, h_ino, NULL, xa_mk_value(fresh),
			 GFP_KERNEL);
	if (xa_is_err(old))
		return xa_err(old);
	/* Somebody else got there first: theirs is the number. */
	*ino = old ? xa_to_value(old) : fresh;
	return 0;
}
