/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cppaufs: the one place that knows which kernel it is built for.
 *
 * Everything else uses one internal API, the cpa_* helpers below (and the
 * cpa_do_* wrappers of cppaufs.h built on them), with the semantics of the
 * newest kernel; each shim names the release that changed the API.
 * Supported: 6.1 LTS up to 7.2 (built and tested on 6.1, 6.12 and 7.2;
 * the boundaries in between are those of mainline).
 *
 * Where a version number cannot tell, because a distribution backports
 * or because a change came in pieces over several releases, the feature
 * itself is tested.  kmod/Kbuild compiles each kmod/probe/<name>.c with
 * this module's flags and defines HAVE_<NAME> in cpa_probe.h when it
 * builds:
 *   HAVE_MNT_IDMAP            struct mnt_idmap for idmapped mounts (6.3)
 *   HAVE_KERNEL_TMPFILE_OPEN  vfs_tmpfile_open() renamed (6.6)
 *   HAVE_VFS_MKDIR_DELEG      vfs_mkdir() and vfs_rmdir() take a
 *                             struct delegated_inode (directory delegations)
 *   HAVE_VFS_CREATE_DELEG     so do vfs_create(), which lost its directory,
 *                             vfs_mknod() and vfs_symlink()
 * Macros that came with a change test for it as well (FS_PRE_ACCESS,
 * AT_GETATTR_NOSEC).
 */
#ifndef _CPPAUFS_COMPAT_H
#define _CPPAUFS_COMPAT_H

#include <linux/version.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/dcache.h>
#include <linux/splice.h>
#include <linux/fsnotify.h>
#include <linux/xattr.h>
#include <linux/mm.h>
#include "cpa_probe.h"

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "cppaufs needs Linux 6.1 or newer"
#endif

/* -- idmapped mounts ------------------------------------------------------ */

/*
 * 6.3 replaced the user namespace of a mount with struct mnt_idmap in every
 * inode operation and vfs_* helper (probed).  Code writes "struct cpa_idmap
 * *".  Namespace operations in branches pass the nop mapping
 * (CPA_NOP_IDMAP), calls that read or change attributes the branch mount's
 * own (cpa_mnt_idmap()).
 */
#ifdef HAVE_MNT_IDMAP
#define cpa_idmap			mnt_idmap
#define CPA_NOP_IDMAP			(&nop_mnt_idmap)
#define cpa_mnt_idmap(mnt)		mnt_idmap(mnt)
#else
#define cpa_idmap			user_namespace
#define CPA_NOP_IDMAP			(&init_user_ns)
#define cpa_mnt_idmap(mnt)		mnt_user_ns(mnt)
#endif
#define CPA_IDMAP_ARG			CPA_NOP_IDMAP,
#define CPA_PATH_IDMAP_ARG(path)	cpa_mnt_idmap((path)->mnt),

/* -- calls into branches -------------------------------------------------- */

static inline ssize_t cpa_vfs_getxattr(const struct path *path,
				       const char *name, void *value,
				       size_t size)
{
	return vfs_getxattr(CPA_PATH_IDMAP_ARG(path) path->dentry, name,
			    value, size);
}

static inline int cpa_vfs_setxattr(const struct path *path, const char *name,
				   const void *value, size_t size, int flags)
{
	return vfs_setxattr(CPA_PATH_IDMAP_ARG(path) path->dentry, name,
			    value, size, flags);
}

static inline int cpa_vfs_removexattr(const struct path *path,
				      const char *name)
{
	return vfs_removexattr(CPA_PATH_IDMAP_ARG(path) path->dentry, name);
}

/* Caller holds the inode lock of path->dentry. */
static inline int cpa_notify_change(const struct path *path,
				    struct iattr *attr)
{
	return notify_change(CPA_PATH_IDMAP_ARG(path) path->dentry, attr,
			     NULL);
}

