// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: pseudo-links, in aufs's ".wh..wh.plnk" directory.
 *
 * Copying up one name of a lower file that has several hard links would
 * split it: the copied name would see its own file, the others the lower
 * one.  Instead, the first copy-up of such a file also links the copy as
 * ".wh..wh.plnk/<union inode number>"; every other name of the file is
 * copied up by linking to it, so all names stay one file on the writable
 * branch as they were one file below.
 *
 * The link count of such a file counts its names on the writable branch
 * (the pseudo-link is none) and its lower names still visible.  Lower
 * names are hidden one by one, as they are copied up, whited out or
 * replaced, and the union cannot find the others: how many remain is kept
 * as the size of the empty file ".wh..wh.plnk/<union inode number>.lower",
 * which a truncation changes atomically on any file system.  It is made
 * when the first lower name is hidden, and lives as long as the union
 * inode's number.
 *
 * Pseudo-links live on one branch: the first writable branch as mounted
 * (cpa_plink_br()).  With several writable branches, every name of such a
 * file is copied up to that one, whatever cpup= says, so that the names
 * stay one file (cpa_copyup_target()); a parent directory that another
 * writable branch holds gets an object there too (copy-over).  Only a
 * name that cannot go there (the branch is read-only now, or below the
 * file) gets a copy of its own elsewhere.  A remount may move that branch
 * down or make it read-only: its pseudo-links are still found by the
 * names whose copies are there, but no name links to them any more, and
 * no record is written.  A remount may also remove it: the union then has
 * no pseudo-links, and names of linked files are copied as any other from
 * then on.
 */
#include "cppaufs.h"

/*
 * The branch of the pseudo-links, referenced, or NULL.  Callers that hold
 * the branches (CPA_BRANCHES_GUARD()) and have it as the writable branch
 * they use need no reference of their own; lookups do.
 */
struct cpa_branch *cpa_plink_br_get(struct super_block *sb)
{
	struct cpa_branch *br;

	rcu_read_lock();
	br = rcu_dereference(CPA_SB(sb)->plink_br);
	/* A remount is removing it: as if gone. */
	if (br && !refcount_inc_not_zero(&br->ref))
		br = NULL;
	rcu_read_unlock();
	return br;
}

static int cpa_plink_name(char *buf, size_t size, unsigned long ino)
{
	return snprintf(buf, size, "%lu", ino);
}

/*
 * The pseudo-link of union inode @ino on @pbr, the branch of the
 * pseudo-links or NULL: NULL, referenced, or ERR_PTR.
 */
struct dentry *cpa_plink_find(struct cpa_branch *pbr, unsigned long ino)
{
	struct dentry *dir = pbr ? pbr->plinkdir : NULL;
	struct dentry *d;
	char name[24];
	int len;

	if (!dir)
		return NULL;
	len = cpa_plink_name(name, sizeof(name), ino);
	d = cpa_do_lookup(dir, name, len);
	if (!IS_ERR(d) && d_is_negative(d)) {
		dput(d);
		d = NULL;
	}
	return d;
}

/*
 * Record @upper, the copy of union inode @ino on @pbr, the branch of the
 * pseudo-links, as its pseudo-link.
 */
int cpa_plink_add(struct cpa_branch *pbr, struct dentry *upper,
		  unsigned long ino)
{
	struct dentry *dir = pbr->plinkdir;
	struct dentry *d;
	char name[24];
	int len, err = 0;

	if (!dir)
		return 0;
	len = cpa_plink_name(name, sizeof(name), ino);
	inode_lock_nested(d_inode(dir), I_MUTEX_PARENT);
	d = cpa_do_lookup_locked(dir, name, len);
	if (IS_ERR(d)) {
		err = PTR_ERR(d);
	} else {
		/* A stale one, from a file removed since, is replaced. */
		if (d_is_positive(d) && d_inode(d) != d_inode(upper))
			err = cpa_do_unlink(d_inode(dir), d);
		if (!err && d_is_negative(d))
			err = cpa_do_link(upper, d_inode(dir), d);
		dput(d);
	}
	inode_unlock(d_inode(dir));
	return err;
}

/*
 * Link the pseudo-link @plink to @name in the directory @upperdir.
 * Returns the new name, referenced, or an ERR_PTR.
 */
struct dentry *cpa_plink_install(struct dentry *plink, struct dentry *upperdir,
				 const struct qstr *name)
{
	struct inode *dir = d_inode(upperdir);
	struct dentry *d;
	int err;

	inode_lock_nested(dir, I_MUTEX_PARENT);
	d = cpa_do_lookup_locked(upperdir, name->name, name->len);
	if (!IS_ERR(d)) {
		err = d_is_positive(d) ? -EEXIST : cpa_do_link(plink, dir, d);
		if (err) {
			dput(d);
			d = ERR_PTR(err);
		}
	}
	inode_unlock(dir);
	return d;
}

static int cpa_plink_lower_name(char *buf, size_t size, unsigned long ino)
{
	return snprintf(buf, size, "%lu" CPPAUFS_PLINK_LOWER, ino);
}

/*
 * How many lower names of union inode @ino are visible, per its record on
 * @pbr, the branch of the pseudo-links, or -1 when there is none.  Called
 * with the mounter's credentials.
 */
