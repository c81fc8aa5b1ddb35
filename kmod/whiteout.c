// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: whiteouts and opaque directories, in the aufs on-disk format.
 *
 *   <dir>/.wh.<name>       hides <name> in the branches below
 *   <dir>/.wh..wh.long.<d> hides a name too long for that (digest <d>)
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

#define CPA_WH_LONG_LEN	(sizeof(CPPAUFS_WH_LONG) - 1)

/* Is @name the whiteout of a long name, ".wh..wh.long.<digest>"? */
bool cpa_is_wh_long(const char *name, int len)
{
	return len == CPA_WH_LONG_LEN + 2 * CPPAUFS_WH_LONG_DIGEST &&
	       !memcmp(name, CPPAUFS_WH_LONG, CPA_WH_LONG_LEN);
}

/*
 * Is @name a whiteout, of either form?  The other ".wh..wh." names are
 * internal files and the opaque marker.
 */
bool cpa_is_wh_entry(const char *name, int len)
{
	int plen = CPPAUFS_WH_PREFIX_LEN;

	if (!cpa_is_wh_name(name, len))
		return false;
	return !cpa_is_wh_name(name + plen, len - plen) ||
	       cpa_is_wh_long(name, len);
}

/*
 * The name of the whiteout of @name into @buf (NAME_MAX + 1 bytes), and
 * its length: ".wh.<name>", or ".wh..wh.long.<digest>" when that does not
 * fit NAME_MAX.
 */
int cpa_wh_name(char *buf, const char *name, int len)
{
	u8 digest[SHA256_DIGEST_SIZE];

	if (CPPAUFS_WH_PREFIX_LEN + len <= NAME_MAX) {
		memcpy(buf, CPPAUFS_WH_PREFIX, CPPAUFS_WH_PREFIX_LEN);
		memcpy(buf + CPPAUFS_WH_PREFIX_LEN, name, len);
		return CPPAUFS_WH_PREFIX_LEN + len;
	}
	sha256(name, len, digest);
	memcpy(buf, CPPAUFS_WH_LONG, CPA_WH_LONG_LEN);
	return CPA_WH_LONG_LEN +
	       snprintf(buf + CPA_WH_LONG_LEN, NAME_MAX + 1 - CPA_WH_LONG_LEN,
			"%*phN", CPPAUFS_WH_LONG_DIGEST, digest);
}

/* Consume the lookup result @d: 1 positive, 0 negative, or -errno. */
static int cpa_h_positive(struct dentry *d)
{
	int ret;

	if (IS_ERR(d))
		return PTR_ERR(d);
	ret = d_is_positive(d);
	dput(d);
	return ret;
}

/* Does @h_dir hold a positive @name? */
static int cpa_h_exists(struct dentry *h_dir, const char *name, int len)
{
	return cpa_h_positive(cpa_do_lookup(h_dir, name, len));
}

/* Is @name whited out in the branch directory @h_parent? */
int cpa_wh_test(struct dentry *h_parent, const char *name, int len)
{
	char buf[NAME_MAX + 1];
	int wlen = cpa_wh_name(buf, name, len);

	return cpa_h_exists(h_parent, buf, wlen);
}

/* The same, for a caller that holds the inode lock of @h_parent. */
int cpa_wh_test_locked(struct dentry *h_parent, const char *name, int len)
{
	char buf[NAME_MAX + 1];
	int wlen = cpa_wh_name(buf, name, len);

	return cpa_h_positive(cpa_do_lookup_locked(h_parent, buf, wlen));
}

/* Does the branch directory @h_dir hide the branches below it? */
int cpa_opaque_test(struct dentry *h_dir)
{
	return cpa_h_exists(h_dir, CPPAUFS_WH_OPQ,
			    sizeof(CPPAUFS_WH_OPQ) - 1);
}

/*
 * Make @name in the branch directory @h_dir (locked by the caller) a
 * whiteout-format file: a hard link to the base file, or an empty file
 * when the base cannot take more links.  An existing one is kept.
 */
static int cpa_wh_make(struct cpa_branch *br, struct dentry *h_dir,
		       const char *name, int len)
{
	struct dentry *whbase = br->whbase;
	struct dentry *wh;
	int err;

	wh = cpa_do_lookup_locked(h_dir, name, len);
	if (IS_ERR(wh))
		return PTR_ERR(wh);
	err = 0;
	if (d_is_negative(wh)) {
		err = whbase ? cpa_do_link(whbase, d_inode(h_dir), wh) :
			       -EMLINK;
		if (err == -EMLINK || err == -EPERM || err == -EXDEV)
			err = cpa_do_create(d_inode(h_dir), wh, S_IFREG | 0444);
	}
	dput(wh);
	return err;
}

