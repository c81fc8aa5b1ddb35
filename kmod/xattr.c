// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: extended attributes are those of the backing object.
 */
#include "cppaufs.h"

static int cpa_xattr_get(const struct xattr_handler *handler,
			 struct dentry *dentry, struct inode *inode,
			 const char *name, void *buffer, size_t size)
{
	CPA_ENTRIES_GUARD();
	const struct cred *old;
	struct path realpath;
	ssize_t ret;

	/* The catch-all handler sees the full name. */
	if (cpa_xattr_is_private(name))
		return -ENODATA;
	cpa_path_real(dentry, &realpath);
	old = cpa_override_creds(dentry->d_sb);
	ret = cpa_do_getxattr(&realpath, name, buffer, size);
	cpa_revert_creds(old);
	return ret;
}

static int cpa_xattr_set(const struct xattr_handler *handler,
			 CPA_IDMAP_PARAM struct dentry *dentry,
			 struct inode *inode, const char *name,
			 const void *value, size_t size, int flags)
{
	CPA_BRANCHES_GUARD(dentry->d_sb);
	CPA_ENTRIES_GUARD();
	const struct cred *old;
	struct path realpath;
	int err;

	if (cpa_xattr_is_private(name))
		return -EPERM;
	err = cpa_acl_xattr_perm(inode, name);
	if (err)
		return err;
	err = cpa_copy_up_to_change(dentry, true);
	if (err)
		return err;

	cpa_path_real(dentry, &realpath);
	err = mnt_want_write(realpath.mnt);
	if (err)
		return err;
	old = cpa_override_creds(dentry->d_sb);
	if (value)
		err = cpa_do_setxattr(&realpath, name, value, size, flags);
	else
		err = cpa_do_removexattr(&realpath, name);
	cpa_revert_creds(old);
	mnt_drop_write(realpath.mnt);
	cpa_copyattr(inode);
	return err;
}

static const struct xattr_handler cpa_xattr_handler = {
	.prefix	= "",	/* every name */
	.get	= cpa_xattr_get,
	.set	= cpa_xattr_set,
};

const struct xattr_handler *cpa_xattr_handlers[] = {
	&cpa_xattr_handler,
	NULL
};

/*
 * The names of the backing object but the union's own.  Asked for the size
 * only, the backing object's is returned: never too small.
 */
ssize_t cpa_listxattr(struct dentry *dentry, char *list, size_t size)
{
	CPA_ENTRIES_GUARD();
	const struct cred *old;
	ssize_t ret, len;
	char *p;

	old = cpa_override_creds(dentry->d_sb);
	ret = cpa_do_listxattr(cpa_dentry_real(dentry), list, size);
	cpa_revert_creds(old);
	if (ret <= 0 || !list)
		return ret;

	for (p = list; p < list + ret; p += len) {
		len = strnlen(p, list + ret - p) + 1;
		if (cpa_xattr_is_private(p)) {
			ret -= len;
			memmove(p, p + len, list + ret - p);
			len = 0;
		}
	}
	return ret;
}