/*
 * Lookups in branch directories check MAY_EXEC on the parent, with the
 * caller's (the mounter's) credentials, as lookup_one_len() did.  6.16
 * renamed that one lookup_noperm() and dropped the check; lookup_one(),
 * which keeps it, takes a qstr from 6.16 on.  cpa_lookup_locked() needs
 * the inode lock of @base.
 */
static inline struct dentry *cpa_lookup_locked(const char *name, int len,
					       struct dentry *base)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 16, 0)
	struct qstr q = QSTR_INIT(name, len);

	return lookup_one(CPA_NOP_IDMAP, &q, base);
#else
	return lookup_one_len(name, base, len);
#endif
}

static inline struct dentry *cpa_lookup_unlocked(const char *name, int len,
						 struct dentry *base)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 16, 0)
	struct qstr q = QSTR_INIT(name, len);

	return lookup_one_unlocked(CPA_NOP_IDMAP, &q, base);
#else
	return lookup_one_len_unlocked(name, base, len);
#endif
}

/*
 * Namespace operations in a branch directory @dir, locked by the caller.
 * Directory delegations made vfs_mkdir() and vfs_rmdir() take a struct
 * delegated_inode, then vfs_create() (which lost @dir), vfs_mknod() and
 * vfs_symlink(); NULL waits for no delegation (probed).
 */
static inline int cpa_vfs_create(struct inode *dir, struct dentry *dentry,
				 umode_t mode)
{
#ifdef HAVE_VFS_CREATE_DELEG
	return vfs_create(CPA_NOP_IDMAP, dentry, mode, NULL);
#else
	return vfs_create(CPA_IDMAP_ARG dir, dentry, mode, true);
#endif
}

/*
 * 6.15 made vfs_mkdir() return the dentry of the new directory, which may
 * not be @dentry, and drop @dentry on failure; from 6.19 a failure unlocks
 * @dir as well.  Here, on every kernel, @dentry is consumed and @dir stays
 * locked: the new directory's dentry or an ERR_PTR is returned.
 */
static inline struct dentry *cpa_vfs_mkdir(struct inode *dir,
					   struct dentry *dentry,
					   umode_t mode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
	struct dentry *d;

#ifdef HAVE_VFS_MKDIR_DELEG
	d = vfs_mkdir(CPA_NOP_IDMAP, dir, dentry, mode, NULL);
#else
	d = vfs_mkdir(CPA_NOP_IDMAP, dir, dentry, mode);
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
	if (IS_ERR(d))
		inode_lock_nested(dir, I_MUTEX_PARENT);
#endif
	return d;
#else
	int err = vfs_mkdir(CPA_IDMAP_ARG dir, dentry, mode);

	if (err) {
		dput(dentry);
		return ERR_PTR(err);
	}
	return dentry;
#endif
}

static inline int cpa_vfs_mknod(struct inode *dir, struct dentry *dentry,
				umode_t mode, dev_t rdev)
{
#ifdef HAVE_VFS_CREATE_DELEG
	return vfs_mknod(CPA_NOP_IDMAP, dir, dentry, mode, rdev, NULL);
#else
	return vfs_mknod(CPA_IDMAP_ARG dir, dentry, mode, rdev);
#endif
}

static inline int cpa_vfs_symlink(struct inode *dir, struct dentry *dentry,
				  const char *target)
{
#ifdef HAVE_VFS_CREATE_DELEG
	return vfs_symlink(CPA_NOP_IDMAP, dir, dentry, target, NULL);
#else
	return vfs_symlink(CPA_IDMAP_ARG dir, dentry, target);
#endif
}

static inline int cpa_vfs_link(struct dentry *old, struct inode *dir,
			       struct dentry *new)
{
	return vfs_link(old, CPA_IDMAP_ARG dir, new, NULL);
}

static inline int cpa_vfs_unlink(struct inode *dir, struct dentry *dentry)
{
	return vfs_unlink(CPA_IDMAP_ARG dir, dentry, NULL);
}

