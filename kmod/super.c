// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: the superblock, the filesystem type and the module.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/seq_file.h>
#include <linux/statfs.h>
#include <linux/random.h>
#include "cppaufs.h"

static struct kmem_cache *cpa_inode_cachep;

static struct inode *cpa_alloc_inode(struct super_block *sb)
{
	struct cpa_inode *ci = cpa_alloc_inode_sb(sb, cpa_inode_cachep);

	if (!ci)
		return NULL;
	ci->real = NULL;
	ci->upper = NULL;
	ci->upper_br = NULL;
	ci->metacopy = false;
	ci->lower_left = -1;
	ci->br = NULL;
	ci->cache = NULL;
	ci->version = 0;
	ci->maker = NULL;
	return &ci->vfs_inode;
}

static void cpa_free_inode(struct inode *inode)
{
	kmem_cache_free(cpa_inode_cachep, CPA_I(inode));
}

static void cpa_evict_inode(struct inode *inode)
{
	struct cpa_inode *ci = CPA_I(inode);

	truncate_inode_pages_final(&inode->i_data);
	/* Removed through the union: its number can be handed out again. */
	if (!inode->i_nlink && ci->real)
		cpa_xino_forget(inode->i_sb, ci->upper ? ci->upper_br : ci->br,
				(ci->upper ?: ci->real)->i_ino, inode->i_ino);
	clear_inode(inode);
	if (ci->cache) {
		cpa_dir_cache_put(ci->cache);
		ci->cache = NULL;
	}
	iput(ci->real);
	iput(ci->upper);
	cpa_branch_put(ci->upper_br);
	cpa_branch_put(ci->br);
	ci->real = NULL;
	ci->upper = NULL;
	ci->upper_br = NULL;
	ci->br = NULL;
}

/* Does statfs count the branch @br: all with sum, writable with wsum? */
static bool cpa_statfs_counts(struct cpa_branch *br, bool writable)
{
	return !writable || cpa_branch_writable(br);
}

/*
 * sum, wsum: add the filesystem of branch @n of @brt to @buf, unless a
 * branch above that counts has the same one.  Sizes are added up in bytes
 * (@bytes) and given back in the block size of the first filesystem.
 */
static int cpa_statfs_add(struct cpa_brtable *brt, int n, bool writable,
			  struct kstatfs *buf, u64 *bytes, int *nfs)
{
	struct super_block *fs = brt->br[n]->path.mnt->mnt_sb;
	struct kstatfs st;
	int i, err;

	for (i = 0; i < n; i++)
		if (brt->br[i]->path.mnt->mnt_sb == fs &&
		    cpa_statfs_counts(brt->br[i], writable))
			return 0;
	err = cpa_do_statfs(&brt->br[n]->path, &st);
	if (err)
		return err;
	if (!(*nfs)++) {
		/* The first one gives the block size, name length and id. */
		*buf = st;
		buf->f_files = buf->f_ffree = 0;
	} else {
		buf->f_namelen = min(buf->f_namelen, st.f_namelen);
	}
	bytes[0] += (u64)st.f_blocks * st.f_bsize;
	bytes[1] += (u64)st.f_bfree * st.f_bsize;
	bytes[2] += (u64)st.f_bavail * st.f_bsize;
	buf->f_files += st.f_files;
	buf->f_ffree += st.f_ffree;
	return 0;
}

static int cpa_statfs_sum(struct super_block *sb, struct kstatfs *buf,
			  bool writable)
{
	struct cpa_sb_info *sbi = CPA_SB(sb);
	struct cpa_brtable *brt;
	u64 bytes[3] = {};	/* blocks, free, available */
	int i, nfs = 0, err = 0;

	/* The table does not change meanwhile; statfs may sleep. */
	mutex_lock(&sbi->br_lock);
	brt = cpa_brt(sbi);
	for (i = 0; i < brt->nbranch && !err; i++)
		if (cpa_statfs_counts(brt->br[i], writable))
			err = cpa_statfs_add(brt, i, writable, buf, bytes,
					     &nfs);
	if (!err && !nfs)	/* wsum without a writable branch */
		err = cpa_statfs_add(brt, 0, false, buf, bytes, &nfs);
	mutex_unlock(&sbi->br_lock);
	if (err || !buf->f_bsize)
		return err;
	buf->f_blocks = div_u64(bytes[0], buf->f_bsize);
	buf->f_bfree = div_u64(bytes[1], buf->f_bsize);
	buf->f_bavail = div_u64(bytes[2], buf->f_bsize);
	return 0;
}

