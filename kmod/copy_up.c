// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: copy-up.  Before an object that lives on a read-only branch is
 * changed, it is copied to a writable branch above it, the one cpup=
 * picks (cpa_copyup_target()), parents first.  The copy is built under a temporary name in the branch's internal
 * directory (.wh..wh.orph): data, then extended attributes, then owner, mode
 * and times; only then is it renamed into place, so a failure or a crash
 * never leaves a partial object visible.  Lower branches are never written.
 */
#include <linux/slab.h>
#include <linux/xattr.h>
#include <linux/sched/signal.h>
#include <linux/dcache.h>
#include <linux/statfs.h>
#include <linux/jiffies.h>
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
	 * The caller holds write access to the target branch, the
	 * filesystem's freeze protection included, and copying takes that
	 * protection again (file_start_write): a freeze between the two
	 * would wait for the first while the second waits for the freeze.
	 * The copy goes without the caller's; the open @dst keeps the mount
	 * writable.
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
 * but the size and the metacopy mark.  A target filesystem that cannot
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
				   struct cpa_branch *wbr,
				   const struct path *lower,
				   const struct path *data,
				   const struct kstat *st, loff_t len,
				   bool *meta)
{
	struct cpa_sb_info *sbi = CPA_SB(sb);
	struct dentry *workdir = wbr->workdir;
	struct path tmp = { .mnt = wbr->path.mnt };
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

/* Move the finished copy @tmp to @name in @upperdir, both on @wbr. */
static struct dentry *cpa_copy_install(struct cpa_branch *wbr,
				       struct dentry *tmp,
				       struct dentry *upperdir,
				       const struct qstr *name)
{
	struct dentry *workdir = wbr->workdir;
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
 * the directory @upperdir of the writable branch @wbr; @meta asks for
 * metadata only and says
 * what was done.  A copy already there, made by copying up a whole
 * directory, is taken as it is.  Returns it, referenced, or an ERR_PTR.
 */
static struct dentry *cpa_copy_object(struct super_block *sb,
				      struct cpa_branch *wbr,
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
		int err = cpa_metacopy_test(wbr, upper);

		if (err < 0) {
			dput(upper);
			return ERR_PTR(err);
		}
		*meta = err;
		return upper;
	}
	dput(upper);

	tmp = cpa_copy_tmp(sb, wbr, lower, data, st, len, meta);
	if (IS_ERR(tmp))
		return tmp;
	upper = cpa_copy_install(wbr, tmp, upperdir, name);
	if (IS_ERR(upper))
		cpa_remove_tmp(wbr->workdir, tmp);
	dput(tmp);
	return upper;
}

static void cpa_restore_times(struct cpa_branch *wbr, struct dentry *dir,
			      struct iattr *times)
{
	struct path path = { .mnt = wbr->path.mnt, .dentry = dir };
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
					 struct cpa_branch *wbr,
					 struct inode *inode,
					 const struct path *lower,
					 const struct path *data,
					 const struct kstat *st, loff_t len,
					 bool *meta, struct dentry *upperdir,
					 const struct qstr *name)
{
	struct dentry *plink, *upper;
	int err;

	/*
	 * Pseudo-links live on one branch: elsewhere, copies of their own.
	 * The branch written is held: when it is that one, it stays so.
	 */
	if (!S_ISREG(st->mode) || st->nlink < 2 || wbr != cpa_plink_br(sb))
		return cpa_copy_object(sb, wbr, lower, data, st, len, meta,
				       upperdir, name);

	/* Every name of a linked file shares one copy: a whole one. */
	*meta = false;

	plink = cpa_plink_find(wbr, inode->i_ino);
	if (IS_ERR(plink))
		return plink;
	if (plink) {
		upper = cpa_plink_install(plink, upperdir, name);
		dput(plink);
	} else {
		upper = cpa_copy_object(sb, wbr, lower, data, st, -1, meta,
					upperdir, name);
		if (IS_ERR(upper))
			return upper;
		err = cpa_plink_add(wbr, upper, inode->i_ino);
		if (err)
			pr_warn_ratelimited("cannot pseudo-link %pd (%d)\n",
					    upper, err);
	}
	if (!IS_ERR(upper)) {
		WRITE_ONCE(CPA_I(inode)->plinked, true);
		cpa_plink_hide(inode, wbr, st->nlink);
	}
	return upper;
}

/*
 * The object of the directory @parent on @wbr, where a copy goes, or NULL
 * if it has none there (it changed meanwhile); @times gets its times,
 * which the copy does not change (cpa_restore_times()).
 */
static struct dentry *cpa_copy_dir_on(struct dentry *parent,
				      struct cpa_branch *wbr,
				      struct iattr *times)
{
	const struct cpa_entry *pe = CPA_E(parent);
	int slot = cpa_entry_slot(pe, wbr);
	struct dentry *dir;

	if (slot < 0)
		return NULL;
	dir = cpa_entry_dentry(pe, slot);
	times->ia_valid = ATTR_ATIME | ATTR_MTIME | ATTR_ATIME_SET |
			  ATTR_MTIME_SET;
	times->ia_atime = cpa_inode_atime(d_inode(dir));
	times->ia_mtime = cpa_inode_mtime(d_inode(dir));
	return dir;
}

/*
 * Copy up @dentry to the writable branch @wbr, which its parent has
 * already and which must be above its top object; a regular file gets
 * metadata only if @meta and the mount allows it.  Done when the entry
 * has an upper object already, on @wbr if @exact (a parent), on any
 * writable branch else.
 */
static int cpa_copy_up_one(struct dentry *dentry, struct cpa_branch *wbr,
			   loff_t len, bool meta, bool exact)
{
	struct super_block *sb = dentry->d_sb;
	struct cpa_sb_info *sbi = CPA_SB(sb);
	struct inode *inode = d_inode(dentry);
	struct cpa_inode *ci = CPA_I(inode);
	struct name_snapshot name;
	struct dentry *parent, *upper, *upperdir;
	struct cpa_entry *e;
	struct iattr dir_times;
	const struct cred *old;
	struct path lower, data;
	struct kstat st;
	int err = 0;

	mutex_lock(&ci->copy_lock);
	/* Read under the lock: a change of branches replaces it under it. */
	e = CPA_E(dentry);
	if (cpa_entry_upper(e)) {
		/* Another task did it, or the object is writable already. */
		if (exact && cpa_entry_upper_br(e) != wbr)
			err = -EROFS;
		goto out_unlock;
	}
	/* Slot 0 stays above every other slot. */
	if (!cpa_br_above(sb, wbr, e->h[1].br)) {
		err = -EROFS;
		goto out_unlock;
	}

	lower.mnt = e->h[1].br->path.mnt;
	lower.dentry = e->h[1].dentry;
	cpa_path_data(dentry, &data);
	parent = dget_parent(dentry);
	take_dentry_name_snapshot(&name, dentry);
	err = mnt_want_write(wbr->path.mnt);
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

	upperdir = cpa_copy_dir_on(parent, wbr, &dir_times);
	if (!upperdir) {
		err = -ESTALE;
		goto out_revert;
	}
	upper = cpa_copy_up_linked(sb, wbr, inode, &lower, &data, &st, len,
				   &meta, upperdir, &name.name);
	if (IS_ERR(upper)) {
		err = PTR_ERR(upper);
		goto out_revert;
	}
	/* Copy-up is no change of the parent directory: keep its times. */
	cpa_restore_times(wbr, upperdir, &dir_times);

	/* The union inode keeps its number. */
	err = cpa_xino_set(sb, wbr, d_inode(upper), inode->i_ino);
	if (err)
		pr_warn_ratelimited("xino: cannot record %pd (%d)\n", upper,
				    err);
	err = 0;
	/* Readers of a published copy must see the mark (cpa_path_data). */
	WRITE_ONCE(ci->metacopy, meta);
	if (!ci->upper) {
		/* A copy of its own: no name is linked to it. */
		if (wbr != cpa_plink_br(sb))
			WRITE_ONCE(ci->plinked, false);
		ci->upper_br = cpa_branch_get(wbr);
		/* Publish the copy once complete (pairs with acquire). */
		smp_store_release(&ci->upper, igrab(d_inode(upper)));
	}
	WRITE_ONCE(e->h[0].br, cpa_branch_get(wbr));
	/*
	 * Likewise for lockless readers of the entry (cpa_entry_upper): the
	 * branch above, then the object.
	 */
	smp_store_release(&e->h[0].dentry, upper);
	/* udba=notify: the directory made is watched as well. */
	if (d_is_dir(upper))
		cpa_notify_rewatch(sb, e, inode);
	cpa_copyattr(inode);
	pr_debug("copied up %pd2\n", dentry);

out_revert:
	cpa_revert_creds(old);
	mnt_drop_write(wbr->path.mnt);
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
 * Can @dentry be copied up to @wbr: is every ancestor that has no object
 * on @wbr yet free to get one, its top object below @wbr and no upper
 * object on another branch (with @over, no upper object on a branch above
 * @wbr: cpa_copy_down_one())?  Then so is @dentry, whose top is below its
 * parent's copy.
 */
static bool cpa_target_ok(struct dentry *dentry, struct cpa_branch *wbr,
			  bool over)
{
	struct super_block *sb = dentry->d_sb;
	struct dentry *d = dget_parent(dentry), *parent;
	const struct cpa_entry *e;
	bool ok;

	for (;;) {
		e = CPA_E(d);
		ok = cpa_entry_slot(e, wbr) >= 0;
		if (ok || IS_ROOT(d) ||
		    (cpa_entry_upper(e) && !over) ||
		    !cpa_br_above(sb, wbr, cpa_dentry_br(d)))
			break;
		parent = dget_parent(d);
		dput(d);
		d = parent;
	}
	dput(d);
	return ok;
}

/*
 * A regular file with several hard links below goes where its other
 * names go, whatever cpup= says: to the branch of the pseudo-links, where
 * they all link to one copy (plink.c), when it is writable and above
 * @top, the branch of the file, and the parents can have a copy there.
 * The caller holds the branches, which keep that branch.
 */
static struct cpa_branch *cpa_copyup_linked_target(struct dentry *dentry,
						   struct cpa_branch *top)
{
	struct super_block *sb = dentry->d_sb;
	struct cpa_branch *pbr = cpa_plink_br(sb);

	if (!pbr || !d_is_reg(dentry) || !cpa_branch_writable(pbr))
		return NULL;
	if (d_inode(cpa_dentry_real(dentry))->i_nlink < 2)
		return NULL;
	if (!cpa_br_above(sb, pbr, top) || !cpa_target_ok(dentry, pbr, true))
		return NULL;
	return pbr;
}

/*
 * The writable branch that cpup= picks for @dentry, whose top object is
 * on a read-only branch, or NULL:
 *   tdp  the topmost writable branch that holds the parent above it,
 *   bup  the lowest such branch,
 *   bu   the nearest writable branch above it;
 * the first two fall back to bu, all to the others when the parents
 * cannot have a copy there (cpa_target_ok()).  Hard-linked files first
 * try the branch of the pseudo-links (cpa_copyup_linked_target()).
 */
struct cpa_branch *cpa_copyup_target(struct dentry *dentry)
{
	struct super_block *sb = dentry->d_sb;
	struct cpa_branch *top = cpa_dentry_br(dentry), *br;
	struct cpa_branch *tdp = NULL, *bup = NULL, *bu, *pick[3];
	const struct cpa_entry *pe;
	struct dentry *parent;
	int i;

	br = cpa_copyup_linked_target(dentry, top);
	if (br)
		return br;
	parent = dget_parent(dentry);
	pe = CPA_E(parent);
	for (i = 0; i < pe->count; i++) {
		if (!cpa_entry_dentry(pe, i))
			continue;
		br = cpa_entry_br(sb, pe, i);
		if (br == top)
			break;
		if (!cpa_branch_writable(br))
			continue;
		bup = br;
		if (!tdp)
			tdp = br;
	}
	if (i == pe->count)
		tdp = bup = NULL;	/* @dentry is not below its parent? */
	dput(parent);
	bu = cpa_br_writable_above(sb, top);

	switch (READ_ONCE(CPA_SB(sb)->cpup)) {
	case CPA_CPUP_BUP:
		pick[0] = bup;
		pick[1] = bu;
		pick[2] = tdp;
		break;
	case CPA_CPUP_BU:
		pick[0] = bu;
		pick[1] = tdp;
		pick[2] = bup;
		break;
	default:
		pick[0] = tdp;
		pick[1] = bu;
		pick[2] = bup;
		break;
	}
	for (i = 0; i < ARRAY_SIZE(pick); i++)
		if (pick[i] && cpa_target_ok(dentry, pick[i], false))
			return pick[i];
	return NULL;
}

/*
 * The free space of the writable branch @br for the create= policies that
 * look at it, looked
 * at again when older than the policy's interval or after an ENOSPC.
 */
static u64 cpa_mfs_free(struct super_block *sb, struct cpa_branch *br)
{
	unsigned long stamp = READ_ONCE(br->mfs_stamp);
	unsigned long secs = READ_ONCE(CPA_SB(sb)->mfs_secs);
	struct kstatfs st;
	u64 free;

	if (stamp && time_before(jiffies, stamp + secs * HZ))
		return READ_ONCE(br->mfs_free);
	if (cpa_do_statfs(&br->path, &st))
		return 0;
	free = (u64)st.f_bavail * st.f_bsize;
	WRITE_ONCE(br->mfs_free, free);
	WRITE_ONCE(br->mfs_stamp, jiffies ?: 1);
	return free;
}

/* A create on @br failed with ENOSPC: look at its space again next time. */
void cpa_create_nospc(struct cpa_branch *br)
{
	WRITE_ONCE(br->mfs_stamp, 0);
}

/* Of @n writable branches @br, the one with the most free space. */
static struct cpa_branch *cpa_mfs_pick(struct super_block *sb,
				       struct cpa_branch *const *br, int n)
{
	struct cpa_branch *best = NULL;
	u64 free, most = 0;
	int i;

	for (i = 0; i < n; i++) {
		free = cpa_mfs_free(sb, br[i]);
		if (!best || free > most) {
			best = br[i];
			most = free;
		}
	}
	return best;
}

/*
 * The slot of the parent's entry @pe that create=tdp|pmfs picks: the
 * topmost writable one, or of those the one with the most free space;
 * -1 if none.
 */
static int cpa_create_parent_slot(struct super_block *sb,
				  const struct cpa_entry *pe, bool pmfs)
{
	struct cpa_branch **br;
	struct cpa_branch *best;
	int i, n = 0, first = -1;

	br = kcalloc(pe->count, sizeof(*br), GFP_KERNEL);
	for (i = 0; i < pe->count; i++) {
		if (!cpa_entry_dentry(pe, i) ||
		    !cpa_branch_writable(cpa_entry_br(sb, pe, i)))
			continue;
		if (first < 0)
			first = i;
		if (br)
			br[n++] = cpa_entry_br(sb, pe, i);
	}
	if (pmfs && br && n > 1) {
		best = cpa_mfs_pick(sb, br, n);
		first = cpa_entry_slot(pe, best);
	}
	kfree(br);
	return first;
}

/*
 * A whiteout of @dentry's name in a directory of its parent above @slot
 * hides it there: 1, 0, or -errno.
 */
static int cpa_create_hidden(struct dentry *dentry, int slot)
{
	const struct cpa_entry *pe = CPA_E(dentry->d_parent);
	const struct qstr *q = &dentry->d_name;
	const struct cred *old;
	int i, err = 0;

	old = cpa_override_creds(dentry->d_sb);
	for (i = 0; i < slot && !err; i++) {
		struct dentry *h = cpa_entry_dentry(pe, i);

		if (h)
			err = cpa_wh_test(h, q->name, q->len);
	}
	cpa_revert_creds(old);
	return err;
}

/* How cpa_parents_to() may give a directory an object on the branch. */
#define CPA_TO_DOWN	1	/* below its top object */
#define CPA_TO_OVER	2	/* above its top object, on a writable branch */

static int cpa_parents_to(struct dentry *dentry, struct cpa_branch *wbr,
			  unsigned int how);

/*
 * The slot of the parent's entry where @br can take @dentry: the parent
 * and its ancestors get an object on @br first if need be, copied up or
 * down.  -EROFS if they cannot, or if a whiteout above would hide the
 * name (unless @unnamed).
 */
static int cpa_create_on(struct dentry *dentry, struct cpa_branch *br,
			 bool unnamed)
{
	int slot, err;

	/* Picked from a list that a remount has replaced since. */
	if (!cpa_branch_writable(br))
		return -EROFS;
	err = cpa_parents_to(dentry, br, CPA_TO_DOWN);
	if (err)
		return err;
	slot = cpa_entry_slot(CPA_E(dentry->d_parent), br);
	if (slot < 0)
		return -ESTALE;
	err = unnamed ? 0 : cpa_create_hidden(dentry, slot);
	if (err)
		return err < 0 ? err : -EROFS;
	return slot;
}

/* create=rr, and mfsrr short of room: the next writable branch in turn. */
static struct cpa_branch *cpa_rr_pick(struct cpa_sb_info *sbi,
				      const struct cpa_wbrs *w)
{
	unsigned int next = atomic_inc_return(&sbi->rr_next);

	return w->n ? w->br[next % w->n] : NULL;
}

/*
 * create=tdmfs: the topmost writable branch with more free space than the
 * low mark, else the one with the most.
 */
static struct cpa_branch *cpa_tdmfs_pick(struct super_block *sb,
					 const struct cpa_wbrs *w)
{
	u64 low = READ_ONCE(CPA_SB(sb)->mfs_low);
	int i;

	for (i = 0; i < w->n; i++)
		if (cpa_mfs_free(sb, w->br[i]) > low)
			return w->br[i];
	return cpa_mfs_pick(sb, w->br, w->n);
}

/*
 * create=mfsrr: the writable branch with the most free space, or, once
 * even that one has less than the low mark, the next one in turn
 * (directories: NULL, as tdp).
 */
static struct cpa_branch *cpa_mfsrr_pick(struct super_block *sb,
					 const struct cpa_wbrs *w,
					 unsigned int flags)
{
	struct cpa_sb_info *sbi = CPA_SB(sb);
	struct cpa_branch *br = cpa_mfs_pick(sb, w->br, w->n);

	if (!br || cpa_mfs_free(sb, br) >= READ_ONCE(sbi->mfs_low))
		return br;
	return flags & CPA_CREATE_DIR ? NULL : cpa_rr_pick(sbi, w);
}

/* cpa_create_slot() without @force; @w: the writable branches, or NULL. */
static int cpa_create_pick(struct dentry *dentry, unsigned int flags,
			   enum cpa_create_policy create,
			   const struct cpa_wbrs *w)
{
	struct super_block *sb = dentry->d_sb;
	bool unnamed = flags & CPA_CREATE_UNNAMED;
	struct cpa_branch *br = NULL;
	const struct cpa_entry *pe;
	int slot, other, err;

	switch (create) {
	case CPA_CREATE_RR:
		if (!(flags & CPA_CREATE_DIR))
			br = cpa_rr_pick(CPA_SB(sb), w);
		break;
	case CPA_CREATE_MFS:
		br = cpa_mfs_pick(sb, w->br, w->n);
		break;
	case CPA_CREATE_TDMFS:
		br = cpa_tdmfs_pick(sb, w);
		break;
	case CPA_CREATE_MFSRR:
		br = cpa_mfsrr_pick(sb, w, flags);
		break;
	default:
		break;
	}
	if (br) {
		slot = cpa_create_on(dentry, br, unnamed);
		if (slot != -EROFS)
			return slot;
	}

	slot = cpa_create_parent_slot(sb, CPA_E(dentry->d_parent),
				      create == CPA_CREATE_PMFS ||
				      create == CPA_CREATE_PMFSRR);
	if (slot < 0) {
		err = cpa_copy_up(dentry->d_parent);
		if (err)
			return err;
		slot = 0;
	}
	if (create == CPA_CREATE_PMFSRR) {
		/* Short of room there: any branch, as mfsrr. */
		pe = CPA_E(dentry->d_parent);
		br = cpa_entry_br(sb, pe, slot);
		if (cpa_mfs_free(sb, br) < READ_ONCE(CPA_SB(sb)->mfs_low)) {
			br = cpa_mfsrr_pick(sb, w, flags);
			other = br ? cpa_create_on(dentry, br, unnamed) :
				-EROFS;
			if (other != -EROFS)
				return other;
		}
	}
	err = unnamed ? 0 : cpa_create_hidden(dentry, slot);
	if (err)
		return err < 0 ? err : -EROFS;
	return slot;
}

/*
 * Where the new object @dentry is made, as a slot of its parent's entry
 * (create=):
 *   tdp     the topmost writable branch that holds the parent;
 *   pmfs    of those, the one with the most free space;
 *   rr      the writable branches in turn (directories: as tdp);
 *   mfs     the writable branch with the most free space;
 *   tdmfs   the topmost writable branch with more free space than the
 *           low mark, else as mfs;
 *   mfsrr   as mfs, or as rr once that branch has less than the mark;
 *   pmfsrr  as pmfs, or as mfsrr once that branch has less than the mark.
 * The parent is copied up (cpup=) when it has no object on a writable
 * branch for tdp and pmfs, and gets one on the branch the others picked,
 * copied up or down; if it cannot (an opaque directory would hide the
 * copy), or a whiteout above that branch hides the name, tdp decides.
 * @force (a link, a rename) asks for that branch only, its parents copied
 * up or down to it alike: -EXDEV if the name cannot be there.
 * Called without the mounter's credentials.
 */
int cpa_create_slot(struct dentry *dentry, struct cpa_branch *force,
		    unsigned int flags)
{
	struct super_block *sb = dentry->d_sb;
	enum cpa_create_policy create = READ_ONCE(CPA_SB(sb)->create);
	struct cpa_wbrs *w = NULL;
	int slot;

	if (!cpa_sb_writable(sb))
		return -EROFS;
	if (force) {
		slot = cpa_create_on(dentry, force, flags & CPA_CREATE_UNNAMED);
		return slot == -EROFS ? -EXDEV : slot;
	}
	/* The policies that pick among all writable branches hold them. */
	if (create != CPA_CREATE_TDP && create != CPA_CREATE_PMFS)
		w = cpa_wbrs_get(CPA_SB(sb));
	slot = cpa_create_pick(dentry, flags, create, w);
	cpa_wbrs_put(w);
	return slot;
}

/*
 * create=: give the directory @dentry, whose top object is above the
 * writable branch @wbr, an object there too (copy-down): a directory with
 * the top object's attributes, made in its parent's object on @wbr, which
 * a new lookup of @dentry then merges into its entry.  -EROFS when the
 * merge might not take it: the lowest object of @dentry is opaque (checked
 * first; the merge stops there, though it may be below @wbr too), or the
 * new lookup leaves it out (a whiteout between; the empty directory made
 * stays, hidden).  With @over, the other way round: @dentry's top object
 * is on a writable branch below @wbr, and the new object becomes its top
 * (copy-over; plink.c needs it for hard-linked files).
 */
static int cpa_copy_down_one(struct dentry *dentry, struct cpa_branch *wbr,
			     bool over)
{
	struct super_block *sb = dentry->d_sb;
	struct cpa_inode *ci = CPA_I(d_inode(dentry));
	struct iattr dir_times;
	struct dentry *parent, *upperdir, *down = NULL;
	struct name_snapshot name;
	const struct cred *old;
	struct cpa_entry *e;
	struct path top;
	struct kstat st;
	bool meta = false;
	int i, err = 0;

	if (!d_is_dir(dentry))
		return -EROFS;
	mutex_lock(&ci->copy_lock);
	/* Read under the lock: a refresh replaces it under it. */
	e = CPA_E(dentry);
	if (cpa_entry_slot(e, wbr) >= 0)
		goto out_unlock;	/* another task did it */
	i = cpa_entry_top(e);
	top.mnt = cpa_entry_br(sb, e, i)->path.mnt;
	top.dentry = cpa_entry_dentry(e, i);
	if (over ? !cpa_br_above(sb, wbr, cpa_entry_br(sb, e, i)) :
	    (!cpa_br_above(sb, cpa_entry_br(sb, e, i), wbr) ||
	     /* Copied up whole: pairs with the release in cpa_copy_up_tree(). */
	     smp_load_acquire(&e->opaque))) {
		err = -EROFS;
		goto out_unlock;
	}
	/* The merge stops at an opaque directory, the lowest object if any. */
	for (i = e->count - 1; i > 0 && !cpa_entry_dentry(e, i); i--)
		;
	old = cpa_override_creds(sb);
	/* Above all of them, the new object is merged whatever is below. */
	err = over ? 0 : cpa_opaque_test(cpa_entry_dentry(e, i));
	if (err > 0)
		err = -EROFS;
	else if (!err)
		err = cpa_do_getattr(&top, &st, STATX_BASIC_STATS,
				     AT_STATX_SYNC_AS_STAT);
	cpa_revert_creds(old);
	if (err)
		goto out_unlock;

	parent = dget_parent(dentry);
	take_dentry_name_snapshot(&name, dentry);
	err = mnt_want_write(wbr->path.mnt);
	if (err)
		goto out_name;
	old = cpa_override_creds(sb);
	upperdir = cpa_copy_dir_on(parent, wbr, &dir_times);
	if (!upperdir) {
		err = -ESTALE;
		goto out_revert;
	}
	down = cpa_copy_object(sb, wbr, &top, &top, &st, 0, &meta, upperdir,
			       &name.name);
	if (IS_ERR(down)) {
		err = PTR_ERR(down);
		down = NULL;
		goto out_revert;
	}
	cpa_restore_times(wbr, upperdir, &dir_times);
	pr_debug("copied %s %pd2\n", over ? "over" : "down", dentry);
out_revert:
	cpa_revert_creds(old);
	mnt_drop_write(wbr->path.mnt);
out_name:
	release_dentry_name_snapshot(&name);
	dput(parent);
out_unlock:
	mutex_unlock(&ci->copy_lock);
	if (!down)
		return err;
	dput(down);
	err = cpa_dir_remerge(dentry);
	if (!err && cpa_entry_slot(CPA_E(dentry), wbr) < 0)
		err = -EROFS;
	return err;
}

/*
 * Give every ancestor of @dentry an object on the writable branch @wbr,
 * the topmost missing one first.  -EROFS when one cannot have it: its top
 * object is not below @wbr, or it is on another writable branch; with
 * CPA_TO_DOWN, a directory whose top object is above @wbr gets one below
 * it (cpa_copy_down_one()) instead, and with CPA_TO_OVER one whose top
 * object is on another writable branch below @wbr gets one above it.
 */
static int cpa_parents_to(struct dentry *dentry, struct cpa_branch *wbr,
			  unsigned int how)
{
	struct dentry *next, *parent;
	int err = 0;

	while (!err) {
		next = dget_parent(dentry);
		for (;;) {
			if (cpa_entry_slot(CPA_E(next), wbr) >= 0) {
				dput(next);
				return 0;
			}
			if (IS_ROOT(next)) {
				dput(next);
				return -EROFS;
			}
			parent = dget_parent(next);
			if (cpa_entry_slot(CPA_E(parent), wbr) >= 0) {
				dput(parent);
				break;
			}
			dput(next);
			next = parent;
		}
		err = cpa_copy_up_one(next, wbr, -1, false, true);
		if (err == -EROFS && (how & CPA_TO_DOWN))
			err = cpa_copy_down_one(next, wbr, false);
		else if (err == -EROFS && (how & CPA_TO_OVER))
			err = cpa_copy_down_one(next, wbr, true);
		dput(next);
	}
	return err;
}

/*
 * For a copy-up to @wbr, the branch cpa_copyup_target() picked: it may
 * need a parent copied over (cpa_copyup_linked_target()).
 */
int cpa_copy_up_parents(struct dentry *dentry, struct cpa_branch *wbr)
{
	return cpa_parents_to(dentry, wbr, CPA_TO_OVER);
}

/*
 * Make sure @dentry's top object is on a writable branch, copying it up
 * (parents first) to the branch cpup= picks.  A regular file gets its
 * first @len bytes (all if @len < 0), or with @meta its attributes only.
 */
static int cpa_copy_up_flags(struct dentry *dentry, loff_t len, bool meta)
{
	struct inode *inode = d_inode(dentry);
	struct cpa_branch *wbr, *ubr;
	struct path upper, data;
	int err = 0;

	if (!cpa_sb_writable(dentry->d_sb))
		return -EROFS;

	ubr = cpa_entry_upper_br(CPA_E(dentry));
	if (ubr && !cpa_branch_writable(ubr) && d_is_dir(dentry)) {
		/* Its branch may have been made read-only since: look again. */
		cpa_dir_fresh(dentry);
		ubr = cpa_entry_upper_br(CPA_E(dentry));
	}
	if (ubr && !cpa_branch_writable(ubr))
		return -EROFS;	/* on branch 0, read-only: nothing above */
	if (!ubr) {
		struct dentry *parent;
		bool unchanged = false;

		wbr = cpa_copyup_target(dentry);
		if (!wbr)
			return -EROFS;
		parent = dget_parent(dentry);
		err = cpa_copy_up_parents(dentry, wbr);
		/* Before the copy changes it (udba.c). */
		if (!err)
			unchanged = cpa_udba_unchanged(parent);
		if (!err)
			err = cpa_copy_up_one(dentry, wbr, len, meta, false);
		if (!err)
			cpa_udba_changed(parent, unchanged);
		dput(parent);
	}
	if (err || meta || !S_ISREG(inode->i_mode) ||
	    !READ_ONCE(CPA_I(inode)->metacopy))
		return err;

	cpa_path_data(dentry, &data);
	upper.dentry = cpa_entry_upper(CPA_E(dentry));
	upper.mnt = cpa_entry_upper_br(CPA_E(dentry))->path.mnt;
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
 * ACLs, inode flags): copy it up, a regular file without its data if
 * @meta.
 */
int cpa_copy_up_to_change(struct dentry *dentry, bool meta)
{
	return cpa_copy_up_flags(dentry, -1, meta);
}

/*
 * Complete the metadata-only copy @h on @wbr met while copying a tree,
 * through its union inode, so that it is ordered against any other
 * copy-up of the file.
 */
static int cpa_tree_complete(struct super_block *sb, struct cpa_branch *wbr,
			     struct dentry *h, const struct path *data)
{
	struct path upper = { .mnt = wbr->path.mnt, .dentry = h };
	struct inode *inode;
	unsigned long ino;
	int err;

	err = cpa_xino_ino(sb, wbr, d_inode(h), &ino);
	if (err)
		return err;
	inode = cpa_get_inode(sb, h, wbr, ino, true);
	if (IS_ERR(inode))
		return PTR_ERR(inode);
	err = cpa_metacopy_complete(inode, &upper, data, -1);
	iput(inode);
	return err;
}

/* Copying a directory tree: what one level needs. */
struct cpa_tree {
	struct super_block *sb;
	struct cpa_branch *wbr;	/* where the tree is copied */
	struct cpa_entry *e;	/* the directory, slot 0 set, on @wbr */
	int depth;
};

static int cpa_copy_tree_entry(const char *name, int len, void *arg);

/* Copy everything listed in the directory of @e to its slot 0, on @wbr. */
static int cpa_copy_tree_dir(struct super_block *sb, struct cpa_branch *wbr,
			     struct cpa_entry *e, int depth)
{
	struct cpa_tree t = { .sb = sb, .wbr = wbr, .e = e, .depth = depth };

	if (depth > 256)
		return -ELOOP;
	return cpa_dir_for_each(sb, e, cpa_copy_tree_entry, &t);
}

static int cpa_copy_tree_entry(const char *name, int len, void *arg)
{
	struct cpa_tree *t = arg;
	struct super_block *sb = t->sb;
	struct cpa_branch *wbr = t->wbr;
	struct qstr q = QSTR_INIT(name, len);
	struct dentry *upper = NULL;
	struct cpa_entry *ce;
	struct path lower, data;
	struct kstat st;
	unsigned long ino;
	bool meta = false, here;
	int err, top;

	if (fatal_signal_pending(current))
		return -EINTR;
	ce = cpa_lookup_entry(sb, t->e, 0, name, len);
	if (IS_ERR_OR_NULL(ce))
		return PTR_ERR_OR_ZERO(ce);

	/* Where the data is when the top object holds metadata only. */
	data.mnt = cpa_entry_br(sb, ce, ce->count - 1)->path.mnt;
	data.dentry = ce->h[ce->count - 1].dentry;
	/* Already on @wbr, or on another writable branch, to copy too. */
	here = ce->h[0].dentry && ce->h[0].br == wbr;
	if (here && ce->metacopy) {
		/* The opaque copy will hide the data: copy it now. */
		err = cpa_tree_complete(sb, wbr, ce->h[0].dentry, &data);
		if (err)
			goto out;
	} else if (!here) {
		top = ce->h[0].dentry ? 0 : 1;
		lower.mnt = ce->h[top].br->path.mnt;
		lower.dentry = ce->h[top].dentry;
		if (!ce->metacopy)
			data = lower;
		err = cpa_do_getattr(&lower, &st, STATX_BASIC_STATS,
				     AT_STATX_SYNC_AS_STAT);
		if (err)
			goto out;
		upper = cpa_copy_object(sb, wbr, &lower, &data, &st, -1, &meta,
					cpa_entry_upper(t->e), &q);
		if (IS_ERR(upper)) {
			err = PTR_ERR(upper);
			goto out;
		}
		/* A marked copy made meanwhile: complete it as well. */
		err = meta ? cpa_tree_complete(sb, wbr, upper, &data) : 0;
		if (err)
			goto out;
		/* The copy keeps the union inode number of the original. */
		err = cpa_xino_ino(sb, ce->h[top].br, d_inode(lower.dentry),
				   &ino);
		if (!err)
			err = cpa_xino_set(sb, wbr, d_inode(upper), ino);
		if (err)
			goto out;
		/* A private entry: nobody reads it meanwhile. */
		if (top == 0) {
			/* The object copied stays, as a lower slot. */
			err = cpa_entry_demote(&ce);
			if (err)
				goto out;
		}
		cpa_branch_put(ce->h[0].br);
		ce->h[0].br = cpa_branch_get(wbr);
		ce->h[0].dentry = upper;
		upper = NULL;
	}
	err = 0;
	if (d_is_dir(ce->h[0].dentry) && ce->count > 1)
		err = cpa_copy_tree_dir(sb, wbr, ce, t->depth + 1);
out:
	if (!IS_ERR_OR_NULL(upper))
		dput(upper);
	cpa_entry_free(ce);
	return err;
}

/*
 * Copy up the directory @dentry with everything the union shows in it, and
 * make the copy opaque: from then on it stands alone on its writable
 * branch and can move like any directory of that branch.
 */
int cpa_copy_up_tree(struct dentry *dentry)
{
	struct super_block *sb = dentry->d_sb;
	struct cpa_entry *e = CPA_E(dentry);
	struct cpa_branch *wbr;
	struct vfsmount *mnt;
	const struct cred *old;
	int err;

	err = cpa_copy_up(dentry);
	if (err || e->count == 1 || e->opaque)
		return err;

	wbr = cpa_entry_upper_br(e);
	mnt = wbr->path.mnt;
	err = mnt_want_write(mnt);
	if (err)
		return err;
	old = cpa_override_creds(sb);
	err = cpa_copy_tree_dir(sb, wbr, e, 0);
	if (!err)
		err = cpa_wh_make_opaque(wbr, cpa_entry_upper(e));
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
