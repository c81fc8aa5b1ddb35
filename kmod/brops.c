// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: changing the branches of a mounted union.
 *
 * A remount may add branches and change their permissions (params.c
 * parses the operations).  They are applied in order to a copy of the
 * branch table, checked as a whole, and only then published: a remount
 * that fails at any step leaves the union as it was, and its message
 * names that step.  Publishing bumps the generation of branch tables, so
 * that every cached lookup is made again, or refreshed in place for
 * directories (namei.c).
 *
 * A branch is removed only when nothing uses it (cpa_brnew_busy()): no
 * union file open on it, no object in use that exists only there.
 * Directories merged from other branches too are refreshed from those,
 * and whatever still references a removed branch (an entry a refresh
 * replaced, until a grace period has passed; the lower object of a
 * copied-up file) keeps it alive until it goes.
 *
 * A branch added or made writable gets its internal directories before
 * the table is published (cpa_wbr_init_one()); the list of writable
 * branches (sbi->wbrs) is replaced with the table.  A branch that becomes
 * writable, or stops being writable (mod to ro or rr, or del), is refused
 * while a union file that its entry would write the wrong way is in use
 * (cpa_brnew_chg_inode_busy(), cpa_brnew_inode_busy()).
 *
 * Removals and changes of permission wait for the union operations under
 * way that may write a branch or open a file on one, and hold new ones off
 * from before the busy checks until the table is published
 * (cpa_branches_hold()): none can pick a branch by the old table and use
 * it by the new.
 *
 * A branch may be added, or made writable, anywhere, branch 0 and above
 * writable branches included.  Entries are looked up again, so that slot 0
 * stays above the other slots of each; a directory in use takes its new
 * top object when it is refreshed (namei.c).  With udba=none, which has no
 * ->d_revalidate, the names in use that a branch added above now resolves
 * differently are unhashed (cpa_brops_unhash_moved()).  The branch of the
 * pseudo-links (plink.c) may be made read-only or removed too: removed,
 * the union has none from then on (cpa_brops_plink_gone()).
 */

#include <linux/slab.h>
#include <linux/wait_bit.h>
#include "cppaufs.h"

static struct lock_class_key cpa_branches_key;

void cpa_branches_init(struct cpa_sb_info *sbi)
{
	atomic_set(&sbi->brs_users, 0);
	sbi->brs_hold = false;
	lockdep_init_map(&sbi->brs_dep_map, "cpa_branches", &cpa_branches_key,
			 0);
}

static void cpa_branches_put(struct cpa_sb_info *sbi)
{
	/* Fully ordered: pairs with the barrier in cpa_branches_hold(). */
	if (atomic_dec_and_test(&sbi->brs_users) && READ_ONCE(sbi->brs_hold))
		wake_up_var(&sbi->brs_users);
}

/* CPA_BRANCHES_GUARD(): count in a union operation on @sb. */
struct cpa_sb_info *cpa_branches_use(struct super_block *sb)
{
	struct cpa_sb_info *sbi = CPA_SB(sb);

	rwsem_acquire_read(&sbi->brs_dep_map, 0, 0, _RET_IP_);
	for (;;) {
		atomic_inc(&sbi->brs_users);
		/* Pairs with the barrier in cpa_branches_hold(). */
		smp_mb__after_atomic();
		if (likely(!READ_ONCE(sbi->brs_hold)))
			return sbi;
		cpa_branches_put(sbi);
		wait_var_event(&sbi->brs_hold, !READ_ONCE(sbi->brs_hold));
	}
}

void cpa_branches_unuse(struct cpa_branches_guard *g)
{
	cpa_branches_put(g->sbi);
	rwsem_release(&g->sbi->brs_dep_map, _RET_IP_);
}

static void cpa_branches_release(struct cpa_sb_info *sbi)
{
	WRITE_ONCE(sbi->brs_hold, false);
	/* The waiters' test after the store: wake_up_var() asks for it. */
	smp_mb();
	wake_up_var(&sbi->brs_hold);
	rwsem_release(&sbi->brs_dep_map, _RET_IP_);
}

/*
 * Hold new union operations that may write a branch or open a file on one
 * off, and wait for those under way to end.  The caller holds s_umount,
 * so no other remount holds them.
 */