/* nosum: branch 0, writable or not. */
static int cpa_statfs_first(struct super_block *sb, struct kstatfs *buf)
{
	struct cpa_branch *br;
	int err;

	/* A table being replaced may list a branch already let go: again. */
	rcu_read_lock();
	do {
		br = rcu_dereference(CPA_SB(sb)->brt)->br[0];
	} while (!refcount_inc_not_zero(&br->ref));
	rcu_read_unlock();
	err = cpa_do_statfs(&br->path, buf);
	cpa_branch_put(br);
	return err;
}

static int cpa_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct super_block *sb = dentry->d_sb;
	enum cpa_sum sum = READ_ONCE(CPA_SB(sb)->sum);
	int err;

	if (sum != CPA_SUM_NONE)
		err = cpa_statfs_sum(sb, buf, sum == CPA_SUM_WRITABLE);
	else
		err = cpa_statfs_first(sb, buf);
	if (!err)
		buf->f_type = CPPAUFS_SUPER_MAGIC;
	return err;
}

/* Like aufs, branches live in sysfs; the mount options name the si id. */
static int cpa_show_options(struct seq_file *m, struct dentry *root)
{
	struct cpa_sb_info *sbi = CPA_SB(root->d_sb);
	enum cpa_create_policy create;

	seq_printf(m, ",%s=%016llx", CPPAUFS_OPT_SI, sbi->id);
	if (!READ_ONCE(sbi->metacopy))
		seq_puts(m, "," CPPAUFS_OPT_NOMETACOPY);
	if (sbi->udba == CPA_UDBA_NONE)
		seq_puts(m, "," CPPAUFS_OPT_UDBA "=none");
	else if (sbi->udba == CPA_UDBA_NOTIFY)
		seq_puts(m, "," CPPAUFS_OPT_UDBA "=notify");
	create = READ_ONCE(sbi->create);
	if (create == CPA_CREATE_MFS || create == CPA_CREATE_PMFS)
		seq_printf(m, "," CPPAUFS_OPT_CREATE "=%s:%u",
			   cpa_create_str(create), READ_ONCE(sbi->mfs_secs));
	else if (create != CPA_CREATE_TDP && create != CPA_CREATE_RR)
		seq_printf(m, "," CPPAUFS_OPT_CREATE "=%s:%llu:%u",
			   cpa_create_str(create), READ_ONCE(sbi->mfs_low),
			   READ_ONCE(sbi->mfs_secs));
	else if (create != CPA_CREATE_TDP)
		seq_printf(m, "," CPPAUFS_OPT_CREATE "=%s",
			   cpa_create_str(create));
	if (READ_ONCE(sbi->cpup) != CPA_CPUP_TDP)
		seq_printf(m, "," CPPAUFS_OPT_CPUP "=%s",
			   cpa_cpup_str(READ_ONCE(sbi->cpup)));
	switch (READ_ONCE(sbi->sum)) {
	case CPA_SUM_ALL:
		seq_puts(m, "," CPPAUFS_OPT_SUM);
		break;
	case CPA_SUM_WRITABLE:
		seq_puts(m, "," CPPAUFS_OPT_WSUM);
		break;
	default:
		break;
	}
	return 0;
}

/*
 * Writes through the union land on writable branches: sync their
 * filesystems.  Called with s_umount held, which keeps the table.
 */
static int cpa_sync_fs(struct super_block *sb, int wait)
{
	struct cpa_brtable *brt = cpa_brt(CPA_SB(sb));
	struct super_block *upper_sb;
	int i, err;

	if (!wait)
		return 0;
	err = cpa_xino_sync(sb);
	for (i = 0; !err && i < brt->nbranch; i++) {
		if (!cpa_branch_writable(brt->br[i]))
			continue;
		upper_sb = brt->br[i]->path.mnt->mnt_sb;
		down_read(&upper_sb->s_umount);
		err = sync_filesystem(upper_sb);
		up_read(&upper_sb->s_umount);
	}
	return err;
}

/*
 * Every dentry was released, and the inodes nobody holds evicted: the
 * marks of udba=notify hold union directory inodes, which go now (the
 * superblock is no longer active), before the VFS looks for busy ones.
 */
static void cpa_put_super(struct super_block *sb)
{
	cpa_notify_fini(CPA_SB(sb));
}

static const struct super_operations cpa_super_ops = {
	.put_super	= cpa_put_super,
	.alloc_inode	= cpa_alloc_inode,
	.free_inode	= cpa_free_inode,
	.evict_inode	= cpa_evict_inode,
	.drop_inode	= cpa_drop_inode,
	.statfs		= cpa_statfs,
	.sync_fs	= cpa_sync_fs,
	.show_options	= cpa_show_options,
};

