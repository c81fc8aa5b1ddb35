// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: namespace operations.  A new object goes to a writable branch
 * that holds its parent (create=, cpa_create_slot()), the parent copied
 * up first if it has none; an object changes on its own writable branch,
 * or on the one its copy-up picks (cpup=).
 *
 * Removing a name that lower branches also hold leaves a whiteout
 * ".wh.<name>" beside it.  Creating a name that was whited out removes the
 * whiteout, and a directory made there is marked opaque, so that nothing
 * of the lower branches shows through it.
 */
#include <linux/slab.h>
#include "cppaufs.h"

/* What a create-like operation makes. */
struct cpa_cattr {
	umode_t mode;
	dev_t rdev;
	const char *link;	/* symlink target */
	struct dentry *hardlink;	/* upper object to link to */
	struct cpa_branch *force;	/* its branch */
};

/* Names the union keeps for itself. */
static int cpa_check_name(struct dentry *dentry)
{
	const struct qstr *q = &dentry->d_name;

	return cpa_is_wh_name(q->name, q->len) ? -EINVAL : 0;
}

/*
 * Does @dentry's name exist below slot @slot of its parent's entry, so
 * that removing it from there needs a whiteout?  1, 0, or -errno.
 */
static int cpa_lower_exists(struct dentry *dentry, int slot)
{
	struct cpa_entry *pe = CPA_E(dentry->d_parent);
	struct cpa_entry *e;

	e = cpa_lookup_entry(dentry->d_sb, pe, slot + 1, dentry->d_name.name,
			     dentry->d_name.len);
	if (IS_ERR_OR_NULL(e))
		return PTR_ERR_OR_ZERO(e);
	cpa_entry_free(e);
	return 1;
}

/*
 * Before making @dentry: find the parent's slot it goes to (copying the
 * parent up if need be; on the branch @force if set) and take write
 * access to that branch (undo with mnt_drop_write).  Returns the slot, or
 * -errno.
 */
static int cpa_parent_begin(struct dentry *dentry, struct cpa_branch *force,
			    unsigned int flags)
{
	struct cpa_entry *pe;
	int slot, err;

	slot = cpa_create_slot(dentry, force, flags);
	if (slot < 0)
		return slot;
	pe = CPA_E(dentry->d_parent);
	err = mnt_want_write(cpa_entry_br(dentry->d_sb, pe, slot)->path.mnt);
	return err ? err : slot;
}

/*
 * Make the object of @ca at the negative upper dentry @*hp.  mkdir may
 * replace it with the dentry of the new directory, and drops it on
 * failure (*hp is NULL then).
 */
static int cpa_h_make(struct inode *h_dir, struct dentry **hp,
		      const struct cpa_cattr *ca)
{
	umode_t mode = cpa_acl_create_mode(h_dir, ca->mode);
	struct dentry *d;

	if (ca->hardlink)
		return cpa_do_link(ca->hardlink, h_dir, *hp);
	switch (ca->mode & S_IFMT) {
	case S_IFREG:
		return cpa_do_create(h_dir, *hp, mode);
	case S_IFDIR:
		d = cpa_do_mkdir(h_dir, *hp, mode);
		*hp = IS_ERR(d) ? NULL : d;
		return PTR_ERR_OR_ZERO(d);
	case S_IFLNK:
		return cpa_do_symlink(h_dir, *hp, ca->link);
	default:
		return cpa_do_mknod(h_dir, *hp, mode, ca->rdev);
	}
}

/*
 * Attach the object @h of the writable branch @br to the negative union
 * dentry @dentry.
 */
static int cpa_instantiate(struct dentry *dentry, struct cpa_branch *br,
			   struct dentry *h, struct inode *inode)
{
	struct cpa_entry *e = cpa_entry_alloc(1);