static int cpa_branches_hold(struct fs_context *fc, struct cpa_sb_info *sbi)
{
	rwsem_acquire(&sbi->brs_dep_map, 0, 0, _RET_IP_);
	WRITE_ONCE(sbi->brs_hold, true);
	/* Pairs with the barriers of cpa_branches_use() and _put(). */
	smp_mb();
	if (wait_var_event_killable(&sbi->brs_users,
				    !atomic_read(&sbi->brs_users))) {
		cpa_branches_release(sbi);
		return cpa_failf(fc, -EINTR, "interrupted while waiting for operations on the union to end");
	}
	return 0;
}

/* Does @ctx remove a branch or change one's permission? */
static bool cpa_brops_need_hold(const struct cpa_fs_context *ctx)
{
	int i;

	for (i = 0; i < ctx->nbrops; i++)
		if (ctx->brops[i].kind != CPA_BROP_ADD)
			return true;
	return false;
}

/* The table being built. */
struct cpa_brnew {
	int n;
	struct cpa_branch **br;		/* [n] */
	enum cpa_perm *perm;		/* [n]: permissions to set */
	bool *created;			/* [n]: made by this remount */
	/* branches of the current table that the remount removes */
	int ngone;
	struct cpa_branch **gone;
	const char **gone_op;		/* the del: that removes each */
	/*
	 * branches of the current table that the remount makes writable
	 * (@chg_rw) or read-only
	 */
	int nchg;
	struct cpa_branch **chg;
	const char **chg_op;		/* the mod: that changes each */
	bool *chg_rw;
	/* the last step that left the table without a writable branch */
	const char *unrw_op;
	/* a branch was added above one of the current table */
	bool above;
};

/* Forget a change of writability of @br that a later step undid or took over. */
static void cpa_brnew_chg_drop(struct cpa_brnew *t, struct cpa_branch *br)
{
	int i;

	for (i = 0; i < t->nchg; i++) {
		if (t->chg[i] != br)
			continue;
		t->nchg--;
		t->chg[i] = t->chg[t->nchg];
		t->chg_op[i] = t->chg_op[t->nchg];
		t->chg_rw[i] = t->chg_rw[t->nchg];
		return;
	}
}

static int cpa_brnew_find(struct cpa_brnew *t, const struct path *path)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (path_equal(&t->br[i]->path, path))
			return i;
	return -1;
}

/* The index in @t of its lowest writable branch, or -1. */
static int cpa_brnew_last_rw(const struct cpa_brnew *t)
{
	int i;

	for (i = t->n - 1; i >= 0; i--)
		if (t->perm[i] == CPA_PERM_RW)
			return i;
	return -1;
}

static int cpa_brop_add(struct fs_context *fc, struct cpa_sb_info *sbi,
			struct cpa_brnew *t, const struct cpa_brop *op)
{
	int index = op->index < 0 ? t->n : op->index;
	struct cpa_branch *br;
	int i;

	if (index > t->n)
		return cpa_invalf(fc, "%s: no index %d: the union has %d branches",
				  op->given, index, t->n);
	if (t->n >= CPPAUFS_BRANCH_MAX)
		return cpa_invalf(fc, "%s: too many branches (at most %d)",
				  op->given, CPPAUFS_BRANCH_MAX);
	for (i = 0; i < t->n; i++) {
		const struct path *other = &t->br[i]->path;

		if (path_equal(&op->path, other))
			return cpa_invalf(fc, "%s: already branch %d", op->given,
					  i);
		if (path_is_under(&op->path, other) ||
		    path_is_under(other, &op->path))
			return cpa_invalf(fc, "%s: overlaps branch %s",
					  op->given, t->br[i]->name);
	}
	br = cpa_branch_new(&op->path, op->perm);
	if (IS_ERR(br))
		return PTR_ERR(br);
	br->id = sbi->next_brid++;
	memmove(&t->br[index + 1], &t->br[index],
		(t->n - index) * sizeof(t->br[0]));
	memmove(&t->perm[index + 1], &t->perm[index],
		(t->n - index) * sizeof(t->perm[0]));
	memmove(&t->created[index + 1], &t->created[index],
		(t->n - index) * sizeof(t->created[0]));
	t->br[index] = br;
	t->perm[index] = op->perm;
	t->created[index] = true;
	t->n++;
	for (i = index + 1; i < t->n; i++)
		t->above |= !t->created[i];
	return 0;
}

