// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: POSIX ACLs are those of the backing object.
 *
 * The union keeps no ACL of its own.  Its inodes never cache one
 * (ACL_DONT_CACHE): each permission check reads the ACL of the backing
 * inode, which its filesystem caches, so that a copy-up, or a change made
 * through the union or in the branch, counts at once.
 *
 * Setting or removing an ACL copies a lower object up (a regular file
 * without its data) and changes the copy; the branch filesystem adjusts
 * the mode, as it adjusts the mask of the access ACL on chmod.  Depending
 * on the kernel (compat.h), ACLs come through the inode operations here or
 * as the extended attributes system.posix_acl_{access,default} (xattr.c),
 * which only the owner may change (cpa_acl_xattr_perm()).
 *
 * A new object is made by the branch filesystem in the copy of its parent
 * directory, which carries the default ACL of the union directory: that
 * filesystem applies it, or the caller's umask where there is none, as it
 * does without the union.  The union declares ACLs (SB_POSIXACL) so that
 * the VFS leaves the umask to it.
 */
#include "cppaufs.h"

void cpa_acl_sb_init(struct super_block *sb)
{
	if (IS_ENABLED(CONFIG_FS_POSIX_ACL))
		sb->s_flags |= SB_POSIXACL;
}

/* Not symlinks: they lack the operations an uncached ACL is read with. */
void cpa_acl_inode_init(struct inode *inode)
{
	if (S_ISLNK(inode->i_mode))
		return;
#ifdef CONFIG_FS_POSIX_ACL
	inode->i_acl = ACL_DONT_CACHE;
	inode->i_default_acl = ACL_DONT_CACHE;
#endif
}

/*
 * The mode to create an object with in the branch directory @h_dir: the
 * VFS did not apply the umask (SB_POSIXACL), a directory without ACL
 * support will not either.
 */
umode_t cpa_acl_create_mode(struct inode *h_dir, umode_t mode)
{
	if (!IS_POSIXACL(h_dir))
		mode &= ~current_umask();
	return mode;
}

/*
 * Changing an ACL as an extended attribute: the VFS leaves the owner check
 * to the filesystem, which would make it against the mounter's credentials.
 */
int cpa_acl_xattr_perm(struct inode *inode, const char *name)
{
	if (strcmp(name, XATTR_NAME_POSIX_ACL_ACCESS) &&
	    strcmp(name, XATTR_NAME_POSIX_ACL_DEFAULT))
		return 0;
	return inode_owner_or_capable(CPA_IDMAP_ARG inode) ? 0 : -EPERM;
}

/*
 * For permission checks: the ACL of the backing inode.  In RCU mode only a
 * cached one, unreferenced (an uncached one sends the walk to ref-walk).
 */
struct posix_acl *cpa_get_inode_acl(struct inode *inode, int type, bool rcu)
{
	CPA_ENTRIES_GUARD();
	struct inode *real = cpa_inode_real(inode);

	if (rcu)
		return get_cached_acl_rcu(real, type);
	return cpa_real_inode_acl(real, type);
}

/* For getfacl and the like: the backing object's ACL, as its mount shows it. */
struct posix_acl *cpa_get_acl(CPA_IDMAP_PARAM struct dentry *dentry, int type)
{
	CPA_ENTRIES_GUARD();
	const struct cred *old;
	struct path realpath;
	struct posix_acl *acl;

	cpa_path_real(dentry, &realpath);
	old = cpa_override_creds(dentry->d_sb);
	acl = cpa_do_get_acl(&realpath, type);
	cpa_revert_creds(old);
	return acl;
}

/*
 * Set or (@acl NULL) remove an ACL, on the copy on branch 0.  The VFS
 * checked the caller against the union inode, and holds its lock.
 */
int cpa_set_acl(CPA_IDMAP_PARAM struct dentry *dentry, struct posix_acl *acl,
		int type)
{
	CPA_BRANCHES_GUARD(dentry->d_sb);
	CPA_ENTRIES_GUARD();
	struct super_block *sb = dentry->d_sb;
	const struct cred *old;
	struct path realpath;
	int err;

	err = cpa_copy_up_to_change(dentry, true);
	if (err)
		return err;

	cpa_path_real(dentry, &realpath);
	err = mnt_want_write(realpath.mnt);
	if (err)
		return err;
	old = cpa_override_creds(sb);
	err = cpa_do_set_acl(&realpath, type, acl);
	cpa_revert_creds(old);
	mnt_drop_write(realpath.mnt);
	/* The access ACL and the mode go together. */
	cpa_copyattr(d_inode(dentry));
	return err;
}
