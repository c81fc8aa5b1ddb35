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
 * Put the branch @bindex dentry @h in slot @n of @*ep, growing it up to
 * @max slots.  On failure @h is dropped.
 */
static int cpa_entry_put(struct cpa_entry **ep, int n, int bindex,
			 struct dentry *h, int max)
{
	if (n == (*ep)->count) {
		int err = cpa_entry_grow(ep, max);

		if (err) {
			dput(h);
			return err;
		}
	}
	(*ep)->h[n].bindex = bindex;
	(*ep)->h[n].dentry = h;
	return 0;
}

void cpa_entry_free(struct cpa_entry *e)
{
	int i;

	if (!e)
		return;
	for (i = 0; i < e->count; i++)
		dput(e->h[i].dentry);
	cpa_wh_hints_free(e);
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

/* Is @h, found in branch @bindex, the xino file?  It may be in any branch. */
static bool cpa_hidden(struct super_block *sb, int bindex, struct dentry *h)
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
		int bindex = pe->h[i].bindex;
		bool last = i == pe->count - 1;
		struct dentry *h;

		if (!h_parent)
			continue;
		h = cpa_do_lookup(h_parent, name, len);
		if (IS_ERR(h)) {
			err = PTR_ERR(h);
			goto out_free;
		}
		if (!d_is_positive(h) || cpa_hidden(sb, bindex, h)) {
			dput(h);
			if (last)
				break;
		} else if (e->metacopy) {
			/* The data of the metadata-only copy above. */
			err = d_is_reg(h) ? cpa_metacopy_test(sb, bindex, h) :
			      -EIO;
			if (err < 0) {
				dput(h);
				goto out_free;
			}
			if (!err) {
				err = cpa_entry_put(&e, n++, bindex, h,
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
			if (bindex == 0) {
				e->h[0].dentry = h;
			} else {
				err = cpa_entry_put(&e, n++, bindex, h,
						    pe->count + 1);
				if (err)
					goto out_free;
			}
			if (!d_is_dir(h)) {
				err = last ? 0 : cpa_metacopy_test(sb, bindex, h);
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
		cpa_entry_free(e);
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

/* The union inode of the object @e resolves to. */
struct inode *cpa_entry_inode(struct super_block *sb,
			      const struct cpa_entry *e)
{
	int top = cpa_entry_top(e);
	struct dentry *h = cpa_entry_dentry(e, top);
	unsigned long ino;
	int err;

	err = cpa_xino_ino(sb, e->h[top].bindex, d_inode(h), &ino);
	if (err)
		return ERR_PTR(err);
	return cpa_get_inode(sb, h, e->h[top].bindex, ino, e->metacopy);
}

struct dentry *cpa_lookup(struct inode *dir, struct dentry *dentry,
			  unsigned int flags)
{
	struct super_block *sb = dir->i_sb;
	const char *name = dentry->d_name.name;
	int len = dentry->d_name.len;
	const struct cred *old;
	struct cpa_entry *e;
	struct inode *inode;

	if (len > NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	/* Whiteouts and internal files are never visible. */
	if (cpa_is_wh_name(name, len))
		return d_splice_alias(NULL, dentry);

	old = cpa_override_creds(sb);
	e = cpa_lookup_entry(sb, CPA_E(dentry->d_parent), 0, name, len);
	cpa_revert_creds(old);
	if (IS_ERR_OR_NULL(e))
		return e ? ERR_CAST(e) : d_splice_alias(NULL, dentry);

	inode = cpa_entry_inode(sb, e);
	if (IS_ERR(inode)) {
		cpa_entry_free(e);
		return ERR_CAST(inode);
	}
	dentry->d_fsdata = e;
	return d_splice_alias(inode, dentry);
}
