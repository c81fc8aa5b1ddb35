// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: metadata-only copy-up.
 *
 * A change of attributes alone (chmod, chown, utimes, extended attributes)
 * of a lower regular file copies no data: the copy on branch 0 gets the
 * attributes and the size, as a hole, and the mark trusted.cppaufs.metacopy.
 * Its data stays that of the same name further down, where lookup finds it
 * (namei.c) and reads go (cpa_path_data).  The first write, truncation,
 * rename or link copies the data into the marked file and then removes the
 * mark (copy_up.c), so a crash at any point leaves either the mark or the
 * whole data.
 *
 * Lower branches may hold marked files too, left by an earlier mount with
 * other branches: lookup goes on below them to the data.
 */
#include "cppaufs.h"

bool cpa_xattr_is_private(const char *name)
{
	return !strncmp(name, CPPAUFS_XATTR_PREFIX,
			sizeof(CPPAUFS_XATTR_PREFIX) - 1);
}

/*
 * Is @h, a positive dentry of branch @br, a metadata-only copy?
 * 1, 0 or -errno.  Called with the mounter's credentials.
 */
int cpa_metacopy_test(struct cpa_branch *br, struct dentry *h)
{
	struct path path = { .mnt = br->path.mnt, .dentry = h };
	struct inode *inode = d_inode(h);
	ssize_t ret;

	/* An empty file is always copied whole: it has no data to keep. */
	if (!S_ISREG(inode->i_mode) || !i_size_read(inode))
		return 0;
	ret = cpa_do_getxattr(&path, CPPAUFS_XATTR_METACOPY, NULL, 0);
	if (ret >= 0)
		return 1;
	if (ret == -ENODATA || ret == -EOPNOTSUPP)
		return 0;
	return ret;
}

/* Mark the staged copy @tmp as holding metadata only. */
int cpa_metacopy_mark(const struct path *tmp)
{
	return cpa_do_setxattr(tmp, CPPAUFS_XATTR_METACOPY, "", 0, 0);
}

/* The data of @upper is complete: drop the mark. */
int cpa_metacopy_unmark(const struct path *upper)
{
	int err = cpa_do_removexattr(upper, CPPAUFS_XATTR_METACOPY);

	return err == -ENODATA ? 0 : err;
}

/* Slot @i of @dentry's entry, slot 0 being @upper when it is used. */
static struct cpa_branch *cpa_path_slot(const struct dentry *dentry, int i,
					 struct dentry *upper,
					 struct path *path)
{
	const struct cpa_entry *e = CPA_E(dentry);
	struct cpa_branch *br = cpa_entry_br(dentry->d_sb, e, i);

	path->mnt = br->path.mnt;
	path->dentry = i ? e->h[i].dentry : upper;
	return br;
}

/*
 * Where the data of @dentry is: its topmost object, or, when that holds
 * metadata only, the last slot of its entry.  Only one load of slot 0 is
 * trusted: a copy-up may publish it meanwhile, and the mark of a new copy
 * is set before the copy is published.  Returns the branch of @path.
 */
struct cpa_branch *cpa_path_data(const struct dentry *dentry,
				 struct path *path)
{
	const struct cpa_entry *e = CPA_E(dentry);
	struct dentry *upper = cpa_entry_upper(e);
	int i = e->count - 1;	/* the data below a marked object */

	if (upper && (!i || !READ_ONCE(CPA_I(d_inode(dentry))->metacopy)))
		return cpa_path_slot(dentry, 0, upper, path);
	return cpa_path_slot(dentry, upper || e->metacopy ? i : 1, upper, path);
}
