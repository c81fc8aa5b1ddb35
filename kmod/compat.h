/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cppaufs: the one place that knows which kernel it is built for.
 *
 * Everything else uses one internal API, the cpa_* helpers below (and the
 * cpa_do_* wrappers of cppaufs.h built on them), with the semantics of the
 * newest kernel; each shim names the release that changed the API.
 * Supported: 5.10 LTS up to 7.2 (built and tested on 5.10, 6.1, 6.12 and
 * 7.2; the boundaries in between are those of mainline).
 *
 * Where a version number cannot tell, because a distribution backports
 * (RHEL 9's 5.14 has APIs of 6.x, Debian's 5.10 has struct renamedata) or
 * because a change came in pieces over several releases, the feature itself
 * is tested.  kmod/Kbuild compiles each kmod/probe/<name>.c with this
 * module's flags and defines HAVE_<NAME> in cpa_probe.h when it builds:
 *   HAVE_MNT_IDMAP            struct mnt_idmap for idmapped mounts (6.3)
 *   HAVE_RENAMEDATA           vfs_rename() takes a struct renamedata (5.12)
 *   HAVE_FILLDIR_BOOL         filldir_t returns bool (6.1)
 *   HAVE_TMPFILE_FILE         ->tmpfile() opens the struct file (6.1)
 *   HAVE_KERNEL_TMPFILE_OPEN  vfs_tmpfile_open() renamed (6.6)
 *   HAVE_VFS_MKDIR_DELEG      vfs_mkdir() and vfs_rmdir() take a
 *                             struct delegated_inode (directory delegations)
 *   HAVE_VFS_CREATE_DELEG     so do vfs_create(), which lost its directory,
 *                             vfs_mknod() and vfs_symlink()
 *   HAVE_SYSTEM_PERCPU_WQ     system_wq is called system_percpu_wq, and
 *                             the old name warns when work is queued on it
 *   HAVE_GET_ACL_RCU          ->get_acl() is told when it runs in RCU mode
 *                             (5.15)
 *   HAVE_GET_INODE_ACL        ACLs are no extended attributes: they have
 *                             inode operations of their own (6.2)
 *   HAVE_FILEATTR             inodes have ->fileattr_get/set (5.13)
 *   HAVE_FILE_KATTR           their struct fileattr is called file_kattr
 *   HAVE_FSNOTIFY_ALLOC_GROUP_FLAGS
 *                             fsnotify_alloc_group() takes flags (5.19;
 *                             Debian's 5.10 has it)
 * Macros that came with a change test for it as well (FMODE_CAN_ODIRECT,
 * COPY_FILE_SPLICE, FS_PRE_ACCESS, fs_param_can_be_empty,
 * AT_GETATTR_NOSEC).
 */
#ifndef _CPPAUFS_COMPAT_H
#define _CPPAUFS_COMPAT_H

#include <linux/version.h>
#include <linux/fs.h>
#include <linux/fs_parser.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/dcache.h>
#include <linux/splice.h>
#include <linux/fsnotify.h>
#include <linux/fsnotify_backend.h>
#include <linux/xattr.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include "cpa_probe.h"

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 10, 0)
#error "cppaufs needs Linux 5.10 or newer"
#endif

/*
 * Credentials need no shim: from 6.14 override_creds() takes no reference
 * to the credentials it puts in force, and revert_creds() drops none.
 * Before, the reference override_creds() took was dropped by the revert.
 * Code that puts in force credentials of its own (util.c) holds a
 * reference until they are reverted, which is right on every kernel.
 */

/* -- idmapped mounts ------------------------------------------------------ */

/*
 * 5.12 gave inode operations and the vfs_* helpers the user namespace of
 * the mount, 6.3 replaced it with struct mnt_idmap (probed).  The union is
 * never idmapped (no FS_ALLOW_IDMAP): its inode operations get the nop
 * mapping and ignore it; they declare it with CPA_IDMAP_PARAM, empty
 * before 5.12.  Namespace operations in branches pass the nop mapping
 * (CPA_IDMAP_ARG), calls that read or change attributes the branch
 * mount's own (CPA_PATH_IDMAP_ARG).
 */