/* The index in @t of the branch that @op names, or a refusal. */
static int cpa_brop_find(struct fs_context *fc, struct cpa_brnew *t,
			 const struct cpa_brop *op)
{
	int i = cpa_brnew_find(t, &op->path);

	if (i < 0)
		return cpa_invalf(fc, "%s: not a branch of this union",
				  op->given);
	return i;
}

static int cpa_brop_mod(struct fs_context *fc, struct cpa_brnew *t,
			const struct cpa_brop *op)
{
	int i = cpa_brop_find(fc, t, op);
	bool was_rw;

	if (i < 0)
		return i;
	if (t->perm[i] == op->perm)
		return 0;
	t->perm[i] = op->perm;
	if (t->created[i])
		return 0;
	/* Against the union as it is: a step may undo an earlier one. */
	was_rw = cpa_branch_writable(t->br[i]);
	cpa_brnew_chg_drop(t, t->br[i]);
	if (was_rw != (op->perm == CPA_PERM_RW)) {
		t->chg[t->nchg] = t->br[i];
		t->chg_op[t->nchg] = op->given;
		t->chg_rw[t->nchg++] = !was_rw;
	}
	return 0;
}

static int cpa_brop_del(struct fs_context *fc, struct cpa_brnew *t,
			const struct cpa_brop *op)
{
	int i = cpa_brop_find(fc, t, op);

	if (i < 0)
		return i;
	if (t->created[i]) {
		cpa_branch_put(t->br[i]);
	} else {
		cpa_brnew_chg_drop(t, t->br[i]);
		t->gone[t->ngone] = t->br[i];
		t->gone_op[t->ngone++] = op->given;
	}
	t->n--;
	memmove(&t->br[i], &t->br[i + 1], (t->n - i) * sizeof(t->br[0]));
	memmove(&t->perm[i], &t->perm[i + 1], (t->n - i) * sizeof(t->perm[0]));
	memmove(&t->created[i], &t->created[i + 1],
		(t->n - i) * sizeof(t->created[0]));
	return 0;
}

static int cpa_brop_one(struct fs_context *fc, struct cpa_sb_info *sbi,
			struct cpa_brnew *t, const struct cpa_brop *op)
{
	bool had_rw = cpa_brnew_last_rw(t) >= 0;
	int err = -EINVAL;

	switch (op->kind) {
	case CPA_BROP_ADD:
		err = cpa_brop_add(fc, sbi, t, op);
		break;
	case CPA_BROP_MOD:
		err = cpa_brop_mod(fc, t, op);
		break;
	case CPA_BROP_DEL:
		err = cpa_brop_del(fc, t, op);
		break;
	}
	if (!err && had_rw && cpa_brnew_last_rw(t) < 0)
		t->unrw_op = op->given;
	return err;
}

/*
 * Will the union be read-write after this remount: asked so, or left so?
 * fspick(2) leaves the flags alone unless asked: sb_flags_mask.
 */
static bool cpa_brops_stays_rw(const struct fs_context *fc)
{
	if (fc->sb_flags_mask & SB_RDONLY)
		return !(fc->sb_flags & SB_RDONLY);
	return !sb_rdonly(fc->root->d_sb);
}

/*
 * A read-write union keeps a writable branch: one that would lose its
 * last is refused, unless the same remount makes it read-only (the VFS
 * then checks that nothing is open for writing).
 */
static int cpa_brnew_check_rw(struct fs_context *fc,
			      const struct cpa_brnew *t)
{
	if (cpa_brnew_last_rw(t) >= 0 || !cpa_brops_stays_rw(fc))
		return 0;
	if (t->unrw_op)
		return cpa_invalf(fc, "%s: no writable branch would be left in a read-write union (remount ro as well)",
				  t->unrw_op);
	return cpa_invalf(fc, "no writable branch: cannot remount rw");
}

/* The index in @t->gone of @br, or -1 if the remount keeps it. */
static int cpa_brnew_gone(const struct cpa_brnew *t,
			  const struct cpa_branch *br)
{
	int i;

	for (i = 0; i < t->ngone; i++)
		if (t->gone[i] == br)
			return i;
	return -1;
}