long cpa_plink_lower_read(struct cpa_branch *pbr, unsigned long ino)
{
	struct dentry *dir = pbr->plinkdir;
	struct dentry *d;
	char name[32];
	long left = -1;
	int len;

	if (!dir)
		return -1;
	len = cpa_plink_lower_name(name, sizeof(name), ino);
	d = cpa_do_lookup(dir, name, len);
	if (IS_ERR(d))
		return -1;
	if (d_is_reg(d))
		left = min_t(loff_t, i_size_read(d_inode(d)), UINT_MAX);
	dput(d);
	return left;
}

/* Record on @pbr that @left lower names of union inode @ino are visible. */
static int cpa_plink_lower_write(struct cpa_branch *pbr, unsigned long ino,
				 long left)
{
	struct dentry *dir = pbr->plinkdir;
	struct iattr attr = { .ia_valid = ATTR_SIZE, .ia_size = left };
	struct path path = {};
	struct dentry *d;
	char name[32];
	int len, err = 0;

	if (!dir)
		return 0;
	path.mnt = pbr->path.mnt;
	len = cpa_plink_lower_name(name, sizeof(name), ino);
	inode_lock_nested(d_inode(dir), I_MUTEX_PARENT);
	d = cpa_do_lookup_locked(dir, name, len);
	if (IS_ERR(d))
		err = PTR_ERR(d);
	else if (d_is_negative(d))
		err = cpa_do_create(d_inode(dir), d, S_IFREG | 0600);
	else if (!d_is_reg(d))
		err = -EEXIST;
	inode_unlock(d_inode(dir));
	if (IS_ERR(d))
		return err;
	if (!err) {
		path.dentry = d;
		inode_lock(d_inode(d));
		err = cpa_do_notify_change(&path, &attr);
		inode_unlock(d_inode(d));
	}
	dput(d);
	return err;
}

/*
 * One more lower name of @inode, a regular file with @lower_nlink lower
 * names, was hidden: copied up, whited out or replaced.  Recorded on
 * @pbr, the branch of the pseudo-links, unless NULL: then in memory only.
 * The caller holds the inode's copy_lock, write access to @pbr and the
 * mounter's credentials.
 */
void cpa_plink_hide(struct inode *inode, struct cpa_branch *pbr,
		    unsigned int lower_nlink)
{
	struct cpa_inode *ci = CPA_I(inode);
	unsigned long ino = inode->i_ino;
	long left = ci->lower_left;
	int err;

	if (left < 0)
		left = lower_nlink;
	if (left > 0)
		left--;
	err = pbr ? cpa_plink_lower_write(pbr, ino, left) : 0;
	if (err)
		pr_warn_ratelimited("cannot count the links of inode %lu (%d)\n",
				    ino, err);
	WRITE_ONCE(ci->lower_left, left);
}

/*
 * The name @dentry of a lower object, not copied up, was whited out or
 * replaced.  A regular file keeps count of its other names, if it has
 * any, and a link count of 0 otherwise; false for other objects, whose
 * link count the caller clears.  Takes the copy lock, then write access
 * to its branch, as copy-up does: the caller holds neither.
 */
bool cpa_plink_name_gone(struct dentry *dentry)
{
	const struct cpa_entry *e = CPA_E(dentry);
	struct inode *inode = d_inode(dentry);
	struct cpa_inode *ci = CPA_I(inode);
	struct cpa_branch *pbr;
	const struct cred *old;
	struct inode *lower;

	if (!S_ISREG(inode->i_mode))
		return false;
	lower = d_inode(cpa_entry_dentry(e, cpa_entry_top(e)));
	pbr = cpa_plink_br_get(dentry->d_sb);
	if (pbr && !cpa_branch_writable(pbr)) {
		cpa_branch_put(pbr);	/* counted in memory only */
		pbr = NULL;
	}
	mutex_lock(&ci->copy_lock);
	if (lower->i_nlink < 2 && ci->lower_left < 0) {
		WRITE_ONCE(ci->lower_left, 0);	/* its only name */
	} else if (!pbr || !mnt_want_write(pbr->path.mnt)) {
		old = cpa_override_creds(dentry->d_sb);
		cpa_plink_hide(inode, pbr, lower->i_nlink);
		cpa_revert_creds(old);
		if (pbr)
			mnt_drop_write(pbr->path.mnt);
	}
	mutex_unlock(&ci->copy_lock);
	cpa_branch_put(pbr);
	cpa_copyattr(inode);
	return true;
}

/*
 * Link count of a regular union inode: the names of its copy on the pseudo-links branch
 * but the pseudo-link, and the lower names still visible: all of them
 * until one was hidden, then as recorded.
 */
unsigned int cpa_plink_nlink(struct inode *inode)
{
	struct cpa_inode *ci = CPA_I(inode);
	/* Pairs with the release in copy-up: the copy is complete. */
	struct inode *upper = smp_load_acquire(&ci->upper);
	long left = READ_ONCE(ci->lower_left);
	unsigned int n = 0;

	if (!upper && ci->br == cpa_plink_br(inode->i_sb))
		upper = ci->real;
	if (upper) {
		n = upper->i_nlink;
		if (n && READ_ONCE(ci->plinked))
			n--;
	}
	if (left >= 0)
		n += left;
	else if (!upper)
		n += ci->real->i_nlink;
	return n;
}
