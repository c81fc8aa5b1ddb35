// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: copy-up.  Before an object that lives on a lower branch is
 * changed, it is copied to the writable top branch (branch 0), parents
 * first.  The copy is built under a temporary name in the branch's internal
 * directory (.wh..wh.orph): data, then extended attributes, then owner, mode
 * and times; only then is it renamed into place, so a failure or a crash
 * never leaves a partial object visible.  Lower branches are never written.
 */
#include <linux/slab.h>
#include <linux/xattr.h>
#include <linux/sched/signal.h>
#include <linux/dcache.h>
#include "cppaufs.h"

/* Largest piece copied at once; copy-up stops between pieces on a signal. */
#define CPA_COPY_CHUNK		(8 << 20)

/*
 * Does @inode have a block for every byte of its first @len?  Then it has
 * no holes worth looking for.  SEEK_HOLE walks what is allocated (every
 * page of a tmpfs file), which costs more than the copy saves when there
 * is nothing to skip.  A file with blocks preallocated past its end may
 * pass with a hole inside: its copy then holds zeros there, not a hole.
 */
static bool cpa_dense(const struct inode *inode, loff_t len)
{
	return (u64)inode->i_blocks << 9 >= (u64)len;
}

/*
 * The next run of data of @src at or after @pos, below @len: [*data, *hole).
 * False when only a hole is left.
 */
static bool cpa_next_data(struct file *src, loff_t pos, loff_t len,
			  loff_t *data, loff_t *hole)
{
	*data = vfs_llseek(src, pos, SEEK_DATA);
	if (*data == -ENXIO)
		return false;
	if (*data < 0)
		*data = pos;	/* no SEEK_DATA: copy everything */
	if (*data >= len)
		return false;
	*hole = vfs_llseek(src, *data, SEEK_HOLE);
	if (*hole < 0 || *hole > len)
		*hole = len;
	return true;
}

/* Copy the first @len bytes of @src to @dst, leaving holes as holes. */
static int cpa_copy_data(struct file *src, struct file *dst, loff_t len)
{
	bool dense = cpa_dense(file_inode(src), len);
	loff_t pos = 0, data = 0, hole = len;
	ssize_t n;

	while (pos < len) {
		if (!dense && !cpa_next_data(src, pos, len, &data, &hole))
			break;
		for (pos = data; pos < hole; pos += n) {
			if (fatal_signal_pending(current))
				return -EINTR;
			/* Across filesystems it splices (compat.h). */
			n = cpa_copy_file_range(src, dst, pos,
						min_t(loff_t, hole - pos,
						      CPA_COPY_CHUNK));
			if (n < 0)
				return n;
			if (n == 0)	/* the lower file shrank */
				return 0;
			cond_resched();
		}
	}
	return 0;
}

/* Called with write access to @tmp's mount (mnt_want_write). */
static int cpa_copy_file(const struct path *lower, const struct path *tmp,
			 loff_t len)
{
	struct file *src, *dst;
	int err;

	src = cpa_do_open(lower, O_RDONLY | O_LARGEFILE, current_cred());
	if (IS_ERR(src))
		return PTR_ERR(src);
	dst = cpa_do_open(tmp, O_WRONLY | O_LARGEFILE, current_cred());
	if (IS_ERR(dst)) {
		err = PTR_ERR(dst);
		goto out_src;
	}
	/*
	 * The caller holds write access to branch 0, the filesystem's freeze
	 * protection included, and copying takes that protection again
	 * (file_start_write): a freeze between the two would wait for the
	 * first while the second waits for the freeze.  The copy goes without
	 * the caller's; the open @dst keeps the mount writable.
	 */
	sb_end_write(tmp->mnt->mnt_sb);
	err = cpa_copy_data(src, dst, len);
	/*
	 * The data is on disk before the name can be.  Without data there is
	 * nothing to wait for (a journal commit per empty file, otherwise).
	 */
	if (!err && len)
		err = vfs_fsync(dst, 0);
	sb_start_write(tmp->mnt->mnt_sb);
	fput(dst);
out_src:
	fput(src);
	return err;
}

