// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: union inodes and their attribute operations.
 *
 * A union inode mirrors the attributes of one backing inode, the topmost
 * one its name resolved to; its number comes from xino, so it does not
 * change with the backing inode.
 */
#include <linux/slab.h>
#include "cppaufs.h"

void cpa_path_real(const struct dentry *dentry, struct path *path)
{
	const struct cpa_entry *e = CPA_E(dentry);
	int top = cpa_entry_top(e);

	path->mnt = cpa_entry_br(dentry->d_sb, e, top)->path.mnt;
	path->dentry = cpa_entry_dentry(e, top);
}

/* Refresh the union inode from its backing inode. */
void cpa_copyattr(struct inode *inode)
{
	struct inode *real = cpa_inode_real(inode);

	inode->i_mode = real->i_mode;
	inode->i_uid = real->i_uid;
	inode->i_gid = real->i_gid;
	inode->i_rdev = real->i_rdev;
	set_nlink(inode, S_ISREG(inode->i_mode) ?
		  cpa_plink_nlink(inode) : real->i_nlink);
	i_size_write(inode, i_size_read(real));
	cpa_copy_times(inode, real);
	cpa_copyflags(inode, real);
}

static int cpa_getattr(CPA_IDMAP_PARAM const struct path *path,
		       struct kstat *stat, u32 mask, unsigned int flags)
{
	CPA_ENTRIES_GUARD();
	struct dentry *dentry = path->dentry;
	struct inode *inode = d_inode(dentry);
	const struct cred *old;
	struct path realpath, data;
	struct kstat dst;
	int err;

	err = cpa_plink_sync(dentry);
	if (err)
		return err;
	/* udba=none: a directory in use from before a change of branches. */
	if (d_is_dir(dentry) && cpa_stale(dentry))
		cpa_dir_fresh(dentry);
	cpa_path_real(dentry, &realpath);
	if (S_ISREG(inode->i_mode))
		cpa_path_data(dentry, &data);
	else
		data = realpath;
	old = cpa_override_creds(dentry->d_sb);
	err = cpa_do_getattr(&realpath, stat, mask, flags);
	/* The blocks of a metadata-only copy are those of its data. */
	if (!err && data.dentry != realpath.dentry &&
	    !cpa_do_getattr(&data, &dst, STATX_BLOCKS, flags))
		stat->blocks = dst.blocks;
	cpa_revert_creds(old);
	if (err)
		return err;

	stat->dev = dentry->d_sb->s_dev;
	stat->ino = inode->i_ino;
	cpa_copyattr(inode);
	if (S_ISREG(inode->i_mode))
		stat->nlink = inode->i_nlink;
	return 0;
}

/*
 * Another name of this hard-linked file was copied up: link this one to
 * the same copy before using it, so that every name sees one file.  Not
 * once the branch of the copy is read-only: names are linked no more.
 */
int cpa_plink_sync(struct dentry *dentry)
{
	struct inode *inode = d_inode(dentry);
	struct cpa_branch *pbr;
	bool rw;

	if (!S_ISREG(inode->i_mode) || !READ_ONCE(CPA_I(inode)->plinked) ||
	    cpa_entry_upper(CPA_E(dentry)) || !cpa_sb_writable(dentry->d_sb))
		return 0;
	rcu_read_lock();
	pbr = rcu_dereference(CPA_SB(dentry->d_sb)->plink_br);
	rw = pbr && cpa_branch_writable(pbr);
	rcu_read_unlock();
	return rw ? cpa_copy_up(dentry) : 0;
}

/*
 * The caller's credentials are checked against the union inode, whose mode
 * and owner are those of the backing inode.  A lower object may be written
 * when it can be copied up, that is when the top branch is writable.
 */
static int cpa_permission(CPA_IDMAP_PARAM struct inode *inode, int mask)
{
	CPA_ENTRIES_GUARD();
	struct cpa_inode *ci = CPA_I(inode);
	int err;

	/* The union is not idmapped: @idmap is the nop one. */
	err = cpa_generic_permission(inode, mask);
	if (err)
		return err;
	if ((mask & MAY_WRITE) && !special_file(inode->i_mode) &&
	    !cpa_sb_writable(inode->i_sb) && !READ_ONCE(ci->upper) &&
	    !cpa_branch_writable(ci->br))
		return -EROFS;
	return 0;
}