/*
 * Does the union inode @inode, in use, exist only on removed branches: a
 * file whose data is on one, a directory whose merge holds nothing else?
 * Or is its copy on one (the union inode keeps its copy for life)?  The
 * index in @t->gone of such a branch, or -1.  Under @inode's i_lock,
 * which keeps its dentries and their entries.
 */
static int cpa_brnew_inode_busy(const struct cpa_brnew *t,
				struct inode *inode)
{
	struct super_block *sb = inode->i_sb;
	struct cpa_inode *ci = CPA_I(inode);
	bool dir = S_ISDIR(inode->i_mode);
	/* Pairs with the release that publishes it: upper_br is set. */
	struct inode *upper = smp_load_acquire(&ci->upper);
	struct dentry *alias;
	int i, g, found = -1;

	if (upper) {
		g = cpa_brnew_gone(t, READ_ONCE(ci->upper_br));
		if (g >= 0)
			return g;
	}
	if (!dir) {
		if (!upper)
			return cpa_brnew_gone(t, READ_ONCE(ci->br));
		if (!READ_ONCE(ci->metacopy))
			return -1;
	}
	cpa_for_each_alias(alias, inode) {
		const struct cpa_entry *e = READ_ONCE(alias->d_fsdata);

		if (!e)
			continue;
		if (!dir)	/* metadata-only copy: the data is below */
			return cpa_brnew_gone(t, cpa_entry_br(sb, e,
							      e->count - 1));
		for (i = 0; i < e->count; i++) {
			if (!cpa_entry_dentry(e, i))
				continue;
			g = cpa_brnew_gone(t, cpa_entry_br(sb, e, i));
			if (g < 0)
				return -1;
			found = g;
		}
	}
	return found;
}

/*
 * Would the entry of the union inode @inode, in use, write it the wrong
 * way once a branch in @t->chg changes?  The index in @t->chg of that
 * branch, or -1.  Made writable: a non-directory read from it with no
 * copy of its own would be copied up above it, where new entries write it
 * in place.  Made read-only: a non-directory found there, or anything
 * whose copy is there, would still be written there.  Directories found
 * there are refreshed in place instead.  Under @inode's i_lock.
 */
static int cpa_brnew_chg_inode_busy(const struct cpa_brnew *t,
				    struct inode *inode)
{
	struct cpa_inode *ci = CPA_I(inode);
	/* Pairs with the release that publishes it: upper_br is set. */
	struct inode *upper = smp_load_acquire(&ci->upper);
	bool dir = S_ISDIR(inode->i_mode);
	int i;

	for (i = 0; i < t->nchg; i++) {
		if (!dir && !upper && READ_ONCE(ci->br) == t->chg[i])
			return i;
		if (!t->chg_rw[i] && upper &&
		    READ_ONCE(ci->upper_br) == t->chg[i])
			return i;
	}
	return -1;
}

/*
 * The first union inode in use for which @busy gives an index (of a branch
 * in @t), referenced, with that index in @gi; or NULL.
 */
static struct inode *
cpa_brnew_busy_inode(struct super_block *sb, const struct cpa_brnew *t,
		     int (*busy)(const struct cpa_brnew *, struct inode *),
		     int *gi)
{
	struct inode *inode, *found = NULL;

	spin_lock(&sb->s_inode_list_lock);
	list_for_each_entry(inode, &sb->s_inodes, i_sb_list) {
		spin_lock(&inode->i_lock);
		if (atomic_read(&inode->i_count) && !cpa_inode_is_new(inode) &&
		    READ_ONCE(CPA_I(inode)->real)) {
			*gi = busy(t, inode);
			if (*gi >= 0) {
				/* Only iput() takes i_count to 0, under i_lock. */
				ihold(inode);
				found = inode;
			}
		}
		spin_unlock(&inode->i_lock);
		if (found)
			break;
	}
	spin_unlock(&sb->s_inode_list_lock);
	return found;
}