/* Copy every extended attribute the upper filesystem accepts. */
static int cpa_copy_xattrs(const struct path *lower, const struct path *tmp)
{
	ssize_t list_size, size, vsize = 0;
	char *list, *name, *value = NULL;
	int err = 0;

	list_size = cpa_do_listxattr(lower->dentry, NULL, 0);
	if (list_size <= 0)
		return list_size == -EOPNOTSUPP ? 0 : list_size;
	list = kvzalloc(list_size, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	list_size = cpa_do_listxattr(lower->dentry, list, list_size);
	if (list_size < 0) {
		err = list_size;
		goto out;
	}

	for (name = list; name < list + list_size; name += strlen(name) + 1) {
		/* The union's own marks are set by the union alone. */
		if (cpa_xattr_is_private(name))
			continue;
		if (cpa_xattr_is_acl(name)) {
			err = cpa_copy_acl(lower, tmp, name);
			if (err)
				break;
			continue;
		}
		size = cpa_do_getxattr(lower, name, NULL, 0);
		if (size == -ENODATA || size == -EOPNOTSUPP)
			continue;
		if (size < 0) {
			err = size;
			break;
		}
		if (size > vsize) {
			kvfree(value);
			value = kvmalloc(size, GFP_KERNEL);
			vsize = value ? size : 0;
			if (!value) {
				err = -ENOMEM;
				break;
			}
		}
		size = cpa_do_getxattr(lower, name, value, size);
		if (size < 0) {
			err = size == -ENODATA ? 0 : size;
			if (err)
				break;
			continue;
		}
		err = cpa_do_setxattr(tmp, name, value, size, 0);
		/* Namespaces the upper fs does not have are not copied. */
		if (err == -EOPNOTSUPP || err == -EPERM)
			err = 0;
		if (err)
			break;
	}
out:
	kvfree(value);
	kvfree(list);
	return err;
}

/* A trailing hole is not copied: the size says where the file ends. */
static int cpa_set_size(const struct path *tmp, loff_t len)
{
	struct inode *inode = d_inode(tmp->dentry);
	struct iattr attr = {
		.ia_valid = ATTR_SIZE,
		.ia_size = len,
	};
	int err;

	if (i_size_read(inode) == len)
		return 0;
	inode_lock(inode);
	err = cpa_do_notify_change(tmp, &attr);
	inode_unlock(inode);
	return err;
}

/* Owner, then mode (chown clears set-id bits), then times. */
static int cpa_copy_attrs(const struct path *tmp, const struct kstat *st)
{
	struct inode *inode = d_inode(tmp->dentry);
	struct iattr attr = {
		.ia_valid = ATTR_UID | ATTR_GID,
		.ia_uid = st->uid,
		.ia_gid = st->gid,
	};
	int err;

	inode_lock(inode);
	err = cpa_do_notify_change(tmp, &attr);
	if (!err && !S_ISLNK(st->mode)) {
		attr.ia_valid = ATTR_MODE;
		attr.ia_mode = st->mode;
		err = cpa_do_notify_change(tmp, &attr);
	}
	if (!err) {
		attr.ia_valid = ATTR_ATIME | ATTR_MTIME | ATTR_ATIME_SET |
				ATTR_MTIME_SET;
		attr.ia_atime = st->atime;
		attr.ia_mtime = st->mtime;
		err = cpa_do_notify_change(tmp, &attr);
	}
	inode_unlock(inode);
	return err;
}

/*
 * Make the object of @st at the negative dentry @*tmp of the work
 * directory, locked by the caller.  mkdir may replace @*tmp with the
 * dentry of the new directory, and drops it on failure (*tmp is NULL then).
 */
static int cpa_make_tmp(struct dentry *workdir, struct dentry **tmp,
			const struct path *lower, const struct kstat *st)
{
	struct inode *wdir = d_inode(workdir);
	DEFINE_DELAYED_CALL(done);
	struct dentry *d;
	const char *link;
	int err;

	switch (st->mode & S_IFMT) {
	case S_IFREG:
		return cpa_do_create(wdir, *tmp, S_IFREG | 0600);
	case S_IFDIR:
		d = cpa_do_mkdir(wdir, *tmp, 0700);
		*tmp = IS_ERR(d) ? NULL : d;
		return PTR_ERR_OR_ZERO(d);
	case S_IFLNK:
		link = vfs_get_link(lower->dentry, &done);
		if (IS_ERR(link))
			return PTR_ERR(link);
		err = cpa_do_symlink(wdir, *tmp, link);
		do_delayed_call(&done);
		return err;
	default:
		return cpa_do_mknod(wdir, *tmp, st->mode, st->rdev);
	}
}

static void cpa_remove_tmp(struct dentry *workdir, struct dentry *tmp)
{
	struct inode *wdir = d_inode(workdir);
	int err;

	inode_lock_nested(wdir, I_MUTEX_PARENT);
	if (tmp->d_parent == workdir && d_is_positive(tmp)) {
		if (d_is_dir(tmp))
			err = cpa_do_rmdir(wdir, tmp);
		else
			err = cpa_do_unlink(wdir, tmp);
		if (err)
			pr_warn("cannot remove %pd from the work directory (%d)\n",
				tmp, err);
	}
	inode_unlock(wdir);
}

/*
 * The data of a regular file: its first @len bytes, or, if @*meta, none
 * but the size and the metacopy mark.  A branch 0 filesystem that cannot
 * keep the mark gets the data; @*meta says what was done.
 */
static int cpa_copy_tmp_data(const struct path *data, const struct path *tmp,
			     const struct kstat *st, loff_t len, bool *meta)
{
	int err;

	if (*meta) {
		err = cpa_metacopy_mark(tmp);
		if (!err)
			return cpa_set_size(tmp, st->size);
		if (err != -EOPNOTSUPP && err != -EPERM)
			return err;
		*meta = false;
		len = st->size;
	}
	err = cpa_copy_file(data, tmp, len);
	if (!err)
		err = cpa_set_size(tmp, len);
	return err;
}

/*
 * Build a copy of @lower in the work directory, with the data of @data
 * (@lower itself unless @lower holds metadata only).  Returns the new
 * dentry, referenced, or an ERR_PTR; a failed copy is removed again.
 */
static struct dentry *cpa_copy_tmp(struct super_block *sb,
				   const struct path *lower,
				   const struct path *data,
				   const struct kstat *st, loff_t len,
				   bool *meta)
{
	struct cpa_sb_info *sbi = CPA_SB(sb);
	struct dentry *workdir = sbi->workdir;
	struct path tmp = { .mnt = sbi->top->path.mnt };
	char name[32];
	int err;

	if (len < 0 || len > st->size)
		len = st->size;
	snprintf(name, sizeof(name), "#%x", atomic_inc_return(&sbi->tmp_seq));
	inode_lock_nested(d_inode(workdir), I_MUTEX_PARENT);
	tmp.dentry = cpa_do_lookup_locked(workdir, name, strlen(name));
	if (IS_ERR(tmp.dentry)) {
		inode_unlock(d_inode(workdir));
		return tmp.dentry;
	}
	err = d_is_positive(tmp.dentry) ? -EEXIST :
	      cpa_make_tmp(workdir, &tmp.dentry, lower, st);
	inode_unlock(d_inode(workdir));
	if (err)
		goto out_dput;

	if (S_ISREG(st->mode))
		err = cpa_copy_tmp_data(data, &tmp, st, len, meta);
	if (!err)
		err = cpa_copy_xattrs(lower, &tmp);
	if (!err)
		err = cpa_copy_attrs(&tmp, st);
	if (!err)
		return tmp.dentry;

	cpa_remove_tmp(workdir, tmp.dentry);
out_dput:
	dput(tmp.dentry);
	return ERR_PTR(err);
}

/* Move the finished copy @tmp to @name in @upperdir. */
static struct dentry *cpa_copy_install(struct super_block *sb,
				       struct dentry *tmp,
				       struct dentry *upperdir,
				       const struct qstr *name)
{
	struct dentry *workdir = CPA_SB(sb)->workdir;
	struct cpa_renaming rn;
	int err;

	err = cpa_start_renaming(&rn, workdir, tmp, upperdir, name);
	if (err)
		return ERR_PTR(err);
	/* The branch changed behind the union. */
	err = d_is_positive(rn.new) ? -EEXIST :
	      cpa_do_rename(workdir, tmp, upperdir, rn.new, 0);
	cpa_end_renaming(&rn);
	/* rename moved @tmp itself to the name: it is the copy now. */
	return err ? ERR_PTR(err) : dget(tmp);
}

/*
 * Copy the branch object @lower (attributes @st, data @data) to @name in
 * the branch 0 directory @upperdir; @meta asks for metadata only and says
 * what was done.  A copy already there, made by copying up a whole
 * directory, is taken as it is.  Returns it, referenced, or an ERR_PTR.
 */
static struct dentry *cpa_copy_object(struct super_block *sb,
				      const struct path *lower,
				      const struct path *data,
				      const struct kstat *st, loff_t len,
				      bool *meta, struct dentry *upperdir,
				      const struct qstr *name)
{
	struct dentry *tmp, *upper;

	upper = cpa_do_lookup(upperdir, name->name, name->len);
	if (IS_ERR(upper))
		return upper;
	if (d_is_positive(upper) &&
	    (d_inode(upper)->i_mode & S_IFMT) == (st->mode & S_IFMT)) {
		/* Whole, unless it carries the mark. */
		int err = cpa_metacopy_test(cpa_top(sb), upper);

		if (err < 0) {
			dput(upper);
			return ERR_PTR(err);
		}
		*meta = err;
		return upper;
	}
	dput(upper);

	tmp = cpa_copy_tmp(sb, lower, data, st, len, meta);
	if (IS_ERR(tmp))
		return tmp;
	upper = cpa_copy_install(sb, tmp, upperdir, name);
	if (IS_ERR(upper))
		cpa_remove_tmp(CPA_SB(sb)->workdir, tmp);
	dput(tmp);
	return upper;
}

static void cpa_restore_times(struct super_block *sb, struct dentry *dir,
			      struct iattr *times)
{
	struct path path = { .mnt = cpa_top(sb)->path.mnt,
			     .dentry = dir };
	int err;

	inode_lock(d_inode(dir));
	err = cpa_do_notify_change(&path, times);
	inode_unlock(d_inode(dir));
	if (err)
		pr_debug("cannot restore the times of %pd (%d)\n", dir, err);
}

/*
 * Copy-up of a file with several hard links: the first name copied makes
 * the pseudo-link, the others link to it (plink.c).  Anything else is
 * copied as it is.
 */
static struct dentry *cpa_copy_up_linked(struct super_block *sb,
					 struct inode *inode,
					 const struct path *lower,
					 const struct path *data,
					 const struct kstat *st, loff_t len,
					 bool *meta, struct dentry *upperdir,
					 const struct qstr *name)
{
	struct dentry *plink, *upper;
	int err;

	if (!S_ISREG(st->mode) || st->nlink < 2)
		return cpa_copy_object(sb, lower, data, st, len, meta,
				       upperdir, name);

	/* Every name of a linked file shares one copy: a whole one. */
	*meta = false;

	plink = cpa_plink_find(sb, inode->i_ino);
	if (IS_ERR(plink))
		return plink;
	if (plink) {
		upper = cpa_plink_install(plink, upperdir, name);
		dput(plink);
	} else {
		upper = cpa_copy_object(sb, lower, data, st, -1, meta,
					upperdir, name);
		if (IS_ERR(upper))
			return upper;
		err = cpa_plink_add(sb, upper, inode->i_ino);
		if (err)
			pr_warn_ratelimited("cannot pseudo-link %pd (%d)\n",
					    upper, err);
	}
	if (!IS_ERR(upper)) {
		WRITE_ONCE(CPA_I(inode)->plinked, true);
		cpa_plink_hide(inode, st->nlink);
	}
	return upper;
}

/*
 * Copy up @dentry, whose parent is on branch 0 already; a regular file gets
 * metadata only if @meta and the mount allows it.
 */
static int cpa_copy_up_one(struct dentry *dentry, loff_t len, bool meta)
{
	struct super_block *sb = dentry->d_sb;
	struct cpa_sb_info *sbi = CPA_SB(sb);
	struct inode *inode = d_inode(dentry);
	struct cpa_inode *ci = CPA_I(inode);
	struct name_snapshot name;
	struct dentry *parent, *upper, *upperdir;
	struct cpa_entry *e;
	struct iattr dir_times = {
		.ia_valid = ATTR_ATIME | ATTR_MTIME | ATTR_ATIME_SET |
			    ATTR_MTIME_SET,
	};
	const struct cred *old;
	struct path lower, data;
	struct kstat st;
	int err = 0;

	mutex_lock(&ci->copy_lock);
	/* Read under the lock: a change of branches replaces it under it. */
	e = CPA_E(dentry);
	if (cpa_entry_upper(e))
		goto out_unlock;	/* another task did it */

	lower.mnt = e->h[1].br->path.mnt;
	lower.dentry = e->h[1].dentry;
	cpa_path_data(dentry, &data);
	parent = dget_parent(dentry);
	take_dentry_name_snapshot(&name, dentry);
	err = mnt_want_write(cpa_top(sb)->path.mnt);
	if (err)
		goto out_name;

	old = cpa_override_creds(sb);
	err = cpa_do_getattr(&lower, &st, STATX_BASIC_STATS,
			     AT_STATX_SYNC_AS_STAT);
	if (err)
		goto out_revert;
	if (len < 0 || len > st.size)
		len = st.size;
	meta = meta && S_ISREG(st.mode) && st.size && READ_ONCE(sbi->metacopy);

	upperdir = cpa_entry_upper(CPA_E(parent));
	dir_times.ia_atime = cpa_inode_atime(d_inode(upperdir));
	dir_times.ia_mtime = cpa_inode_mtime(d_inode(upperdir));
	upper = cpa_copy_up_linked(sb, inode, &lower, &data, &st, len, &meta,
				   upperdir, &name.name);
	if (IS_ERR(upper)) {
		err = PTR_ERR(upper);
		goto out_revert;
	}
	/* Copy-up is no change of the parent directory: keep its times. */
	cpa_restore_times(sb, upperdir, &dir_times);

	/* The union inode keeps its number. */
	err = cpa_xino_set(sb, cpa_top(sb), d_inode(upper), inode->i_ino);
	if (err)
		pr_warn_ratelimited("xino: cannot record %pd (%d)\n", upper,
				    err);
	err = 0;
	/* Readers of a published copy must see the mark (cpa_path_data). */
	WRITE_ONCE(ci->metacopy, meta);
	if (!ci->upper) {
		/* Publish the copy once complete (pairs with acquire). */
		smp_store_release(&ci->upper, igrab(d_inode(upper)));
	}
	/* Likewise for lockless readers of the entry (cpa_entry_upper). */
	smp_store_release(&e->h[0].dentry, upper);
	cpa_copyattr(inode);
	pr_debug("copied up %pd2\n", dentry);

out_revert:
	cpa_revert_creds(old);
	mnt_drop_write(cpa_top(sb)->path.mnt);
out_name:
	release_dentry_name_snapshot(&name);
	dput(parent);
out_unlock:
	mutex_unlock(&ci->copy_lock);
	return err;
}

/*
 * Give the metadata-only copy @upper its data, the first @len bytes (all if
 * @len < 0) of @data, then drop the mark.  Writing the data may clear the
 * set-id bits and file capabilities: mode, capabilities and times are put
 * back before the mark goes.
 */
static int cpa_metacopy_fill(const struct path *upper, const struct path *data,
			     loff_t len)
{
	struct inode *inode = d_inode(upper->dentry);
	struct iattr attr = {
		.ia_valid = ATTR_MODE | ATTR_ATIME | ATTR_MTIME |
			    ATTR_ATIME_SET | ATTR_MTIME_SET,
		.ia_mode = inode->i_mode,
		.ia_atime = cpa_inode_atime(inode),
		.ia_mtime = cpa_inode_mtime(inode),
	};
	loff_t size = i_size_read(inode);
	ssize_t caps_len;
	void *caps = NULL;
	int err, ret;

	if (len < 0 || len > size)
		len = size;
	caps_len = cpa_do_getxattr(upper, XATTR_NAME_CAPS, NULL, 0);
	if (caps_len > 0) {
		caps = kmalloc(caps_len, GFP_KERNEL);
		if (!caps)
			return -ENOMEM;
		caps_len = cpa_do_getxattr(upper, XATTR_NAME_CAPS, caps,
					   caps_len);
	}
	if (caps_len < 0 && caps_len != -ENODATA && caps_len != -EOPNOTSUPP) {
		err = caps_len;
		goto out;
	}

	err = cpa_copy_file(data, upper, len);
	if (!err && len < size)
		err = cpa_set_size(upper, len);
	if (err && !cpa_set_size(upper, 0))
		/* Give back the space of a partial copy; the mark stays. */
		cpa_set_size(upper, size);

	/* Whatever happened, the metadata is what it was. */
	inode_lock(inode);
	ret = cpa_do_notify_change(upper, &attr);
	inode_unlock(inode);
	if (!err)
		err = ret;
	if (caps && caps_len > 0) {
		ret = cpa_do_setxattr(upper, XATTR_NAME_CAPS, caps, caps_len, 0);
		if (!err)
			err = ret;
	}
	if (!err)
		err = cpa_metacopy_unmark(upper);
out:
	kfree(caps);
	return err;
}

/*
 * Complete the metadata-only copy of the union inode @inode, whose copy is
 * @upper and data @data.  The copy lock orders this against every other
 * copy-up of the inode.
 */
static int cpa_metacopy_complete(struct inode *inode, const struct path *upper,
				 const struct path *data, loff_t len)
{
	struct cpa_inode *ci = CPA_I(inode);
	const struct cred *old;
	int err = 0;

	mutex_lock(&ci->copy_lock);
	if (!ci->metacopy)
		goto out_unlock;	/* another task did it */
	err = mnt_want_write(upper->mnt);
	if (err)
		goto out_unlock;
	old = cpa_override_creds(inode->i_sb);
	err = cpa_metacopy_fill(upper, data, len);
	cpa_revert_creds(old);
	mnt_drop_write(upper->mnt);
	if (!err) {
		/* From now on reads go to the copy (cpa_path_data). */
		WRITE_ONCE(ci->metacopy, false);
		cpa_copyattr(inode);
		pr_debug("copied the data of %pd2\n", upper->dentry);
	}
out_unlock:
	mutex_unlock(&ci->copy_lock);
	return err;
}

/*
 * Make sure @dentry exists on branch 0, copying up the missing parents
 * first.  A regular file gets its first @len bytes (all if @len < 0), or
 * with @meta its attributes only.
 */
static int cpa_copy_up_flags(struct dentry *dentry, loff_t len, bool meta)
{
	struct inode *inode = d_inode(dentry);
	struct path upper, data;
	int err = 0;

	if (!cpa_sb_writable(dentry->d_sb))
		return -EROFS;

	while (!err && !cpa_entry_upper(CPA_E(dentry))) {
		struct dentry *next = dget(dentry), *parent;

		/* The topmost ancestor not yet on branch 0; root always is. */
		for (;;) {
			parent = dget_parent(next);
			if (cpa_entry_upper(CPA_E(parent))) {
				dput(parent);
				break;
			}
			dput(next);
			next = parent;
		}
		err = cpa_copy_up_one(next, next == dentry ? len : -1,
				      next == dentry && meta);
		dput(next);
	}
	if (err || meta || !S_ISREG(inode->i_mode) ||
	    !READ_ONCE(CPA_I(inode)->metacopy))
		return err;

	cpa_path_data(dentry, &data);
	upper.mnt = cpa_top(dentry->d_sb)->path.mnt;
	upper.dentry = cpa_entry_upper(CPA_E(dentry));
	return cpa_metacopy_complete(inode, &upper, &data, len);
}

int cpa_copy_up_len(struct dentry *dentry, loff_t len)
{
	return cpa_copy_up_flags(dentry, len, false);
}

int cpa_copy_up(struct dentry *dentry)
{
	return cpa_copy_up_flags(dentry, -1, false);
}

/*
 * Before a change of attributes of @dentry (mode, owner, times, xattrs,
 * ACLs, inode flags): copy it up when the union is writable, a regular
 * file without its data if @meta; else its object must be on a writable
 * branch already.
 */
int cpa_copy_up_to_change(struct dentry *dentry, bool meta)
{
	if (cpa_sb_writable(dentry->d_sb))
		return cpa_copy_up_flags(dentry, -1, meta);
	return cpa_branch_writable(cpa_dentry_br(dentry)) ? 0 : -EROFS;
}

/*
 * Complete the metadata-only copy @h of branch 0 met while copying a tree,
 * through its union inode, so that it is ordered against any other
 * copy-up of the file.
 */
static int cpa_tree_complete(struct super_block *sb, struct dentry *h,
			     const struct path *data)
{
	struct path upper = { .mnt = cpa_top(sb)->path.mnt, .dentry = h };
	struct inode *inode;
	unsigned long ino;
	int err;

	err = cpa_xino_ino(sb, cpa_top(sb), d_inode(h), &ino);
	if (err)
		return err;
	inode = cpa_get_inode(sb, h, cpa_top(sb), ino, true);
	if (IS_ERR(inode))
		return PTR_ERR(inode);
	err = cpa_metacopy_complete(inode, &upper, data, -1);
	iput(inode);
	return err;
}

/* Copying a directory tree: what one level needs. */
struct cpa_tree {
	struct super_block *sb;
	struct cpa_entry *e;	/* the directory, slot 0 set */
	int depth;
};

static int cpa_copy_tree_entry(const char *name, int len, void *arg);

/* Copy everything listed in the directory of @e to its slot 0. */
static int cpa_copy_tree_dir(struct super_block *sb, struct cpa_entry *e,
			     int depth)
{
	struct cpa_tree t = { .sb = sb, .e = e, .depth = depth };

	if (depth > 256)
		return -ELOOP;
	return cpa_dir_for_each(sb, e, cpa_copy_tree_entry, &t);
}

static int cpa_copy_tree_entry(const char *name, int len, void *arg)
{
	struct cpa_tree *t = arg;
	struct super_block *sb = t->sb;
	struct qstr q = QSTR_INIT(name, len);
	struct dentry *upper = NULL;
	struct cpa_entry *ce;
	struct path lower, data;
	struct kstat st;
	unsigned long ino;
	bool meta = false;
	int err;

	if (fatal_signal_pending(current))
		return -EINTR;
	ce = cpa_lookup_entry(sb, t->e, 0, name, len);
	if (IS_ERR_OR_NULL(ce))
		return PTR_ERR_OR_ZERO(ce);

	/* Where the data is when the top object holds metadata only. */
	data.mnt = cpa_entry_br(sb, ce, ce->count - 1)->path.mnt;
	data.dentry = ce->h[ce->count - 1].dentry;
	if (ce->h[0].dentry && ce->metacopy) {
		/* The opaque copy will hide the data: copy it now. */
		err = cpa_tree_complete(sb, ce->h[0].dentry, &data);
		if (err)
			goto out;
	} else if (!ce->h[0].dentry) {
		lower.mnt = ce->h[1].br->path.mnt;
		lower.dentry = ce->h[1].dentry;
		if (!ce->metacopy)
			data = lower;
		err = cpa_do_getattr(&lower, &st, STATX_BASIC_STATS,
				     AT_STATX_SYNC_AS_STAT);
		if (err)
			goto out;
		upper = cpa_copy_object(sb, &lower, &data, &st, -1, &meta,
					cpa_entry_upper(t->e), &q);
		if (IS_ERR(upper)) {
			err = PTR_ERR(upper);
			goto out;
		}
		/* A marked copy made meanwhile: complete it as well. */
		err = meta ? cpa_tree_complete(sb, upper, &data) : 0;
		if (err)
			goto out;
		/* The copy keeps the union inode number of the original. */
		err = cpa_xino_ino(sb, ce->h[1].br, d_inode(lower.dentry),
				   &ino);
		if (!err)
			err = cpa_xino_set(sb, cpa_top(sb), d_inode(upper), ino);
		if (err)
			goto out;
		ce->h[0].dentry = upper;
		upper = NULL;
	}
	err = 0;
	if (d_is_dir(ce->h[0].dentry) && ce->count > 1)
		err = cpa_copy_tree_dir(sb, ce, t->depth + 1);
out:
	if (!IS_ERR_OR_NULL(upper))
		dput(upper);
	cpa_entry_free(ce);
	return err;
}

/*
 * Copy up the directory @dentry with everything the union shows in it, and
 * make the copy opaque: from then on it stands alone on branch 0 and can
 * move like any directory of branch 0.
 */
int cpa_copy_up_tree(struct dentry *dentry)
{
	struct super_block *sb = dentry->d_sb;
	struct cpa_entry *e = CPA_E(dentry);
	struct vfsmount *mnt = cpa_top(sb)->path.mnt;
	const struct cred *old;
	int err;

	err = cpa_copy_up(dentry);
	if (err || e->count == 1 || e->opaque)
		return err;

	err = mnt_want_write(mnt);
	if (err)
		return err;
	old = cpa_override_creds(sb);
	err = cpa_copy_tree_dir(sb, e, 0);
	if (!err)
		err = cpa_wh_make_opaque(sb, cpa_entry_upper(e));
	cpa_revert_creds(old);
	mnt_drop_write(mnt);
	if (err)
		return err;

	/* Slot 0 holds the whole tree now (pairs with cpa_entry_dentry). */
	smp_store_release(&e->opaque, true);
	/* Cached children may still point below: let them be looked up anew. */
	shrink_dcache_parent(dentry);
	cpa_dir_changed(d_inode(dentry));
	return 0;
}