#ifdef HAVE_MNT_IDMAP
#define cpa_idmap			mnt_idmap
#define CPA_NOP_IDMAP			(&nop_mnt_idmap)
#define cpa_mnt_idmap(mnt)		mnt_idmap(mnt)
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(5, 12, 0)
#define cpa_idmap			user_namespace
#define CPA_NOP_IDMAP			(&init_user_ns)
#define cpa_mnt_idmap(mnt)		mnt_user_ns(mnt)
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 12, 0)
#define CPA_IDMAP_PARAM			struct cpa_idmap *idmap,
#define CPA_IDMAP_ARG			CPA_NOP_IDMAP,
#define CPA_PATH_IDMAP_ARG(path)	cpa_mnt_idmap((path)->mnt),
#else
#define CPA_IDMAP_PARAM
#define CPA_IDMAP_ARG
#define CPA_PATH_IDMAP_ARG(path)
#endif

static inline int cpa_generic_permission(struct inode *inode, int mask)
{
	return generic_permission(CPA_IDMAP_ARG inode, mask);
}

static inline int cpa_setattr_prepare(struct dentry *dentry,
				      struct iattr *attr)
{
	return setattr_prepare(CPA_IDMAP_ARG dentry, attr);
}

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
 * vfs_rename() takes a struct renamedata from 5.12 (probed: Debian's 5.10
 * has it, without idmaps); 6.3 renamed its idmap fields and 6.17 made
 * them one, with the parent dentries instead of the directory inodes.
 * Caller holds cpa_start_renaming().
 */