int cpa_wh_create(struct cpa_branch *br, struct dentry *h_dir,
		  const char *name, int len)
{
	char buf[NAME_MAX + 1];
	int wlen = cpa_wh_name(buf, name, len);

	return cpa_wh_make(br, h_dir, buf, wlen);
}

/* Remove ".wh.<name>" from @h_dir (locked); 0 when there was none. */
int cpa_wh_remove(struct dentry *h_dir, const char *name, int len)
{
	char buf[NAME_MAX + 1];
	int wlen = cpa_wh_name(buf, name, len);
	struct dentry *wh;
	int err = 0;

	wh = cpa_do_lookup_locked(h_dir, buf, wlen);
	if (IS_ERR(wh))
		return PTR_ERR(wh);
	if (d_is_positive(wh))
		err = cpa_do_unlink(d_inode(h_dir), wh);
	dput(wh);
	return err;
}

/* Make the directory @h_dir of the writable branch @br opaque. */
int cpa_wh_make_opaque(struct cpa_branch *br, struct dentry *h_dir)
{
	int err;

	inode_lock_nested(d_inode(h_dir), I_MUTEX_CHILD);
	err = cpa_wh_make(br, h_dir, CPPAUFS_WH_OPQ,
			  sizeof(CPPAUFS_WH_OPQ) - 1);
	inode_unlock(d_inode(h_dir));
	return err;
}

/* Names read from a branch directory, to act on once it is unlocked. */
struct cpa_namelist {
	struct dir_context ctx;
	bool whiteouts_only;
	int err;
	struct list_head names;
};

struct cpa_name {
	struct list_head list;
	int len;
	char name[];
};

static CPA_FILLDIR_RET cpa_namelist_actor(struct dir_context *ctx,
					  const char *name, int len,
					  loff_t offset, u64 ino,
					  unsigned int type)
{
	struct cpa_namelist *nl = container_of(ctx, struct cpa_namelist, ctx);
	struct cpa_name *n;

	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return cpa_filldir_ret(true);
	if (nl->whiteouts_only && !cpa_is_wh_name(name, len))
		return cpa_filldir_ret(true);
	n = kmalloc(struct_size(n, name, len + 1), GFP_KERNEL);
	if (!n) {
		nl->err = -ENOMEM;
		return cpa_filldir_ret(false);
	}
	memcpy(n->name, name, len);
	n->name[len] = '\0';
	n->len = len;
	list_add_tail(&n->list, &nl->names);
	return cpa_filldir_ret(true);
}

static void cpa_namelist_free(struct cpa_namelist *nl)
{
	struct cpa_name *n, *next;

	list_for_each_entry_safe(n, next, &nl->names, list)
		kfree(n);
}

static int cpa_namelist_read(const struct path *dir, struct cpa_namelist *nl)
{
	struct file *f;
	int err;

	INIT_LIST_HEAD(&nl->names);
	nl->ctx.actor = cpa_namelist_actor;
	nl->err = 0;
	f = cpa_do_open(dir, O_RDONLY | O_DIRECTORY, current_cred());
	if (IS_ERR(f))
		return PTR_ERR(f);
	err = iterate_dir(f, &nl->ctx);
	fput(f);
	if (!err)
		err = nl->err;
	if (err)
		cpa_namelist_free(nl);
	return err;
}

/*
 * Remove what the names of @h_dir (a directory of the writable branch
 * @br) that pass the filter name; directories among them must be empty.
 */
static int cpa_dir_remove_names(struct cpa_branch *br, struct dentry *h_dir,
				bool whiteouts_only)
{
	struct path dir = { .mnt = br->path.mnt, .dentry = h_dir };
	struct inode *h_inode = d_inode(h_dir);
	struct cpa_namelist nl = { .whiteouts_only = whiteouts_only };
	struct cpa_name *n;
	int err;

	err = cpa_namelist_read(&dir, &nl);
	if (err)
		return err;
	inode_lock_nested(h_inode, I_MUTEX_CHILD);
	list_for_each_entry(n, &nl.names, list) {
		struct dentry *d = cpa_do_lookup_locked(h_dir, n->name, n->len);

		if (IS_ERR(d)) {
			err = PTR_ERR(d);
			break;
		}
		if (d_is_positive(d))
			err = d_is_dir(d) ? cpa_do_rmdir(h_inode, d) :
					    cpa_do_unlink(h_inode, d);
		dput(d);
		if (err)
			break;
	}
	inode_unlock(h_inode);
	cpa_namelist_free(&nl);
	return err;
}