static void cpa_sb_info_free(struct cpa_sb_info *sbi)
{
	cpa_wbr_fini(sbi);
	cpa_wbrs_put(rcu_dereference_protected(sbi->wbrs, 1));
	cpa_brtable_free(rcu_dereference_protected(sbi->brt, 1));
	cpa_branch_put(rcu_dereference_protected(sbi->plink_br, 1));
	kfree(sbi->xino_path);
	kfree(sbi->mount_brs);
	if (sbi->creator_cred)
		put_cred(sbi->creator_cred);
	if (sbi->owner_cred)
		put_cred(sbi->owner_cred);
	kfree(sbi);
}

/*
 * The entry of the root: every branch root, down to the first opaque one,
 * from the current table, with its stamp for udba=reval.  Called with the
 * mounter's credentials.
 */
struct cpa_entry *cpa_root_entry(struct super_block *sb)
{
	struct cpa_sb_info *sbi = CPA_SB(sb);
	struct timespec64 since;
	struct cpa_brtable *brt;
	struct cpa_entry *e;
	int i, n, err = 0;

	cpa_udba_since(&since);
	mutex_lock(&sbi->br_lock);
	brt = cpa_brt(sbi);
	for (n = 0; n < brt->nbranch; n++) {
		err = cpa_opaque_test(brt->br[n]->path.dentry);
		if (err < 0)
			goto out;
		if (err > 0) {
			n++;
			break;
		}
	}
	e = cpa_entry_alloc(n);
	err = -ENOMEM;
	if (!e)
		goto out;
	for (i = 0; i < n; i++) {
		e->h[i].br = cpa_branch_get(brt->br[i]);
		e->h[i].dentry = dget(brt->br[i]->path.dentry);
	}
	mutex_unlock(&sbi->br_lock);
	e->dstamp = cpa_udba_stamp(e, &since);
	return e;
out:
	mutex_unlock(&sbi->br_lock);
	return ERR_PTR(err);
}

static struct dentry *cpa_make_root(struct super_block *sb)
{
	struct cpa_branch *first;
	struct cpa_entry *e;
	struct inode *inode;
	struct dentry *root;
	unsigned long ino;
	int err;

	e = cpa_root_entry(sb);
	if (IS_ERR(e))
		return ERR_CAST(e);
	first = cpa_brt(CPA_SB(sb))->br[0];
	err = cpa_xino_ino(sb, first, d_inode(e->h[0].dentry), &ino);
	if (err) {
		cpa_entry_free(e);
		return ERR_PTR(err);
	}
	inode = cpa_get_inode(sb, e->h[0].dentry, first, ino, false);
	if (IS_ERR(inode)) {
		cpa_entry_free(e);
		return ERR_CAST(inode);
	}
	root = d_make_root(inode);
	if (!root) {
		cpa_entry_free(e);
		return ERR_PTR(-ENOMEM);
	}
	root->d_fsdata = e;
	cpa_notify_watch(sb, e, inode);
	return root;
}

