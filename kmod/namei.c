// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: lookup.
 *
 * A name is looked up in each branch that holds its parent, top-down.  The
 * first non-directory wins.  Directories merge until a branch holds a
 * non-directory of the same name, a whiteout ".wh.<name>" beside it, or an
 * opaque marker inside it.  A whiteout in branch b hides the name in every
 * branch below b, not in b itself.
 */
#include <linux/slab.h>
#include "cppaufs.h"

struct cpa_entry *cpa_entry_alloc(int count)
{
	struct cpa_entry *e = kzalloc(struct_size(e, h, count), GFP_KERNEL);

	if (e) {
		e->count = count;
		cpa_objects_inc();
	}
	return e;
}

/* Give @*ep twice its slots, at most @max; the new slots are empty. */
static int cpa_entry_grow(struct cpa_entry **ep, int max)
{
	struct cpa_entry *old = *ep, *e;
	int count = min(2 * old->count, max);

	e = krealloc(old, struct_size(e, h, count), GFP_KERNEL);
	if (!e)
		return -ENOMEM;	/* @old is still there for the caller */
	memset(&e->h[e->count], 0, (count - e->count) * sizeof(e->h[0]));
	e->count = count;
	*ep = e;
	return 0;
}

/*
 * Make slot 0 of the entry @*ep, not yet seen by anyone else, empty: every
 * slot moves one down.
 */
int cpa_entry_demote(struct cpa_entry **ep)
{
	struct cpa_entry *e = krealloc(*ep, struct_size(e, h, (*ep)->count + 1),
				       GFP_KERNEL);

	if (!e)
		return -ENOMEM;	/* @*ep is still there for the caller */
	memmove(&e->h[1], &e->h[0], e->count * sizeof(e->h[0]));
	e->h[0].br = NULL;
	e->h[0].dentry = NULL;
	e->count++;
	*ep = e;
	return 0;
}

/*
 * Put the dentry @h of branch @br in slot @n (not 0) of @*ep, growing it
 * up to @max slots.  On failure @h is dropped.
 */
static int cpa_entry_put(struct cpa_entry **ep, int n, struct cpa_branch *br,
			 struct dentry *h, int max)
{
	if (n == (*ep)->count) {
		int err = cpa_entry_grow(ep, max);

		if (err) {
			dput(h);
			return err;
		}
	}
	(*ep)->h[n].br = cpa_branch_get(br);
	(*ep)->h[n].dentry = h;
	return 0;
}

/* Drop what the entry @e references. */
static void cpa_entry_put_refs(struct cpa_entry *e)
{
	int i;

	/* Maybe in reclaim: the marks go from a work item. */
	cpa_notify_unwatch(e, false);
	for (i = 0; i < e->count; i++) {
		dput(e->h[i].dentry);
		cpa_branch_put(e->h[i].br);
	}
	iput(e->real);
	cpa_branch_put(e->real_br);
	iput(e->upper);
	cpa_branch_put(e->upper_br);
	cpa_wh_hints_free(e);
}

/* Free @e. */
void cpa_entry_free(struct cpa_entry *e)
{
	if (!e)
		return;
	cpa_entry_put_refs(e);
	/* udba=reval reads entries in RCU-walk (udba.c). */
	kfree_rcu(e, rcu);
	cpa_objects_dec();
}

/* Free the entry @e that nobody else has seen: no grace period. */
static void cpa_entry_free_unseen(struct cpa_entry *e)
{
	cpa_entry_put_refs(e);
	kfree(e);
	cpa_objects_dec();
}

DEFINE_SRCU(cpa_entry_srcu);
static LLIST_HEAD(cpa_retired);

/* Free the retired entries: dput() and iput() may sleep. */
static void cpa_retired_free(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&cpa_retired);
	struct cpa_entry *e, *next;

	llist_for_each_entry_safe(e, next, list, retired)
		cpa_entry_free(e);
}

static DECLARE_WORK(cpa_retired_work, cpa_retired_free);

