// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: /sys/fs/cppaufs/si_<id>/, one directory per mount, with the
 * files aufs has under /sys/fs/aufs:
 *
 *   br<N>     "<absolute path>=<perm>" of branch N (0 is the top)
 *   brid<N>   id of branch N
 *   xi_path   the xino file, or an empty line when there is none
 *
 * The files are made per mount, as the number of branches varies.
 */
#include <linux/slab.h>
#include <linux/kobject.h>
#include "cppaufs.h"

enum cpa_sysfs_kind {
	CPA_SYSFS_BR,
	CPA_SYSFS_BRID,
	CPA_SYSFS_XI_PATH,
};

struct cpa_sysfs_attr {
	struct attribute attr;
	enum cpa_sysfs_kind kind;
	int bindex;
	char name[24];
};

static struct kset *cpa_kset;

static ssize_t cpa_sysfs_show(struct kobject *kobj, struct attribute *attr,
			      char *buf)
{
	struct cpa_sb_info *sbi = container_of(kobj, struct cpa_sb_info,
					       sysfs.kobj);
	struct cpa_sysfs_attr *a = container_of(attr, struct cpa_sysfs_attr,
						attr);
	struct cpa_brtable *brt;
	struct cpa_branch *br;
	ssize_t ret = -ENOENT;

	if (a->kind == CPA_SYSFS_XI_PATH)
		return sysfs_emit(buf, "%s\n", sbi->xino_path ?: "");
	/* One table: a reader never sees half of a change of branches. */
	rcu_read_lock();
	brt = rcu_dereference(sbi->brt);
	if (a->bindex < brt->nbranch) {
		br = brt->br[a->bindex];
		if (a->kind == CPA_SYSFS_BR)
			ret = sysfs_emit(buf, "%s=%s\n", br->name,
					 cpa_perm_str(READ_ONCE(br->perm)));
		else
			ret = sysfs_emit(buf, "%d\n", br->id);
	}
	rcu_read_unlock();
	return ret;
}

static const struct sysfs_ops cpa_sysfs_ops = {
	.show	= cpa_sysfs_show,
};

/* The last sysfs reader is gone: unmount may free the superblock. */
static void cpa_sysfs_release(struct kobject *kobj)
{
	struct cpa_sysfs *s = container_of(kobj, struct cpa_sysfs, kobj);

	complete(&s->released);
}

/* Not const: some of the kernels supported take a non-const one. */
static struct kobj_type cpa_sb_ktype = {
	.sysfs_ops	= &cpa_sysfs_ops,
	.release	= cpa_sysfs_release,
};

static void cpa_sysfs_attr_init(struct cpa_sysfs_attr *a,
				enum cpa_sysfs_kind kind, int bindex)
{
	switch (kind) {
	case CPA_SYSFS_BR:
		snprintf(a->name, sizeof(a->name), "%s%d",
			 CPPAUFS_SYSFS_BR_PREFIX, bindex);
		break;
	case CPA_SYSFS_BRID:
		snprintf(a->name, sizeof(a->name), "%s%d",
			 CPPAUFS_SYSFS_BRID_PREFIX, bindex);
		break;
	case CPA_SYSFS_XI_PATH:
		strscpy(a->name, CPPAUFS_SYSFS_XI_PATH, sizeof(a->name));
		break;
	}
	sysfs_attr_init(&a->attr);
	a->attr.name = a->name;
	a->attr.mode = 0444;
	a->kind = kind;
	a->bindex = bindex;
}

static int cpa_sysfs_make_attrs(struct cpa_sb_info *sbi)
{
	struct cpa_sysfs *s = &sbi->sysfs;
	int nbranch = cpa_brt(sbi)->nbranch;
	int n = 2 * nbranch + 1;
	int i;

	s->items = kvcalloc(n, sizeof(*s->items), GFP_KERNEL);
	s->attrs = kvcalloc(n + 1, sizeof(*s->attrs), GFP_KERNEL);
	if (!s->items || !s->attrs)
		return -ENOMEM;

	s->shown = nbranch;
	s->ninit = nbranch;
	for (i = 0; i < nbranch; i++) {
		cpa_sysfs_attr_init(&s->items[2 * i], CPA_SYSFS_BR, i);
		cpa_sysfs_attr_init(&s->items[2 * i + 1], CPA_SYSFS_BRID, i);
	}
	cpa_sysfs_attr_init(&s->items[n - 1], CPA_SYSFS_XI_PATH, 0);
	for (i = 0; i < n; i++)
		s->attrs[i] = &s->items[i].attr;
	s->group.attrs = s->attrs;
	return 0;
}