static inline int cpa_vfs_rename(struct dentry *old_parent, struct dentry *old,
				 struct dentry *new_parent, struct dentry *new,
				 unsigned int flags)
{
#ifdef HAVE_RENAMEDATA
	struct renamedata rd = {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
		.mnt_idmap	= CPA_NOP_IDMAP,
		.old_parent	= old_parent,
		.new_parent	= new_parent,
#else
#if defined(HAVE_MNT_IDMAP)
		.old_mnt_idmap	= CPA_NOP_IDMAP,
		.new_mnt_idmap	= CPA_NOP_IDMAP,
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(5, 12, 0)
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
#else
	return vfs_rename(d_inode(old_parent), old, d_inode(new_parent), new,
			  NULL, flags);
#endif
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

/*
 * Copy file data: vfs_copy_file_range() clones or copies within a
 * filesystem; across filesystems, 5.19 and later splice with
 * COPY_FILE_SPLICE, 5.12 to 5.18 answer EXDEV and do_splice_direct() does
 * the copy, before 5.12 vfs_copy_file_range() splices itself.
 */
static inline ssize_t cpa_copy_file_range(struct file *src, struct file *dst,
					  loff_t pos, size_t len)
{
	ssize_t n = vfs_copy_file_range(src, pos, dst, pos, len, 0);

	if (n != -EXDEV && n != -EOPNOTSUPP && n != -EINVAL)
		return n;
#ifdef COPY_FILE_SPLICE
	return vfs_copy_file_range(src, pos, dst, pos, len, COPY_FILE_SPLICE);
#else
	{
		loff_t in = pos, out = pos;

		return do_splice_direct(src, &in, dst, &out, len, 0);
	}
#endif
}

/* -- O_TMPFILE ------------------------------------------------------------ */

/*
 * 6.1 (probed) had ->tmpfile() open the file it gets, and made the
 * kernel's tmpfile helper open one too (vfs_tmpfile_open(), called
 * kernel_tmpfile_open() from 6.6).  Before, ->tmpfile() got the dentry and
 * vfs_tmpfile() returned one.  CPA_TMPFILE_ARG is what ->tmpfile() gets.
 */
#ifdef HAVE_TMPFILE_FILE
#define CPA_TMPFILE_ARG		struct file *

static inline struct dentry *cpa_tmpfile_dentry(struct file *file)
{
	return file->f_path.dentry;
}

static inline int cpa_tmpfile_flags(struct file *file)
{
	return file->f_flags;
}

/* Give the unnamed union dentry its inode, and open the file. */
static inline int cpa_tmpfile_finish(struct file *file, struct inode *inode)
{
	d_tmpfile(file, inode);
	return finish_open_simple(file, 0);
}
#else
#define CPA_TMPFILE_ARG		struct dentry *

static inline struct dentry *cpa_tmpfile_dentry(struct dentry *dentry)
{
	return dentry;
}

/*
 * The open flags are not known: the branch file is always linkable, the
 * VFS decides whether the union file is.
 */
static inline int cpa_tmpfile_flags(struct dentry *dentry)
{
	return 0;
}

static inline int cpa_tmpfile_finish(struct dentry *dentry,
				     struct inode *inode)
{
	d_tmpfile(dentry, inode);
	return 0;
}
#endif

/*
 * An unnamed file in the branch directory @dir, created with the current
 * credentials; its dentry, referenced, or an ERR_PTR.
 */
static inline struct dentry *cpa_tmpfile_create(const struct path *dir,
						umode_t mode, int flags)
{
#ifdef HAVE_TMPFILE_FILE
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
#else
	return vfs_tmpfile(CPA_IDMAP_ARG dir->dentry, mode, flags);
#endif
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

/*
 * 6.1 (probed) made directory actors return true to go on, false to stop;
 * before they returned 0 to go on.
 */
#ifdef HAVE_FILLDIR_BOOL
#define CPA_FILLDIR_RET		bool
#define cpa_filldir_ret(more)	(more)
#else
#define CPA_FILLDIR_RET		int
#define cpa_filldir_ret(more)	((more) ? 0 : -ECANCELED)
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

/*
 * 6.14 gave ->d_revalidate the parent directory and the name, stable even
 * in RCU-walk; cpa_udba_revalidate() (udba.c) finds both in the dentry.
 */
int cpa_udba_revalidate(struct dentry *dentry, unsigned int flags);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
static inline int cpa_d_revalidate(struct inode *dir, const struct qstr *name,
				   struct dentry *dentry, unsigned int flags)
{
	return cpa_udba_revalidate(dentry, flags);
}
#else
static inline int cpa_d_revalidate(struct dentry *dentry, unsigned int flags)
{
	return cpa_udba_revalidate(dentry, flags);
}
#endif

/* 6.18 renamed generic_delete_inode() inode_just_drop(). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
#define cpa_drop_inode		inode_just_drop
#else
#define cpa_drop_inode		generic_delete_inode
#endif

/* The dentries of an inode: 7.x dropped the d_u union around d_alias. */
#ifdef for_each_alias
#define cpa_for_each_alias(dentry, inode)	for_each_alias(dentry, inode)
#else
#define cpa_for_each_alias(dentry, inode) \
	hlist_for_each_entry(dentry, &(inode)->i_dentry, d_u.d_alias)
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

/* 5.18 charges inodes to the memcg of their superblock's LRU. */
static inline void *cpa_alloc_inode_sb(struct super_block *sb,
				       struct kmem_cache *cache)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 18, 0)
	return alloc_inode_sb(sb, cache, GFP_KERNEL);
#else
	return kmem_cache_alloc(cache, GFP_KERNEL);
#endif
}

/*
 * 5.19 lets ->open grant O_DIRECT with FMODE_CAN_ODIRECT, as the branch
 * file has it.  Before, an O_DIRECT open checks the mapping's ->direct_IO:
 * union regular files get a no-op one, and opening the branch file makes
 * the real check.
 */
#ifdef FMODE_CAN_ODIRECT
static inline void cpa_file_odirect(struct file *file, const struct file *real)
{
	if (real->f_mode & FMODE_CAN_ODIRECT)
		file->f_mode |= FMODE_CAN_ODIRECT;
}

static inline void cpa_inode_odirect(struct inode *inode)
{
}
#else
static const struct address_space_operations cpa_odirect_aops __maybe_unused = {
	.direct_IO	= noop_direct_IO,
};

static inline void cpa_file_odirect(struct file *file, const struct file *real)
{
}

static inline void cpa_inode_odirect(struct inode *inode)
{
	inode->i_mapping->a_ops = &cpa_odirect_aops;
}
#endif

/* 6.0 keeps a file's kiocb flags in the file. */
static inline int cpa_file_iocb_flags(struct file *file)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 0, 0)
	return file->f_iocb_flags;