static int cpa_setattr(CPA_IDMAP_PARAM struct dentry *dentry,
		       struct iattr *attr)
{
	CPA_BRANCHES_GUARD(dentry->d_sb);
	CPA_ENTRIES_GUARD();
	struct inode *inode = d_inode(dentry);
	struct inode *h_inode;
	const struct cred *old;
	struct path realpath;
	int err;

	err = cpa_setattr_prepare(dentry, attr);
	if (err)
		return err;
	if (cpa_sb_writable(dentry->d_sb) && (attr->ia_valid & ATTR_SIZE))
		/* A shrinking file needs no more than what is left of it. */
		err = cpa_copy_up_len(dentry, attr->ia_size);
	else
		err = cpa_copy_up_to_change(dentry, true);
	if (err)
		return err;

	/* notify_change() derives the mode change from the kill bits. */
	if (attr->ia_valid & (ATTR_KILL_SUID | ATTR_KILL_SGID))
		attr->ia_valid &= ~ATTR_MODE;
	/* The file is ours, not the branch's. */
	attr->ia_valid &= ~ATTR_FILE;

	cpa_path_real(dentry, &realpath);
	h_inode = d_inode(realpath.dentry);
	err = mnt_want_write(realpath.mnt);
	if (err)
		return err;
	old = cpa_override_creds(dentry->d_sb);
	inode_lock(h_inode);
	err = cpa_do_notify_change(&realpath, attr);
	inode_unlock(h_inode);
	cpa_revert_creds(old);
	mnt_drop_write(realpath.mnt);
	cpa_copyattr(inode);
	return err;
}

static const char *cpa_get_link(struct dentry *dentry, struct inode *inode,
				struct delayed_call *done)
{
	CPA_ENTRIES_GUARD();
	const struct cred *old;
	const char *link;

	if (!dentry)
		return ERR_PTR(-ECHILD);
	old = cpa_override_creds(dentry->d_sb);
	link = vfs_get_link(cpa_dentry_real(dentry), done);
	cpa_revert_creds(old);
	return link;
}

static const struct inode_operations cpa_file_iops = {
	.getattr	= cpa_getattr,
	.permission	= cpa_permission,
	.setattr	= cpa_setattr,
	.listxattr	= cpa_listxattr,
	CPA_ACL_IOPS,
	.fiemap		= cpa_fiemap,
	CPA_FILEATTR_IOPS
};

const struct inode_operations cpa_dir_iops = {
	.lookup		= cpa_lookup,
	.create		= cpa_create,
	.mkdir		= cpa_mkdir,
	.mknod		= cpa_mknod,
	.symlink	= cpa_symlink,
	.link		= cpa_link,
	.unlink		= cpa_unlink,
	.rmdir		= cpa_rmdir,
	.rename		= cpa_rename,
	.tmpfile	= cpa_tmpfile,
	.getattr	= cpa_getattr,
	.permission	= cpa_permission,
	.setattr	= cpa_setattr,
	.listxattr	= cpa_listxattr,
	CPA_ACL_IOPS,
	CPA_FILEATTR_IOPS
};

static const struct inode_operations cpa_symlink_iops = {
	.get_link	= cpa_get_link,
	.getattr	= cpa_getattr,
	.setattr	= cpa_setattr,
	.listxattr	= cpa_listxattr,
};

static const struct inode_operations cpa_special_iops = {
	.getattr	= cpa_getattr,
	.permission	= cpa_permission,
	.setattr	= cpa_setattr,
	.listxattr	= cpa_listxattr,
	CPA_ACL_IOPS,
};

/* Forget what cpa_inode_find_plink() took from a branch now removed. */
static void cpa_inode_forget_plink(struct inode *inode)
{
	struct cpa_inode *ci = CPA_I(inode);

	ci->lower_left = -1;
	ci->plinked = false;
	if (ci->upper) {
		iput(ci->upper);
		cpa_branch_put(ci->upper_br);
		ci->upper = NULL;
		ci->upper_br = NULL;
	}
}