	if (!e)
		return -ENOMEM;
	e->h[0].br = cpa_branch_get(br);
	e->h[0].dentry = dget(h);
	if (inode) {
		ihold(inode);
	} else {
		inode = cpa_entry_inode(dentry->d_sb, e);
		if (IS_ERR(inode)) {
			cpa_entry_free(e);
			return PTR_ERR(inode);
		}
	}
	/* udba=notify: a directory made is watched. */
	if (S_ISDIR(inode->i_mode))
		cpa_notify_watch(dentry->d_sb, e, inode);
	/* Checked against its parent as it is now (udba.c). */
	e->pgen = READ_ONCE(CPA_E(dentry->d_parent)->sgen);
	/* A negative dentry may still carry the entry of a removed object. */
	cpa_entry_free(dentry->d_fsdata);
	/* Complete before seen: udba=reval reads it in RCU-walk. */
	smp_store_release(&dentry->d_fsdata, e);
	d_instantiate(dentry, inode);
	return 0;
}

static int cpa_create_object(struct inode *dir, struct dentry *dentry,
			     const struct cpa_cattr *ca, struct inode *inode)
{
	struct super_block *sb = dir->i_sb;
	const struct qstr *q = &dentry->d_name;
	struct dentry *upperdir, *h;
	struct cpa_entry *pe;
	struct cpa_branch *br;
	struct inode *h_dir;
	const struct cred *old;
	int err, wh, slot, i;
	bool below = false, unchanged;

	err = cpa_check_name(dentry);
	if (err)
		return err;
	/* Before anything changes in it (udba.c). */
	unchanged = cpa_udba_unchanged(dentry->d_parent);
	slot = cpa_parent_begin(dentry, ca->force,
				S_ISDIR(ca->mode) ? CPA_CREATE_DIR : 0);
	if (slot < 0)
		return slot;
	pe = CPA_E(dentry->d_parent);
	br = cpa_entry_br(sb, pe, slot);
	upperdir = cpa_entry_dentry(pe, slot);
	for (i = slot + 1; i < pe->count; i++)
		below |= !!cpa_entry_dentry(pe, i);
	h_dir = d_inode(upperdir);
	old = cpa_override_creds_owner(sb);
	if (IS_ERR(old)) {
		err = PTR_ERR(old);
		goto out_drop;
	}
	/* udba=notify: the VFS tells @dir of this name (notify.c). */
	WRITE_ONCE(CPA_I(dir)->maker, current);
	inode_lock_nested(h_dir, I_MUTEX_PARENT);
	/* A whiteout matters only where a lower branch could show through. */
	wh = below ? cpa_wh_test_locked(upperdir, q->name, q->len) : 0;
	h = cpa_do_lookup_locked(upperdir, q->name, q->len);
	if (IS_ERR(h)) {
		err = PTR_ERR(h);
		goto out_unlock;
	}
	err = wh < 0 ? wh : d_is_positive(h) ? -EEXIST : 0;
	if (!err)
		err = cpa_h_make(h_dir, &h, ca);
	if (err)
		goto out_dput;

	/* Over a whiteout, nothing of the lower directory may show through. */
	if (wh > 0 && d_is_dir(h))
		err = cpa_wh_make_opaque(br, h);
	if (!err && wh > 0)
		err = cpa_wh_remove(upperdir, q->name, q->len);
	if (!err)
		err = cpa_instantiate(dentry, br, h, inode);
	if (err) {
		/* Take back what was made, so that a failure changes nothing. */
		if (d_is_dir(h)) {
			cpa_wh_clear_dir(br, h);
			cpa_do_rmdir(h_dir, h);
		} else {
			cpa_do_unlink(h_dir, h);
		}
		goto out_dput;
	}
	cpa_dir_changed(dir);
	cpa_copyattr(dir);
out_dput:
	dput(h);
out_unlock:
	inode_unlock(h_dir);
	WRITE_ONCE(CPA_I(dir)->maker, NULL);
	cpa_revert_creds_owner(old);
out_drop:
	mnt_drop_write(br->path.mnt);
	/* Under no lock of a branch: it takes the copy lock. */
	if (!err)
		cpa_udba_changed(dentry->d_parent, unchanged);
	/* create=mfs|pmfs: this branch is full, look again next time. */
	if (err == -ENOSPC)
		cpa_create_nospc(br);
	return err;
}