static void cpa_entry_retired(struct rcu_head *head)
{
	struct cpa_entry *e = container_of(head, struct cpa_entry, rcu);

	if (llist_add(&e->retired, &cpa_retired))
		schedule_work(&cpa_retired_work);
}

/*
 * @e was replaced: free it once every union operation that may be
 * reading it has returned (entry.h).
 */
static void cpa_entry_retire(struct cpa_entry *e)
{
	call_srcu(&cpa_entry_srcu, &e->rcu, cpa_entry_retired);
}

/* Wait until every entry retired so far is freed: unmount, module exit. */
void cpa_entries_drain(void)
{
	srcu_barrier(&cpa_entry_srcu);
	flush_work(&cpa_retired_work);
}

static void cpa_d_release(struct dentry *dentry)
{
	cpa_entry_free(dentry->d_fsdata);
	dentry->d_fsdata = NULL;
}

/* Is @br still in the branch table of @sb?  Under br_lock or copy_lock. */
static bool cpa_branch_listed(struct super_block *sb,
			      const struct cpa_branch *br)
{
	struct cpa_brtable *brt;
	bool found = false;
	int i;

	rcu_read_lock();
	brt = rcu_dereference(CPA_SB(sb)->brt);
	for (i = 0; i < brt->nbranch && !found; i++)
		found = brt->br[i] == br;
	rcu_read_unlock();
	return found;
}

static bool cpa_udba(const struct super_block *sb)
{
	return CPA_SB(sb)->udba != CPA_UDBA_NONE;
}

/*
 * Must the directory @dentry be refreshed before use: the branches
 * changed, or with udba=reval|notify its branch directories or its parent's?
 */
static bool cpa_dir_stale(struct dentry *dentry)
{
	return cpa_stale(dentry) ||
	       (cpa_udba(dentry->d_sb) && cpa_udba_dir_stale(dentry));
}

/* Do @e and @old hold the same objects, slot by slot? */
static bool cpa_entry_equal(struct super_block *sb, const struct cpa_entry *e,
			    const struct cpa_entry *old)
{
	int i;

	for (i = 0; i < max(e->count, old->count); i++) {
		struct dentry *a = i < e->count ? cpa_entry_dentry(e, i) : NULL;
		struct dentry *b = i < old->count ?
				   cpa_entry_dentry(old, i) : NULL;

		if (a != b || (a && cpa_entry_br(sb, e, i) !=
				    cpa_entry_br(sb, old, i)))
			return false;
	}
	return true;
}

/*
 * Is the directory entry @e still the directory @old was?  Its top may be
 * a new branch's now; the object the union inode stands for must still be
 * part of the merge, or its branch was removed and the merge still holds
 * a directory.
 */
static bool cpa_entry_same(struct super_block *sb, const struct cpa_entry *e,
			   const struct cpa_entry *old)
{
	int top = cpa_entry_top(old);
	struct dentry *h = cpa_entry_dentry(old, top);
	int i;

	if (!d_is_dir(cpa_entry_dentry(e, cpa_entry_top(e))))
		return false;
	for (i = 0; i < e->count; i++)
		if (cpa_entry_dentry(e, i) == h)
			return true;
	return !cpa_branch_listed(sb, cpa_entry_br(sb, old, top));
}

/*
 * The union inode of a directory stands for the top object of its new
 * entry @e, if it did not already: its branch was removed, a branch was
 * added or made writable above it, or (udba=reval) the directory was made
 * directly on a branch above.  Attributes come from there from now on, as
 * after a copy-up.  The old object, its copy and their branches stay with
 * the replaced entry @old until it is freed.  Under the copy lock.
 */
static void cpa_dir_rebase(struct inode *inode, struct cpa_entry *e,
			   struct cpa_entry *old)
{
	struct cpa_inode *ci = CPA_I(inode);
	int top = cpa_entry_top(e);
	struct cpa_branch *br = cpa_entry_br(inode->i_sb, e, top);
	struct inode *h = d_inode(cpa_entry_dentry(e, top));