#else
	return iocb_flags(file);
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
 * mmap of the branch file @real through the union file @file: the mapping
 * takes the branch file.  6.17 renamed call_mmap() vfs_mmap(), which also
 * calls ->mmap_prepare() (6.16), all that ext4, xfs, btrfs and tmpfs have
 * from 6.17 on.  5.11 added vma_set_file(); before, mmap_region() drops
 * the union file when the call fails, so the reference to keep depends on
 * the outcome.
 */
static inline bool cpa_file_can_mmap(const struct file *real)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
	return real->f_op->mmap || real->f_op->mmap_prepare;
#else
	return real->f_op->mmap;
#endif
}

static inline int cpa_vma_mmap(struct file *file, struct file *real,
			       struct vm_area_struct *vma)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 11, 0)
	vma_set_file(vma, real);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
	return vfs_mmap(real, vma);
#else
	return call_mmap(real, vma);
#endif
#else
	int err;

	vma->vm_file = get_file(real);
	err = call_mmap(real, vma);
	fput(err ? real : file);
	return err;
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
 * POSIX ACLs.  Permission checks read the access ACL of a union inode
 * through ->get_acl(inode, type), called in RCU mode too from 5.15, which
 * says so in a third argument (probed), and renamed ->get_inode_acl() in
 * 6.2 (probed).  6.2 also took ACLs out of the extended attributes: they
 * are read and written with vfs_get_acl(), vfs_set_acl() and
 * vfs_remove_acl(), through the new ->get_acl(idmap, dentry, type) and
 * ->set_acl(idmap, dentry, acl, type); the xattr handlers never see them.
 * Before, the catch-all xattr handler passes them to the branch like any
 * other extended attribute.  CPA_ACL_IOPS are the ACL operations of the
 * union's inode_operations.
 */
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>

/* acl.c: the ACL of a union inode for a permission check. */
struct posix_acl *cpa_get_inode_acl(struct inode *inode, int type, bool rcu);

#if defined(HAVE_GET_INODE_ACL) || defined(HAVE_GET_ACL_RCU)
#define cpa_iop_get_inode_acl	cpa_get_inode_acl
#else
static inline struct posix_acl *cpa_iop_get_inode_acl(struct inode *inode,
						      int type)
{
	return cpa_get_inode_acl(inode, type, false);
}
#endif

#ifdef HAVE_GET_INODE_ACL
#define CPA_ACL_IOPS					\
	.get_inode_acl	= cpa_iop_get_inode_acl,	\
	.get_acl	= cpa_get_acl,			\
	.set_acl	= cpa_set_acl

static inline bool cpa_xattr_is_acl(const char *name)
{
	return is_posix_acl_xattr(name);
}

/* The ACL of the branch inode @inode, referenced, for a permission check. */
static inline struct posix_acl *cpa_real_inode_acl(struct inode *inode,
						   int type)
{
	return get_inode_acl(inode, type);
}

/*
 * The ACL of the branch object @path, referenced, NULL if it has none.
 * Through an idmapped branch mount, the entries are mapped as its owner
 * is: on a copy, the filesystem caches the original.
 */