/* EBUSY for @inode (referenced, put here): one line naming it. */
static int cpa_brnew_busy_msg(struct fs_context *fc, const char *op,
			      struct inode *inode, const char *why)
{
	struct dentry *alias;
	char *buf, *p;
	int err;

	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	alias = d_find_alias(inode);
	p = buf && alias ? dentry_path_raw(alias, buf, PATH_MAX) : NULL;
	err = cpa_failf(fc, -EBUSY, "%s: branch busy: %s %s is in use%s", op,
			S_ISDIR(inode->i_mode) ? "directory" : "file",
			IS_ERR_OR_NULL(p) ? "?" : p, why);
	dput(alias);
	kfree(buf);
	iput(inode);
	return err;
}

/*
 * Refuse with EBUSY to remove a branch that is in use: a union file open
 * on it, or an object in use (a cwd, an open directory, a file of a
 * running command) that exists on removed branches only or has its copy
 * there; and to change whether a branch is writable while an object in
 * use would be written the wrong way (cpa_brnew_chg_inode_busy()) or,
 * made read-only, a file of it is still mapped.  Unused dentries are
 * dropped first, and with them the union inodes they held.
 */
static int cpa_brnew_busy(struct fs_context *fc, struct cpa_sb_info *sbi,
			  const struct cpa_brnew *t)
{
	CPA_ENTRIES_GUARD();
	struct inode *inode;
	int i, n;

	if (!t->ngone && !t->nchg)
		return 0;
	shrink_dcache_sb(sbi->sb);
	for (i = 0; i < t->ngone; i++) {
		n = atomic_read(&t->gone[i]->nfiles);
		if (n)
			return cpa_failf(fc, -EBUSY, "%s: branch busy: %d open file%s",
					 t->gone_op[i], n, n == 1 ? "" : "s");
		n = cpa_branch_mapped(t->gone[i]);
		if (n)
			return cpa_failf(fc, -EBUSY, "%s: branch busy: %d mapped file%s",
					 t->gone_op[i], n, n == 1 ? "" : "s");
	}
	if (t->ngone) {
		inode = cpa_brnew_busy_inode(sbi->sb, t, cpa_brnew_inode_busy,
					     &i);
		if (inode)
			return cpa_brnew_busy_msg(fc, t->gone_op[i], inode,
						  " and exists only there");
	}
	for (i = 0; i < t->nchg; i++) {
		if (t->chg_rw[i])
			continue;
		/*
		 * Still mapped through the union: a shared writable mapping
		 * would go on writing it (mappings are not told apart).
		 */
		n = cpa_branch_mapped(t->chg[i]);
		if (n)
			return cpa_failf(fc, -EBUSY, "%s: branch busy: %d mapped file%s",
					 t->chg_op[i], n, n == 1 ? "" : "s");
	}
	if (t->nchg) {
		inode = cpa_brnew_busy_inode(sbi->sb, t,
					     cpa_brnew_chg_inode_busy, &i);
		if (inode)
			return cpa_brnew_busy_msg(fc, t->chg_op[i], inode, "");
	}
	return 0;
}

/*
 * Does @t make its branch @i writable, added so or changed, and does it
 * need its internal files (not when it was writable before)?
 */
static bool cpa_brnew_to_rw(const struct cpa_brnew *t, int i)
{
	return t->perm[i] == CPA_PERM_RW && !t->br[i]->workdir &&
	       (t->created[i] || !cpa_branch_writable(t->br[i]));
}

/*
 * The branch of the pseudo-links left the union, whose whiteouts hid
 * lower names of linked files: the names that inodes in use counted are
 * all visible again (plink.c).  The hold keeps copy-up and removals,
 * which write the counts, waiting; lookups that read the branch's counts
 * meanwhile look at plink_br again (cpa_inode_find_plink()).
 */
static void cpa_brops_plink_gone(struct cpa_sb_info *sbi)
{
	struct super_block *sb = sbi->sb;
	struct cpa_branch *pbr = rcu_dereference_protected(sbi->plink_br, 1);
	struct inode *inode;

	RCU_INIT_POINTER(sbi->plink_br, NULL);
	/* Pairs with the barrier in cpa_inode_find_plink(). */
	smp_mb();
	spin_lock(&sb->s_inode_list_lock);
	list_for_each_entry(inode, &sb->s_inodes, i_sb_list)
		WRITE_ONCE(CPA_I(inode)->lower_left, -1);
	spin_unlock(&sb->s_inode_list_lock);
	cpa_branch_put(pbr);
}