int cpa_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct cpa_fs_context *ctx = fc->fs_private;
	struct cpa_sb_info *sbi;
	struct cpa_brtable *brt;
	struct dentry *root;
	int i, depth = 0, err;

	sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);
	if (!sbi)
		return -ENOMEM;
	sbi->sb = sb;
	mutex_init(&sbi->br_lock);
	cpa_branches_init(sbi);
	spin_lock_init(&sbi->owner_lock);
	sbi->id = get_random_u64();
	atomic64_set(&sbi->next_ino, CPA_FIRST_INO);
	sbi->metacopy = ctx->metacopy != 0;
	sbi->udba = ctx->udba >= 0 ? ctx->udba : CPA_UDBA_REVAL;
	sbi->create = ctx->create > 0 ? ctx->create : CPA_CREATE_TDP;
	sbi->cpup = ctx->cpup > 0 ? ctx->cpup : CPA_CPUP_TDP;
	sbi->mfs_secs = ctx->mfs_secs >= 0 ? ctx->mfs_secs :
			CPA_MFS_SECS_DEFAULT;
	sbi->mfs_low = ctx->mfs_low;
	sbi->sum = ctx->sum > 0 ? ctx->sum : CPA_SUM_NONE;
	sbi->writable = ctx->rw_index >= 0;
	sb->s_fs_info = sbi;
	brt = cpa_brtable_alloc(ctx->nbranch);
	if (!brt)
		return -ENOMEM;
	/* Hand-over: the superblock owns the branches from here on. */
	memcpy(brt->br, ctx->branches, ctx->nbranch * sizeof(brt->br[0]));
	brt->rw_index = ctx->rw_index;
	ctx->nbranch = 0;
	RCU_INIT_POINTER(sbi->brt, brt);
	sbi->mount_brs = cpa_branches_str(brt->br, brt->nbranch,
					  &sbi->mount_brs_len);
	if (!sbi->mount_brs)
		return -ENOMEM;
	sbi->first_id = brt->br[0]->id;
	if (brt->rw_index >= 0)
		RCU_INIT_POINTER(sbi->plink_br,
				 cpa_branch_get(brt->br[brt->rw_index]));
	sbi->next_brid = brt->nbranch;
	RCU_INIT_POINTER(sbi->wbrs, cpa_wbrs_new(brt->br, NULL, brt->nbranch));
	if (!rcu_access_pointer(sbi->wbrs))
		return -ENOMEM;

	sbi->creator_cred = prepare_creds();
	if (!sbi->creator_cred)
		return -ENOMEM;

	for (i = 0; i < brt->nbranch; i++)
		depth = max(depth, brt->br[i]->path.mnt->mnt_sb->s_stack_depth);
	sb->s_stack_depth = depth + 1;
	if (sb->s_stack_depth > FILESYSTEM_MAX_STACK_DEPTH)
		return cpa_invalf(fc, "branches are stacked too deep");

	err = cpa_wbr_init(sbi, fc);
	if (err)
		return err;
	err = cpa_xino_init(sbi, fc);
	if (err)
		return err;
	if (sbi->udba == CPA_UDBA_NOTIFY) {
		err = cpa_notify_init(sbi);
		if (err)
			return err;
	}

	sb->s_magic = CPPAUFS_SUPER_MAGIC;
	sb->s_op = &cpa_super_ops;
	/*
	 * Fixed for the life of the mount: dentries take their operations
	 * when they are made.
	 */
	cpa_set_d_op(sb, sbi->udba != CPA_UDBA_NONE ? &cpa_dentry_ops_reval :
			 &cpa_dentry_ops);
	sb->s_xattr = cpa_xattr_handlers;
	cpa_acl_sb_init(sb);
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_time_gran = 1;
	sb->s_flags |= SB_NOATIME;
	if (brt->rw_index < 0)
		sb->s_flags |= SB_RDONLY;

	root = cpa_make_root(sb);
	if (IS_ERR(root))
		return PTR_ERR(root);
	sb->s_root = root;

	return cpa_sysfs_add(sbi);
}

static void cpa_kill_sb(struct super_block *sb)
{
	struct cpa_sb_info *sbi = CPA_SB(sb);

	if (sbi)
		cpa_sysfs_del(sbi);
	kill_anon_super(sb);
	/*
	 * Entries retired by refreshes hold branch objects: let them go
	 * (a grace period, for those mounts whose branches changed).
	 */
	if (sbi && READ_ONCE(sbi->retired))
		cpa_entries_drain();
	if (sbi) {
		/* A mount that failed before it had a root: no put_super. */
		cpa_notify_fini(sbi);
		cpa_xino_fini(sbi);
		cpa_sb_info_free(sbi);
	}
}

struct file_system_type cpa_fs_type = {
	.owner			= THIS_MODULE,
	.name			= CPPAUFS_NAME,
	.init_fs_context	= cpa_init_fs_context,
	.kill_sb		= cpa_kill_sb,
};
MODULE_ALIAS_FS(CPPAUFS_NAME);

static void cpa_inode_init_once(void *p)
{
	struct cpa_inode *ci = p;

	inode_init_once(&ci->vfs_inode);
	mutex_init(&ci->lock);
	mutex_init(&ci->copy_lock);
}

static int __init cpa_init(void)
{
	int err;

	cpa_inode_cachep = kmem_cache_create("cppaufs_inode",
					     sizeof(struct cpa_inode), 0,
					     SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
					     cpa_inode_init_once);
	if (!cpa_inode_cachep)
		return -ENOMEM;

	err = cpa_sysfs_init();
	if (err)
		goto out_cache;

	err = register_filesystem(&cpa_fs_type);
	if (err)
		goto out_sysfs;
	return 0;

out_sysfs:
	cpa_sysfs_exit();
out_cache:
	kmem_cache_destroy(cpa_inode_cachep);
	return err;
}

static void __exit cpa_exit(void)
{
	long n;

	unregister_filesystem(&cpa_fs_type);
	cpa_entries_drain();
	cpa_notify_exit();
	cpa_sysfs_exit();
	/* Inodes are freed through RCU: wait before destroying the cache. */
	rcu_barrier();
	kmem_cache_destroy(cpa_inode_cachep);
	n = cpa_objects_count();
	if (n)
		pr_err("%ld objects leaked at unload\n", n);
}

module_init(cpa_init);
module_exit(cpa_exit);

MODULE_DESCRIPTION("cppaufs: a union filesystem with aufs-compatible branches");
MODULE_AUTHOR("The cppaufs authors");
MODULE_LICENSE("GPL");