static inline struct posix_acl *cpa_vfs_get_acl(const struct path *path,
						int type)
{
	struct cpa_idmap *idmap = cpa_mnt_idmap(path->mnt);
	struct user_namespace *fs_ns = i_user_ns(d_inode(path->dentry));
	struct posix_acl *acl, *copy;
	struct posix_acl_entry *pe, *end;

	acl = vfs_get_acl(idmap, path->dentry, posix_acl_xattr_name(type));
	if (IS_ERR(acl) && PTR_ERR(acl) == -ENODATA)
		return NULL;
	if (IS_ERR(acl) || !is_idmapped_mnt(path->mnt))
		return acl;
	copy = posix_acl_clone(acl, GFP_KERNEL);
	posix_acl_release(acl);
	if (!copy)
		return ERR_PTR(-ENOMEM);
	FOREACH_ACL_ENTRY(pe, copy, end) {
		if (pe->e_tag == ACL_USER)
			pe->e_uid = vfsuid_into_kuid(make_vfsuid(idmap, fs_ns,
								 pe->e_uid));
		else if (pe->e_tag == ACL_GROUP)
			pe->e_gid = vfsgid_into_kgid(make_vfsgid(idmap, fs_ns,
								 pe->e_gid));
	}
	return copy;
}

/* Set the ACL of the branch object @path, or remove it if @acl is NULL. */
static inline int cpa_vfs_set_acl(const struct path *path, int type,
				  struct posix_acl *acl)
{
	struct cpa_idmap *idmap = cpa_mnt_idmap(path->mnt);
	const char *name = posix_acl_xattr_name(type);

	if (!acl)
		return vfs_remove_acl(idmap, path->dentry, name);
	return vfs_set_acl(idmap, path->dentry, name, acl);
}

static inline int cpa_copy_acl(const struct path *from, const struct path *to,
			       const char *name)
{
	int type = posix_acl_type(name);
	struct posix_acl *acl;
	int err;

	acl = cpa_vfs_get_acl(from, type);
	if (IS_ERR(acl))
		return PTR_ERR(acl) == -EOPNOTSUPP ? 0 : PTR_ERR(acl);
	if (!acl)
		return 0;
	err = cpa_vfs_set_acl(to, type, acl);
	posix_acl_release(acl);
	return err == -EOPNOTSUPP ? 0 : err;
}
#else
#define CPA_ACL_IOPS					\
	.get_acl	= cpa_iop_get_inode_acl

static inline bool cpa_xattr_is_acl(const char *name)
{
	return false;
}

static inline struct posix_acl *cpa_real_inode_acl(struct inode *inode,
						   int type)
{
	return get_acl(inode, type);
}

/* Not called: ACLs are extended attributes, passed on by xattr.c. */
static inline struct posix_acl *cpa_vfs_get_acl(const struct path *path,
						int type)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline int cpa_vfs_set_acl(const struct path *path, int type,
				  struct posix_acl *acl)
{
	return -EOPNOTSUPP;
}

static inline int cpa_copy_acl(const struct path *from, const struct path *to,
			       const char *name)
{
	return 0;
}
#endif

/* -- inode flags (chattr, project ids) ----------------------------------- */

/*
 * 5.13 gave inodes ->fileattr_get() and ->fileattr_set(): the VFS serves
 * FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_IOC_FSGETXATTR and FS_IOC_FSSETXATTR
 * through them (probed), checking the caller against the union inode, and
 * the union passes the request on with vfs_fileattr_get/set().  6.17
 * renamed their struct fileattr file_kattr (probed).  Before 5.13 every
 * filesystem decoded those ioctls in its ->unlocked_ioctl: the union
 * forwards them to the branch file (ioctl.c).  CPA_FILEATTR_IOPS and
 * CPA_ATTR_IOCTL_FOPS put whichever the kernel calls into the operation
 * tables; the other one is built and not used.  ->unlocked_ioctl is there
 * on every kernel for FS_IOC_GETVERSION, the union inode's generation.
 */
#if defined(HAVE_FILE_KATTR)
#define cpa_fileattr			file_kattr
#elif defined(HAVE_FILEATTR)
#define cpa_fileattr			fileattr
#endif

#ifdef cpa_fileattr
#include <linux/fileattr.h>

