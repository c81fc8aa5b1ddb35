// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: pseudo-links, in aufs's ".wh..wh.plnk" directory.
 *
 * Copying up one name of a lower file that has several hard links would
 * split it: the copied name would see its own file, the others the lower
 * one.  Instead, the first copy-up of such a file also links the copy as
 * ".wh..wh.plnk/<union inode number>"; every other name of the file is
 * copied up by linking to it, so all names stay one file on the writable
 * branch as they were one file below.
 */
#include "cppaufs.h"

static int cpa_plink_name(char *buf, size_t size, unsigned long ino)
{
	return snprintf(buf, size, "%lu", ino);
}

/* The pseudo-link of union inode @ino, or NULL (referenced, or ERR_PTR). */
struct dentry *cpa_plink_find(struct super_block *sb, unsigned long ino)
{
	struct dentry *dir = CPA_SB(sb)->plinkdir;
	struct dentry *d;
	char name[24];
	int len;

	if (!dir)
		return NULL;
	len = cpa_plink_name(name, sizeof(name), ino);
	d = cpa_do_lookup(dir, name, len);
	if (!IS_ERR(d) && d_is_negative(d)) {
		dput(d);
		d = NULL;
	}
	return d;
}

/* Record @upper, the copy of union inode @ino, as its pseudo-link. */
int cpa_plink_add(struct super_block *sb, struct dentry *upper,
		  unsigned long ino)
{
	struct dentry *dir = CPA_SB(sb)->plinkdir;
	struct dentry *d;
	char name[24];
	int len, err = 0;

	if (!dir)
		return 0;
	len = cpa_plink_name(name, sizeof(name), ino);
	inode_lock_nested(d_inode(dir), I_MUTEX_PARENT);
	d = cpa_do_lookup_locked(dir, name, len);
	if (IS_ERR(d)) {
		err = PTR_ERR(d);
	} else {
		/* A stale one, from a file removed since, is replaced. */
		if (d_is_positive(d) && d_inode(d) != d_inode(upper))
			err = cpa_do_unlink(d_inode(dir), d);
		if (!err && d_is_negative(d))
			err = cpa_do_link(upper, d_inode(dir), d);
		dput(d);
	}
	inode_unlock(d_inode(dir));
	return err;
}

/*
 * Link the pseudo-link @plink to @name in the branch 0 directory @upperdir.
 * Returns the new name, referenced, or an ERR_PTR.
 */
struct dentry *cpa_plink_install(struct dentry *plink, struct dentry *upperdir,
				 const struct qstr *name)
{
	struct inode *dir = d_inode(upperdir);
	struct dentry *d;
	int err;

	inode_lock_nested(dir, I_MUTEX_PARENT);
	d = cpa_do_lookup_locked(upperdir, name->name, name->len);
	if (!IS_ERR(d)) {
		err = d_is_positive(d) ? -EEXIST : cpa_do_link(plink, dir, d);
		if (err) {
			dput(d);
			d = ERR_PTR(err);
		}
	}
	inode_unlock(dir);
	return d;
}

/*
 * Link count of a union inode: the pseudo-link is not a name, and lower
 * names not copied up yet still count.
 */
unsigned int cpa_plink_nlink(struct inode *inode, unsigned int upper_nlink)
{
	struct cpa_inode *ci = CPA_I(inode);
	unsigned int lower_nlink = 0;

	/* ci->real is a lower inode unless lookup found the copy itself. */
	if (ci->real && ci->bindex > 0)
		lower_nlink = ci->real->i_nlink;

	if (!READ_ONCE(ci->plinked) || !upper_nlink)
		return upper_nlink;
	return max(upper_nlink - 1, lower_nlink);
}