	if (h == cpa_inode_real(inode))
		return;
	/*
	 * The number stays; the new top object gets it (cpa_entry_ino()).
	 * The root's number is no record.
	 */
	if (inode != d_inode(inode->i_sb->s_root) &&
	    cpa_xino_set(inode->i_sb, br, h, inode->i_ino))
		pr_warn_ratelimited("xino: cannot record the new top of directory %llu\n",
				    (unsigned long long)inode->i_ino);
	old->real = ci->real;
	old->real_br = ci->br;
	old->upper = ci->upper;
	old->upper_br = ci->upper_br;
	WRITE_ONCE(ci->br, cpa_branch_get(br));
	WRITE_ONCE(ci->real, igrab(h));
	/* Pairs with the acquire in cpa_inode_real(): no copy, the new top. */
	smp_store_release(&ci->upper, NULL);
	WRITE_ONCE(ci->upper_br, NULL);
	cpa_copyattr(inode);
}

/*
 * The branches changed since the directory @dentry was looked up: look it
 * up again in its parent, refreshed first, and make the result its entry
 * if it is still the same directory.  The old entry is retired: freed
 * once operations that may still read it are done.  0, or -ESTALE when the
 * name resolves to something else now (the caller invalidates the
 * dentry), or another -errno.
 */
static int cpa_dir_refresh_as(struct dentry *dentry, bool force)
{
	struct super_block *sb = dentry->d_sb;
	struct cpa_inode *ci = CPA_I(d_inode(dentry));
	struct dentry *parent = NULL;
	struct name_snapshot name;
	struct cpa_entry *old, *e;
	const struct cred *cred;
	unsigned long gen;
	int err = 0;

	if (!IS_ROOT(dentry)) {
		parent = dget_parent(dentry);
		if (cpa_dir_stale(parent))
			err = cpa_dir_refresh(parent);
		if (err)
			goto out;
	}
	mutex_lock(&ci->copy_lock);
	gen = parent ? cpa_gen(parent) : READ_ONCE(CPA_SB(sb)->br_gen);
	if (!force && cpa_gen(dentry) == gen &&
	    !(cpa_udba(sb) && cpa_udba_dir_stale(dentry)))
		goto out_unlock;	/* another task did it */
	old = CPA_E(dentry);
	cred = cpa_override_creds(sb);
	if (parent) {
		unsigned long ngen, pgen;

		take_dentry_name_snapshot(&name, dentry);
		e = cpa_udba_lookup(sb, CPA_E(parent), name.name.name,
				    name.name.len, &pgen, &ngen);
		release_dentry_name_snapshot(&name);
	} else {
		e = cpa_root_entry(sb);
	}
	cpa_revert_creds(cred);
	if (IS_ERR_OR_NULL(e)) {
		err = e ? PTR_ERR(e) : -ESTALE;
		goto out_unlock;
	}
	if (!cpa_entry_same(sb, e, old)) {
		cpa_entry_free(e);
		err = -ESTALE;
		goto out_unlock;
	}
	if (cpa_entry_equal(sb, e, old)) {
		/*
		 * Nothing moved (udba=reval checks often): keep the entry,
		 * its whiteout hints too, with the new stamps.
		 */
		WRITE_ONCE(old->pgen, e->pgen);
		/*
		 * Its own branch directories changed, or a change of the
		 * union's own waits to settle: its names are checked again
		 * (a stamp from the same clock tick is 0, which never
		 * matches).
		 */
		if (!cpa_udba(sb) || READ_ONCE(old->settle) ||
		    !cpa_udba_fresh(old))
			cpa_udba_checked(old, e->dstamp);
		/* udba=notify: the new stamps are checked once first. */
		WRITE_ONCE(old->ngen, 0);
		cpa_entry_free(e);
		/* Not watched yet (a mark was in the way): try again. */
		if (!old->watch)
			cpa_notify_rewatch(sb, old, d_inode(dentry));
		/* Pairs with the acquire in cpa_gen(). */
		smp_store_release(&dentry->d_time, gen);
		goto out_unlock;
	}
	cpa_dir_rebase(d_inode(dentry), e, old);
	/* Its names are checked again (udba.c). */
	e->sgen = old->sgen + 1;
	/* Complete before published: udba.c reads it in RCU-walk. */
	smp_store_release(&dentry->d_fsdata, e);
	WRITE_ONCE(CPA_SB(dentry->d_sb)->retired, true);
	/* udba=notify: the new entry takes the branch directories over. */
	cpa_notify_unwatch(old, true);
	cpa_notify_rewatch(sb, e, d_inode(dentry));
	cpa_entry_retire(old);
	/* The entry first: whoever sees the generation sees the entry. */
	smp_store_release(&dentry->d_time, gen);
	cpa_dir_changed(d_inode(dentry));
out_unlock:
	mutex_unlock(&ci->copy_lock);
out:
	dput(parent);
	return err;
}