#define CPA_FILEATTR_IOPS \
	.fileattr_get	= cpa_fileattr_get, \
	.fileattr_set	= cpa_fileattr_set,
#define CPA_ATTR_IOCTL_FOPS \
	.unlocked_ioctl	= cpa_ioctl, \
	.compat_ioctl	= cpa_compat_ioctl,

static inline int cpa_vfs_fileattr_get(const struct path *path,
				       struct cpa_fileattr *fa)
{
	return vfs_fileattr_get(path->dentry, fa);
}

static inline int cpa_vfs_fileattr_set(const struct path *path,
				       struct cpa_fileattr *fa)
{
	return vfs_fileattr_set(CPA_PATH_IDMAP_ARG(path) path->dentry, fa);
}
#else
struct cpa_fileattr;

#define CPA_FILEATTR_IOPS
#define CPA_ATTR_IOCTL_FOPS \
	.unlocked_ioctl	= cpa_ioctl, \
	.compat_ioctl	= cpa_compat_ioctl,

static inline int cpa_vfs_fileattr_get(const struct path *path,
				       struct cpa_fileattr *fa)
{
	return -ENOTTY;
}

static inline int cpa_vfs_fileattr_set(const struct path *path,
				       struct cpa_fileattr *fa)
{
	return -ENOTTY;
}
#endif

/* 5.12 checks the owner through the idmap of the mount. */
static inline bool cpa_inode_owner_or_capable(const struct inode *inode)
{
	return inode_owner_or_capable(CPA_IDMAP_ARG inode);
}

/* -- mount options and memory -------------------------------------------- */

/*
 * A string option whose empty value reaches the parser, to be refused with
 * a message of its own: 5.17 added fs_param_can_be_empty, before a type
 * function of our own lets the empty string through.
 */
#ifdef fs_param_can_be_empty
#define cpa_fsparam_string_empty(name, opt) \
	__fsparam(fs_param_is_string, name, opt, fs_param_can_be_empty, NULL)
#else
static inline int cpa_param_is_string(struct p_log *log,
				      const struct fs_parameter_spec *p,
				      struct fs_parameter *param,
				      struct fs_parse_result *result)
{
	if (param->type != fs_value_is_string)
		return inval_plog(log, "Bad value for '%s'", param->key);
	return 0;
}

#define cpa_fsparam_string_empty(name, opt) \
	__fsparam(cpa_param_is_string, name, opt, 0, NULL)
#endif

/* 5.11 added krealloc_array(). */
static inline void *cpa_krealloc_array(void *p, size_t n, size_t size,
				       gfp_t flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 11, 0)
	return krealloc_array(p, n, size, flags);
#else
	size_t bytes;

	if (unlikely(check_mul_overflow(n, size, &bytes)))
		return NULL;
	return krealloc(p, bytes, flags);
#endif
}

/*
 * 6.17 named the per-CPU system workqueue system_percpu_wq (probed); later
 * kernels warn when work is queued on it under its old name, system_wq.
 */
#ifdef HAVE_SYSTEM_PERCPU_WQ
#define cpa_system_wq		system_percpu_wq
#else
#define cpa_system_wq		system_wq
#endif

/*
 * 5.19 gave fsnotify_alloc_group() flags (probed: Debian's 5.10 has them,
 * Ubuntu's 5.15 and RHEL 9's 5.14 do not).  The union's group needs none:
 * its mark lock is never taken from reclaim (notify.c).
 */
static inline struct fsnotify_group *
cpa_fsnotify_alloc_group(const struct fsnotify_ops *ops)
{
#ifdef HAVE_FSNOTIFY_ALLOC_GROUP_FLAGS
	return fsnotify_alloc_group(ops, 0);
#else
	return fsnotify_alloc_group(ops);
#endif
}

/* 5.11 moved the SHA-2 library from <crypto/sha.h> to <crypto/sha2.h>. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 11, 0)
#include <crypto/sha2.h>
#else
#include <crypto/sha.h>
#endif

#endif /* _CPPAUFS_COMPAT_H */
