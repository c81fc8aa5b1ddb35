// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: branches.  A branch is a directory of some other filesystem,
 * held by reference, with a permission and an id; the branch table lists
 * the branches of a mount in order.
 */
#include <linux/slab.h>
#include <linux/string.h>
#include "cppaufs.h"

static const char *const cpa_perm_names[] = {
	[CPA_PERM_RO] = CPPAUFS_PERM_RO,
	[CPA_PERM_RR] = CPPAUFS_PERM_RR,
	[CPA_PERM_RW] = CPPAUFS_PERM_RW,
};

const char *cpa_perm_str(enum cpa_perm perm)
{
	return cpa_perm_names[perm];
}

int cpa_perm_parse(const char *s, enum cpa_perm *perm)
{
	int i = match_string(cpa_perm_names, ARRAY_SIZE(cpa_perm_names), s);

	if (i < 0)
		return -EINVAL;
	*perm = i;
	return 0;
}

/* Absolute path of the branch, as seen from the mounting process. */
static char *cpa_branch_name(const struct path *path)
{
	char *buf, *p, *name;

	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	p = d_path(path, buf, PATH_MAX);
	if (IS_ERR(p))
		name = ERR_CAST(p);
	else
		name = kstrdup(p, GFP_KERNEL) ?: ERR_PTR(-ENOMEM);
	kfree(buf);
	return name;
}

/* A branch at @path, referenced once, or an ERR_PTR. */
struct cpa_branch *cpa_branch_new(const struct path *path,
				  enum cpa_perm perm)
{
	struct cpa_branch *br = kzalloc(sizeof(*br), GFP_KERNEL);
	char *name;

	if (!br)
		return ERR_PTR(-ENOMEM);
	name = cpa_branch_name(path);
	if (IS_ERR(name)) {
		kfree(br);
		return ERR_CAST(name);
	}
	refcount_set(&br->ref, 1);
	br->name = name;
	br->path = *path;
	path_get(&br->path);
	br->perm = perm;
	xa_init(&br->xino);
	cpa_objects_inc();
	return br;
}

static void cpa_branch_free_rcu(struct rcu_head *head)
{
	struct cpa_branch *br = container_of(head, struct cpa_branch, rcu);

	kfree(br->name);
	kfree(br);
}

/*
 * Drop a reference; the last one lets the branch's filesystem go at once
 * and frees the rest after readers of the table under RCU are done.
 */
void cpa_branch_put(struct cpa_branch *br)
{
	if (!br || !refcount_dec_and_test(&br->ref))
		return;
	xa_destroy(&br->xino);
	path_put(&br->path);
	cpa_objects_dec();
	call_rcu(&br->rcu, cpa_branch_free_rcu);
}

struct cpa_brtable *cpa_brtable_alloc(int nbranch)
{
	struct cpa_brtable *t;

	t = kzalloc(struct_size(t, br, nbranch), GFP_KERNEL);
	if (t) {
		t->nbranch = nbranch;
		t->rw_index = -1;
	}
	return t;
}

/* Drop the table's references and free it after a grace period. */
void cpa_brtable_free(struct cpa_brtable *t)
{
	int i;

	if (!t)
		return;
	for (i = 0; i < t->nbranch; i++)
		cpa_branch_put(t->br[i]);
	kfree_rcu(t, rcu);
}