static inline int cpa_vfs_rmdir(struct inode *dir, struct dentry *dentry)
{
#ifdef HAVE_VFS_MKDIR_DELEG
	return vfs_rmdir(CPA_NOP_IDMAP, dir, dentry, NULL);
#else
	return vfs_rmdir(CPA_IDMAP_ARG dir, dentry);
#endif
}

/*
 * 6.3 renamed the idmap fields of struct renamedata and 6.17 made them
 * one, with the parent dentries instead of the directory inodes.  Caller
 * holds cpa_start_renaming().
 */
static inline int cpa_vfs_rename(struct dentry *old_parent, struct dentry *old,
				 struct dentry *new_parent, struct dentry *new,
				 unsigned int flags)
{
	struct renamedata rd = {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
		.mnt_idmap	= CPA_NOP_IDMAP,
		.old_parent	= old_parent,
		.new_parent	= new_parent,
#else
#ifdef HAVE_MNT_IDMAP
		.old_mnt_idmap	= CPA_NOP_IDMAP,
		.new_mnt_idmap	= CPA_NOP_IDMAP,
#else
		.old_mnt_userns	= CPA_NOP_IDMAP,
		.new_mnt_userns	= CPA_NOP_IDMAP,
#endif
		.old_dir	= d_inode(old_parent),
		.new_dir	= d_inode(new_parent),
#endif
		.old_dentry	= old,
		.new_dentry	= new,
		.flags		= flags,
	};

	return vfs_rename(&rd);
}

/*
 * Lock two branch directories for a rename of @old, a child of
 * @old_parent, to @name in @new_parent, and look @name up there (a
 * negative dentry when it does not exist).  6.19 added
 * start_renaming_dentry() and 7.1 removed lock_rename().  Fails with
 * -EINVAL if @old was moved or removed meanwhile or is an ancestor of
 * @new_parent, -ENOTEMPTY if the target is an ancestor of @old_parent.
 * Until cpa_end_renaming(), r->old and r->new are the two dentries, both
 * referenced, and both parents are locked.
 */
struct cpa_renaming {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
	struct renamedata rd;
#else
	struct dentry *old_parent, *new_parent;
#endif
	struct dentry *old, *new;
};

static inline int cpa_start_renaming(struct cpa_renaming *r,
				     struct dentry *old_parent,
				     struct dentry *old,
				     struct dentry *new_parent,
				     const struct qstr *name)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
	struct qstr q = QSTR_INIT(name->name, name->len);
	int err;

	memset(&r->rd, 0, sizeof(r->rd));
	r->rd.mnt_idmap = CPA_NOP_IDMAP;
	r->rd.old_parent = old_parent;
	r->rd.new_parent = new_parent;
	err = start_renaming_dentry(&r->rd, 0, old, &q);
	if (err)
		return err;
	r->old = r->rd.old_dentry;
	r->new = r->rd.new_dentry;
	return 0;
#else
	struct dentry *trap, *new;
	int err = -EINVAL;

	trap = lock_rename(new_parent, old_parent);
	if (IS_ERR(trap))
		return PTR_ERR(trap);
	if (old->d_parent != old_parent || d_unhashed(old) || old == trap)
		goto out_unlock;
	new = cpa_lookup_locked(name->name, name->len, new_parent);
	if (IS_ERR(new)) {
		err = PTR_ERR(new);
		goto out_unlock;
	}
	if (new == trap) {
		dput(new);
		err = -ENOTEMPTY;
		goto out_unlock;
	}
	r->old_parent = old_parent;
	r->new_parent = new_parent;
	r->old = dget(old);
	r->new = new;
	return 0;

out_unlock:
	unlock_rename(new_parent, old_parent);
	return err;
#endif
}

static inline void cpa_end_renaming(struct cpa_renaming *r)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
	end_renaming(&r->rd);