int cpa_dir_refresh(struct dentry *dentry)
{
	return cpa_dir_refresh_as(dentry, false);
}

/*
 * The union made an object of the directory @dentry on a branch below its
 * top (copy_up.c): look it up again now, as a refresh does, so that its
 * entry merges it.
 */
int cpa_dir_remerge(struct dentry *dentry)
{
	return cpa_dir_refresh_as(dentry, true);
}

/*
 * Refresh the directory @dentry if the branches changed since its lookup,
 * or with udba=reval its branch directories.
 */
void cpa_dir_fresh(struct dentry *dentry)
{
	if (cpa_dir_stale(dentry))
		cpa_dir_refresh(dentry);
}

/*
 * Does the name of @dentry, a positive non-directory, resolve to another
 * object now than when it was looked up (a branch was added above it)?
 * With its parent refreshed.  True as well when it cannot be told.
 */
bool cpa_name_moved(struct dentry *dentry)
{
	CPA_ENTRIES_GUARD();
	struct super_block *sb = dentry->d_sb;
	const struct cpa_entry *cur = CPA_E(dentry);
	struct name_snapshot name;
	const struct cred *old;
	struct dentry *parent;
	struct cpa_entry *e;
	bool moved;

	if (IS_ROOT(dentry) || d_unhashed(dentry) || !cur)
		return false;
	parent = dget_parent(dentry);
	cpa_dir_fresh(parent);
	take_dentry_name_snapshot(&name, dentry);
	old = cpa_override_creds(sb);
	e = cpa_lookup_entry(sb, CPA_E(parent), 0, name.name.name,
			     name.name.len);
	cpa_revert_creds(old);
	release_dentry_name_snapshot(&name);
	dput(parent);
	if (IS_ERR_OR_NULL(e))
		return true;
	moved = cpa_entry_dentry(e, cpa_entry_top(e)) !=
		cpa_entry_dentry(cur, cpa_entry_top(cur));
	cpa_entry_free(e);
	return moved;
}

/*
 * With udba=none, no ->d_revalidate: overlayfs takes no upper layer whose
 * dentries have one, and a union whose branches never change needs none.
 * After a change of branches, brops.c drops every unused dentry instead,
 * and a directory still in use is refreshed where it is used as a parent.
 * udba=reval and notify need it: fill_super picks the operations by the
 * option.
 */
const struct dentry_operations cpa_dentry_ops = {
	.d_release	= cpa_d_release,
};

const struct dentry_operations cpa_dentry_ops_reval = {
	.d_revalidate	= cpa_d_revalidate,
	.d_release	= cpa_d_release,
};

/* Is @h the xino file?  It may be in any branch. */
static bool cpa_hidden(struct super_block *sb, struct dentry *h)
{
	return cpa_xino_is_file(sb, h);
}

/*
 * Look @name up in the branches of the parent entry @pe, from slot @from
 * on, and make the entry of what it resolves to.  Returns the new entry,
 * NULL when the name resolves to nothing, or an ERR_PTR.
 */