int cpa_create(CPA_IDMAP_PARAM struct inode *dir, struct dentry *dentry,
	       umode_t mode, bool excl)
{
	CPA_BRANCHES_GUARD(dir->i_sb);
	CPA_ENTRIES_GUARD();
	struct cpa_cattr ca = { .mode = (mode & 07777) | S_IFREG };

	return cpa_create_object(dir, dentry, &ca, NULL);
}

/* The union dentry @dentry itself gets the new directory. */
CPA_MKDIR_RET cpa_mkdir(CPA_IDMAP_PARAM struct inode *dir,
			struct dentry *dentry, umode_t mode)
{
	CPA_BRANCHES_GUARD(dir->i_sb);
	CPA_ENTRIES_GUARD();
	struct cpa_cattr ca = { .mode = (mode & 07777) | S_IFDIR };

	return cpa_mkdir_ret(cpa_create_object(dir, dentry, &ca, NULL));
}

int cpa_mknod(CPA_IDMAP_PARAM struct inode *dir, struct dentry *dentry,
	      umode_t mode, dev_t rdev)
{
	CPA_BRANCHES_GUARD(dir->i_sb);
	CPA_ENTRIES_GUARD();
	struct cpa_cattr ca = { .mode = mode, .rdev = rdev };

	return cpa_create_object(dir, dentry, &ca, NULL);
}

int cpa_symlink(CPA_IDMAP_PARAM struct inode *dir, struct dentry *dentry,
		const char *target)
{
	CPA_BRANCHES_GUARD(dir->i_sb);
	CPA_ENTRIES_GUARD();
	struct cpa_cattr ca = { .mode = S_IFLNK | 0777, .link = target };

	return cpa_create_object(dir, dentry, &ca, NULL);
}

int cpa_link(struct dentry *old, struct inode *dir, struct dentry *new)
{
	CPA_BRANCHES_GUARD(dir->i_sb);
	CPA_ENTRIES_GUARD();
	struct inode *inode = d_inode(old);
	struct cpa_cattr ca = { .mode = inode->i_mode };
	int err;

	/* Refuse a bad name before copying anything up. */
	if (!cpa_sb_writable(dir->i_sb))
		return -EROFS;
	err = cpa_check_name(new);
	if (err)
		return err;
	err = cpa_copy_up(old);
	if (err)
		return err;
	ca.hardlink = cpa_entry_upper(CPA_E(old));
	ca.force = cpa_entry_upper_br(CPA_E(old));
	err = cpa_create_object(dir, new, &ca, inode);
	if (!err)
		cpa_copyattr(inode);
	return err;
}

/*
 * O_TMPFILE: an unnamed file on the writable branch create= picks, in the
 * directory's object there.
 * linkat() later gives it a name through cpa_link().  @arg is the file
 * being opened, or its dentry on older kernels (CPA_TMPFILE_ARG).
 */
static struct inode *cpa_tmpfile_make(struct inode *dir, CPA_TMPFILE_ARG arg,
				      umode_t mode)
{
	CPA_BRANCHES_GUARD(dir->i_sb);
	CPA_ENTRIES_GUARD();
	struct dentry *dentry = cpa_tmpfile_dentry(arg);
	struct super_block *sb = dir->i_sb;
	struct path upperdir;
	struct vfsmount *mnt;
	struct cpa_branch *br;
	const struct cred *old;
	struct cpa_entry *e;
	struct inode *inode;
	struct dentry *h;
	int err, slot;

	/* The unnamed file's name is no name: no whiteout can hide it. */
	slot = cpa_parent_begin(dentry, NULL, CPA_CREATE_UNNAMED);
	if (slot < 0)
		return ERR_PTR(slot);
	br = cpa_entry_br(sb, CPA_E(dentry->d_parent), slot);
	mnt = br->path.mnt;
	upperdir.mnt = mnt;
	upperdir.dentry = cpa_entry_dentry(CPA_E(dentry->d_parent), slot);

	old = cpa_override_creds_owner(sb);
	if (IS_ERR(old)) {
		err = PTR_ERR(old);
		goto out_drop;
	}
	h = cpa_tmpfile_create(&upperdir, mode, cpa_tmpfile_flags(arg));
	cpa_revert_creds_owner(old);
	if (IS_ERR(h)) {
		err = PTR_ERR(h);
		goto out_drop;
	}

	e = cpa_entry_alloc(1);
	if (!e) {
		dput(h);
		err = -ENOMEM;
		goto out_drop;
	}
	e->h[0].br = cpa_branch_get(br);
	e->h[0].dentry = h;
	inode = cpa_entry_inode(sb, e);
	if (IS_ERR(inode)) {
		cpa_entry_free(e);
		err = PTR_ERR(inode);
		goto out_drop;
	}
	dentry->d_fsdata = e;
	/* d_tmpfile() drops the one link a new inode is born with. */
	set_nlink(inode, 1);
	err = 0;
out_drop:
	mnt_drop_write(mnt);
	return err ? ERR_PTR(err) : inode;
}

