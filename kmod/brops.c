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
 * What this version does not change yet, and refuses with a message:
 * branch 0 (the writable top branch: prepend, add at 0, or mod and del
 * of it), a second writable branch, and removal of branches.
 */
#include <linux/slab.h>
#include "cppaufs.h"

/* The table being built. */
struct cpa_brnew {
	int n;
	struct cpa_branch **br;		/* [n] */
	enum cpa_perm *perm;		/* [n]: permissions to set */
	bool *created;			/* [n]: made by this remount */
};

static int cpa_brnew_find(struct cpa_brnew *t, const struct path *path)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (path_equal(&t->br[i]->path, path))
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
	if (index == 0)
		return cpa_invalf(fc, "%s: branch 0 cannot be replaced on a mounted union",
				  op->given);
	if (op->perm == CPA_PERM_RW)
		return cpa_invalf(fc, "%s: second writable branch (only one is supported)",
				  op->given);
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
	return 0;
}

static int cpa_brop_mod(struct fs_context *fc, struct cpa_brnew *t,
			const struct cpa_brop *op)
{
	int i = cpa_brnew_find(t, &op->path);

	if (i < 0)
		return cpa_invalf(fc, "%s: not a branch of this union",
				  op->given);
	if (i == 0)
		return cpa_invalf(fc, "%s: branch 0 cannot change on a mounted union",
				  op->given);
	if (op->perm == CPA_PERM_RW)
		return cpa_invalf(fc, "%s: second writable branch (only one is supported)",
				  op->given);
	t->perm[i] = op->perm;
	return 0;
}

static int cpa_brop_one(struct fs_context *fc, struct cpa_sb_info *sbi,
			struct cpa_brnew *t, const struct cpa_brop *op)
{
	switch (op->kind) {
	case CPA_BROP_ADD:
		return cpa_brop_add(fc, sbi, t, op);
	case CPA_BROP_MOD:
		return cpa_brop_mod(fc, t, op);
	case CPA_BROP_DEL:
		break;
	}
	return cpa_invalf(fc, "%s: removing branches is not supported yet",
			  op->given);
}

/* Publish @t: the union uses its branches from now on. */
static int cpa_brnew_publish(struct fs_context *fc, struct cpa_sb_info *sbi,
			     struct cpa_brnew *t)
{
	struct cpa_brtable *old = cpa_brt(sbi), *brt;
	int i, err;

	brt = cpa_brtable_alloc(t->n);
	if (!brt)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		if (!t->created[i])
			continue;
		/* New branches find their old numbers in the xino file. */
		err = cpa_xino_add_branch(fc, sbi, t->br[i]);
		if (err) {
			kfree(brt);
			return err == -EINVAL ? err :
			       cpa_invalf(fc, "%s: cannot record the branch in the xino file (error %d)",
					  t->br[i]->name, err);
		}
	}
	for (i = 0; i < t->n; i++) {
		brt->br[i] = t->created[i] ? t->br[i] : cpa_branch_get(t->br[i]);
		t->created[i] = false;	/* the table owns it now */
		WRITE_ONCE(t->br[i]->perm, t->perm[i]);
	}
	brt->rw_index = old->rw_index;
	rcu_assign_pointer(sbi->brt, brt);
	/* Cached lookups are stale from here on (namei.c). */
	WRITE_ONCE(sbi->br_gen, sbi->br_gen + 1);
	cpa_brtable_free(old);
	/*
	 * Names are looked up again: unused dentries, negative ones above
	 * all, go; directories in use refresh when next used as a parent.
	 */
	shrink_dcache_sb(sbi->sb);
	return 0;
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
	int i, max, err = 0;

	if (!ctx->nbrops)
		return 0;
	mutex_lock(&sbi->br_lock);
	cur = cpa_brt(sbi);
	max = cur->nbranch + ctx->nbrops;
	t.br = kcalloc(max, sizeof(*t.br), GFP_KERNEL);
	t.perm = kcalloc(max, sizeof(*t.perm), GFP_KERNEL);
	t.created = kcalloc(max, sizeof(*t.created), GFP_KERNEL);
	if (!t.br || !t.perm || !t.created) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < cur->nbranch; i++) {
		t.br[i] = cur->br[i];
		t.perm[i] = READ_ONCE(cur->br[i]->perm);
	}
	t.n = cur->nbranch;
	for (i = 0; i < ctx->nbrops && !err; i++)
		err = cpa_brop_one(fc, sbi, &t, &ctx->brops[i]);
	if (!err)
		err = cpa_brnew_publish(fc, sbi, &t);
	if (!err)
		cpa_sysfs_update(sbi);
out:
	for (i = 0; t.created && i < t.n; i++)
		if (t.created[i])
			cpa_branch_put(t.br[i]);
	kfree(t.br);
	kfree(t.perm);
	kfree(t.created);
	mutex_unlock(&sbi->br_lock);
	return err;
}