/* Empty a logically empty directory of its whiteouts before rmdir. */
int cpa_wh_clear_dir(struct cpa_branch *br, struct dentry *h_dir)
{
	return cpa_dir_remove_names(br, h_dir, true);
}

/* Find or make an internal object of the branch root @root (locked). */
static struct dentry *cpa_wbr_get(struct dentry *root, const char *name,
				  umode_t mode)
{
	struct dentry *d = cpa_do_lookup_locked(root, name, strlen(name));
	int err;

	if (IS_ERR(d))
		return d;
	/* mkdir consumes @d and returns the new directory's dentry. */
	if (d_is_negative(d) && S_ISDIR(mode))
		return cpa_do_mkdir(d_inode(root), d, mode);
	if (d_is_negative(d))
		err = cpa_do_create(d_inode(root), d, mode);
	else
		err = (d_inode(d)->i_mode & S_IFMT) == (mode & S_IFMT) ?
		      0 : -EEXIST;
	if (err) {
		dput(d);
		return ERR_PTR(err);
	}
	return d;
}

/*
 * Set up the internal objects of the writable branch @br, as aufs has
 * them: the whiteout base, the orphan/staging directory (emptied of what
 * an interrupted copy-up left) and, on the branch of the pseudo-links
 * (set up at mount only), their directory.
 */
int cpa_wbr_init_one(struct cpa_sb_info *sbi, struct cpa_branch *br,
		     struct fs_context *fc)
{
	struct dentry *root = br->path.dentry;
	struct dentry *d;
	int err;

	err = mnt_want_write(br->path.mnt);
	if (err)
		return cpa_invalf(fc, "%s: writable branch is not writable (error %d)",
				  br->name, err);

	inode_lock_nested(d_inode(root), I_MUTEX_PARENT);
	d = cpa_wbr_get(root, CPPAUFS_WH_BASE, S_IFREG | 0444);
	if (IS_ERR(d))
		goto fail;
	br->whbase = d;
	d = cpa_wbr_get(root, CPPAUFS_WH_ORPH, S_IFDIR | 0700);
	if (IS_ERR(d))
		goto fail;
	br->workdir = d;
	if (br == rcu_access_pointer(sbi->plink_br)) {
		d = cpa_wbr_get(root, CPPAUFS_WH_PLINK, S_IFDIR | 0700);
		if (IS_ERR(d))
			goto fail;
		br->plinkdir = d;
	}
	inode_unlock(d_inode(root));

	err = cpa_dir_remove_names(br, br->workdir, false);
	if (err)
		pr_warn("%s: cannot clean %s (%d)\n", br->name,
			CPPAUFS_WH_ORPH, err);
	mnt_drop_write(br->path.mnt);
	return 0;

fail:
	inode_unlock(d_inode(root));
	mnt_drop_write(br->path.mnt);
	return cpa_invalf(fc, "%s: cannot set up internal files (error %ld)",
			  br->name, PTR_ERR(d));
}

/* Set up every writable branch; cpa_wbr_fini() undoes it. */
int cpa_wbr_init(struct cpa_sb_info *sbi, struct fs_context *fc)
{
	struct cpa_brtable *brt = cpa_brt(sbi);
	int i, err;

	for (i = 0; i < brt->nbranch; i++) {
		if (!cpa_branch_writable(brt->br[i]))
			continue;
		err = cpa_wbr_init_one(sbi, brt->br[i], fc);
		if (err)
			return err;
	}
	return 0;
}

/* Undo cpa_wbr_init_one() of a branch that does not become writable. */
void cpa_wbr_fini_one(struct cpa_branch *br)
{
	dput(br->workdir);
	dput(br->whbase);
	dput(br->plinkdir);
	br->workdir = NULL;
	br->whbase = NULL;
	br->plinkdir = NULL;
}

void cpa_wbr_fini(struct cpa_sb_info *sbi)
{
	struct cpa_brtable *brt = rcu_dereference_protected(sbi->brt, 1);
	int i;

	for (i = 0; brt && i < brt->nbranch; i++)
		cpa_wbr_fini_one(brt->br[i]);
}