/* ->open, which finishing calls, holds off changes of branches itself. */
int cpa_tmpfile(CPA_IDMAP_PARAM struct inode *dir, CPA_TMPFILE_ARG arg,
		umode_t mode)
{
	struct inode *inode = cpa_tmpfile_make(dir, arg, mode);

	if (IS_ERR(inode))
		return PTR_ERR(inode);
	/* ->open opens the branch file again, from slot 0. */
	return cpa_tmpfile_finish(arg, inode);
}

/*
 * Where the name @dentry is removed: the branch of its upper object, on
 * a writable branch, or the one its copy-up would go to (only a whiteout
 * is made there then).  The parent gets an object there if need be.
 * Returns the parent's slot, or -errno.
 */
static int cpa_remove_slot(struct dentry *dentry)
{
	struct cpa_branch *br = cpa_entry_upper_br(CPA_E(dentry));
	int err;

	if (!cpa_sb_writable(dentry->d_sb))
		return -EROFS;
	if (br && !cpa_branch_writable(br))
		return -EROFS;
	if (!br)
		br = cpa_copyup_target(dentry);
	if (!br)
		return -EROFS;
	err = cpa_copy_up_parents(dentry, br);
	if (err)
		return err;
	err = cpa_entry_slot(CPA_E(dentry->d_parent), br);
	return err < 0 ? -ESTALE : err;
}

/*
 * Remove @dentry: its upper object, if any, and a whiteout beside it
 * hides what branches below hold.  The whiteout comes first, so that a
 * failure never uncovers a lower object.
 */
static int cpa_remove(struct inode *dir, struct dentry *dentry, bool is_dir)
{
	struct super_block *sb = dir->i_sb;
	const struct qstr *q = &dentry->d_name;
	struct dentry *upperdir, *upper;
	struct cpa_branch *br;
	struct inode *h_dir;
	const struct cred *old;
	int err, lower, slot;
	bool unchanged;

	if (is_dir && cpa_sb_writable(sb)) {
		err = cpa_dir_empty(dentry);
		if (err)
			return err;
	}
	/* Before anything changes in it (udba.c). */
	unchanged = cpa_udba_unchanged(dentry->d_parent);
	slot = cpa_remove_slot(dentry);
	if (slot < 0)
		return slot;
	br = cpa_entry_br(sb, CPA_E(dentry->d_parent), slot);
	upperdir = cpa_entry_dentry(CPA_E(dentry->d_parent), slot);
	err = mnt_want_write(br->path.mnt);
	if (err)
		return err;
	h_dir = d_inode(upperdir);
	/*
	 * A reference of our own: were the entry's the only one, the unlink
	 * would turn the branch dentry negative (d_delete), under a union
	 * dentry that a concurrent stat may still hold.
	 */
	upper = cpa_entry_upper_br(CPA_E(dentry)) == br ?
		dget(cpa_entry_upper(CPA_E(dentry))) : NULL;
	old = cpa_override_creds(sb);
	lower = cpa_lower_exists(dentry, slot);
	if (lower < 0) {
		err = lower;
		goto out_revert;
	}
	if (upper && is_dir) {
		err = cpa_wh_clear_dir(br, upper);
		if (err)
			goto out_revert;
	}

	inode_lock_nested(h_dir, I_MUTEX_PARENT);
	if (lower) {
		err = cpa_wh_create(br, upperdir, q->name, q->len);
		cpa_wh_hint_forget(CPA_E(dentry->d_parent), slot);
	}
	if (!err && upper) {
		if (upper->d_parent != upperdir || d_unhashed(upper))
			err = -ESTALE;
		else if (is_dir)
			err = cpa_do_rmdir(h_dir, upper);
		else
			err = cpa_do_unlink(h_dir, upper);
		if (err && lower)
			cpa_wh_remove(upperdir, q->name, q->len);
	}
	inode_unlock(h_dir);
	if (err)
		goto out_revert;

	cpa_dir_changed(dir);
	cpa_copyattr(dir);
	/*
	 * The entry still holds the removed branch object: let the dentry
	 * go with its last reference, so that the branch frees the object
	 * now, not when the dentry cache is shrunk.
	 */
	if (upper)
		d_drop(dentry);
	if (upper && !is_dir)
		cpa_copyattr(d_inode(dentry));
	else if (is_dir)
		clear_nlink(d_inode(dentry));
out_revert:
	cpa_revert_creds(old);
	dput(upper);
	mnt_drop_write(br->path.mnt);
	/* Under no lock of a branch: it takes the copy lock. */
	if (!err)
		cpa_udba_changed(dentry->d_parent, unchanged);
	/* A lower name gone: other names may be counted (plink.c). */
	if (!err && !upper && !is_dir && !cpa_plink_name_gone(dentry))
		clear_nlink(d_inode(dentry));
	return err;
}

