// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: regular files.  A union file forwards every call to a file of
 * the branch filesystem, opened when the union file is opened.
 */
#include <linux/uio.h>
#include <linux/mm.h>
#include <linux/fs.h>
#include <linux/fsnotify.h>
#include "cppaufs.h"

/*
 * What the caller asked of one read, as opposed to how the file was opened
 * (the branch file's own f_iocb_flags say that).  IOCB_NOWAIT never comes:
 * the union file does not offer FMODE_NOWAIT.
 */
#define CPA_IOCB_PASSED	(IOCB_HIPRI | IOCB_DSYNC | IOCB_SYNC)

/*
 * An open union file: the branch file it forwards to, and the branch,
 * whose count of open files keeps it from being removed (brops.c).
 */
struct cpa_file {
	struct file *real;
	struct cpa_branch *br;	/* referenced */
};

static struct file *cpa_file_real(const struct file *file)
{
	return ((struct cpa_file *)file->private_data)->real;
}

static int cpa_open(struct inode *inode, struct file *file)
{
	CPA_BRANCHES_GUARD(inode->i_sb);
	CPA_ENTRIES_GUARD();
	struct super_block *sb = inode->i_sb;
	int flags = file->f_flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC);
	const struct cred *old;
	struct cpa_branch *br;
	struct path realpath;
	struct cpa_file *cf;
	struct file *real;

	if (!(file->f_mode & FMODE_WRITE)) {
		int err = cpa_plink_sync(file_dentry(file));

		if (err)
			return err;
	}
	if ((file->f_mode & FMODE_WRITE) || (file->f_flags & O_TRUNC)) {
		struct dentry *dentry = file_dentry(file);
		int err = -EROFS;

		/* Truncating: no need to copy the data first. */
		if (cpa_sb_writable(sb))
			err = cpa_copy_up_len(dentry, (file->f_flags & O_TRUNC) ?
					      0 : -1);
		else if (cpa_branch_writable(cpa_dentry_br(dentry)))
			err = 0;
		if (err)
			return err;
	}
	cf = kmalloc(sizeof(*cf), GFP_KERNEL);
	if (!cf)
		return -ENOMEM;
	/* A metadata-only copy is read from below; writers copied its data. */
	br = cpa_path_data(file_dentry(file), &realpath);

	old = cpa_override_creds(sb);
	real = cpa_do_open(&realpath, flags, current_cred());
	cpa_revert_creds(old);
	if (IS_ERR(real)) {
		kfree(cf);
		return PTR_ERR(real);
	}

	cf->real = real;
	cf->br = cpa_branch_get(br);
	atomic_inc(&br->nfiles);
	file->private_data = cf;
	cpa_file_odirect(file, real);
	return 0;
}

static int cpa_release(struct inode *inode, struct file *file)
{
	struct cpa_file *cf = file->private_data;

	atomic_dec(&cf->br->nfiles);
	cpa_branch_put(cf->br);
	fput(cf->real);
	kfree(cf);
	return 0;
}

static rwf_t cpa_iocb_to_rwf(int ifl)
{
	rwf_t flags = 0;

	if (ifl & IOCB_NOWAIT)
		flags |= RWF_NOWAIT;
	if (ifl & IOCB_HIPRI)
		flags |= RWF_HIPRI;
	if (ifl & IOCB_DSYNC)
		flags |= RWF_DSYNC;
	if (ifl & IOCB_SYNC)
		flags |= RWF_SYNC;
	return flags;
}

/*
 * A branch file whose watchers need what only vfs_iter_read() can send
 * them (compat.h) is read through it, with the mounter's credentials.
 */
static ssize_t cpa_read_vfs(struct kiocb *iocb, struct file *real,
			    struct iov_iter *iter)
{
	const struct cred *old;
	ssize_t ret;

	old = cpa_override_creds(file_inode(iocb->ki_filp)->i_sb);
	ret = vfs_iter_read(real, iter, &iocb->ki_pos,
			    cpa_iocb_to_rwf(iocb->ki_flags & CPA_IOCB_PASSED));
	cpa_revert_creds(old);
	return ret;
}

/*
 * Reads go straight to the branch filesystem's read_iter.  The VFS has
 * already checked this read against the union file (range, LSM, fanotify)
 * and the branch file was opened with the mounter's credentials; what is
 * left of vfs_iter_read() is the watchers of the branch file.  Its second
 * rw_verify_area(), with the LSM checked again on the branch file under the
 * caller's credentials, made a 4 KiB read from the page cache 12% slower.
 */
