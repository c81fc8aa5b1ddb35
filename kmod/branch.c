// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: branches.  A branch is a directory of some other filesystem,
 * held by reference for the life of the mount, with a permission and an id.
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

int cpa_branch_init(struct cpa_branch *br, const struct path *path,
		    enum cpa_perm perm)
{
	char *name = cpa_branch_name(path);

	if (IS_ERR(name))
		return PTR_ERR(name);
	br->name = name;
	br->path = *path;
	path_get(&br->path);
	br->perm = perm;
	br->id = 0;
	xa_init(&br->xino);
	return 0;
}

void cpa_branch_fini(struct cpa_branch *br)
{
	xa_destroy(&br->xino);
	path_put(&br->path);
	kfree(br->name);
	br->name = NULL;
}
