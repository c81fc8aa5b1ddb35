// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: branches.  A branch is a directory of some other filesystem,
 * held by reference, with a permission and an id; the branch table lists
 * the branches of a mount in order.
 */
#include <linux/slab.h>
#include <linux/string.h>
#include "cppaufs.h"

/* The list of mapped inodes is pruned at this length at least. */
#define CPA_MAPPED_PRUNE	16U

static const char *const cpa_perm_names[] = {
	[CPA_PERM_RO] = CPPAUFS_PERM_RO,
	[CPA_PERM_RR] = CPPAUFS_PERM_RR,
	[CPA_PERM_RW] = CPPAUFS_PERM_RW,
};

const char *cpa_perm_str(enum cpa_perm perm)
{
	return cpa_perm_names[perm];
}

/*
 * The branches @br[@n] as one buffer of "<name>=<perm>" strings, each
 * with its NUL (a path may hold any other byte), its length in @len; or
 * NULL without memory.
 */
char *cpa_branches_str(struct cpa_branch **br, int n, size_t *len)
{
	size_t size = 0, k;
	char *s;
	int i;

	for (i = 0; i < n; i++)
		size += strlen(br[i]->name) + 4;
	s = kmalloc(size ?: 1, GFP_KERNEL);
	if (!s)
		return NULL;
	*len = 0;
	for (i = 0; i < n; i++) {
		k = scnprintf(s + *len, size - *len, "%s=%s", br[i]->name,
			      cpa_perm_str(br[i]->perm));
		*len += k + 1;	/* and its NUL */
	}
	return s;
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
	spin_lock_init(&br->mapped_lock);
	INIT_LIST_HEAD(&br->mapped);
	br->mapped_prune = CPA_MAPPED_PRUNE;
	cpa_objects_inc();
	return br;
}

/*
 * Mappings.  A mapping made through the union maps the branch file and
 * outlives the union file, which alone would count as a use of the branch
 * (nfiles).  So the branch keeps a list of the inodes mapped through the
 * union, each referenced, and asks the page cache whether they are still
 * mapped: entries that are not any more are dropped when the list has
 * doubled since the last pruning, and when the branch is asked about.
 */
struct cpa_mapped {
	struct list_head list;
	struct inode *inode;	/* referenced */
};

/* Move the entries whose inode is no longer mapped to @gone. */
static void cpa_branch_mapped_prune(struct cpa_branch *br,
				    struct list_head *gone)
{
	struct cpa_mapped *m, *next;

	lockdep_assert_held(&br->mapped_lock);
	list_for_each_entry_safe(m, next, &br->mapped, list) {
		if (!mapping_mapped(m->inode->i_mapping)) {
			list_move(&m->list, gone);
			br->nmapped--;
		}
	}
	br->mapped_prune = max(CPA_MAPPED_PRUNE, 2 * br->nmapped);
}

static void cpa_mapped_free(struct list_head *list)
{
	struct cpa_mapped *m, *next;

	list_for_each_entry_safe(m, next, list, list) {
		iput(m->inode);
		kfree(m);
	}
}

/* @inode of branch @br is about to be mapped through the union. */
int cpa_branch_mapped_add(struct cpa_branch *br, struct inode *inode)
{
	struct cpa_mapped *m, *new;
	LIST_HEAD(gone);

	new = kmalloc(sizeof(*new), GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	spin_lock(&br->mapped_lock);
	list_for_each_entry(m, &br->mapped, list) {
		if (m->inode == inode)
			goto unlock;
	}
	new->inode = igrab(inode);
	if (new->inode) {
		list_add(&new->list, &br->mapped);
		new = NULL;
		if (++br->nmapped >= br->mapped_prune)
			cpa_branch_mapped_prune(br, &gone);
	}
unlock:
	spin_unlock(&br->mapped_lock);
	kfree(new);
	cpa_mapped_free(&gone);
	return 0;
}

/* How many inodes of @br mapped through the union are mapped still. */
int cpa_branch_mapped(struct cpa_branch *br)
{
	unsigned int n;
	LIST_HEAD(gone);

	spin_lock(&br->mapped_lock);
	cpa_branch_mapped_prune(br, &gone);
	n = br->nmapped;
	spin_unlock(&br->mapped_lock);
	cpa_mapped_free(&gone);
	return n;
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
	cpa_mapped_free(&br->mapped);
	/* Internal files of a branch that was writable and left the union. */
	dput(br->workdir);
	dput(br->whbase);
	dput(br->plinkdir);
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

/*
 * The writable branches of the table @br[@n] with the permissions @perm
 * (NULL: their own), top first, referenced (cpa_wbrs_put() drops them).
 */
struct cpa_wbrs *cpa_wbrs_new(struct cpa_branch **br, const enum cpa_perm *perm,
			      int n)
{
	struct cpa_wbrs *w;
	int i;

	w = kzalloc(struct_size(w, br, n), GFP_KERNEL);
	if (!w)
		return NULL;
	refcount_set(&w->ref, 1);
	for (i = 0; i < n; i++)
		if ((perm ? perm[i] : READ_ONCE(br[i]->perm)) == CPA_PERM_RW)
			w->br[w->n++] = cpa_branch_get(br[i]);
	return w;
}

/*
 * The mount's writable branches, held: a remount that changes them
 * publishes a new list first and only then drops its reference to the
 * old one, so a list found without references is retried.
 */
struct cpa_wbrs *cpa_wbrs_get(struct cpa_sb_info *sbi)
{
	struct cpa_wbrs *w;

	rcu_read_lock();
	do {
		w = rcu_dereference(sbi->wbrs);
	} while (!refcount_inc_not_zero(&w->ref));
	rcu_read_unlock();
	return w;
}

/* Drop a reference; the last one drops the branches'. May sleep. */
void cpa_wbrs_put(struct cpa_wbrs *w)
{
	int i;

	if (!w || !refcount_dec_and_test(&w->ref))
		return;
	for (i = 0; i < w->n; i++)
		cpa_branch_put(w->br[i]);
	kfree_rcu(w, rcu);
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

/*
 * Is the branch @a above the branch @b in the current table?  False if
 * either is not listed (removed meanwhile).
 */
bool cpa_br_above(struct super_block *sb, const struct cpa_branch *a,
		  const struct cpa_branch *b)
{
	struct cpa_brtable *brt;
	int i, ia = -1, ib = -1;

	rcu_read_lock();
	brt = rcu_dereference(CPA_SB(sb)->brt);
	for (i = 0; i < brt->nbranch; i++) {
		if (brt->br[i] == a)
			ia = i;
		if (brt->br[i] == b)
			ib = i;
	}
	rcu_read_unlock();
	return ia >= 0 && ib >= 0 && ia < ib;
}

/*
 * The nearest writable branch above @br, or NULL.  A writable branch is
 * removed or made read-only only while no union operation that may write
 * is under way (brops.c): callers inside CPA_BRANCHES_GUARD() need no
 * reference.
 */
struct cpa_branch *cpa_br_writable_above(struct super_block *sb,
					 const struct cpa_branch *br)
{
	struct cpa_branch *found = NULL;
	struct cpa_brtable *brt;
	int i;

	rcu_read_lock();
	brt = rcu_dereference(CPA_SB(sb)->brt);
	for (i = 0; i < brt->nbranch && brt->br[i] != br; i++)
		if (cpa_branch_writable(brt->br[i]))
			found = brt->br[i];
	if (i == brt->nbranch)
		found = NULL;
	rcu_read_unlock();
	return found;
}