static ssize_t cpa_read_iter(struct kiocb *iocb, struct iov_iter *iter)
{
	struct file *real = cpa_file_real(iocb->ki_filp);
	size_t count = iov_iter_count(iter);
	struct kiocb kiocb;
	ssize_t ret;

	if (!count)
		return 0;
	if (unlikely(!real->f_op->read_iter))
		return -EINVAL;
	if (unlikely(cpa_read_through_vfs(real)))
		return cpa_read_vfs(iocb, real, iter);
	ret = cpa_fsnotify_read_perm(real, &iocb->ki_pos, count);
	if (ret)
		return ret;

	kiocb_clone(&kiocb, iocb, real);
	kiocb.ki_flags = cpa_file_iocb_flags(real) |
			 (iocb->ki_flags & CPA_IOCB_PASSED);
	ret = real->f_op->read_iter(&kiocb, iter);
	iocb->ki_pos = kiocb.ki_pos;
	if (ret > 0)
		fsnotify_access(real);
	return ret;
}

static ssize_t cpa_write_iter(struct kiocb *iocb, struct iov_iter *iter)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	struct file *real = cpa_file_real(file);
	ssize_t ret;

	if (!iov_iter_count(iter))
		return 0;

	/* Serialise with other writers so that the copied size is right. */
	inode_lock(inode);
	ret = cpa_iter_write(real, iter, &iocb->ki_pos,
			     cpa_iocb_to_rwf(iocb->ki_flags));
	cpa_copyattr(inode);
	inode_unlock(inode);
	return ret;
}

static int cpa_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct file *real = cpa_file_real(file);
	const struct cred *old;
	int err;

	/* ->mmap, or ->mmap_prepare where vfs_mmap() calls it (compat.h). */
	if (!cpa_file_can_mmap(real))
		return -ENODEV;
	if (WARN_ON(file != vma->vm_file))
		return -EIO;

	/* The mapping keeps the branch busy after the file is closed. */
	err = cpa_branch_mapped_add(((struct cpa_file *)file->private_data)->br,
				    file_inode(real));
	if (err)
		return err;
	/* The mapping belongs to the branch file from now on. */
	old = cpa_override_creds(file_inode(file)->i_sb);
	err = cpa_vma_mmap(file, real, vma);
	cpa_revert_creds(old);
	return err;
}

/* Seeking, SEEK_DATA and SEEK_HOLE included, is the branch file's. */
static loff_t cpa_llseek(struct file *file, loff_t offset, int whence)
{
	struct file *real = cpa_file_real(file);
	struct inode *inode = file_inode(file);
	loff_t ret;

	/* Fast path: nothing the branch filesystem needs to know. */
	if ((whence == SEEK_CUR && offset == 0) ||
	    (whence == SEEK_SET && offset == file->f_pos))
		return file->f_pos;

	inode_lock(inode);
	real->f_pos = file->f_pos;
	ret = vfs_llseek(real, offset, whence);
	file->f_pos = real->f_pos;
	inode_unlock(inode);
	return ret;
}

static int cpa_fsync(struct file *file, loff_t start, loff_t end,
		     int datasync)
{
	int err;

	err = vfs_fsync_range(cpa_file_real(file), start, end, datasync);
	if (err)
		return err;
	/* The file's union inode number is as durable as its data. */
	return cpa_xino_fsync(file_inode(file)->i_sb);
}

static long cpa_fallocate(struct file *file, int mode, loff_t offset,
			  loff_t len)
{
	long ret = vfs_fallocate(cpa_file_real(file), mode, offset, len);

	cpa_copyattr(file_inode(file));
	return ret;
}

static int cpa_fadvise(struct file *file, loff_t offset, loff_t len,
		       int advice)
{
	return vfs_fadvise(cpa_file_real(file), offset, len, advice);
}

const struct file_operations cpa_file_fops = {
	.open		= cpa_open,
	.release	= cpa_release,
	.llseek		= cpa_llseek,
	.read_iter	= cpa_read_iter,
	.write_iter	= cpa_write_iter,
	.mmap		= cpa_mmap,
	.fsync		= cpa_fsync,
	.fadvise	= cpa_fadvise,
	.fallocate	= cpa_fallocate,
	.splice_read	= cpa_splice_read,
	.splice_write	= iter_file_splice_write,
	CPA_ATTR_IOCTL_FOPS
};