/* Publish @t: the union uses its branches from now on. */
static int cpa_brnew_publish(struct fs_context *fc, struct cpa_sb_info *sbi,
			     struct cpa_brnew *t)
{
	struct cpa_brtable *old = cpa_brt(sbi), *brt;
	struct cpa_wbrs *wbrs, *old_wbrs;
	bool *init;
	int i, err;

	err = cpa_brnew_busy(fc, sbi, t);
	if (err)
		return err;
	brt = cpa_brtable_alloc(t->n);
	wbrs = cpa_wbrs_new(t->br, t->perm, t->n);
	init = kcalloc(t->n, sizeof(*init), GFP_KERNEL);
	if (!brt || !wbrs || !init) {
		err = -ENOMEM;
		goto undo;
	}
	for (i = 0; i < t->n; i++) {
		if (!cpa_brnew_to_rw(t, i))
			continue;
		/* Its whiteout base and staging directory, as at mount. */
		init[i] = true;
		err = cpa_wbr_init_one(sbi, t->br[i], fc);
		if (err)
			goto undo;
	}
	for (i = 0; i < t->n; i++) {
		if (!t->created[i])
			continue;
		/* New branches find their old numbers in the xino file. */
		err = cpa_xino_add_branch(fc, sbi, t->br[i]);
		if (err) {
			err = err == -EINVAL ? err :
			      cpa_invalf(fc, "%s: cannot record the branch in the xino file (error %d)",
					 t->br[i]->name, err);
			goto undo;
		}
	}
	kfree(init);
	brt->rw_index = -1;
	for (i = 0; i < t->n && brt->rw_index < 0; i++)
		if (t->perm[i] == CPA_PERM_RW)
			brt->rw_index = i;
	/* Internal directories before anyone sees a branch writable. */
	smp_wmb();
	for (i = 0; i < t->n; i++) {
		brt->br[i] = t->created[i] ? t->br[i] : cpa_branch_get(t->br[i]);
		t->created[i] = false;	/* the table owns it now */
		WRITE_ONCE(t->br[i]->perm, t->perm[i]);
	}
	rcu_assign_pointer(sbi->brt, brt);
	old_wbrs = rcu_dereference_protected(sbi->wbrs, 1);
	rcu_assign_pointer(sbi->wbrs, wbrs);
	cpa_wbrs_put(old_wbrs);
	WRITE_ONCE(sbi->writable, wbrs->n > 0);
	if (cpa_brnew_gone(t, cpa_plink_br(sbi->sb)) >= 0)
		cpa_brops_plink_gone(sbi);
	/* Cached lookups are stale from here on (namei.c). */
	WRITE_ONCE(sbi->br_gen, sbi->br_gen + 1);
	cpa_brtable_free(old);
	/*
	 * Names are looked up again: unused dentries, negative ones above
	 * all, go; directories in use refresh when next used as a parent.
	 */
	shrink_dcache_sb(sbi->sb);
	return 0;

undo:
	for (i = 0; init && i < t->n; i++)
		if (init[i])
			cpa_wbr_fini_one(t->br[i]);
	kfree(init);
	cpa_wbrs_put(wbrs);
	kfree(brt);
	return err;
}

/* Unhash the aliases of @inode whose name now resolves elsewhere. */
static void cpa_brops_unhash_inode(struct inode *inode)
{
	struct dentry *alias, *d[16];
	int i, n = 0;

	spin_lock(&inode->i_lock);
	cpa_for_each_alias(alias, inode) {
		if (n == ARRAY_SIZE(d))
			break;
		d[n++] = dget(alias);
	}
	spin_unlock(&inode->i_lock);
	for (i = 0; i < n; i++) {
		if (cpa_name_moved(d[i]))
			d_drop(d[i]);
		dput(d[i]);
	}
}

/*
 * udba=none looks no cached name up again (no ->d_revalidate), and the
 * change dropped only the unused ones.  A non-directory still in use (an
 * open file, a running program) whose name a branch added above now
 * resolves to another object is unhashed: lookups find the new object,
 * and whoever uses the old one keeps it.  Directories in use keep their
 * dentry and are refreshed when next used (namei.c), taking their new
 * top object.  Walks the inodes as drop_caches does, holding the current
 * one so that it stays on the list.
 */
