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

void cpa_entry_free(struct cpa_entry *e)
{
	int i;

	if (!e)
		return;
	for (i = 0; i < e->count; i++)
		dput(e->h[i].dentry);
	kfree(e);
	cpa_objects_dec();
}

static void cpa_d_release(struct dentry *dentry)
{
	cpa_entry_free(dentry->d_fsdata);
	dentry->d_fsdata = NULL;
}

const struct dentry_operations cpa_dentry_ops = {
	.d_release	= cpa_d_release,
};

/*
 * Fill @found with the branch dentries @name resolves to under the parent
 * entry @pe.  Returns how many were found, or a negative errno; on error
 * nothing is left referenced.
 */
static int cpa_lookup_branches(const struct cpa_entry *pe, const char *name,
			       int len, struct cpa_hdentry *found)
{
	int i, n = 0, err;

	for (i = 0; i < pe->count; i++) {
		struct dentry *h_parent = pe->h[i].dentry;
		bool last = i == pe->count - 1;
		struct dentry *h;

		h = cpa_do_lookup(h_parent, name, len);
		if (IS_ERR(h)) {
			err = PTR_ERR(h);
			goto out_put;
		}
		if (d_is_positive(h)) {
			/* A non-directory below a directory ends the merge. */
			if (n && !d_is_dir(h)) {
				dput(h);
				break;
			}
			found[n].bindex = pe->h[i].bindex;
			found[n].dentry = h;
			n++;
			if (!d_is_dir(h) || last)
				break;
			err = cpa_opaque_test(h);
			if (err < 0)
				goto out_put;
			if (err)
				break;
		} else {
			dput(h);
			if (last)
				break;
		}
		err = cpa_wh_test(h_parent, name, len);
		if (err < 0)
			goto out_put;
		if (err)
			break;
	}
	return n;

out_put:
	while (n--)
		dput(found[n].dentry);
	return err;
}

struct dentry *cpa_lookup(struct inode *dir, struct dentry *dentry,
			  unsigned int flags)
{
	struct super_block *sb = dir->i_sb;
	struct cpa_entry *pe = CPA_E(dentry->d_parent);
	const char *name = dentry->d_name.name;
	int len = dentry->d_name.len;
	struct cpa_hdentry *found;
	const struct cred *old;
	struct cpa_entry *e;
	struct inode *inode;
	unsigned long ino;
	int n, err;

	if (len > NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	/* Whiteouts and internal files are never visible. */
	if (cpa_is_wh_name(name, len))
		return d_splice_alias(NULL, dentry);

	found = kmalloc_array(pe->count, sizeof(*found), GFP_KERNEL);
	if (!found)
		return ERR_PTR(-ENOMEM);

	old = cpa_override_creds(sb);
	n = cpa_lookup_branches(pe, name, len, found);
	cpa_revert_creds(old);
	if (n <= 0) {
		kfree(found);
		return n ? ERR_PTR(n) : d_splice_alias(NULL, dentry);
	}

	e = cpa_entry_alloc(n);
	if (!e) {
		err = -ENOMEM;
		goto out_put;
	}
	memcpy(e->h, found, n * sizeof(*found));
	kfree(found);

	err = cpa_xino_ino(sb, e->h[0].bindex, d_inode(e->h[0].dentry)->i_ino,
			   &ino);
	if (err)
		goto out_free;
	inode = cpa_get_inode(sb, e->h[0].dentry, e->h[0].bindex, ino);
	if (IS_ERR(inode)) {
		err = PTR_ERR(inode);
		goto out_free;
	}
	dentry->d_fsdata = e;
	return d_splice_alias(inode, dentry);

out_free:
	cpa_entry_free(e);
	return ERR_PTR(err);
out_put:
	while (n--)
		dput(found[n].dentry);
	kfree(found);
	return ERR_PTR(err);
}