#else
	unlock_rename(r->new_parent, r->old_parent);
	dput(r->old);
	dput(r->new);
#endif
}

/*
 * 6.7 passes AT_GETATTR_NOSEC down stacked ->getattr calls that must skip
 * the LSM check; vfs_getattr() warns when it sees the flag.
 */
static inline int cpa_vfs_getattr(const struct path *path,
				  struct kstat *stat, u32 mask,
				  unsigned int flags)
{
#ifdef AT_GETATTR_NOSEC
	if (flags & AT_GETATTR_NOSEC)
		return vfs_getattr_nosec(path, stat, mask, flags);
#endif
	return vfs_getattr(path, stat, mask, flags);
}

/* -- O_TMPFILE ------------------------------------------------------------ */

/*
 * An unnamed file in the branch directory @dir, created with the current
 * credentials; its dentry, referenced, or an ERR_PTR.  6.6 renamed
 * vfs_tmpfile_open() kernel_tmpfile_open() (probed).
 */
static inline struct dentry *cpa_tmpfile_create(const struct path *dir,
						umode_t mode, int flags)
{
	struct dentry *d;
	struct file *f;

#ifdef HAVE_KERNEL_TMPFILE_OPEN
	f = kernel_tmpfile_open(CPA_NOP_IDMAP, dir, mode, flags,
				current_cred());
#else
	f = vfs_tmpfile_open(CPA_NOP_IDMAP, dir, mode, flags, current_cred());
#endif
	if (IS_ERR(f))
		return ERR_CAST(f);
	d = dget(f->f_path.dentry);
	fput(f);
	return d;
}

/* -- inode, file and dentry operations ------------------------------------ */

/* 6.15: ->mkdir() returns a dentry, NULL when it used the one it got. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
#define CPA_MKDIR_RET		struct dentry *
#define cpa_mkdir_ret(err)	ERR_PTR(err)
#else
#define CPA_MKDIR_RET		int
#define cpa_mkdir_ret(err)	(err)
#endif

/* 6.17: the default dentry operations are set with a helper. */
static inline void cpa_set_d_op(struct super_block *sb,
				const struct dentry_operations *ops)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
	set_default_d_op(sb, ops);
#else
	sb->s_d_op = ops;
#endif
}

/* 6.18 renamed generic_delete_inode() inode_just_drop(). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
#define cpa_drop_inode		inode_just_drop
#else
#define cpa_drop_inode		generic_delete_inode
#endif

/* 6.19 hid i_state behind accessors. */
static inline bool cpa_inode_is_new(struct inode *inode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
	return inode_state_read_once(inode) & I_NEW;
#else
	return inode->i_state & I_NEW;
#endif
}

/*
 * 6.5 removed generic_file_splice_read(); copy_splice_read() reads through
 * ->read_iter the same way.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define cpa_splice_read		copy_splice_read
#else
#define cpa_splice_read		generic_file_splice_read
#endif

/*
 * 6.7 moved file_start_write() into vfs_iter_write(); before, the caller
 * took freeze protection itself.
 */
static inline ssize_t cpa_iter_write(struct file *file, struct iov_iter *iter,
				     loff_t *ppos, rwf_t flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	return vfs_iter_write(file, iter, ppos, flags);
#else
	ssize_t ret;

	file_start_write(file);
	ret = vfs_iter_write(file, iter, ppos, flags);
	file_end_write(file);
	return ret;
#endif
}

/*
 * The fanotify events a read of the branch file @file sends before it
 * reads.  6.8 took the access-permission event out of
 * security_file_permission() and gave rw_verify_area() its own call.  6.14
 * added pre-content events (FS_PRE_ACCESS), whose hook is not exported: a
 * file opened with watchers of those or of access-permission events is read
 * through vfs_iter_read() (cpa_read_through_vfs()), the others need none.
 */