int cpa_unlink(struct inode *dir, struct dentry *dentry)
{
	CPA_BRANCHES_GUARD(dir->i_sb);
	CPA_ENTRIES_GUARD();
	return cpa_remove(dir, dentry, false);
}

int cpa_rmdir(struct inode *dir, struct dentry *dentry)
{
	CPA_BRANCHES_GUARD(dir->i_sb);
	CPA_ENTRIES_GUARD();
	return cpa_remove(dir, dentry, true);
}

/*
 * A directory that lower branches also hold moves as a whole: its merged
 * content is copied up first, into an opaque directory.
 */
static int cpa_rename_prepare_dir(struct dentry *dentry)
{
	if (!d_really_is_positive(dentry) || !d_is_dir(dentry))
		return 0;
	return cpa_copy_up_tree(dentry);
}

int cpa_rename(CPA_IDMAP_PARAM struct inode *olddir, struct dentry *old,
	       struct inode *newdir, struct dentry *new, unsigned int flags)
{
	CPA_BRANCHES_GUARD(olddir->i_sb);
	CPA_ENTRIES_GUARD();
	struct super_block *sb = olddir->i_sb;
	bool exchange = flags & RENAME_EXCHANGE;
	struct dentry *oldup, *newup, *h_old, *h_new;
	struct cpa_branch *br;
	struct cpa_renaming rn;
	const struct cred *cred;
	int err, lower = 0, new_lower = 0, wh = 0, oslot, nslot;
	bool new_lower_gone = false, old_unchanged, new_unchanged;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	if (!cpa_sb_writable(sb))
		return -EROFS;
	err = cpa_check_name(new);
	if (err)
		return err;
	if (!exchange && d_really_is_positive(new) && d_is_dir(new)) {
		err = cpa_dir_empty(new);
		if (err)
			return err;
	}
	err = cpa_rename_prepare_dir(old);
	if (!err && exchange)
		err = cpa_rename_prepare_dir(new);
	if (err)
		return err;
	/* Before anything changes in them (udba.c). */
	old_unchanged = cpa_udba_unchanged(old->d_parent);
	new_unchanged = old->d_parent == new->d_parent ? old_unchanged :
			cpa_udba_unchanged(new->d_parent);

