// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: whiteouts and opaque directories, in the aufs on-disk format.
 *
 *   <dir>/.wh.<name>       hides <name> in the branches below
 *   <dir>/.wh..wh..opq     hides everything below <dir>
 *   .wh..wh.*              internal files of a writable branch
 */
#include <linux/slab.h>
#include <linux/string.h>
#include "cppaufs.h"

bool cpa_is_wh_name(const char *name, int len)
{
	return len >= CPPAUFS_WH_PREFIX_LEN &&
	       !memcmp(name, CPPAUFS_WH_PREFIX, CPPAUFS_WH_PREFIX_LEN);
}

/* Does @h_dir hold a positive @name?  1 yes, 0 no, or -errno. */
static int cpa_h_exists(struct dentry *h_dir, const char *name, int len)
{
	struct dentry *d = cpa_do_lookup(h_dir, name, len);
	int ret;

	if (IS_ERR(d))
		return PTR_ERR(d);
	ret = d_is_positive(d);
	dput(d);
	return ret;
}

/* Is @name whited out in the branch directory @h_parent? */
int cpa_wh_test(struct dentry *h_parent, const char *name, int len)
{
	char buf[NAME_MAX + 1];
	int wlen = CPPAUFS_WH_PREFIX_LEN + len;

	/* A name this long cannot have a whiteout. */
	if (wlen > NAME_MAX)
		return 0;
	memcpy(buf, CPPAUFS_WH_PREFIX, CPPAUFS_WH_PREFIX_LEN);
	memcpy(buf + CPPAUFS_WH_PREFIX_LEN, name, len);
	return cpa_h_exists(h_parent, buf, wlen);
}

/* Does the branch directory @h_dir hide the branches below it? */
int cpa_opaque_test(struct dentry *h_dir)
{
	return cpa_h_exists(h_dir, CPPAUFS_WH_OPQ,
			    sizeof(CPPAUFS_WH_OPQ) - 1);
}