/*
 * A hard-linked file, found on branch @br: some names of it may have been
 * copied up or hidden before.  Found on the branch of the pseudo-links,
 * it may be the pseudo-link itself; found below, it takes the pseudo-link
 * as its copy, while that branch is writable.  (Found above, it cannot
 * have been copied there.)
 */
static void cpa_inode_find_plink(struct inode *inode, struct cpa_branch *br)
{
	struct super_block *sb = inode->i_sb;
	struct cpa_inode *ci = CPA_I(inode);
	const struct cred *old;
	struct cpa_branch *pbr;
	struct dentry *plink;

	if (!cpa_sb_writable(sb))
		return;
	pbr = cpa_plink_br_get(sb);
	if (!pbr)
		return;
	old = cpa_override_creds(sb);
	ci->lower_left = cpa_plink_lower_read(pbr, inode->i_ino);
	plink = cpa_plink_find(pbr, inode->i_ino);
	cpa_revert_creds(old);
	if (!IS_ERR_OR_NULL(plink)) {
		if (br == pbr && d_inode(plink) == ci->real) {
			ci->plinked = true;
		} else if (br != pbr && cpa_branch_writable(pbr) &&
			   cpa_br_above(sb, pbr, br)) {
			ci->upper_br = cpa_branch_get(pbr);
			ci->upper = igrab(d_inode(plink));
			ci->plinked = true;
		}
		dput(plink);
	}
	/*
	 * A remount removed the branch meanwhile, after its walk of the
	 * inodes (cpa_brops_plink_gone()), or before: nothing of it is kept.
	 * The full barriers order our writes before the check and its
	 * write of the pointer before its walk.
	 */
	smp_mb();
	if (unlikely(!cpa_plink_br(sb)))
		cpa_inode_forget_plink(inode);
	cpa_branch_put(pbr);
}

static void cpa_inode_init(struct inode *inode, struct inode *real,
			   struct cpa_branch *br)
{
	struct cpa_inode *ci = CPA_I(inode);
	umode_t mode = real->i_mode;

	ci->real = igrab(real);
	ci->br = cpa_branch_get(br);
	ci->plinked = false;
	ci->lower_left = -1;
	if (S_ISREG(mode) && real->i_nlink > 1)
		cpa_inode_find_plink(inode, br);
	/* Times are the backing inode's: the union never updates them. */
	inode->i_flags |= S_NOATIME | S_NOCMTIME;
	cpa_copyattr(inode);
	cpa_acl_inode_init(inode);

	switch (mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &cpa_file_iops;
		inode->i_fop = &cpa_file_fops;
		cpa_inode_odirect(inode);
		break;
	case S_IFDIR:
		inode->i_op = &cpa_dir_iops;
		inode->i_fop = &cpa_dir_fops;
		break;
	case S_IFLNK:
		inode->i_op = &cpa_symlink_iops;
		break;
	default:
		inode->i_op = &cpa_special_iops;
		init_special_inode(inode, mode, real->i_rdev);
		break;
	}
}

/*
 * Find or make the union inode numbered @ino for the backing dentry
 * @h_dentry of branch @br; @metacopy: @h_dentry holds metadata only.
 */
struct inode *cpa_get_inode(struct super_block *sb, struct dentry *h_dentry,
			    struct cpa_branch *br, unsigned long ino,
			    bool metacopy)
{
	struct inode *real = d_inode(h_dentry);
	struct inode *inode;

	inode = iget_locked(sb, ino);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!cpa_inode_is_new(inode)) {
		if (inode_wrong_type(inode, real->i_mode)) {
			pr_warn_ratelimited("inode %lu changed type behind the union\n",
					    ino);
			iput(inode);
			return ERR_PTR(-ESTALE);
		}
		return inode;
	}
	cpa_inode_init(inode, real, br);
	inode->i_generation = cpa_xino_gen(sb, ino);
	/*
	 * A marked object: on a writable branch this mount completes it; as
	 * the upper object of a read-only branch 0 it is read from below.  A
	 * change of branches may move it to slot 0 later: always marked.
	 */
	CPA_I(inode)->metacopy = metacopy;
	unlock_new_inode(inode);
	return inode;
}