struct cpa_entry *cpa_lookup_entry(struct super_block *sb,
				   struct cpa_entry *pe, int from,
				   const char *name, int len)
{
	struct cpa_entry *e;
	bool data = false;
	int i, n = 1, err;

	/*
	 * Most names live in one branch: start small, so that a lookup
	 * under a directory of many branches does not cost their number.
	 */
	e = cpa_entry_alloc(min(pe->count + 1, CPA_ENTRY_SLOTS));
	if (!e)
		return ERR_PTR(-ENOMEM);

	for (i = from; i < pe->count; i++) {
		struct dentry *h_parent = cpa_entry_dentry(pe, i);
		struct cpa_branch *br = cpa_entry_br(sb, pe, i);
		bool last = i == pe->count - 1;
		struct dentry *h;

		if (!h_parent)
			continue;
		h = cpa_do_lookup(h_parent, name, len);
		if (IS_ERR(h)) {
			err = PTR_ERR(h);
			goto out_free;
		}
		if (!d_is_positive(h) || cpa_hidden(sb, h)) {
			dput(h);
			if (last)
				break;
		} else if (e->metacopy) {
			/* The data of the metadata-only copy above. */
			err = d_is_reg(h) ? cpa_metacopy_test(br, h) :
			      -EIO;
			if (err < 0) {
				dput(h);
				goto out_free;
			}
			if (!err) {
				err = cpa_entry_put(&e, n++, br, h,
						    pe->count + 1);
				if (err)
					goto out_free;
				data = true;
				break;
			}
			/* Marked as well: its data is further down. */
			dput(h);
			if (last)
				break;
		} else {
			bool first = !e->h[0].dentry && n == 1;

			/* A non-directory below a directory ends the merge. */
			if (!first && !d_is_dir(h)) {
				dput(h);
				break;
			}
			/*
			 * The upper slot: the top object if it is on a
			 * writable branch, or below the parent's upper one.
			 */
			if (first && (!i || cpa_branch_writable(br))) {
				e->h[0].br = cpa_branch_get(br);
				e->h[0].dentry = h;
			} else {
				err = cpa_entry_put(&e, n++, br, h,
						    pe->count + 1);
				if (err)
					goto out_free;
			}
			if (!d_is_dir(h)) {
				err = last ? 0 : cpa_metacopy_test(br, h);
				if (err < 0)
					goto out_free;
				if (!err)
					break;
				e->metacopy = true;
			} else {
				if (last)
					break;
				err = cpa_opaque_test(h);
				if (err < 0)
					goto out_free;
				if (err)
					break;
			}
		}
		err = cpa_wh_lookup(sb, pe, i, h_parent, name, len);
		if (err < 0)
			goto out_free;
		if (err)
			break;
	}

	if (!e->h[0].dentry && n == 1) {
		cpa_entry_free_unseen(e);	/* nothing there: negative */
		return NULL;
	}
	e->count = n;
	if (e->metacopy && !data) {
		pr_warn_ratelimited("%s: metadata-only copy without data below\n",
				    name);
		err = -EIO;
		goto out_free;
	}
	return e;

out_free:
	cpa_entry_free(e);
	return ERR_PTR(err);
}

/*
 * The union inode number of what @e resolves to: that of its top object,
 * but a merged directory keeps the number of the lowest of its objects
 * that has one, so that a branch added above or below it does not
 * renumber it; its top object gets that number too.  A merged directory
 * whose objects have none yet gives them all the top object's, so that
 * removing the top branch does not renumber it either.
 */
static int cpa_entry_ino(struct super_block *sb, const struct cpa_entry *e,
			 unsigned long *ino)
{
	int i, err, top = cpa_entry_top(e);
	struct dentry *h = cpa_entry_dentry(e, top);
	struct cpa_branch *br = cpa_entry_br(sb, e, top);
	unsigned long cur;

	for (i = e->count - 1; d_is_dir(h) && i > top; i--) {
		struct dentry *lh = cpa_entry_dentry(e, i);

		if (!lh || cpa_xino_find(sb, e->h[i].br, d_inode(lh), ino))
			continue;
		if (!cpa_xino_find(sb, br, d_inode(h), &cur) && cur == *ino)
			return 0;
		return cpa_xino_set(sb, br, d_inode(h), *ino);
	}
	err = cpa_xino_ino(sb, br, d_inode(h), ino);
	for (i = top + 1; !err && d_is_dir(h) && i < e->count; i++) {
		struct dentry *lh = cpa_entry_dentry(e, i);

		/* Else only the top object keeps the number: not fatal. */
		if (lh && cpa_xino_set(sb, e->h[i].br, d_inode(lh), *ino))
			pr_debug("xino: cannot record %pd on another branch\n",
				 lh);
	}
	return err;
}