#ifdef FS_PRE_ACCESS
static inline bool cpa_read_through_vfs(const struct file *file)
{
	return FMODE_FSNOTIFY_HSM(file->f_mode) ||
	       FMODE_FSNOTIFY_ACCESS_PERM(file->f_mode);
}

static inline int cpa_fsnotify_read_perm(struct file *file, loff_t *ppos,
					 size_t count)
{
	return 0;
}
#else
static inline bool cpa_read_through_vfs(const struct file *file)
{
	return false;
}

static inline int cpa_fsnotify_read_perm(struct file *file, loff_t *ppos,
					 size_t count)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	return fsnotify_file_area_perm(file, MAY_READ, ppos, count);
#else
	return fsnotify_perm(file, MAY_READ);
#endif
}
#endif

/*
 * mmap of a branch file.  6.17 renamed call_mmap() vfs_mmap(), which also
 * calls ->mmap_prepare() (6.16), all that ext4, xfs, btrfs and tmpfs have
 * from 6.17 on.
 */
static inline bool cpa_file_can_mmap(const struct file *real)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
	return real->f_op->mmap || real->f_op->mmap_prepare;
#else
	return real->f_op->mmap;
#endif
}

static inline int cpa_call_mmap(struct file *file, struct vm_area_struct *vma)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
	return vfs_mmap(file, vma);
#else
	return call_mmap(file, vma);
#endif
}

/* -- attributes ----------------------------------------------------------- */

/*
 * 6.6 hid i_ctime behind accessors, 6.7 did the same for i_atime and
 * i_mtime.
 */
static inline void cpa_copy_times(struct inode *dst, const struct inode *src)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	inode_set_atime_to_ts(dst, inode_get_atime(src));
	inode_set_mtime_to_ts(dst, inode_get_mtime(src));
	inode_set_ctime_to_ts(dst, inode_get_ctime(src));
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	dst->i_atime = src->i_atime;
	dst->i_mtime = src->i_mtime;
	inode_set_ctime_to_ts(dst, inode_get_ctime(src));
#else
	dst->i_atime = src->i_atime;
	dst->i_mtime = src->i_mtime;
	dst->i_ctime = src->i_ctime;
#endif
}

static inline struct timespec64 cpa_inode_atime(const struct inode *inode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	return inode_get_atime(inode);
#else
	return inode->i_atime;
#endif
}

static inline struct timespec64 cpa_inode_mtime(const struct inode *inode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	return inode_get_mtime(inode);
#else
	return inode->i_mtime;
#endif
}

static inline struct timespec64 cpa_inode_ctime(const struct inode *inode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	return inode_get_ctime(inode);
#else
	return inode->i_ctime;
#endif
}

/*
 * POSIX ACLs: from 6.2 they are read and written with vfs_get_acl() and
 * vfs_set_acl(), not as extended attributes; before, the catch-all xattr
 * handler sees them too.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>

static inline bool cpa_xattr_is_acl(const char *name)
{
	return is_posix_acl_xattr(name);
}

static inline int cpa_copy_acl(const struct path *from, const struct path *to,
			       const char *name)
{
	struct posix_acl *acl;
	int err;

	acl = vfs_get_acl(cpa_mnt_idmap(from->mnt), from->dentry, name);
	if (IS_ERR(acl))
		return PTR_ERR(acl) == -ENODATA ||
		       PTR_ERR(acl) == -EOPNOTSUPP ? 0 : PTR_ERR(acl);
	if (!acl)
		return 0;
	err = vfs_set_acl(cpa_mnt_idmap(to->mnt), to->dentry, name, acl);
	posix_acl_release(acl);
	return err == -EOPNOTSUPP ? 0 : err;
}
#else
static inline bool cpa_xattr_is_acl(const char *name)
{
	return false;
}

static inline int cpa_copy_acl(const struct path *from, const struct path *to,
			       const char *name)
{
	return 0;
}
#endif

#endif /* _CPPAUFS_COMPAT_H */