static void cpa_brops_unhash_moved(struct super_block *sb)
{
	struct inode *inode, *prev = NULL;

	spin_lock(&sb->s_inode_list_lock);
	list_for_each_entry(inode, &sb->s_inodes, i_sb_list) {
		spin_lock(&inode->i_lock);
		if (S_ISDIR(inode->i_mode) || !atomic_read(&inode->i_count) ||
		    cpa_inode_is_new(inode) || !READ_ONCE(CPA_I(inode)->real)) {
			spin_unlock(&inode->i_lock);
			continue;
		}
		/* Only iput() takes i_count to 0, under i_lock. */
		ihold(inode);
		spin_unlock(&inode->i_lock);
		spin_unlock(&sb->s_inode_list_lock);
		cpa_brops_unhash_inode(inode);
		iput(prev);
		prev = inode;
		cond_resched();
		spin_lock(&sb->s_inode_list_lock);
	}
	spin_unlock(&sb->s_inode_list_lock);
	iput(prev);
}

/*
 * Apply the changes of branches that @fc asks for, all or nothing.
 * Called by reconfigure, with the superblock's s_umount held.
 */
int cpa_brops_apply(struct fs_context *fc)
{
	struct cpa_fs_context *ctx = fc->fs_private;
	struct cpa_sb_info *sbi = CPA_SB(fc->root->d_sb);
	struct cpa_brnew t = {};
	struct cpa_brtable *cur;
	int i, max, brid, err = 0;
	bool hold;

	if (!ctx->nbrops)
		return 0;
	hold = cpa_brops_need_hold(ctx);
	if (hold) {
		err = cpa_branches_hold(fc, sbi);
		if (err)
			return err;
	}
	mutex_lock(&sbi->br_lock);
	cur = cpa_brt(sbi);
	max = cur->nbranch + ctx->nbrops;
	t.br = kcalloc(max, sizeof(*t.br), GFP_KERNEL);
	t.perm = kcalloc(max, sizeof(*t.perm), GFP_KERNEL);
	t.created = kcalloc(max, sizeof(*t.created), GFP_KERNEL);
	t.gone = kcalloc(cur->nbranch, sizeof(*t.gone), GFP_KERNEL);
	t.gone_op = kcalloc(cur->nbranch, sizeof(*t.gone_op), GFP_KERNEL);
	t.chg = kcalloc(cur->nbranch, sizeof(*t.chg), GFP_KERNEL);
	t.chg_op = kcalloc(cur->nbranch, sizeof(*t.chg_op), GFP_KERNEL);
	t.chg_rw = kcalloc(cur->nbranch, sizeof(*t.chg_rw), GFP_KERNEL);
	if (!t.br || !t.perm || !t.created || !t.gone || !t.gone_op ||
	    !t.chg || !t.chg_op || !t.chg_rw) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < cur->nbranch; i++) {
		t.br[i] = cur->br[i];
		t.perm[i] = READ_ONCE(cur->br[i]->perm);
	}
	t.n = cur->nbranch;
	brid = sbi->next_brid;
	for (i = 0; i < ctx->nbrops && !err; i++)
		err = cpa_brop_one(fc, sbi, &t, &ctx->brops[i]);
	if (!err)
		err = cpa_brnew_check_rw(fc, &t);
	if (!err)
		err = cpa_brnew_publish(fc, sbi, &t);
	if (!err)
		cpa_sysfs_update(sbi);
	else
		sbi->next_brid = brid;	/* nothing happened */
out:
	for (i = 0; t.created && i < t.n; i++)
		if (t.created[i])
			cpa_branch_put(t.br[i]);
	kfree(t.br);
	kfree(t.perm);
	kfree(t.created);
	kfree(t.gone);
	kfree(t.gone_op);
	kfree(t.chg);
	kfree(t.chg_op);
	kfree(t.chg_rw);
	mutex_unlock(&sbi->br_lock);
	if (hold)
		cpa_branches_release(sbi);
	/* Lookups refresh the root, under br_lock. */
	if (!err && t.above && sbi->udba == CPA_UDBA_NONE)
		cpa_brops_unhash_moved(sbi->sb);
	return err;
}
