/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cppaufs: the one place that knows which kernel it is built for.
 *
 * Everything else uses the newest spelling of an API; each shim below names
 * the release that changed it.  Supported: 6.1 LTS up to 6.12 LTS.
 */
#ifndef _CPPAUFS_COMPAT_H
#define _CPPAUFS_COMPAT_H

#include <linux/version.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/splice.h>
#include <linux/fsnotify.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "cppaufs needs Linux 6.1 or newer"
#endif

/*
 * 6.3 replaced the user namespace of a mount with struct mnt_idmap in every
 * inode operation and vfs_* helper.  Code writes "struct cpa_idmap *".
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define cpa_idmap		mnt_idmap
#define CPA_NOP_IDMAP		(&nop_mnt_idmap)
#define cpa_mnt_idmap(mnt)	mnt_idmap(mnt)
#else
#define cpa_idmap		user_namespace
#define CPA_NOP_IDMAP		(&init_user_ns)
#define cpa_mnt_idmap(mnt)	mnt_user_ns(mnt)
#endif

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
 * 6.5 removed generic_file_splice_read(); copy_splice_read() reads through
 * ->read_iter the same way.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define cpa_splice_read		copy_splice_read
#else
#define cpa_splice_read		generic_file_splice_read
#endif

/*
 * 6.2 moved POSIX ACLs out of the xattr handlers into ->get_acl and
 * ->set_acl; before that the catch-all xattr handler saw them too.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define CPA_HAVE_ACL_IOPS	1
#else
#define CPA_HAVE_ACL_IOPS	0
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

/* 6.6 renamed vfs_tmpfile_open() to kernel_tmpfile_open(). */
static inline struct file *cpa_tmpfile_open(const struct path *dir,
					    umode_t mode, int flags,
					    const struct cred *cred)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	return kernel_tmpfile_open(CPA_NOP_IDMAP, dir, mode, flags, cred);
#else
	return vfs_tmpfile_open(CPA_NOP_IDMAP, dir, mode, flags, cred);
#endif
}

/* 6.3 renamed the idmap fields of struct renamedata. */
static inline int cpa_vfs_rename(struct inode *olddir, struct dentry *old,
				 struct inode *newdir, struct dentry *new,
				 unsigned int flags)
{
	struct renamedata rd = {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
		.old_mnt_idmap	= CPA_NOP_IDMAP,
		.new_mnt_idmap	= CPA_NOP_IDMAP,
#else
		.old_mnt_userns	= CPA_NOP_IDMAP,
		.new_mnt_userns	= CPA_NOP_IDMAP,
#endif
		.old_dir	= olddir,
		.old_dentry	= old,
		.new_dir	= newdir,
		.new_dentry	= new,
		.flags		= flags,
	};

	return vfs_rename(&rd);
}

/*
 * POSIX ACLs: from 6.2 they are read and written with vfs_get_acl() and
 * vfs_set_acl(), not as extended attributes.
 */
#if CPA_HAVE_ACL_IOPS
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

/*
 * 6.8 took the fanotify access-permission event out of
 * security_file_permission() and gave rw_verify_area() its own call.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
static inline int cpa_fsnotify_read_perm(struct file *file, loff_t *ppos,
					 size_t count)
{
	return fsnotify_file_area_perm(file, MAY_READ, ppos, count);
}
#else
static inline int cpa_fsnotify_read_perm(struct file *file, loff_t *ppos,
					 size_t count)
{
	return fsnotify_perm(file, MAY_READ);
}
#endif

#endif /* _CPPAUFS_COMPAT_H */
