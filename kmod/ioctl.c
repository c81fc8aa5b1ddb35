// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: inode flags and extents.
 *
 * Inode flags (lsattr/chattr: FS_IOC_GETFLAGS, FS_IOC_SETFLAGS) and the
 * attributes of struct fsxattr (FS_IOC_FSGETXATTR, FS_IOC_FSSETXATTR:
 * xflags, project id, extent size hints) are those of the topmost object.
 * Changing them copies a lower object up first, data included: a copy
 * holding metadata only could not get its data once it is immutable or
 * append-only.  The caller is checked against the union inode, as the VFS
 * checks it against a branch inode (owner, CAP_LINUX_IMMUTABLE, project
 * ids outside the initial user namespace), before anything is copied.
 *
 * The union inode mirrors the flags that the VFS enforces itself
 * (immutable, append-only, sync): what the branch refuses, the union
 * refuses before calling it.
 *
 * FIEMAP reports the extents of the file that holds the data, which is a
 * lower one under a metadata-only copy (metacopy.c).
 */
#include <linux/compat.h>
#include <linux/uaccess.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include "cppaufs.h"

/* Flags of the backing inode that the union inode takes over. */
#define CPA_COPY_I_FLAGS	(S_SYNC | S_APPEND | S_IMMUTABLE)

/* Only a holder of CAP_LINUX_IMMUTABLE may change these. */
#define CPA_PROT_FS_FLAGS	(FS_APPEND_FL | FS_IMMUTABLE_FL)

void cpa_copyflags(struct inode *inode, const struct inode *real)
{
	inode_set_flags(inode, real->i_flags & CPA_COPY_I_FLAGS,
			CPA_COPY_I_FLAGS);
}

/*
 * The object whose flags @dentry shows.  Another name of a hard-linked
 * file may have been copied up meanwhile: this one follows it first, as
 * getattr does.
 */
static int cpa_attr_path(struct dentry *dentry, struct path *path)
{
	int err = cpa_plink_sync(dentry);

	if (!err)
		cpa_path_real(dentry, path);
	return err;
}

/* Calls into branches, traced like those of cppaufs.h. */
static int cpa_do_fileattr_get(const struct path *path,
			       struct cpa_fileattr *fa)
{
	int err = cpa_vfs_fileattr_get(path, fa);

	pr_debug("fileattr_get(%pd2) = %i\n", path->dentry, err);
	return err;
}

static int cpa_do_fileattr_set(const struct path *path,
			       struct cpa_fileattr *fa)
{
	int err = cpa_vfs_fileattr_set(path, fa);

	pr_debug("fileattr_set(%pd2) = %i\n", path->dentry, err);
	return err;
}

/* A branch that knows no flags answers as the VFS does for it. */
static int cpa_attr_err(int err)
{
	return err == -ENOIOCTLCMD ? -ENOTTY : err;
}

/* ->fileattr_get (5.13 and later, compat.h). */
int cpa_fileattr_get(struct dentry *dentry, struct cpa_fileattr *fa)
{
	CPA_ENTRIES_GUARD();
	const struct cred *old;
	struct path realpath;
	int err;

	err = cpa_attr_path(dentry, &realpath);
	if (err)
		return err;
	old = cpa_override_creds(dentry->d_sb);
	err = cpa_do_fileattr_get(&realpath, fa);
	cpa_revert_creds(old);
	return cpa_attr_err(err);
}

/*
 * ->fileattr_set (5.13 and later).  vfs_fileattr_set() has checked the
 * caller against the union inode, with its flags as read by
 * cpa_fileattr_get(), and holds its lock; the branch is called with the
 * mounter's credentials.
 */
int cpa_fileattr_set(CPA_IDMAP_PARAM struct dentry *dentry,
		     struct cpa_fileattr *fa)
{
	CPA_BRANCHES_GUARD(dentry->d_sb);
	CPA_ENTRIES_GUARD();
	const struct cred *old;
	struct path realpath;
	int err;

	err = cpa_copy_up_to_change(dentry, false);
	if (err)
		return err;
	cpa_path_real(dentry, &realpath);
	err = mnt_want_write(realpath.mnt);
	if (err)
		return err;
	old = cpa_override_creds(dentry->d_sb);
	err = cpa_do_fileattr_set(&realpath, fa);
	cpa_revert_creds(old);
	mnt_drop_write(realpath.mnt);
	/* The flags, and the ctime. */
	cpa_copyattr(d_inode(dentry));
	return cpa_attr_err(err);
}

/*
 * ->fiemap: the extents of the file holding the data.  Every name of the
 * inode has the same data, so any one tells where it is.
 */
int cpa_fiemap(struct inode *inode, struct fiemap_extent_info *fieinfo,
	       u64 start, u64 len)
{
	CPA_ENTRIES_GUARD();
	struct dentry *alias = d_find_any_alias(inode);
	const struct cred *old;
	struct inode *real;
	struct path data;
	int err;

	if (!alias)
		return -ESTALE;
	cpa_path_data(alias, &data);
	real = d_inode(data.dentry);
	err = -EOPNOTSUPP;
	if (real->i_op->fiemap) {
		old = cpa_override_creds(inode->i_sb);
		err = real->i_op->fiemap(real, fieinfo, start, len);
		cpa_revert_creds(old);
	}
	pr_debug("fiemap(%pd2) = %i\n", data.dentry, err);
	dput(alias);
	return err;
}