	err = cpa_copy_up(old);
	if (!err && exchange)
		err = cpa_copy_up(new);
	if (err)
		return err;
	/*
	 * Both names on the branch of the old one's upper object: the new
	 * one must be free to be there (above what it replaces, no
	 * whiteout above it), else the caller copies (EXDEV).
	 */
	br = cpa_entry_upper_br(CPA_E(old));
	if (exchange && cpa_entry_upper_br(CPA_E(new)) != br)
		return -EXDEV;
	if (!exchange && d_really_is_positive(new) &&
	    cpa_entry_upper_br(CPA_E(new)) != br &&
	    (cpa_entry_upper(CPA_E(new)) ||
	     !cpa_br_above(sb, br, cpa_dentry_br(new))))
		return -EXDEV;
	nslot = cpa_create_slot(new, br, 0);
	if (nslot < 0)
		return nslot == -EROFS ? -EXDEV : nslot;
	oslot = cpa_entry_slot(CPA_E(old->d_parent), br);
	if (oslot < 0)
		return -ESTALE;
	oldup = cpa_entry_dentry(CPA_E(old->d_parent), oslot);
	newup = cpa_entry_dentry(CPA_E(new->d_parent), nslot);
	h_old = cpa_entry_upper(CPA_E(old));

	err = mnt_want_write(br->path.mnt);
	if (err)
		return err;
	cred = cpa_override_creds(sb);
	if (!exchange) {
		lower = cpa_lower_exists(old, oslot);
		if (lower >= 0 && d_is_dir(old))
			new_lower = cpa_lower_exists(new, nslot);
		if (lower < 0 || new_lower < 0) {
			err = lower < 0 ? lower : new_lower;
			goto out_revert;
		}
		/*
		 * RENAME_WHITEOUT (overlayfs stacked on the union asks for
		 * it) leaves a 0/0 character device at the old name on
		 * its branch, which hides whatever lower branches hold there:
		 * no aufs whiteout is needed.
		 */
		if (flags & RENAME_WHITEOUT)
			lower = 0;
		/* An emptied target directory still holds whiteouts. */
		if (d_really_is_positive(new) && d_is_dir(new) &&
		    cpa_entry_upper(CPA_E(new))) {
			err = cpa_wh_clear_dir(br, cpa_entry_upper(CPA_E(new)));
			if (err)
				goto out_revert;
		}
	}

	/* Fails if the branch changed behind the union. */
	err = cpa_start_renaming(&rn, oldup, h_old, newup, &new->d_name);
	if (err)
		goto out_revert;
	h_new = rn.new;
	err = -EEXIST;
	if ((flags & RENAME_NOREPLACE) && d_is_positive(h_new))
		goto out_end;
	if (!exchange) {
		wh = cpa_wh_test_locked(newup, new->d_name.name,
					new->d_name.len);
		err = wh;
		if (wh < 0)
			goto out_end;
		err = lower ? cpa_wh_create(br, oldup, old->d_name.name,
					    old->d_name.len) : 0;
		if (lower)
			cpa_wh_hint_forget(CPA_E(old->d_parent), oslot);
		if (err)
			goto out_end;
	}
	err = cpa_do_rename(oldup, h_old, newup, h_new, flags);
	if (err) {
		if (lower)
			cpa_wh_remove(oldup, old->d_name.name, old->d_name.len);
		goto out_end;
	}
	/* Nothing below the new name may show through a moved directory. */
	if (!exchange && d_is_dir(h_old) && (wh > 0 || new_lower > 0))
		err = cpa_wh_make_opaque(br, h_old);
	if (!err && wh > 0)
		err = cpa_wh_remove(newup, new->d_name.name, new->d_name.len);
	cpa_dir_changed(olddir);
	cpa_dir_changed(newdir);
out_end:
	cpa_end_renaming(&rn);
	/* What the new name replaced: gone, or counted by plink.c. */
	if (!err && !exchange && d_really_is_positive(new)) {
		if (cpa_entry_upper(CPA_E(new)) && !d_is_dir(new))
			cpa_copyattr(d_inode(new));
		else if (d_is_dir(new))
			clear_nlink(d_inode(new));
		else
			new_lower_gone = true;
	}
out_revert:
	cpa_revert_creds(cred);
	mnt_drop_write(br->path.mnt);
	/* A replaced lower name: other names may be counted (plink.c). */
	if (new_lower_gone && !cpa_plink_name_gone(new))
		clear_nlink(d_inode(new));
	if (!err) {
		cpa_copyattr(olddir);
		cpa_copyattr(newdir);
		cpa_udba_changed(old->d_parent, old_unchanged);
		if (new->d_parent != old->d_parent)
			cpa_udba_changed(new->d_parent, new_unchanged);
	}
	return err;
}