/* The union inode of the object @e resolves to. */
struct inode *cpa_entry_inode(struct super_block *sb,
			      const struct cpa_entry *e)
{
	int top = cpa_entry_top(e);
	struct dentry *h = cpa_entry_dentry(e, top);
	unsigned long ino;
	int err;

	err = cpa_entry_ino(sb, e, &ino);
	if (err)
		return ERR_PTR(err);
	return cpa_get_inode(sb, h, cpa_entry_br(sb, e, top), ino,
			     e->metacopy);
}

/*
 * The directory inode @inode, found by its number for the new entry @e,
 * may have been cached from before a change of branches: its dentry went,
 * but udba=notify's marks kept the inode until they are gone (notify.c).
 * It stands for the top object of @e from now on, as after a refresh;
 * the old objects and their branches go with a retired holder.
 */
static void cpa_dir_adopt(struct inode *inode, struct cpa_entry *e)
{
	struct inode *h = d_inode(cpa_entry_dentry(e, cpa_entry_top(e)));
	struct cpa_inode *ci = CPA_I(inode);
	struct cpa_entry *old;

	if (likely(h == cpa_inode_real(inode)))
		return;
	old = cpa_entry_alloc(0);
	if (!old)
		return;		/* refreshed when next used as a parent */
	mutex_lock(&ci->copy_lock);
	cpa_dir_rebase(inode, e, old);
	mutex_unlock(&ci->copy_lock);
	cpa_entry_retire(old);
}

struct dentry *cpa_lookup(struct inode *dir, struct dentry *dentry,
			  unsigned int flags)
{
	/*
	 * The entry made references branches: a remount that removes one
	 * checks that it is not in use once lookups under way are done.
	 */
	CPA_BRANCHES_GUARD(dir->i_sb);
	CPA_ENTRIES_GUARD();
	struct super_block *sb = dir->i_sb;
	const char *name = dentry->d_name.name;
	int len = dentry->d_name.len;
	const struct cred *old;
	struct cpa_entry *e;
	struct inode *inode;
	unsigned long ngen = 0, pgen = 0;

	if (len > NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	/*
	 * A parent from before a change of branches, or whose branch
	 * directories changed (udba=reval): refresh it first.
	 */
	if (cpa_dir_stale(dentry->d_parent))
		cpa_dir_refresh(dentry->d_parent);
	dentry->d_time = cpa_gen(dentry->d_parent);
	/* Whiteouts and internal files are never visible. */
	if (cpa_is_wh_name(name, len))
		return d_splice_alias(NULL, dentry);

	old = cpa_override_creds(sb);
	if (cpa_udba(sb))
		e = cpa_udba_lookup(sb, CPA_E(dentry->d_parent), name, len,
				    &pgen, &ngen);
	else
		e = cpa_lookup_entry(sb, CPA_E(dentry->d_parent), 0, name,
				     len);
	cpa_revert_creds(old);
	if (!e && cpa_udba(sb)) {
		/* A negative dentry keeps the stamp it was checked with. */
		e = cpa_entry_alloc(1);
		if (!e)
			return ERR_PTR(-ENOMEM);
		e->pgen = pgen;
		e->ngen = ngen;
		dentry->d_fsdata = e;
		return d_splice_alias(NULL, dentry);
	}
	if (IS_ERR_OR_NULL(e))
		return e ? ERR_CAST(e) : d_splice_alias(NULL, dentry);

	inode = cpa_entry_inode(sb, e);
	if (IS_ERR(inode)) {
		cpa_entry_free(e);
		return ERR_CAST(inode);
	}
	if (S_ISDIR(inode->i_mode)) {
		cpa_dir_adopt(inode, e);
		/* udba=notify: watch a directory's branch directories. */
		cpa_notify_watch(sb, e, inode);
	}
	dentry->d_fsdata = e;
	return d_splice_alias(inode, dentry);
}