/*
 * Before 5.13 (compat.h) the VFS leaves these ioctls to the filesystem:
 * the union forwards them to a branch file of the object, opened with the
 * mounter's credentials.  The branch runs the ioctl with the caller's:
 * it reads the argument from user memory again, and checks the caller
 * against what it reads (owner, CAP_LINUX_IMMUTABLE, project ids), so a
 * value changed after the union's own check gains nothing.
 */
static long cpa_ioctl_real(struct dentry *dentry, unsigned int cmd,
			   unsigned long arg)
{
	const struct cred *old;
	struct path realpath;
	struct file *real;
	long ret;

	ret = cpa_attr_path(dentry, &realpath);
	if (ret)
		return ret;
	old = cpa_override_creds(dentry->d_sb);
	real = cpa_do_open(&realpath, O_RDONLY | O_LARGEFILE, current_cred());
	cpa_revert_creds(old);
	if (IS_ERR(real))
		return PTR_ERR(real);
	ret = -ENOTTY;
	if (real->f_op->unlocked_ioctl)
		ret = real->f_op->unlocked_ioctl(real, cmd, arg);
	pr_debug("ioctl(%pd2, 0x%x) = %li\n", realpath.dentry, cmd, ret);
	fput(real);
	return cpa_attr_err(ret);
}

/* The protected flags the union inode has now. */
static unsigned int cpa_prot_flags(const struct inode *inode)
{
	unsigned int flags = 0;

	if (IS_APPEND(inode))
		flags |= FS_APPEND_FL;
	if (IS_IMMUTABLE(inode))
		flags |= FS_IMMUTABLE_FL;
	return flags;
}

/* The protected flags a SETFLAGS or FSSETXATTR request asks for. */
static int cpa_ioctl_prot_flags(unsigned int cmd, unsigned long arg,
				unsigned int *flags)
{
	struct fsxattr fsx;

	if (cmd == FS_IOC_SETFLAGS) {
		if (get_user(*flags, (unsigned int __user *)arg))
			return -EFAULT;
		*flags &= CPA_PROT_FS_FLAGS;
		return 0;
	}
	if (copy_from_user(&fsx, (void __user *)arg, sizeof(fsx)))
		return -EFAULT;
	*flags = 0;
	if (fsx.fsx_xflags & FS_XFLAG_APPEND)
		*flags |= FS_APPEND_FL;
	if (fsx.fsx_xflags & FS_XFLAG_IMMUTABLE)
		*flags |= FS_IMMUTABLE_FL;
	return 0;
}

/*
 * The change of flags itself, under the inode's lock: changes of branches
 * are held off inside it, as for ->fileattr_set.
 */
static long cpa_ioctl_set_locked(struct dentry *dentry, unsigned int cmd,
				 unsigned long arg, unsigned int flags)
{
	CPA_BRANCHES_GUARD(dentry->d_sb);
	struct inode *inode = d_inode(dentry);
	long ret;

	if ((flags ^ cpa_prot_flags(inode)) && !capable(CAP_LINUX_IMMUTABLE))
		return -EPERM;
	ret = cpa_copy_up_to_change(dentry, false);
	if (!ret) {
		ret = cpa_ioctl_real(dentry, cmd, arg);
		cpa_copyattr(inode);
	}
	return ret;
}

/*
 * FS_IOC_SETFLAGS, FS_IOC_FSSETXATTR: the caller must own the file, and
 * have CAP_LINUX_IMMUTABLE to change the protected flags, before the
 * object is copied up.
 */
static long cpa_ioctl_set(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct dentry *dentry = file_dentry(file);
	struct inode *inode = file_inode(file);
	unsigned int flags;
	long ret;

	/* A branch without ioctls (tmpfs) answers so, and gets no copy-up. */
	if (!d_inode(cpa_dentry_real(dentry))->i_fop->unlocked_ioctl)
		return -ENOTTY;
	if (!cpa_inode_owner_or_capable(inode))
		return -EPERM;
	ret = cpa_ioctl_prot_flags(cmd, arg, &flags);
	if (ret)
		return ret;
	ret = mnt_want_write_file(file);
	if (ret)
		return ret;
	inode_lock(inode);
	ret = cpa_ioctl_set_locked(dentry, cmd, arg, flags);
	inode_unlock(inode);
	mnt_drop_write_file(file);
	return ret;
}

/*
 * ->unlocked_ioctl: the flags before 5.13 (from 5.13 the VFS serves them
 * through ->fileattr_get/set and never calls this for them), and the
 * generation.
 */
long cpa_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	CPA_ENTRIES_GUARD();
	switch (cmd) {
	case FS_IOC_GETFLAGS:
	case FS_IOC_FSGETXATTR:
		return cpa_ioctl_real(file_dentry(file), cmd, arg);
	case FS_IOC_SETFLAGS:
	case FS_IOC_FSSETXATTR:
		return cpa_ioctl_set(file, cmd, arg);
	case FS_IOC_GETVERSION:
		/* The union inode's, from xino: not the branch inode's. */
		return put_user(file_inode(file)->i_generation,
				(int __user *)arg);
	default:
		return -ENOTTY;
	}
}

/*
 * ->compat_ioctl: the flags and the generation are an int either way,
 * struct fsxattr has the same layout.
 */
long cpa_compat_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (cmd == FS_IOC32_GETFLAGS)
		cmd = FS_IOC_GETFLAGS;
	else if (cmd == FS_IOC32_SETFLAGS)
		cmd = FS_IOC_SETFLAGS;
	else if (cmd == FS_IOC32_GETVERSION)
		cmd = FS_IOC_GETVERSION;
	return cpa_ioctl(file, cmd, (unsigned long)compat_ptr(arg));
}