static void cpa_sysfs_free_attrs(struct cpa_sysfs *s)
{
	int i;

	for (i = 0; i < s->nmore; i++)
		kfree(s->more[i]);
	kfree(s->more);
	s->more = NULL;
	s->nmore = 0;
	kvfree(s->items);
	kvfree(s->attrs);
	s->items = NULL;
	s->attrs = NULL;
}

/*
 * The br<N> and brid<N> pair of index @i: made at mount for the first
 * branches (s->items), later in s->more, or NULL if never made.
 */
static struct cpa_sysfs_attr *cpa_sysfs_pair(struct cpa_sysfs *s, int i)
{
	int first = s->ninit;

	if (i < first)
		return &s->items[2 * i];
	return i - first < s->nmore ? s->more[i - first] : NULL;
}

/*
 * The branches changed: add br<N> and brid<N> for new indices, remove
 * those past the last branch.  Files of every index show the current
 * table, so the others need no change; files are added once the table is
 * published, and a reader of a file about to go gets ENOENT.
 */
void cpa_sysfs_update(struct cpa_sb_info *sbi)
{
	struct cpa_sysfs *s = &sbi->sysfs;
	int nbranch = cpa_brt(sbi)->nbranch;
	struct cpa_sysfs_attr **more, *pair;
	int err = 0;

	while (s->shown > nbranch) {
		pair = cpa_sysfs_pair(s, --s->shown);
		sysfs_remove_file(&s->kobj, &pair[0].attr);
		sysfs_remove_file(&s->kobj, &pair[1].attr);
	}
	while (!err && s->shown < nbranch) {
		pair = cpa_sysfs_pair(s, s->shown);
		if (!pair) {
			more = krealloc(s->more,
					(s->nmore + 1) * sizeof(*more),
					GFP_KERNEL);
			pair = kcalloc(2, sizeof(*pair), GFP_KERNEL);
			if (more)
				s->more = more;
			if (!more || !pair) {
				kfree(pair);
				err = -ENOMEM;
				break;
			}
			s->more[s->nmore++] = pair;
			cpa_sysfs_attr_init(&pair[0], CPA_SYSFS_BR, s->shown);
			cpa_sysfs_attr_init(&pair[1], CPA_SYSFS_BRID,
					    s->shown);
		}
		err = sysfs_create_file(&s->kobj, &pair[0].attr);
		if (!err) {
			err = sysfs_create_file(&s->kobj, &pair[1].attr);
			if (err)
				sysfs_remove_file(&s->kobj, &pair[0].attr);
		}
		if (!err)
			s->shown++;
	}
	if (err)
		pr_warn("si_%016llx: cannot show branch %d in sysfs (%d)\n",
			sbi->id, s->shown, err);
}

int cpa_sysfs_add(struct cpa_sb_info *sbi)
{
	struct cpa_sysfs *s = &sbi->sysfs;
	int err;

	err = cpa_sysfs_make_attrs(sbi);
	if (err)
		goto out_free;

	init_completion(&s->released);
	s->kobj.kset = cpa_kset;
	err = kobject_init_and_add(&s->kobj, &cpa_sb_ktype, NULL, "%s%016llx",
				   CPPAUFS_SYSFS_SI_PREFIX, sbi->id);
	if (err)
		goto out_put;
	err = sysfs_create_group(&s->kobj, &s->group);
	if (err)
		goto out_del;
	return 0;

out_del:
	kobject_del(&s->kobj);
out_put:
	kobject_put(&s->kobj);
	wait_for_completion(&s->released);
out_free:
	cpa_sysfs_free_attrs(s);
	return err;
}

void cpa_sysfs_del(struct cpa_sb_info *sbi)
{
	struct cpa_sysfs *s = &sbi->sysfs;

	if (!s->items)
		return;
	sysfs_remove_group(&s->kobj, &s->group);
	kobject_del(&s->kobj);
	kobject_put(&s->kobj);
	wait_for_completion(&s->released);
	cpa_sysfs_free_attrs(s);
}

int cpa_sysfs_init(void)
{
	cpa_kset = kset_create_and_add(CPPAUFS_NAME, NULL, fs_kobj);
	return cpa_kset ? 0 : -ENOMEM;
}

void cpa_sysfs_exit(void)
{
	kset_unregister(cpa_kset);
}
